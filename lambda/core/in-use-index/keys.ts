/**
 * The in-use index's keys, shared by the table definition (lib/), the adapter and the simulated account:
 * - image-user items: `pk = image#<registryAccount>#<registryRegion>#<repository>`,
 *   `sk = <digest>#<consumerAccount>#<consumerRegion>#<kind>#<name>`, so one Query per pushed repository
 *   returns every in-use digest of it with its users;
 * - the `byWorkload` index (`workload = <consumerAccount>#<consumerRegion>`, `lastSeen`) returns every entry
 *   of one workload for its list; it is sparse: only image-user items carry `workload`;
 * - workload status items: `pk = workload#<account>#<region>`, `sk = status`;
 * - the registry's last replicated-deletions warning: `pk = registry#<account>#<region>`,
 *   `sk = replicated-deletions` (the reconcile's memory, so an unchanged warning is not sent every run).
 */
import type { Consumer } from '../types';
import type { AccountRegion, InUseEntry } from './types';

export const IN_USE_INDEX_KEYS = {
  partitionKey: 'pk',
  sortKey: 'sk',
  byWorkload: { indexName: 'byWorkload', partitionKey: 'workload', sortKey: 'lastSeen' },
} as const;

export const STATUS_SORT_KEY = 'status';

export function imagePartitionKey(
  entry: Pick<InUseEntry, 'registryAccount' | 'registryRegion' | 'repository'>,
): string {
  return `image#${entry.registryAccount}#${entry.registryRegion}#${entry.repository}`;
}

export function entrySortKey(
  entry: Pick<InUseEntry, 'digest' | 'consumerAccount' | 'consumerRegion' | 'kind' | 'name'>,
): string {
  return `${entry.digest}#${entry.consumerAccount}#${entry.consumerRegion}#${entry.kind}#${entry.name}`;
}

export function workloadKey(workload: AccountRegion): string {
  return `${workload.account}#${workload.region}`;
}

export function workloadStatusKey(workload: AccountRegion): { pk: string; sk: string } {
  return { pk: `workload#${workload.account}#${workload.region}`, sk: STATUS_SORT_KEY };
}

export function replicationWarningKey(registry: AccountRegion): { pk: string; sk: string } {
  return { pk: `registry#${registry.account}#${registry.region}`, sk: 'replicated-deletions' };
}

/**
 * The name an entry knows its user by. The ARN when there is one (a task, a service revision, a task
 * definition, a function version or alias): unique within the account and region. The container is left out:
 * a task that runs a digest in two containers uses it once.
 */
export function consumerName(consumer: Consumer): string {
  if (consumer.arn) return consumer.arn;
  return [consumer.cluster, consumer.service, consumer.container].filter(Boolean).join('/') || consumer.image;
}

/**
 * How long before a list's start a watch write still keeps its entry from that list's removal. A task event's
 * `time` has whole seconds, and a list reads ECS only after its start: a task that started just before the list
 * began can be missing from what the list read (ECS reads are eventually consistent — an inference from
 * "Recently stopped tasks might appear in the returned results" of ListTasks, applied to starting tasks) while
 * its event is written with a time before the start. So the watch also records when it wrote (`writtenAt`),
 * and a list removes a watched entry only if the watch wrote it this long before the list began.
 * See: https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ListTasks.html
 */
export const WATCH_WRITE_SETTLE_MS = 60_000;
/** The attribute holding when the watch last wrote an entry (epoch ms). */
export const WRITTEN_AT_ATTRIBUTE = 'writtenAt';
