/**
 * What the guard found and did for one repository: the protect step fills it, the alert module turns it into
 * an alert.
 */
import type { QuickTagMove } from './decide';
import type { Consumer, Digest, ImageEvent, InventoryGap, PusherFindings, PushEvent } from './types';

export interface ProtectedDigest {
  readonly digest: Digest;
  readonly tag: string;
  readonly consumers: readonly Consumer[];
  /** `tagged`: added now; `would-tag`: dry run */
  readonly how: 'tagged' | 'would-tag';
}

/** What the guard did about an archived in-use image (archived images cannot be pulled). */
export interface RestoreResult {
  readonly digest: Digest;
  readonly consumers: readonly Consumer[];
  readonly how: 'restore-started' | 'would-restore' | 'restore-in-progress' | 'restore-failed';
  readonly detail?: string;
}

export interface RepositoryReport {
  readonly account: string;
  readonly region: string;
  readonly repository: string;
  readonly dryRun: boolean;
  /** the prefix of the protective tags, for the lifecycle advice */
  readonly tagPrefix: string;
  /** the pushes that led here (none for a scheduled reconcile) */
  readonly pushes: readonly PushEvent[];
  /** the deletions and lifecycle actions that led here (ECR DELETE events, lifecycle PolicyExecutionEvents) */
  readonly deletes?: readonly ImageEvent[];
  /** tags that moved away from a protected digest soon after that digest was pushed (across batches) */
  readonly quickTagMoves?: readonly QuickTagMove[] | undefined;
  /** who pushed the tags that moved, as far as a best-effort CloudTrail lookup could tell */
  readonly pushers?: PusherFindings;
  readonly protected: readonly ProtectedDigest[];
  readonly gone: readonly { digest: Digest; consumers: readonly Consumer[] }[];
  readonly archived: readonly { digest: Digest; consumers: readonly Consumer[] }[];
  /** what was done about each archived in-use image */
  readonly restores: readonly RestoreResult[];
  /** digests the guard could not protect, with why (tag taken by another digest, unsupported media type) */
  readonly refused: readonly { digest: Digest; consumers: readonly Consumer[]; reason: string }[];
  readonly gaps: readonly string[];
  /**
   * digests deleted, expired or archived that no workload is known to use, while the inventory could not see
   * everything that may use this repository: they may have been in use
   */
  readonly possiblyInUse?: readonly PossiblyInUse[];
  /** services that cannot start tasks and pin images of this repository: why this report was made */
  readonly impairedServices?: readonly ImpairedService[];
}

/** An ECS service that reported `SERVICE_TASK_START_IMPAIRED` (it cannot start tasks) and pins images here. */
export interface ImpairedService {
  /** absent for a service (the older shape of this report) */
  readonly kind?: 'daemon';
  readonly cluster: string;
  readonly service: string;
  readonly serviceArn: string;
  /** when ECS reported it (the event's time) */
  readonly time: Date;
  readonly eventId: string;
  /** where it runs, when not in the registry's own account and region (a workload's service, seen by the watch) */
  readonly account?: string;
  readonly region?: string;
}

/** A digest that went away while a gap in the inventory could hide a workload that uses it. */
export interface PossiblyInUse {
  readonly digest: Digest;
  /** `gone`: no longer in the repository; `archived`: in the archive, which cannot be pulled */
  readonly state: 'gone' | 'archived';
  /** the inventory's gaps that concern this repository */
  readonly gaps: readonly InventoryGap[];
}
