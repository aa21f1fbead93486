/**
 * Releasing protective tags the reconcile no longer needs. Removing an image's last tag deletes the image, so
 * a release is decided on one inventory and made only on a complete, fresh check taken after it, within the
 * run's time box.
 */
import { mapWithConcurrency } from '../concurrency';
import { gapsConcerning } from '../inventory';
import type { InventoryPort, ProtectedImage, ReleaseOutcome } from '../ports';
import { inUseWithIndexChildren } from '../protect';
import { isProtectiveTag, protectiveTagFor } from '../protective-tag';
import type { Consumer, Digest, Inventory, InventoryGap } from '../types';
import type {
  ReconcileDependencies,
  ReconcileSettings,
  ReleaseCandidate,
  ReleaseResult,
  RepositoryWork,
} from './types';

const DAY_MS = 86_400_000;
/**
 * "Amazon ECR refreshes the last image pull timestamp at least once every 24 hours" (ImageDetail
 * .lastRecordedPullTime, botocore/data/ecr/2015-09-21/service-2.json): a digest pulled an hour ago may
 * still show a pull from 24 hours before. Release therefore waits this much longer than the grace period.
 */
export const PULL_TIME_REFRESH_LAG_MS = DAY_MS;
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

export async function findReleaseCandidates(
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
        deps.logger.warn('a protective-looking tag names another image than the digest it encodes; never removed', {
          repository: work.repository,
          tag,
          digest: image.digest,
        });
        work.mismatched.push({ digest: image.digest, tag });
        continue;
      }
      if (inUse.has(image.digest)) continue;
      // The last sign of use: the recorded pull, or the push when ECR never recorded a pull (an image
      // pushed and protected but never run from this registry). Either can lag behind a real pull by up to
      // a day, hence the refresh lag on top of the grace period.
      const lastUsedAt = image.lastPulledAt ?? image.pushedAt;
      if (!lastUsedAt) {
        work.kept.push({
          digest: image.digest,
          tag,
          how: 'kept',
          reason: 'ECR reports neither a pull nor a push time',
        });
        continue;
      }
      if (now.getTime() - lastUsedAt.getTime() < graceMs + PULL_TIME_REFRESH_LAG_MS) continue;
      const otherTags = image.tags.filter((t) => t !== tag);
      work.candidates.push({ digest: image.digest, tag, imageDeleted: otherTags.length === 0, lastUsedAt });
    }
  }
}

export interface ReleasePhaseResult {
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
export async function releaseCandidates(
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
      deps.logger.info('released a protective tag that is no longer needed', {
        ...log,
        imageDeleted: outcome.imageDeleted,
      });
      return { digest, tag, how: 'released', imageDeleted: outcome.imageDeleted, lastUsedAt };
    case 'tag-moved':
      deps.logger.error('the protective tag names another image now: not removed', {
        ...log,
        otherDigest: outcome.otherDigest,
      });
      return { digest, tag, how: 'kept', reason: `the tag names ${outcome.otherDigest ?? 'another image'} now` };
    case 'tag-gone':
      return { digest, tag, how: 'kept', reason: 'the tag was already gone' };
    case 'referenced-by-index':
      return { digest, tag, how: 'kept', reason: `an image index still references it (${outcome.reason})` };
  }
}
