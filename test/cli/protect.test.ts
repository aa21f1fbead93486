/**
 * `ecr-digest-guard protect`: shows what it will do, asks, applies it through the guard's own protect step, and
 * re-audits; it refuses without a terminal or `--yes`, and where the guard is deployed in dry run.
 */
import { describe, expect, it } from 'vitest';
import { protectiveTagFor } from '../../lambda/core/protective-tag';
import { incidentAccount } from './support/incident';
import { runCliOnSim } from './support/cli-on-sim';

const tagsOf = (account: ReturnType<typeof incidentAccount>['account'], digest: string) =>
  account.ecr.imagesOf('app').find((i) => i.digest === digest)?.tags;

describe('protect', () => {
  it("given the demo's incident, when protect --yes runs, then the digest is protected and audit exits 0", async () => {
    const { account, pinned } = incidentAccount();

    const run = await runCliOnSim(['protect', '--yes'], [account]);

    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`add ${protectiveTagFor(pinned, 'digest-guard')}`);
    expect(tagsOf(account, pinned)).toEqual([protectiveTagFor(pinned, 'digest-guard')]);
    expect((await runCliOnSim(['audit'], [account])).code).toBe(0);
  });

  it('given no terminal and no --yes, when protect runs, then it refuses with exit 2 and writes nothing', async () => {
    const { account, pinned } = incidentAccount();

    const run = await runCliOnSim(['protect'], [account]);

    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/pass --yes/);
    expect(account.callCount('ecr', 'PutImage')).toBe(0);
    expect(tagsOf(account, pinned)).toEqual([]);
  });

  it('given the person answers no, when protect runs, then nothing is written and the risk stands (exit 1)', async () => {
    const { account } = incidentAccount();

    const run = await runCliOnSim(['protect'], [account], { answer: false });

    expect(run.code).toBe(1);
    expect(account.callCount('ecr', 'PutImage')).toBe(0);
  });

  it('given the person answers yes, when protect runs, then it applies the plan', async () => {
    const { account, pinned } = incidentAccount();

    const run = await runCliOnSim(['protect'], [account], { answer: true });

    expect(run.code).toBe(0);
    expect(tagsOf(account, pinned)).toEqual([protectiveTagFor(pinned, 'digest-guard')]);
  });

  it('given the guard deployed in dry run here, when protect --yes runs, then it refuses unless told', async () => {
    const { account, pinned } = incidentAccount();
    const stacks = { 'eu-west-1': { DryRun: 'true', TagPrefix: 'digest-guard' } };

    const refused = await runCliOnSim(['protect', '--yes'], [account], { stacks });

    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/dry run.*--even-if-dry-run/);
    expect(tagsOf(account, pinned)).toEqual([]);

    const told = await runCliOnSim(['protect', '--yes', '--even-if-dry-run'], [account], { stacks });

    expect(told.code).toBe(0);
    expect(tagsOf(account, pinned)).toEqual([protectiveTagFor(pinned, 'digest-guard')]);
  });

  it('given the guard deployed with another tag prefix, when protect runs, then it uses the deployed prefix', async () => {
    const { account, pinned } = incidentAccount();

    const run = await runCliOnSim(['protect', '--yes'], [account], {
      stacks: { 'eu-west-1': { DryRun: 'false', TagPrefix: 'keep' } },
    });

    expect(run.code).toBe(0);
    expect(tagsOf(account, pinned)).toEqual([protectiveTagFor(pinned, 'keep')]);
  });
});
