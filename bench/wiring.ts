/**
 * The real push handler's dependencies on a simulated account, wired as the deployed function wires them
 * (`lambda/handlers/push.ts`): the same adapters and the same SDK client settings (adaptive retry,
 * `SDK_MAX_ATTEMPTS`), with only the wire replaced by the simulated account behind a latency model on a
 * virtual clock. One `Environment` stands for one Lambda execution environment: its own clients (and so
 * its own adaptive rate limiter).
 */
import { ECRClient } from '@aws-sdk/client-ecr';
import { ECSClient } from '@aws-sdk/client-ecs';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SNSClient } from '@aws-sdk/client-sns';
import { SDK_CLIENT_CONFIG } from '../lambda/adapters/clients';
import { EcrAdapter } from '../lambda/adapters/ecr';
import { inventoryFor } from '../lambda/adapters/inventory';
import { SnsAlertAdapter } from '../lambda/adapters/sns';
import type { GuardLogger } from '../lambda/core/ports';
import type { InventoryPort } from '../lambda/core/ports';
import { DEFAULT_TAG_PREFIX } from '../lambda/core/protective-tag';
import type { GuardSettings } from '../lambda/core/types';
import type { PushHandlerDependencies } from '../lambda/handlers/push';
import type { SimulatedAccount } from '../sim/account';
import { withLatency, type LatencyModel, type TimedCall, type VirtualClock } from '../sim/latency';

export const SETTINGS: GuardSettings = { tagPrefix: DEFAULT_TAG_PREFIX, dryRun: false };

/** Log lines are counted, not kept: a burst writes tens of thousands. */
export const quietLogger = (): GuardLogger & { counts: Record<string, number> } => {
  const counts: Record<string, number> = { info: 0, warn: 0, error: 0 };
  return {
    counts,
    info: () => void (counts.info! += 1),
    warn: () => void (counts.warn! += 1),
    error: () => void (counts.error! += 1),
  };
};

export interface Environment {
  readonly ecs: ECSClient;
  /** the dependencies `handlePushBatch` takes; `inventory` decides how an inventory is obtained */
  deps(inventory: (fresh: () => InventoryPort) => InventoryPort): PushHandlerDependencies;
}

export interface SimWire {
  readonly calls: TimedCall[];
  environment(): Environment;
}

/** Clients of the simulated account whose calls take `latency` on `clock`, all recorded in `calls`. */
export function simWire(
  account: SimulatedAccount,
  clock: VirtualClock,
  latency: LatencyModel,
  topicArn: string,
): SimWire {
  const calls: TimedCall[] = [];
  const requestHandler = withLatency(account.transport.requestHandler, clock, latency, (call) => calls.push(call));
  const config = { ...account.clientConfig(), requestHandler, ...SDK_CLIENT_CONFIG };
  return {
    calls,
    environment(): Environment {
      const ecs = new ECSClient(config);
      const lambda = new LambdaClient(config);
      const ecr = new EcrAdapter(new ECRClient(config));
      const alerts = new SnsAlertAdapter(topicArn, new SNSClient(config));
      const logger = quietLogger();
      return {
        ecs,
        deps: (inventory) => ({
          ecr,
          alerts,
          logger,
          // The handler's own inventory (ECS and Lambda), with this environment's clients. The task-definition
          // cache is the module's, so shared by all environments here: steady state never reads it.
          inventoryFor: (accountId, region) => inventory(() => inventoryFor(accountId, region, { ecs, lambda })),
        }),
      };
    },
  };
}
