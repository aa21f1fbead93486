/**
 * The push path's in-use picture from the in-use index: one Query per pushed repository, turned into the same
 * `Inventory` the direct inventory returns, so one decide/protect path serves both. The index is used only when
 * every workload the guard lists (its own account and region, and each configured workload) has a complete list
 * recorded: before that it may lack whole workloads. Otherwise, and whenever reading it fails, the direct
 * inventory of the own account is taken instead, with a note the alert shows. Protection is never skipped.
 * Pure apart from the ports: no SDK.
 */
import { mapWithConcurrency } from './concurrency';
import type { AccountRegion, InUseEntry } from './in-use-index/types';
import { InventoryCollector } from './inventory';
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
  /** @default INDEX_READ_CONCURRENCY */
  readonly concurrency?: number;
}

const where = (workload: AccountRegion) => `${workload.account} ${workload.region}`;

/** An inventory port that reads the index for the repositories it is asked about, else takes the direct one. */
export function inventoryFromIndexOrDirect(sources: IndexInventorySources): InventoryPort {
  return {
    takeInventory: async (repositories?: readonly string[]): Promise<Inventory> => {
      const { logger } = sources;
      if (!repositories) return direct(sources, 'the caller named no repositories to read');
      const concurrency = sources.concurrency ?? INDEX_READ_CONCURRENCY;
      let statuses: (RecordedListStatus | undefined)[];
      let entries: InUseEntry[][];
      const takenAt = sources.now();
      try {
        statuses = await mapWithConcurrency(sources.workloads, concurrency, (w) => sources.index.listStatus(w));
        const unlisted = sources.workloads.filter((_, i) => statuses[i]?.lastCompleteListStartedAt === undefined);
        if (unlisted.length > 0) {
          return direct(sources, `no complete list is recorded yet for ${unlisted.map(where).join(', ')}`);
        }
        entries = await mapWithConcurrency(repositories, concurrency, (repository) =>
          sources.index.usersOfRepository(sources.registry, repository),
        );
      } catch (error) {
        logger.error('could not read the in-use index; taking the direct inventory of this account instead', {
          error,
          repositories,
          whatToDo:
            'check the push function role may call dynamodb:GetItem and dynamodb:Query on the in-use index table, ' +
            'and that the table exists; until then workloads in other accounts are not seen at push time',
        });
        sources.metrics?.count('InUseIndexReadFailures', 1);
        return direct(sources, 'it could not be read (see the function log)');
      }
      const collector = new InventoryCollector();
      for (const entry of entries.flat()) collector.add(entry.repository, entry.digest, consumerOf(entry));
      // A partial list removes nothing, but what it could not see may be in use: the same gap the direct
      // inventory would report, so deletions are checked and releases pause.
      const gaps: InventoryGap[] = sources.workloads.flatMap((workload, i) =>
        statuses[i]?.lastListOutcome === 'partial'
          ? [{ reason: `the last list of ${where(workload)} was partial: what it could not see may be in use` }]
          : [],
      );
      return { takenAt, byRepository: collector.byRepository(), gaps };
    },
  };
}

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
