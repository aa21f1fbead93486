/**
 * The inventory the handlers use: every consumer kind the guard knows, for one account and region.
 * Handlers call `inventoryFor`; tests and the simulated account pass their own clients.
 */
import type { ECSClient } from '@aws-sdk/client-ecs';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import { mergeInventories } from '../core/inventory';
import type { InventoryPort, WorkloadReadPort } from '../core/ports';
import { EcsInventoryAdapter } from './ecs-inventory';
import { LambdaInventoryAdapter } from './lambda-inventory';

export interface InventoryClients {
  /** @default - the module's shared ECS client */
  readonly ecs?: ECSClient;
  /** @default - the module's shared Lambda client */
  readonly lambda?: LambdaClient;
}

/**
 * One inventory port over ECS and Lambda: both are taken concurrently (separate services, separate
 * throttling buckets, each adapter bounds its own requests in flight) and merged. If either fails, the
 * inventory fails: the guard then retries the batch rather than decide on half a picture.
 */
export function inventoryFor(accountId: string, region: string, clients: InventoryClients = {}): InventoryPort {
  const parts: InventoryPort[] = [
    new EcsInventoryAdapter({ accountId, region }, ...(clients.ecs ? [clients.ecs] : [])),
    new LambdaInventoryAdapter({ accountId, region }, ...(clients.lambda ? [clients.lambda] : [])),
  ];
  return {
    takeInventory: async () => mergeInventories(await Promise.all(parts.map((part) => part.takeInventory()))),
  };
}

/**
 * The reader of one named service or function, for the watch: images of the guard's registry (`registryAccount`,
 * `registryRegion`) only, read with `clients` (the watch's own in its own account and region, a workload's reader
 * session elsewhere).
 */
export function workloadReaderFor(
  registryAccount: string,
  registryRegion: string,
  clients: InventoryClients = {},
): WorkloadReadPort {
  const ecs = new EcsInventoryAdapter(
    { accountId: registryAccount, region: registryRegion },
    ...(clients.ecs ? [clients.ecs] : []),
  );
  const lambda = new LambdaInventoryAdapter(
    { accountId: registryAccount, region: registryRegion },
    ...(clients.lambda ? [clients.lambda] : []),
  );
  return {
    takeServiceInventory: (clusterArn, serviceArn) => ecs.takeServiceInventory(clusterArn, serviceArn),
    takeFunctionInventory: (target) => lambda.takeFunctionInventory(target),
    takeDaemonRevisionInventory: (arn) => ecs.takeDaemonRevisionInventory(arn),
  };
}
