/**
 * A simulated organization: several accounts, each in several regions, every (account, region) a
 * `SimulatedAccount` with its own ECR, ECS, Lambda, SNS and DynamoDB state, all on one clock; IAM roles with
 * their trust and identity policies; and STS (`sts.ts`) to assume them. One SDK `requestHandler` serves them all
 * and routes each signed request the way AWS does: the SigV4 access key id says who calls and so in which
 * account the call acts, the credential scope says in which region.
 * See: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html
 *
 * What it checks: an unknown access key (`UnrecognizedClientException`), an expired session
 * (`ExpiredTokenException`), a session of a role that has since been deleted, and, for principals whose
 * identity policy is given, the action of every call (`AccessDeniedException`). Resources of calls other than
 * `sts:AssumeRole` are not checked: the simulation does not derive each action's resource ARN.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { HttpRequest, HttpResponse } from '@smithy/protocol-http';
import { SimClock, SimulatedAccount, type SimulatedAccountOptions } from './account';
import { SimEventBuses } from './event-buses';
import { SimOrganizations } from './organizations';
import {
  accessKeyIdOf,
  type SimCaller,
  type SimPolicyDocument,
  type SimRole,
  type SimSession,
  SimSts,
  policyAllows,
  policyAllowsAction,
} from './sts';
import { SimAwsError, SimTransport, errorResponseFor } from './transport';

export interface SimOrganizationAccount {
  readonly accountId: string;
  readonly regions: readonly string[];
}

export interface SimulatedOrganizationOptions {
  readonly accounts: readonly SimOrganizationAccount[];
  /** where the shared clock starts (default: the wall clock) */
  readonly startAt?: Date;
  /** throttle ECS calls in every (account, region), each with its own token buckets */
  readonly ecsThrottling?: SimulatedAccountOptions['ecsThrottling'];
  /** the AWS Organizations id every declared account belongs to (`aws:PrincipalOrgID`); none by default */
  readonly organizationId?: string;
  /** the organization's management account (`organizations.ts`) @default the first account */
  readonly managementAccount?: string;
}

/** Who signed with an access key: a principal, and the session when the key came from AssumeRole. */
interface Identity extends SimCaller {
  readonly session?: SimSession;
}

/**
 * Who makes the call being answered, and in which organization. One storage for every organization of the process:
 * Node 20 keeps each AsyncLocalStorage that has run in a list for good and visits all of them at every promise
 * created afterwards (lib/async_hooks.js, `storageList`), so a storage per organization made a process that builds
 * many organizations (the long property run builds one per run) slower with each one.
 */
const callerOfCall = new AsyncLocalStorage<{
  readonly organization: SimulatedOrganization;
  readonly identity: Identity;
}>();

/** IAM's service prefix of each simulated service. */
const IAM_PREFIX: Record<string, string> = {
  ecr: 'ecr',
  ecs: 'ecs',
  lambda: 'lambda',
  sns: 'sns',
  dynamodb: 'dynamodb',
  sts: 'sts',
};

export class SimulatedOrganization {
  readonly clock: SimClock;
  /** STS's own wire: its calls are counted here */
  readonly stsTransport = new SimTransport();
  /** EventBridge buses and rules across the accounts (`event-buses.ts`): forwarding with its policy checks */
  readonly eventBuses: SimEventBuses;
  private readonly accounts = new Map<string, SimulatedAccount>();
  private readonly roles = new Map<string, SimRole>();
  private readonly identities = new Map<string, Identity>();
  private nextKey = 0;
  /** Organizations' own wire (a global service: one for the whole organization) */
  readonly organizationsTransport = new SimTransport();
  /** the organization's tree: OUs, where each account is, delegated administrators */
  readonly organizations: SimOrganizations;
  private readonly accountOptions: SimulatedOrganizationOptions;

  /** Every account of the organization, declared or joined: `aws:PrincipalOrgID` admits them. */
  private readonly memberAccounts = new Set<string>();

  constructor(options: SimulatedOrganizationOptions) {
    this.clock = new SimClock(options.startAt);
    // An account that joins later (`joinAccount`) is a member too.
    const members = this.memberAccounts;
    for (const { accountId } of options.accounts) members.add(accountId);
    this.eventBuses = new SimEventBuses({
      roleOf: (roleArn) => this.roles.get(roleArn),
      organizationIdOf: (accountId) => (members.has(accountId) ? options.organizationId : undefined),
    });
    this.accountOptions = options;
    this.organizations = new SimOrganizations({
      managementAccount: options.managementAccount ?? options.accounts[0]?.accountId ?? '000000000000',
      callerOf: (accessKeyId) => this.liveIdentity(accessKeyId),
      callerMay: (caller, action) => {
        const policy = this.permissionsOf(caller);
        return policy === undefined || policyAllowsAction(policy, action);
      },
    });
    this.organizationsTransport.register(this.organizations);
    for (const { accountId, regions } of options.accounts) {
      if (regions.length === 0) throw new Error(`account ${accountId} needs at least one region`);
      for (const region of regions) {
        const account = new SimulatedAccount({
          accountId,
          region,
          clock: this.clock,
          // A task here may pull from any registry of the organization (the registry-account layout).
          otherRegistries: (registryId, registryRegion) => this.accounts.get(keyOf(registryId, registryRegion))?.ecr,
          ...(options.ecsThrottling !== undefined ? { ecsThrottling: options.ecsThrottling } : {}),
        });
        account.transport.addInterceptor(
          async (call, answer) => {
            this.checkCallAllowed(call.service, call.operation);
            return answer();
          },
          { outermost: true },
        );
        this.accounts.set(keyOf(accountId, region), account);
      }
    }
    this.stsTransport.register(
      new SimSts({
        callerOf: (accessKeyId) => this.liveIdentity(accessKeyId),
        roleOf: (roleArn) => this.roles.get(roleArn),
        callerMay: (caller, action, resource) => {
          const policy = this.permissionsOf(caller);
          return policy === undefined || policyAllows(policy, action, resource);
        },
        onSession: (session) => {
          this.identities.set(session.accessKeyId, {
            accountId: session.role.accountId,
            principalArn: session.role.arn,
            session,
          });
        },
        now: () => this.clock.now(),
      }),
    );
  }

  /** The (account, region); throws when the organization has no such pair. */
  account(accountId: string, region: string): SimulatedAccount {
    const account = this.accounts.get(keyOf(accountId, region));
    if (!account) throw new Error(`the simulated organization has no account ${accountId} in ${region}`);
    return account;
  }

  /**
   * An account that joins the organization after it was created (place it in an OU with `organizations`): its
   * (account, region) pairs, wired as the constructor wires the first ones.
   */
  joinAccount(accountId: string, regions: readonly string[]): void {
    this.memberAccounts.add(accountId);
    for (const region of regions) {
      if (this.accounts.has(keyOf(accountId, region))) throw new Error(`account ${accountId} is already in ${region}`);
      const account = new SimulatedAccount({
        accountId,
        region,
        clock: this.clock,
        otherRegistries: (registryId, registryRegion) => this.accounts.get(keyOf(registryId, registryRegion))?.ecr,
        ...(this.accountOptions.ecsThrottling !== undefined
          ? { ecsThrottling: this.accountOptions.ecsThrottling }
          : {}),
      });
      account.transport.addInterceptor(
        async (call, answer) => {
          this.checkCallAllowed(call.service, call.operation);
          return answer();
        },
        { outermost: true },
      );
      this.accounts.set(keyOf(accountId, region), account);
    }
  }

  /** Every (account, region), in the order they were declared. */
  allAccounts(): SimulatedAccount[] {
    return [...this.accounts.values()];
  }

  /**
   * Creates (or replaces) an IAM role. `trustPolicy` is who may assume it, as the stack declares it (resolved);
   * `permissions`, when given, limits what its sessions and callers signing as it may do.
   */
  putRole(
    accountId: string,
    roleName: string,
    trustPolicy: SimPolicyDocument,
    permissions?: SimPolicyDocument,
  ): SimRole {
    const arn = roleArn(accountId, roleName);
    const role: SimRole = { accountId, roleName, arn, trustPolicy, ...(permissions ? { permissions } : {}) };
    this.roles.set(arn, role);
    return role;
  }

  /** Deletes a role: AssumeRole is denied from now on, and sessions already handed out stop working. */
  deleteRole(accountId: string, roleName: string): void {
    if (!this.roles.delete(roleArn(accountId, roleName))) throw new Error(`no role ${roleName} in ${accountId}`);
  }

  role(accountId: string, roleName: string): SimRole | undefined {
    return this.roles.get(roleArn(accountId, roleName));
  }

  /** The wire for every client of the organization: routes by access key and credential scope. */
  readonly requestHandler = {
    handle: async (request: HttpRequest): Promise<{ response: HttpResponse }> => this.answer(request),
    updateHttpClientConfig: () => undefined,
    httpHandlerConfigs: () => ({}),
    destroy: () => undefined,
  };

  /**
   * Client configuration for a principal of `accountId` (`roleName`: the role a function runs as, whose
   * identity policy then applies; otherwise an operator user with no restrictions) calling in `region`.
   */
  clientConfig(options: {
    readonly accountId: string;
    readonly region: string;
    readonly roleName?: string;
    readonly maxAttempts?: number;
  }) {
    const principalArn = options.roleName
      ? roleArn(options.accountId, options.roleName)
      : `arn:aws:iam::${options.accountId}:user/simulated-operator`;
    const accessKeyId = `AKIA${String(this.nextKey++).padStart(4, '0')}${options.accountId}`;
    this.identities.set(accessKeyId, { accountId: options.accountId, principalArn });
    return {
      region: options.region,
      credentials: { accessKeyId, secretAccessKey: 'simulated-secret-access-key' },
      requestHandler: this.requestHandler,
      ...(options.maxAttempts !== undefined ? { maxAttempts: options.maxAttempts } : {}),
    };
  }

  /** Calls answered across the organization (STS included), by service and operation. */
  callCount(service?: string, operation?: string): number {
    return (
      this.stsTransport.callCount(service, operation) +
      this.organizationsTransport.callCount(service, operation) +
      this.allAccounts().reduce((sum, account) => sum + account.callCount(service, operation), 0)
    );
  }

  private async answer(request: HttpRequest): Promise<{ response: HttpResponse }> {
    if (request.hostname.startsWith('sts.')) return this.stsTransport.requestHandler.handle(request);
    if (request.hostname.startsWith('organizations.'))
      return this.organizationsTransport.requestHandler.handle(request);
    const accessKeyId = accessKeyIdOf(request);
    const identity = accessKeyId ? this.identities.get(accessKeyId) : undefined;
    if (!identity) {
      return reject(request, 'UnrecognizedClientException', 'The security token included in the request is invalid.');
    }
    if (identity.session && identity.session.expiresAt.getTime() <= this.clock.now().getTime()) {
      return reject(request, 'ExpiredTokenException', 'The security token included in the request is expired');
    }
    const region = credentialScopeRegionOf(request);
    const account = region ? this.accounts.get(keyOf(identity.accountId, region)) : undefined;
    if (!account) throw new Error(`the simulated organization has no account ${identity.accountId} in ${region}`);
    return callerOfCall.run({ organization: this, identity }, () => account.transport.requestHandler.handle(request));
  }

  /** An identity whose session is still valid (STS refuses expired and orphaned session credentials too). */
  private liveIdentity(accessKeyId: string): Identity | undefined {
    const identity = this.identities.get(accessKeyId);
    if (!identity?.session) return identity;
    const roleStillThere = this.roles.get(identity.session.role.arn) === identity.session.role;
    const unexpired = identity.session.expiresAt.getTime() > this.clock.now().getTime();
    return roleStillThere && unexpired ? identity : undefined;
  }

  private permissionsOf(caller: SimCaller): SimPolicyDocument | undefined {
    return this.roles.get(caller.principalArn)?.permissions;
  }

  private checkCallAllowed(service: string, operation: string): void {
    const caller = callerOfCall.getStore();
    if (caller?.organization !== this) return;
    const identity = caller.identity;
    const action = `${IAM_PREFIX[service] ?? service}:${operation}`;
    const deny = () =>
      new SimAwsError(
        'AccessDeniedException',
        `User: ${identity.principalArn} is not authorized to perform: ${action}`,
        400,
      );
    if (identity.session && this.roles.get(identity.session.role.arn) !== identity.session.role) throw deny();
    const policy = this.permissionsOf(identity);
    if (policy !== undefined && !policyAllowsAction(policy, action)) throw deny();
  }
}

function keyOf(accountId: string, region: string): string {
  return `${accountId}/${region}`;
}

function roleArn(accountId: string, roleName: string): string {
  return `arn:aws:iam::${accountId}:role/${roleName}`;
}

/** The region of a SigV4 credential scope: `Credential=<key>/<date>/<region>/<service>/aws4_request`. */
function credentialScopeRegionOf(request: HttpRequest): string | undefined {
  const authorization = String(request.headers.authorization ?? request.headers.Authorization ?? '');
  return /Credential=[^/]+\/\d{8}\/([^/]+)\//.exec(authorization)?.[1];
}

function reject(request: HttpRequest, code: string, message: string): { response: HttpResponse } {
  return { response: errorResponseFor(request, new SimAwsError(code, message, 400)) };
}
