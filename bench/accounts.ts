/**
 * The simulated accounts the benchmarks run on, and the lower bound of requests against which they are
 * judged (design.md, "Performance reference"; the formula is in `lower-bound.ts`, apart from the adapter on
 * purpose).
 */
import { SimulatedAccount, type SimulatedAccountOptions } from '../sim/account';
import { populateFleet, type Fleet } from '../sim/fleet';
import { dockerManifest } from '../sim/manifests';
import { countInventoryLowerBound } from './lower-bound';

export interface Shape {
  readonly name: 'small' | 'large';
  readonly clusters: number;
  readonly services: number;
  readonly tasks: number;
  readonly repositories: number;
  /** how many repositories one batch pushes to (each push moves `prod`) */
  readonly pushedRepositories: number;
  /** services that run no task (the incident's state) */
  readonly idleServices: number;
}

export const LARGE: Shape = {
  name: 'large',
  clusters: 50,
  services: 2_000,
  tasks: 10_000,
  repositories: 300,
  pushedRepositories: 100,
  idleServices: 200,
};
export const SMALL: Shape = {
  name: 'small',
  clusters: 3,
  services: 30,
  tasks: 100,
  repositories: 20,
  pushedRepositories: 10,
  idleServices: 3,
};

/** Where every simulated account's clock starts: fixed, so runs are reproducible. */
export const START_AT = new Date('2026-11-26T10:00:00Z');

export interface BuiltAccount {
  readonly account: SimulatedAccount;
  readonly fleet: Fleet;
  readonly repositories: readonly string[];
  readonly servicesPerCluster: readonly number[];
  readonly tasksPerCluster: readonly number[];
}

export function repositoryName(i: number): string {
  return `team-${String(i).padStart(3, '0')}-app`;
}

/** An account of this shape: every repository has `prod`, every service runs one `repo:prod` (pinned). */
export function buildAccount(shape: Shape, options: SimulatedAccountOptions = {}): BuiltAccount {
  const account = new SimulatedAccount({ startAt: START_AT, ...options });
  const repositories = Array.from({ length: shape.repositories }, (_, i) => repositoryName(i));
  for (const repository of repositories) {
    account.ecr.createRepository(repository);
    account.ecr.pushImage(repository, { tag: 'prod', manifest: dockerManifest({ seed: `${repository}@0` }).text });
  }
  const fleet = populateFleet(account.ecs, account.ecr, {
    clusters: shape.clusters,
    services: shape.services,
    tasks: shape.tasks,
    idleServices: shape.idleServices,
    images: repositories.map((r) => `${r}:prod`),
  });
  const servicesPerCluster = fleet.clusters.map((c) => fleet.services.filter((s) => s.cluster === c).length);
  const tasksPerCluster = fleet.clusters.map((c) =>
    fleet.services.filter((s) => s.cluster === c).reduce((n, s) => n + s.tasks, 0),
  );
  return { account, fleet, repositories, servicesPerCluster, tasksPerCluster };
}

/** The fewest ECS requests a complete in-use inventory needs (`lower-bound.ts`). */
export function inventoryLowerBound(servicesPerCluster: readonly number[], tasksPerCluster: readonly number[]): number {
  return countInventoryLowerBound({ servicesPerCluster, tasksPerCluster });
}

/** The same bound split by ECS throttling category (the bucket each call draws on). */
export function inventoryLowerBoundByOperation(
  servicesPerCluster: readonly number[],
  tasksPerCluster: readonly number[],
): Record<string, number> {
  const pages = (n: number) => Math.max(1, Math.ceil(n / 100));
  const out: Record<string, number> = {
    ListClusters: pages(servicesPerCluster.length),
    ListServices: 0,
    DescribeServices: 0,
    ListTasks: 0,
    DescribeTasks: 0,
    // the benchmark accounts run no ECS Managed Daemon: one empty ListDaemons page per cluster
    ListDaemons: servicesPerCluster.length,
  };
  servicesPerCluster.forEach((services, i) => {
    const tasks = tasksPerCluster[i]!;
    out.ListServices! += pages(services);
    out.DescribeServices! += Math.ceil(services / 10);
    out.ListTasks! += pages(tasks);
    out.DescribeTasks! += Math.ceil(tasks / 100);
  });
  out.DescribeServiceRevisions = Math.ceil(servicesPerCluster.reduce((a, b) => a + b, 0) / 20);
  return out;
}

/** Moves `prod` in each of these repositories; returns the events and the digests `prod` left. */
export function pushNewProd(built: BuiltAccount, repositories: readonly string[], generation: number) {
  const before = built.account.events.length;
  for (const repository of repositories) {
    built.account.ecr.pushImage(repository, {
      tag: 'prod',
      manifest: dockerManifest({ seed: `${repository}@${generation}` }).text,
    });
  }
  return built.account.events.slice(before);
}
