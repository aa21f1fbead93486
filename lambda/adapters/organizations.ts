/**
 * The organization's tree for the discovery of the accounts of organizational units (lambda/core/
 * organization-accounts.ts): `ListChildren` (ChildType ORGANIZATIONAL_UNIT) and `ListAccountsForParent`, every page.
 * The SDK's paginators follow `NextToken` until it is absent, which is what the API reference asks: a page may be
 * empty while more results follow.
 * See: https://docs.aws.amazon.com/organizations/latest/APIReference/API_ListChildren.html
 * See: https://docs.aws.amazon.com/organizations/latest/APIReference/API_ListAccountsForParent.html
 *
 * An account is active by its `State`; the older `Status` is read only when `State` is absent. The model of the
 * pinned SDK carries both and says `Status` is retired on September 9, 2026 in favour of `State`
 * (@aws-sdk/client-organizations, `Account`; `AccountState` adds PENDING_ACTIVATION and CLOSED).
 */
import {
  ChildType,
  OrganizationsClient,
  paginateListAccountsForParent,
  paginateListChildren,
} from '@aws-sdk/client-organizations';
import type { OrganizationPort } from '../core/ports';
import { SDK_CLIENT_CONFIG } from './clients';

/** The model's largest page. */
const MAX_RESULTS = 20;

export class OrganizationsAdapter implements OrganizationPort {
  // Organizations has one endpoint per partition (us-east-1 in the aws partition); the SDK resolves it from any
  // region.
  constructor(private readonly client: OrganizationsClient = new OrganizationsClient(SDK_CLIENT_CONFIG)) {}

  async childOrganizationalUnits(parentId: string): Promise<string[]> {
    const ids: string[] = [];
    const pages = paginateListChildren(
      { client: this.client, pageSize: MAX_RESULTS },
      { ParentId: parentId, ChildType: ChildType.ORGANIZATIONAL_UNIT },
    );
    for await (const page of pages) {
      for (const child of page.Children ?? []) if (child.Id) ids.push(child.Id);
    }
    return ids;
  }

  async accountsOf(parentId: string): Promise<{ id: string; active: boolean }[]> {
    const accounts: { id: string; active: boolean }[] = [];
    const pages = paginateListAccountsForParent({ client: this.client, pageSize: MAX_RESULTS }, { ParentId: parentId });
    for await (const page of pages) {
      for (const account of page.Accounts ?? []) {
        if (!account.Id) continue;
        accounts.push({ id: account.Id, active: (account.State ?? account.Status) === 'ACTIVE' });
      }
    }
    return accounts;
  }
}
