/**
 * The list across an organization, on a simulated clock: the guard in the registry account lists its own account
 * and region and every workload account and region through the reader role (STS AssumeRole, then ECS and Lambda
 * with those credentials), 4 workloads at a time, with ECS's documented token buckets on in every (account,
 * region) and the assumed per-call latency. Measured: ECS requests per workload against the computed lower bound,
 * throttled answers, AssumeRole calls, and the simulated duration against the reconcile's 15-minute timeout.
 */
import { ECSClient } from '@aws-sdk/client-ecs';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { inventoryFor } from '../lambda/adapters/inventory';
import { workloadInventoryFor } from '../lambda/adapters/workload-inventory';
import { WORKLOAD_LIST_CONCURRENCY, inventoryAcrossWorkloads } from '../lambda/core/workload-list';
import { guardReconcileRoleName, workloadReaderRoleName } from '../lambda/core/workloads';
import { ASSUMED_MEDIANS_MS, VirtualClock, perOperationLatency, withLatency } from '../sim/latency';
import { populateFleet } from '../sim/fleet';
import { dockerManifest } from '../sim/manifests';
import { SimulatedOrganization } from '../sim/organization';
import { START_AT, inventoryLowerBound } from './accounts';
import { fmt, seconds } from './stats';

export interface OrganizationShape {
  readonly accounts: number;
  readonly regions: readonly string[];
  readonly clustersPerWorkload: number;
  readonly servicesPerWorkload: number;
  readonly tasksPerWorkload: number;
}

export const ORGANIZATION: OrganizationShape = {
  accounts: 20,
  regions: ['eu-west-1', 'us-east-1'],
  clustersPerWorkload: 5,
  servicesPerWorkload: 200,
  tasksPerWorkload: 1_000,
};

export interface OrganizationListRun {
  readonly workloads: number;
  readonly tasksPerWorkload: number;
  readonly concurrency: number;
  /** ECS requests answered (throttled ones included), summed over every workload */
  readonly ecsRequests: number;
  readonly ecsLowerBound: number;
  /** workloads whose ECS requests equal their own lower bound */
  readonly workloadsAtLowerBound: number;
  readonly throttled: number;
  readonly assumeRoleCalls: number;
  readonly workloadsNotListed: number;
  readonly simulatedMs: number;
  /** the reconcile function's timeout */
  readonly budgetMs: number;
}

const REGISTRY_ACCOUNT = '100000000000';
const RECONCILE_TIMEOUT_MS = 15 * 60_000;

export async function measureOrganizationList(shape: OrganizationShape = ORGANIZATION): Promise<OrganizationListRun> {
  const clock = new VirtualClock(START_AT);
  clock.install(17);
  try {
    const accountIds = Array.from({ length: shape.accounts }, (_, i) => String(Number(REGISTRY_ACCOUNT) + i));
    const org = new SimulatedOrganization({
      startAt: START_AT,
      accounts: accountIds.map((accountId) => ({ accountId, regions: shape.regions })),
      ecsThrottling: { now: () => clock.now() },
    });
    const guardRegion = shape.regions[0]!;
    const registry = org.account(REGISTRY_ACCOUNT, guardRegion);
    registry.ecr.createRepository('shop');
    registry.ecr.pushImage('shop', { tag: 'prod', manifest: dockerManifest({ seed: 'shop@0' }).text });
    const image = `${registry.ecr.registryHost}/shop:prod`;
    const bounds = new Map<string, number>();
    for (const account of org.allAccounts()) {
      const fleet = populateFleet(account.ecs, account.ecr, {
        clusters: shape.clustersPerWorkload,
        services: shape.servicesPerWorkload,
        tasks: shape.tasksPerWorkload,
        images: [image],
      });
      const perCluster = (count: (s: (typeof fleet.services)[number]) => number) =>
        fleet.clusters.map((c) => fleet.services.filter((s) => s.cluster === c).reduce((n, s) => n + count(s), 0));
      bounds.set(
        `${account.accountId}/${account.region}`,
        inventoryLowerBound(
          perCluster(() => 1),
          perCluster((s) => s.tasks),
        ),
      );
    }
    org.putRole(REGISTRY_ACCOUNT, guardReconcileRoleName(guardRegion), { Statement: [] });
    // Every account deploys the workload stack, the guard's own too: its other regions are read through it.
    for (const accountId of accountIds) {
      org.putRole(accountId, workloadReaderRoleName(guardRegion), {
        Statement: [
          {
            Effect: 'Allow',
            Action: 'sts:AssumeRole',
            Principal: { AWS: `arn:aws:iam::${REGISTRY_ACCOUNT}:root` },
            Condition: {
              ArnEquals: {
                'aws:PrincipalArn': `arn:aws:iam::${REGISTRY_ACCOUNT}:role/${guardReconcileRoleName(guardRegion)}`,
              },
            },
          },
        ],
      });
    }

    const requestHandler = withLatency(org.requestHandler, clock, perOperationLatency(ASSUMED_MEDIANS_MS, { seed: 5 }));
    const guard = {
      ...org.clientConfig({
        accountId: REGISTRY_ACCOUNT,
        region: guardRegion,
        roleName: guardReconcileRoleName(guardRegion),
      }),
      requestHandler,
    };
    const own = { account: REGISTRY_ACCOUNT, region: guardRegion };
    const others = org
      .allAccounts()
      .map((a) => ({ account: a.accountId, region: a.region }))
      .filter((w) => !(w.account === own.account && w.region === own.region));
    const inventory = inventoryAcrossWorkloads(
      {
        workload: own,
        inventory: inventoryFor(own.account, own.region, {
          ecs: new ECSClient(guard),
          lambda: new LambdaClient(guard),
        }),
      },
      others.map((workload) => ({
        workload,
        inventory: workloadInventoryFor(workload, {
          registry: own,
          partition: 'aws',
          guardCredentials: guard.credentials,
          clientConfig: { requestHandler },
        }),
      })),
      { now: () => new Date(clock.now()) },
    );

    const started = clock.now();
    const taken = await clock.run(() => inventory.takeInventory());
    const simulatedMs = clock.now() - started;

    let ecsRequests = 0;
    let ecsLowerBound = 0;
    let atBound = 0;
    let throttled = 0;
    for (const account of org.allAccounts()) {
      const answered = account.transport.calls.filter((c) => c.service === 'ecs');
      const ok = answered.filter((c) => !c.error).length;
      const bound = bounds.get(`${account.accountId}/${account.region}`)!;
      ecsRequests += answered.length;
      ecsLowerBound += bound;
      throttled += answered.filter((c) => c.error === 'ThrottlingException').length;
      if (ok === bound) atBound += 1;
    }
    return {
      workloads: org.allAccounts().length,
      tasksPerWorkload: shape.tasksPerWorkload,
      concurrency: WORKLOAD_LIST_CONCURRENCY,
      ecsRequests,
      ecsLowerBound,
      workloadsAtLowerBound: atBound,
      throttled,
      assumeRoleCalls: org.stsTransport.callCount('sts', 'AssumeRole'),
      workloadsNotListed: (taken.workloads ?? []).filter((part) => 'failure' in part).length,
      simulatedMs,
      budgetMs: RECONCILE_TIMEOUT_MS,
    };
  } finally {
    clock.uninstall();
  }
}

export function printOrganizationList(run: OrganizationListRun): void {
  console.log(
    `  ${run.workloads} workloads (accounts × regions) of ${fmt(run.tasksPerWorkload, 0)} tasks, ${run.concurrency} at once, ` +
      'ECS throttling on in each:',
  );
  console.log(
    `  ECS requests ${fmt(run.ecsRequests, 0)} (lower bound ${fmt(run.ecsLowerBound, 0)}; ${run.workloadsAtLowerBound} of ` +
      `${run.workloads} workloads answered exactly at their bound), throttled ${run.throttled}, ` +
      `AssumeRole ${run.assumeRoleCalls}, not listed ${run.workloadsNotListed}`,
  );
  console.log(`  simulated duration ${seconds(run.simulatedMs)} of the reconcile's ${seconds(run.budgetMs)} timeout`);
}
