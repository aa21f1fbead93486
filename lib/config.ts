/**
 * The typed configuration of one deployment, and how it is read from CDK context
 * (`cdk synth -c alertEmail=ops@example.com -c repositories=app,api -c dryRun=true
 * -c reconcileSchedule="rate(6 hours)" -c releaseAfterDays=30 -c watchLifecycleExpiry=true -c lookupPushers=true`).
 */
import { CATCH_UP_INTERVAL_MINUTES, type LifecycleCheck } from '../lambda/core/defaults';
import type { DigestGuardChatChannels } from './chat-channels';
import {
  accountIdProblem,
  ConfigError,
  editDistance,
  regionProblem,
  type SharedSettingName,
  sharedSettingsProblems,
  splitList,
  MAX_RELEASE_AFTER_DAYS,
} from './validation';

export { ConfigError };

export interface DigestGuardConfig {
  /** Who receives alerts and alarms (at least one address). */
  readonly alertEmails: readonly string[];
  /** Prefix of the protective tags; the construct's default when absent. */
  readonly tagPrefix?: string;
  /** Repositories in scope; empty = every repository of the account and region (the key left out). */
  readonly repositories: readonly string[];
  /** Detect and alert only. */
  readonly dryRun: boolean;
  /** Run the scheduled reconcile; the construct's default (on) when absent. */
  readonly reconcile?: boolean;
  /** EventBridge schedule expression of the reconcile, e.g. `rate(6 hours)`; the construct's default when absent. */
  readonly reconcileSchedule?: string;
  /** Whole minutes after which a workload's last complete list is overdue for a catch-up; the construct's default when absent. */
  readonly listBoundMinutes?: number;
  /** Release protections after this many days unused (0 = never); the construct's default (never) when absent. */
  readonly releaseAfterDays?: number;
  /** `off`, `evaluate` or `preview`; the construct's default (`evaluate`) when absent. */
  readonly lifecycleCheck?: LifecycleCheck;
  /** Opt-in: add the shield rule to lifecycle policies at risk; the construct's default (false) when absent. */
  readonly installLifecycleShield?: boolean;
  /** Opt-in: page on lifecycle expiry of in-use images (needs a CloudTrail trail); the construct's default (false) when absent. */
  readonly watchLifecycleExpiry?: boolean;
  readonly pushReadsIndex?: boolean;
  /** Opt-in: name who pushed, from CloudTrail event history; the construct's default (false) when absent. */
  readonly lookupPushers?: boolean;
  /** Opt-in: Slack and/or Teams channels that receive the alerts in their chat form. */
  readonly chat?: DigestGuardChatChannels;
  /** The operator's dashboard; the construct's default (on) when absent. */
  readonly dashboard?: boolean;
  /** Other accounts and regions the reconcile lists; absent: only the guard's own account and region. */
  readonly workloads?: WorkloadDeployment;
}

/** Where the guard runs and which other accounts and regions it lists: what both the guard and workload stacks need. */
export interface WorkloadDeployment {
  /** the guard's (registry) account: the one principal account the readers trust */
  readonly guardAccount: string;
  /** the guard's region: it names the reader role (`ecr-digest-guard-reader-<guardRegion>`) */
  readonly guardRegion: string;
  readonly accounts: readonly string[];
  /** the guard's region alone when not given */
  readonly regions: readonly string[];
  /**
   * Organizational units: the guard stack creates a StackSet that deploys the workload stack to every account in
   * them (and every account that joins them), and the reconcile discovers their accounts each run.
   */
  readonly organizationUnits?: readonly string[];
  /** how the StackSet is created: `SELF` from the management account, `DELEGATED_ADMIN` (default) otherwise */
  readonly stackSetCallAs?: StackSetCallAs;
  /**
   * The AWS Organizations id (`o-…`): the guard's event bus admits every account of it (`aws:PrincipalOrgID`), so
   * accounts the StackSet reaches can forward their events without being named. Required with organizational units.
   */
  readonly organizationId?: string;
}

/** `CallAs` of the StackSet: whether the guard account is the organization's management account or not. */
export type StackSetCallAs = 'SELF' | 'DELEGATED_ADMIN';
export const STACK_SET_CALL_AS: readonly StackSetCallAs[] = ['SELF', 'DELEGATED_ADMIN'];

/** The context keys the app reads. */
export const CONTEXT_KEYS = {
  alertEmail: 'alertEmail',
  tagPrefix: 'tagPrefix',
  repositories: 'repositories',
  dryRun: 'dryRun',
  reconcile: 'reconcile',
  reconcileSchedule: 'reconcileSchedule',
  listBound: 'listBound',
  releaseAfterDays: 'releaseAfterDays',
  lifecycleCheck: 'lifecycleCheck',
  installLifecycleShield: 'installLifecycleShield',
  watchLifecycleExpiry: 'watchLifecycleExpiry',
  pushReadsIndex: 'pushReadsIndex',
  lookupPushers: 'lookupPushers',
  slackWorkspaceId: 'slackWorkspaceId',
  slackChannelId: 'slackChannelId',
  teamsTeamId: 'teamsTeamId',
  teamsChannelId: 'teamsChannelId',
  teamsTenantId: 'teamsTenantId',
  dashboard: 'dashboard',
  workloadAccounts: 'workloadAccounts',
  workloadRegions: 'workloadRegions',
  guardAccount: 'guardAccount',
  guardRegion: 'guardRegion',
  organizationUnits: 'organizationUnits',
  stackSetCallAs: 'stackSetCallAs',
  organizationId: 'organizationId',
} as const;

/** How the shared validation names each setting here: by its context key. */
const CONTEXT_KEY_OF: Record<SharedSettingName, string> = {
  alertEmails: CONTEXT_KEYS.alertEmail,
  noAlertSubscription: 'noAlertSubscription (a construct prop; not a context key)',
  tagPrefix: CONTEXT_KEYS.tagPrefix,
  repositories: CONTEXT_KEYS.repositories,
  reconcile: CONTEXT_KEYS.reconcile,
  reconcileSchedule: CONTEXT_KEYS.reconcileSchedule,
  releaseAfterDays: CONTEXT_KEYS.releaseAfterDays,
  lifecycleCheck: CONTEXT_KEYS.lifecycleCheck,
  installLifecycleShield: CONTEXT_KEYS.installLifecycleShield,
  slackWorkspaceId: CONTEXT_KEYS.slackWorkspaceId,
  slackChannelId: CONTEXT_KEYS.slackChannelId,
  teamsTeamId: CONTEXT_KEYS.teamsTeamId,
  teamsChannelId: CONTEXT_KEYS.teamsChannelId,
  teamsTenantId: CONTEXT_KEYS.teamsTenantId,
  workloadAccounts: CONTEXT_KEYS.workloadAccounts,
  workloadRegions: CONTEXT_KEYS.workloadRegions,
  organizationUnits: CONTEXT_KEYS.organizationUnits,
};

export interface ConfigFromContextOptions {
  /**
   * Every context key the app was given (`app.node.getAllContext()`), to refuse a misspelt key of ours
   * instead of ignoring it: `-c dryrun=true` would otherwise deploy with dry run off.
   */
  readonly keys?: readonly string[];
  /** When a cron schedule starts to count; the current time by default. */
  readonly now?: Date;
}

/**
 * Reads and validates the configuration. `read` is `app.node.tryGetContext`: values from `-c key=value`
 * arrive as strings, values from cdk.json may be strings, arrays or booleans; both are accepted. The
 * values are parsed here and then checked by `sharedSettingsProblems`, the validation the construct runs too.
 * @throws ConfigError listing every problem
 */
export function configFromContext(
  read: (key: string) => unknown,
  options: ConfigFromContextOptions = {},
): DigestGuardConfig {
  const problems: string[] = unknownContextKeyProblems(options.keys ?? []);
  const present = (key: string): boolean => read(key) !== undefined && read(key) !== null;

  const alertEmails = listValue(read(CONTEXT_KEYS.alertEmail), CONTEXT_KEYS.alertEmail, problems);
  const alertEmailUnreadable =
    present(CONTEXT_KEYS.alertEmail) && problems.some((p) => p.startsWith(CONTEXT_KEYS.alertEmail));

  const rawPrefix = read(CONTEXT_KEYS.tagPrefix);
  let tagPrefix: string | undefined;
  if (present(CONTEXT_KEYS.tagPrefix)) {
    if (typeof rawPrefix !== 'string') {
      problems.push(`${CONTEXT_KEYS.tagPrefix} must be a string, got ${JSON.stringify(rawPrefix)}`);
    } else {
      tagPrefix = rawPrefix.trim();
    }
  }

  // Present but empty (`-c repositories=`) stays an empty list, which the shared check refuses: it would
  // otherwise silently mean every repository.
  let repositories: string[] | undefined;
  if (present(CONTEXT_KEYS.repositories)) {
    const known = problems.length;
    const value = listValue(read(CONTEXT_KEYS.repositories), CONTEXT_KEYS.repositories, problems);
    if (problems.length === known) repositories = value;
  }

  const dryRun = booleanValue(read(CONTEXT_KEYS.dryRun), CONTEXT_KEYS.dryRun, problems);

  // Absent: the construct's default. Unreadable: reported, and no cross-check against it.
  const optionalBoolean = (key: string): boolean | undefined => {
    if (!present(key)) return undefined;
    const known = problems.length;
    const value = booleanValue(read(key), key, problems);
    return problems.length === known ? value : undefined;
  };
  const reconcile = optionalBoolean(CONTEXT_KEYS.reconcile);

  const rawSchedule = read(CONTEXT_KEYS.reconcileSchedule);
  let reconcileSchedule: string | undefined;
  if (present(CONTEXT_KEYS.reconcileSchedule)) {
    if (typeof rawSchedule !== 'string') {
      problems.push(`${CONTEXT_KEYS.reconcileSchedule} must be a string, got ${JSON.stringify(rawSchedule)}`);
    } else {
      reconcileSchedule = rawSchedule.trim();
    }
  }

  const listBoundMinutes = listBoundValue(read(CONTEXT_KEYS.listBound), present(CONTEXT_KEYS.listBound), problems);
  const releaseAfterDays = releaseDaysValue(read(CONTEXT_KEYS.releaseAfterDays), problems);

  const rawLifecycleCheck = read(CONTEXT_KEYS.lifecycleCheck);
  const lifecycleCheck = !present(CONTEXT_KEYS.lifecycleCheck)
    ? undefined
    : typeof rawLifecycleCheck === 'string'
      ? rawLifecycleCheck.trim()
      : JSON.stringify(rawLifecycleCheck);
  const installLifecycleShield = optionalBoolean(CONTEXT_KEYS.installLifecycleShield);
  const watchLifecycleExpiry = optionalBoolean(CONTEXT_KEYS.watchLifecycleExpiry);
  const pushReadsIndex = optionalBoolean(CONTEXT_KEYS.pushReadsIndex);
  const lookupPushers = optionalBoolean(CONTEXT_KEYS.lookupPushers);
  const dashboard = optionalBoolean(CONTEXT_KEYS.dashboard);

  // Chat channel ids: strings as given (trimmed); the shared validation checks their form and that they come
  // in whole sets.
  const chatIds: Partial<Record<ChatContextKey, string>> = {};
  for (const key of CHAT_CONTEXT_KEYS) {
    if (!present(key)) continue;
    const raw = read(key);
    if (typeof raw === 'string') chatIds[key] = raw.trim();
    else problems.push(`${key} must be a string, got ${JSON.stringify(raw)}`);
  }

  const workloadContext = readWorkloadContext(read, problems);

  const noRecipientProblem = `${CONTEXT_KEYS.alertEmail} is required: pass -c ${CONTEXT_KEYS.alertEmail}=ops@example.com (comma-separate several)`;
  const shared = sharedSettingsProblems(
    {
      alertEmails,
      ...(tagPrefix !== undefined ? { tagPrefix } : {}),
      ...(repositories !== undefined ? { repositories } : {}),
      ...(reconcile !== undefined ? { reconcile } : {}),
      ...(reconcileSchedule !== undefined ? { reconcileSchedule } : {}),
      listBoundGiven: present(CONTEXT_KEYS.listBound),
      ...(releaseAfterDays !== undefined ? { releaseAfterDays } : {}),
      ...(lifecycleCheck !== undefined ? { lifecycleCheck } : {}),
      ...(installLifecycleShield !== undefined ? { installLifecycleShield } : {}),
      ...chatIds,
      ...workloadContext.shared,
    },
    {
      nameOf: (setting) => CONTEXT_KEY_OF[setting],
      noRecipientProblem,
      ...(options.now ? { now: options.now } : {}),
    },
  );
  // An unreadable address list is reported already; "required" would only repeat it.
  problems.push(...shared.filter((problem) => !(alertEmailUnreadable && problem === noRecipientProblem)));

  if (problems.length > 0) {
    throw new ConfigError(problems);
  }
  return {
    alertEmails,
    ...(tagPrefix !== undefined ? { tagPrefix } : {}),
    repositories: repositories ?? [],
    dryRun,
    ...(reconcile !== undefined ? { reconcile } : {}),
    ...(reconcileSchedule !== undefined ? { reconcileSchedule } : {}),
    ...(listBoundMinutes !== undefined ? { listBoundMinutes } : {}),
    ...(releaseAfterDays !== undefined ? { releaseAfterDays } : {}),
    // the shared validation refused anything outside LIFECYCLE_CHECKS above
    ...(lifecycleCheck !== undefined ? { lifecycleCheck: lifecycleCheck as LifecycleCheck } : {}),
    ...(installLifecycleShield !== undefined ? { installLifecycleShield } : {}),
    ...(watchLifecycleExpiry !== undefined ? { watchLifecycleExpiry } : {}),
    ...(pushReadsIndex !== undefined ? { pushReadsIndex } : {}),
    ...(lookupPushers !== undefined ? { lookupPushers } : {}),
    ...chatFromContext(chatIds),
    ...(dashboard !== undefined ? { dashboard } : {}),
    ...(workloadContext.deployment ? { workloads: workloadContext.deployment } : {}),
  };
}

/**
 * The workload deployment alone, for the workload stack: the accounts, regions and where the guard runs, checked
 * with the same words as the guard's configuration, but without the guard's own settings (a workload account's
 * operator deploys `EcrDigestGuardWorkload` without knowing where alerts go). Undefined when no workload account
 * is configured.
 * @throws ConfigError listing every problem
 */
export function workloadDeploymentFromContext(read: (key: string) => unknown): WorkloadDeployment | undefined {
  const problems: string[] = [];
  const { shared, deployment } = readWorkloadContext(read, problems);
  problems.push(
    ...sharedSettingsProblems(
      { ...shared, noAlertSubscription: true },
      { nameOf: (setting) => CONTEXT_KEY_OF[setting], noRecipientProblem: '' },
    ),
  );
  if (problems.length > 0) throw new ConfigError(problems);
  return deployment;
}

/**
 * Reads the four workload keys. Accounts and regions go to the shared validation (`shared`); the guard's account
 * and region are the app's alone: the workload stack is deployed with another account's credentials, so neither
 * can be taken from the environment, and both are required as soon as workload accounts are named.
 */
function readWorkloadContext(
  read: (key: string) => unknown,
  problems: string[],
): {
  shared: {
    workloadAccounts?: readonly string[];
    workloadRegions?: readonly string[];
    organizationUnits?: readonly string[];
  };
  deployment?: WorkloadDeployment;
} {
  const present = (key: string): boolean => read(key) !== undefined && read(key) !== null;
  const list = (key: string): string[] | undefined => {
    if (!present(key)) return undefined;
    const known = problems.length;
    const value = listValue(read(key), key, problems);
    return problems.length === known ? value : undefined;
  };
  const text = (key: string): string | undefined => {
    if (!present(key)) return undefined;
    const raw = read(key);
    if (typeof raw === 'string') return raw.trim();
    problems.push(`${key} must be a string, got ${JSON.stringify(raw)}`);
    return undefined;
  };
  const accounts = list(CONTEXT_KEYS.workloadAccounts);
  const regions = list(CONTEXT_KEYS.workloadRegions);
  const guardAccount = text(CONTEXT_KEYS.guardAccount);
  const guardRegion = text(CONTEXT_KEYS.guardRegion);
  const organizationUnits = list(CONTEXT_KEYS.organizationUnits);
  const callAs = text(CONTEXT_KEYS.stackSetCallAs);
  const organizationId = text(CONTEXT_KEYS.organizationId);
  const shared = {
    ...(accounts !== undefined ? { workloadAccounts: accounts } : {}),
    ...(regions !== undefined ? { workloadRegions: regions } : {}),
    ...(organizationUnits !== undefined ? { organizationUnits } : {}),
  };
  if (callAs !== undefined && !(STACK_SET_CALL_AS as readonly string[]).includes(callAs)) {
    problems.push(
      `${CONTEXT_KEYS.stackSetCallAs} must be SELF (the guard runs in the management account) or DELEGATED_ADMIN, ` +
        `got ${JSON.stringify(callAs)}`,
    );
  }
  if (callAs !== undefined && organizationUnits === undefined) {
    problems.push(
      `${CONTEXT_KEYS.stackSetCallAs} is set but ${CONTEXT_KEYS.organizationUnits} is not; drop it or name the ` +
        'organizational units',
    );
  }
  if (organizationUnits !== undefined && organizationId === undefined) {
    // The StackSet's accounts are not named anywhere: only the organization's id can admit them to the guard's bus.
    problems.push(
      `${CONTEXT_KEYS.organizationUnits} needs ${CONTEXT_KEYS.organizationId} (o-…, from \`aws organizations ` +
        "describe-organization`): the guard's event bus admits the organization's accounts by aws:PrincipalOrgID " +
        'so that the workload stacks the StackSet deploys can forward their events',
    );
  }
  if (accounts === undefined && organizationUnits === undefined) {
    for (const key of [CONTEXT_KEYS.guardAccount, CONTEXT_KEYS.guardRegion, CONTEXT_KEYS.organizationId]) {
      if (present(key))
        problems.push(`${key} is set but ${CONTEXT_KEYS.workloadAccounts} is not; drop it or name the accounts`);
    }
    return { shared };
  }
  const known = problems.length;
  if (guardAccount === undefined || guardRegion === undefined) {
    const needing = accounts !== undefined ? CONTEXT_KEYS.workloadAccounts : CONTEXT_KEYS.organizationUnits;
    problems.push(
      `${needing} needs ${CONTEXT_KEYS.guardAccount} and ${CONTEXT_KEYS.guardRegion} (the registry ` +
        `account and region the guard runs in): pass -c ${CONTEXT_KEYS.guardAccount}=123456789012 -c ` +
        `${CONTEXT_KEYS.guardRegion}=eu-west-1, the same in every account that deploys the workload stack`,
    );
  }
  const accountProblem = guardAccount === undefined ? undefined : accountIdProblem(guardAccount);
  if (accountProblem) problems.push(`${CONTEXT_KEYS.guardAccount}: ${accountProblem}`);
  const guardRegionProblem = guardRegion === undefined ? undefined : regionProblem(guardRegion);
  if (guardRegionProblem) problems.push(`${CONTEXT_KEYS.guardRegion}: ${guardRegionProblem}`);
  if (problems.length > known || guardAccount === undefined || guardRegion === undefined) return { shared };
  return {
    shared,
    deployment: {
      guardAccount,
      guardRegion,
      accounts: [...new Set(accounts ?? [])],
      regions: [...new Set(regions ?? [guardRegion])],
      ...(organizationUnits !== undefined ? { organizationUnits: [...new Set(organizationUnits)] } : {}),
      ...(callAs !== undefined ? { stackSetCallAs: callAs as StackSetCallAs } : {}),
      ...(organizationId !== undefined ? { organizationId } : {}),
    },
  };
}

const CHAT_CONTEXT_KEYS = [
  CONTEXT_KEYS.slackWorkspaceId,
  CONTEXT_KEYS.slackChannelId,
  CONTEXT_KEYS.teamsTeamId,
  CONTEXT_KEYS.teamsChannelId,
  CONTEXT_KEYS.teamsTenantId,
] as const;
type ChatContextKey = (typeof CHAT_CONTEXT_KEYS)[number];

/** The chat channels the (validated) context ids name: a platform only when all its ids were given. */
function chatFromContext(ids: Partial<Record<ChatContextKey, string>>): { chat?: DigestGuardChatChannels } {
  const { slackWorkspaceId, slackChannelId, teamsTeamId, teamsChannelId, teamsTenantId } = ids;
  const chat: DigestGuardChatChannels = {
    ...(slackWorkspaceId !== undefined && slackChannelId !== undefined
      ? { slack: { workspaceId: slackWorkspaceId, channelId: slackChannelId } }
      : {}),
    ...(teamsTeamId !== undefined && teamsChannelId !== undefined && teamsTenantId !== undefined
      ? { teams: { teamId: teamsTeamId, channelId: teamsChannelId, tenantId: teamsTenantId } }
      : {}),
  };
  return chat.slack || chat.teams ? { chat } : {};
}

/**
 * Context keys that are not ours but look like one of ours (same letters ignoring case and separators, a
 * small edit distance, or a part of one), each with the key it probably meant. Anything else is left alone:
 * the CDK's own keys (`@aws-cdk/…` feature flags, `aws:cdk:…`, lookups such as `availability-zones:…`,
 * `cli-telemetry`, `acknowledged-issue-numbers`) and keys other tools read from the same cdk.json.
 */
export function unknownContextKeyProblems(keys: readonly string[]): string[] {
  const ours = Object.values(CONTEXT_KEYS) as string[];
  const normalized = (key: string): string => key.toLowerCase().replace(/[-_. ]/g, '');
  const problems: string[] = [];
  for (const key of keys) {
    if (ours.includes(key) || /[:/@]/.test(key)) continue;
    const given = normalized(key);
    const likely = ours.filter((our) => {
      const candidate = normalized(our);
      if (given === candidate) return true;
      if (editDistance(given, candidate) <= Math.max(1, Math.floor(candidate.length / 4))) return true;
      return given.length >= 5 && candidate.includes(given);
    });
    if (likely.length > 0) {
      problems.push(`${key} is not a setting of this app; did you mean ${likely.join(' or ')}?`);
    }
  }
  return problems;
}

/**
 * A number from cdk.json, or from `-c key=value` (any decimal, so `-3` and `1.5` reach the range check and
 * its message instead of a bare "not a number"); `undefined` when absent.
 */
function releaseDaysValue(raw: unknown, problems: string[]): number | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw === 'number') return raw;
  if (typeof raw === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(raw)) return Number(raw);
  problems.push(
    `${CONTEXT_KEYS.releaseAfterDays} must be a whole number of days from 0 (never release) to ${MAX_RELEASE_AFTER_DAYS}, ` +
      `got ${JSON.stringify(raw)}`,
  );
  return undefined;
}

function listValue(raw: unknown, key: string, problems: string[]): string[] {
  if (raw === undefined || raw === null) return [];
  if (typeof raw === 'string') return splitList(raw);
  if (Array.isArray(raw) && raw.every((item) => typeof item === 'string')) {
    return raw.flatMap((item: string) => splitList(item));
  }
  problems.push(`${key} must be a comma-separated string or a list of strings, got ${JSON.stringify(raw)}`);
  return [];
}

function booleanValue(raw: unknown, key: string, problems: string[]): boolean {
  if (raw === undefined || raw === null) return false;
  if (typeof raw === 'boolean') return raw;
  if (typeof raw === 'string') {
    const normalized = raw.trim().toLowerCase();
    if (normalized === 'true') return true;
    if (normalized === 'false') return false;
  }
  problems.push(`${key} must be true or false, got ${JSON.stringify(raw)}`);
  return false;
}

/**
 * `-c listBound=…`: whole minutes (`375`) or `<n> minutes` / `<n> hours`; at least the catch-up's 15-minute period.
 * Absent: undefined (the construct's default follows from the reconcile schedule).
 */
function listBoundValue(raw: unknown, given: boolean, problems: string[]): number | undefined {
  if (!given) return undefined;
  const match = /^(\d+)\s*(minutes?|hours?)?$/.exec(String(raw).trim());
  const minutes = match ? Number(match[1]) * (match[2]?.startsWith('hour') ? 60 : 1) : Number.NaN;
  if (!Number.isSafeInteger(minutes) || minutes < CATCH_UP_INTERVAL_MINUTES) {
    problems.push(
      `${CONTEXT_KEYS.listBound} must be whole minutes or hours of at least ${CATCH_UP_INTERVAL_MINUTES} minutes (e.g. 375 or "7 hours"), got ${JSON.stringify(raw)}`,
    );
    return undefined;
  }
  return minutes;
}
