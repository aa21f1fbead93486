/**
 * A simulated AWS Organizations (awsJson1_1, `AWSOrganizationsV20161128.<Operation>`) with what the guard's discovery
 * reads: a root, organizational units nested under it, accounts placed in them (joining, moving, suspended), and
 * `ListChildren` / `ListAccountsForParent` answered as the API reference says:
 * - only from the management account or a registered delegated administrator (`AccessDeniedException` otherwise);
 * - paged: `MaxResults` 1 to 20, and a page may be empty while `NextToken` says more follows ("These operations can
 *   occasionally return an empty set of results even when more results are available"), so the first page of every
 *   listing here is empty;
 * - ids checked against the model's patterns (`InvalidInputException`), an unknown parent is
 *   `ParentNotFoundException`;
 * - an account carries `State` (ACTIVE, SUSPENDED, PENDING_CLOSURE, PENDING_ACTIVATION, CLOSED) and, while the model
 *   still has it, the older `Status` (ACTIVE, SUSPENDED, PENDING_CLOSURE only).
 * See: https://docs.aws.amazon.com/organizations/latest/APIReference/API_ListChildren.html
 * See: https://docs.aws.amazon.com/organizations/latest/APIReference/API_ListAccountsForParent.html
 * See: botocore/data/organizations/2016-11-28/service-2.json (ParentId, OrganizationalUnitId, MaxResults, Account)
 */
import type { HttpRequest } from '@smithy/protocol-http';
import { pageByOffset } from './paging';
import { accessKeyIdOf, type SimCaller } from './sts';
import { SimAwsError, type SimService } from './transport';

export type SimAccountState = 'ACTIVE' | 'SUSPENDED' | 'PENDING_CLOSURE' | 'PENDING_ACTIVATION' | 'CLOSED';

const PARENT_ID = /^(r-[0-9a-z]{4,32})|(ou-[0-9a-z]{4,32}-[a-z0-9]{8,32})$/;
const MAX_RESULTS = 20;
const OLD_STATUSES: readonly SimAccountState[] = ['ACTIVE', 'SUSPENDED', 'PENDING_CLOSURE'];

export interface SimOrganizationsOptions {
  readonly managementAccount: string;
  /** who signed the request, from its SigV4 access key id */
  readonly callerOf: (accessKeyId: string) => SimCaller | undefined;
  /** whether the caller's own policies allow the action (e.g. `organizations:ListChildren`) */
  readonly callerMay: (caller: SimCaller, action: string) => boolean;
  /** items per non-empty page, below the model's 20 so that paging is exercised @default 2 */
  readonly pageSize?: number;
}

export class SimOrganizations implements SimService {
  readonly name = 'organizations';
  readonly hostPrefix = 'organizations';
  readonly rootId = 'r-sim0';
  private readonly parentOf = new Map<string, string>();
  private readonly accounts = new Map<string, { parent: string; state: SimAccountState }>();
  private readonly delegatedAdministrators = new Set<string>();
  private nextUnit = 0;

  constructor(private readonly options: SimOrganizationsOptions) {
    this.accounts.set(options.managementAccount, { parent: this.rootId, state: 'ACTIVE' });
  }

  /** A new OU under `parentId` (the root by default); returns its id. */
  createOrganizationalUnit(parentId: string = this.rootId): string {
    if (parentId !== this.rootId && !this.parentOf.has(parentId)) throw new Error(`no parent ${parentId}`);
    const id = `ou-sim0-${String(this.nextUnit++).padStart(8, '0')}`;
    this.parentOf.set(id, parentId);
    return id;
  }

  /** An account joins the organization (or moves) into `parentId`. */
  placeAccount(accountId: string, parentId: string, state: SimAccountState = 'ACTIVE'): void {
    if (parentId !== this.rootId && !this.parentOf.has(parentId)) throw new Error(`no parent ${parentId}`);
    this.accounts.set(accountId, { parent: parentId, state });
  }

  setAccountState(accountId: string, state: SimAccountState): void {
    const account = this.accounts.get(accountId);
    if (!account) throw new Error(`no account ${accountId} in the organization`);
    account.state = state;
  }

  registerDelegatedAdministrator(accountId: string): void {
    this.delegatedAdministrators.add(accountId);
  }

  deregisterDelegatedAdministrator(accountId: string): void {
    this.delegatedAdministrators.delete(accountId);
  }

  handle(operation: string, input: Record<string, unknown>, request?: HttpRequest): unknown {
    const accessKeyId = request ? accessKeyIdOf(request) : undefined;
    const caller = accessKeyId ? this.options.callerOf(accessKeyId) : undefined;
    if (!caller)
      throw new SimAwsError('UnrecognizedClientException', 'The security token included in the request is invalid.');
    if (!this.options.callerMay(caller, `organizations:${operation}`)) {
      throw new SimAwsError(
        'AccessDeniedException',
        `User: ${caller.principalArn} is not authorized to perform: organizations:${operation}`,
      );
    }
    if (caller.accountId !== this.options.managementAccount && !this.delegatedAdministrators.has(caller.accountId)) {
      throw new SimAwsError('AccessDeniedException', "You don't have permissions to access this resource.");
    }
    switch (operation) {
      case 'ListChildren':
        return this.listChildren(input);
      case 'ListAccountsForParent':
        return this.listAccountsForParent(input);
      default:
        throw new SimAwsError('InvalidAction', `simulated Organizations does not implement ${operation}`);
    }
  }

  private listChildren(input: Record<string, unknown>) {
    const parentId = this.parentIdOf(input);
    const childType = input.ChildType;
    let ids: string[];
    if (childType === 'ORGANIZATIONAL_UNIT') {
      ids = [...this.parentOf].filter(([, parent]) => parent === parentId).map(([id]) => id);
    } else if (childType === 'ACCOUNT') {
      ids = [...this.accounts].filter(([, a]) => a.parent === parentId).map(([id]) => id);
    } else {
      throw new SimAwsError('InvalidInputException', `ChildType must be ACCOUNT or ORGANIZATIONAL_UNIT`);
    }
    const page = this.page(`children:${parentId}:${String(childType)}`, ids, input);
    return {
      Children: page.items.map((Id) => ({ Id, Type: childType })),
      ...(page.next ? { NextToken: page.next } : {}),
    };
  }

  private listAccountsForParent(input: Record<string, unknown>) {
    const parentId = this.parentIdOf(input);
    const accounts = [...this.accounts].filter(([, a]) => a.parent === parentId);
    const page = this.page(`accounts:${parentId}`, accounts, input);
    return {
      Accounts: page.items.map(([Id, account]) => ({
        Id,
        Arn: `arn:aws:organizations::${this.options.managementAccount}:account/o-sim0000000/${Id}`,
        State: account.state,
        ...(OLD_STATUSES.includes(account.state) ? { Status: account.state } : {}),
      })),
      ...(page.next ? { NextToken: page.next } : {}),
    };
  }

  private parentIdOf(input: Record<string, unknown>): string {
    const parentId = typeof input.ParentId === 'string' ? input.ParentId : '';
    if (!PARENT_ID.test(parentId)) throw new SimAwsError('InvalidInputException', `ParentId "${parentId}" is invalid`);
    if (parentId !== this.rootId && !this.parentOf.has(parentId)) {
      throw new SimAwsError(
        'ParentNotFoundException',
        "We can't find a root or OU with the ParentId that you specified.",
      );
    }
    return parentId;
  }

  /** The first page of a listing is empty with a NextToken, as AWS may answer; then `pageSize` items a page. */
  private page<T>(key: string, items: readonly T[], input: Record<string, unknown>): { items: T[]; next?: string } {
    const maxResults = input.MaxResults;
    if (maxResults !== undefined && (typeof maxResults !== 'number' || maxResults < 1 || maxResults > MAX_RESULTS)) {
      throw new SimAwsError('InvalidInputException', `MaxResults must be 1 to ${MAX_RESULTS}`);
    }
    const token = typeof input.NextToken === 'string' ? input.NextToken : undefined;
    const invalid = () => new SimAwsError('InvalidInputException', 'The NextToken is invalid.');
    if (token === undefined) {
      return { items: [], next: Buffer.from(JSON.stringify({ k: key, o: 0 })).toString('base64url') };
    }
    const size = Math.min(this.options.pageSize ?? 2, typeof maxResults === 'number' ? maxResults : MAX_RESULTS);
    return pageByOffset(key, items, token, size, invalid);
  }
}
