/**
 * The watch Lambda: SQS batch of EventBridge `ECS Task State Change` and `ECS Deployment State Change` events and
 * Lambda API calls (CloudTrail) in, partial batch response out.
 * It only parses the configuration, wires and calls: the decisions live in `lambda/core/watch`, the AWS calls
 * in `lambda/adapters`.
 * See: https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html#services-sqs-batchfailurereporting
 */
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { EcrAdapter } from '../adapters/ecr';
import { DynamoDbInUseIndex } from '../adapters/in-use-index';
import { SnsAlertAdapter } from '../adapters/sns';
import { watchReadersFor } from '../adapters/workload-inventory';
import type { GuardSettings } from '../core/types';
import { type WatchDependencies, watchTaskEvents } from '../core/watch';
import { workloadsToList } from '../core/workloads';
import { readPushHandlerConfig, readWorkloads } from './config';
import { alertLogGroupFrom, createObservability, sqsBatchEntry } from './observability';

/** Handles one SQS batch of task events; never throws for a bad record, reports it as that record's failure. */
export async function handleWatchBatch(
  event: SQSEvent,
  settings: GuardSettings,
  deps: WatchDependencies,
): Promise<SQSBatchResponse> {
  const outcome = await watchTaskEvents(event.Records ?? [], settings, deps);
  return { batchItemFailures: outcome.failedMessageIds.map((itemIdentifier) => ({ itemIdentifier })) };
}

const { logger, metrics, counts } = createObservability();

/** The table and the guard's own account come from the construct; a missing one fails the cold start loudly. */
export function readWatchHandlerConfig(env: NodeJS.ProcessEnv) {
  const config = readPushHandlerConfig(env);
  const problems: string[] = [];
  const tableName = env.IN_USE_INDEX_TABLE_NAME?.trim() ?? '';
  if (!tableName) problems.push('IN_USE_INDEX_TABLE_NAME is not set');
  const account = env.GUARD_ACCOUNT?.trim() ?? '';
  if (!/^\d{12}$/.test(account)) problems.push(`GUARD_ACCOUNT must be a 12-digit account id, got "${account}"`);
  // The workloads whose deployment events and Lambda calls the watch may read (through their reader roles).
  const { workloadAccounts, workloadRegions } = readWorkloads(env, problems);
  // Set by the construct with organizational units: their accounts are discovered at run time (lib/digest-guard.ts).
  const organizationUnits = (env.ORGANIZATION_UNITS ?? '').split(',').filter((ou) => ou.trim().length > 0);
  if (problems.length) throw new Error(`invalid configuration: ${problems.join('; ')}`);
  const workloads = workloadsToList(
    { account, region: config.region },
    workloadAccounts,
    workloadRegions.length > 0 ? workloadRegions : [config.region],
  ).slice(1);
  const anyAccountIn =
    organizationUnits.length > 0 ? (workloadRegions.length > 0 ? workloadRegions : [config.region]) : [];
  return { ...config, tableName, account, workloads, anyAccountIn };
}

function wireFromEnvironment(): { settings: GuardSettings; deps: WatchDependencies } {
  const config = readWatchHandlerConfig(process.env);
  return {
    settings: config,
    deps: {
      index: new DynamoDbInUseIndex(config.tableName),
      registry: { account: config.account, region: config.region },
      workloads: config.workloads,
      anyAccountIn: config.anyAccountIn,
      readerFor: watchReadersFor({
        registry: { account: config.account, region: config.region },
        partition: config.topicArn.split(':')[1] ?? 'aws',
      }),
      ecr: new EcrAdapter(),
      alerts: new SnsAlertAdapter(config.topicArn),
      logger,
      metrics: counts,
      ...alertLogGroupFrom(process.env),
    },
  };
}

export const handler = sqsBatchEntry(
  { logger, metrics },
  wireFromEnvironment,
  (event, wiring) => handleWatchBatch(event, wiring.settings, wiring.deps),
  'task events done',
);
