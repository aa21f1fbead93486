/**
 * The push Lambda: SQS batch of EventBridge events in (`ECR Image Action` PUSH and DELETE, ECS Service Action
 * `SERVICE_TASK_START_IMPAIRED`, ECS Daemon Service Action `DAEMON_TASK_START_IMPAIRED`, and, when the lifecycle watch is on, CloudTrail's lifecycle
 * `PolicyExecutionEvent`), partial batch response out.
 * It only parses, wires and calls: the decisions live in `lambda/core`, the AWS calls in `lambda/adapters`.
 * See: https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html#services-sqs-batchfailurereporting
 */
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { CloudTrailPusherLookup } from '../adapters/cloudtrail';
import { EcrAdapter } from '../adapters/ecr';
import { DynamoDbInUseIndex } from '../adapters/in-use-index';
import { inventoryFor } from '../adapters/inventory';
import { SnsAlertAdapter } from '../adapters/sns';
import { EcsInventoryAdapter } from '../adapters/ecs-inventory';
import { guardImageEvents } from '../core/image-events';
import { inventoryFromDirectAndIndex, inventoryFromIndexOrDirect } from '../core/index-inventory';
import { workloadsToList } from '../core/workloads';
import { guardServiceImpairments } from '../core/service-impairment';
import type { GuardLogger, GuardMetrics, PusherLookup } from '../core/ports';
import type { AlertPort, EcrPort, InUseIndexReadPort, InventoryPort, ServiceInventoryPort } from '../core/ports';
import { parsePushRecord } from '../core/push-event';
import type { GuardSettings, ImageEvent, ServiceImpairment } from '../core/types';
import { readPushHandlerConfig } from './config';
import { alertLogGroupFrom, createObservability, sqsBatchEntry, timedInventory } from './observability';

export interface PushHandlerDependencies {
  readonly ecr: EcrPort;
  /** the inventory of the account and region the events come from */
  readonly inventoryFor: (account: string, region: string) => InventoryPort;
  /** one ECS service's pinned digests, for `SERVICE_TASK_START_IMPAIRED` events; without it they are retried */
  readonly serviceInventoryFor?: (account: string, region: string) => ServiceInventoryPort;
  readonly alerts: AlertPort;
  readonly logger: GuardLogger;
  readonly metrics?: GuardMetrics;
  /** names who pushed, in alerts (opt-in: `LOOKUP_PUSHERS`) */
  readonly pushers?: PusherLookup;
  /** the function's log group, named in alerts as where their full list is */
  readonly alertLogGroup?: string;
  /**
   * Where the push path reads the in-use index (`PUSH_INVENTORY`): the pushed repositories' users are read from
   * it, instead of or besides the account's inventory; absent: the direct inventory, as before the index.
   */
  readonly inUseIndex?: PushInUseIndex;
}

/** The index the push path reads, and the workloads whose complete lists make it usable. */
export interface PushInUseIndex {
  readonly index: InUseIndexReadPort;
  /**
   * `index`: the index alone, falling back to the direct inventory until every workload has a complete list;
   * `direct+index`: the own account's direct inventory and the index, merged (lambda/core/index-inventory.ts)
   * @default 'index'
   */
  readonly mode?: 'index' | 'direct+index';
  /** accounts besides `workloadAccounts` are found at run time (organizational units) */
  readonly discoversAccounts?: boolean;
  /** the configured workload accounts and regions besides the guard's own (`WORKLOAD_ACCOUNTS`, `WORKLOAD_REGIONS`) */
  readonly workloadAccounts?: readonly string[];
  readonly workloadRegions?: readonly string[];
}

/** Handles one SQS batch; never throws for a bad record, reports it as that record's failure. */
export async function handlePushBatch(
  event: SQSEvent,
  settings: GuardSettings,
  deps: PushHandlerDependencies,
): Promise<SQSBatchResponse> {
  const failed = new Set<string>();
  const events: ImageEvent[] = [];
  const impairments: ServiceImpairment[] = [];
  for (const record of event.Records ?? []) {
    const parsed = parsePushRecord(record);
    if (!parsed.ok) {
      const messageId = typeof record?.messageId === 'string' ? record.messageId : undefined;
      deps.logger.error('malformed event: reported as failed; after the retries it lands in the dead-letter queue', {
        messageId,
        reason: parsed.reason,
        whatToDo:
          'inspect the message in the dead-letter queue; only EventBridge "ECR Image Action" events, ECR lifecycle PolicyExecutionEvents and ECS (Daemon) Service Action SERVICE_TASK_START_IMPAIRED / DAEMON_TASK_START_IMPAIRED events belong on this queue',
      });
      deps.metrics?.count('MalformedEvents', 1);
      // A record without a message id cannot be named in the response (SQS never sends one): logged above.
      if (messageId) failed.add(messageId);
    } else if (parsed.event) {
      events.push(parsed.event);
    } else if (parsed.lifecycle) {
      events.push(...parsed.lifecycle);
    } else if (parsed.impairments) {
      impairments.push(...parsed.impairments);
    } else {
      deps.logger.info('event needs no action', { messageId: record.messageId, reason: parsed.ignored });
    }
  }
  const byAccount = new Map<string, ImageEvent[]>();
  for (const event of events) {
    const key = `${event.account}/${event.region}`;
    byAccount.set(key, [...(byAccount.get(key) ?? []), event]);
  }
  for (const [key, accountEvents] of byAccount) {
    const [account, region] = key.split('/') as [string, string];
    const outcome = await guardImageEvents(accountEvents, settings, {
      ...deps,
      inventory: inventoryOfBatch({ account, region }, deps),
    });
    for (const id of outcome.failedMessageIds) failed.add(id);
  }
  for (const id of await guardImpairments(impairments, settings, deps)) failed.add(id);
  return { batchItemFailures: [...failed].map((itemIdentifier) => ({ itemIdentifier })) };
}

/** The in-use index where the push path reads it (alone or with the direct inventory); else the direct inventory. */
function inventoryOfBatch(registry: { account: string; region: string }, deps: PushHandlerDependencies): InventoryPort {
  const direct = deps.inventoryFor(registry.account, registry.region);
  if (!deps.inUseIndex) return direct;
  const { index, workloadAccounts, workloadRegions, mode, discoversAccounts } = deps.inUseIndex;
  const read = mode === 'direct+index' ? inventoryFromDirectAndIndex : inventoryFromIndexOrDirect;
  return read({
    index,
    direct,
    registry,
    // the same workloads the reconcile lists (lambda/handlers/reconcile.ts), so each has its list recorded
    workloads: workloadsToList(registry, workloadAccounts ?? [], workloadRegions ?? [registry.region]),
    ...(discoversAccounts ? { othersBeyondWorkloads: true } : {}),
    logger: deps.logger,
    ...(deps.metrics ? { metrics: deps.metrics } : {}),
    now: () => new Date(),
  });
}

/** The impairments of each account and region, checked against that account's ECS; returns the failed messages. */
async function guardImpairments(
  impairments: readonly ServiceImpairment[],
  settings: GuardSettings,
  deps: PushHandlerDependencies,
): Promise<string[]> {
  if (impairments.length === 0) return [];
  const { serviceInventoryFor } = deps;
  if (!serviceInventoryFor) {
    deps.logger.error('cannot check an impaired ECS service: no ECS reader is wired; its events will be retried', {
      services: impairments.map((i) => i.serviceArn),
    });
    return impairments.map((i) => i.messageId);
  }
  const byAccount = new Map<string, ServiceImpairment[]>();
  for (const impairment of impairments) {
    const key = `${impairment.account}/${impairment.region}`;
    byAccount.set(key, [...(byAccount.get(key) ?? []), impairment]);
  }
  const failed: string[] = [];
  for (const [key, accountImpairments] of byAccount) {
    const [account, region] = key.split('/') as [string, string];
    const outcome = await guardServiceImpairments(accountImpairments, settings, {
      ...deps,
      services: serviceInventoryFor(account, region),
    });
    failed.push(...outcome.failedMessageIds);
  }
  return failed;
}

const { logger, metrics, counts } = createObservability();

function wireFromEnvironment(): { settings: GuardSettings; deps: PushHandlerDependencies } {
  const config = readPushHandlerConfig(process.env);
  const ecr = new EcrAdapter();
  const alerts = new SnsAlertAdapter(config.topicArn);
  return {
    settings: config,
    deps: {
      ecr,
      alerts,
      inventoryFor: (accountId, region) => timedInventory(inventoryFor(accountId, region), metrics),
      serviceInventoryFor: (accountId, region) => new EcsInventoryAdapter({ accountId, region }),
      ...(config.lookupPushers ? { pushers: new CloudTrailPusherLookup({ logger }) } : {}),
      ...(config.inUseIndex
        ? { inUseIndex: { ...config.inUseIndex, index: new DynamoDbInUseIndex(config.inUseIndex.tableName) } }
        : {}),
      logger,
      metrics: counts,
      ...alertLogGroupFrom(process.env),
    },
  };
}

export const handler = sqsBatchEntry(
  { logger, metrics },
  wireFromEnvironment,
  (event, wiring) => handlePushBatch(event, wiring.settings, wiring.deps),
  'batch done',
);
