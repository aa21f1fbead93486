/**
 * Checks shared by the construct (props) and the app (context), so both fail with the same words.
 * Each returns a problem description, or `undefined` when the value is fine; callers prefix the name of
 * the prop or context key the value came from.
 */
// Only pure core modules: the rules the functions apply at run time, so the app refuses the same values.
import { LIFECYCLE_CHECKS, MAX_RELEASE_AFTER_DAYS } from '../lambda/core/defaults';
import { ECR_REPOSITORY_NAME } from '../lambda/core/image-uri';
import { tagPrefixProblem } from '../lambda/core/protective-tag';
import { RegionInfo } from 'aws-cdk-lib/region-info';
import { cronTiming } from './schedule-expression';

export { MAX_TAG_PREFIX_LENGTH } from '../lambda/core/protective-tag';
export { tagPrefixProblem };
export { LIFECYCLE_CHECKS, MAX_RELEASE_AFTER_DAYS };

/** ECR repository names: lowercase path components separated by `/`, 2 to 256 characters.
 * See: https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_CreateRepository.html */
const ECR_REPOSITORY_NAME_MIN = 2;
const ECR_REPOSITORY_NAME_MAX = 256;

/** Deliberately loose: SNS confirms the address by mail; this only catches typos such as a missing `@`. */
const EMAIL = /^[^\s@,;]+@[^\s@,;]+\.[^\s@,;]+$/;

export function repositoryNameProblem(name: string): string | undefined {
  if (name.length < ECR_REPOSITORY_NAME_MIN || name.length > ECR_REPOSITORY_NAME_MAX) {
    return `"${name}" must be ${ECR_REPOSITORY_NAME_MIN} to ${ECR_REPOSITORY_NAME_MAX} characters long`;
  }
  if (!ECR_REPOSITORY_NAME.test(name)) {
    return `"${name}" is not a valid ECR repository name (lowercase letters, digits, . _ - separated, / between path parts)`;
  }
  return undefined;
}

export function emailProblem(address: string): string | undefined {
  return EMAIL.test(address) ? undefined : `"${address}" is not an email address`;
}

/** Splits a comma-separated context value, trimming blanks and dropping empty items. */
export function splitList(value: string): string[] {
  return value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
}

/** Shortest interval between two scheduled reconciles: the reconcile function's timeout, so runs do not overlap. */
export const MIN_RECONCILE_INTERVAL_MINUTES = 15;
/**
 * Longest interval between two scheduled reconciles. Lifecycle rules expire the images they select "within
 * 24 hours"; every 12 hours at the most puts at least two runs into any such window, so one failed run does
 * not leave a whole window unchecked. See: https://docs.aws.amazon.com/AmazonECR/latest/userguide/lp_creation.html
 */
export const MAX_RECONCILE_INTERVAL_MINUTES = 12 * 60;

const RATE = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/;
const MINUTES_PER_UNIT: Record<string, number> = { minute: 1, hour: 60, day: 1440 };

/** The interval of a `rate(...)` expression in minutes; undefined for anything else (a cron expression). */
export function rateMinutes(expression: string): number | undefined {
  const rate = RATE.exec(expression);
  if (!rate) return undefined;
  return Number(rate[1]) * MINUTES_PER_UNIT[rate[2]!.replace(/s$/, '')]!;
}
const CRON = /^cron\(([^()]*)\)$/;
const CRON_FIELD = /^[0-9A-Za-z,\-*/?#]+$/;

/**
 * An EventBridge schedule expression for the reconcile: `rate(value unit)` with the unit singular for 1 and
 * plural above, between 15 minutes and 12 hours; or `cron(minutes hours day-of-month month day-of-week year)`
 * with `?` in exactly one of the two day fields, whose firings are never less than 15 minutes apart (the same
 * floor as a rate) and which fires again after `now`. Cron expressions are not held to the 12-hour ceiling:
 * a calendar schedule (weekdays only, say) has longer gaps by design.
 * See: https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-scheduled-rule-pattern.html
 * @param now when the schedule starts to count; a cron that never fires after it is refused
 */
export function reconcileScheduleProblem(expression: string, now: Date = new Date()): string | undefined {
  const rate = RATE.exec(expression);
  if (rate) {
    const value = Number(rate[1]);
    const unit = rate[2]!;
    const singular = unit.replace(/s$/, '');
    if (value < 1) return `"${expression}" must have a rate of at least 1`;
    if ((value === 1) !== (unit === singular)) {
      return `"${expression}" must use the singular unit for 1 and the plural above (rate(1 hour), rate(6 hours))`;
    }
    const minutes = value * MINUTES_PER_UNIT[singular]!;
    if (minutes < MIN_RECONCILE_INTERVAL_MINUTES || minutes > MAX_RECONCILE_INTERVAL_MINUTES) {
      return `"${expression}" must be between ${MIN_RECONCILE_INTERVAL_MINUTES} minutes (the reconcile timeout, so runs do not overlap) and ${MAX_RECONCILE_INTERVAL_MINUTES / 60} hours (so a run falls well within ECR's 24-hour expiry window)`;
    }
    return undefined;
  }
  const cron = CRON.exec(expression);
  if (cron) {
    const fields = cron[1]!.trim().split(/\s+/);
    if (fields.length !== 6 || !fields.every((field) => CRON_FIELD.test(field))) {
      return `"${expression}" must have six fields: minutes hours day-of-month month day-of-week year`;
    }
    if ((fields[2] === '?') === (fields[4] === '?')) {
      return `"${expression}" must have ? in exactly one of day-of-month and day-of-week`;
    }
    const timing = cronTiming(fields);
    if (typeof timing === 'string') return `"${expression}" cannot be read: ${timing}`;
    if (!timing.nextAfter(now)) {
      return `"${expression}" never fires after ${now.toISOString()}, so the reconcile would never run`;
    }
    const gap = timing.shortestGapMinutes(now);
    if (gap !== undefined && gap < MIN_RECONCILE_INTERVAL_MINUTES) {
      return (
        `"${expression}" fires as little as ${gap} minute${gap === 1 ? '' : 's'} apart; runs must be at least ` +
        `${MIN_RECONCILE_INTERVAL_MINUTES} minutes apart (the reconcile timeout, so runs do not overlap), as a rate must`
      );
    }
    return undefined;
  }
  return `"${expression}" is not a schedule expression: use rate(6 hours) or cron(0 */6 * * ? *)`;
}

export function releaseAfterDaysProblem(days: number): string | undefined {
  return Number.isInteger(days) && days >= 0 && days <= MAX_RELEASE_AFTER_DAYS
    ? undefined
    : `must be a whole number of days from 0 (never release) to ${MAX_RELEASE_AFTER_DAYS}, got ${days}`;
}

/** AWS account ids: exactly 12 digits. See: https://docs.aws.amazon.com/accounts/latest/reference/manage-acct-identifiers.html */
export function accountIdProblem(id: string): string | undefined {
  return /^\d{12}$/.test(id) ? undefined : `"${id}" is not an AWS account id (12 digits)`;
}

/**
 * The Organizations API's pattern of an organizational unit id (shape `OrganizationalUnitId`, max 68 characters).
 * See: botocore/data/organizations/2016-11-28/service-2.json
 */
const ORGANIZATIONAL_UNIT_ID = /^ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$/;

export function organizationalUnitIdProblem(id: string): string | undefined {
  return ORGANIZATIONAL_UNIT_ID.test(id)
    ? undefined
    : `"${id}" is not an organizational unit id (ou-, 4 to 32 lowercase letters or digits, -, 8 to 32 more)`;
}

/**
 * Region names the AWS CDK's region fact table knows (`aws-cdk-lib/region-info`, kept current with each release),
 * so a typo (`eu-west1`, `us-east-01`) is named at synth time instead of as a reader role nobody can reach.
 */
export function regionProblem(name: string): string | undefined {
  const known = RegionInfo.regions.map((region) => region.name);
  if (known.includes(name)) return undefined;
  const distances = known.map((region) => ({ region, distance: editDistance(name, region) }));
  const closest = Math.min(...distances.map((d) => d.distance));
  const likely = closest <= 2 ? distances.filter((d) => d.distance === closest).map((d) => d.region) : [];
  return `"${name}" is not an AWS region${likely.length > 0 ? `; did you mean ${likely.join(' or ')}?` : ''}`;
}

/** The settings the construct's props and the app's context share, after the context's strings are parsed. */
export interface SharedSettings {
  readonly alertEmails?: readonly string[];
  /** an existing topic receives the alerts: its subscribers are the recipients */
  readonly alertTopicGiven?: boolean;
  /** the caller says, explicitly, that the construct should subscribe nobody */
  readonly noAlertSubscription?: boolean;
  readonly tagPrefix?: string;
  readonly repositories?: readonly string[];
  readonly reconcile?: boolean;
  /** set at all (even as a value only known at deploy time) */
  readonly reconcileScheduleGiven?: boolean;
  /** the expression, when known at synth time */
  readonly reconcileSchedule?: string;
  /** the catch-up's bound is set at all (it is the reconcile's: lib/settings.ts, lib/config.ts parse its value) */
  readonly listBoundGiven?: boolean;
  readonly releaseAfterDays?: number;
  readonly lifecycleCheck?: string;
  readonly installLifecycleShield?: boolean;
  /** Slack channel for chat alerts: both ids or neither */
  readonly slackWorkspaceId?: string;
  readonly slackChannelId?: string;
  /** Microsoft Teams channel for chat alerts: all three ids or none */
  readonly teamsTeamId?: string;
  readonly teamsChannelId?: string;
  readonly teamsTenantId?: string;
  /** other accounts whose workloads the guard lists through the reader role the workload stack creates */
  readonly workloadAccounts?: readonly string[];
  /** the regions of those accounts to list; the guard's own region when absent */
  readonly workloadRegions?: readonly string[];
  /** organizational units whose accounts the guard discovers and lists (and the StackSet deploys the reader to) */
  readonly organizationUnits?: readonly string[];
}

export type SharedSettingName = Exclude<
  keyof SharedSettings,
  'alertTopicGiven' | 'reconcileScheduleGiven' | 'listBoundGiven'
>;

export interface SharedSettingsOptions {
  /** How the caller names each setting: prop names for the construct, context keys for the app. */
  readonly nameOf: (setting: SharedSettingName) => string;
  /** What to tell a caller who named nobody to alert, in the caller's terms. */
  readonly noRecipientProblem: string;
  /** When the schedule starts to count (see `reconcileScheduleProblem`). */
  readonly now?: Date;
}

/**
 * Every problem of the shared settings, each naming the setting as the caller knows it: the one validation
 * that both the construct and the app's context path run, so both refuse the same values with the same words.
 */
export function sharedSettingsProblems(settings: SharedSettings, options: SharedSettingsOptions): string[] {
  const problems: string[] = [];
  const name = options.nameOf;
  const alertEmails = settings.alertEmails ?? [];

  if (alertEmails.length === 0 && !settings.alertTopicGiven && !settings.noAlertSubscription) {
    problems.push(options.noRecipientProblem);
  }
  if (settings.noAlertSubscription && alertEmails.length > 0) {
    problems.push(
      `${name('noAlertSubscription')} is true but ${name('alertEmails')} names addresses; drop one of them`,
    );
  }
  for (const address of alertEmails) {
    const problem = emailProblem(address);
    if (problem) problems.push(`${name('alertEmails')}: ${problem}`);
  }

  if (settings.tagPrefix !== undefined) {
    const problem = tagPrefixProblem(settings.tagPrefix);
    if (problem) problems.push(`${name('tagPrefix')}: ${problem}`);
  }

  if (settings.repositories !== undefined && settings.repositories.length === 0) {
    problems.push(
      `${name('repositories')} is set but names no repository; ` +
        'leave it out to guard every repository of the account and region, or name them',
    );
  }
  for (const repository of settings.repositories ?? []) {
    const problem = repositoryNameProblem(repository);
    if (problem) problems.push(`${name('repositories')}: ${problem}`);
  }

  const reconcile = settings.reconcile ?? true;
  if (settings.reconcileSchedule !== undefined) {
    const problem = reconcileScheduleProblem(settings.reconcileSchedule, options.now);
    if (problem) problems.push(`${name('reconcileSchedule')}: ${problem}`);
  }
  if (settings.releaseAfterDays !== undefined) {
    const problem = releaseAfterDaysProblem(settings.releaseAfterDays);
    if (problem) problems.push(`${name('releaseAfterDays')} ${problem}`);
  }
  const lifecycleCheck = settings.lifecycleCheck;
  if (lifecycleCheck !== undefined && !(LIFECYCLE_CHECKS as readonly string[]).includes(lifecycleCheck)) {
    problems.push(
      `${name('lifecycleCheck')} must be ${oneOf(LIFECYCLE_CHECKS)}, got ${JSON.stringify(lifecycleCheck)}`,
    );
  }
  if (settings.installLifecycleShield && (!reconcile || lifecycleCheck === 'off')) {
    problems.push(
      `${name('installLifecycleShield')} is true but the shield is installed only by the reconcile's lifecycle check; ` +
        `turn on ${name('reconcile')} and ${name('lifecycleCheck')}`,
    );
  }
  if (!reconcile) {
    if (settings.reconcileScheduleGiven || settings.reconcileSchedule !== undefined) {
      problems.push(`${name('reconcileSchedule')} is set but ${name('reconcile')} is false; drop one of them`);
    }
    if (settings.releaseAfterDays !== undefined && settings.releaseAfterDays > 0) {
      problems.push(
        `${name('releaseAfterDays')} is ${settings.releaseAfterDays} but ${name('reconcile')} is false; ` +
          'protections are released only by the scheduled reconcile',
      );
    }
    if (lifecycleCheck !== undefined) {
      problems.push(`${name('lifecycleCheck')} is set but ${name('reconcile')} is false; drop one of them`);
    }
    // Both the prop and the context key are named listBound.
    if (settings.listBoundGiven) problems.push(`listBound is set but ${name('reconcile')} is false; drop one of them`);
  }
  problems.push(...chatChannelProblems(settings, name));
  problems.push(...workloadProblems(settings, reconcile, name));
  return problems;
}

/** Other accounts are listed by the scheduled reconcile, through a role each of them creates. */
function workloadProblems(
  settings: SharedSettings,
  reconcile: boolean,
  name: (setting: SharedSettingName) => string,
): string[] {
  const problems: string[] = [];
  const { workloadAccounts, workloadRegions, organizationUnits } = settings;
  if (workloadAccounts !== undefined && workloadAccounts.length === 0) {
    problems.push(
      `${name('workloadAccounts')} is set but names no account; leave it out to list only this account and region`,
    );
  }
  for (const id of workloadAccounts ?? []) {
    const problem = accountIdProblem(id);
    if (problem) problems.push(`${name('workloadAccounts')}: ${problem}`);
  }
  if (workloadRegions !== undefined) {
    if (workloadAccounts === undefined && organizationUnits === undefined) {
      problems.push(`${name('workloadRegions')} is set but ${name('workloadAccounts')} is not; name the accounts too`);
    }
    if (workloadRegions.length === 0) problems.push(`${name('workloadRegions')} is set but names no region`);
    for (const region of workloadRegions) {
      const problem = regionProblem(region);
      if (problem) problems.push(`${name('workloadRegions')}: ${problem}`);
    }
  }
  if (workloadAccounts !== undefined && !reconcile) {
    problems.push(
      `${name('workloadAccounts')} is set but ${name('reconcile')} is false; other accounts are listed only by the ` +
        'scheduled reconcile',
    );
  }
  problems.push(...organizationUnitProblems(organizationUnits, reconcile, name));
  return problems;
}

/** The accounts of organizational units are discovered and listed by the scheduled reconcile too. */
function organizationUnitProblems(
  organizationUnits: readonly string[] | undefined,
  reconcile: boolean,
  name: (setting: SharedSettingName) => string,
): string[] {
  if (organizationUnits === undefined) return [];
  const problems: string[] = [];
  if (organizationUnits.length === 0) {
    problems.push(`${name('organizationUnits')} is set but names no organizational unit`);
  }
  for (const id of organizationUnits) {
    const problem = organizationalUnitIdProblem(id);
    if (problem) problems.push(`${name('organizationUnits')}: ${problem}`);
  }
  if (!reconcile) {
    problems.push(
      `${name('organizationUnits')} is set but ${name('reconcile')} is false; the accounts of organizational units ` +
        'are listed only by the scheduled reconcile',
    );
  }
  return problems;
}

/** Levenshtein distance: insertions, deletions and substitutions of one character. */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i += 1) {
    const current = [i];
    for (let j = 1; j <= b.length; j += 1) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}

/**
 * Ids of the chat channels, as AWS::Chatbot channel configurations take them. Patterns from the Amazon Q Developer
 * in chat applications API reference: SlackChannelId `^[A-Za-z0-9]+$` (1 to 255), TeamsChannelId
 * `([a-zA-Z0-9-_=+/.,])*%3[aA]([a-zA-Z0-9-_=+/.,])*%40([a-zA-Z0-9-_=+/.,])*` (the URL-encoded `19:…@thread…`)
 * (https://docs.aws.amazon.com/chatbot/latest/APIReference/API_SlackChannelConfiguration.html,
 * https://docs.aws.amazon.com/chatbot/latest/APIReference/API_TeamsChannelConfiguration.html); the Slack workspace
 * id is upper-case letters and digits (`T…`), and Teams team and tenant ids are UUIDs.
 */
const SLACK_WORKSPACE_ID = /^[0-9A-Z]{1,255}$/;
const SLACK_CHANNEL_ID = /^[A-Za-z0-9]{1,255}$/;
const TEAMS_CHANNEL_ID = /^[a-zA-Z0-9\-_=+/.,]*%3[aA][a-zA-Z0-9\-_=+/.,]*%40[a-zA-Z0-9\-_=+/.,]*$/;
const UUID = /^[0-9A-Fa-f]{8}(?:-[0-9A-Fa-f]{4}){3}-[0-9A-Fa-f]{12}$/;

type ChatIdName = 'slackWorkspaceId' | 'slackChannelId' | 'teamsTeamId' | 'teamsChannelId' | 'teamsTenantId';

function chatChannelProblems(settings: SharedSettings, name: (setting: SharedSettingName) => string): string[] {
  const problems: string[] = [];
  const check = (setting: ChatIdName, pattern: RegExp, what: string): void => {
    const value = settings[setting];
    if (value !== undefined && !(pattern.test(value) && value.length <= 255)) {
      problems.push(`${name(setting)} must be ${what}, got ${JSON.stringify(value)}`);
    }
  };
  check(
    'slackWorkspaceId',
    SLACK_WORKSPACE_ID,
    'the Slack workspace id Amazon Q Developer shows once the workspace is authorized (capital letters and digits)',
  );
  check('slackChannelId', SLACK_CHANNEL_ID, 'the Slack channel id (letters and digits, 1 to 255 characters)');
  check('teamsTeamId', UUID, 'the Microsoft Teams team id (a UUID)');
  check(
    'teamsChannelId',
    TEAMS_CHANNEL_ID,
    'the Teams channel id as Amazon Q Developer shows it, URL-encoded (…%3a…%40…)',
  );
  check('teamsTenantId', UUID, 'the Microsoft Entra tenant id (a UUID)');

  const together = (settings_: readonly ChatIdName[], all: string): void => {
    const given = settings_.filter((setting) => settings[setting] !== undefined);
    if (given.length > 0 && given.length < settings_.length) {
      const whole = settings_.length === 2 ? 'both, or neither' : 'all three, or none';
      problems.push(`${settings_.map(name).join(all)} go together: give ${whole}`);
    }
  };
  together(['slackWorkspaceId', 'slackChannelId'], ' and ');
  together(['teamsTeamId', 'teamsChannelId', 'teamsTenantId'], ', ');
  return problems;
}

/** `a, b or c`: the allowed values as a sentence names them. */
function oneOf(values: readonly string[]): string {
  return values.length < 2 ? values.join('') : `${values.slice(0, -1).join(', ')} or ${values[values.length - 1]}`;
}

/** Thrown with every problem found, one per line, so a user fixes them in one pass. */
export class ConfigError extends Error {
  constructor(
    public readonly problems: readonly string[],
    subject = 'ecr-digest-guard configuration',
  ) {
    super(`Invalid ${subject}:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}
