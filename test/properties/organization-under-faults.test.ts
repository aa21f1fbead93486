/**
 * The guard under faults across accounts (organization-under-faults.ts): a registry account and two workload
 * accounts, the watch, lists that fail part-way and pushes racing deployments. The same property runs 10,000 times
 * with `npm run properties:organization`.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { organizationUnderFaultsProperty, runOrganizationScenario, type Scenario } from './organization-under-faults';

/** The registry-account incident: B deploys app:prod, the tag moves at once, Fargate replaces B's task. */
const racingPushThenRetirement: Scenario = {
  actions: [
    { kind: 'push', repo: 0, tag: 0, build: 0 },
    { kind: 'deploy-racing-push', workload: 0, service: 0, repo: 0, tag: 0, build: 1 },
    { kind: 'replace-tasks', workload: 0, service: 0 },
    { kind: 'deliver-pushes' },
    { kind: 'deliver-watch', take: 10, newestFirst: false, twice: false },
    { kind: 'lifecycle', repo: 0 },
  ],
  schedulerSeed: 1,
};

describe('the guard under faults across accounts', () => {
  it('given a push racing a deployment in another account, when both are delivered, then the pinned digest survives the lifecycle pass', async () => {
    const { violations, stats } = await runOrganizationScenario(racingPushThenRetirement);

    expect(violations).toEqual([]);
    expect(stats.protections).toBeGreaterThanOrEqual(1);
    expect(stats.lifecycleDeletes).toBe(0);
  });

  it('given the same race with the push path as deployed across accounts (direct+index), then the pinned digest survives too', async () => {
    const { violations, stats } = await runOrganizationScenario({
      ...racingPushThenRetirement,
      pushInventory: 'direct+index',
    });

    expect(violations).toEqual([]);
    expect(stats.directAndIndexRuns).toBe(1);
    expect(stats.lifecycleDeletes).toBe(0);
  });

  it('holds for random histories at a fixed seed', { timeout: 120_000 }, async () => {
    await fc.assert(organizationUnderFaultsProperty(), { seed: 20261130, numRuns: 100 });
  });
});
