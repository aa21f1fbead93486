/** The function's settings, read once from its environment; a bad value fails the cold start loudly. */
import { DEFAULT_TAG_PREFIX } from '../core/defaults';
import { tagPrefixProblem } from '../core/protective-tag';
import type { GuardSettings } from '../core/types';

export interface PushHandlerConfig extends GuardSettings {
  readonly topicArn: string;
  readonly region: string;
  /** look up who pushed in CloudTrail for alerts (`LOOKUP_PUSHERS`, default false) */
  readonly lookupPushers: boolean;
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
  if (problems.length) throw new Error(`invalid configuration: ${problems.join('; ')}`);
  return {
    topicArn,
    region,
    tagPrefix,
    dryRun: dryRunText === 'true',
    repositories,
    lookupPushers: lookupText === 'true',
  };
}
