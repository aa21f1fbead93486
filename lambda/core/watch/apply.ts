/**
 * The watch: ECS task state changes, ECS deployment events and Lambda API calls applied to the in-use index, one
 * write per event, and a digest the index sees in use for the first time checked and protected at once; and the
 * start-impaired actions workloads forward, paged at the onset (start-impaired.ts).
 * - Add fast: a task that runs (or is about to) adds or refreshes an entry per ECR digest it runs
 *   (kind `ecs-task`, name the task ARN, `seenBy` watch, `lastSeen` the event's time). The write is conditional
 *   on being newer (`lastSeen`, then `detail.version`), so duplicates and reordered events change nothing.
 * - Remove slow: a STOPPED task adds nothing and removes nothing; only a complete list removes.
 * - No ECS call: the event carries the digests.
 * - First seen: a digest no other user had in the index may have been resolved from a tag that has moved
 *   since (a push racing a deployment), and the push path, reading the index, would not have protected it.
 *   The watcher checks it with the push path's own protect step and alerts as the push path does.
 * Deployment events and Lambda API calls name a service or function without its digests, so the watch reads that one
 * workload (`WorkloadReadPort`) and writes what it uses, as the list would (same kinds and names, `seenBy` watch):
 * - `SERVICE_DEPLOYMENT_IN_PROGRESS`: one DescribeServices and one DescribeServiceRevisions. While a deployment
 *   rolls, the service's current revisions are both the target and the source revisions, so what a rollback would
 *   relaunch is read by the same two calls (written as `ecs-service`; the list's `ecs-rollback` entries need a
 *   third call, DescribeServiceDeployments, and are left to it).
 * - COMPLETED and FAILED are not read: each ends a deployment whose IN_PROGRESS event (delivered durably, at least
 *   once) already read the revisions it can leave running; reading again would only refresh `lastSeen`, which is
 *   the list's job, at two ECS calls an event. A rollback after a failure starts with its own IN_PROGRESS event.
 *   See: https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs_service_deployment_events.html
 * - An `ECS Daemon Deployment State Change`: one DescribeDaemonRevisions of `targetDaemonRevisionArn`, written as the
 *   list writes it (kind `ecs-daemon`, the revision ARN). Every eventName is read: the event names the revision, so
 *   the read is one call whatever the state, and the documentation pinned here does not say which eventName
 *   starts a deployment (the service handling reads only IN_PROGRESS because it knows). A rollback rolls out an
 *   older revision that the list already indexed.
 *   See: https://docs.aws.amazon.com/AmazonECS/latest/developerguide/managed-daemons-events.html
 * - A Lambda CreateFunction / UpdateFunctionCode / PublishVersion / CreateAlias / UpdateAlias: one GetFunction of
 *   that version (`$LATEST`, the published version, or the alias). An alias weighted across two versions also runs
 *   its `AdditionalVersionWeights` version; that is the version it routed to before, already indexed, and the
 *   list reads it: the watch spends one call, not two.
 * - A workload (account, region) that is neither the guard's own nor listed cannot be read (the watch may assume
 *   only the listed readers): the event is logged and counted (`UnreadableWorkloadEvents`), not failed, since no
 *   retry can read it.
 * - A read that fails (a role that cannot be assumed, throttling after the SDK's retries) fails the record: the
 *   queue retries it, then dead-letters it, and the log line says what to fix.
 * Pure apart from the ports.
 */
import { buildRepositoryAlert } from '../alert';
import { publishOrLog } from '../alert-publish';
import { chunks, mapWithConcurrency } from '../concurrency';
import { parseImageUri } from '../image-uri';
import { consumerName, entrySortKey, imagePartitionKey } from '../in-use-index/keys';
import type { AccountRegion, InUseEntry } from '../in-use-index/types';
import type { AlertPort, EcrPort, GuardLogger, GuardMetrics, InUseIndexWatchPort, WorkloadReadPort } from '../ports';
import { protectInUseDigests } from '../protect';
import type { RepositoryReport } from '../repository-report';
import type { Consumer, Digest, GuardSettings, Inventory, ServiceImpairment } from '../types';
import { workloadReaderRoleName } from '../workloads';
import {
  DEPLOYMENT_IN_PROGRESS,
  type DaemonDeploymentStateChange,
  type DeploymentStateChange,
  type LambdaApiCall,
  parseWatchedRecord,
} from './named-events';
import { watchStartImpaired } from './start-impaired';
import type { TaskStateChange } from './task-event';

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
  /**
   * A reader of one workload (account, region), for the events that name a service or function; absent, such
   * events cannot be read and are logged and counted as unreadable.
   */
  readonly readerFor?: (workload: AccountRegion) => WorkloadReadPort;
  /** the workloads besides the guard's own that the list reaches (every configured account in every region) */
  readonly workloads?: readonly AccountRegion[];
  /**
   * With organizational units the list discovers its accounts at run time, so any account in these regions may be
   * read: only the organization's accounts can put events on the guard's bus (its policy), and a reader role that
   * is missing fails the record, which is retried and then dead-lettered, not dropped.
   */
  readonly anyAccountIn?: readonly string[];
}

/** A DynamoDB transaction holds at most 100 actions; a service's revisions rarely name more than a few images. */
const MAX_ENTRIES_PER_WRITE = 100;

export interface WatchOutcome {
  readonly failedMessageIds: readonly string[];
  /** index write requests made (≤ 1 per task event, plus a rare retry of a mixed multi-item write) */
  readonly indexWrites: number;
  /** digests seen in use for the first time, then checked */
  readonly firstSeen: readonly { readonly repository: string; readonly digest: Digest }[];
  readonly reports: readonly RepositoryReport[];
  /** services and functions read for the events that name one (≤ 1 per such event) */
  readonly workloadReads: number;
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

/** What one event shows in use: the entries to write, with the consumer each stands for (same order). */
interface Sighting {
  readonly messageId: string;
  readonly attempt: number;
  /** orders the writes of one entry that share a time: `detail.version` for a task, 0 for the others */
  readonly version: number;
  readonly entries: readonly InUseEntry[];
  readonly consumers: readonly Consumer[];
  /** names the event's workload in log lines */
  readonly about: Record<string, string>;
}

type Watched =
  | { readonly kind: 'task'; readonly event: TaskStateChange }
  | { readonly kind: 'deployment'; readonly event: DeploymentStateChange }
  | { readonly kind: 'lambda'; readonly event: LambdaApiCall }
  | { readonly kind: 'daemon-deployment'; readonly event: DaemonDeploymentStateChange };

/**
 * Applies one SQS batch of watched events (task and deployment state changes, Lambda API calls); never throws for
 * a bad record, reports it as that record's failure.
 */
export async function watchTaskEvents(
  records: readonly { messageId: string; body: string; attributes?: { ApproximateReceiveCount?: string } }[],
  settings: GuardSettings,
  deps: WatchDependencies,
): Promise<WatchOutcome> {
  const { logger } = deps;
  const failed = new Set<string>();
  const events: Watched[] = [];
  const impairments: ServiceImpairment[] = [];
  for (const record of records) {
    const parsed = parseWatchedRecord(record);
    if (parsed.ok) {
      if (parsed.kind === 'ignored') {
        logger.info('an event the watch does not follow: acknowledged', { eventName: parsed.eventName });
      } else if (parsed.kind === 'impairment') impairments.push(...parsed.impairments);
      else events.push(parsed);
      continue;
    }
    const messageId = typeof record?.messageId === 'string' ? record.messageId : undefined;
    logger.error('malformed task event: reported as failed; after the retries it lands in the dead-letter queue', {
      messageId,
      reason: parsed.reason,
      whatToDo:
        'inspect the message in the dead-letter queue; only "ECS Task State Change", "ECS Deployment State Change", ' +
        '"ECS Daemon Deployment State Change", start-impaired "ECS Service Action" and "ECS Daemon Service ' +
        'Action" and Lambda "AWS API Call via CloudTrail" events belong there',
    });
    deps.metrics?.count('MalformedEvents', 1);
    if (messageId) failed.add(messageId);
  }

  let writes = 0;
  let workloadReads = 0;
  // digest → the events that first showed it, grouped per repository of the own registry
  const toCheck = new Map<string, Map<Digest, { consumers: Consumer[]; messageIds: Set<string> }>>();
  await mapWithConcurrency(events, deps.concurrency ?? 8, async (watched) => {
    let sighting: Sighting | undefined;
    try {
      if (watched.kind === 'task') sighting = sightingOfTask(watched.event);
      else {
        sighting = await readNamedWorkload(watched, deps, () => {
          workloadReads += 1;
        });
      }
    } catch (error) {
      const { event } = watched;
      const own = event.account === deps.registry.account && event.region === deps.registry.region;
      const what =
        watched.kind === 'deployment'
          ? 'the service a deployment event names'
          : watched.kind === 'daemon-deployment'
            ? 'the daemon revision a daemon deployment event names'
            : 'the Lambda function a call names';
      logger.error(`could not read ${what}; the event will be retried, then dead-lettered`, {
        messageId: event.messageId,
        account: event.account,
        region: event.region,
        ...(watched.kind === 'deployment' ? { service: watched.event.serviceArn } : {}),
        ...(watched.kind === 'lambda' ? { function: watched.event.target?.functionName } : {}),
        ...(watched.kind === 'daemon-deployment' ? { daemonRevision: watched.event.targetDaemonRevisionArn } : {}),
        error,
        whatToDo: own
          ? 'check the watch role may call ecs:DescribeServices, ecs:DescribeServiceRevisions, ' +
            'ecs:DescribeDaemonRevisions and lambda:GetFunction ' +
            'here; throttling clears by itself on the retries'
          : `check that account ${event.account} deployed the workload stack in ${event.region} (role ` +
            `${workloadReaderRoleName(deps.registry.region)}) and that it trusts this guard's watch role; throttling ` +
            'clears by itself on the retries',
      });
      deps.metrics?.count('InventoryFailures', 1);
      failed.add(event.messageId);
      return;
    }
    if (!sighting || sighting.entries.length === 0) return;
    const { entries } = sighting;
    try {
      const outcomes: string[] = [];
      for (const part of chunks(entries, MAX_ENTRIES_PER_WRITE)) {
        outcomes.push(...(await deps.index.recordWatchedUse(part, sighting.version)));
        writes += 1;
      }
      for (const [i, entry] of entries.entries()) {
        const outcome = outcomes[i];
        // A redelivery may follow a check that failed after the write: the write is then `not-newer`, so a
        // retry asks again instead of trusting it.
        const maybeNew = outcome === 'created' || outcome === 'written' || sighting.attempt > 1;
        if (!maybeNew || !ownRegistry(entry, deps.registry) || !inScope(entry.repository, settings)) continue;
        // Only a settled user proves someone checked: several tasks of a new digest in one batch each see the others.
        if (await deps.index.hasSettledOtherUsers(entry)) continue;
        logger.info('digest seen in use for the first time: checking it now', {
          repository: entry.repository,
          digest: entry.digest,
          ...sighting.about,
        });
        const digests = toCheck.get(entry.repository) ?? new Map();
        toCheck.set(entry.repository, digests);
        const seen = digests.get(entry.digest) ?? { consumers: [], messageIds: new Set<string>() };
        seen.consumers.push(sighting.consumers[i]!);
        seen.messageIds.add(sighting.messageId);
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
      logger.error('could not write a watched event to the in-use index; it will be retried, then dead-lettered', {
        messageId: sighting.messageId,
        ...sighting.about,
        error,
        whatToDo: 'check the watch role may call dynamodb:UpdateItem, TransactWriteItems and Query on the table',
      });
      deps.metrics?.count('InUseIndexFailures', 1);
      failed.add(sighting.messageId);
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
  // Forwarded start-impaired actions: read through the workload's reader and paged as the push path pages.
  const impaired = await watchStartImpaired(impairments, settings, deps, (workload) => readerOf(workload, deps));
  for (const id of impaired.failedMessageIds) failed.add(id);
  reports.push(...impaired.reports);
  workloadReads += impaired.reads;
  deps.metrics?.count('WatchedTaskEvents', events.filter((e) => e.kind === 'task').length);
  return { failedMessageIds: [...failed], indexWrites: writes, firstSeen, reports, workloadReads };
}

function sightingOfTask(event: TaskStateChange): Sighting | undefined {
  // A stopped task uses nothing any more, but its entry stays until a complete list removes it.
  if (event.lastStatus === 'STOPPED') return undefined;
  const entries = entriesOfTaskEvent(event);
  return {
    messageId: event.messageId,
    attempt: event.attempt,
    version: event.version,
    entries,
    consumers: entries.map((entry) => consumerOf(event, entry)),
    about: { task: event.taskArn },
  };
}

/**
 * Reads the service or function a deployment event or Lambda call names, in its workload; undefined when there
 * is nothing to read (see the module comment). Throws when the read fails.
 */
async function readNamedWorkload(
  watched: Exclude<Watched, { kind: 'task' }>,
  deps: WatchDependencies,
  onRead: () => void,
): Promise<Sighting | undefined> {
  const { event } = watched;
  const about: Record<string, string> =
    watched.kind === 'deployment'
      ? { service: watched.event.serviceArn, eventName: watched.event.eventName }
      : watched.kind === 'daemon-deployment'
        ? { daemonRevision: watched.event.targetDaemonRevisionArn, eventName: watched.event.eventName }
        : { function: watched.event.target?.functionName ?? '?', eventName: watched.event.eventName };
  if (watched.kind === 'deployment' && watched.event.eventName !== DEPLOYMENT_IN_PROGRESS) {
    deps.logger.info('a deployment that ends reads nothing: its IN_PROGRESS event read its revisions', about);
    return undefined;
  }
  if (watched.kind === 'lambda' && !watched.event.target) {
    deps.logger.info('a Lambda call that failed changed nothing: nothing to read', {
      ...about,
      errorCode: watched.event.errorCode ?? '?',
    });
    return undefined;
  }
  const workload = { account: event.account, region: event.region };
  const reader = readerOf(workload, deps);
  if (!reader) {
    deps.logger.warn('an event of a workload this guard does not list: not read, nothing written', {
      ...about,
      account: event.account,
      region: event.region,
      whatToDo:
        `add ${event.account} to workloadAccounts and ${event.region} to workloadRegions and deploy the workload ` +
        'stack there: until then neither the watch nor the list sees what runs there',
    });
    deps.metrics?.count('UnreadableWorkloadEvents', 1);
    return undefined;
  }
  onRead();
  const inventory =
    watched.kind === 'deployment'
      ? await reader.takeServiceInventory(watched.event.clusterArn, watched.event.serviceArn)
      : watched.kind === 'daemon-deployment'
        ? await reader.takeDaemonRevisionInventory(watched.event.targetDaemonRevisionArn)
        : await reader.takeFunctionInventory(watched.event.target!);
  if (inventory.gaps.length > 0) {
    deps.logger.warn('the read left part of the workload unknown: written what it saw; the list reads the rest', {
      ...about,
      gaps: inventory.gaps.map((gap) => gap.reason),
    });
  }
  const { entries, consumers } = entriesOfInventory(inventory, deps.registry, workload, event.time.getTime());
  return { messageId: event.messageId, attempt: event.attempt, version: 0, entries, consumers, about };
}

function readerOf(workload: AccountRegion, deps: WatchDependencies): WorkloadReadPort | undefined {
  if (!deps.readerFor) return undefined;
  const same = (other: AccountRegion) => other.account === workload.account && other.region === workload.region;
  const readable =
    same(deps.registry) || (deps.workloads ?? []).some(same) || (deps.anyAccountIn ?? []).includes(workload.region);
  return readable ? deps.readerFor(workload) : undefined;
}

/**
 * The entries an inventory of one workload shows, keyed as the list keys them (kind, ARN), but seen by the watch
 * at the event's time.
 */
export function entriesOfInventory(
  inventory: Inventory,
  registry: AccountRegion,
  workload: AccountRegion,
  lastSeen: number,
): { entries: InUseEntry[]; consumers: Consumer[] } {
  const byKey = new Map<string, { entry: InUseEntry; consumer: Consumer }>();
  for (const [repository, digests] of inventory.byRepository) {
    for (const [digest, consumers] of digests) {
      for (const consumer of consumers) {
        const entry: InUseEntry = {
          registryAccount: registry.account,
          registryRegion: registry.region,
          repository,
          digest,
          consumerAccount: workload.account,
          consumerRegion: workload.region,
          kind: consumer.kind,
          name: consumerName(consumer),
          seenBy: 'watch',
          lastSeen,
          image: consumer.image,
        };
        const key = `${imagePartitionKey(entry)}|${entrySortKey(entry)}`;
        if (!byKey.has(key)) byKey.set(key, { entry, consumer });
      }
    }
  }
  const found = [...byKey.values()];
  return { entries: found.map((f) => f.entry), consumers: found.map((f) => f.consumer) };
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
