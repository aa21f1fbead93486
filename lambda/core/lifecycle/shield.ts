/**
 * The shield: one top-priority rule that selects this guard's protective tags and keeps them, and how to
 * insert it into a policy without changing what any existing rule does. Pure.
 */
import {
  MAX_LIFECYCLE_POLICY_LENGTH,
  MAX_LIFECYCLE_RULES,
  parseLifecyclePolicy,
  type LifecyclePolicy,
  type LifecycleRule,
} from './parse';

/** The shield keeps the newest 9999 images that carry a protective tag: far above any real in-use count. */
export const SHIELD_COUNT_NUMBER = 9999;

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
  return (
    selectsExactlyProtectiveTags(rule, prefix) &&
    rule.storageClass === 'standard' &&
    rule.countType === 'imageCountMoreThan'
  );
}

/**
 * Rules that can claim a tagged image in standard storage: everything but `untagged` rules (they never select
 * a tagged image) and `archive` rules ("The rule will only select images of this storage class").
 */
export function canClaimTaggedActiveImage(rule: LifecycleRule): boolean {
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
  if (!parsed.ok)
    return { outcome: 'refused', reason: `the lifecycle policy cannot be read: ${parsed.problems.join('; ')}` };
  const top = findTopShield(parsed.policy, prefix);
  if (top && top.countNumber >= SHIELD_COUNT_NUMBER)
    return { outcome: 'unchanged', policyText, shieldPriority: top.rulePriority };
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
    return {
      outcome: 'refused',
      reason: `the policy already has ${parsed.policy.rules.length} rules; a policy holds at most ${MAX_LIFECYCLE_RULES}`,
    };
  }
  const renumbered = parsed.policy.rules.some((rule) => rule.rulePriority === 1);
  const rules = parsed.raw.rules.map((rule) =>
    renumbered ? { ...rule, rulePriority: (rule.rulePriority as number) + 1 } : rule,
  );
  const text = JSON.stringify({ ...parsed.raw, rules: [shieldRuleFor(prefix, 1), ...rules] });
  if (text.length > MAX_LIFECYCLE_POLICY_LENGTH) {
    return {
      outcome: 'refused',
      reason: `the policy with the shield rule would be ${text.length} characters; at most ${MAX_LIFECYCLE_POLICY_LENGTH}`,
    };
  }
  return { outcome: 'inserted', policyText: text, shieldPriority: 1, renumbered };
}
