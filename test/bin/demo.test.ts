/**
 * `npm run demo`'s multi-account story, run as the demo runs it: registry account A, a service in workload
 * account B pinned to A's digest, two pushes moving the tag, A's lifecycle pass, B's replacement task.
 */
import { describe, expect, it } from 'vitest';
import { multiAccountStory } from '../../bin/demo';

describe("the demo's multi-account story", () => {
  it("given a guard in A that does not list B, when the lifecycle pass runs, then B's replacement task cannot pull the digest", async () => {
    const lines: string[] = [];

    const outcome = await multiAccountStory(false, (line) => lines.push(line));

    expect(outcome.assumeRoleCalls).toBe(0);
    expect(outcome.tagsBeforeLifecycle).toEqual([]);
    expect(outcome.expired).toContain(outcome.pinnedDigest);
    expect(outcome.replacement).toEqual({ ok: false, reason: expect.stringMatching(/^CannotPullContainerError/) });
    expect(outcome.alerts).toEqual([]);
    expect(lines.join('\n')).toContain('STOPPED');
  });

  it("given the guard in A with workloadAccounts=[B], when its catch-up lists B and the pushes arrive, then the push path protects the digest, B's replacement task starts and the alert names B's service", async () => {
    const lines: string[] = [];

    const outcome = await multiAccountStory(true, (line) => lines.push(line));

    expect(outcome.assumeRoleCalls).toBe(1);
    expect(outcome.tagsBeforeLifecycle).toEqual([`digest-guard-${outcome.pinnedDigest.replace(':', '-')}`]);
    expect(outcome.expired).not.toContain(outcome.pinnedDigest);
    expect(outcome.expired).toHaveLength(1); // the first of the two racing pushes, which nothing uses
    expect(outcome.replacement.ok).toBe(true);
    expect(outcome.alerts).toHaveLength(1);
    // on-call must know where to look: the service runs in B, not in the registry's account
    expect(outcome.alerts[0]?.email).toMatch(/ECS service prod\/web .* in account 222222222222/);
    expect(outcome.alerts[0]?.email).toContain(outcome.pinnedDigest);
    // protected by the push path, before any scheduled reconcile: the catch-up's list is in the index already
    expect(lines.join('\n')).toMatch(
      /push path in A handles both pushes \(its own inventory and the in-use index\): 0 ECS calls in B; pinned image \S+ now has tags \[digest-guard-/,
    );
    expect(lines.join('\n')).not.toContain('scheduled reconcile');
    expect(lines.join('\n')).toContain('RUNNING');
  });
});
