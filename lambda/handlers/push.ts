/**
 * The push Lambda: SQS batch of EventBridge events in (`ECR Image Action` PUSH and DELETE, and, when the
 * lifecycle watch is on, CloudTrail's lifecycle `PolicyExecutionEvent`), partial batch response out.
 * It only parses, wires and calls: the decisions live in `lambda/core`, the AWS calls in `lambda/adapters`.
 * See: https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html#services-sqs-batchfailurereporting
 */
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { CloudTrailPusherLookup } from '../adapters/cloudtrail';
import { EcrAdapter } from '../adapters/ecr';
import { inventoryFor } from '../adapters/inventory';
import { SnsAlertAdapter } from '../adapters/sns';
import { guardImageEvents } from '../core/image-events';
import type { GuardLogger, GuardMetrics, PusherLookup } from '../core/ports';
import type { AlertPort, EcrPort, InventoryPort } from '../core/ports';
import { parsePushRecord } from '../core/push-event';
import type { GuardSettings, ImageEvent } from '../core/types';
import { readPushHandlerConfig } from './config';
import { alertLogGroupFrom, createObservability, timedInventory } from './observability';

export interface PushHandlerDependencies {
  readonly ecr: EcrPort;
  /** the inventory of the account and region the events come from */
  readonly inventoryFor: (account: string, region: string) => InventoryPort;
  readonly alerts: AlertPort;
  readonly logger: GuardLogger;
  readonly metrics?: GuardMetrics;
  /** names who pushed, in alerts (opt-in: `LOOKUP_PUSHERS`) */
  readonly pushers?: PusherLookup;
  /** the function's log group, named in alerts as where their full list is */
  readonly alertLogGroup?: string;
}

/** Handles one SQS batch; never throws for a bad record, reports it as that record's failure. */
export async function handlePushBatch(
  event: SQSEvent,
  settings: GuardSettings,
  deps: PushHandlerDependencies,
): Promise<SQSBatchResponse> {
  const failed = new Set<string>();
  const events: ImageEvent[] = [];
  for (const record of event.Records ?? []) {
    const parsed = parsePushRecord(record);
    if (!parsed.ok) {
      const messageId = typeof record?.messageId === 'string' ? record.messageId : undefined;
      deps.logger.error('malformed event: reported as failed; after the retries it lands in the dead-letter queue', {
        messageId,
        reason: parsed.reason,
        whatToDo:
          'inspect the message in the dead-letter queue; only EventBridge "ECR Image Action" events and ECR lifecycle PolicyExecutionEvents belong on this queue',
      });
      deps.metrics?.count('MalformedEvents', 1);
      // A record without a message id cannot be named in the response (SQS never sends one): logged above.
      if (messageId) failed.add(messageId);
    } else if (parsed.event) {
      events.push(parsed.event);
    } else if (parsed.lifecycle) {
      events.push(...parsed.lifecycle);
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
      inventory: deps.inventoryFor(account, region),
    });
    for (const id of outcome.failedMessageIds) failed.add(id);
  }
  return { batchItemFailures: [...failed].map((itemIdentifier) => ({ itemIdentifier })) };
}

const { logger, metrics, counts } = createObservability();
let wiring: { settings: GuardSettings; deps: PushHandlerDependencies } | undefined;

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
      ...(config.lookupPushers ? { pushers: new CloudTrailPusherLookup({ logger }) } : {}),
      logger,
      metrics: counts,
      ...alertLogGroupFrom(process.env),
    },
  };
}

export const handler = async (event: SQSEvent, context?: Context): Promise<SQSBatchResponse> => {
  if (context) logger.addContext(context);
  wiring ??= wireFromEnvironment();
  try {
    const response = await handlePushBatch(event, wiring.settings, wiring.deps);
    logger.info('batch done', { records: event.Records?.length ?? 0, failed: response.batchItemFailures.length });
    return response;
  } finally {
    metrics.publishStoredMetrics();
  }
};
