/**
 * One batch of image events (pushes, deletions, lifecycle expiries), end to end, over the ports: group by
 * repository, take ONE fresh inventory, decide per repository, protect, alert. It returns which messages
 * failed so the queue retries only those.
 * Everything here is deterministic given the ports, so it runs unchanged on the simulated account.
 */
import { buildRepositoryAlert } from './alert';
import type { PossiblyInUse, RepositoryReport } from './repository-report';
import { publishOrLog } from './alert-publish';
import { mapWithConcurrency } from './concurrency';
import { findQuickTagMoves, tagsNamedBy } from './decide';
import { RepositoryNotFoundError } from './errors';
import { gapsConcerning } from './inventory';
import type { AlertPort, EcrPort, GuardLogger, GuardMetrics, InventoryPort, PusherLookup } from './ports';
import { protectInUseDigests, type ProtectDependencies } from './protect';
import { isProtectiveTag } from './protective-tag';
import {
  isPush,
  type Consumer,
  type Digest,
  type GuardSettings,
  type ImageEvent,
  type ImageState,
  type Inventory,
  type InventoryGap,
  type PusherFindings,
} from './types';

export interface GuardDependencies {
  readonly ecr: EcrPort;
  readonly inventory: InventoryPort;
  readonly alerts: AlertPort;
  readonly logger: GuardLogger;
  readonly metrics?: GuardMetrics;
  /** names who pushed the tags that moved, in alerts; off when absent */
  readonly pushers?: PusherLookup;
  /** repositories handled at once (ECR calls in flight) @default 4 */
  readonly concurrency?: number;
  /** the function's log group, named in alerts as where their full list is (`AWS_LAMBDA_LOG_GROUP_NAME`) */
  readonly alertLogGroup?: string;
}

export interface BatchOutcome {
  /** queue message ids to report as failed: the queue redelivers them, then moves them to the DLQ */
  readonly failedMessageIds: readonly string[];
  readonly reports: readonly RepositoryReport[];
  /** the inventory this batch used, if one was needed */
  readonly inventory?: Inventory;
}

export async function guardImageEvents(
  events: readonly ImageEvent[],
  settings: GuardSettings,
  deps: GuardDependencies,
): Promise<BatchOutcome> {
  const { logger } = deps;
  const inScope = settings.repositories?.length ? new Set(settings.repositories) : undefined;
  const byRepository = new Map<string, ImageEvent[]>();
  for (const event of events) {
    // Adding a protective tag emits its own PUSH: reacting to it would be a loop. A DELETE of a protective
    // tag is kept: the reconcile's release only removes protection from digests nothing uses (so the
    // inventory finds nothing and nothing is sent), while anyone else removing it from an in-use digest
    // whose only tag it was has deleted that image, which must page.
    if (event.action === 'PUSH' && event.tag && isProtectiveTag(event.tag, settings.tagPrefix)) {
      logger.info("ignoring a push of the guard's own protective tag", {
        repository: event.repository,
        tag: event.tag,
      });
      continue;
    }
    if (inScope && !inScope.has(event.repository)) {
      logger.info('ignoring a push to a repository out of scope', { repository: event.repository });
      continue;
    }
    byRepository.set(event.repository, [...(byRepository.get(event.repository) ?? []), event]);
  }
  if (byRepository.size === 0) return { failedMessageIds: [], reports: [] };

  let inventory: Inventory;
  try {
    inventory = await deps.inventory.takeInventory([...byRepository.keys()]);
  } catch (error) {
    logger.error(
      'could not take the in-use inventory; the whole batch will be retried, then sent to the dead-letter queue',
      {
        error,
        repositories: [...byRepository.keys()],
        whatToDo:
          'check the function role can call the ECS List*/Describe* and Lambda ListFunctions/GetFunction/ListAliases actions, and that neither service is throttling the account',
      },
    );
    deps.metrics?.count('InventoryFailures', 1);
    return { failedMessageIds: [...new Set([...byRepository.values()].flat().map((e) => e.messageId))], reports: [] };
  }
  for (const gap of inventory.gaps) logger.warn('inventory gap', { gap });

  const results = await mapWithConcurrency(
    [...byRepository],
    deps.concurrency ?? 4,
    async ([repository, repositoryEvents]) => {
      try {
        return { report: await guardRepository(repository, repositoryEvents, inventory, settings, deps) };
      } catch (error) {
        logger.error('could not guard a repository; its events will be retried, then sent to the dead-letter queue', {
          repository,
          error,
          messageIds: repositoryEvents.map((e) => e.messageId),
          whatToDo: 'see the error; check ECR permissions on this repository and SNS publish on the alert topic',
        });
        deps.metrics?.count('RepositoryFailures', 1);
        return { failed: repositoryEvents.map((e) => e.messageId) };
      }
    },
  );
  if (inventory.retryBatch) {
    logger.warn('the batch was guarded with what could be seen, and is reported failed to be retried', {
      why: inventory.retryBatch,
    });
  }
  const retried = inventory.retryBatch ? [...byRepository.values()].flat().map((e) => e.messageId) : [];
  return {
    // one lifecycle message names up to 10 images, which may sit in one or more repositories
    failedMessageIds: [...new Set([...results.flatMap((r) => r.failed ?? []), ...retried])],
    reports: results.flatMap((r) => (r.report ? [r.report] : [])),
    inventory,
  };
}

async function guardRepository(
  repository: string,
  events: readonly ImageEvent[],
  inventory: Inventory,
  settings: GuardSettings,
  deps: GuardDependencies,
): Promise<RepositoryReport> {
  const first = events[0]!;
  const inUse = inventory.byRepository.get(repository) ?? new Map();
  const pushes = events.filter(isPush);
  const deletes = events.filter((e) => !isPush(e));
  const openGaps = gapsConcerning(inventory.gaps, repository);
  const protection = await protectInUseDigests(
    repository,
    inUse,
    {
      account: first.account,
      region: first.region,
      pushes,
      deletes,
      // how the inventory was taken (the index not used, and why) is a coverage note, not a gap: it hides nothing
      gaps: [...openGaps.map((gap) => gap.reason), ...(inventory.notes ?? [])],
    },
    settings,
    deps,
  );
  const possiblyInUse = await findPossiblyInUse(repository, deletes, protection.inUse, openGaps, deps);
  if (protection.inUse.size === 0 && possiblyInUse.length === 0) return protection.report;

  let report: RepositoryReport = {
    ...protection.report,
    quickTagMoves: quickTagMovesOf(protection.report, protection.states),
    ...(possiblyInUse.length ? { possiblyInUse } : {}),
  };
  let alert = buildRepositoryAlert(report);
  if (alert && deps.pushers) {
    const pushers = await lookUpPushers(report, deps.pushers, deps.logger);
    if (pushers) {
      report = { ...report, pushers };
      alert = buildRepositoryAlert(report);
    }
  }
  if (alert) await publishOrLog(alert, deps);
  deps.metrics?.count('ProtectedDigests', report.protected.filter((p) => p.how === 'tagged').length);
  deps.metrics?.count('GoneDigests', report.gone.length);
  return report;
}

/**
 * A deletion, expiry or archive of a digest no workload is known to use is harmless only if the inventory saw
 * everything. Where a gap could hide a workload of this repository, the digests such events name that are now
 * gone or archived are reported as possibly in use (one DescribeImages per 100, only then).
 */
async function findPossiblyInUse(
  repository: string,
  deletes: readonly ImageEvent[],
  inUse: ReadonlyMap<Digest, readonly Consumer[]>,
  openGaps: readonly InventoryGap[],
  deps: ProtectDependencies,
): Promise<PossiblyInUse[]> {
  if (openGaps.length === 0) return [];
  const unknown = [...new Set(deletes.map((e) => e.digest))].filter((digest) => !inUse.has(digest));
  if (unknown.length === 0) return [];
  let states: ImageState[];
  try {
    states = await deps.ecr.describeDigests(repository, unknown);
  } catch (error) {
    if (!(error instanceof RepositoryNotFoundError)) throw error;
    states = unknown.map((digest): ImageState => ({ digest, present: false }));
  }
  const found: PossiblyInUse[] = [];
  for (const state of states) {
    if (!state.present) found.push({ digest: state.digest, state: 'gone', gaps: openGaps });
    else if (state.storageStatus === 'ARCHIVED') {
      found.push({ digest: state.digest, state: 'archived', gaps: openGaps });
    }
  }
  for (const p of found) {
    const message = 'a digest went away while the inventory could not see everything: possibly in use';
    deps.logger.warn(message, { repository, ...p });
  }
  return found;
}

/** Tags that left a digest soon after its push, for the digests the guard had to protect (or could not). */
function quickTagMovesOf(report: RepositoryReport, states: readonly ImageState[]): RepositoryReport['quickTagMoves'] {
  const pushedAt = new Map<Digest, Date>();
  for (const state of states) if (state.present && state.pushedAt) pushedAt.set(state.digest, state.pushedAt);
  return findQuickTagMoves(report.pushes, [...report.protected, ...report.refused], pushedAt);
}

/** At most this many pushes are looked up per alert: the lookup is a hint, not an audit. */
export const MAX_PUSHES_TO_ATTRIBUTE = 10;

/**
 * Who pushed the tags the affected workloads were deployed with, for an alert that is being sent anyway.
 * Never fails the alert: any error is logged and the alert goes out without names.
 */
async function lookUpPushers(
  report: RepositoryReport,
  lookup: PusherLookup,
  logger: GuardLogger,
): Promise<PusherFindings | undefined> {
  const affected = [...report.protected, ...report.gone, ...report.archived, ...report.refused];
  const tags = new Set(tagsNamedBy(affected.flatMap((a) => a.consumers)));
  const pushes = report.pushes
    .filter((p) => p.tag !== undefined && tags.has(p.tag))
    .slice(-MAX_PUSHES_TO_ATTRIBUTE)
    .map((p) => ({ tag: p.tag!, digest: p.digest, time: p.time }));
  if (pushes.length === 0) return undefined;
  try {
    return await lookup.findPutImageCallers(report.repository, pushes);
  } catch (error) {
    logger.warn('could not look up who pushed; the alert goes out without names', {
      repository: report.repository,
      error,
    });
    return undefined;
  }
}
