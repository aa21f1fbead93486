/**
 * `npm run bench`: what one batch of pushes costs on a simulated account of realistic size, against the
 * computed lower bound of requests a complete in-use inventory needs (design.md, "Performance reference").
 * Requests are counted on the simulated account's wire (every call the real SDK clients made, retries
 * included); they do not depend on how busy the machine is. Wall time is printed for orientation only.
 *
 *   npm run bench                 # large account: 50 clusters, 2,000 services, 10,000 tasks, 300 repositories
 *   npm run bench -- --small      # 3 clusters, 30 services, 100 tasks, 20 repositories
 */
import { SimulatedAccount } from '../test/sim/account';
import { populateFleet } from '../test/sim/fleet';
import { dockerManifest } from '../test/sim/manifests';
import { guardOnSim } from '../test/support/guard-on-sim';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

interface Shape {
  readonly name: string;
  readonly clusters: number;
  readonly services: number;
  readonly tasks: number;
  readonly repositories: number;
  /** how many repositories one batch pushes to (each push moves `prod`) */
  readonly pushedRepositories: number;
  /** services that run no task (the incident's state) */
  readonly idleServices: number;
}

const LARGE: Shape = { name: 'large', clusters: 50, services: 2_000, tasks: 10_000, repositories: 300, pushedRepositories: 100, idleServices: 200 };
const SMALL: Shape = { name: 'small', clusters: 3, services: 30, tasks: 100, repositories: 20, pushedRepositories: 10, idleServices: 3 };

/**
 * The fewest ECS requests a complete in-use inventory needs (design.md): ListClusters; per cluster the
 * ListServices and ListTasks pages (100 a page; one page even when empty), ⌈services/10⌉ DescribeServices and
 * ⌈tasks/100⌉ DescribeTasks (one cluster per call); and ⌈services/20⌉ DescribeServiceRevisions over the account
 * (one current revision per service in steady state). Written out here, apart from the adapter, on purpose.
 */
function inventoryLowerBound(servicesPerCluster: readonly number[], tasksPerCluster: readonly number[]): number {
  const pages = (n: number) => Math.max(1, Math.ceil(n / 100));
  let total = pages(servicesPerCluster.length);
  servicesPerCluster.forEach((services, i) => {
    const tasks = tasksPerCluster[i]!;
    total += pages(services) + pages(tasks) + Math.ceil(services / 10) + Math.ceil(tasks / 100);
  });
  return total + Math.ceil(servicesPerCluster.reduce((a, b) => a + b, 0) / 20);
}

async function measure(shape: Shape): Promise<void> {
  const account = new SimulatedAccount({ startAt: new Date('2026-11-26T10:00:00Z') });
  const repositories = Array.from({ length: shape.repositories }, (_, i) => `team-${String(i).padStart(3, '0')}-app`);
  for (const repository of repositories) {
    account.ecr.createRepository(repository);
    account.ecr.pushImage(repository, { tag: 'prod', manifest: dockerManifest({ seed: `${repository}@1` }).text });
  }
  const buildStarted = performance.now();
  const fleet = populateFleet(account.ecs, account.ecr, {
    clusters: shape.clusters,
    services: shape.services,
    tasks: shape.tasks,
    idleServices: shape.idleServices,
    images: repositories.map((r) => `${r}:prod`),
  });
  const buildMs = performance.now() - buildStarted;

  // One batch: `prod` moves in `pushedRepositories` repositories, each of which some service is pinned to.
  const guard = guardOnSim(account);
  const pushed = repositories.slice(0, shape.pushedRepositories);
  for (const repository of pushed) account.ecr.pushImage(repository, { tag: 'prod', manifest: dockerManifest({ seed: `${repository}@2` }).text });
  const events = account.events.slice(-pushed.length);
  account.transport.calls.length = 0;

  const started = performance.now();
  const response = await guard.deliver(events);
  const handlerMs = performance.now() - started;

  const servicesPerCluster = fleet.clusters.map((c) => fleet.services.filter((s) => s.cluster === c).length);
  const tasksPerCluster = fleet.clusters.map((c) => fleet.services.filter((s) => s.cluster === c).reduce((n, s) => n + s.tasks, 0));
  const ecsBound = inventoryLowerBound(servicesPerCluster, tasksPerCluster);
  // ECR: one DescribeImages per pushed repository in use (≤100 digests each), one BatchGetImage and one PutImage per
  // digest to protect; SNS: one Publish per repository with news.
  const protectedDigests = account.transport.calls.filter((c) => c.operation === 'PutImage' && !c.error).length;
  const ecrBound = pushed.length + 2 * protectedDigests;
  const snsBound = protectedDigests > 0 ? new Set(account.transport.calls.filter((c) => c.operation === 'PutImage').map((c) => (c.input as { repositoryName: string }).repositoryName)).size : 0;

  const byOperation = new Map<string, number>();
  for (const call of account.transport.calls) byOperation.set(`${call.service}:${call.operation}`, (byOperation.get(`${call.service}:${call.operation}`) ?? 0) + 1);
  const ecsCalls = account.callCount('ecs');
  const ecrCalls = account.callCount('ecr');
  const snsCalls = account.callCount('sns');
  const ratio = (actual: number, bound: number) => (bound === 0 ? (actual === 0 ? '1.00' : 'inf') : (actual / bound).toFixed(2));

  console.log(`\n${shape.name} account: ${fleet.clusters.length} clusters, ${fleet.services.length} services (${shape.idleServices} with no running task), ${fleet.taskCount} tasks, ${shape.repositories} repositories`);
  console.log(`  batch: ${events.length} pushes moving "prod" in ${pushed.length} repositories; ${response.batchItemFailures.length} failed`);
  console.log(`  ECS requests ${ecsCalls} vs lower bound ${ecsBound}: ratio ${ratio(ecsCalls, ecsBound)}`);
  console.log(`  ECR requests ${ecrCalls} vs lower bound ${ecrBound}: ratio ${ratio(ecrCalls, ecrBound)} (${protectedDigests} digests protected)`);
  console.log(`  SNS requests ${snsCalls} vs lower bound ${snsBound}: ratio ${ratio(snsCalls, snsBound)}`);
  console.log(`  all requests ${ecsCalls + ecrCalls + snsCalls} vs ${ecsBound + ecrBound + snsBound}: ratio ${ratio(ecsCalls + ecrCalls + snsCalls, ecsBound + ecrBound + snsBound)}`);
  console.log(`  by operation: ${[...byOperation].sort().map(([op, n]) => `${op}=${n}`).join(' ')}`);
  console.log(`  wall time (no simulated latency, for orientation): handler ${handlerMs.toFixed(0)} ms; building the account ${buildMs.toFixed(0)} ms`);
}

async function main(): Promise<void> {
  const shapes = process.argv.includes('--small') ? [SMALL] : process.argv.includes('--all') ? [SMALL, LARGE] : [LARGE];
  for (const shape of shapes) await measure(shape);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
