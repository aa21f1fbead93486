/**
 * The scheduled reconcile's settings, dependencies and reports, shared by its steps (run, release, lifecycle)
 * and its alert text.
 */
import type { InUseIndexListResult } from '../in-use-index';
import type { RepositoryReport } from '../repository-report';
import type { LifecycleCheck } from '../defaults';
import type {
  AlertPort,
  GuardLogger,
  InUseIndexPort,
  GuardMetrics,
  InventoryPort,
  LifecyclePolicyPort,
  ReconcileCheckpoint,
  ReconcileEcrPort,
  RegistryReplicationPort,
  ReplicationWarningMemory,
} from '../ports';
import type { Digest, GuardSettings, InventoryGap } from '../types';
import type { InstallOutcome, LifecycleFindings } from './lifecycle';
import type { ReplicatedDeletionRisk } from './replication';

export interface ReconcileSettings extends GuardSettings {
  /**
   * Release a protective tag once its digest is not in use and was not pulled for this many days.
   * `undefined` or `0`: never release (the default). Never releasing is the safe default: a protective tag
   * left in place costs storage; one released too early lets a lifecycle rule delete an image a rollback,
   * a scale-from-zero or another account may still need.
   */
  readonly releaseAfterDays?: number;
  /**
   * How to look for lifecycle rules that could still expire or archive protected in-use images:
   * `evaluate` reads the policy and evaluates it (one GetLifecyclePolicy per repository in use; the default),
   * `preview` also runs ECR's lifecycle policy preview where the evaluation finds a risk, `off` skips it.
   */
  readonly lifecycleCheck?: LifecycleCheck;
  /**
   * Opt-in: where a risk is found, add the top-priority shield rule to the repository's lifecycle policy
   * (every existing rule kept, order kept). Never done in dry run. @default false
   */
  readonly installLifecycleShield?: boolean;
}

export interface ReconcileDependencies {
  readonly ecr: ReconcileEcrPort;
  readonly inventory: InventoryPort;
  readonly alerts: AlertPort;
  readonly logger: GuardLogger;
  readonly metrics?: GuardMetrics;
  /** the repository lifecycle policies; without it no lifecycle check is made */
  readonly lifecycle?: LifecyclePolicyPort;
  /** where a run that stops early records the last repository it reached; without it, `rotationSeed` picks the start */
  readonly checkpoint?: ReconcileCheckpoint;
  /** milliseconds left before the function is stopped (`context.getRemainingTimeInMillis`) */
  readonly remainingTimeMs?: () => number;
  /**
   * a repository is started only while more than this is left; the rest is kept for releases and alerts;
   * releases stop when `ALERT_RESERVE_MS` is left @default 60000
   */
  readonly reserveMs?: number;
  /** repositories handled at once (ECR calls in flight) @default 4 */
  readonly concurrency?: number;
  readonly now?: () => Date;
  /** waits before the run's one retry of the repositories that failed @default a `setTimeout` */
  readonly sleep?: (ms: number) => Promise<void>;
  /** the function's log group, named in alerts as where their full list is (`AWS_LAMBDA_LOG_GROUP_NAME`) */
  readonly alertLogGroup?: string;
  /** the in-use index the run's inventory is applied to, as the list of this account and region */
  readonly inUseIndex?: InUseIndexPort;
  /** the registry's replication rules (one read a run); without it no replicated-deletions warning is made */
  readonly replication?: RegistryReplicationPort;
  /** the last replicated-deletions warning, so an unchanged one is not sent every run; without it, every run warns */
  readonly replicationWarnings?: ReplicationWarningMemory;
  /**
   * A workload whose failure to be listed was already alerted (a catch-up: its last recorded list was partial), so
   * failing again is logged, not alerted again; without it, every workload not listed is alerted.
   */
  readonly notListedAlreadyAlerted?: (workload: { readonly account: string; readonly region: string }) => boolean;
}

export interface ReconcileRun {
  readonly account: string;
  readonly region: string;
  /**
   * Without a checkpoint: the run number (e.g. whole hours since the epoch of the scheduled time). Run k
   * starts at position ⌊frac(k·φ⁻¹)·N⌋ of the sorted repositories (a golden-ratio rotation): successive
   * starts spread evenly around the list (three-gap theorem), so if every run reaches at least M
   * repositories, every repository is reached within about 3·N/M runs, with no state kept anywhere.
   */
  readonly rotationSeed?: number;
}

export type ReleaseResult =
  | {
      readonly digest: Digest;
      readonly tag: string;
      readonly how: 'released' | 'would-release';
      readonly imageDeleted: boolean;
      readonly lastUsedAt?: string;
    }
  | { readonly digest: Digest; readonly tag: string; readonly how: 'kept'; readonly reason: string };

export interface RepositoryReconcileReport {
  readonly repository: string;
  readonly protection: RepositoryReport;
  readonly releases: readonly ReleaseResult[];
  /** protective-looking tags that name another digest than the one they encode: never removed */
  readonly mismatched: readonly { digest: Digest; tag: string }[];
  /** what the lifecycle check found, when it ran */
  readonly lifecycle?: LifecycleFindings;
  /** what the opt-in shield install did, when it ran */
  readonly shield?: InstallOutcome;
  /**
   * protections that were due for release but kept because the inventory could not see everything that may
   * use this repository, with the gaps that stopped them
   */
  readonly releasesPaused?: { readonly digests: readonly Digest[]; readonly gaps: readonly InventoryGap[] };
}

export interface ReconcileOutcome {
  readonly inventoryTakenAt: Date;
  readonly reports: readonly RepositoryReconcileReport[];
  readonly failed: readonly { repository: string; error: unknown }[];
  /** repositories not started because time ran out; the next run starts with them */
  readonly notReached: readonly string[];
  /** the last repository reached when the run stopped early; undefined when every repository was reached */
  readonly cursor?: string;
  readonly alertsPublished: number;
  /** what the run's list did to the in-use index, when there is one and the update succeeded */
  readonly inUseIndex?: InUseIndexListResult;
  /** workloads of other accounts or regions the run could not list (their gaps paused releases) */
  readonly workloadsNotListed?: readonly { account: string; region: string; reason: string }[];
  /** organizational units whose accounts could not be discovered (their gap paused releases) */
  readonly accountsNotDiscovered?: { readonly organizationUnits: readonly string[]; readonly reason: string };
  /** repositories in use that a replication rule replicates with (perhaps) its deletions */
  readonly replicatedDeletions?: readonly ReplicatedDeletionRisk[];
}

export interface ReleaseCandidate {
  readonly digest: Digest;
  readonly tag: string;
  readonly imageDeleted: boolean;
  readonly lastUsedAt: Date;
}

export interface RepositoryWork {
  readonly repository: string;
  readonly protection: RepositoryReport;
  readonly candidates: ReleaseCandidate[];
  readonly kept: ReleaseResult[];
  readonly mismatched: { digest: Digest; tag: string }[];
  lifecycle?: LifecycleFindings;
  shield?: InstallOutcome;
}
