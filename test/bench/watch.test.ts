/**
 * The watch at scale (bench/watch.ts), on the small fleet so the suite stays fast: the bounds the README states for
 * the large one, measured from the simulated services' call counts.
 */
import { describe, expect, it } from 'vitest';
import { SMALL } from '../../bench/accounts';
import { measureWatch } from '../../bench/watch';

describe('the watch of a workload account', () => {
  it('given a fleet starting, when its task and deployment events and Lambda calls are watched, then each stays within its bound and none fails', async () => {
    const run = await measureWatch(SMALL);

    for (const part of [run.taskEvents, run.deploymentEvents, run.lambdaCalls]) {
      expect(part.events).toBeGreaterThan(0);
      expect(part.failedRecords).toBe(0);
      expect(part.ratioToBound).toBeLessThanOrEqual(1);
    }
    // A task event names its digests: the watch writes the index and never reads ECS for it.
    expect(run.taskEvents.requests).toBeGreaterThan(0);
    expect(run.deploymentEvents.requests).toBeGreaterThan(0);
    expect(run.lambdaCalls.requests).toBe(run.lambdaCalls.events);
  });

  it('given an empty index and a fleet starting in batches of 100, then every digest the tasks name is checked at once', async () => {
    // Tasks of one digest share a batch: each sees the others' fresh writes, which must not stop the check.
    const run = await measureWatch(SMALL);

    expect(run.distinctDigests).toBeGreaterThan(1);
    expect(run.firstSeen).toBe(run.distinctDigests);
  });
});
