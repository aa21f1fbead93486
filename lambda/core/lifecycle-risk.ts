/**
 * Lifecycle risk: which rules of a repository's lifecycle policy could still expire or archive an in-use
 * digest although it carries its protective tag, and the fix: one top-priority "shield" rule that selects
 * the protective tags and keeps them.
 *
 * Pure: policy texts, tags and preview results in, findings out. The SDK calls live in
 * `lambda/adapters/ecr-lifecycle.ts` behind `LifecyclePolicyPort`.
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
import { isProtectiveTag } from './protective-tag';
import type { LifecyclePolicyPort, PreviewedImage } from './ports';
import type { Digest } from './types';

/** Service quota "Rules per lifecycle policy" (not adjustable). */
export const MAX_LIFECYCLE_RULES = 50;
/** Service quota "Lifecycle policy length", in characters (not adjustable). */
export const MAX_LIFECYCLE_POLICY_LENGTH = 30_720;
/** "There is a maximum limit of four wildcards (*) per string." (tagPatternList) */
export const MAX_WILDCARDS_PER_PATTERN = 4;
/** The shield keeps the newest 9999 images that carry a protective tag: far above any real in-use count. */
export const SHIELD_COUNT_NUMBER = 9999;

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
  | { readonly ok: true; readonly policy: LifecyclePolicy; readonly raw: { rules: Record<string, unknown>[] } & Record<string, unknown> }
  | { readonly ok: false; readonly problems: readonly string[] };

const TAG_STATUSES: readonly string[] = ['tagged', 'untagged', 'any'];
const COUNT_TYPES: readonly string[] = ['imageCountMoreThan', 'sinceImagePushed', 'sinceImagePulled', 'sinceImageTransitioned'];
const SINCE_COUNT_TYPES: readonly string[] = ['sinceImagePushed', 'sinceImagePulled', 'sinceImageTransitioned'];
const RULE_KEYS = new Set(['rulePriority', 'description', 'selection', 'action']);
const SELECTION_KEYS = new Set(['tagStatus', 'tagPatternList', 'tagPrefixList', 'storageClass', 'countType', 'countUnit', 'countNumber']);
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
  if (!isObject(parsed) || !Array.isArray(parsed.rules)) return { ok: false, problems: ['expected an object with a "rules" array'] };
  const problems: string[] = [];
  const rules: LifecycleRule[] = [];
  if (parsed.rules.length === 0) problems.push('"rules" is empty');
  if (parsed.rules.length > MAX_LIFECYCLE_RULES) problems.push(`${parsed.rules.length} rules; a policy holds at most ${MAX_LIFECYCLE_RULES}`);
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
  return { ok: true, policy: { rules: ordered }, raw: parsed as { rules: Record<string, unknown>[] } & Record<string, unknown> };
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
  if (description !== undefined && typeof description !== 'string') problems.push(`${where}.description: must be a string`);
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
  if (typeof tagStatus !== 'string' || !TAG_STATUSES.includes(tagStatus)) problems.push(`${where}.selection.tagStatus: must be tagged, untagged or any`);
  const patterns = stringList(tagPatternList, `${where}.selection.tagPatternList`, problems);
  const prefixes = stringList(tagPrefixList, `${where}.selection.tagPrefixList`, problems);
  for (const pattern of patterns ?? []) {
    if (countWildcards(pattern) > MAX_WILDCARDS_PER_PATTERN) {
      problems.push(`${where}.selection.tagPatternList: "${pattern}" has more than ${MAX_WILDCARDS_PER_PATTERN} wildcards`);
    }
  }
  // "If you specify tagged, then you must also specify a tagPrefixList value or a tagPatternList value. If you
  // specify untagged, then you must omit both tagPrefixList and tagPatternList."
  if (tagStatus === 'tagged' && !patterns && !prefixes) problems.push(`${where}.selection: tagged needs a tagPatternList or a tagPrefixList`);
  if (tagStatus !== 'tagged' && (patterns || prefixes)) problems.push(`${where}.selection: ${String(tagStatus)} must omit tagPatternList and tagPrefixList`);
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
  if (storage !== 'standard' && storage !== 'archive') problems.push(`${where}.selection.storageClass: must be standard or archive`);
  if (countType === 'sinceImageTransitioned' && storage !== 'archive') problems.push(`${where}.selection.storageClass: sinceImageTransitioned needs archive`);
  if (countType !== 'sinceImageTransitioned' && storage === 'archive') problems.push(`${where}.selection.storageClass: archive needs countType sinceImageTransitioned`);

  const { type, targetStorageClass } = action;
  if (type !== 'expire' && type !== 'transition') problems.push(`${where}.action.type: must be expire or transition`);
  if (type === 'transition' && targetStorageClass !== 'archive') problems.push(`${where}.action.targetStorageClass: transition needs "archive"`);
  if (type === 'expire' && targetStorageClass !== undefined) problems.push(`${where}.action.targetStorageClass: only for transition`);

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

function unknownKeys(value: Record<string, unknown>, known: ReadonlySet<string>, where: string, problems: string[]): void {
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

// ---------------------------------------------------------------------------------------------------------
// Tag matching

/**
 * `*` matches any run of characters, the empty run included: "if your images are tagged as prod, prod1,
 * prod2, and so on, you would use the tag pattern list prod* to specify all of them" (prod* selects prod).
 */
export function patternMatchesTag(pattern: string, tag: string): boolean {
  const source = pattern.split('*').map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*');
  return new RegExp(`^${source}$`, 's').test(tag);
}

/**
 * Whether a tagged rule's lists match an image with these tags. Every entry of the list must match at least
 * one of the image's tags, each entry on its own: "When using the tagPrefixList, an image is successfully
 * matched if all of the tags in the tagPrefixList value are matched against any of the image's tags", and
 * for tagPatternList "If you specify multiple tags, only the images with all specified tags are selected".
 */
export function ruleMatchesTags(rule: LifecycleRule, tags: readonly string[]): boolean {
  switch (rule.tagStatus) {
    case 'any':
      // "If you specify any, then all images have the rule evaluated against them."
      return true;
    case 'untagged':
      return tags.length === 0;
    case 'tagged':
      if (tags.length === 0) return false;
      if (rule.tagPatternList) return rule.tagPatternList.every((pattern) => tags.some((tag) => patternMatchesTag(pattern, tag)));
      return (rule.tagPrefixList ?? []).every((prefix) => tags.some((tag) => tag.startsWith(prefix)));
  }
}

/**
 * Whether the rule can select an image whose only tag is SOME protective tag `<prefix>-sha256-<64 hex>`,
 * whatever the digest: every list entry must be able to match the same protective tag. Decided exactly for
 * one entry (pattern against the protective-tag language); for several entries it answers true when each can
 * match some protective tag, which errs towards reporting a risk.
 */
export function ruleCanSelectProtectiveTagAlone(rule: LifecycleRule, prefix: string): boolean {
  if (rule.tagStatus === 'any') return true;
  if (rule.tagStatus === 'untagged') return false;
  const patterns = rule.tagPatternList ?? (rule.tagPrefixList ?? []).map((p) => `${escapeStars(p)}*`);
  return patterns.every((pattern) => patternCanMatchProtectiveTag(pattern, prefix));
}

/** A tagPrefixList entry is literal; `*` in it is not a wildcard. Marked so the language check treats it as text. */
const LITERAL_STAR = '\u0000';
function escapeStars(prefix: string): string {
  return prefix.replaceAll('*', LITERAL_STAR);
}

/** Can `pattern` match at least one tag `<prefix>-sha256-` followed by 64 lowercase hex characters? */
export function patternCanMatchProtectiveTag(pattern: string, prefix: string): boolean {
  const head = `${prefix}-sha256-`;
  const length = head.length + 64;
  const accepts = (c: string, j: number) => (j < head.length ? c === head[j] : /^[0-9a-f]$/.test(c));
  // reachable[i][j]: the first i pattern characters can match the first j characters of some protective tag
  let reachable = new Set<number>([0]);
  for (const symbol of pattern) {
    const next = new Set<number>();
    for (const j of reachable) {
      if (symbol === '*') {
        for (let k = j; k <= length; k++) next.add(k);
      } else if (j < length && accepts(symbol === LITERAL_STAR ? '*' : symbol, j)) {
        next.add(j + 1);
      }
    }
    reachable = next;
    if (reachable.size === 0) return false;
  }
  return reachable.has(length);
}

// ---------------------------------------------------------------------------------------------------------
// The shield rule

/** The pattern that selects exactly this guard's protective tags. */
export function shieldPattern(prefix: string): string {
  return `${prefix}-sha256-*`;
}

/** The shield rule, as it goes into a policy text. */
export function shieldRuleFor(prefix: string, rulePriority: number): Record<string, unknown> {
  return {
    rulePriority,
    description: `Keep images protected by ecr-digest-guard (tags ${shieldPattern(prefix)}): they are in use`,
    selection: {
      tagStatus: 'tagged',
      tagPatternList: [shieldPattern(prefix)],
      countType: 'imageCountMoreThan',
      countNumber: SHIELD_COUNT_NUMBER,
    },
    action: { type: 'expire' },
  };
}

/** A rule that selects exactly the protective tags of `prefix` (by pattern or by prefix), whatever it does. */
function selectsExactlyProtectiveTags(rule: LifecycleRule, prefix: string): boolean {
  if (rule.tagStatus !== 'tagged') return false;
  if (rule.tagPatternList) return rule.tagPatternList.every((p) => p === shieldPattern(prefix));
  return (rule.tagPrefixList ?? []).every((p) => p === `${prefix}-sha256-`);
}

/** A rule that selects exactly the protective tags and keeps the newest `countNumber` of them. */
export function isShieldRule(rule: LifecycleRule, prefix: string): boolean {
  return selectsExactlyProtectiveTags(rule, prefix) && rule.storageClass === 'standard' && rule.countType === 'imageCountMoreThan';
}

/**
 * Rules that can claim a tagged image in standard storage: everything but `untagged` rules (they never select
 * a tagged image) and `archive` rules ("The rule will only select images of this storage class").
 */
function canClaimTaggedActiveImage(rule: LifecycleRule): boolean {
  return rule.tagStatus !== 'untagged' && rule.storageClass === 'standard';
}

/**
 * The shield-shaped rule that outranks every rule able to claim a tagged image in standard storage, if the
 * first such rule is one (whatever its countNumber: whether it keeps enough is for the caller to judge).
 */
export function findTopShield(policy: LifecyclePolicy, prefix: string): LifecycleRule | undefined {
  const first = policy.rules.find(canClaimTaggedActiveImage);
  return first && isShieldRule(first, prefix) ? first : undefined;
}

export type ShieldInsertion =
  /** the policy already has the shield on top: the same text comes back */
  | { readonly outcome: 'unchanged'; readonly policyText: string; readonly shieldPriority: number }
  | {
      readonly outcome: 'inserted';
      readonly policyText: string;
      readonly shieldPriority: number;
      /** true when every existing priority moved up by one to free priority 1 (order kept) */
      readonly renumbered: boolean;
    }
  | { readonly outcome: 'refused'; readonly reason: string };

/**
 * Returns the policy text with the shield rule at the top priority, every existing rule kept as it is.
 *
 * Priority: the shield takes priority 1. When 1 is free, no existing rule changes at all. When 1 is taken,
 * every existing priority moves up by one: rulePriority only "Sets the order in which rules are applied,
 * lowest to highest" and "Values don't need to be sequential across rules in a policy", so adding the same
 * constant to every priority keeps the order, and with it what every rule does. The one thing the shield
 * itself changes for lower rules: they still "identify" the shielded images, so a count rule may keep fewer
 * other images than before (see the report).
 *
 * Refused (never forced): an unreadable policy; a rule that already selects the protective tags in another
 * way (ECR wants "a unique set of tag prefixes" per policy, and the guard changes no rule of yours); the rule
 * quota (50) or the length quota (30,720) would be exceeded.
 */
export function withShieldRule(policyText: string, prefix: string): ShieldInsertion {
  const parsed = parseLifecyclePolicy(policyText);
  if (!parsed.ok) return { outcome: 'refused', reason: `the lifecycle policy cannot be read: ${parsed.problems.join('; ')}` };
  const top = findTopShield(parsed.policy, prefix);
  if (top && top.countNumber >= SHIELD_COUNT_NUMBER) return { outcome: 'unchanged', policyText, shieldPriority: top.rulePriority };
  const clash = parsed.policy.rules.find((rule) => selectsExactlyProtectiveTags(rule, prefix));
  if (clash) {
    return {
      outcome: 'refused',
      reason:
        `rule ${clash.rulePriority} already selects the protective tags ${shieldPattern(prefix)} but does not keep them from the top ` +
        `priority with countNumber ${SHIELD_COUNT_NUMBER} or more; a policy needs a unique set of tag prefixes, so the guard adds no second rule and changes none of yours: ` +
        `make rule ${clash.rulePriority} the lowest rulePriority, countType imageCountMoreThan, countNumber ${SHIELD_COUNT_NUMBER}`,
    };
  }
  if (parsed.policy.rules.length + 1 > MAX_LIFECYCLE_RULES) {
    return { outcome: 'refused', reason: `the policy already has ${parsed.policy.rules.length} rules; a policy holds at most ${MAX_LIFECYCLE_RULES}` };
  }
  const renumbered = parsed.policy.rules.some((rule) => rule.rulePriority === 1);
  const rules = parsed.raw.rules.map((rule) =>
    renumbered ? { ...rule, rulePriority: (rule.rulePriority as number) + 1 } : rule,
  );
  const text = JSON.stringify({ ...parsed.raw, rules: [shieldRuleFor(prefix, 1), ...rules] });
  if (text.length > MAX_LIFECYCLE_POLICY_LENGTH) {
    return { outcome: 'refused', reason: `the policy with the shield rule would be ${text.length} characters; at most ${MAX_LIFECYCLE_POLICY_LENGTH}` };
  }
  return { outcome: 'inserted', policyText: text, shieldPriority: 1, renumbered };
}

// ---------------------------------------------------------------------------------------------------------
// Evaluation

/** An in-use image of the repository as the reconcile knows it. */
export interface InUseImage {
  readonly digest: Digest;
  /** every tag of the image: protective ones and any other */
  readonly tags: readonly string[];
  /** true when ECR reports the image ARCHIVED: then only `storageClass: archive` rules can select it */
  readonly archived?: boolean;
}

/** How a rule reaches the image: any image at all, the protective tag alone, or only through user tags. */
export type RiskReach = 'any-image' | 'protective-tag-alone' | 'user-tags' | 'archived-image';

export interface LifecycleRisk {
  readonly rulePriority: number;
  readonly description?: string;
  readonly action: RuleAction;
  readonly why: string;
  readonly reach: RiskReach;
  /** in-use digests this rule claims now; empty when it could claim protective tags but none it claims yet */
  readonly digests: readonly Digest[];
  /** `preview`: ECR's own preview of the live policy lists these digests (it acts at its next run) */
  readonly evidence: 'evaluation' | 'preview';
}

export interface PolicyEvaluation {
  /** a shield rule outranks every rule that could claim a tagged image in standard storage, and keeps them all */
  readonly shielded: boolean;
  /** the priority of the shield-shaped rule on top, even when it keeps too few */
  readonly shieldPriority?: number;
  readonly risks: readonly LifecycleRisk[];
}

/**
 * Which rules could act on the in-use images despite their protective tags. For each image, the first rule
 * (by priority, among rules of its storage class) that matches its tags claims it; that rule is a risk unless
 * it is a shield that keeps at least as many images as carry protective tags. Rules that could claim a
 * protective tag alone but claim none of these images yet are reported too (with no digest): the next
 * protected digest meets them.
 */
export function evaluateLifecyclePolicy(policy: LifecyclePolicy, prefix: string, images: readonly InUseImage[]): PolicyEvaluation {
  const protectedCount = images.filter((image) => image.tags.some((tag) => isProtectiveTag(tag, prefix))).length;
  const claims = new Map<number, Digest[]>();
  for (const image of images) {
    const storage: StorageClass = image.archived ? 'archive' : 'standard';
    const claimer = policy.rules.find((rule) => rule.storageClass === storage && ruleMatchesTags(rule, image.tags));
    if (!claimer || keeps(claimer, prefix, protectedCount)) continue;
    claims.set(claimer.rulePriority, [...(claims.get(claimer.rulePriority) ?? []), image.digest]);
  }
  const shield = findTopShield(policy, prefix);
  const risks: LifecycleRisk[] = [];
  for (const rule of policy.rules) {
    const digests = claims.get(rule.rulePriority) ?? [];
    const reach = reachOf(rule, prefix);
    // A shield-shaped rule above this one claims every image with a protective tag before it could.
    const shadowed = policy.rules.some((other) => other.rulePriority < rule.rulePriority && isShieldRule(other, prefix));
    const latent =
      digests.length === 0 && !shadowed && canClaimTaggedActiveImage(rule) && reach !== 'user-tags' && !keeps(rule, prefix, protectedCount);
    if (digests.length === 0 && !latent) continue;
    risks.push({
      rulePriority: rule.rulePriority,
      ...(rule.description !== undefined ? { description: rule.description } : {}),
      action: rule.action,
      why: whyRisky(rule, reach, prefix, protectedCount, digests.length === 0),
      reach,
      digests,
      evidence: 'evaluation',
    });
  }
  const shielded = shield !== undefined && keeps(shield, prefix, protectedCount);
  return { shielded, ...(shield ? { shieldPriority: shield.rulePriority } : {}), risks };
}

/** A shield keeps the newest `countNumber` images it selects: all of them while there are no more. */
function keeps(rule: LifecycleRule, prefix: string, protectedCount: number): boolean {
  return isShieldRule(rule, prefix) && rule.countNumber >= protectedCount;
}

function reachOf(rule: LifecycleRule, prefix: string): RiskReach {
  if (rule.storageClass === 'archive') return 'archived-image';
  if (rule.tagStatus === 'any') return 'any-image';
  return ruleCanSelectProtectiveTagAlone(rule, prefix) ? 'protective-tag-alone' : 'user-tags';
}

function whyRisky(rule: LifecycleRule, reach: RiskReach, prefix: string, protectedCount: number, latent: boolean): string {
  const selects =
    reach === 'any-image'
      ? 'selects every image (tagStatus any), protective tag or not'
      : reach === 'archived-image'
        ? 'selects archived images, which the shield (standard storage) does not cover'
        : reach === 'protective-tag-alone'
          ? `selects images by tags that the protective tag ${prefix}-sha256-… matches on its own`
          : 'selects these in-use images through their other tags, before any rule that keeps them';
  const does = rule.action === 'transition' ? 'moves them to the archive, where they cannot be pulled (404)' : 'deletes them';
  const when =
    rule.countType === 'imageCountMoreThan'
      ? isShieldRule(rule, prefix)
        ? `keeps only the newest ${rule.countNumber} of the ${protectedCount} protected images`
        : `keeps only the newest ${rule.countNumber} images it selects`
      : rule.countType === 'sinceImagePushed'
        ? `acts once an image was pushed more than ${rule.countNumber} days ago`
        : rule.countType === 'sinceImagePulled'
          ? `acts once an image was not pulled for ${rule.countNumber} days`
          : `acts ${rule.countNumber} days after an image was archived`;
  const scope = latent ? ' No in-use digest is claimed by it today, but the next protected digest can be.' : '';
  return `Rule ${rule.rulePriority} ${selects}; it ${when}, and ${does}.${scope}`;
}

// ---------------------------------------------------------------------------------------------------------
// Assessment over a port (the adapter implements it)

export interface LifecycleFindings {
  readonly repository: string;
  /** `none`: no lifecycle policy, nothing can expire; `unreadable`: reported, never guessed at */
  readonly policy: 'none' | 'unreadable' | 'present';
  readonly problems: readonly string[];
  readonly shielded: boolean;
  readonly risks: readonly LifecycleRisk[];
  /** what the preview contributed: `not-run`, `confirmed` or why it could not be used */
  readonly preview: string;
  /** the fix, ready to paste; absent when nothing needs fixing */
  readonly fix?: {
    /** the shield rule alone, as JSON */
    readonly ruleJson: string;
    /** the whole policy with the shield inserted, or why the guard would not build it */
    readonly policyText?: string;
    readonly note: string;
  };
}

export interface AssessOptions {
  /** also ask ECR for a preview of the live policy and use it as evidence (one Start, a few Gets) */
  readonly usePreview?: boolean;
}

/**
 * Everything an alert needs about one repository's lifecycle policy and its in-use digests. Reads only; the
 * policy is never changed here.
 */
export async function assessLifecycleRisk(
  port: LifecyclePolicyPort,
  repository: string,
  images: readonly InUseImage[],
  tagPrefix: string,
  options: AssessOptions = {},
): Promise<LifecycleFindings> {
  const live = await port.getLifecyclePolicy(repository);
  if (!live.found) return { repository, policy: 'none', problems: [], shielded: false, risks: [], preview: 'not-run' };
  const parsed = parseLifecyclePolicy(live.text);
  const evaluation = parsed.ok ? evaluateLifecyclePolicy(parsed.policy, tagPrefix, images) : undefined;
  let risks: LifecycleRisk[] = [...(evaluation?.risks ?? [])];
  let preview = 'not-run';
  if (options.usePreview) {
    const outcome = await port.previewLifecyclePolicy(repository);
    if (outcome.outcome === 'unavailable') preview = `unavailable: ${outcome.reason}`;
    else if (!sameJson(outcome.policyText, live.text)) preview = 'unavailable: the preview was of another policy text (someone else started one)';
    else {
      preview = 'confirmed';
      risks = mergePreview(risks, outcome.images, images, parsed.ok ? parsed.policy : undefined, tagPrefix);
    }
  }
  const findings: LifecycleFindings = {
    repository,
    policy: parsed.ok ? 'present' : 'unreadable',
    problems: parsed.ok ? [] : parsed.problems,
    shielded: evaluation?.shielded ?? false,
    risks,
    preview,
  };
  return risks.length === 0 ? findings : { ...findings, fix: fixFor(live.text, tagPrefix) };
}

function fixFor(policyText: string, prefix: string) {
  const ruleJson = JSON.stringify(shieldRuleFor(prefix, 1), null, 2);
  const insertion = withShieldRule(policyText, prefix);
  const about =
    'Add this rule at the lowest rulePriority of the policy: "An image that matches the tagging requirements of a rule cannot be ' +
    'expired by a rule with a lower priority." Lower count rules still count the shielded images, so they may keep fewer other images.';
  if (insertion.outcome === 'inserted') {
    const renumber = insertion.renumbered ? ' Every existing rulePriority moves up by one (order unchanged) to free priority 1.' : '';
    return { ruleJson, policyText: JSON.stringify(JSON.parse(insertion.policyText), null, 2), note: `${about}${renumber}` };
  }
  if (insertion.outcome === 'refused') return { ruleJson, note: `${about} The guard would not build the whole policy: ${insertion.reason}` };
  return { ruleJson, note: `${about} The shield is already on top; the remaining risks are not ones it covers.` };
}

/** Preview results for in-use digests mark the evaluation's risks as confirmed, and add what it missed. */
function mergePreview(
  risks: LifecycleRisk[],
  previewed: readonly PreviewedImage[],
  images: readonly InUseImage[],
  policy: LifecyclePolicy | undefined,
  prefix: string,
): LifecycleRisk[] {
  const inUse = new Set(images.map((image) => image.digest));
  const merged = new Map<number, { risk: LifecycleRisk; digests: Digest[]; confirmed: boolean }>(
    risks.map((risk) => [risk.rulePriority, { risk, digests: [...risk.digests], confirmed: false }]),
  );
  for (const hit of previewed.filter((p) => inUse.has(p.digest))) {
    const priority = hit.appliedRulePriority ?? 0;
    let entry = merged.get(priority);
    if (!entry) {
      const rule = policy?.rules.find((r) => r.rulePriority === priority);
      const risk: LifecycleRisk = {
        rulePriority: priority,
        ...(rule?.description !== undefined ? { description: rule.description } : {}),
        action: hit.action,
        why: `ECR's preview of the live policy says rule ${priority} would ${hit.action === 'transition' ? 'archive' : 'expire'} it at its next run.`,
        reach: rule ? reachOf(rule, prefix) : 'any-image',
        digests: [],
        evidence: 'preview',
      };
      entry = { risk, digests: [], confirmed: true };
      merged.set(priority, entry);
    }
    entry.confirmed = true;
    if (!entry.digests.includes(hit.digest)) entry.digests.push(hit.digest);
  }
  return [...merged.values()]
    .map(({ risk, digests, confirmed }) => ({ ...risk, digests, evidence: confirmed ? ('preview' as const) : risk.evidence }))
    .sort((a, b) => a.rulePriority - b.rulePriority);
}

function sameJson(a: string, b: string): boolean {
  try {
    return JSON.stringify(JSON.parse(a)) === JSON.stringify(JSON.parse(b));
  } catch {
    return a === b;
  }
}

export type InstallOutcome =
  | { readonly outcome: 'no-policy' }
  | { readonly outcome: 'unchanged'; readonly shieldPriority: number }
  | { readonly outcome: 'installed'; readonly policyText: string; readonly renumbered: boolean }
  | { readonly outcome: 'refused'; readonly reason: string };

/**
 * Opt-in: installs the shield rule into the repository's live policy, keeping every existing rule. Never
 * called by the assessment; a caller asks for it explicitly. A repository without a policy gets none
 * (nothing there can expire an image). ECR has no conditional put: the policy is read right before the put,
 * and a change made by someone else in the milliseconds between is overwritten.
 */
export async function installShieldRule(port: LifecyclePolicyPort, repository: string, tagPrefix: string): Promise<InstallOutcome> {
  const live = await port.getLifecyclePolicy(repository);
  if (!live.found) return { outcome: 'no-policy' };
  const insertion = withShieldRule(live.text, tagPrefix);
  if (insertion.outcome === 'refused') return insertion;
  if (insertion.outcome === 'unchanged') return { outcome: 'unchanged', shieldPriority: insertion.shieldPriority };
  const put = await port.putLifecyclePolicy(repository, insertion.policyText);
  if (put.outcome === 'rejected') return { outcome: 'refused', reason: `ECR rejected the policy: ${put.reason}` };
  return { outcome: 'installed', policyText: insertion.policyText, renumbered: insertion.renumbered };
}
