/**
 * The burst through the SQS event source model with the push path reading the in-use index (bench/burst.ts, the
 * `index` design), on the workload it is measured on: the figures the README states.
 */
import { describe, expect, it } from 'vitest';
import { BURST, indexBurstSettings, runBurst } from '../../bench/burst';

describe('a burst with the push path reading the in-use index', () => {
  it('given a complete list and a 2 s window, when 1,000 pushes arrive in a minute, then no inventory and no ECS call is made and p99 push to protected is at most 5 s', async () => {
    const twoSeconds = indexBurstSettings().find((s) => s.windowS === 2)!;

    const run = await runBurst(twoSeconds, { ...BURST, taskBetweenPushes: false });

    expect(run.unprotected).toBe(0);
    expect(run.inventories).toBe(0);
    expect(run.ecsCalls).toBe(0);
    expect(run.latencyS.p99).toBeLessThanOrEqual(5);
  }, 120_000);
});
