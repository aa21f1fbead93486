/**
 * The list across workloads: the guard's own list failing fails the inventory, another workload failing becomes a
 * gap over every repository (so releases pause) and a part that says why; never more than the bound in flight.
 */
import { describe, expect, it } from 'vitest';
import { gapsConcerning } from '../../../lambda/core/inventory';
import type { InventoryPort } from '../../../lambda/core/ports';
import type { Inventory } from '../../../lambda/core/types';
import { inventoryAcrossWorkloads, WORKLOAD_LIST_CONCURRENCY } from '../../../lambda/core/workload-list';

const DIGEST = `sha256:${'a'.repeat(64)}`;
const now = () => new Date('2026-11-26T10:00:00Z');

function inventoryOf(repository: string, consumer: string): Inventory {
  return {
    takenAt: now(),
    byRepository: new Map([
      [repository, new Map([[DIGEST, [{ kind: 'ecs-task' as const, arn: consumer, image: 'x' }]]])],
    ]),
    gaps: [],
  };
}
const listing = (inventory: Inventory): InventoryPort => ({ takeInventory: async () => inventory });
const failing = (error: Error): InventoryPort => ({
  takeInventory: async () => {
    throw error;
  },
});
const own = {
  workload: { account: '111111111111', region: 'eu-west-1' },
  inventory: listing(inventoryOf('app', 'own')),
};
const accessDenied = Object.assign(new Error('not authorized to perform: sts:AssumeRole'), { name: 'AccessDenied' });

describe('the inventory across workloads', () => {
  it('given every workload listed, when taken, then it merges them and keeps each one as its own part', async () => {
    const b = {
      workload: { account: '222222222222', region: 'eu-west-1' },
      inventory: listing(inventoryOf('api', 'b')),
    };

    const inventory = await inventoryAcrossWorkloads(own, [b], { now }).takeInventory();

    expect([...inventory.byRepository.keys()]).toEqual(['app', 'api']);
    expect(inventory.gaps).toEqual([]);
    expect(inventory.workloads?.map((part) => [part.workload.account, 'inventory' in part])).toEqual([
      ['111111111111', true],
      ['222222222222', true],
    ]);
  });

  it('given another workload whose role cannot be assumed, when taken, then it is a gap over every repository and a failed part', async () => {
    const b = { workload: { account: '222222222222', region: 'us-east-1' }, inventory: failing(accessDenied) };

    const inventory = await inventoryAcrossWorkloads(own, [b], { now }).takeInventory();

    expect(gapsConcerning(inventory.gaps, 'app')).toHaveLength(1);
    expect(inventory.gaps[0]?.reason).toMatch(/^account 222222222222 us-east-1 could not be listed \(AccessDenied: /);
    expect(inventory.workloads?.[1]).toMatchObject({ failure: expect.stringMatching(/^AccessDenied: /) });
    expect([...inventory.byRepository.keys()]).toEqual(['app']);
  });

  it("given the guard's own list failing, when taken, then the inventory fails as a one-account guard's does", async () => {
    const broken = { ...own, inventory: failing(new Error('ECS is down')) };

    await expect(inventoryAcrossWorkloads(broken, [], { now }).takeInventory()).rejects.toThrow('ECS is down');
  });

  it('given no own part (a catch-up of other workloads only), when taken, then the own workload has no part and, all others failing, nothing is seen', async () => {
    const b = { workload: { account: '222222222222', region: 'eu-west-1' }, inventory: failing(accessDenied) };

    const inventory = await inventoryAcrossWorkloads(undefined, [b], { now }).takeInventory();

    expect(inventory.workloads?.map((part) => part.workload.account)).toEqual(['222222222222']);
    expect(inventory.byRepository.size).toBe(0);
    expect(inventory.gaps).toHaveLength(1);
  });

  it(`given many workloads, when taken, then at most ${WORKLOAD_LIST_CONCURRENCY} are listed at once`, async () => {
    let inFlight = 0;
    let most = 0;
    const slow: InventoryPort = {
      takeInventory: async () => {
        most = Math.max(most, ++inFlight);
        await new Promise((resolve) => setTimeout(resolve, 5));
        inFlight--;
        return inventoryOf('app', 'x');
      },
    };
    const others = Array.from({ length: 12 }, (_, i) => ({
      workload: { account: String(200000000000 + i), region: 'eu-west-1' },
      inventory: slow,
    }));

    await inventoryAcrossWorkloads(own, others, { now }).takeInventory();

    expect(most).toBe(WORKLOAD_LIST_CONCURRENCY);
  });
});
