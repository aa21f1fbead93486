/**
 * The in-use index in DynamoDB: every call the list makes on the table and its `byWorkload` index.
 * Conditions carry the index's rules into the write itself, so a concurrent writer cannot be overwritten:
 * - an add never replaces an entry (`attribute_not_exists`): an entry written meanwhile, e.g. by the watch
 *   with a later `lastSeen`, stays as it is;
 * - a removal happens only if the entry was last seen before the list started (`lastSeen < :startedAt`), so a
 *   later write wins the race; `ConditionalCheckFailedException` then means "kept", not an error;
 * - a list's status never overwrites the status of a list that started later.
 * Any other error is left to the SDK's retries and then thrown.
 * See: https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.ConditionExpressions.html
 * See: https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_DeleteItem.html
 * Shapes: botocore `botocore/data/dynamodb/2012-08-10/service-2.json`.
 */
import {
  type AttributeValue,
  ConditionalCheckFailedException,
  type CreateTableCommandInput,
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  TransactionCanceledException,
  TransactWriteItemsCommand,
  type Update,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import {
  type AccountRegion,
  entrySortKey,
  IN_USE_INDEX_KEYS,
  type IndexedEntry,
  imagePartitionKey,
  replicationWarningKey,
  type InUseEntry,
  type WorkloadListStatus,
  workloadKey,
  workloadStatusKey,
  WATCH_WRITE_SETTLE_MS,
  WRITTEN_AT_ATTRIBUTE,
} from '../core/in-use-index';
import type {
  InUseIndexPort,
  InUseIndexReadPort,
  InUseIndexWatchPort,
  RecordedListStatus,
  ReplicationWarningMemory,
  SentReplicationWarning,
  WatchedWrite,
} from '../core/ports';
import type { ConsumerKind } from '../core/types';
import { defaultDynamoDbClient } from './clients';

const { partitionKey: PK, sortKey: SK, byWorkload } = IN_USE_INDEX_KEYS;
/** TransactWriteItems takes at most 100 actions; a task has at most 10 containers anyway. */
const MAX_TRANSACTION_ITEMS = 100;

/** The index read back something it never writes: a bug or a foreign writer, never silently skipped. */
export class UnexpectedIndexItemError extends Error {
  override readonly name = 'UnexpectedIndexItemError';
}

/** Keys read to find a settled user of a digest: one small page (keys and a number each). */
const SETTLED_QUERY_LIMIT = 25;

export class DynamoDbInUseIndex
  implements InUseIndexPort, InUseIndexWatchPort, InUseIndexReadPort, ReplicationWarningMemory
{
  constructor(
    private readonly tableName: string,
    private readonly client: DynamoDBClient = defaultDynamoDbClient(),
    /** when the watch writes, in epoch ms (tests pass a fixed clock) */
    private readonly now: () => number = Date.now,
  ) {
    if (!tableName) throw new RangeError('DynamoDbInUseIndex: a table name is needed');
  }

  /** Every entry of the workload from the sparse `byWorkload` index (KEYS_ONLY: keys and lastSeen), all pages. */
  async entriesOfWorkload(workload: AccountRegion): Promise<IndexedEntry[]> {
    const entries: IndexedEntry[] = [];
    let start: Record<string, AttributeValue> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: byWorkload.indexName,
          KeyConditionExpression: '#workload = :workload',
          ExpressionAttributeNames: { '#workload': byWorkload.partitionKey },
          ExpressionAttributeValues: { ':workload': { S: workloadKey(workload) } },
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      for (const item of page.Items ?? []) entries.push(indexedEntryOf(item));
      start =
        page.LastEvaluatedKey && Object.keys(page.LastEvaluatedKey).length > 0 ? page.LastEvaluatedKey : undefined;
    } while (start);
    return entries;
  }

  /**
   * Every user of every in-use digest of one repository: one Query (and its pages) on the image's partition.
   * The push path will read this instead of taking an inventory once the watch keeps the index fresh.
   */
  async usersOfRepository(registry: AccountRegion, repository: string): Promise<InUseEntry[]> {
    const base = { registryAccount: registry.account, registryRegion: registry.region, repository };
    const entries: InUseEntry[] = [];
    let start: Record<string, AttributeValue> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: '#pk = :pk',
          ExpressionAttributeNames: { '#pk': PK },
          ExpressionAttributeValues: { ':pk': { S: imagePartitionKey(base) } },
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      for (const item of page.Items ?? []) entries.push(entryOf(base, item));
      start =
        page.LastEvaluatedKey && Object.keys(page.LastEvaluatedKey).length > 0 ? page.LastEvaluatedKey : undefined;
    } while (start);
    return entries;
  }

  async addEntry(entry: InUseEntry): Promise<'added' | 'already-there'> {
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: itemOf(entry),
          ConditionExpression: 'attribute_not_exists(#pk)',
          ExpressionAttributeNames: { '#pk': PK },
        }),
      );
      return 'added';
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return 'already-there';
      throw error;
    }
  }

  async removeEntryNotSeenSince(key: { pk: string; sk: string }, sinceMs: number): Promise<'removed' | 'seen-since'> {
    try {
      await this.client.send(
        new DeleteItemCommand({
          TableName: this.tableName,
          Key: { [PK]: { S: key.pk }, [SK]: { S: key.sk } },
          // An entry already gone counts as removed; one seen at or after the list's start is kept, and so is
          // one the watch wrote less than WATCH_WRITE_SETTLE_MS before the list began (or since).
          ConditionExpression:
            'attribute_not_exists(#pk) OR ' +
            '(#lastSeen < :since AND (attribute_not_exists(#writtenAt) OR #writtenAt < :settled))',
          ExpressionAttributeNames: { '#pk': PK, '#lastSeen': byWorkload.sortKey, '#writtenAt': WRITTEN_AT_ATTRIBUTE },
          ExpressionAttributeValues: {
            ':since': { N: String(sinceMs) },
            ':settled': { N: String(sinceMs - WATCH_WRITE_SETTLE_MS) },
          },
        }),
      );
      return 'removed';
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return 'seen-since';
      throw error;
    }
  }

  /**
   * One task event's entries in one request: `UpdateItem` for one entry (its `ReturnValues` tell a new item
   * from a refreshed one), `TransactWriteItems` for several (up to 100 items, all or nothing; BatchWriteItem
   * takes no condition, so it could move `lastSeen` backwards). Each write holds only if it is newer than the
   * stored sighting: `lastSeen` earlier, or the same with a lower `version`. A transaction that one condition
   * cancels (an entry the list saw after this event) is retried without the entries whose condition failed.
   * See: https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TransactWriteItems.html
   * See: https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_UpdateItem.html (ReturnValues)
   */
  async recordWatchedUse(entries: readonly InUseEntry[], version: number): Promise<WatchedWrite[]> {
    if (entries.length === 0) return [];
    if (entries.length > MAX_TRANSACTION_ITEMS) {
      throw new RangeError(`a task event names ${entries.length} digests, more than one transaction holds`);
    }
    if (entries.length === 1) {
      try {
        const answer = await this.client.send(
          new UpdateItemCommand({ ...this.watchedUpdate(entries[0]!, version), ReturnValues: 'UPDATED_OLD' }),
        );
        return [answer.Attributes && Object.keys(answer.Attributes).length > 0 ? 'refreshed' : 'created'];
      } catch (error) {
        if (error instanceof ConditionalCheckFailedException) return ['not-newer'];
        throw error;
      }
    }
    const outcomes: WatchedWrite[] = entries.map(() => 'written');
    let pending = entries.map((_, i) => i);
    while (pending.length > 0) {
      try {
        await this.client.send(
          new TransactWriteItemsCommand({
            TransactItems: pending.map((i) => ({ Update: this.watchedUpdate(entries[i]!, version) })),
          }),
        );
        return outcomes;
      } catch (error) {
        if (!(error instanceof TransactionCanceledException)) throw error;
        const reasons = error.CancellationReasons ?? [];
        const stale = pending.filter((_, at) => reasons[at]?.Code === 'ConditionalCheckFailed');
        // Cancelled for another reason (a conflicting transaction, throttling): the SDK has retried; give up.
        if (stale.length === 0) throw error;
        for (const i of stale) outcomes[i] = 'not-newer';
        pending = pending.filter((i) => !stale.includes(i));
      }
    }
    return outcomes;
  }

  /**
   * One Query of the digest's users (`begins_with(sk, "<digest>#")`, one page of up to SETTLED_QUERY_LIMIT keys):
   * is any other than this one settled, that is, written by a list (no `writtenAt`) or by the watch at least
   * WATCH_WRITE_SETTLE_MS ago? A user written moments ago proves nothing: its batch (this very batch, or a
   * concurrent one) may not have checked the digest yet, or may have died before it did. A page of only recent
   * users answers no, so the caller checks: a check too many costs one DescribeImages, a check too few can cost
   * the image.
   */
  async hasSettledOtherUsers(entry: InUseEntry): Promise<boolean> {
    const page = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :digest)',
        ExpressionAttributeNames: { '#pk': PK, '#sk': SK, '#writtenAt': WRITTEN_AT_ATTRIBUTE },
        ExpressionAttributeValues: { ':pk': { S: imagePartitionKey(entry) }, ':digest': { S: `${entry.digest}#` } },
        ProjectionExpression: '#sk, #writtenAt',
        Limit: SETTLED_QUERY_LIMIT,
      }),
    );
    const own = entrySortKey(entry);
    const settledBefore = this.now() - WATCH_WRITE_SETTLE_MS;
    return (page.Items ?? []).some((item) => {
      if (item[SK]?.S === own) return false;
      const writtenAt = item[WRITTEN_AT_ATTRIBUTE]?.N;
      return writtenAt === undefined || Number(writtenAt) <= settledBefore;
    });
  }

  /** One item by its keys, strongly consistent (`GetItem`): what the last run wrote a moment ago counts. */
  private async consistentItem(key: { readonly pk: string; readonly sk: string }) {
    const answer = await this.client.send(
      new GetItemCommand({
        TableName: this.tableName,
        Key: { [PK]: { S: key.pk }, [SK]: { S: key.sk } },
        ConsistentRead: true,
      }),
    );
    return answer.Item;
  }

  /** The workload's status item (`GetItem`, strongly consistent: a list recorded a moment ago counts). */
  async listStatus(workload: AccountRegion): Promise<RecordedListStatus | undefined> {
    const item = await this.consistentItem(workloadStatusKey(workload));
    if (!item) return undefined;
    const number = (name: string): number | undefined => {
      const value = Number(item[name]?.N);
      return item[name]?.N !== undefined && Number.isFinite(value) ? value : undefined;
    };
    const started = number('lastListStartedAt');
    const complete = number('lastCompleteListStartedAt');
    return {
      ...(started !== undefined ? { lastListStartedAt: started } : {}),
      ...(item.lastListOutcome?.S ? { lastListOutcome: item.lastListOutcome.S } : {}),
      ...(complete !== undefined ? { lastCompleteListStartedAt: complete } : {}),
    };
  }

  private watchedUpdate(entry: InUseEntry, version: number): Update {
    const { [PK]: pk, [SK]: sk, ...attributes } = itemOf(entry);
    const names: Record<string, string> = { '#pk': PK, '#version': 'version' };
    const values: Record<string, AttributeValue> = { ':version': { N: String(version) } };
    names['#writtenAt'] = WRITTEN_AT_ATTRIBUTE;
    values[':writtenAt'] = { N: String(this.now()) };
    const sets = ['#version = :version', '#writtenAt = :writtenAt'];
    for (const [name, value] of Object.entries(attributes)) {
      names[`#${name}`] = name;
      values[`:${name}`] = value;
      sets.push(`#${name} = :${name}`);
    }
    return {
      TableName: this.tableName,
      Key: { [PK]: pk!, [SK]: sk! },
      UpdateExpression: `SET ${sets.join(', ')}`,
      // newer = a later sighting, or the same time with a later version of the task; a duplicate is neither
      ConditionExpression:
        'attribute_not_exists(#pk) OR #lastSeen < :lastSeen OR ' +
        '(#lastSeen = :lastSeen AND (attribute_not_exists(#version) OR #version < :version))',
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
    };
  }

  /**
   * The registry's last replicated-deletions warning (`GetItem`, strongly consistent: the last run's write counts).
   * An item of another shape is a foreign writer or a bug: thrown, so the reconcile warns rather than stays silent.
   */
  async lastReplicationWarning(registry: AccountRegion): Promise<SentReplicationWarning | undefined> {
    const key = replicationWarningKey(registry);
    const item = await this.consistentItem(key);
    if (!item) return undefined;
    const sentAtMs = Number(item.sentAt?.N);
    const pairs = item.pairs?.L?.map((value) => value.S);
    if (!Number.isFinite(sentAtMs) || !pairs || pairs.some((pair) => pair === undefined)) {
      throw new UnexpectedIndexItemError(`replicated-deletions warning item without sentAt or pairs: ${key.pk}`);
    }
    return { pairs: pairs as string[], sentAtMs };
  }

  /**
   * Replaces the registry's warning item (`PutItem`). It carries no `workload` attribute, so the sparse `byWorkload`
   * index never shows it to a list, and its `pk` is no image's, so no push-path Query reads it. Its size grows with
   * the pairs (about 60 bytes each): DynamoDB's 400 KB item limit holds several thousand; past it the write fails,
   * which is logged and makes the next run warn again.
   */
  async rememberReplicationWarning(registry: AccountRegion, warning: SentReplicationWarning): Promise<void> {
    const key = replicationWarningKey(registry);
    await this.client.send(
      new PutItemCommand({
        TableName: this.tableName,
        Item: {
          [PK]: { S: key.pk },
          [SK]: { S: key.sk },
          pairs: { L: warning.pairs.map((pair) => ({ S: pair })) },
          sentAt: { N: String(warning.sentAtMs) },
        },
      }),
    );
  }

  async recordListStatus(workload: AccountRegion, status: WorkloadListStatus): Promise<'recorded' | 'newer-recorded'> {
    const key = workloadStatusKey(workload);
    const complete = status.outcome === 'complete';
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: { [PK]: { S: key.pk }, [SK]: { S: key.sk } },
          UpdateExpression:
            'SET #started = :started, #outcome = :outcome, #gaps = :gaps, #entries = :entries' +
            (complete ? ', #completeStarted = :started' : ''),
          ConditionExpression: 'attribute_not_exists(#started) OR #started <= :started',
          ExpressionAttributeNames: {
            '#started': 'lastListStartedAt',
            '#outcome': 'lastListOutcome',
            '#gaps': 'gaps',
            '#entries': 'entries',
            ...(complete ? { '#completeStarted': 'lastCompleteListStartedAt' } : {}),
          },
          ExpressionAttributeValues: {
            ':started': { N: String(status.startedAtMs) },
            ':outcome': { S: status.outcome },
            ':gaps': { L: status.gaps.map((gap) => ({ S: gap })) },
            ':entries': { N: String(status.entries) },
          },
        }),
      );
      return 'recorded';
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return 'newer-recorded';
      throw error;
    }
  }
}

/**
 * The table as the guard's stack defines it (lib/in-use-index.ts), for creating it where there is no
 * CloudFormation: the simulated account, moto, the benchmarks.
 */
export function inUseIndexCreateTableInput(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: PK, AttributeType: 'S' },
      { AttributeName: SK, AttributeType: 'S' },
      { AttributeName: byWorkload.partitionKey, AttributeType: 'S' },
      { AttributeName: byWorkload.sortKey, AttributeType: 'N' },
    ],
    KeySchema: [
      { AttributeName: PK, KeyType: 'HASH' },
      { AttributeName: SK, KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: [
      {
        IndexName: byWorkload.indexName,
        KeySchema: [
          { AttributeName: byWorkload.partitionKey, KeyType: 'HASH' },
          { AttributeName: byWorkload.sortKey, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'KEYS_ONLY' },
      },
    ],
  };
}

function itemOf(entry: InUseEntry): Record<string, AttributeValue> {
  return {
    [PK]: { S: imagePartitionKey(entry) },
    [SK]: { S: entrySortKey(entry) },
    digest: { S: entry.digest },
    consumerAccount: { S: entry.consumerAccount },
    consumerRegion: { S: entry.consumerRegion },
    kind: { S: entry.kind },
    name: { S: entry.name },
    seenBy: { S: entry.seenBy },
    [byWorkload.sortKey]: { N: String(entry.lastSeen) },
    [byWorkload.partitionKey]: { S: workloadKey({ account: entry.consumerAccount, region: entry.consumerRegion }) },
    ...(entry.image ? { image: { S: entry.image } } : {}),
  };
}

function indexedEntryOf(item: Record<string, AttributeValue>): IndexedEntry {
  const pk = item[PK]?.S;
  const sk = item[SK]?.S;
  const lastSeen = Number(item[byWorkload.sortKey]?.N);
  if (!pk || !sk || !Number.isFinite(lastSeen)) {
    throw new UnexpectedIndexItemError(`in-use index item without pk, sk or lastSeen: ${JSON.stringify(item)}`);
  }
  return { pk, sk, lastSeen };
}

function entryOf(
  base: { registryAccount: string; registryRegion: string; repository: string },
  item: Record<string, AttributeValue>,
): InUseEntry {
  const text = (name: string): string => {
    const value = item[name]?.S;
    if (value === undefined) {
      throw new UnexpectedIndexItemError(`in-use index entry without ${name}: ${JSON.stringify(item[SK])}`);
    }
    return value;
  };
  const seenBy = text('seenBy');
  return {
    ...base,
    digest: text('digest'),
    consumerAccount: text('consumerAccount'),
    consumerRegion: text('consumerRegion'),
    kind: text('kind') as ConsumerKind,
    name: text('name'),
    seenBy: seenBy === 'watch' ? 'watch' : 'list',
    lastSeen: Number(item[byWorkload.sortKey]?.N),
    ...(item.image?.S ? { image: item.image.S } : {}),
  };
}
