/** The function's settings, read once from its environment; a bad value fails the cold start loudly. */
import { DEFAULT_TAG_PREFIX } from '../core/defaults';
import { PUSH_INVENTORY_MODES, type PushInventoryMode } from '../core/index-inventory';
import { tagPrefixProblem } from '../core/protective-tag';
import type { GuardSettings } from '../core/types';

export interface PushHandlerConfig extends GuardSettings {
  readonly topicArn: string;
  readonly region: string;
  /** look up who pushed in CloudTrail for alerts (`LOOKUP_PUSHERS`, default false) */
  readonly lookupPushers: boolean;
  /**
   * The in-use index the push path reads (`PUSH_INVENTORY`, `IN_USE_INDEX_TABLE_NAME`), with the workloads the
   * reconcile lists (`WORKLOAD_ACCOUNTS`, `WORKLOAD_REGIONS`); absent: the direct inventory only
   */
  readonly inUseIndex?: {
    readonly tableName: string;
    /** `PUSH_INVENTORY`: the index alone, or merged with the own account's direct inventory */
    readonly mode: 'index' | 'direct+index';
    /** `ORGANIZATION_UNITS` is set: accounts besides `workloadAccounts` are found at run time */
    readonly discoversAccounts?: boolean;
    readonly workloadAccounts?: readonly string[];
    readonly workloadRegions?: readonly string[];
  };
}

export function readPushHandlerConfig(env: NodeJS.ProcessEnv): PushHandlerConfig {
  const problems: string[] = [];
  const topicArn = env.TOPIC_ARN ?? '';
  if (!/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_.-]{1,256}$/.test(topicArn))
    problems.push(`TOPIC_ARN must be an SNS topic ARN, got "${topicArn}"`);
  const region = env.AWS_REGION ?? '';
  if (!region) problems.push('AWS_REGION is not set (the Lambda runtime sets it)');
  const tagPrefix = env.TAG_PREFIX || DEFAULT_TAG_PREFIX;
  const prefixProblem = tagPrefixProblem(tagPrefix);
  if (prefixProblem) problems.push(`TAG_PREFIX ${prefixProblem}`);
  const dryRunText = (env.DRY_RUN ?? 'false').toLowerCase();
  if (dryRunText !== 'true' && dryRunText !== 'false')
    problems.push(`DRY_RUN must be "true" or "false", got "${env.DRY_RUN}"`);
  const lookupText = (env.LOOKUP_PUSHERS ?? 'false').toLowerCase();
  if (lookupText !== 'true' && lookupText !== 'false')
    problems.push(`LOOKUP_PUSHERS must be "true" or "false", got "${env.LOOKUP_PUSHERS}"`);
  const repositories = (env.REPOSITORIES ?? '')
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name.length > 0);
  const { workloadAccounts, workloadRegions } = readWorkloads(env, problems);
  const watched = (env.WATCH_ENABLED ?? '').trim().toLowerCase() === 'true';
  const tableName = env.IN_USE_INDEX_TABLE_NAME?.trim();
  const mode = readPushInventoryMode(env, watched && !!tableName, problems);
  if (mode !== 'direct' && !tableName) problems.push(`PUSH_INVENTORY=${mode} needs IN_USE_INDEX_TABLE_NAME`);
  const discoversAccounts = (env.ORGANIZATION_UNITS ?? '').trim().length > 0;
  if (problems.length) throw new Error(`invalid configuration: ${problems.join('; ')}`);
  return {
    topicArn,
    region,
    tagPrefix,
    dryRun: dryRunText === 'true',
    repositories,
    lookupPushers: lookupText === 'true',
    ...(mode !== 'direct' && tableName
      ? {
          inUseIndex: {
            tableName,
            mode,
            ...(discoversAccounts ? { discoversAccounts } : {}),
            ...(workloadAccounts.length > 0 ? { workloadAccounts } : {}),
            ...(workloadRegions.length > 0 ? { workloadRegions } : {}),
          },
        }
      : {}),
  };
}

/**
 * `PUSH_INVENTORY` (the construct sets it): `direct`, `index` or `direct+index`. Unset: `index` where the watch
 * keeps the index (`WATCH_ENABLED` and a table, as functions deployed before the setting were told), else `direct`.
 */
function readPushInventoryMode(env: NodeJS.ProcessEnv, watchedIndex: boolean, problems: string[]): PushInventoryMode {
  const text = env.PUSH_INVENTORY?.trim().toLowerCase();
  if (!text) return watchedIndex ? 'index' : 'direct';
  const mode = PUSH_INVENTORY_MODES.find((m) => m === text);
  if (!mode)
    problems.push(`PUSH_INVENTORY must be one of ${PUSH_INVENTORY_MODES.join(', ')}, got "${env.PUSH_INVENTORY}"`);
  return mode ?? 'direct';
}

/**
 * The workload accounts and regions the reconcile lists and the push path's index read waits for: one reading
 * for both handlers, since they must agree on which workloads there are. Adds each problem to `problems`.
 */
export function readWorkloads(
  env: NodeJS.ProcessEnv,
  problems: string[],
): { readonly workloadAccounts: string[]; readonly workloadRegions: string[] } {
  const listOf = (text: string | undefined): string[] =>
    (text ?? '')
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item.length > 0);
  const workloadAccounts = listOf(env.WORKLOAD_ACCOUNTS);
  const badAccounts = workloadAccounts.filter((account) => !/^\d{12}$/.test(account));
  if (badAccounts.length > 0)
    problems.push(`WORKLOAD_ACCOUNTS must be 12-digit account ids, got ${badAccounts.join(', ')}`);
  const workloadRegions = listOf(env.WORKLOAD_REGIONS);
  const badRegions = workloadRegions.filter((region) => !/^[a-z]{2}(-[a-z]+)+-\d$/.test(region));
  if (badRegions.length > 0) problems.push(`WORKLOAD_REGIONS must be region names, got ${badRegions.join(', ')}`);
  return { workloadAccounts, workloadRegions };
}
