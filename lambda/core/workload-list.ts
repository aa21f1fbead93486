/**
 * The list across workloads: the guard's own (account, region) and every configured workload account and region,
 * each listed through its own inventory port, with a bounded number in flight. The guard's own list failing fails
 * the whole inventory (as a one-account guard's does); another workload failing (its role missing, access denied,
 * throttled past the SDK's retries) is isolated: it becomes a gap that concerns every repository, so releases pause
 * (the release must never act on an incomplete picture), and a part that says why, so the run records the list as
 * partial, removes nothing from the index for it, and alerts. Pure apart from the ports: no SDK.
 */
import { mapWithConcurrency } from './concurrency';
import { mergeInventories } from './inventory';
import type { InventoryPort } from './ports';
import type { Inventory, WorkloadListed } from './types';

/**
 * Workloads listed at once. ECS throttles per account and Region, so two workloads never share a token bucket and
 * each gets one inventory at a time, bounded by the inventory adapters' own requests in flight; this bound keeps
 * the function's open connections and memory to four inventories, and 40 workloads of 1,000 tasks within a
 * fraction of the 15-minute timeout (see the README's figures).
 * See: https://docs.aws.amazon.com/AmazonECS/latest/APIReference/request-throttling.html
 */
export const WORKLOAD_LIST_CONCURRENCY = 4;

export interface WorkloadInventorySource {
  readonly workload: { readonly account: string; readonly region: string };
  readonly inventory: InventoryPort;
}

export interface InventoryAcrossWorkloadsOptions {
  readonly now: () => Date;
  /** @default WORKLOAD_LIST_CONCURRENCY */
  readonly concurrency?: number;
}

/** Why a workload could not be listed, short enough for a status item and an alert line. */
export function failureReason(error: unknown): string {
  const named = error as { name?: unknown; message?: unknown } | undefined;
  const name = typeof named?.name === 'string' ? named.name : 'Error';
  const message = typeof named?.message === 'string' ? named.message : String(error);
  return `${name}: ${message}`.slice(0, 400);
}

/**
 * One inventory port over every workload; the guard's own first. `own` is undefined for a catch-up that lists only
 * overdue workloads: the own account is then not listed, so its part is absent and the index records nothing for
 * it (an empty part would read as a complete list that saw nothing, and remove its entries).
 */
export function inventoryAcrossWorkloads(
  own: WorkloadInventorySource | undefined,
  others: readonly WorkloadInventorySource[],
  options: InventoryAcrossWorkloadsOptions,
): InventoryPort {
  return {
    takeInventory: async (): Promise<Inventory> => {
      const parts = await mapWithConcurrency(
        own ? [own, ...others] : others,
        options.concurrency ?? WORKLOAD_LIST_CONCURRENCY,
        async (source): Promise<WorkloadListed | { ownFailure: unknown }> => {
          const startedAtMs = options.now().getTime();
          try {
            return { workload: source.workload, startedAtMs, inventory: await source.inventory.takeInventory() };
          } catch (error) {
            if (source === own) return { ownFailure: error };
            return { workload: source.workload, startedAtMs, failure: failureReason(error) };
          }
        },
      );
      const ownPart = own ? parts[0] : undefined;
      if (ownPart && 'ownFailure' in ownPart) throw ownPart.ownFailure;
      const listed = parts as WorkloadListed[];
      const inventories = listed.flatMap((part) => ('inventory' in part ? [part.inventory] : []));
      // Without the own part every listed workload may have failed: nothing seen, as of now.
      const merged =
        inventories.length > 0
          ? mergeInventories(inventories)
          : { takenAt: options.now(), byRepository: new Map(), gaps: [] };
      const notListed = listed.flatMap((part) =>
        'failure' in part
          ? [
              {
                reason:
                  `account ${part.workload.account} ${part.workload.region} could not be listed (${part.failure}); ` +
                  'what it runs is unknown this run',
              },
            ]
          : [],
      );
      return { ...merged, gaps: [...merged.gaps, ...notListed], workloads: listed };
    },
  };
}
