/**
 * Lifecycle policies, parsed: the policy text into validated rules, every problem named, nothing guessed.
 * The other concerns sit next to this file: `match.ts` (which tags a rule selects), `shield.ts` (the rule
 * that keeps the protective tags), `evaluate.ts` (which rules put in-use digests at risk). All pure; the
 * reconcile reads and previews policies over `LifecyclePolicyPort` in `core/reconcile/lifecycle.ts`.
 *
 * What the ECR documentation says, and what this module relies on:
 * - Properties: https://docs.aws.amazon.com/AmazonECR/latest/userguide/lifecycle_policy_parameters.html
 * - Evaluation: https://docs.aws.amazon.com/AmazonECR/latest/userguide/LifecyclePolicies.html
 *   "An image is expired by exactly one or zero rules." / "An image that matches the tagging requirements
 *   of a rule cannot be expired by a rule with a lower priority." / "Rules can never mark images that are
 *   marked by higher priority rules, but can still identify them as if they haven't been expired."
 *   So the first rule, in priority order, whose tagging requirements an image meets is the only rule that
 *   can act on it: this module calls it the rule that *claims* the image.
 * - Quotas: https://docs.aws.amazon.com/AmazonECR/latest/userguide/service-quotas.html
 *   "Rules per lifecycle policy: 50" and "Lifecycle policy length: 30,720" characters, neither adjustable.
 */
/** Service quota "Rules per lifecycle policy" (not adjustable). */
export const MAX_LIFECYCLE_RULES = 50;
/** Service quota "Lifecycle policy length", in characters (not adjustable). */
export const MAX_LIFECYCLE_POLICY_LENGTH = 30_720;
/** "There is a maximum limit of four wildcards (*) per string." (tagPatternList) */
export const MAX_WILDCARDS_PER_PATTERN = 4;

export type TagStatus = 'tagged' | 'untagged' | 'any';
export type CountType = 'imageCountMoreThan' | 'sinceImagePushed' | 'sinceImagePulled' | 'sinceImageTransitioned';
export type StorageClass = 'standard' | 'archive';
export type RuleAction = 'expire' | 'transition';

/** One validated lifecycle rule, in the policy's own vocabulary. */
export interface LifecycleRule {
  readonly rulePriority: number;
  readonly description?: string;
  readonly tagStatus: TagStatus;
  /** set when the rule selects by pattern (tagPatternList wins when both lists are given: see parse) */
  readonly tagPatternList?: readonly string[];
  readonly tagPrefixList?: readonly string[];
  /** the storage class the rule selects from: `standard` when the policy omits it */
  readonly storageClass: StorageClass;
  readonly countType: CountType;
  readonly countUnit?: string;
  readonly countNumber: number;
  readonly action: RuleAction;
}

export interface LifecyclePolicy {
  /** ordered by rulePriority, lowest (applied first) to highest */
  readonly rules: readonly LifecycleRule[];
}

export type ParseResult =
  | {
      readonly ok: true;
      readonly policy: LifecyclePolicy;
      readonly raw: { rules: Record<string, unknown>[] } & Record<string, unknown>;
    }
  | { readonly ok: false; readonly problems: readonly string[] };

const TAG_STATUSES: readonly string[] = ['tagged', 'untagged', 'any'];
const COUNT_TYPES: readonly string[] = [
  'imageCountMoreThan',
  'sinceImagePushed',
  'sinceImagePulled',
  'sinceImageTransitioned',
];
const SINCE_COUNT_TYPES: readonly string[] = ['sinceImagePushed', 'sinceImagePulled', 'sinceImageTransitioned'];
const RULE_KEYS = new Set(['rulePriority', 'description', 'selection', 'action']);
const SELECTION_KEYS = new Set([
  'tagStatus',
  'tagPatternList',
  'tagPrefixList',
  'storageClass',
  'countType',
  'countUnit',
  'countNumber',
]);
const ACTION_KEYS = new Set(['type', 'targetStorageClass']);

/**
 * Parses and validates a lifecycle policy text. Every problem is named; nothing is guessed: a property
 * this module does not know could change what a rule selects, so it makes the policy unreadable here.
 */
export function parseLifecyclePolicy(text: string): ParseResult {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return { ok: false, problems: [`not JSON: ${(error as Error).message}`] };
  }
  if (!isObject(parsed) || !Array.isArray(parsed.rules))
    return { ok: false, problems: ['expected an object with a "rules" array'] };
  const problems: string[] = [];
  const rules: LifecycleRule[] = [];
  if (parsed.rules.length === 0) problems.push('"rules" is empty');
  if (parsed.rules.length > MAX_LIFECYCLE_RULES)
    problems.push(`${parsed.rules.length} rules; a policy holds at most ${MAX_LIFECYCLE_RULES}`);
  parsed.rules.forEach((rawRule: unknown, index: number) => {
    const rule = parseRule(rawRule, `rules[${index}]`, problems);
    if (rule) rules.push(rule);
  });
  const seen = new Map<number, number>();
  for (const rule of rules) seen.set(rule.rulePriority, (seen.get(rule.rulePriority) ?? 0) + 1);
  for (const [priority, count] of seen) {
    // "When you add rules to a lifecycle policy, you must give them each a unique value for rulePriority."
    if (count > 1) problems.push(`rulePriority ${priority} is used by ${count} rules; priorities must be unique`);
  }
  if (problems.length) return { ok: false, problems };
  const ordered = [...rules].sort((a, b) => a.rulePriority - b.rulePriority);
  return {
    ok: true,
    policy: { rules: ordered },
    raw: parsed as { rules: Record<string, unknown>[] } & Record<string, unknown>,
  };
}

function parseRule(raw: unknown, where: string, problems: string[]): LifecycleRule | undefined {
  if (!isObject(raw)) {
    problems.push(`${where}: not an object`);
    return undefined;
  }
  const before = problems.length;
  unknownKeys(raw, RULE_KEYS, where, problems);
  const { rulePriority, description, selection, action } = raw;
  if (!isPositiveInteger(rulePriority)) problems.push(`${where}.rulePriority: must be a positive integer`);
  if (description !== undefined && typeof description !== 'string')
    problems.push(`${where}.description: must be a string`);
  if (!isObject(selection)) {
    problems.push(`${where}.selection: missing`);
    return undefined;
  }
  if (!isObject(action)) {
    problems.push(`${where}.action: missing`);
    return undefined;
  }
  unknownKeys(selection, SELECTION_KEYS, `${where}.selection`, problems);
  unknownKeys(action, ACTION_KEYS, `${where}.action`, problems);

  const { tagStatus, tagPatternList, tagPrefixList, storageClass, countType, countUnit, countNumber } = selection;
  if (typeof tagStatus !== 'string' || !TAG_STATUSES.includes(tagStatus))
    problems.push(`${where}.selection.tagStatus: must be tagged, untagged or any`);
  const patterns = stringList(tagPatternList, `${where}.selection.tagPatternList`, problems);
  const prefixes = stringList(tagPrefixList, `${where}.selection.tagPrefixList`, problems);
  for (const pattern of patterns ?? []) {
    if (countWildcards(pattern) > MAX_WILDCARDS_PER_PATTERN) {
      problems.push(
        `${where}.selection.tagPatternList: "${pattern}" has more than ${MAX_WILDCARDS_PER_PATTERN} wildcards`,
      );
    }
  }
  // "If you specify tagged, then you must also specify a tagPrefixList value or a tagPatternList value. If you
  // specify untagged, then you must omit both tagPrefixList and tagPatternList."
  if (tagStatus === 'tagged' && !patterns && !prefixes)
    problems.push(`${where}.selection: tagged needs a tagPatternList or a tagPrefixList`);
  if (tagStatus !== 'tagged' && (patterns || prefixes))
    problems.push(`${where}.selection: ${String(tagStatus)} must omit tagPatternList and tagPrefixList`);
  if (typeof countType !== 'string' || !COUNT_TYPES.includes(countType)) {
    problems.push(`${where}.selection.countType: must be one of ${COUNT_TYPES.join(', ')}`);
  } else if (SINCE_COUNT_TYPES.includes(countType)) {
    if (countUnit !== 'days') problems.push(`${where}.selection.countUnit: ${countType} needs countUnit "days"`);
  } else if (countUnit !== undefined) {
    // "an error will occur if you specify a count unit when countType is any other value"
    problems.push(`${where}.selection.countUnit: not allowed with ${countType}`);
  }
  // "Acceptable values are positive integers (0 is not an accepted value)."
  if (!isPositiveInteger(countNumber)) problems.push(`${where}.selection.countNumber: must be a positive integer`);
  // "If you omit this, the value of standard will be used." / sinceImageTransitioned: "required, and the only
  // supported value is archive".
  const storage = storageClass ?? 'standard';
  if (storage !== 'standard' && storage !== 'archive')
    problems.push(`${where}.selection.storageClass: must be standard or archive`);
  if (countType === 'sinceImageTransitioned' && storage !== 'archive')
    problems.push(`${where}.selection.storageClass: sinceImageTransitioned needs archive`);
  if (countType !== 'sinceImageTransitioned' && storage === 'archive')
    problems.push(`${where}.selection.storageClass: archive needs countType sinceImageTransitioned`);

  const { type, targetStorageClass } = action;
  if (type !== 'expire' && type !== 'transition') problems.push(`${where}.action.type: must be expire or transition`);
  if (type === 'transition' && targetStorageClass !== 'archive')
    problems.push(`${where}.action.targetStorageClass: transition needs "archive"`);
  if (type === 'expire' && targetStorageClass !== undefined)
    problems.push(`${where}.action.targetStorageClass: only for transition`);

  if (problems.length > before) return undefined;
  return {
    rulePriority: rulePriority as number,
    ...(typeof description === 'string' ? { description } : {}),
    tagStatus: tagStatus as TagStatus,
    // tagPrefixList is "Only used if you specified "tagStatus": "tagged" and you aren't specifying a tagPatternList".
    ...(patterns ? { tagPatternList: patterns } : prefixes ? { tagPrefixList: prefixes } : {}),
    storageClass: storage as StorageClass,
    countType: countType as CountType,
    ...(typeof countUnit === 'string' ? { countUnit } : {}),
    countNumber: countNumber as number,
    action: type as RuleAction,
  };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isPositiveInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value > 0;
}

function unknownKeys(
  value: Record<string, unknown>,
  known: ReadonlySet<string>,
  where: string,
  problems: string[],
): void {
  for (const key of Object.keys(value)) {
    if (!known.has(key)) problems.push(`${where}: unknown property "${key}" (the guard cannot tell what it selects)`);
  }
}

function stringList(value: unknown, where: string, problems: string[]): string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.length === 0 || !value.every((v) => typeof v === 'string')) {
    problems.push(`${where}: must be a non-empty list of strings`);
    return undefined;
  }
  return value as string[];
}

function countWildcards(pattern: string): number {
  return pattern.split('*').length - 1;
}
