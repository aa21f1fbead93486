/**
 * A simulated AWS STS that answers `AssumeRole` (awsQuery, like SNS) for the roles of a simulated organization.
 * The caller is read from the SigV4 credential of the signed request; the role must exist and its trust policy
 * must admit the caller; the caller's own permissions (when the organization models them) must allow
 * `sts:AssumeRole` on the role. The credentials it returns act in the role's account (see `organization.ts`).
 *
 * Follows the API reference and the botocore model `sts/2011-06-15/service-2.json` (AssumeRole: RoleArn and
 * RoleSessionName required, DurationSeconds 900 to 43200, default 3600; errors MalformedPolicyDocument,
 * PackedPolicyTooLarge, RegionDisabledException, ExpiredTokenException; a caller the trust does not admit gets
 * `AccessDenied`, HTTP 403).
 * See: https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html
 * See: https://docs.aws.amazon.com/STS/latest/APIReference/CommonErrors.html
 * Trust policy evaluation follows the IAM policy reference for what the guard's trust uses: `Principal.AWS` as an
 * account (`123456789012` or `arn:aws:iam::123456789012:root`, which admits any principal of that account that
 * its own policies allow) or a role ARN, and `Condition` with `ArnEquals`/`ArnLike`/`StringEquals`/`StringLike`
 * on `aws:PrincipalArn` and `aws:PrincipalAccount`. An explicit `Deny` wins. Anything else in a trust policy is
 * refused loudly (the simulation would otherwise guess).
 * See: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html
 * See: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-principalarn
 */
import { randomBytes } from 'node:crypto';
import type { HttpRequest } from '@smithy/protocol-http';
import { SimAwsError, type SimService } from './transport';

/** Who signed a request: an IAM principal of one account. */
export interface SimCaller {
  readonly accountId: string;
  /** `arn:aws:iam::<account>:role/<name>` for a role (or a session of it), `…:user/<name>` for a user */
  readonly principalArn: string;
}

/** An IAM policy document as CloudFormation and IAM take it (already resolved: no intrinsic functions). */
export interface SimPolicyDocument {
  readonly Version?: string;
  readonly Statement: readonly SimPolicyStatement[] | SimPolicyStatement;
}

export interface SimPolicyStatement {
  readonly Sid?: string;
  readonly Effect: 'Allow' | 'Deny';
  readonly Action?: string | readonly string[];
  readonly Resource?: string | readonly string[];
  readonly Principal?: '*' | { readonly AWS?: string | readonly string[]; readonly Service?: unknown };
  readonly Condition?: Record<string, Record<string, string | readonly string[]>>;
}

/** A role of the organization as STS sees it. */
export interface SimRole {
  readonly accountId: string;
  readonly roleName: string;
  readonly arn: string;
  readonly trustPolicy: SimPolicyDocument;
  /** the role's identity policies; when absent the simulation does not restrict what the role may call */
  readonly permissions?: SimPolicyDocument;
}

/** A session AssumeRole handed out: its access key acts as the role in the role's account. */
export interface SimSession {
  readonly accessKeyId: string;
  readonly role: SimRole;
  readonly sessionName: string;
  readonly expiresAt: Date;
}

export interface SimStsOptions {
  /** who signed the request, from its SigV4 access key id; undefined for an unknown key */
  readonly callerOf: (accessKeyId: string) => SimCaller | undefined;
  readonly roleOf: (roleArn: string) => SimRole | undefined;
  /** whether the caller's own policies allow the action on the resource */
  readonly callerMay: (caller: SimCaller, action: string, resource: string) => boolean;
  readonly onSession: (session: SimSession) => void;
  readonly now: () => Date;
}

const ROLE_ARN = /^arn:aws:iam::(\d{12}):role\/(?:[\w+=,.@-]+\/)*([\w+=,.@-]{1,64})$/;
// The model's pattern for RoleSessionName: `[\w+=,.@-]*`, 2 to 64 characters.
const SESSION_NAME = /^[\w+=,.@-]{2,64}$/;
const MIN_DURATION_SECONDS = 900;
const MAX_DURATION_SECONDS = 43_200;
const DEFAULT_DURATION_SECONDS = 3600;

export class SimSts implements SimService {
  readonly name = 'sts';
  readonly hostPrefix = 'sts';
  readonly xmlNamespace = 'https://sts.amazonaws.com/doc/2011-06-15/';

  constructor(private readonly options: SimStsOptions) {}

  handle(operation: string, input: Record<string, string>, request?: HttpRequest): unknown {
    const caller = request ? this.callerOfRequest(request) : undefined;
    if (!caller) {
      throw new SimAwsError('InvalidClientTokenId', 'The security token included in the request is invalid.', 403);
    }
    switch (operation) {
      case 'AssumeRole':
        return this.assumeRole(caller, input);
      case 'GetCallerIdentity':
        return { Account: caller.accountId, Arn: caller.principalArn, UserId: 'AIDASIMULATED' };
      default:
        throw new SimAwsError('InvalidAction', `simulated STS does not implement ${operation}`);
    }
  }

  private callerOfRequest(request: HttpRequest): SimCaller | undefined {
    const accessKeyId = accessKeyIdOf(request);
    return accessKeyId ? this.options.callerOf(accessKeyId) : undefined;
  }

  private assumeRole(caller: SimCaller, input: Record<string, string>) {
    const roleArn = input.RoleArn ?? '';
    const sessionName = input.RoleSessionName ?? '';
    if (!ROLE_ARN.test(roleArn)) throw new SimAwsError('ValidationError', `RoleArn "${roleArn}" is not a role ARN`);
    if (!SESSION_NAME.test(sessionName)) {
      throw new SimAwsError('ValidationError', `RoleSessionName "${sessionName}" must match [\\w+=,.@-]{2,64}`);
    }
    const duration = input.DurationSeconds === undefined ? DEFAULT_DURATION_SECONDS : Number(input.DurationSeconds);
    if (!Number.isInteger(duration) || duration < MIN_DURATION_SECONDS || duration > MAX_DURATION_SECONDS) {
      throw new SimAwsError(
        'ValidationError',
        `DurationSeconds must be ${MIN_DURATION_SECONDS} to ${MAX_DURATION_SECONDS}`,
      );
    }
    // STS answers the same AccessDenied whether the role is missing or its trust refuses the caller, so a caller
    // cannot probe which roles exist in another account.
    const denied = () =>
      new SimAwsError(
        'AccessDenied',
        `User: ${caller.principalArn} is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`,
        403,
      );
    const role = this.options.roleOf(roleArn);
    if (!role) throw denied();
    if (!this.options.callerMay(caller, 'sts:AssumeRole', roleArn)) throw denied();
    if (!trustAdmits(role.trustPolicy, caller)) throw denied();

    const expiresAt = new Date(this.options.now().getTime() + duration * 1000);
    const accessKeyId = `ASIA${randomBytes(8).toString('hex').toUpperCase()}`;
    this.options.onSession({ accessKeyId, role, sessionName, expiresAt });
    return {
      Credentials: {
        AccessKeyId: accessKeyId,
        SecretAccessKey: randomBytes(20).toString('base64'),
        SessionToken: randomBytes(32).toString('base64'),
        Expiration: expiresAt,
      },
      AssumedRoleUser: {
        AssumedRoleId: `AROASIMULATED:${sessionName}`,
        Arn: `arn:aws:sts::${role.accountId}:assumed-role/${role.roleName}/${sessionName}`,
      },
    };
  }
}

/** The access key id of a SigV4-signed request (`Authorization: AWS4-HMAC-SHA256 Credential=<key>/…`). */
export function accessKeyIdOf(request: HttpRequest): string | undefined {
  const authorization = String(request.headers.authorization ?? request.headers.Authorization ?? '');
  return /Credential=([^/,\s]+)\//.exec(authorization)?.[1];
}

const listOf = (value: string | readonly string[] | undefined): readonly string[] =>
  value === undefined ? [] : typeof value === 'string' ? [value] : value;

const statementsOf = (document: SimPolicyDocument): readonly SimPolicyStatement[] =>
  Array.isArray(document.Statement) ? document.Statement : [document.Statement as SimPolicyStatement];

/** IAM wildcards: `*` any run of characters, `?` one character. */
function wildcardMatches(pattern: string, value: string): boolean {
  const source = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${source}$`).test(value);
}

function principalMatches(principal: SimPolicyStatement['Principal'], caller: SimCaller): boolean {
  if (principal === undefined) return false;
  if (principal === '*') return true;
  return listOf(principal.AWS).some((entry) => {
    if (entry === '*') return true;
    // An account id, or the account's root ARN, admits every principal of the account (its own policies decide).
    const account = /^(\d{12})$/.exec(entry)?.[1] ?? /^arn:aws:iam::(\d{12}):root$/.exec(entry)?.[1];
    if (account) return account === caller.accountId;
    return entry === caller.principalArn;
  });
}

const CONDITION_OPERATORS: Record<string, (expected: string, actual: string) => boolean> = {
  ArnEquals: (expected, actual) => expected === actual,
  ArnLike: wildcardMatches,
  StringEquals: (expected, actual) => expected === actual,
  StringLike: wildcardMatches,
};

/** Whether every condition holds for the request context (keys in lower case, as IAM compares them). */
function conditionHolds(
  condition: SimPolicyStatement['Condition'],
  context: Readonly<Record<string, string>>,
): boolean {
  if (!condition) return true;
  return Object.entries(condition).every(([operator, keys]) => {
    const test = CONDITION_OPERATORS[operator];
    if (!test) throw new Error(`simulated STS: condition operator ${operator} is not modelled`);
    return Object.entries(keys).every(([key, expected]) => {
      const actual = context[key.toLowerCase()];
      if (actual === undefined) throw new Error(`simulated STS: condition key ${key} is not modelled`);
      // Several values for one key: any may match (IAM's OR within a key).
      return listOf(expected).some((value) => test(value, actual));
    });
  });
}

const callerContext = (caller: SimCaller): Record<string, string> => ({
  'aws:principalarn': caller.principalArn,
  'aws:principalaccount': caller.accountId,
});

function actionMatches(actions: string | readonly string[] | undefined, action: string): boolean {
  return listOf(actions).some((pattern) => wildcardMatches(pattern.toLowerCase(), action.toLowerCase()));
}

/** Whether a role's trust policy lets `caller` assume it: an Allow for sts:AssumeRole and no Deny. */
export function trustAdmits(trust: SimPolicyDocument, caller: SimCaller): boolean {
  const applies = (statement: SimPolicyStatement): boolean =>
    actionMatches(statement.Action, 'sts:AssumeRole') &&
    principalMatches(statement.Principal, caller) &&
    conditionHolds(statement.Condition, callerContext(caller));
  const statements = statementsOf(trust);
  if (statements.some((s) => s.Effect === 'Deny' && applies(s))) return false;
  return statements.some((s) => s.Effect === 'Allow' && applies(s));
}

/**
 * Whether a role's trust lets an AWS service assume it on behalf of one of its resources: an Allow for
 * sts:AssumeRole naming the service principal whose conditions hold for the source the service states
 * (`aws:SourceAccount`, `aws:SourceArn`), and no Deny.
 * See: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-sourcearn
 */
export function trustAdmitsService(
  trust: SimPolicyDocument,
  service: string,
  source: { readonly account: string; readonly arn: string },
): boolean {
  const context = { 'aws:sourceaccount': source.account, 'aws:sourcearn': source.arn };
  const applies = (statement: SimPolicyStatement): boolean =>
    actionMatches(statement.Action, 'sts:AssumeRole') &&
    typeof statement.Principal === 'object' &&
    listOf(statement.Principal.Service as string | readonly string[] | undefined).includes(service) &&
    conditionHolds(statement.Condition, context);
  const statements = statementsOf(trust);
  if (statements.some((s) => s.Effect === 'Deny' && applies(s))) return false;
  return statements.some((s) => s.Effect === 'Allow' && applies(s));
}

/**
 * Whether identity policies allow `action` on `resource`: an Allow whose actions and resources match, and no
 * matching Deny. Resources are compared as written (wildcards allowed); condition keys are not modelled here.
 */
export function policyAllows(policy: SimPolicyDocument, action: string, resource: string): boolean {
  const applies = (statement: SimPolicyStatement): boolean =>
    actionMatches(statement.Action, action) &&
    listOf(statement.Resource).some((pattern) => wildcardMatches(pattern, resource));
  const statements = statementsOf(policy);
  if (statements.some((s) => s.Effect === 'Deny' && applies(s))) return false;
  return statements.some((s) => s.Effect === 'Allow' && applies(s));
}

/** Whether identity policies allow `action` on some resource (for calls whose resource the sim does not derive). */
export function policyAllowsAction(policy: SimPolicyDocument, action: string): boolean {
  return statementsOf(policy).some((s) => s.Effect === 'Allow' && actionMatches(s.Action, action));
}
