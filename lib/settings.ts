/**
 * The construct's props after defaults, and the checks only the construct has. The settings the app's context
 * also carries go through `sharedSettingsProblems` (lib/validation.ts): the one validation both paths run.
 */
import { Duration, Token } from 'aws-cdk-lib';
import type * as events from 'aws-cdk-lib/aws-events';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type { LifecycleCheck } from '../lambda/core/defaults';
import {
  DEFAULT_BATCH_SIZE,
  DEFAULT_LIFECYCLE_CHECK,
  DEFAULT_LOG_LEVEL,
  DEFAULT_LOG_RETENTION,
  DEFAULT_MAX_BATCHING_WINDOW,
  INDEX_MAX_BATCHING_WINDOW,
  DEFAULT_MAX_EVENT_AGE,
  DEFAULT_MEMORY_SIZE,
  DEFAULT_RECONCILE_SCHEDULE,
  DEFAULT_TAG_PREFIX,
  DEFAULT_TIMEOUT,
} from './defaults';
import type { DigestGuardLogLevel, DigestGuardProps } from './digest-guard';
import { CATCH_UP_INTERVAL_MINUTES } from '../lambda/core/defaults';
import { ConfigError, MAX_RECONCILE_INTERVAL_MINUTES, rateMinutes, sharedSettingsProblems } from './validation';

/** Every prop with its default applied, as the parts of the construct read them. */
export interface ResolvedSettings {
  readonly alertEmails: readonly string[];
  readonly tagPrefix: string;
  readonly repositories: readonly string[];
  readonly dryRun: boolean;
  readonly batchSize: number;
  readonly maxBatchingWindow: Duration;
  readonly logRetention: logs.RetentionDays;
  readonly timeout: Duration;
  readonly memorySize: number;
  readonly logLevel: DigestGuardLogLevel;
  readonly maxEventAge: Duration;
  readonly reconcile: boolean;
  readonly reconcileSchedule: events.Schedule;
  readonly releaseAfterDays: number;
  readonly lifecycleCheck: LifecycleCheck;
  readonly installLifecycleShield: boolean;
  readonly watchLifecycleExpiry: boolean;
  readonly lookupPushers: boolean;
  /** other accounts the reconcile lists through their reader role; empty: only its own account and region */
  readonly workloadAccounts: readonly string[];
  /** the regions of those accounts; absent: the guard's own region */
  readonly workloadRegions?: readonly string[];
  /** organizational units whose accounts the reconcile discovers each run and lists; empty: none */
  readonly organizationUnits: readonly string[];
  /** a workload whose last complete list is older than this is listed again by the next catch-up */
  readonly listBound: Duration;
}

/**
 * The catch-up's bound unless `listBound` is given: a rate's interval plus one catch-up period, so a scheduled run
 * that completes keeps every catch-up idle and one that failed for a workload is followed within 15 minutes of the
 * bound. A cron expression (or a deploy-time token) has no one interval: the longest a rate may be, 12 hours, plus
 * 15 minutes, so no workload goes longer unlisted than under the slowest rate the guard accepts; a calendar schedule
 * with longer gaps (weekdays only) gets lists at least that often, which costs lists, never protection.
 */
export function defaultListBound(schedule: events.Schedule): Duration {
  const expression = schedule.expressionString;
  const minutes = Token.isUnresolved(expression) ? undefined : rateMinutes(expression);
  return Duration.minutes((minutes ?? MAX_RECONCILE_INTERVAL_MINUTES) + CATCH_UP_INTERVAL_MINUTES);
}

function wholeSecondsWithin(duration: Duration, minSeconds: number, maxSeconds: number): boolean {
  const millis = duration.toMilliseconds();
  return millis % 1000 === 0 && millis >= minSeconds * 1000 && millis <= maxSeconds * 1000;
}

const LOG_LEVELS: readonly DigestGuardLogLevel[] = ['DEBUG', 'INFO', 'WARN', 'ERROR'];

/** The chat ids are grouped by platform in the props: the shared validation names them by their prop path. */
const CHAT_PROP_OF = {
  slackWorkspaceId: 'chat.slack.workspaceId',
  slackChannelId: 'chat.slack.channelId',
  teamsTeamId: 'chat.teams.teamId',
  teamsChannelId: 'chat.teams.channelId',
  teamsTenantId: 'chat.teams.tenantId',
} as const;

/**
 * Applies defaults, and throws one ConfigError that names every prop AWS or the guard would refuse: the
 * settings the app's context also carries go through `sharedSettingsProblems` (the same check, the same
 * words), the construct-only ones are checked here.
 */
/**
 * Whether the guard lists accounts besides its own (named, or discovered in organizational units): then its
 * reconcile and watch roles get the fixed names the workload readers trust, and the guard gets its event bus.
 */
export function listsOtherAccounts(settings: ResolvedSettings): boolean {
  return settings.workloadAccounts.length > 0 || settings.organizationUnits.length > 0;
}

export function resolveSettings(props: DigestGuardProps): ResolvedSettings {
  const problems: string[] = [];
  const fail = (prop: string, problem: string): void => {
    problems.push(`${prop} ${problem}`);
  };

  const scheduleExpression = props.reconcileSchedule?.expressionString;
  problems.push(
    ...sharedSettingsProblems(
      {
        ...(props.alertEmails !== undefined ? { alertEmails: props.alertEmails } : {}),
        alertTopicGiven: props.alertTopic !== undefined,
        ...(props.noAlertSubscription !== undefined ? { noAlertSubscription: props.noAlertSubscription } : {}),
        ...(props.tagPrefix !== undefined ? { tagPrefix: props.tagPrefix } : {}),
        ...(props.repositories !== undefined ? { repositories: props.repositories } : {}),
        ...(props.reconcile !== undefined ? { reconcile: props.reconcile } : {}),
        reconcileScheduleGiven: props.reconcileSchedule !== undefined,
        listBoundGiven: props.listBound !== undefined,
        // A token (a CloudFormation parameter) is only known at deploy time; EventBridge checks it then.
        ...(scheduleExpression !== undefined && !Token.isUnresolved(scheduleExpression)
          ? { reconcileSchedule: scheduleExpression }
          : {}),
        ...(props.releaseAfterDays !== undefined ? { releaseAfterDays: props.releaseAfterDays } : {}),
        ...(props.lifecycleCheck !== undefined ? { lifecycleCheck: props.lifecycleCheck } : {}),
        ...(props.installLifecycleShield !== undefined ? { installLifecycleShield: props.installLifecycleShield } : {}),
        ...(props.chat?.slack
          ? { slackWorkspaceId: props.chat.slack.workspaceId, slackChannelId: props.chat.slack.channelId }
          : {}),
        ...(props.chat?.teams
          ? {
              teamsTeamId: props.chat.teams.teamId,
              teamsChannelId: props.chat.teams.channelId,
              teamsTenantId: props.chat.teams.tenantId,
            }
          : {}),
        ...(props.workloadAccounts !== undefined ? { workloadAccounts: props.workloadAccounts } : {}),
        ...(props.workloadRegions !== undefined ? { workloadRegions: props.workloadRegions } : {}),
        ...(props.organizationUnits !== undefined ? { organizationUnits: props.organizationUnits } : {}),
      },
      {
        nameOf: (setting) => CHAT_PROP_OF[setting as keyof typeof CHAT_PROP_OF] ?? setting,
        noRecipientProblem:
          'alertEmails is empty and no alertTopic is given, so nobody would receive alerts or alarms; name an ' +
          'address, pass alertTopic, or set noAlertSubscription: true and subscribe to guard.topic yourself',
      },
    ),
  );

  // Milliseconds first: Duration.toSeconds() itself throws, without naming the prop, on fractions.
  const timeout = props.timeout ?? DEFAULT_TIMEOUT;
  if (!wholeSecondsWithin(timeout, 1, 900)) {
    fail(
      'timeout',
      `must be a whole number of seconds between 1 second and 15 minutes, got ${timeout.toHumanString()}`,
    );
  }

  const memorySize = props.memorySize ?? DEFAULT_MEMORY_SIZE;
  if (!Number.isInteger(memorySize) || memorySize < 128 || memorySize > 10240) {
    fail('memorySize', `must be a whole number of MiB between 128 and 10240, got ${memorySize}`);
  }

  const maxBatchingWindow =
    props.maxBatchingWindow ?? (props.pushReadsIndex ? INDEX_MAX_BATCHING_WINDOW : DEFAULT_MAX_BATCHING_WINDOW);
  const windowValid = wholeSecondsWithin(maxBatchingWindow, 0, 300);
  if (!windowValid) {
    fail(
      'maxBatchingWindow',
      `must be a whole number of seconds between 0 and 5 minutes, got ${maxBatchingWindow.toHumanString()}`,
    );
  }

  const batchSize = props.batchSize ?? DEFAULT_BATCH_SIZE;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10000) {
    fail('batchSize', `must be a whole number between 1 and 10000, got ${batchSize}`);
  }
  if (windowValid && batchSize > 10 && maxBatchingWindow.toSeconds() < 1) {
    fail('batchSize', `above 10 (got ${batchSize}) needs a maxBatchingWindow of at least 1 second`);
  }

  const logLevel = props.logLevel ?? DEFAULT_LOG_LEVEL;
  if (!LOG_LEVELS.includes(logLevel)) {
    fail('logLevel', `must be one of ${LOG_LEVELS.join(', ')}, got ${String(logLevel)}`);
  }

  const maxEventAge = props.maxEventAge ?? DEFAULT_MAX_EVENT_AGE;
  if (!wholeSecondsWithin(maxEventAge, 60, 86400)) {
    fail(
      'maxEventAge',
      `must be a whole number of seconds between 1 minute and 1 day, got ${maxEventAge.toHumanString()}`,
    );
  }

  const reconcileSchedule = props.reconcileSchedule ?? DEFAULT_RECONCILE_SCHEDULE;
  const listBound = props.listBound ?? defaultListBound(reconcileSchedule);
  const boundMs = listBound.toMilliseconds();
  if (boundMs % 60_000 !== 0 || boundMs < CATCH_UP_INTERVAL_MINUTES * 60_000) {
    fail(
      'listBound',
      `must be a whole number of minutes of at least ${CATCH_UP_INTERVAL_MINUTES} (the catch-up's period), got ${listBound.toHumanString()}`,
    );
  }

  if (problems.length > 0) throw new ConfigError(problems, 'DigestGuard props');

  return {
    alertEmails: props.alertEmails ?? [],
    tagPrefix: props.tagPrefix ?? DEFAULT_TAG_PREFIX,
    repositories: [...new Set(props.repositories ?? [])],
    dryRun: props.dryRun ?? false,
    batchSize,
    maxBatchingWindow,
    logRetention: props.logRetention ?? DEFAULT_LOG_RETENTION,
    timeout,
    memorySize,
    logLevel,
    maxEventAge,
    reconcile: props.reconcile ?? true,
    reconcileSchedule,
    releaseAfterDays: props.releaseAfterDays ?? 0,
    lifecycleCheck: props.lifecycleCheck ?? DEFAULT_LIFECYCLE_CHECK,
    installLifecycleShield: props.installLifecycleShield ?? false,
    watchLifecycleExpiry: props.watchLifecycleExpiry ?? false,
    lookupPushers: props.lookupPushers ?? false,
    workloadAccounts: [...new Set(props.workloadAccounts ?? [])],
    ...(props.workloadRegions !== undefined ? { workloadRegions: [...new Set(props.workloadRegions)] } : {}),
    organizationUnits: [...new Set(props.organizationUnits ?? [])],
    listBound,
  };
}
