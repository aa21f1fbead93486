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
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import {
  type AccountRegion,
  entrySortKey,
  IN_USE_INDEX_KEYS,
  type IndexedEntry,
  imagePartitionKey,
  type InUseEntry,
  type WorkloadListStatus,
  workloadKey,
  workloadStatusKey,
} from '../core/in-use-index';
import type { InUseIndexPort } from '../core/ports';
import type { ConsumerKind } from '../core/types';
import { defaultDynamoDbClient } from './clients';

const { partitionKey: PK, sortKey: SK, byWorkload } = IN_USE_INDEX_KEYS;

/** The index read back something it never writes: a bug or a foreign writer, never silently skipped. */
export class UnexpectedIndexItemError extends Error {
  override readonly name = 'UnexpectedIndexItemError';
}

export class DynamoDbInUseIndex implements InUseIndexPort {
  constructor(
    private readonly tableName: string,
    private readonly client: DynamoDBClient = defaultDynamoDbClient(),
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
          // An entry already gone counts as removed; one seen at or after the list's start is kept.
          ConditionExpression: 'attribute_not_exists(#pk) OR #lastSeen < :since',
          ExpressionAttributeNames: { '#pk': PK, '#lastSeen': byWorkload.sortKey },
          ExpressionAttributeValues: { ':since': { N: String(sinceMs) } },
        }),
      );
      return 'removed';
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return 'seen-since';
      throw error;
    }
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
