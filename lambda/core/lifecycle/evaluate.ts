/**
 * Which rules of a lifecycle policy could still expire or archive an in-use digest although it carries its
 * protective tag. The evaluation rules it relies on
 * (https://docs.aws.amazon.com/AmazonECR/latest/userguide/LifecyclePolicies.html): "An image is expired by
 * exactly one or zero rules." / "An image that matches the tagging requirements of a rule cannot be expired by
 * a rule with a lower priority." So the first rule, in priority order, whose tagging requirements an image
 * meets is the only rule that can act on it: the rule that *claims* the image. Pure.
 */
import { isProtectiveTag } from '../protective-tag';
import type { Digest } from '../types';
import { ruleCanSelectProtectiveTagAlone, ruleMatchesTags } from './match';
import type { LifecyclePolicy, LifecycleRule, RuleAction, StorageClass } from './parse';
import { canClaimTaggedActiveImage, findTopShield, isShieldRule } from './shield';

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
export function evaluateLifecyclePolicy(
  policy: LifecyclePolicy,
  prefix: string,
  images: readonly InUseImage[],
): PolicyEvaluation {
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
    const shadowed = policy.rules.some(
      (other) => other.rulePriority < rule.rulePriority && isShieldRule(other, prefix),
    );
    const latent =
      digests.length === 0 &&
      !shadowed &&
      canClaimTaggedActiveImage(rule) &&
      reach !== 'user-tags' &&
      !keeps(rule, prefix, protectedCount);
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

export function reachOf(rule: LifecycleRule, prefix: string): RiskReach {
  if (rule.storageClass === 'archive') return 'archived-image';
  if (rule.tagStatus === 'any') return 'any-image';
  return ruleCanSelectProtectiveTagAlone(rule, prefix) ? 'protective-tag-alone' : 'user-tags';
}

function whyRisky(
  rule: LifecycleRule,
  reach: RiskReach,
  prefix: string,
  protectedCount: number,
  latent: boolean,
): string {
  const selects =
    reach === 'any-image'
      ? 'selects every image (tagStatus any), protective tag or not'
      : reach === 'archived-image'
        ? 'selects archived images, which the shield (standard storage) does not cover'
        : reach === 'protective-tag-alone'
          ? `selects images by tags that the protective tag ${prefix}-sha256-… matches on its own`
          : 'selects these in-use images through their other tags, before any rule that keeps them';
  const does =
    rule.action === 'transition' ? 'moves them to the archive, where they cannot be pulled (404)' : 'deletes them';
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
