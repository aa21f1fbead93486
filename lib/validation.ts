/**
 * Checks shared by the construct (props) and the app (context), so both fail with the same words.
 * Each returns a problem description, or `undefined` when the value is fine; callers prefix the name of
 * the prop or context key the value came from.
 */
import { ECR_REPOSITORY_NAME } from '../lambda/core/image-uri';
// The reconcile function reads RELEASE_AFTER_DAYS with the same bound, so both refuse the same values.
import { MAX_RELEASE_AFTER_DAYS } from '../lambda/handlers/reconcile-config';

export { MAX_TAG_PREFIX_LENGTH, tagPrefixProblem } from '../lambda/core/protective-tag';
export { MAX_RELEASE_AFTER_DAYS };

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
const CRON = /^cron\(([^()]*)\)$/;
const CRON_FIELD = /^[0-9A-Za-z,\-*/?#]+$/;

/**
 * An EventBridge schedule expression for the reconcile: `rate(value unit)` with the unit singular for 1 and
 * plural above, between 15 minutes and 12 hours; or `cron(minutes hours day-of-month month day-of-week year)`
 * with `?` in exactly one of the two day fields. Cron expressions are checked for form, not frequency.
 * See: https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-scheduled-rule-pattern.html
 */
export function reconcileScheduleProblem(expression: string): string | undefined {
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
    return undefined;
  }
  return `"${expression}" is not a schedule expression: use rate(6 hours) or cron(0 */6 * * ? *)`;
}


export function releaseAfterDaysProblem(days: number): string | undefined {
  return Number.isInteger(days) && days >= 0 && days <= MAX_RELEASE_AFTER_DAYS
    ? undefined
    : `must be a whole number of days from 0 (never release) to ${MAX_RELEASE_AFTER_DAYS}, got ${days}`;
}
