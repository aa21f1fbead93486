/**
 * The inventory the handlers use: every consumer kind the guard knows, for one account and region.
 * Handlers call `inventoryFor`; tests and the simulated account pass their own clients.
 */
import type { ECSClient } from '@aws-sdk/client-ecs';
import type { InventoryPort } from '../core/ports';
import { EcsInventoryAdapter } from './ecs-inventory';

export interface InventoryClients {
  readonly ecs?: ECSClient;
}

export function inventoryFor(accountId: string, region: string, clients: InventoryClients = {}): InventoryPort {
  return new EcsInventoryAdapter({ accountId, region }, ...(clients.ecs ? [clients.ecs] : []));
}
