/**
 * The reconcile core over plain fakes: when a protection is released, where a run starts, and when a run
 * fails as a whole. The end-to-end behaviour on the simulated account is in test/scenarios/reconcile.test.ts.
 */
import { describe, expect, it } from 'vitest';
import type { Alert } from '../../../lambda/core/ports';
import { protectiveTagFor } from '../../../lambda/core/protective-tag';
import { PULL_TIME_REFRESH_LAG_MS, ReconcileNotPossibleError, reconcileAccount, type ReconcileDependencies } from '../../../lambda/core/reconcile';
import type { ProtectedImage, ReconcileEcrPort, ReleaseOutcome } from '../../../lambda/core/reconcile-ports';
import type { Consumer, Digest, ImageState, Inventory } from '../../../lambda/core/types';

const digest = (n: number): Digest => `sha256:${n.toString(16).padStart(64, '0')}`;
const NOW = new Date('2026-11-26T10:00:00Z');
const DAY = 86_400_000;
const PREFIX = 'digest-guard';
const run = { account: '111122223333', region: 'eu-west-1' };
const consumer: Consumer = { kind: 'ecs-service', cluster: 'prod', service: 'web', image: 'x/app:prod' };

function inventoryOf(byRepository: Record<string, Digest[]>): Inventory {
  return {
    takenAt: NOW,
    gaps: [],
    byRepository: new Map(Object.entries(byRepository).map(([repo, digests]) => [repo, new Map(digests.map((d) => [d, [consumer]]))])),
  };
}

class FakeEcr implements ReconcileEcrPort {
  readonly calls: string[] = [];
  protectedImages: Record<string, ProtectedImage[]> = {};
  repositories: string[] = [];
  failOn = new Set<string>();
  async describeDigests(repository: string, digests: readonly Digest[]): Promise<ImageState[]> {
    this.calls.push(`describe ${repository}`);
    if (this.failOn.has(repository)) throw new Error(`boom in ${repository}`);
    return digests.map((d) => ({ digest: d, present: true, tags: ['prod'], storageStatus: 'ACTIVE' }));
  }
  async addProtectiveTag() {
    return { outcome: 'tagged' as const };
  }
  async listRepositories() {
    this.calls.push('listRepositories');
    return this.repositories;
  }
  async referencedManifests() {
    return new Map<Digest, Digest[]>();
  }
  async listProtectedImages(repository: string) {
    this.calls.push(`list ${repository}`);
    if (this.failOn.has(repository)) throw new Error(`boom in ${repository}`);
    return this.protectedImages[repository] ?? [];
  }
  async releaseProtectiveTag(repository: string, _digest: Digest, tag: string): Promise<ReleaseOutcome> {
    this.calls.push(`release ${repository} ${tag}`);
    return { outcome: 'released', imageDeleted: true };
  }
  async restoreArchivedImage() {
    return { outcome: 'restoring' as const, status: 'ACTIVATING' };
  }
}

function deps(ecr: FakeEcr, inventories: (Inventory | Error)[], extra: Partial<ReconcileDependencies> = {}) {
  const published: Alert[] = [];
  let take = 0;
  const noop = () => undefined;
  const d: ReconcileDependencies = {
    ecr,
    inventory: {
      takeInventory: async () => {
        const next = inventories[Math.min(take++, inventories.length - 1)]!;
        if (next instanceof Error) throw next;
        return next;
      },
    },
    alerts: { publish: async (alert) => void published.push(alert) },
    logger: { info: noop, warn: noop, error: noop },
    now: () => NOW,
    ...extra,
  };
  return { d, published, takes: () => take };
}

describe('release after the grace period', () => {
  const a = digest(1);
  const tag = protectiveTagFor(a, PREFIX);
  const settings = { tagPrefix: PREFIX, dryRun: false, releaseAfterDays: 30 };

  it.each([
    ['pulled just beyond grace + refresh lag: released', { lastPulledAt: new Date(NOW.getTime() - 30 * DAY - PULL_TIME_REFRESH_LAG_MS - 1) }, true],
    ['pulled exactly at grace + refresh lag ago: kept', { lastPulledAt: new Date(NOW.getTime() - 30 * DAY - PULL_TIME_REFRESH_LAG_MS + 1) }, false],
    ['never pulled, pushed long ago (falls back to imagePushedAt): released', { pushedAt: new Date(NOW.getTime() - 90 * DAY) }, true],
    ['never pulled, pushed recently: kept', { pushedAt: new Date(NOW.getTime() - 2 * DAY) }, false],
    ['an old push but a recent pull: kept (the pull wins)', { pushedAt: new Date(NOW.getTime() - 90 * DAY), lastPulledAt: new Date(NOW.getTime() - DAY) }, false],
  ])('%s', async (_name, times, released) => {
    const ecr = new FakeEcr();
    ecr.repositories = ['app'];
    ecr.protectedImages = { app: [{ digest: a, tags: [tag], ...times }] };
    const { d } = deps(ecr, [inventoryOf({})]);
    await reconcileAccount(run, settings, d);
    expect(ecr.calls.includes(`release app ${tag}`)).toBe(released);
  });

  it('never releases a digest in use', async () => {
    const ecr = new FakeEcr();
    ecr.protectedImages = { app: [{ digest: a, tags: [tag], pushedAt: new Date(0) }] };
    const { d } = deps(ecr, [inventoryOf({ app: [a] })]);
    await reconcileAccount(run, settings, d);
    expect(ecr.calls.filter((c) => c.startsWith('release'))).toEqual([]);
  });

  it('releases nothing when the inventory cannot be re-taken right before', async () => {
    const ecr = new FakeEcr();
    ecr.repositories = ['app'];
    ecr.protectedImages = { app: [{ digest: a, tags: [tag], pushedAt: new Date(0) }] };
    const { d, takes } = deps(ecr, [inventoryOf({}), new Error('ECS throttled')]);
    const outcome = await reconcileAccount(run, settings, d);
    expect(takes()).toBe(2);
    expect(ecr.calls.filter((c) => c.startsWith('release'))).toEqual([]);
    expect(outcome.reports[0]!.releases[0]).toMatchObject({ how: 'kept', reason: 'the in-use check right before release failed' });
  });

  it('sends one INFO alert per repository with a release', async () => {
    const ecr = new FakeEcr();
    ecr.repositories = ['app'];
    ecr.protectedImages = { app: [{ digest: a, tags: [tag], pushedAt: new Date(0) }] };
    const { d, published } = deps(ecr, [inventoryOf({})]);
    await reconcileAccount(run, settings, d);
    expect(published.map((p) => [p.subject, p.severity, p.events])).toEqual([
      ['ECR digest guard: protection released on 1 image in app', 'INFO', ['protection-released']],
    ]);
  });
});

describe('which repositories, and where a run starts', () => {
  const settings = { tagPrefix: PREFIX, dryRun: false };
  const names = ['a', 'b', 'c', 'd', 'e'];
  const everyRepoInUse = () => inventoryOf(Object.fromEntries(names.map((n, i) => [n, [digest(i + 1)]])));
  const order = (ecr: FakeEcr) => ecr.calls.filter((c) => c.startsWith('describe ')).map((c) => c.slice(9));

  it('visits only the repositories in scope', async () => {
    const ecr = new FakeEcr();
    const { d } = deps(ecr, [everyRepoInUse()]);
    await reconcileAccount(run, { ...settings, repositories: ['b', 'd'] }, d);
    expect(order(ecr)).toEqual(['b', 'd']);
  });

  it('starts after the saved cursor and wraps around', async () => {
    const ecr = new FakeEcr();
    const { d } = deps(ecr, [everyRepoInUse()], { concurrency: 1, checkpoint: { load: async () => 'bb', save: async () => undefined } });
    await reconcileAccount(run, settings, d);
    expect(order(ecr)).toEqual(['c', 'd', 'e', 'a', 'b']);
  });

  it('without a checkpoint, spreads successive start points over the list (golden-ratio rotation)', async () => {
    const starts = new Set<string>();
    for (let seed = 0; seed < 5; seed++) {
      const ecr = new FakeEcr();
      const { d } = deps(ecr, [everyRepoInUse()], { concurrency: 1 });
      await reconcileAccount({ ...run, rotationSeed: 1_000 + seed }, settings, d);
      starts.add(order(ecr)[0]!);
      expect(order(ecr).sort()).toEqual(names);
    }
    expect(starts.size).toBeGreaterThanOrEqual(4);
  });
});

describe('failures', () => {
  const settings = { tagPrefix: PREFIX, dryRun: false };

  it('fails the run when the inventory cannot be taken: nothing could be done', async () => {
    const { d } = deps(new FakeEcr(), [new Error('AccessDenied')]);
    await expect(reconcileAccount(run, settings, d)).rejects.toBeInstanceOf(ReconcileNotPossibleError);
  });

  it('fails the run when every repository reached failed', async () => {
    const ecr = new FakeEcr();
    ecr.failOn = new Set(['a', 'b']);
    const { d } = deps(ecr, [inventoryOf({ a: [digest(1)], b: [digest(2)] })]);
    await expect(reconcileAccount(run, settings, d)).rejects.toThrow(/every repository reached failed \(a, b\)/);
  });

  it('logs and alerts a partial failure, and reconciles the rest', async () => {
    const ecr = new FakeEcr();
    ecr.failOn = new Set(['a']);
    const { d, published } = deps(ecr, [inventoryOf({ a: [digest(1)], b: [digest(2)] })]);
    const outcome = await reconcileAccount(run, settings, d);
    expect(outcome.failed.map((f) => f.repository)).toEqual(['a']);
    expect(outcome.reports.map((r) => r.repository)).toEqual(['b']);
    expect(published.map((p) => [p.subject, p.events])).toEqual([['ECR digest guard: reconcile could not check 1 repository', ['reconcile-failed']]]);
  });
});
