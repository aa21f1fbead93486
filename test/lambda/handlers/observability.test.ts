/**
 * How long each inventory takes, as the metric `InventoryDuration` (milliseconds) that the dashboard shows: the
 * inventory is the guard's one large cost per batch and per reconcile, and it grows with the account.
 */
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { describe, expect, it } from 'vitest';
import type { Inventory } from '../../../lambda/core/types';
import { timedInventory } from '../../../lambda/handlers/observability';

function recorder() {
  const added: [string, string, number][] = [];
  const addMetric = (name: string, unit: string, value: number): void => {
    added.push([name, unit, value]);
  };
  return { added, addMetric: addMetric as Pick<Metrics, 'addMetric'>['addMetric'] };
}

describe('the inventory duration metric', () => {
  it('given an inventory that takes 1.5 s, when it is taken, then InventoryDuration records 1500 milliseconds', async () => {
    let clock = 10_000;
    const inventory: Inventory = { takenAt: new Date(0), byRepository: new Map(), gaps: [] };
    const metrics = recorder();
    const timed = timedInventory(
      {
        takeInventory: async () => {
          clock += 1_500;
          return inventory;
        },
      },
      metrics,
      () => clock,
    );

    await expect(timed.takeInventory()).resolves.toBe(inventory);
    expect(metrics.added).toEqual([['InventoryDuration', MetricUnit.Milliseconds, 1_500]]);
  });

  it('given an inventory that fails after 2 s, when it is taken, then the failure is rethrown and its time recorded', async () => {
    let clock = 0;
    const metrics = recorder();
    const timed = timedInventory(
      {
        takeInventory: async () => {
          clock += 2_000;
          throw new Error('ThrottlingException');
        },
      },
      metrics,
      () => clock,
    );

    await expect(timed.takeInventory()).rejects.toThrow('ThrottlingException');
    expect(metrics.added).toEqual([['InventoryDuration', MetricUnit.Milliseconds, 2_000]]);
  });
});
