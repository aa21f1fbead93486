/**
 * The in-use index's vocabulary: who uses which image digest, as one entry per (image, user), and what the
 * last list of a workload (one account and region) found. Pure types: the DynamoDB shapes live in the adapter.
 */
import type { ConsumerKind, Digest } from '../types';

/** One account and region: where images are pulled from (a registry) or where workloads run (a workload). */
export interface AccountRegion {
  readonly account: string;
  readonly region: string;
}

/** How an entry was last written: by a complete or partial list, or (later) by the watch of ECS events. */
export type SeenBy = 'list' | 'watch';

/** One user of one image digest. */
export interface InUseEntry {
  readonly registryAccount: string;
  readonly registryRegion: string;
  readonly repository: string;
  readonly digest: Digest;
  readonly consumerAccount: string;
  readonly consumerRegion: string;
  /** the kinds the inventory reports (`ConsumerKind`) */
  readonly kind: ConsumerKind;
  /** the user's ARN (task, service revision, task definition, function version or alias), else a readable name */
  readonly name: string;
  readonly seenBy: SeenBy;
  /** epoch milliseconds: the start of the list that saw it, or the time of the watched event */
  readonly lastSeen: number;
  /** the image reference as the workload wrote it, for people */
  readonly image?: string;
}

/** An entry as the workload's index read returns it: its keys and when it was last seen. */
export interface IndexedEntry {
  readonly pk: string;
  readonly sk: string;
  readonly lastSeen: number;
}

export type ListOutcome = 'complete' | 'partial';

/** What the last list of a workload recorded. */
export interface WorkloadListStatus {
  readonly startedAtMs: number;
  readonly outcome: ListOutcome;
  /** why a partial list was partial (inventory gaps, failed index writes); empty when complete */
  readonly gaps: readonly string[];
  /** how many entries the list saw */
  readonly entries: number;
}

/** What one list did to the index. */
export interface InUseIndexListResult {
  readonly workload: AccountRegion;
  readonly startedAtMs: number;
  readonly outcome: ListOutcome;
  /** entries the list saw */
  readonly entries: number;
  /** entries the index already held for the workload when the list read it */
  readonly indexed: number;
  readonly added: number;
  /** adds that found the entry already written (by a concurrent writer) */
  readonly alreadyThere: number;
  readonly removed: number;
  /** removals refused because the entry was seen after the list started (a later write won) */
  readonly keptSeenSince: number;
  /** writes that failed after the SDK's retries */
  readonly failedWrites: number;
}
