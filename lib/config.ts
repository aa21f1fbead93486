/**
 * The typed configuration of one deployment, and how it is read from CDK context
 * (`cdk synth -c alertEmail=ops@example.com -c repositories=app,api -c dryRun=true
 * -c reconcileSchedule="rate(6 hours)" -c releaseAfterDays=30 -c watchLifecycleExpiry=true -c lookupPushers=true`).
 */
import {
  emailProblem,
  reconcileScheduleProblem,
  releaseAfterDaysProblem,
  repositoryNameProblem,
  splitList,
  tagPrefixProblem,
} from './validation';

export interface DigestGuardConfig {
  /** Who receives alerts and alarms (at least one address). */
  readonly alertEmails: readonly string[];
  /** Prefix of the protective tags; the construct's default when absent. */
  readonly tagPrefix?: string;
  /** Repositories in scope; empty = every repository of the account and region. */
  readonly repositories: readonly string[];
  /** Detect and alert only. */
  readonly dryRun: boolean;
  /** Run the scheduled reconcile; the construct's default (on) when absent. */
  readonly reconcile?: boolean;
  /** EventBridge schedule expression of the reconcile, e.g. `rate(6 hours)`; the construct's default when absent. */
  readonly reconcileSchedule?: string;
  /** Release protections after this many days unused (0 = never); the construct's default (never) when absent. */
  readonly releaseAfterDays?: number;
  /** `off`, `evaluate` or `preview`; the construct's default (`evaluate`) when absent. */
  readonly lifecycleCheck?: 'off' | 'evaluate' | 'preview';
  /** Opt-in: add the shield rule to lifecycle policies at risk; the construct's default (false) when absent. */
  readonly installLifecycleShield?: boolean;
  /** Opt-in: page on lifecycle expiry of in-use images (needs a CloudTrail trail); the construct's default (false) when absent. */
  readonly watchLifecycleExpiry?: boolean;
  /** Opt-in: name who pushed, from CloudTrail event history; the construct's default (false) when absent. */
  readonly lookupPushers?: boolean;
}

/** The context keys the app reads. */
export const CONTEXT_KEYS = {
  alertEmail: 'alertEmail',
  tagPrefix: 'tagPrefix',
  repositories: 'repositories',
  dryRun: 'dryRun',
  reconcile: 'reconcile',
  reconcileSchedule: 'reconcileSchedule',
  releaseAfterDays: 'releaseAfterDays',
  lifecycleCheck: 'lifecycleCheck',
  installLifecycleShield: 'installLifecycleShield',
  watchLifecycleExpiry: 'watchLifecycleExpiry',
  lookupPushers: 'lookupPushers',
} as const;

/** Thrown with every problem found, one per line, so a user fixes them in one pass. */
export class ConfigError extends Error {
  constructor(public readonly problems: readonly string[]) {
    super(`Invalid ecr-digest-guard configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Reads and validates the configuration. `read` is `app.node.tryGetContext`: values from `-c key=value`
 * arrive as strings, values from cdk.json may be strings, arrays or booleans; both are accepted.
 * @throws ConfigError listing every problem
 */
export function configFromContext(read: (key: string) => unknown): DigestGuardConfig {
  const problems: string[] = [];

  const alertEmails = listValue(read(CONTEXT_KEYS.alertEmail), CONTEXT_KEYS.alertEmail, problems);
  if (alertEmails.length === 0 && !problems.some((p) => p.startsWith(CONTEXT_KEYS.alertEmail))) {
    problems.push(
      `${CONTEXT_KEYS.alertEmail} is required: pass -c ${CONTEXT_KEYS.alertEmail}=ops@example.com (comma-separate several)`,
    );
  }
  for (const address of alertEmails) {
    const problem = emailProblem(address);
    if (problem) problems.push(`${CONTEXT_KEYS.alertEmail}: ${problem}`);
  }

  const rawPrefix = read(CONTEXT_KEYS.tagPrefix);
  let tagPrefix: string | undefined;
  if (rawPrefix !== undefined) {
    if (typeof rawPrefix !== 'string') {
      problems.push(`${CONTEXT_KEYS.tagPrefix} must be a string, got ${JSON.stringify(rawPrefix)}`);
    } else {
      tagPrefix = rawPrefix.trim();
      const problem = tagPrefixProblem(tagPrefix);
      if (problem) problems.push(`${CONTEXT_KEYS.tagPrefix}: ${problem}`);
    }
  }

  const repositories = listValue(read(CONTEXT_KEYS.repositories), CONTEXT_KEYS.repositories, problems);
  for (const name of repositories) {
    const problem = repositoryNameProblem(name);
    if (problem) problems.push(`${CONTEXT_KEYS.repositories}: ${problem}`);
  }

  const dryRun = booleanValue(read(CONTEXT_KEYS.dryRun), CONTEXT_KEYS.dryRun, problems);

  // Absent: the construct's default (on). Unreadable: reported, and no cross-check against it.
  const rawReconcile = read(CONTEXT_KEYS.reconcile);
  let reconcile: boolean | undefined;
  if (rawReconcile !== undefined && rawReconcile !== null) {
    const known = problems.length;
    const value = booleanValue(rawReconcile, CONTEXT_KEYS.reconcile, problems);
    if (problems.length === known) reconcile = value;
  }

  const rawSchedule = read(CONTEXT_KEYS.reconcileSchedule);
  let reconcileSchedule: string | undefined;
  if (rawSchedule !== undefined && rawSchedule !== null) {
    if (typeof rawSchedule !== 'string') {
      problems.push(`${CONTEXT_KEYS.reconcileSchedule} must be a string, got ${JSON.stringify(rawSchedule)}`);
    } else {
      reconcileSchedule = rawSchedule.trim();
      const problem = reconcileScheduleProblem(reconcileSchedule);
      if (problem) problems.push(`${CONTEXT_KEYS.reconcileSchedule}: ${problem}`);
    }
  }

  const releaseAfterDays = wholeNumberValue(read(CONTEXT_KEYS.releaseAfterDays), CONTEXT_KEYS.releaseAfterDays, problems);
  if (releaseAfterDays !== undefined) {
    const problem = releaseAfterDaysProblem(releaseAfterDays);
    if (problem) problems.push(`${CONTEXT_KEYS.releaseAfterDays} ${problem}`);
  }

  const rawLifecycleCheck = read(CONTEXT_KEYS.lifecycleCheck);
  let lifecycleCheck: 'off' | 'evaluate' | 'preview' | undefined;
  if (rawLifecycleCheck !== undefined && rawLifecycleCheck !== null) {
    const value = typeof rawLifecycleCheck === 'string' ? rawLifecycleCheck.trim() : rawLifecycleCheck;
    if (value === 'off' || value === 'evaluate' || value === 'preview') lifecycleCheck = value;
    else problems.push(`${CONTEXT_KEYS.lifecycleCheck} must be off, evaluate or preview, got ${JSON.stringify(rawLifecycleCheck)}`);
  }
  const rawShield = read(CONTEXT_KEYS.installLifecycleShield);
  const installLifecycleShield = rawShield === undefined || rawShield === null ? undefined : booleanValue(rawShield, CONTEXT_KEYS.installLifecycleShield, problems);
  if (installLifecycleShield && (reconcile === false || lifecycleCheck === 'off')) {
    problems.push(`${CONTEXT_KEYS.installLifecycleShield} is true but the shield is installed only by the reconcile's lifecycle check; turn on ${CONTEXT_KEYS.reconcile} and ${CONTEXT_KEYS.lifecycleCheck}`);
  }

  const rawWatch = read(CONTEXT_KEYS.watchLifecycleExpiry);
  const watchLifecycleExpiry = rawWatch === undefined || rawWatch === null ? undefined : booleanValue(rawWatch, CONTEXT_KEYS.watchLifecycleExpiry, problems);
  const rawLookup = read(CONTEXT_KEYS.lookupPushers);
  const lookupPushers = rawLookup === undefined || rawLookup === null ? undefined : booleanValue(rawLookup, CONTEXT_KEYS.lookupPushers, problems);

  if (reconcile === false) {
    if (reconcileSchedule !== undefined) {
      problems.push(`${CONTEXT_KEYS.reconcileSchedule} is set but ${CONTEXT_KEYS.reconcile} is false; drop one of them`);
    }
    if (releaseAfterDays !== undefined && releaseAfterDays > 0) {
      problems.push(
        `${CONTEXT_KEYS.releaseAfterDays} is ${releaseAfterDays} but ${CONTEXT_KEYS.reconcile} is false; protections are released only by the scheduled reconcile`,
      );
    }
  }

  if (problems.length > 0) {
    throw new ConfigError(problems);
  }
  return {
    alertEmails,
    ...(tagPrefix !== undefined ? { tagPrefix } : {}),
    repositories,
    dryRun,
    ...(reconcile !== undefined ? { reconcile } : {}),
    ...(reconcileSchedule !== undefined ? { reconcileSchedule } : {}),
    ...(releaseAfterDays !== undefined ? { releaseAfterDays } : {}),
    ...(lifecycleCheck !== undefined ? { lifecycleCheck } : {}),
    ...(installLifecycleShield !== undefined ? { installLifecycleShield } : {}),
    ...(watchLifecycleExpiry !== undefined ? { watchLifecycleExpiry } : {}),
    ...(lookupPushers !== undefined ? { lookupPushers } : {}),
  };
}

/** A whole number from cdk.json (a number) or from `-c key=value` (digits); `undefined` when absent. */
function wholeNumberValue(raw: unknown, key: string, problems: string[]): number | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw === 'number') return raw;
  if (typeof raw === 'string' && /^\s*\d+\s*$/.test(raw)) return Number(raw);
  problems.push(`${key} must be a whole number, got ${JSON.stringify(raw)}`);
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
