/**
 * One batch of image events (pushes, deletions, lifecycle expiries), end to end, over the ports: group by
 * repository, take ONE fresh inventory, decide per repository, protect, alert. It returns which messages
 * failed so the queue retries only those.
 * Everything here is deterministic given the ports, so it runs unchanged on the simulated account.
 */
import { buildRepositoryAlert, findQuickTagMoves, type ProtectedDigest, type RepositoryReport, type RestoreResult } from './alert';
import type { PossiblyInUse } from './alert';
import { alertLogParts, countOf, cutTextToBytes, escapedBytes, withFullList } from './alert-size';
import { INDEX_MANIFEST_MEDIA_TYPES } from './manifest-media-types';
import { mapWithConcurrency } from './concurrency';
import { findUntaggedInUseDigests, tagsNamedBy, type RepositoryFindings } from './decide';
import { RepositoryNotFoundError } from './errors';
import { gapsConcerning } from './inventory';
import type { Alert, AlertPort, EcrPort, GuardLogger, GuardMetrics, InventoryPort, PusherLookup } from './ports';
import { isProtectiveTag } from './protective-tag';
import { isPush, type Consumer, type Digest, type GuardSettings, type ImageEvent, type ImageState, type Inventory, type PusherFindings, type PushEvent } from './types';
import type { InventoryGap } from './types';

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

export async function guardPushedRepositories(
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
      logger.info('ignoring a push of the guard\'s own protective tag', { repository: event.repository, tag: event.tag });
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
    inventory = await deps.inventory.takeInventory();
  } catch (error) {
    logger.error('could not take the in-use inventory; the whole batch will be retried, then sent to the dead-letter queue', {
      error,
      repositories: [...byRepository.keys()],
      whatToDo: 'check the function role can call the ECS List*/Describe* and Lambda ListFunctions/GetFunction/ListAliases actions, and that neither service is throttling the account',
    });
    deps.metrics?.count('InventoryFailures', 1);
    return { failedMessageIds: [...new Set([...byRepository.values()].flat().map((e) => e.messageId))], reports: [] };
  }
  for (const gap of inventory.gaps) logger.warn('inventory gap', { gap });

  const results = await mapWithConcurrency([...byRepository], deps.concurrency ?? 4, async ([repository, repositoryEvents]) => {
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
  });
  return {
    // one lifecycle message names up to 10 images, which may sit in one or more repositories
    failedMessageIds: [...new Set(results.flatMap((r) => r.failed ?? []))],
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
    { account: first.account, region: first.region, pushes, deletes, gaps: openGaps.map((gap) => gap.reason) },
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
  deps: Pick<GuardDependencies, 'ecr' | 'logger'>,
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

/** Where the in-use digests of one repository were found, and what the report should carry besides them. */
export interface ProtectionContext {
  readonly account: string;
  readonly region: string;
  /** the pushes that led here (none for a scheduled reconcile) */
  readonly pushes: readonly PushEvent[];
  /** the deletions and lifecycle actions that led here */
  readonly deletes?: readonly ImageEvent[];
  readonly gaps: readonly string[];
}

/**
 * The one protect path, shared by the push handler and the scheduled reconcile: describe the in-use
 * digests of one repository, decide with `findUntaggedInUseDigests`, add the protective tags (or say what
 * it would add, in dry run) and return the report. It publishes nothing: each caller sends one alert.
 */
export async function protectInUseDigests(
  repository: string,
  inUseAsSeen: ReadonlyMap<Digest, readonly Consumer[]>,
  context: ProtectionContext,
  settings: GuardSettings,
  deps: Pick<GuardDependencies, 'ecr' | 'logger'>,
): Promise<{ report: RepositoryReport; findings?: RepositoryFindings; states: readonly ImageState[]; inUse: ReadonlyMap<Digest, readonly Consumer[]> }> {
  const { logger } = deps;
  let inUse = inUseAsSeen;
  const report = {
    account: context.account,
    region: context.region,
    repository,
    dryRun: settings.dryRun,
    tagPrefix: settings.tagPrefix,
    pushes: context.pushes,
    deletes: context.deletes ?? [],
    protected: [] as ProtectedDigest[],
    gone: [] as RepositoryReport['gone'][number][],
    archived: [] as RepositoryReport['archived'][number][],
    restores: [] as RestoreResult[],
    refused: [] as RepositoryReport['refused'][number][],
    gaps: context.gaps,
  };
  if (inUse.size === 0) {
    logger.info('no workload uses this repository: nothing to protect', { repository });
    return { report, states: [], inUse };
  }

  let states: ImageState[];
  try {
    states = await deps.ecr.describeDigests(repository, [...inUse.keys()]);
    ({ inUse, states } = await withIndexChildren(repository, inUse, states, deps.ecr));
  } catch (error) {
    if (!(error instanceof RepositoryNotFoundError)) throw error;
    // The repository was deleted after the push: every in-use digest of it is gone.
    states = [...inUse.keys()].map((digest): ImageState => ({ digest, present: false }));
  }
  const findings = findUntaggedInUseDigests(repository, inUse, states, settings.tagPrefix);
  report.gone.push(...findings.gone);
  report.archived.push(...findings.archived);
  report.restores.push(...(await restoreArchived(repository, findings.archived, states, settings, deps)));

  for (const item of findings.toProtect) {
    const digestLog = { repository, digest: item.digest, tag: item.tag };
    if (settings.dryRun) {
      logger.warn('dry run: would protect an in-use digest that has no tag', digestLog);
      report.protected.push({ ...item, how: 'would-tag' });
      continue;
    }
    const outcome = await deps.ecr.addProtectiveTag(repository, item.digest, item.tag);
    switch (outcome.outcome) {
      case 'tagged':
        logger.warn('protected an in-use digest that had no tag left', digestLog);
        report.protected.push({ ...item, how: 'tagged' });
        break;
      case 'already-tagged':
        // Another invocation protected it between our describe and our put: reported by that one.
        logger.info('protective tag already in place', digestLog);
        break;
      case 'image-missing':
        logger.error('an in-use digest vanished before it could be protected', digestLog);
        report.gone.push({ digest: item.digest, consumers: item.consumers });
        break;
      case 'tag-taken':
        logger.error('the protective tag names another image; not moved', { ...digestLog, otherDigest: outcome.otherDigest });
        report.refused.push({
          digest: item.digest,
          consumers: item.consumers,
          reason: `the tag ${item.tag} already names ${outcome.otherDigest ?? 'another image'}, and the guard never moves a tag`,
        });
        break;
      case 'unsupported-media-type':
        logger.error('cannot re-put this manifest media type', { ...digestLog, mediaType: outcome.mediaType });
        report.refused.push({
          digest: item.digest,
          consumers: item.consumers,
          reason: `its manifest media type ${outcome.mediaType ?? '(unknown)'} cannot be re-put with a new tag`,
        });
        break;
    }
  }
  for (const g of report.gone) logger.error('an in-use digest is gone: the next task launch will fail; redeploy', { repository, digest: g.digest });
  return { report, findings, states, inUse };
}

/**
 * Publishes an alert. If SNS still fails after the SDK's retries, the protection already stands: failing the
 * message would only redeliver it to a guard that finds its tag in place and has nothing new to say (and
 * re-alerting every protection in place on any redelivery sends duplicates). So the alert is logged, as an
 * error a person can read, and counted (`AlertPublishFailures`, which has an alarm).
 * Before publishing, every entry of the alert is logged in parts that each fit one CloudWatch Logs event (the
 * text lists the first of each kind, the JSON as many as fit in an SNS message); the alert names the query that
 * returns them.
 */
export async function publishOrLog(
  alert: Alert,
  deps: Pick<GuardDependencies, 'alerts' | 'logger' | 'metrics' | 'alertLogGroup'>,
): Promise<boolean> {
  const delivered = withFullList(alert, deps.alertLogGroup);
  for (const part of alertLogParts(delivered)) {
    deps.logger.warn('alert entries: one part of the full list of an alert', { ...part });
  }
  try {
    await deps.alerts.publish(delivered);
    deps.metrics?.count('AlertsPublished', 1);
    return true;
  } catch (error) {
    const { alertId, query } = delivered.fullList;
    deps.logger.error('could not publish an alert; what it says follows, and the guard\'s changes stand', {
      repository: alert.repository,
      alertId,
      error,
      severity: alert.severity,
      subject: alert.subject,
      text: cutTextToBytes(delivered.text, LOGGED_ALERT_TEXT_BYTES, escapedBytes, (more) =>
        `[${countOf(more, 'more line')} of this alert left out to fit one log event; ` +
        `every entry is logged as alert ${alertId}.]`),
      query,
      whatToDo:
        'check sns:Publish and the topic key policy for the function role; read the alert here, and its ' +
        'entries with the query',
    });
    deps.metrics?.count('AlertPublishFailures', 1);
    return false;
  }
}

/** The alert text in the publish-failure log line: with the error and the Logger's keys, well within one event. */
const LOGGED_ALERT_TEXT_BYTES = 128 * 1024;

/**
 * Adds what in-use image indexes reference: a multi-platform push leaves the per-platform manifests
 * untagged, and no AWS document says a lifecycle rule spares the children of an index it does not expire
 * (ECR only refuses a direct BatchDeleteImage of a referenced child: `ImageReferencedByManifestList`). So
 * the children are protected like the index, with its consumers. Costs nothing for single-platform images:
 * only digests whose media type is an index are read.
 */
export async function withIndexChildren(
  repository: string,
  inUse: ReadonlyMap<Digest, readonly Consumer[]>,
  states: ImageState[],
  ecr: EcrPort,
): Promise<{ inUse: ReadonlyMap<Digest, readonly Consumer[]>; states: ImageState[] }> {
  const indexes = states.filter((s) => s.present && INDEX_MANIFEST_MEDIA_TYPES.includes(s.manifestMediaType ?? '')).map((s) => s.digest);
  if (indexes.length === 0) return { inUse, states };
  const childrenOf = await ecr.referencedManifests(repository, indexes);
  const expanded = new Map<Digest, readonly Consumer[]>(inUse);
  for (const [index, children] of childrenOf) {
    for (const child of children) {
      const known = expanded.get(child) ?? [];
      expanded.set(child, [...known, ...(inUse.get(index) ?? []).filter((c) => !known.includes(c))]);
    }
  }
  const described = new Set(states.map((s) => s.digest));
  const newChildren = [...expanded.keys()].filter((digest) => !described.has(digest));
  const childStates = newChildren.length ? await ecr.describeDigests(repository, newChildren) : [];
  return { inUse: expanded, states: [...states, ...childStates] };
}

/**
 * Archived images cannot be pulled: an in-use one is restored (`UpdateImageStorageClass` to STANDARD, up to
 * about 20 minutes); one already ACTIVATING is left to finish; dry run only says what it would do.
 */
async function restoreArchived(
  repository: string,
  archived: RepositoryFindings['archived'],
  states: readonly ImageState[],
  settings: GuardSettings,
  deps: Pick<GuardDependencies, 'ecr' | 'logger'>,
): Promise<RestoreResult[]> {
  const restores: RestoreResult[] = [];
  const stateOf = new Map(states.map((s) => [s.digest, s]));
  for (const item of archived) {
    const state = stateOf.get(item.digest);
    if (state?.present && state.storageStatus === 'ACTIVATING') {
      restores.push({ digest: item.digest, consumers: item.consumers, how: 'restore-in-progress' });
      continue;
    }
    if (settings.dryRun) {
      restores.push({ digest: item.digest, consumers: item.consumers, how: 'would-restore' });
      continue;
    }
    const outcome = await deps.ecr.restoreArchivedImage(repository, item.digest);
    if (outcome.outcome === 'restoring') {
      deps.logger.error('restoring an archived image that is in use', { repository, digest: item.digest, status: outcome.status });
      restores.push({ digest: item.digest, consumers: item.consumers, how: 'restore-started' });
    } else {
      deps.logger.error('could not restore an archived image that is in use', { repository, digest: item.digest, outcome });
      restores.push({ digest: item.digest, consumers: item.consumers, how: 'restore-failed', detail: outcome.outcome === 'not-supported' ? outcome.reason : 'the image is gone' });
    }
  }
  return restores;
}

/** The in-use digests of a repository with what in-use indexes reference (one DescribeImages per 100 first). */
export async function inUseWithIndexChildren(
  repository: string,
  inUse: ReadonlyMap<Digest, readonly Consumer[]>,
  ecr: EcrPort,
): Promise<ReadonlyMap<Digest, readonly Consumer[]>> {
  if (inUse.size === 0) return inUse;
  return (await withIndexChildren(repository, inUse, await ecr.describeDigests(repository, [...inUse.keys()]), ecr)).inUse;
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
async function lookUpPushers(report: RepositoryReport, lookup: PusherLookup, logger: GuardLogger): Promise<PusherFindings | undefined> {
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
    logger.warn('could not look up who pushed; the alert goes out without names', { repository: report.repository, error });
    return undefined;
  }
}
