/**
 * The push path's in-use picture from the in-use index: one Query per pushed repository, turned into the same
 * `Inventory` the direct inventory returns, so one decide/protect path serves both. Two ways to use it:
 * - index only (`pushReadsIndex`): used only when every workload the guard lists (its own account and region,
 *   and each configured workload) has a complete list recorded: before that it may lack whole workloads.
 *   Otherwise, and whenever reading it fails, the direct inventory of the own account is taken instead, with a
 *   note the alert shows;
 * - direct + index (the default of a guard that lists other accounts): the own account's direct inventory and
 *   the index's users of the pushed repositories, merged.
 * Protection is never skipped. Pure apart from the ports: no SDK.
 */
import { mapWithConcurrency } from './concurrency';
import type { AccountRegion, InUseEntry } from './in-use-index/types';
import { consumerName } from './in-use-index/keys';
import { InventoryCollector, mergeInventories } from './inventory';
import type { GuardLogger, GuardMetrics, InUseIndexReadPort, InventoryPort, RecordedListStatus } from './ports';
import type { Consumer, Inventory, InventoryGap } from './types';

/** Index reads in flight at once: a batch names at most a few dozen repositories; DynamoDB absorbs far more. */
export const INDEX_READ_CONCURRENCY = 8;

export interface IndexInventorySources {
  readonly index: InUseIndexReadPort;
  /** the own account's inventory: the fallback */
  readonly direct: InventoryPort;
  /** the registry the pushed repositories belong to */
  readonly registry: AccountRegion;
  /** every workload whose complete list the index needs, the guard's own first */
  readonly workloads: readonly AccountRegion[];
  readonly logger: GuardLogger;
  readonly metrics?: GuardMetrics;
  readonly now: () => Date;
  /**
   * Accounts found at run time (organizational units) besides `workloads`: an index-only fallback then misses
   * them too, so the batch is retried
   */
  readonly othersBeyondWorkloads?: boolean;
  /** @default INDEX_READ_CONCURRENCY */
  readonly concurrency?: number;
}

const where = (workload: AccountRegion) => `${workload.account} ${workload.region}`;

/**
 * How the push path learns what is in use (`PUSH_INVENTORY`): `direct` the own account's inventory only;
 * `index` the in-use index only (falling back to `direct` until every workload has a complete list);
 * `direct+index` both, merged: the default of a guard that lists other accounts.
 */
export type PushInventoryMode = 'direct' | 'index' | 'direct+index';
export const PUSH_INVENTORY_MODES: readonly PushInventoryMode[] = ['direct', 'index', 'direct+index'];

/** An inventory port that reads the index for the repositories it is asked about, else takes the direct one. */
export function inventoryFromIndexOrDirect(sources: IndexInventorySources): InventoryPort {
  return {
    takeInventory: async (repositories?: readonly string[]): Promise<Inventory> => {
      if (!repositories) return direct(sources, 'the caller named no repositories to read');
      const takenAt = sources.now();
      let statuses: (RecordedListStatus | undefined)[];
      let entries: InUseEntry[];
      try {
        statuses = await readStatuses(sources, sources.workloads);
        const unlisted = sources.workloads.filter((_, i) => !hasCompleteList(statuses[i]));
        if (unlisted.length > 0) {
          return direct(sources, `no complete list is recorded yet for ${unlisted.map(where).join(', ')}`);
        }
        entries = await readUsers(sources, repositories);
      } catch (error) {
        reportIndexReadFailure(sources, error, repositories);
        const inventory = await direct(sources, 'it could not be read (see the function log)');
        // The fallback sees only the own account: when there are others, the queue must retry the batch.
        return sources.othersBeyondWorkloads || sources.workloads.length > 1
          ? { ...inventory, retryBatch: INDEX_UNREAD_RETRY }
          : inventory;
      }
      return { ...inventoryOfEntries(entries, takenAt), gaps: partialListGaps(sources.workloads, statuses) };
    },
  };
}

/**
 * An inventory port that takes the direct inventory of the own account (fresh: it sees a Lambda function changed
 * a moment ago without any trail) AND reads the index for the pushed repositories (the users in every other
 * account and region the lists and the forwarded watch recorded), merged. The index is a superset of what it
 * last saw: a stale extra entry costs a protective tag, never a deletion. Another workload with no complete list
 * yet is named in a note; one whose last list was partial is a gap. An index that cannot be read leaves the own
 * account protected from the direct inventory, and asks the queue to retry the batch (`retryBatch`).
 * With organizational units, `workloads` holds only the configured accounts: the note can name only those.
 */
export function inventoryFromDirectAndIndex(sources: IndexInventorySources): InventoryPort {
  return {
    takeInventory: async (repositories?: readonly string[]): Promise<Inventory> => {
      if (!repositories) return direct(sources, 'the caller named no repositories to read');
      const own = `${sources.registry.account} ${sources.registry.region}`;
      const others = sources.workloads.filter((workload) => where(workload) !== own);
      const takenAt = sources.now();
      const readIndex = async () => {
        try {
          const [statuses, entries] = await Promise.all([
            readStatuses(sources, others),
            readUsers(sources, repositories),
          ]);
          return { statuses, entries };
        } catch (error) {
          reportIndexReadFailure(sources, error, repositories);
          return undefined;
        }
      };
      const [ownInventory, read] = await Promise.all([sources.direct.takeInventory(repositories), readIndex()]);
      if (!read) {
        const note =
          'The in-use index could not be read (see the function log): workloads in other accounts or regions were ' +
          `not seen; ${own} was, from its direct inventory. The batch is retried.`;
        return { ...ownInventory, notes: [...(ownInventory.notes ?? []), note], retryBatch: INDEX_UNREAD_RETRY };
      }
      const unlisted = others.filter((_, i) => !hasCompleteList(read.statuses[i]));
      const fromIndex = { ...inventoryOfEntries(read.entries, takenAt), gaps: partialListGaps(others, read.statuses) };
      const merged = mergeWithoutRepeats(ownInventory, fromIndex);
      const notes = [
        ...(ownInventory.notes ?? []),
        ...(unlisted.length > 0
          ? [
              `Workloads with no complete list yet, seen at push time only through what the watch indexed: ${unlisted.map(where).join(', ')}; ` +
                'the catch-up list (every 15 minutes) lists them.',
            ]
          : []),
      ];
      return { ...merged, ...(notes.length > 0 ? { notes } : {}) };
    },
  };
}

const INDEX_UNREAD_RETRY = 'the in-use index could not be read: workloads in other accounts or regions were not seen';

const hasCompleteList = (status: RecordedListStatus | undefined) => status?.lastCompleteListStartedAt !== undefined;

function readStatuses(
  sources: IndexInventorySources,
  workloads: readonly AccountRegion[],
): Promise<(RecordedListStatus | undefined)[]> {
  return mapWithConcurrency(workloads, sources.concurrency ?? INDEX_READ_CONCURRENCY, (w) =>
    sources.index.listStatus(w),
  );
}

/** One Query per repository. */
async function readUsers(sources: IndexInventorySources, repositories: readonly string[]): Promise<InUseEntry[]> {
  const entries = await mapWithConcurrency(repositories, sources.concurrency ?? INDEX_READ_CONCURRENCY, (repository) =>
    sources.index.usersOfRepository(sources.registry, repository),
  );
  return entries.flat();
}

function reportIndexReadFailure(sources: IndexInventorySources, error: unknown, repositories: readonly string[]) {
  sources.logger.error('could not read the in-use index; taking the direct inventory of this account instead', {
    error,
    repositories,
    whatToDo:
      'check the push function role may call dynamodb:GetItem and dynamodb:Query on the in-use index table, ' +
      'and that the table exists; until then workloads in other accounts are not seen at push time',
  });
  sources.metrics?.count('InUseIndexReadFailures', 1);
}

function inventoryOfEntries(entries: readonly InUseEntry[], takenAt: Date): Inventory {
  const collector = new InventoryCollector();
  for (const entry of entries) collector.add(entry.repository, entry.digest, consumerOf(entry));
  return { takenAt, byRepository: collector.byRepository(), gaps: [] };
}

/**
 * A partial list removes nothing, but what it could not see may be in use: the same gap the direct inventory
 * would report, so deletions are checked and releases pause.
 */
function partialListGaps(
  workloads: readonly AccountRegion[],
  statuses: readonly (RecordedListStatus | undefined)[],
): InventoryGap[] {
  return workloads.flatMap((workload, i) =>
    statuses[i]?.lastListOutcome === 'partial'
      ? [{ reason: `the last list of ${where(workload)} was partial: what it could not see may be in use` }]
      : [],
  );
}

/**
 * The union of the direct inventory and the index's, each user once: the index also holds the own account's
 * users, which the direct inventory names with more detail (the container), so an index entry naming a user the
 * direct inventory already has for that digest is left out rather than shown twice in an alert.
 */
function mergeWithoutRepeats(own: Inventory, fromIndex: Inventory): Inventory {
  const seen = new Set<string>();
  for (const [repository, digests] of own.byRepository) {
    for (const [digest, consumers] of digests) {
      for (const consumer of consumers) seen.add(userKey(repository, digest, consumer));
    }
  }
  const collector = new InventoryCollector();
  for (const [repository, digests] of fromIndex.byRepository) {
    for (const [digest, consumers] of digests) {
      for (const consumer of consumers) {
        if (!seen.has(userKey(repository, digest, consumer))) collector.add(repository, digest, consumer);
      }
    }
  }
  const merged = mergeInventories([own, { ...fromIndex, byRepository: collector.byRepository() }]);
  return { ...own, ...merged };
}

const userKey = (repository: string, digest: string, consumer: Consumer) =>
  JSON.stringify([repository, digest, consumer.kind, consumerName(consumer)]);

async function direct(sources: IndexInventorySources, why: string): Promise<Inventory> {
  sources.logger.info('the in-use index was not used; taking the direct inventory', { why });
  const inventory = await sources.direct.takeInventory();
  const note =
    `The in-use index was not used: ${why}. The inventory of ${where(sources.registry)} was taken instead; ` +
    'workloads in other accounts or regions were not seen.';
  return { ...inventory, notes: [...(inventory.notes ?? []), note] };
}

/**
 * The consumer an entry stands for, as the direct inventory names it: the ARN, and the cluster and service an
 * ECS ARN carries (`task/<cluster>/<id>`, `service-revision/<cluster>/<service>/<id>`,
 * `daemon-revision/<cluster>/<daemon>/<id>`). Cluster and service only
 * name the workload in alerts; no decision reads them, so an ARN of another shape costs a "?" in an alert.
 * See: https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-account-settings.html#ecs-resource-ids
 * See: https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DescribeServiceRevisions.html (Examples)
 */
export function consumerOf(entry: InUseEntry): Consumer {
  const image = entry.image ?? `${entry.repository}@${entry.digest}`;
  if (!entry.name.startsWith('arn:')) {
    // `consumerName` joins cluster, service and container when there is no ARN; only all three parse back.
    const [cluster, service, container, ...rest] = entry.name.split('/');
    return cluster && service && container && rest.length === 0
      ? { kind: entry.kind, image, cluster, service, container }
      : { kind: entry.kind, image };
  }
  const resource = entry.name.split(':').slice(5).join(':').split('/');
  const cluster =
    resource[0] === 'task' || resource[0] === 'service-revision' || resource[0] === 'daemon-revision'
      ? resource[1]
      : undefined;
  const service = resource[0] === 'service-revision' ? resource[2] : undefined;
  return {
    kind: entry.kind,
    arn: entry.name,
    image,
    ...(cluster ? { cluster } : {}),
    ...(service ? { service } : {}),
  };
}
