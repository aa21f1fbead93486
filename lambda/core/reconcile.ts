/**
 * The scheduled reconcile, over the ports: one fresh inventory, then for every repository in scope the
 * push path's protect step (`protectInUseDigests`, deciding with `findUntaggedInUseDigests`), restoring
 * archived in-use images, and releasing protective tags that are no longer needed; one alert per
 * repository where something changed. It protects what the push path could not see: missed events, risk
 * that existed before install, tags moved by pull-through cache or replication.
 *
 * Bounded work: repositories are handled in a stable (sorted) order with a bounded number in flight; a run
 * that is about to run out of time stops starting repositories, reports those it did not reach, and saves
 * the last one it reached so the next run starts after it.
 */
import { buildRepositoryAlert, type RepositoryReport } from './alert';
import { countOf, EntryLister, toAlertSubject } from './alert-size';
import { mapWithConcurrency } from './concurrency';
import { publishOrLog } from './alert-publish';
import { inUseWithIndexChildren, protectInUseDigests } from './protect';
import type { GuardLogger, GuardMetrics } from './ports';
import { gapsConcerning } from './inventory';
import type { Alert, AlertPort, InventoryPort } from './ports';
import { assessLifecycleRisk, installShieldRule, type InstallOutcome, type InUseImage, type LifecycleFindings } from './lifecycle-risk';
import type { LifecyclePolicyPort } from './ports';
import { isProtectiveTag, protectiveTagFor, shortDigest } from './protective-tag';
import type { ProtectedImage, ReconcileCheckpoint, ReconcileEcrPort, ReleaseOutcome } from './ports';
import type { Consumer, Digest, GuardSettings, ImageState, Inventory, InventoryGap } from './types';

const DAY_MS = 86_400_000;
/**
 * "Amazon ECR refreshes the last image pull timestamp at least once every 24 hours" (ImageDetail
 * .lastRecordedPullTime, botocore/data/ecr/2015-09-21/service-2.json): a digest pulled an hour ago may
 * still show a pull from 24 hours before. Release therefore waits this much longer than the grace period.
 */
export const PULL_TIME_REFRESH_LAG_MS = DAY_MS;
const GOLDEN_RATIO_CONJUGATE = (Math.sqrt(5) - 1) / 2;
/**
 * No release starts more than this long after the start of the complete inventory that found its digest unused;
 * an older check is re-taken first. A workload can start using a digest between that inventory and the release
 * (a deployment or rollback by digest, a scale-out of a service the inventory did not see yet), so this bounds
 * the window in which the guard can delete an image that came into use. One minute: a complete inventory of a
 * large account (2,000 services, 10,000 tasks) takes 9-16 s with ECS throttling, so a check leaves most of the
 * minute for releases, and re-taking at most once a minute keeps the reconcile within the push path's budget of
 * inventories (at most two a minute) on the ECS API that deploy tools share.
 */
export const RELEASE_CHECK_MAX_AGE_MS = 60_000;
/**
 * No release (and no re-take of the check) starts once less than this is left of the time box: what is left
 * publishes the alerts that name the releases made (one SNS Publish each, with the SDK's retries).
 */
export const ALERT_RESERVE_MS = 15_000;

export interface ReconcileSettings extends GuardSettings {
  /**
   * Release a protective tag once its digest is not in use and was not pulled for this many days.
   * `undefined` or `0`: never release (the default). Never releasing is the safe default: a protective tag
   * left in place costs storage; one released too early lets a lifecycle rule delete an image a rollback,
   * a scale-from-zero or another account may still need.
   */
  readonly releaseAfterDays?: number;
  /**
   * How to look for lifecycle rules that could still expire or archive protected in-use images:
   * `evaluate` reads the policy and evaluates it (one GetLifecyclePolicy per repository in use; the default),
   * `preview` also runs ECR's lifecycle policy preview where the evaluation finds a risk, `off` skips it.
   */
  readonly lifecycleCheck?: 'off' | 'evaluate' | 'preview';
  /**
   * Opt-in: where a risk is found, add the top-priority shield rule to the repository's lifecycle policy
   * (every existing rule kept, order kept). Never done in dry run. @default false
   */
  readonly installLifecycleShield?: boolean;
}

export interface ReconcileDependencies {
  readonly ecr: ReconcileEcrPort;
  readonly inventory: InventoryPort;
  readonly alerts: AlertPort;
  readonly logger: GuardLogger;
  readonly metrics?: GuardMetrics;
  /** the repository lifecycle policies; without it no lifecycle check is made */
  readonly lifecycle?: LifecyclePolicyPort;
  /** where a run that stops early records the last repository it reached; without it, `rotationSeed` picks the start */
  readonly checkpoint?: ReconcileCheckpoint;
  /** milliseconds left before the function is stopped (`context.getRemainingTimeInMillis`) */
  readonly remainingTimeMs?: () => number;
  /**
   * a repository is started only while more than this is left; the rest is kept for releases and alerts;
   * releases stop when `ALERT_RESERVE_MS` is left @default 60000
   */
  readonly reserveMs?: number;
  /** repositories handled at once (ECR calls in flight) @default 4 */
  readonly concurrency?: number;
  readonly now?: () => Date;
  /** the function's log group, named in alerts as where their full list is (`AWS_LAMBDA_LOG_GROUP_NAME`) */
  readonly alertLogGroup?: string;
}

export interface ReconcileRun {
  readonly account: string;
  readonly region: string;
  /**
   * Without a checkpoint: the run number (e.g. whole hours since the epoch of the scheduled time). Run k
   * starts at position ⌊frac(k·φ⁻¹)·N⌋ of the sorted repositories (a golden-ratio rotation): successive
   * starts spread evenly around the list (three-gap theorem), so if every run reaches at least M
   * repositories, every repository is reached within about 3·N/M runs, with no state kept anywhere.
   */
  readonly rotationSeed?: number;
}

export type ReleaseResult =
  | { readonly digest: Digest; readonly tag: string; readonly how: 'released' | 'would-release'; readonly imageDeleted: boolean; readonly lastUsedAt?: string }
  | { readonly digest: Digest; readonly tag: string; readonly how: 'kept'; readonly reason: string };

export interface RepositoryReconcileReport {
  readonly repository: string;
  readonly protection: RepositoryReport;
  readonly releases: readonly ReleaseResult[];
  /** protective-looking tags that name another digest than the one they encode: never removed */
  readonly mismatched: readonly { digest: Digest; tag: string }[];
  /** what the lifecycle check found, when it ran */
  readonly lifecycle?: LifecycleFindings;
  /** what the opt-in shield install did, when it ran */
  readonly shield?: InstallOutcome;
  /**
   * protections that were due for release but kept because the inventory could not see everything that may
   * use this repository, with the gaps that stopped them
   */
  readonly releasesPaused?: { readonly digests: readonly Digest[]; readonly gaps: readonly InventoryGap[] };
}

export interface ReconcileOutcome {
  readonly inventoryTakenAt: Date;
  readonly reports: readonly RepositoryReconcileReport[];
  readonly failed: readonly { repository: string; error: unknown }[];
  /** repositories not started because time ran out; the next run starts with them */
  readonly notReached: readonly string[];
  /** the last repository reached when the run stopped early; undefined when every repository was reached */
  readonly cursor?: string;
  readonly alertsPublished: number;
}

interface ReleaseCandidate {
  readonly digest: Digest;
  readonly tag: string;
  readonly imageDeleted: boolean;
  readonly lastUsedAt: Date;
}

interface RepositoryWork {
  readonly repository: string;
  readonly protection: RepositoryReport;
  readonly candidates: ReleaseCandidate[];
  readonly kept: ReleaseResult[];
  readonly mismatched: { digest: Digest; tag: string }[];
  lifecycle?: LifecycleFindings;
  shield?: InstallOutcome;
}

/** The inventory could not be taken: nothing can be decided, so the run fails and is retried. */
export class ReconcileNotPossibleError extends Error {
  override readonly name = 'ReconcileNotPossibleError';
}

export async function reconcileAccount(run: ReconcileRun, settings: ReconcileSettings, deps: ReconcileDependencies): Promise<ReconcileOutcome> {
  const { logger } = deps;
  const now = deps.now ?? (() => new Date());
  const releaseEnabled = (settings.releaseAfterDays ?? 0) > 0;
  const inScope = settings.repositories?.length ? new Set(settings.repositories) : undefined;

  let inventory: Inventory;
  try {
    inventory = await deps.inventory.takeInventory();
  } catch (error) {
    deps.metrics?.count('InventoryFailures', 1);
    throw new ReconcileNotPossibleError('could not take the in-use inventory; nothing was reconciled', { cause: error });
  }
  for (const gap of inventory.gaps) logger.warn('inventory gap', { gap });

  const repositories = await repositoriesToVisit(inventory, settings, releaseEnabled, inScope, deps);
  const ordered = await startingPoint(repositories, run, deps);
  const remaining = deps.remainingTimeMs ?? (() => Number.POSITIVE_INFINITY);
  const reserveMs = deps.reserveMs ?? 60_000;

  const results = await mapWithConcurrency(ordered, deps.concurrency ?? 4, async (repository) => {
    if (remaining() <= reserveMs) return { repository, notReached: true as const };
    try {
      return { repository, work: await reconcileRepository(repository, inventory, run, settings, deps, now()) };
    } catch (error) {
      logger.error('could not reconcile a repository; the next scheduled run tries again', {
        repository,
        error,
        whatToDo: 'see the error; check the function role can call ECR on this repository',
      });
      deps.metrics?.count('RepositoryFailures', 1);
      return { repository, error };
    }
  });

  const works = results.flatMap((r) => ('work' in r && r.work ? [r.work] : []));
  const failed = results.flatMap((r) => ('error' in r ? [{ repository: r.repository, error: r.error }] : []));
  const notReached = results.filter((r) => 'notReached' in r).map((r) => r.repository);
  const reachedInOrder = results.filter((r) => !('notReached' in r)).map((r) => r.repository);
  const cursor = notReached.length > 0 ? reachedInOrder.at(-1) : undefined;

  let alertsPublished = 0;
  const reportOf = new Map<RepositoryWork, RepositoryReconcileReport>();
  const finish = async (work: RepositoryWork, released: ReleasePhaseResult): Promise<void> => {
    const report: RepositoryReconcileReport = {
      repository: work.repository,
      protection: work.protection,
      releases: [...released.releases, ...work.kept],
      mismatched: work.mismatched,
      ...(work.lifecycle ? { lifecycle: work.lifecycle } : {}),
      ...(work.shield ? { shield: work.shield } : {}),
      ...(released.paused ? { releasesPaused: released.paused } : {}),
    };
    reportOf.set(work, report);
    const alert = buildReconcileAlert(report, settings);
    if (!alert) return;
    if (await publishOrLog(alert, deps)) alertsPublished += 1;
    deps.metrics?.count('ProtectedDigests', work.protection.protected.filter((p) => p.how === 'tagged').length);
    deps.metrics?.count('ReleasedProtections', report.releases.filter((r) => r.how === 'released').length);
    deps.metrics?.count('RestoresStarted', work.protection.restores.filter((r) => r.how === 'restore-started').length);
  };
  // Alerts of repositories with nothing to release go out before any release: a release phase the timeout cuts
  // short must not take them with it. Each repository's releases are alerted as soon as they are done.
  const releasing = releaseEnabled ? works.filter((w) => w.candidates.length > 0) : [];
  for (const work of works) if (!releasing.includes(work)) await finish(work, { releases: [] });
  if (releasing.length > 0) await releaseCandidates(releasing, inventory, settings, deps, remaining, finish);
  const reports = works.map((work) => reportOf.get(work)!);

  if (notReached.length > 0) {
    logger.warn('reconcile stopped before the function timeout; the next run continues after the last repository reached', {
      cursor,
      notReached,
    });
    deps.metrics?.count('RepositoriesNotReached', notReached.length);
  }
  if (deps.checkpoint) await deps.checkpoint.save(cursor);
  if (failed.length > 0) alertsPublished += await alertFailures(run, failed, deps);
  // Nothing could be done: fail the invocation so Lambda retries it and the failure alarm fires.
  if (works.length === 0 && failed.length > 0) {
    throw new ReconcileNotPossibleError(`every repository reached failed (${failed.map((f) => f.repository).join(', ')})`, { cause: failed[0]?.error });
  }
  return { inventoryTakenAt: inventory.takenAt, reports, failed, notReached, ...(cursor ? { cursor } : {}), alertsPublished };
}

/**
 * Repositories to visit, sorted. Protection needs only those the inventory names (an in-use digest says
 * its repository). Release must also visit repositories nobody uses any more — that is where protection
 * stops being needed — and the inventory cannot name those, so with release on and no explicit scope the
 * registry's repositories are listed (DescribeRepositories).
 */
async function repositoriesToVisit(
  inventory: Inventory,
  settings: ReconcileSettings,
  releaseEnabled: boolean,
  inScope: ReadonlySet<string> | undefined,
  deps: ReconcileDependencies,
): Promise<string[]> {
  const names = new Set<string>(inventory.byRepository.keys());
  if (releaseEnabled) {
    if (settings.repositories?.length) for (const name of settings.repositories) names.add(name);
    else {
      try {
        for (const name of await deps.ecr.listRepositories()) names.add(name);
      } catch (error) {
        deps.logger.error('could not list repositories: releases are limited to repositories in use this run', { error });
        deps.metrics?.count('RepositoryListFailures', 1);
      }
    }
  }
  return [...names].filter((name) => !inScope || inScope.has(name)).sort();
}

/** The sorted list rotated to start after the saved cursor, or at `rotationSeed mod N` without a checkpoint. */
async function startingPoint(sorted: readonly string[], run: ReconcileRun, deps: ReconcileDependencies): Promise<string[]> {
  if (sorted.length === 0) return [];
  let start = 0;
  if (deps.checkpoint) {
    const cursor = await deps.checkpoint.load();
    if (cursor !== undefined) {
      const after = sorted.findIndex((name) => name > cursor);
      start = after === -1 ? 0 : after;
    }
  } else if (run.rotationSeed !== undefined) {
    const fraction = (Math.abs(Math.trunc(run.rotationSeed)) * GOLDEN_RATIO_CONJUGATE) % 1;
    start = Math.min(sorted.length - 1, Math.floor(fraction * sorted.length));
  }
  return [...sorted.slice(start), ...sorted.slice(0, start)];
}

async function reconcileRepository(
  repository: string,
  inventory: Inventory,
  run: ReconcileRun,
  settings: ReconcileSettings,
  deps: ReconcileDependencies,
  now: Date,
): Promise<RepositoryWork> {
  // The protect step adds what in-use image indexes reference, and restores archived in-use images.
  const { report, states, inUse } = await protectInUseDigests(
    repository,
    inventory.byRepository.get(repository) ?? new Map(),
    {
      account: run.account,
      region: run.region,
      pushes: [],
      gaps: gapsConcerning(inventory.gaps, repository).map((gap) => gap.reason),
    },
    settings,
    deps,
  );

  const work: RepositoryWork = { repository, protection: report, candidates: [], kept: [], mismatched: [] };
  await checkLifecycleRisk(work, states, settings, deps);
  if ((settings.releaseAfterDays ?? 0) > 0) await findReleaseCandidates(work, inUse, settings, deps, now);
  return work;
}

/**
 * A protective tag beats only `untagged` rules: a `tagged` or `any` rule, or a transition to the archive,
 * can still take a protected in-use image. Checked for repositories with in-use digests, as they are after
 * this run's protection. Best effort: a failure is logged and counted, and never stops the reconcile.
 */
async function checkLifecycleRisk(
  work: RepositoryWork,
  states: readonly ImageState[],
  settings: ReconcileSettings,
  deps: ReconcileDependencies,
): Promise<void> {
  const mode = settings.lifecycleCheck ?? 'evaluate';
  if (!deps.lifecycle || mode === 'off') return;
  const justProtected = new Map(work.protection.protected.map((p) => [p.digest, p.tag]));
  const images: InUseImage[] = states.flatMap((state) =>
    state.present
      ? [{
          digest: state.digest,
          tags: justProtected.has(state.digest) ? [...state.tags, justProtected.get(state.digest)!] : state.tags,
          ...(state.storageStatus === 'ARCHIVED' ? { archived: true } : {}),
        }]
      : [],
  );
  if (images.length === 0) return;
  try {
    let findings = await assessLifecycleRisk(deps.lifecycle, work.repository, images, settings.tagPrefix);
    if (mode === 'preview' && findings.risks.length > 0) {
      findings = await assessLifecycleRisk(deps.lifecycle, work.repository, images, settings.tagPrefix, { usePreview: true });
    }
    work.lifecycle = findings;
    if (findings.risks.length > 0) {
      deps.logger.warn('a lifecycle rule can still expire or archive protected in-use images', { repository: work.repository, risks: findings.risks, fix: findings.fix?.ruleJson });
      deps.metrics?.count('LifecycleRiskRepositories', 1);
      if (settings.installLifecycleShield && !settings.dryRun) {
        work.shield = await installShieldRule(deps.lifecycle, work.repository, settings.tagPrefix);
        deps.logger.warn('lifecycle shield rule install', { repository: work.repository, outcome: work.shield });
      }
    }
  } catch (error) {
    deps.logger.error('could not check the lifecycle policy; protection is unaffected', { repository: work.repository, error });
    deps.metrics?.count('LifecycleCheckFailures', 1);
  }
}

async function findReleaseCandidates(
  work: RepositoryWork,
  inUse: ReadonlyMap<Digest, readonly Consumer[]>,
  settings: ReconcileSettings,
  deps: ReconcileDependencies,
  now: Date,
): Promise<void> {
  const graceMs = (settings.releaseAfterDays ?? 0) * DAY_MS;
  let images: ProtectedImage[];
  try {
    images = await deps.ecr.listProtectedImages(work.repository, (tag) => isProtectiveTag(tag, settings.tagPrefix));
  } catch (error) {
    if ((error as Error).name === 'RepositoryNotFoundError') return;
    throw error;
  }
  for (const image of images) {
    for (const tag of image.tags.filter((t) => isProtectiveTag(t, settings.tagPrefix))) {
      // Only the exact form `<tagPrefix>-sha256-<this image's digest>` is ever released. Who put a tag is not
      // knowable here: ECR keeps no author or time per tag, and CloudTrail LookupEvents reaches back only 90
      // days (https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_LookupEvents.html), less than
      // most protections live. So a person's tag of exactly this form is released like the guard's own.
      if (tag !== protectiveTagFor(image.digest, settings.tagPrefix)) {
        deps.logger.warn('a protective-looking tag names another image than the digest it encodes; never removed', { repository: work.repository, tag, digest: image.digest });
        work.mismatched.push({ digest: image.digest, tag });
        continue;
      }
      if (inUse.has(image.digest)) continue;
      // The last sign of use: the recorded pull, or the push when ECR never recorded a pull (an image
      // pushed and protected but never run from this registry). Either can lag behind a real pull by up to
      // a day, hence the refresh lag on top of the grace period.
      const lastUsedAt = image.lastPulledAt ?? image.pushedAt;
      if (!lastUsedAt) {
        work.kept.push({ digest: image.digest, tag, how: 'kept', reason: 'ECR reports neither a pull nor a push time' });
        continue;
      }
      if (now.getTime() - lastUsedAt.getTime() < graceMs + PULL_TIME_REFRESH_LAG_MS) continue;
      const otherTags = image.tags.filter((t) => t !== tag);
      work.candidates.push({ digest: image.digest, tag, imageDeleted: otherTags.length === 0, lastUsedAt });
    }
  }
}

interface ReleasePhaseResult {
  readonly releases: readonly ReleaseResult[];
  readonly paused?: { readonly digests: readonly Digest[]; readonly gaps: readonly InventoryGap[] };
}

/** One complete inventory taken after the release decisions, to check the candidates against. */
interface InUseCheck {
  readonly inventory: Inventory;
  /** when it started, on the reconcile's clock: its age bounds how late a release may rely on it */
  readonly startedAt: number;
}

/** The run is too close to its time limit to start a release or an inventory. */
class TimeBoxSpentError extends Error {
  override readonly name = 'TimeBoxSpentError';
}

/**
 * The in-use checks of one release phase, shared by the repositories it releases in: the current check while it
 * is younger than `RELEASE_CHECK_MAX_AGE_MS`, else a new one (one re-take, however many repositories notice).
 * A re-take is started only when the time box still holds it and the alerts after it.
 */
class InUseChecks {
  private current: Promise<InUseCheck> | undefined;
  private lastDurationMs = 0;

  constructor(
    private readonly inventory: InventoryPort,
    private readonly clock: () => number,
    private readonly remaining: () => number,
  ) {}

  /** A check to release on; it can still be too old when the inventory itself took longer than the bound. */
  async fresh(): Promise<InUseCheck> {
    const pending = (this.current ??= this.take());
    const check = await pending;
    if (this.clock() - check.startedAt <= RELEASE_CHECK_MAX_AGE_MS) return check;
    if (this.current === pending) this.current = this.take();
    return this.current;
  }

  private async take(): Promise<InUseCheck> {
    if (this.remaining() <= ALERT_RESERVE_MS + this.lastDurationMs) {
      throw new TimeBoxSpentError('no time left for the in-use check');
    }
    const startedAt = this.clock();
    const inventory = await this.inventory.takeInventory();
    this.lastDurationMs = this.clock() - startedAt;
    return { inventory, startedAt };
  }
}

/**
 * Releases the candidates of every repository and hands each repository's results to `finish` (which alerts)
 * as soon as they are done. Removing an image's last tag deletes the image, so a release happens only on a
 * complete picture: no gap of the decision's inventory or of the check may concern the repository, the check
 * started after the decision and at most `RELEASE_CHECK_MAX_AGE_MS` before the release, and a digest in use
 * then (or referenced by an index in use) is kept. Nothing is started once the time box is nearly spent.
 */
async function releaseCandidates(
  works: readonly RepositoryWork[],
  decision: Inventory,
  settings: ReconcileSettings,
  deps: ReconcileDependencies,
  remaining: () => number,
  finish: (work: RepositoryWork, released: ReleasePhaseResult) => Promise<void>,
): Promise<void> {
  const now = deps.now ?? (() => new Date());
  const checks = new InUseChecks(deps.inventory, () => now().getTime(), remaining);
  await mapWithConcurrency(works, deps.concurrency ?? 4, async (work) => {
    await finish(work, await releaseInRepository(work, decision, checks, settings, deps, remaining));
  });
}

async function releaseInRepository(
  work: RepositoryWork,
  decision: Inventory,
  checks: InUseChecks,
  settings: ReconcileSettings,
  deps: ReconcileDependencies,
  remaining: () => number,
): Promise<ReleasePhaseResult> {
  const { repository } = work;
  const now = deps.now ?? (() => new Date());
  const list: ReleaseResult[] = [];
  const keepTheRest = (reason: string): void => {
    for (const c of work.candidates.slice(list.length)) {
      list.push({ digest: c.digest, tag: c.tag, how: 'kept', reason });
    }
  };
  const pause = (gaps: readonly InventoryGap[]): ReleasePhaseResult => {
    const digests = work.candidates.slice(list.length).map((c) => c.digest);
    const why = 'the inventory could not see everything that may use this repository';
    deps.logger.warn(`releases paused: ${why}`, { repository, digests, gaps });
    deps.metrics?.count('ReleasesPaused', digests.length);
    keepTheRest(`releases paused: ${why} (${gaps.map((g) => g.reason).join('; ')})`);
    return { releases: list, paused: { digests, gaps } };
  };
  const decisionGaps = gapsConcerning(decision.gaps, repository);
  if (decisionGaps.length > 0) return pause(decisionGaps);

  let basis: { check: InUseCheck; inUse: ReadonlyMap<Digest, readonly Consumer[]> } | undefined;
  try {
    for (const candidate of work.candidates) {
      if (remaining() <= ALERT_RESERVE_MS) throw new TimeBoxSpentError('no time left for another release');
      let check: InUseCheck;
      try {
        check = await checks.fresh();
      } catch (error) {
        if (error instanceof TimeBoxSpentError) throw error;
        deps.logger.error('could not re-take the inventory before releasing: nothing more released here this run', {
          repository,
          error,
        });
        keepTheRest('the in-use check right before release failed');
        break;
      }
      const checkGaps = gapsConcerning(check.inventory.gaps, repository);
      if (checkGaps.length > 0) return pause(checkGaps);
      if (basis?.check !== check) {
        const listed = check.inventory.byRepository.get(repository) ?? new Map<Digest, readonly Consumer[]>();
        basis = { check, inUse: await inUseWithIndexChildren(repository, listed, deps.ecr) };
      }
      if (now().getTime() - check.startedAt > RELEASE_CHECK_MAX_AGE_MS) {
        deps.logger.warn('the in-use check took longer than a release may rely on it: releases deferred', {
          repository,
          maxAgeMs: RELEASE_CHECK_MAX_AGE_MS,
        });
        deps.metrics?.count('ReleasesDeferred', work.candidates.length - list.length);
        keepTheRest(
          `the in-use check took longer than ${RELEASE_CHECK_MAX_AGE_MS / 1000} s, so it cannot vouch for the ` +
            'release; the next run tries again',
        );
        break;
      }
      list.push(await releaseOne(repository, candidate, basis.inUse, settings, deps));
    }
  } catch (error) {
    if (error instanceof TimeBoxSpentError) {
      deps.logger.warn('the run is near its time limit: the remaining releases wait for the next run', {
        repository,
        left: work.candidates.length - list.length,
      });
      deps.metrics?.count('ReleasesDeferred', work.candidates.length - list.length);
      keepTheRest('not released this run: the run was near its time limit; the next run tries again');
    } else {
      deps.logger.error('could not release protective tags of a repository', { repository, error });
      keepTheRest(`release failed: ${(error as Error).message}`);
    }
  }
  return { releases: list };
}

async function releaseOne(
  repository: string,
  candidate: ReleaseCandidate,
  inUseNow: ReadonlyMap<Digest, readonly Consumer[]>,
  settings: ReconcileSettings,
  deps: ReconcileDependencies,
): Promise<ReleaseResult> {
  const { digest, tag } = candidate;
  const log = { repository, digest, tag };
  const lastUsedAt = candidate.lastUsedAt.toISOString();
  if (inUseNow.has(digest)) {
    deps.logger.info('a digest became in use again before its protection was released: kept', log);
    return { digest, tag, how: 'kept', reason: 'in use again at the check right before release' };
  }
  if (settings.dryRun) {
    deps.logger.info('dry run: would release a protective tag', log);
    return { digest, tag, how: 'would-release', imageDeleted: candidate.imageDeleted, lastUsedAt };
  }
  const outcome: ReleaseOutcome = await deps.ecr.releaseProtectiveTag(repository, digest, tag);
  switch (outcome.outcome) {
    case 'released':
      deps.logger.info('released a protective tag that is no longer needed', { ...log, imageDeleted: outcome.imageDeleted });
      return { digest, tag, how: 'released', imageDeleted: outcome.imageDeleted, lastUsedAt };
    case 'tag-moved':
      deps.logger.error('the protective tag names another image now: not removed', { ...log, otherDigest: outcome.otherDigest });
      return { digest, tag, how: 'kept', reason: `the tag names ${outcome.otherDigest ?? 'another image'} now` };
    case 'tag-gone':
      return { digest, tag, how: 'kept', reason: 'the tag was already gone' };
    case 'referenced-by-index':
      return { digest, tag, how: 'kept', reason: `an image index still references it (${outcome.reason})` };
  }
}

/**
 * The repository's alert: the push path's alert (`buildRepositoryAlert`) for protection, gone and
 * archived digests (restores included), with a section for what only the reconcile does (releases, lifecycle); a release-only
 * change is an INFO alert of its own. Undefined when nothing changed.
 */
export function buildReconcileAlert(report: RepositoryReconcileReport, settings: ReconcileSettings): Alert | undefined {
  const base = buildRepositoryAlert(report.protection);
  const releases = report.releases.filter((r): r is Extract<ReleaseResult, { how: 'released' | 'would-release' }> => r.how !== 'kept');
  const lines: string[] = [];
  const events: string[] = [];
  const lister = new EntryLister();
  lines.push(...lister.list(releases, (r) => {
    const verb = r.how === 'released' ? 'Released' : 'Dry run: would release';
    const effect = r.imageDeleted ? 'it was its last tag, so the image is deleted' : 'its other tags stay';
    return [
      `  ${verb} the protection ${r.tag}: no workload uses ${shortDigest(r.digest)} and it was last used ` +
        `${r.lastUsedAt ?? '?'} (more than ${settings.releaseAfterDays} days ago); ${effect}.`,
    ];
  }, (more) => {
    const how = releases.some((r) => r.how === 'released') ? 'released' : 'the dry run would release';
    return `  ... and ${countOf(more, 'more protection')} ${how}.`;
  }));
  if (releases.some((r) => r.how === 'released')) events.push('protection-released');
  if (releases.some((r) => r.how === 'would-release')) events.push('would-release');
  lines.push(...lister.list(report.mismatched, (m) => [
    `  The tag ${m.tag} is on ${shortDigest(m.digest)}, another image than the digest it names: ` +
      'the guard never removes it. Check who created it.',
  ], (more) => `  ... and ${countOf(more, 'more protective-looking tag')} on another image than the one it names.`));
  if (report.mismatched.length) events.push('protective-tag-mismatch');
  const paused = report.releasesPaused;
  if (paused) {
    events.push('releases-paused');
    lines.push(...releasesPausedSection(paused, settings, lister));
  }
  // An in-use image a rule claims now is imminent loss: alert every run until fixed. A rule that could claim
  // protective tags but claims no in-use image yet only rides along with an alert sent for another reason.
  const imminent = (report.lifecycle?.risks ?? []).filter((r) => r.digests.length > 0);
  if (imminent.length) events.push('lifecycle-risk');
  if (report.shield?.outcome === 'installed') events.push('lifecycle-shield-installed');
  const lifecycleLines = lifecycleSection(report);
  if (!base && lines.length === 0 && !imminent.length && report.shield?.outcome !== 'installed') return undefined;
  lines.push(...lifecycleLines);

  const section = ['', 'SCHEDULED RECONCILE', ...lines].join('\n');
  const reconcileJson = {
    releases: report.releases,
    mismatched: report.mismatched,
    ...(report.lifecycle ? { lifecycle: report.lifecycle } : {}),
    ...(report.shield ? { shield: report.shield } : {}),
    ...(paused ? { releasesPaused: paused } : {}),
  };
  if (base) {
    const allEvents = [...base.events, ...events];
    return {
      ...base,
      severity: imminent.length ? 'CRITICAL' : base.severity,
      text: lines.length ? base.text + '\n' + section : base.text,
      json: { ...(base.json as object), events: allEvents, reconcile: reconcileJson },
      events: allEvents,
      abridged: base.abridged || lister.leftOut > 0,
    };
  }
  const severity = imminent.length ? 'CRITICAL' : report.mismatched.length || paused ? 'WARNING' : 'INFO';
  const p = report.protection;
  const released = releases.filter((r) => r.how === 'released').length;
  const subject =
    released > 0
      ? `ECR digest guard: protection released on ${released} image${released === 1 ? '' : 's'} in `
      : releases.length > 0
        ? `ECR digest guard: Dry run: would release protection on ${countOf(releases.length, 'image')} in `
        : imminent.length
          ? 'ECR digest guard: CRITICAL: lifecycle policy would expire in-use images in '
          : report.shield?.outcome === 'installed'
            ? 'ECR digest guard: lifecycle shield rule added in '
            : paused
              ? 'ECR digest guard: releases paused (incomplete inventory) in '
              : 'ECR digest guard: protective tag on another image in ';
  return {
    subject: toAlertSubject(subject, p.repository),
    text: [`${severity}: ECR digest guard, repository ${p.repository} (account ${p.account}, ${p.region})`, section].join('\n'),
    json: { schema: 'ecr-digest-guard/alert@1', severity, events, account: p.account, region: p.region, repository: p.repository, dryRun: p.dryRun, reconcile: reconcileJson },
    severity,
    repository: p.repository,
    events,
    abridged: lister.leftOut > 0,
  };
}

async function alertFailures(run: ReconcileRun, failed: readonly { repository: string; error: unknown }[], deps: ReconcileDependencies): Promise<number> {
  const names = failed.map((f) => f.repository);
  const text = [
    `WARNING: ECR digest guard, scheduled reconcile (account ${run.account}, ${run.region})`,
    '',
    `The reconcile could not check ${names.length} repositor${names.length === 1 ? 'y' : 'ies'}; the next scheduled run tries again:`,
    ...new EntryLister().list(
      failed,
      (f) => [`  - ${f.repository}: ${(f.error as Error)?.message ?? String(f.error)}`],
      (more) => `  - ... and ${countOf(more, 'more repository', 'more repositories')}, each logged with its error.`,
    ),
    '',
    'Check the function role can call ECR on these repositories, and the function logs for the full error.',
  ].join('\n');
  try {
    await deps.alerts.publish({
      subject: `ECR digest guard: reconcile could not check ${names.length} repositor${names.length === 1 ? 'y' : 'ies'}`,
      text,
      json: { schema: 'ecr-digest-guard/alert@1', severity: 'WARNING', events: ['reconcile-failed'], account: run.account, region: run.region, repositories: names },
      severity: 'WARNING',
      repository: '',
      events: ['reconcile-failed'],
    });
    return 1;
  } catch (error) {
    deps.logger.error('could not publish the reconcile failure alert', { error });
    return 0;
  }
}

/** Why protections due for release were kept, what could not be seen, and how to let releases resume. */
function releasesPausedSection(
  paused: NonNullable<RepositoryReconcileReport['releasesPaused']>,
  settings: ReconcileSettings,
  lister: EntryLister,
): string[] {
  const n = paused.digests.length;
  return [
    `  Releases paused: ${n} protection${n === 1 ? ' is' : 's are'} due for release (no known use for more than ` +
      `${settings.releaseAfterDays} days),`,
    ...lister.list(paused.digests, (digest) => [`    - ${digest}`], (more) => `    - ... and ${countOf(more, 'more')}`),
    '  but the inventory could not see everything that may use this repository, and a release on an incomplete',
    '  picture can delete an image a workload still needs. What could not be seen:',
    ...lister.list(
      paused.gaps,
      (gap) => [`    - ${gap.reason}${gap.repositories ? '' : ' (could concern any repository)'}`],
      (more) => `    - ... and ${countOf(more, 'more')}`,
    ),
    '  What to do: close these gaps. For a service whose revision cannot be described, redeploy the service',
    '  (ECS then records a service revision the guard can read) or name its image by digest; a resource deleted',
    '  or a call that failed while the inventory was taken clears by itself. Releases resume on the first run',
    '  that sees everything.',
  ];
}

/** The lifecycle part of an alert: which rule, why, and the fix to paste (or what the opt-in install did). */
function lifecycleSection(report: RepositoryReconcileReport): string[] {
  const findings = report.lifecycle;
  const lines: string[] = [];
  if (findings?.policy === 'unreadable') lines.push(`  The lifecycle policy could not be read, so its risk is unknown: ${findings.problems.join('; ')}`);
  for (const risk of findings?.risks ?? []) {
    const who = risk.digests.length ? `It claims in-use image${risk.digests.length === 1 ? '' : 's'} ${risk.digests.map(shortDigest).join(', ')} now (${risk.evidence}).` : 'It claims no in-use image yet.';
    lines.push(`  Lifecycle rule ${risk.rulePriority}${risk.description ? ` ("${risk.description}")` : ''} can ${risk.action} a protected image: ${risk.why} ${who}`);
  }
  if (report.shield?.outcome === 'installed') lines.push(`  Added the shield rule at the top of the lifecycle policy${report.shield.renumbered ? ' (the existing rules moved down one priority, order kept)' : ''}.`);
  else if (report.shield?.outcome === 'refused') lines.push(`  Did not add the shield rule: ${report.shield.reason}`);
  else if (findings?.fix) lines.push(`  Fix: add this rule with the highest priority (the lowest rulePriority), keeping the others:`, `    ${JSON.stringify(JSON.parse(findings.fix.ruleJson))}`, `  ${findings.fix.note}`);
  return lines;
}
