/**
 * The accounts of organizational units, discovered each run: every ACTIVE account under the OUs, nested OUs
 * included, merged with the named workload accounts; a discovery that fails lists what is known, is a gap over every
 * repository (releases pause) and says so, so the run alerts and the index removes nothing for accounts it does not
 * know.
 */
import { describe, expect, it } from 'vitest';
import { gapsConcerning } from '../../../lambda/core/inventory';
import {
  discoverOrganizationAccounts,
  inventoryWithOrganizationAccounts,
} from '../../../lambda/core/organization-accounts';
import type { InventoryPort, OrganizationPort } from '../../../lambda/core/ports';
import type { Inventory } from '../../../lambda/core/types';

const OU_A = 'ou-root-aaaaaaaa';
const OU_A1 = 'ou-root-a1a1a1a1';
const OU_B = 'ou-root-bbbbbbbb';
const now = () => new Date('2026-11-26T10:00:00Z');

/** A tree: OU_A holds 2222 and OU_A1 (which holds 3333 and the suspended 4444); OU_B holds 5555. */
function tree(): OrganizationPort & { calls: string[] } {
  const children: Record<string, string[]> = { [OU_A]: [OU_A1], [OU_A1]: [], [OU_B]: [] };
  const accounts: Record<string, { id: string; active: boolean }[]> = {
    [OU_A]: [{ id: '222222222222', active: true }],
    [OU_A1]: [
      { id: '333333333333', active: true },
      { id: '444444444444', active: false },
    ],
    [OU_B]: [{ id: '555555555555', active: true }],
  };
  const calls: string[] = [];
  return {
    calls,
    childOrganizationalUnits: async (parentId) => {
      calls.push(`children ${parentId}`);
      return children[parentId] ?? [];
    },
    accountsOf: async (parentId) => {
      calls.push(`accounts ${parentId}`);
      return accounts[parentId] ?? [];
    },
  };
}

const emptyInventory = (): Inventory => ({ takenAt: now(), byRepository: new Map([['app', new Map()]]), gaps: [] });
const listing = (): InventoryPort => ({ takeInventory: async () => emptyInventory() });

describe('discovering the accounts of organizational units', () => {
  it('given nested OUs and a suspended account, when discovered, then every active account under them, each once, breadth first', async () => {
    const organization = tree();

    const accounts = await discoverOrganizationAccounts([OU_A, OU_B, OU_A], organization);

    expect(accounts).toEqual(['222222222222', '555555555555', '333333333333']);
    expect(organization.calls.filter((c) => c === `accounts ${OU_A}`)).toHaveLength(1);
  });
});

describe('the inventory across the accounts of organizational units', () => {
  const own = { account: '111111111111', region: 'eu-west-1' };

  it('given OUs and a named account, when taken, then the own, named and discovered accounts are listed in each region', async () => {
    const listed: string[] = [];
    const port = inventoryWithOrganizationAccounts({
      own,
      ownInventory: listing(),
      workloadAccounts: ['999999999999', '222222222222'],
      regions: ['eu-west-1', 'us-east-1'],
      organizationUnits: [OU_B, OU_A],
      organization: tree(),
      inventoryOf: (workload) => {
        listed.push(`${workload.account} ${workload.region}`);
        return listing();
      },
      now,
    });

    const inventory = await port.takeInventory();

    expect(listed).toEqual([
      '999999999999 eu-west-1',
      '999999999999 us-east-1',
      '222222222222 eu-west-1',
      '222222222222 us-east-1',
      '555555555555 eu-west-1',
      '555555555555 us-east-1',
      '333333333333 eu-west-1',
      '333333333333 us-east-1',
    ]);
    expect(inventory.workloads).toHaveLength(9);
    expect(inventory.gaps).toEqual([]);
    expect(inventory.accountsNotDiscovered).toBeUndefined();
  });

  it('given the discovery is denied, when taken, then the known accounts are listed, every repository has a gap and the failure is named', async () => {
    const denied = Object.assign(new Error("You don't have permissions to access this resource."), {
      name: 'AccessDeniedException',
    });
    const listed: string[] = [];
    const port = inventoryWithOrganizationAccounts({
      own,
      ownInventory: listing(),
      workloadAccounts: ['999999999999'],
      regions: ['eu-west-1'],
      organizationUnits: [OU_A],
      organization: {
        childOrganizationalUnits: async () => {
          throw denied;
        },
        accountsOf: async () => [],
      },
      inventoryOf: (workload) => {
        listed.push(workload.account);
        return listing();
      },
      now,
    });

    const inventory = await port.takeInventory();

    expect(listed).toEqual(['999999999999']);
    expect(inventory.workloads?.map((part) => part.workload.account)).toEqual(['111111111111', '999999999999']);
    expect(gapsConcerning(inventory.gaps, 'app')).toHaveLength(1);
    expect(inventory.gaps[0]?.reason).toMatch(
      new RegExp(`^the accounts of ${OU_A} could not be discovered \\(AccessDeniedException: You don't have`),
    );
    expect(inventory.accountsNotDiscovered).toEqual({
      organizationUnits: [OU_A],
      reason: "AccessDeniedException: You don't have permissions to access this resource.",
    });
  });
});
