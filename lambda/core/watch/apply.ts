/**
 * The watch: ECS task state changes applied to the in-use index, one write per task event, and a digest the
 * index sees in use for the first time checked and protected at once.
 * - Add fast: a task that runs (or is about to) adds or refreshes an entry per ECR digest it runs
 *   (kind `ecs-task`, name the task ARN, `seenBy` watch, `lastSeen` the event's time). The write is conditional
 *   on being newer (`lastSeen`, then `detail.version`), so duplicates and reordered events change nothing.
 * - Remove slow: a STOPPED task adds nothing and removes nothing; only a complete list removes.
 * - No ECS call: the event carries the digests.
 * - First seen: a digest no other user had in the index may have been resolved from a tag that has moved
 *   since (a push racing a deployment), and the push path, reading the index, would not have protected it.
 *   The watcher checks it with the push path's own protect step and alerts as the push path does.
 * Pure apart from the ports.
 */
import { buildRepositoryAlert } from '../alert';
import { publishOrLog } from '../alert-publish';
import { mapWithConcurrency } from '../concurrency';
import { parseImageUri } from '../image-uri';
import { entrySortKey, imagePartitionKey } from '../in-use-index/keys';
import type { AccountRegion, InUseEntry } from '../in-use-index/types';
import type { AlertPort, EcrPort, GuardLogger, GuardMetrics, InUseIndexWatchPort } from '../ports';
import { protectInUseDigests } from '../protect';
import type { RepositoryReport } from '../repository-report';
import type { Consumer, Digest, GuardSettings } from '../types';
import { parseTaskStateChangeRecord, type TaskStateChange } from './task-event';

const DIGEST = /^sha256:[a-f0-9]{64}$/;

export interface WatchDependencies {
  readonly index: InUseIndexWatchPort;
  /** the guard's own registry: only its digests can be checked and protected here */
  readonly registry: AccountRegion;
  readonly ecr: EcrPort;
  readonly alerts: AlertPort;
  readonly logger: GuardLogger;
  readonly metrics?: GuardMetrics;
  readonly alertLogGroup?: string;
  /** task events written at once @default 8 */
  readonly concurrency?: number;
}

export interface WatchOutcome {
  readonly failedMessageIds: readonly string[];
  /** index write requests made (≤ 1 per task event, plus a rare retry of a mixed multi-item write) */
  readonly indexWrites: number;
  /** digests seen in use for the first time, then checked */
  readonly firstSeen: readonly { readonly repository: string; readonly digest: Digest }[];
  readonly reports: readonly RepositoryReport[];
}

/** The index entries of one task event: one per ECR digest a container runs (ECR images only). */
export function entriesOfTaskEvent(event: TaskStateChange): InUseEntry[] {
  const entries = new Map<string, InUseEntry>();
  for (const container of event.containers) {
    if (!container.image || !container.imageDigest || !DIGEST.test(container.imageDigest)) continue;
    // The registry comes from the URI: a task pulling from another region's or account's registry keys that one.
    const ref = parseImageUri(container.image);
    if (!ref) continue;
    const entry: InUseEntry = {
      registryAccount: ref.registryId,
      registryRegion: ref.region,
      repository: ref.repository,
      digest: container.imageDigest,
      consumerAccount: event.account,
      consumerRegion: event.region,
      kind: 'ecs-task',
      name: event.taskArn,
      seenBy: 'watch',
      lastSeen: event.time.getTime(),
      image: container.image,
    };
    entries.set(`${imagePartitionKey(entry)}|${entrySortKey(entry)}`, entry);
  }
  return [...entries.values()];
}

/** Applies one SQS batch of task events; never throws for a bad record, reports it as that record's failure. */
export async function watchTaskEvents(
  records: readonly { messageId: string; body: string; attributes?: { ApproximateReceiveCount?: string } }[],
  settings: GuardSettings,
  deps: WatchDependencies,
): Promise<WatchOutcome> {
  const { logger } = deps;
  const failed = new Set<string>();
  const events: TaskStateChange[] = [];
  for (const record of records) {
    const parsed = parseTaskStateChangeRecord(record);
    if (parsed.ok) {
      events.push(parsed.event);
      continue;
    }
    const messageId = typeof record?.messageId === 'string' ? record.messageId : undefined;
    logger.error('malformed task event: reported as failed; after the retries it lands in the dead-letter queue', {
      messageId,
      reason: parsed.reason,
      whatToDo: 'inspect the message in the dead-letter queue; only "ECS Task State Change" events belong there',
    });
    deps.metrics?.count('MalformedEvents', 1);
    if (messageId) failed.add(messageId);
  }

  let writes = 0;
  // digest → the task events that first showed it, grouped per repository of the own registry
  const toCheck = new Map<string, Map<Digest, { consumers: Consumer[]; messageIds: Set<string> }>>();
  await mapWithConcurrency(events, deps.concurrency ?? 8, async (event) => {
    // A stopped task uses nothing any more, but its entry stays until a complete list removes it.
    if (event.lastStatus === 'STOPPED') return;
    const entries = entriesOfTaskEvent(event);
    if (entries.length === 0) return;
    try {
      const outcomes = await deps.index.recordWatchedUse(entries, event.version);
      writes += 1;
      for (const [i, entry] of entries.entries()) {
        const outcome = outcomes[i];
        // A redelivery may follow a check that failed after the write: the write is then `not-newer`, so a
        // retry asks again instead of trusting it.
        const maybeNew = outcome === 'created' || outcome === 'written' || event.attempt > 1;
        if (!maybeNew || !ownRegistry(entry, deps.registry) || !inScope(entry.repository, settings)) continue;
        if (await deps.index.hasOtherUsers(entry)) continue;
        logger.info('digest seen in use for the first time: checking it now', {
          repository: entry.repository,
          digest: entry.digest,
          task: event.taskArn,
        });
        const digests = toCheck.get(entry.repository) ?? new Map();
        toCheck.set(entry.repository, digests);
        const seen = digests.get(entry.digest) ?? { consumers: [], messageIds: new Set<string>() };
        seen.consumers.push(consumerOf(event, entry));
        seen.messageIds.add(event.messageId);
        digests.set(entry.digest, seen);
      }
      for (const entry of entries) {
        if (!ownRegistry(entry, deps.registry)) {
          logger.info('a task runs an image of another registry: indexed; its own guard protects it', {
            registry: `${entry.registryAccount}/${entry.registryRegion}`,
            repository: entry.repository,
            digest: entry.digest,
          });
        }
      }
    } catch (error) {
      logger.error('could not write a task event to the in-use index; it will be retried, then dead-lettered', {
        messageId: event.messageId,
        task: event.taskArn,
        error,
        whatToDo: 'check the watch role may call dynamodb:UpdateItem, TransactWriteItems and Query on the table',
      });
      deps.metrics?.count('InUseIndexFailures', 1);
      failed.add(event.messageId);
    }
  });

  const reports: RepositoryReport[] = [];
  const firstSeen: { repository: string; digest: Digest }[] = [];
  for (const [repository, digests] of toCheck) {
    const inUse = new Map([...digests].map(([digest, seen]) => [digest, seen.consumers]));
    firstSeen.push(...[...inUse.keys()].map((digest) => ({ repository, digest })));
    try {
      const { report } = await protectInUseDigests(
        repository,
        inUse,
        { account: deps.registry.account, region: deps.registry.region, pushes: [], gaps: [] },
        settings,
        deps,
      );
      reports.push(report);
      const alert = buildRepositoryAlert(report);
      if (alert) await publishOrLog(alert, deps);
      deps.metrics?.count('ProtectedDigests', report.protected.filter((p) => p.how === 'tagged').length);
      deps.metrics?.count('GoneDigests', report.gone.length);
    } catch (error) {
      logger.error('could not check a digest seen in use for the first time; its events will be retried', {
        repository,
        error,
        whatToDo: 'check ECR permissions on this repository and SNS publish on the alert topic',
      });
      deps.metrics?.count('RepositoryFailures', 1);
      for (const seen of digests.values()) for (const id of seen.messageIds) failed.add(id);
    }
  }
  deps.metrics?.count('WatchedTaskEvents', events.length);
  return { failedMessageIds: [...failed], indexWrites: writes, firstSeen, reports };
}

function ownRegistry(entry: InUseEntry, registry: AccountRegion): boolean {
  return entry.registryAccount === registry.account && entry.registryRegion === registry.region;
}

function inScope(repository: string, settings: GuardSettings): boolean {
  return !settings.repositories?.length || settings.repositories.includes(repository);
}

function consumerOf(event: TaskStateChange, entry: InUseEntry): Consumer {
  const cluster = event.clusterArn?.split('/').pop();
  const service = event.group?.startsWith('service:') ? event.group.slice('service:'.length) : undefined;
  const container = event.containers.find((c) => c.imageDigest === entry.digest && c.image === entry.image)?.name;
  return {
    ...(container ? { container } : {}),
    kind: 'ecs-task',
    arn: event.taskArn,
    image: entry.image ?? entry.repository,
    ...(cluster ? { cluster } : {}),
    ...(service ? { service } : {}),
  };
}
