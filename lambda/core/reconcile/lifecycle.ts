/**
 * The reconcile's lifecycle check, over `LifecyclePolicyPort`: read (and, on request, preview) a repository's
 * lifecycle policy, evaluate it with the pure `core/lifecycle` modules, and on request install the shield rule.
 * The SDK calls live in `lambda/adapters/ecr-lifecycle.ts`.
 */
import { DEFAULT_LIFECYCLE_CHECK } from '../defaults';
import {
  evaluateLifecyclePolicy,
  parseLifecyclePolicy,
  reachOf,
  shieldRuleFor,
  withShieldRule,
  type InUseImage,
  type LifecyclePolicy,
  type LifecycleRisk,
} from '../lifecycle';
import type { LifecyclePolicyPort, PreviewedImage } from '../ports';
import type { Digest, ImageState } from '../types';
import type { ReconcileDependencies, ReconcileSettings, RepositoryWork } from './types';

/**
 * A protective tag beats only `untagged` rules: a `tagged` or `any` rule, or a transition to the archive,
 * can still take a protected in-use image. Checked for repositories with in-use digests, as they are after
 * this run's protection. Best effort: a failure is logged and counted, and never stops the reconcile.
 */
export async function checkLifecycleRisk(
  work: RepositoryWork,
  states: readonly ImageState[],
  settings: ReconcileSettings,
  deps: ReconcileDependencies,
): Promise<void> {
  const mode = settings.lifecycleCheck ?? DEFAULT_LIFECYCLE_CHECK;
  if (!deps.lifecycle || mode === 'off') return;
  const justProtected = new Map(work.protection.protected.map((p) => [p.digest, p.tag]));
  const images: InUseImage[] = states.flatMap((state) =>
    state.present
      ? [
          {
            digest: state.digest,
            tags: justProtected.has(state.digest) ? [...state.tags, justProtected.get(state.digest)!] : state.tags,
            ...(state.storageStatus === 'ARCHIVED' ? { archived: true } : {}),
          },
        ]
      : [],
  );
  if (images.length === 0) return;
  try {
    let findings = await assessLifecycleRisk(deps.lifecycle, work.repository, images, settings.tagPrefix);
    if (mode === 'preview' && findings.risks.length > 0) {
      findings = await assessLifecycleRisk(deps.lifecycle, work.repository, images, settings.tagPrefix, {
        usePreview: true,
      });
    }
    work.lifecycle = findings;
    if (findings.risks.length > 0) {
      deps.logger.warn('a lifecycle rule can still expire or archive protected in-use images', {
        repository: work.repository,
        risks: findings.risks,
        fix: findings.fix?.ruleJson,
      });
      deps.metrics?.count('LifecycleRiskRepositories', 1);
      if (settings.installLifecycleShield && !settings.dryRun) {
        work.shield = await installShieldRule(deps.lifecycle, work.repository, settings.tagPrefix);
        deps.logger.warn('lifecycle shield rule install', { repository: work.repository, outcome: work.shield });
      }
    }
  } catch (error) {
    deps.logger.error('could not check the lifecycle policy; protection is unaffected', {
      repository: work.repository,
      error,
    });
    deps.metrics?.count('LifecycleCheckFailures', 1);
  }
}

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
    else if (!sameJson(outcome.policyText, live.text))
      preview = 'unavailable: the preview was of another policy text (someone else started one)';
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
    const renumber = insertion.renumbered
      ? ' Every existing rulePriority moves up by one (order unchanged) to free priority 1.'
      : '';
    return {
      ruleJson,
      policyText: JSON.stringify(JSON.parse(insertion.policyText), null, 2),
      note: `${about}${renumber}`,
    };
  }
  if (insertion.outcome === 'refused')
    return { ruleJson, note: `${about} The guard would not build the whole policy: ${insertion.reason}` };
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
    .map(({ risk, digests, confirmed }) => ({
      ...risk,
      digests,
      evidence: confirmed ? ('preview' as const) : risk.evidence,
    }))
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
export async function installShieldRule(
  port: LifecyclePolicyPort,
  repository: string,
  tagPrefix: string,
): Promise<InstallOutcome> {
  const live = await port.getLifecyclePolicy(repository);
  if (!live.found) return { outcome: 'no-policy' };
  const insertion = withShieldRule(live.text, tagPrefix);
  if (insertion.outcome === 'refused') return insertion;
  if (insertion.outcome === 'unchanged') return { outcome: 'unchanged', shieldPriority: insertion.shieldPriority };
  const put = await port.putLifecyclePolicy(repository, insertion.policyText);
  if (put.outcome === 'rejected') return { outcome: 'refused', reason: `ECR rejected the policy: ${put.reason}` };
  return { outcome: 'installed', policyText: insertion.policyText, renumbered: insertion.renumbered };
}
