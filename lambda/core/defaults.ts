/**
 * Names and defaults shared by the infrastructure (lib/) and the runtime (lambda/): one source for each, so
 * the CDK app and the functions it deploys cannot drift apart. Pure: no SDK, no CDK.
 */

/** The prefix of every protective tag, `<prefix>-sha256-<64 hex>`, unless the deployer chooses another. */
export const DEFAULT_TAG_PREFIX = 'digest-guard';

/** Powertools `serviceName` of both functions' logs and metrics. */
export const SERVICE_NAME = 'ecr-digest-guard';

/** CloudWatch namespace of the guard's custom metrics (the alarms read them from here). */
export const METRICS_NAMESPACE = 'EcrDigestGuard';

/**
 * Upper bound of the release grace period in days (`releaseAfterDays`, `RELEASE_AFTER_DAYS`): ten years, to catch
 * a value typed in hours or seconds. The app refuses above it at synth, the reconcile function at its cold start.
 */
export const MAX_RELEASE_AFTER_DAYS = 3650;

/**
 * How the reconcile looks for lifecycle rules that could still expire or archive protected in-use images:
 * `evaluate` reads and evaluates the policy (the default), `preview` also runs ECR's lifecycle policy preview
 * where the evaluation finds a risk, `off` skips the check.
 */
export const LIFECYCLE_CHECKS = ['off', 'evaluate', 'preview'] as const;
export type LifecycleCheck = (typeof LIFECYCLE_CHECKS)[number];
export const DEFAULT_LIFECYCLE_CHECK: LifecycleCheck = 'evaluate';

/** How often the catch-up looks for workloads whose last complete list is overdue (its rule's rate, in minutes). */
export const CATCH_UP_INTERVAL_MINUTES = 15;
