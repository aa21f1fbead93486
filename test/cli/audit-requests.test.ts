/**
 * The audit's API use on the benchmark's large account, against the inventory lower bound (bench/lower-bound.ts):
 * the audit takes the guard's own inventory, so its ECS calls are the bound exactly; on top of it come one
 * ListFunctions page, and per repository in use one DescribeImages (≤ 100 in-use digests) and one
 * GetLifecyclePolicy, and one DescribeRegistry for the region.
 */
import { describe, expect, it } from 'vitest';
import { LARGE, buildAccount, inventoryLowerBound } from '../../bench/accounts';
import { runCliOnSim } from './support/cli-on-sim';

describe('the audit on the large benchmark account', () => {
  it('given 50 clusters, 2,000 services, 10,000 tasks, 300 repositories, when audited, then it stays at the bound', async () => {
    const built = buildAccount(LARGE);
    const { account } = built;

    const run = await runCliOnSim(['audit', '--json'], [account]);

    expect(run.code).toBe(0);
    const ecsBound = inventoryLowerBound(built.servicesPerCluster, built.tasksPerCluster);
    const inUseRepositories = new Set(built.fleet.services.map((s) => s.image.split('/').pop()!.split(':')[0])).size;
    const bound = ecsBound + 1 + 2 * inUseRepositories + 1;
    expect(account.callCount('ecs')).toBe(ecsBound);
    expect(account.callCount()).toBe(bound);
    const report = JSON.parse(run.stdout);
    expect(report.targets[0].apiCalls).toBe(account.callCount());
  }, 120_000);
});
