/**
 * A list of one workload (account, region) applied to the in-use index. Add fast, remove slow:
 * - every entry the list saw that the index lacks is added (`lastSeen` = the list's start, `seenBy` list);
 *   entries already there are not rewritten, so a list's writes grow with the changes, not the account;
 * - only a complete list (no inventory gap) removes, and only entries last seen before it started; the
 *   removal is conditional on that, so an entry a later writer (the watch) refreshed meanwhile is kept.
 * The index therefore stays a superset of what is in use: a stale extra entry costs only a protective tag.
 * Pure apart from the port: no SDK, no clock (the caller passes when the list started).
 */
import { mapWithConcurrency } from '../concurrency';
import type { InUseIndexPort } from '../ports';
import type { Inventory } from '../types';
import { consumerName, entrySortKey, imagePartitionKey } from './keys';
import type { AccountRegion, IndexedEntry, InUseEntry, InUseIndexListResult } from './types';

export interface ListRun {
  /** the registry the inventory's repositories belong to */
  readonly registry: AccountRegion;
  /** where the listed workloads run */
  readonly workload: AccountRegion;
  /** epoch ms, taken before the inventory started: nothing the list saw was seen earlier than this */
  readonly startedAtMs: number;
}

/** Index writes in flight at once; DynamoDB on-demand absorbs far more, this keeps one run's burst polite. */
export const INDEX_WRITE_CONCURRENCY = 16;
/** A status item holds at most this many gap reasons, each cut to `GAP_REASON_MAX_CHARS` (items ≤ 400 KB). */
const MAX_GAPS_RECORDED = 20;
const GAP_REASON_MAX_CHARS = 500;

/** A list's index writes failed after the SDK's retries: the run fails so that retries and alarms see it. */
export class InUseIndexUpdateError extends Error {
  override readonly name = 'InUseIndexUpdateError';
  constructor(
    message: string,
    /** what the list did before it failed; absent when it failed before writing (e.g. reading the index) */
    readonly result?: InUseIndexListResult,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The entries an inventory shows, one per (repository, digest, user), in first-seen order. */
export function entriesSeenByList(inventory: Inventory, run: ListRun): InUseEntry[] {
  const entries = new Map<string, InUseEntry>();
  for (const [repository, digests] of inventory.byRepository) {
    for (const [digest, consumers] of digests) {
      for (const consumer of consumers) {
        const entry: InUseEntry = {
          registryAccount: run.registry.account,
          registryRegion: run.registry.region,
          repository,
          digest,
          consumerAccount: run.workload.account,
          consumerRegion: run.workload.region,
          kind: consumer.kind,
          name: consumerName(consumer),
          seenBy: 'list',
          lastSeen: run.startedAtMs,
          image: consumer.image,
        };
        const key = `${imagePartitionKey(entry)}|${entrySortKey(entry)}`;
        if (!entries.has(key)) entries.set(key, entry);
      }
    }
  }
  return [...entries.values()];
}

/**
 * What to write: the seen entries the index lacks, and, for a complete list only, the indexed entries it did
 * not see that were last seen before it started (one seen later was written by someone who knows better).
 */
export function planListApplication(
  seen: readonly InUseEntry[],
  indexed: readonly IndexedEntry[],
  complete: boolean,
  startedAtMs: number,
): { adds: InUseEntry[]; removals: IndexedEntry[] } {
  const indexedKeys = new Set(indexed.map((entry) => `${entry.pk}|${entry.sk}`));
  const seenKeys = new Set(seen.map((entry) => `${imagePartitionKey(entry)}|${entrySortKey(entry)}`));
  const adds = seen.filter((entry) => !indexedKeys.has(`${imagePartitionKey(entry)}|${entrySortKey(entry)}`));
  const removals = complete
    ? indexed.filter((entry) => !seenKeys.has(`${entry.pk}|${entry.sk}`) && entry.lastSeen < startedAtMs)
    : [];
  return { adds, removals };
}

/**
 * Applies one list to the index and records its outcome for the workload. Every write is attempted; when
 * any failed (after the SDK's retries) the outcome is recorded as partial and `InUseIndexUpdateError` is
 * thrown, so the run fails loudly. A failed add leaves an entry missing until the next list, a failed
 * removal leaves a stale one: neither is hidden.
 */
export async function applyListToIndex(
  inventory: Inventory,
  run: ListRun,
  index: InUseIndexPort,
  options: { readonly concurrency?: number } = {},
): Promise<InUseIndexListResult> {
  const concurrency = options.concurrency ?? INDEX_WRITE_CONCURRENCY;
  const complete = inventory.gaps.length === 0;
  const seen = entriesSeenByList(inventory, run);
  const indexed = await index.entriesOfWorkload(run.workload);
  const plan = planListApplication(seen, indexed, complete, run.startedAtMs);

  const failures: unknown[] = [];
  const attempt = async <T>(write: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await write();
    } catch (error) {
      failures.push(error);
      return undefined;
    }
  };
  const added = await mapWithConcurrency(plan.adds, concurrency, (entry) => attempt(() => index.addEntry(entry)));
  const removed = await mapWithConcurrency(plan.removals, concurrency, (entry) =>
    attempt(() => index.removeEntryNotSeenSince({ pk: entry.pk, sk: entry.sk }, run.startedAtMs)),
  );

  const writes = plan.adds.length + plan.removals.length;
  const gaps = inventory.gaps.map((gap) => gap.reason);
  if (failures.length > 0) gaps.push(`${failures.length} of ${writes} in-use index writes failed`);
  const outcome = gaps.length === 0 ? 'complete' : 'partial';
  const result: InUseIndexListResult = {
    workload: run.workload,
    startedAtMs: run.startedAtMs,
    outcome,
    entries: seen.length,
    indexed: indexed.length,
    added: added.filter((a) => a === 'added').length,
    alreadyThere: added.filter((a) => a === 'already-there').length,
    removed: removed.filter((r) => r === 'removed').length,
    keptSeenSince: removed.filter((r) => r === 'seen-since').length,
    failedWrites: failures.length,
  };
  await index.recordListStatus(run.workload, {
    startedAtMs: run.startedAtMs,
    outcome,
    gaps: gaps.slice(0, MAX_GAPS_RECORDED).map((reason) => reason.slice(0, GAP_REASON_MAX_CHARS)),
    entries: seen.length,
  });
  if (failures.length > 0) {
    throw new InUseIndexUpdateError(
      `${failures.length} of ${writes} in-use index writes failed for ${run.workload.account} ${run.workload.region}`,
      result,
      { cause: failures[0] },
    );
  }
  return result;
}
