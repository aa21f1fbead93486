/**
 * The reconcile core over plain fakes: when a protection is released, where a run starts, and when a run
 * fails as a whole. The end-to-end behaviour on the simulated account is in test/scenarios/reconcile.test.ts.
 */
import { describe, expect, it } from 'vitest';
import type { Alert } from '../../../lambda/core/ports';
import { protectiveTagFor } from '../../../lambda/core/protective-tag';
import {
  PULL_TIME_REFRESH_LAG_MS,
  ReconcileNotPossibleError,
  REPOSITORY_RETRY_BACKOFF_MS,
  RepositoriesNotReconciledError,
  reconcileAccount,
  type ReconcileDependencies,
} from '../../../lambda/core/reconcile';
import { ALERT_RESERVE_MS } from '../../../lambda/core/reconcile';
import type {
  InUseIndexPort,
  ProtectedImage,
  ProtectiveTagRequest,
  ReconcileEcrPort,
  ReleaseOutcome,
} from '../../../lambda/core/ports';
import type { Consumer, Digest, ImageState, Inventory, InventoryGap } from '../../../lambda/core/types';

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
    byRepository: new Map(
      Object.entries(byRepository).map(([repo, digests]) => [repo, new Map(digests.map((d) => [d, [consumer]]))]),
    ),
  };
}

class FakeEcr implements ReconcileEcrPort {
  readonly calls: string[] = [];
  protectedImages: Record<string, ProtectedImage[]> = {};
  repositories: string[] = [];
  failOn = new Set<string>();
  /** repository → how many more describes of it fail (a throttle that passes) */
  failTimes = new Map<string, number>();
  untagged = new Set<Digest>();
  async describeDigests(repository: string, digests: readonly Digest[]): Promise<ImageState[]> {
    this.calls.push(`describe ${repository}`);
    if (this.failOn.has(repository)) throw new Error(`boom in ${repository}`);
    const left = this.failTimes.get(repository) ?? 0;
    if (left > 0) {
      this.failTimes.set(repository, left - 1);
      throw new Error(`throttled in ${repository}`);
    }
    return digests.map((d) => ({
      digest: d,
      present: true,
      tags: this.untagged.has(d) ? [] : ['prod'],
      storageStatus: 'ACTIVE',
    }));
  }
  async addProtectiveTags(_repository: string, requests: readonly ProtectiveTagRequest[]) {
    return requests.map(() => ({ outcome: 'tagged' as const }));
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
    [
      'pulled just beyond grace + refresh lag: released',
      { lastPulledAt: new Date(NOW.getTime() - 30 * DAY - PULL_TIME_REFRESH_LAG_MS - 1) },
      true,
    ],
    [
      'pulled exactly at grace + refresh lag ago: kept',
      { lastPulledAt: new Date(NOW.getTime() - 30 * DAY - PULL_TIME_REFRESH_LAG_MS + 1) },
      false,
    ],
    [
      'never pulled, pushed long ago (falls back to imagePushedAt): released',
      { pushedAt: new Date(NOW.getTime() - 90 * DAY) },
      true,
    ],
    ['never pulled, pushed recently: kept', { pushedAt: new Date(NOW.getTime() - 2 * DAY) }, false],
    [
      'an old push but a recent pull: kept (the pull wins)',
      { pushedAt: new Date(NOW.getTime() - 90 * DAY), lastPulledAt: new Date(NOW.getTime() - DAY) },
      false,
    ],
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
    expect(outcome.reports[0]!.releases[0]).toMatchObject({
      how: 'kept',
      reason: 'the in-use check right before release failed',
    });
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

describe('release only on a complete picture', () => {
  const settings = { tagPrefix: PREFIX, dryRun: false, releaseAfterDays: 30 };
  const due = (n: number): ProtectedImage => ({
    digest: digest(n),
    tags: [protectiveTagFor(digest(n), PREFIX)],
    pushedAt: new Date(0),
  });
  const withGaps = (inventory: Inventory, gaps: InventoryGap[]): Inventory => ({ ...inventory, gaps });

  it('given a gap naming no repository, then releases pause in every repository, saying why', async () => {
    const ecr = new FakeEcr();
    ecr.repositories = ['api', 'app'];
    ecr.protectedImages = { api: [due(1)], app: [due(2)] };
    const missing = 'DescribeTasks in cluster prod: arn:…:task/prod/t1 MISSING';
    const { d, published } = deps(ecr, [withGaps(inventoryOf({}), [{ reason: missing }])]);

    const outcome = await reconcileAccount(run, settings, d);

    expect(ecr.calls.filter((c) => c.startsWith('release'))).toEqual([]);
    expect(outcome.reports.map((r) => r.releasesPaused?.digests)).toEqual([[digest(1)], [digest(2)]]);
    expect(published.map((p) => [p.subject, p.severity, p.events])).toEqual([
      ['ECR digest guard: releases paused (incomplete inventory) in api', 'WARNING', ['releases-paused']],
      ['ECR digest guard: releases paused (incomplete inventory) in app', 'WARNING', ['releases-paused']],
    ]);
    expect(published[0]!.text).toContain(`${missing} (could concern any repository)`);
  });

  it('given a gap only in the check right before release, then that repository keeps its protections', async () => {
    const ecr = new FakeEcr();
    ecr.repositories = ['api', 'app'];
    ecr.protectedImages = { api: [due(1)], app: [due(2)] };
    const gap: InventoryGap = { reason: 'Lambda function thumbs: no digest for …/app:prod', repositories: ['app'] };
    const { d } = deps(ecr, [inventoryOf({}), withGaps(inventoryOf({}), [gap])]);

    const outcome = await reconcileAccount(run, settings, d);

    const releases = ecr.calls.filter((c) => c.startsWith('release'));
    expect(releases).toEqual([`release api ${protectiveTagFor(digest(1), PREFIX)}`]);
    const app = outcome.reports.find((r) => r.repository === 'app')!;
    expect(app.releasesPaused).toEqual({ digests: [digest(2)], gaps: [gap] });
  });
});

describe('release within the time box', () => {
  const settings = { tagPrefix: PREFIX, dryRun: false, releaseAfterDays: 30 };

  it('given time runs out mid-release, then it stops in time and alerts each release by the deadline', async () => {
    // The function's clock: each release costs 10 s of a time box that has 70 s left when releases begin.
    let left = 70_000;
    class SlowEcr extends FakeEcr {
      override async releaseProtectiveTag(repository: string, d: Digest, tag: string): Promise<ReleaseOutcome> {
        left -= 10_000;
        return super.releaseProtectiveTag(repository, d, tag);
      }
    }
    const ecr = new SlowEcr();
    ecr.repositories = ['app'];
    ecr.protectedImages = {
      app: Array.from({ length: 8 }, (_, i) => ({
        digest: digest(i + 1),
        tags: [protectiveTagFor(digest(i + 1), PREFIX)],
        pushedAt: new Date(0),
      })),
    };
    const publishedWithLeft: { alert: Alert; left: number }[] = [];
    const { d } = deps(ecr, [inventoryOf({})], {
      remainingTimeMs: () => left,
      reserveMs: 30_000,
      alerts: { publish: async (alert) => void publishedWithLeft.push({ alert, left }) },
    });

    const outcome = await reconcileAccount(run, settings, d);

    const released = ecr.calls.filter((c) => c.startsWith('release'));
    // started with 70, 60, 50, 40, 30 and 20 s left; not with 10 s ≤ ALERT_RESERVE_MS
    expect(released.length).toBe(6);
    expect(left).toBeGreaterThan(0);
    expect(publishedWithLeft).toHaveLength(1);
    expect(publishedWithLeft[0]!.left).toBeGreaterThan(0);
    expect(publishedWithLeft[0]!.alert.subject).toBe('ECR digest guard: protection released on 6 images in app');
    const kept = outcome.reports[0]!.releases.filter((r) => r.how === 'kept');
    expect(kept.map((r) => (r as { reason: string }).reason)).toEqual([
      'not released this run: the run was near its time limit; the next run tries again',
      'not released this run: the run was near its time limit; the next run tries again',
    ]);
    expect(ALERT_RESERVE_MS).toBeGreaterThan(10_000);
  });

  it('given a repository with nothing to release, then its alert goes out before the first release', async () => {
    const ecr = new FakeEcr();
    ecr.repositories = ['app', 'web'];
    ecr.protectedImages = {
      app: [{ digest: digest(1), tags: [protectiveTagFor(digest(1), PREFIX)], pushedAt: new Date(0) }],
    };
    const order: string[] = [];
    const base = ecr.releaseProtectiveTag.bind(ecr);
    ecr.releaseProtectiveTag = async (repository, dg, tag) => {
      order.push(`release ${repository}`);
      return base(repository, dg, tag);
    };
    // web: an in-use digest with no tag left, protected in this run, so web has an alert of its own.
    ecr.describeDigests = async (_repository, digests) =>
      digests.map((dg) => ({ digest: dg, present: true, tags: [], storageStatus: 'ACTIVE' }));
    const { d } = deps(ecr, [inventoryOf({ web: [digest(9)] })], {
      alerts: { publish: async (alert) => void order.push(`alert ${alert.repository}`) },
    });

    await reconcileAccount(run, settings, d);

    expect(order).toEqual(['alert web', 'release app', 'alert app']);
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
    const { d } = deps(ecr, [everyRepoInUse()], {
      concurrency: 1,
      checkpoint: { load: async () => 'bb', save: async () => undefined },
    });
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
    const { d } = deps(ecr, [inventoryOf({ a: [digest(1)], b: [digest(2)] })], { sleep: async () => undefined });
    await expect(reconcileAccount(run, settings, d)).rejects.toThrow(/every repository reached failed \(a, b\)/);
  });

  it('given one repository fails, then the run rejects naming it, after alerting the rest and writing the index', async () => {
    const ecr = new FakeEcr();
    ecr.failOn = new Set(['a']);
    ecr.untagged.add(digest(2));
    const statuses: string[] = [];
    const entriesAdded: string[] = [];
    const index: InUseIndexPort = {
      entriesOfWorkload: async () => [],
      addEntry: async (entry) => {
        entriesAdded.push(`${entry.repository} ${entry.digest}`);
        return 'added';
      },
      removeEntryNotSeenSince: async () => 'removed',
      recordListStatus: async (_workload, status) => {
        statuses.push(status.outcome);
        return 'recorded';
      },
    };
    const { d, published } = deps(ecr, [inventoryOf({ a: [digest(1)], b: [digest(2)] })], {
      inUseIndex: index,
      sleep: async () => undefined,
    });
    const failure = await reconcileAccount(run, settings, d).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(RepositoriesNotReconciledError);
    const { outcome, message } = failure as RepositoriesNotReconciledError;
    expect(message).toMatch(/could not reconcile 1 repository \(a\)/);
    expect(outcome.failed.map((f) => f.repository)).toEqual(['a']);
    expect(outcome.reports.map((r) => [r.repository, r.protection.protected.length])).toEqual([['b', 1]]);
    expect(published.map((p) => p.events)).toEqual([['protected'], ['reconcile-failed']]);
    expect(entriesAdded.length).toBe(2);
    expect(statuses).toEqual(['complete']);
  });

  it('given a repository fails once, then one retry after a back-off reconciles it and the run succeeds', async () => {
    const ecr = new FakeEcr();
    ecr.failTimes.set('a', 1);
    ecr.untagged.add(digest(1));
    const waits: number[] = [];
    const { d, published } = deps(ecr, [inventoryOf({ a: [digest(1)], b: [digest(2)] })], {
      sleep: async (ms) => void waits.push(ms),
    });
    const outcome = await reconcileAccount(run, settings, d);
    expect(waits).toEqual([REPOSITORY_RETRY_BACKOFF_MS]);
    expect(outcome.failed).toEqual([]);
    expect(outcome.reports.map((r) => r.repository).sort()).toEqual(['a', 'b']);
    expect(published.map((p) => p.events)).toEqual([['protected']]);
  });

  it('given too little time is left for the back-off, then the run does not retry and rejects', async () => {
    const ecr = new FakeEcr();
    ecr.failTimes.set('a', 1);
    let left = 10 * 60_000;
    const waits: number[] = [];
    const { d } = deps(ecr, [inventoryOf({ a: [digest(1)], b: [digest(2)] })], {
      remainingTimeMs: () => left,
      sleep: async (ms) => void waits.push(ms),
      ecr: Object.assign(ecr, {
        describeDigests: async (repository: string, digests: readonly Digest[]) => {
          const answer = await FakeEcr.prototype.describeDigests.call(ecr, repository, digests);
          left = 60_000 + REPOSITORY_RETRY_BACKOFF_MS; // the first pass used up the time
          return answer;
        },
      }),
    });
    await expect(reconcileAccount(run, settings, d)).rejects.toBeInstanceOf(RepositoriesNotReconciledError);
    expect(waits).toEqual([]);
  });

  it('given repositories only not reached before the timeout, then the run does not reject', async () => {
    const ecr = new FakeEcr();
    let left = 10 * 60_000;
    const { d } = deps(ecr, [inventoryOf({ a: [digest(1)], b: [digest(2)] })], {
      concurrency: 1,
      remainingTimeMs: () => left,
      ecr: Object.assign(ecr, {
        describeDigests: async (repository: string, digests: readonly Digest[]) => {
          left = 1_000;
          return FakeEcr.prototype.describeDigests.call(ecr, repository, digests);
        },
      }),
    });
    const outcome = await reconcileAccount(run, settings, d);
    expect(outcome.notReached.length).toBe(1);
    expect(outcome.failed).toEqual([]);
  });
});
