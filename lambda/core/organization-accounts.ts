/**
 * The accounts of organizational units, discovered on each run of the list: the configuration cannot name them,
 * since accounts join and leave the OUs (and the StackSet deploys the reader role to each that joins). Every OU
 * under the given ones is walked (Organizations `ListChildren` with ChildType ORGANIZATIONAL_UNIT, recursively) and
 * the ACTIVE accounts directly in each are collected (`ListAccountsForParent`, which names only the accounts directly
 * under a parent). Both work only from the management account or a delegated administrator.
 * See: https://docs.aws.amazon.com/organizations/latest/APIReference/API_ListChildren.html
 * See: https://docs.aws.amazon.com/organizations/latest/APIReference/API_ListAccountsForParent.html
 *
 * A discovery that fails is a gap, as an account whose reader cannot be assumed is: the run lists what it knows
 * (its own account and the named workload accounts), removes nothing from the index for accounts it does not know
 * (nothing lists them), pauses releases (the gap concerns every repository) and alerts. Pure apart from the ports.
 */
import type { AccountRegion } from './in-use-index/types';
import type { InventoryPort, OrganizationPort } from './ports';
import type { Inventory } from './types';
import { failureReason, inventoryAcrossWorkloads } from './workload-list';
import { workloadsToList } from './workloads';

/** Every ACTIVE account under `organizationUnits` (nested OUs included), each once, in the order found. */
export async function discoverOrganizationAccounts(
  organizationUnits: readonly string[],
  organization: OrganizationPort,
): Promise<string[]> {
  const visited = new Set<string>();
  const accounts = new Set<string>();
  const pending = [...organizationUnits];
  while (pending.length > 0) {
    const parentId = pending.shift()!;
    if (visited.has(parentId)) continue;
    visited.add(parentId);
    const [children, members] = await Promise.all([
      organization.childOrganizationalUnits(parentId),
      organization.accountsOf(parentId),
    ]);
    // Suspended, closed and pending accounts run nothing and have no reader to assume.
    for (const account of members) if (account.active) accounts.add(account.id);
    pending.push(...children);
  }
  return [...accounts];
}

export interface OrganizationInventoryOptions {
  readonly own: AccountRegion;
  readonly ownInventory: InventoryPort;
  /** accounts named in the configuration, listed whether or not discovery works */
  readonly workloadAccounts: readonly string[];
  readonly regions: readonly string[];
  readonly organizationUnits: readonly string[];
  readonly organization: OrganizationPort;
  /** the inventory of another workload, through its reader role */
  readonly inventoryOf: (workload: AccountRegion) => InventoryPort;
  readonly now: () => Date;
  readonly concurrency?: number;
}

/** The list across the own account, the named accounts and those discovered in the OUs this run, in every region. */
export function inventoryWithOrganizationAccounts(options: OrganizationInventoryOptions): InventoryPort {
  return {
    takeInventory: async (): Promise<Inventory> => {
      let discovered: string[] = [];
      let notDiscovered: Inventory['accountsNotDiscovered'];
      try {
        discovered = await discoverOrganizationAccounts(options.organizationUnits, options.organization);
      } catch (error) {
        notDiscovered = { organizationUnits: [...options.organizationUnits], reason: failureReason(error) };
      }
      const others = workloadsToList(options.own, [...options.workloadAccounts, ...discovered], options.regions).slice(
        1,
      );
      const inventory = await inventoryAcrossWorkloads(
        { workload: options.own, inventory: options.ownInventory },
        others.map((workload) => ({ workload, inventory: options.inventoryOf(workload) })),
        { now: options.now, ...(options.concurrency ? { concurrency: options.concurrency } : {}) },
      ).takeInventory();
      if (!notDiscovered) return inventory;
      return {
        ...inventory,
        gaps: [
          ...inventory.gaps,
          {
            reason:
              `the accounts of ${notDiscovered.organizationUnits.join(', ')} could not be discovered ` +
              `(${notDiscovered.reason}); what accounts only known through them run is unknown this run`,
          },
        ],
        accountsNotDiscovered: notDiscovered,
      };
    },
  };
}
