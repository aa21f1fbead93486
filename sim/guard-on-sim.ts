/**
 * The real push handler wired to a simulated account through the real SDK clients and adapters:
 * the same code path as in Lambda, with only the wire replaced. Used by scenario tests, the demo and
 * the benchmarks.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ECRClient } from '@aws-sdk/client-ecr';
import { ECSClient } from '@aws-sdk/client-ecs';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SNSClient } from '@aws-sdk/client-sns';
import type { SQSBatchResponse } from 'aws-lambda';
import { EcrAdapter } from '../lambda/adapters/ecr';
import { EcsInventoryAdapter } from '../lambda/adapters/ecs-inventory';
import { DynamoDbInUseIndex } from '../lambda/adapters/in-use-index';
import { inventoryFor } from '../lambda/adapters/inventory';
import { SnsAlertAdapter } from '../lambda/adapters/sns';
import type { GuardLogger } from '../lambda/core/ports';
import { DEFAULT_TAG_PREFIX } from '../lambda/core/protective-tag';
import type { GuardSettings } from '../lambda/core/types';
import { handlePushBatch } from '../lambda/handlers/push';
import type { SimulatedAccount } from './account';
import { toSqsEvent, type EcrImageActionEvent } from './events';

export interface LogLine {
  readonly level: 'info' | 'warn' | 'error';
  readonly message: string;
  readonly extra: Record<string, unknown>;
}

export interface GuardOnSim {
  readonly topicArn: string;
  readonly settings: GuardSettings;
  readonly logs: LogLine[];
  /** deliver these events as one SQS batch to the handler (receiveCount > 1 = a redelivery) */
  deliver(events: readonly EcrImageActionEvent[], options?: { receiveCount?: number }): Promise<SQSBatchResponse>;
  /** deliver every ECR event recorded since the last call, as one batch */
  deliverNewEvents(): Promise<SQSBatchResponse>;
}

/**
 * How the push path learns what is in use: `direct` takes the account's inventory per batch (the default here,
 * and what a stack without the watch does); `index` reads the in-use index in `tableName` as a stack with the
 * watch does, falling back to the direct inventory until every workload has a complete list.
 */
export type PushInventoryMode =
  | { readonly kind: 'direct' }
  | {
      /** `direct+index`: both, merged, as a stack that lists other accounts does by default */
      readonly kind: 'index' | 'direct+index';
      readonly tableName: string;
      readonly workloadAccounts?: readonly string[];
      readonly workloadRegions?: readonly string[];
    };

export function guardOnSim(
  account: SimulatedAccount,
  overrides: Partial<GuardSettings> & { maxAttempts?: number; inventory?: PushInventoryMode } = {},
): GuardOnSim {
  const topicArn = account.sns.createTopic('ecr-digest-guard-alerts');
  const config = account.clientConfig({ maxAttempts: overrides.maxAttempts ?? 3 });
  const settings: GuardSettings = {
    tagPrefix: overrides.tagPrefix ?? DEFAULT_TAG_PREFIX,
    dryRun: overrides.dryRun ?? false,
    ...(overrides.repositories ? { repositories: overrides.repositories } : {}),
  };
  const logs: LogLine[] = [];
  const log =
    (level: LogLine['level']) =>
    (message: string, ...extra: Record<string, unknown>[]) => {
      logs.push({ level, message, extra: Object.assign({}, ...extra) });
    };
  const logger: GuardLogger = { info: log('info'), warn: log('warn'), error: log('error') };
  const ecs = new ECSClient(config);
  const lambda = new LambdaClient(config);
  const deps = {
    ecr: new EcrAdapter(new ECRClient(config)),
    inventoryFor: (accountId: string, region: string) => inventoryFor(accountId, region, { ecs, lambda }),
    serviceInventoryFor: (accountId: string, region: string) => new EcsInventoryAdapter({ accountId, region }, ecs),
    alerts: new SnsAlertAdapter(topicArn, new SNSClient(config)),
    logger,
    ...(overrides.inventory && overrides.inventory.kind !== 'direct'
      ? {
          inUseIndex: {
            index: new DynamoDbInUseIndex(overrides.inventory.tableName, new DynamoDBClient(config)),
            mode: overrides.inventory.kind,
            ...(overrides.inventory.workloadAccounts ? { workloadAccounts: overrides.inventory.workloadAccounts } : {}),
            ...(overrides.inventory.workloadRegions ? { workloadRegions: overrides.inventory.workloadRegions } : {}),
          },
        }
      : {}),
  };
  let delivered = 0;
  const deliver = (events: readonly EcrImageActionEvent[], options: { receiveCount?: number } = {}) =>
    handlePushBatch(
      toSqsEvent(events, { ...(options.receiveCount ? { receiveCount: options.receiveCount } : {}) }),
      settings,
      deps,
    );
  return {
    topicArn,
    settings,
    logs,
    deliver,
    async deliverNewEvents() {
      const fresh = account.events.slice(delivered);
      delivered = account.events.length;
      return deliver(fresh);
    },
  };
}
