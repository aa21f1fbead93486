/**
 * The list across an organization, on the simulated clock with ECS throttling on (bench/organization-list.ts): at a
 * smaller size than `npm run bench` so the suite stays fast, the same claims the README states for 20 × 2.
 */
import { describe, expect, it } from 'vitest';
import { measureOrganizationList } from '../../bench/organization-list';

describe('the list across an organization', () => {
  it('given 3 accounts × 2 regions, when listed through the reader roles, then every workload is at its lower bound, one AssumeRole each, well within the timeout', async () => {
    const run = await measureOrganizationList({
      accounts: 3,
      regions: ['eu-west-1', 'us-east-1'],
      clustersPerWorkload: 2,
      servicesPerWorkload: 40,
      tasksPerWorkload: 200,
    });

    expect(run.workloadsNotListed).toBe(0);
    expect(run.workloadsAtLowerBound).toBe(6);
    expect(run.ecsRequests).toBe(run.ecsLowerBound);
    // Every workload but the guard's own (account, region) is read through a reader role, assumed once.
    expect(run.assumeRoleCalls).toBe(5);
    expect(run.simulatedMs).toBeLessThan(run.budgetMs);
  });
});
