/**
 * One batch of pushes, end to end, over the ports: group by repository, take ONE fresh inventory, decide
 * per repository, protect, alert. It returns which messages failed so the queue retries only those.
 * Everything here is deterministic given the ports, so it runs unchanged on the simulated account.
 */
import { buildRepositoryAlert, type ProtectedDigest, type RepositoryReport, type RestoreResult } from './alert';
import { INDEX_MANIFEST_MEDIA_TYPES } from './manifest-media-types';
import { mapWithConcurrency } from './concurrency';
import { findUntaggedInUseDigests, type RepositoryFindings } from './decide';
import { RepositoryNotFoundError } from './errors';
import type { Alert, AlertPort, EcrPort, InventoryPort } from './ports';
import { isProtectiveTag } from './protective-tag';
import type { Consumer, Digest, GuardSettings, ImageState, Inventory, PushEvent } from './types';

export interface GuardLogger {
  info(message: string, ...extra: Record<string, unknown>[]): void;
  warn(message: string, ...extra: Record<string, unknown>[]): void;
  error(message: string, ...extra: Record<string, unknown>[]): void;
}

export interface GuardMetrics {
  count(name: string, value: number): void;
}

export interface GuardDependencies {
  readonly ecr: EcrPort;
  readonly inventory: InventoryPort;
  readonly alerts: AlertPort;
  readonly logger: GuardLogger;
  readonly metrics?: GuardMetrics;
  /** repositories handled at once (ECR calls in flight) @default 4 */
  readonly concurrency?: number;
}

export interface BatchOutcome {
  /** queue message ids to report as failed: the queue redelivers them, then moves them to the DLQ */
  readonly failedMessageIds: readonly string[];
  readonly reports: readonly RepositoryReport[];
  /** the inventory this batch used, if one was needed */
  readonly inventory?: Inventory;
}

export async function guardPushedRepositories(
  events: readonly PushEvent[],
  settings: GuardSettings,
  deps: GuardDependencies,
): Promise<BatchOutcome> {
  const { logger } = deps;
  const inScope = settings.repositories?.length ? new Set(settings.repositories) : undefined;
  const byRepository = new Map<string, PushEvent[]>();
  for (const event of events) {
    if (event.tag && isProtectiveTag(event.tag, settings.tagPrefix)) {
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
    return { failedMessageIds: [...byRepository.values()].flat().map((e) => e.messageId), reports: [] };
  }
  for (const gap of inventory.gaps) logger.warn('inventory gap', { gap });

  const results = await mapWithConcurrency([...byRepository], deps.concurrency ?? 4, async ([repository, pushes]) => {
    try {
      return { report: await guardRepository(repository, pushes, inventory, settings, deps) };
    } catch (error) {
      logger.error('could not guard a repository; its events will be retried, then sent to the dead-letter queue', {
        repository,
        error,
        messageIds: pushes.map((p) => p.messageId),
        whatToDo: 'see the error; check ECR permissions on this repository and SNS publish on the alert topic',
      });
      deps.metrics?.count('RepositoryFailures', 1);
      return { failed: pushes.map((p) => p.messageId) };
    }
  });
  return {
    failedMessageIds: results.flatMap((r) => r.failed ?? []),
    reports: results.flatMap((r) => (r.report ? [r.report] : [])),
    inventory,
  };
}

async function guardRepository(
  repository: string,
  pushes: readonly PushEvent[],
  inventory: Inventory,
  settings: GuardSettings,
  deps: GuardDependencies,
): Promise<RepositoryReport> {
  const first = pushes[0]!;
  const inUse = inventory.byRepository.get(repository) ?? new Map();
  const { report } = await protectInUseDigests(
    repository,
    inUse,
    { account: first.account, region: first.region, pushes, gaps: inventory.gaps },
    settings,
    deps,
  );
  if (inUse.size === 0) return report;

  const alert = buildRepositoryAlert(report);
  if (alert) await publishOrLog(alert, deps);
  deps.metrics?.count('ProtectedDigests', report.protected.filter((p) => p.how === 'tagged').length);
  deps.metrics?.count('GoneDigests', report.gone.length);
  return report;
}

/** Where the in-use digests of one repository were found, and what the report should carry besides them. */
export interface ProtectionContext {
  readonly account: string;
  readonly region: string;
  /** the pushes that led here (none for a scheduled reconcile) */
  readonly pushes: readonly PushEvent[];
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
 * re-alerting every protection in place on any redelivery sends duplicates). So the alert is logged in full,
 * as an error a person can read, and counted (`AlertPublishFailures`, which has an alarm).
 */
export async function publishOrLog(alert: Alert, deps: Pick<GuardDependencies, 'alerts' | 'logger' | 'metrics'>): Promise<boolean> {
  try {
    await deps.alerts.publish(alert);
    deps.metrics?.count('AlertsPublished', 1);
    return true;
  } catch (error) {
    deps.logger.error('could not publish an alert; what it says follows, and the guard\'s changes stand', {
      repository: alert.repository,
      error,
      severity: alert.severity,
      subject: alert.subject,
      text: alert.text,
      whatToDo: 'check sns:Publish and the topic key policy for the function role; read the alert here',
    });
    deps.metrics?.count('AlertPublishFailures', 1);
    return false;
  }
}

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
