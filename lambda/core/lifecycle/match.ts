/**
 * Which tags a lifecycle rule selects, as the ECR documentation states it
 * (https://docs.aws.amazon.com/AmazonECR/latest/userguide/lifecycle_policy_parameters.html). Pure.
 */
import type { LifecycleRule } from './parse';

/**
 * `*` matches any run of characters, the empty run included: "if your images are tagged as prod, prod1,
 * prod2, and so on, you would use the tag pattern list prod* to specify all of them" (prod* selects prod).
 */
export function patternMatchesTag(pattern: string, tag: string): boolean {
  const source = pattern
    .split('*')
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
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
      if (rule.tagPatternList)
        return rule.tagPatternList.every((pattern) => tags.some((tag) => patternMatchesTag(pattern, tag)));
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
