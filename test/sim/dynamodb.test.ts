/**
 * The simulated DynamoDB's own behaviour, pinned against the documentation it cites (sim/dynamodb.ts): Query
 * pages end at `Limit` or 1 MB and resume from `LastEvaluatedKey`; a GSI is sparse and KEYS_ONLY projects
 * keys; a false condition changes nothing; unused expression values are refused.
 * See: https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Query.Pagination.html
 */
import {
  ConditionalCheckFailedException,
  CreateTableCommand,
  DynamoDBClient,
  PutItemCommand,
  QueryCommand,
  type QueryCommandInput,
} from '@aws-sdk/client-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import { inUseIndexCreateTableInput } from '../../lambda/adapters/in-use-index';
import { SimulatedAccount } from '../../sim/account';
import { QUERY_PAGE_BYTES } from '../../sim/dynamodb';

let account: SimulatedAccount;
let client: DynamoDBClient;
const TABLE = 'index';

async function putEntry(i: number, workload: string | undefined, padding = ''): Promise<void> {
  await client.send(
    new PutItemCommand({
      TableName: TABLE,
      Item: {
        pk: { S: 'image#r' },
        sk: { S: `sha256:${String(i).padStart(4, '0')}` },
        lastSeen: { N: String(1000 + i) },
        ...(workload ? { workload: { S: workload } } : {}),
        ...(padding ? { padding: { S: padding } } : {}),
      },
    }),
  );
}

async function queryAll(input: QueryCommandInput): Promise<{ pages: number; items: Record<string, unknown>[] }> {
  const items: Record<string, unknown>[] = [];
  let pages = 0;
  let start: QueryCommandInput['ExclusiveStartKey'];
  do {
    const page = await client.send(new QueryCommand({ ...input, ...(start ? { ExclusiveStartKey: start } : {}) }));
    pages++;
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  return { pages, items };
}

beforeEach(async () => {
  account = new SimulatedAccount();
  client = new DynamoDBClient(account.clientConfig({ maxAttempts: 1 }));
  await client.send(new CreateTableCommand(inUseIndexCreateTableInput(TABLE)));
});

describe('simulated DynamoDB Query', () => {
  it('given 25 items and Limit 10, when every page is read, then 3 pages return each item once in key order', async () => {
    for (let i = 24; i >= 0; i--) await putEntry(i, 'w#1');
    const { pages, items } = await queryAll({
      TableName: TABLE,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': { S: 'image#r' } },
      Limit: 10,
    });
    expect(items.map((item: any) => item.sk.S)).toEqual(
      Array.from({ length: 25 }, (_, i) => `sha256:${String(i).padStart(4, '0')}`),
    );
    expect(pages).toBe(3);
  });

  it('given items of 100 KB, when queried, then a page stops once 1 MB was read and the rest follows', async () => {
    for (let i = 0; i < 15; i++) await putEntry(i, 'w#1', 'x'.repeat(100_000));
    const first = await client.send(
      new QueryCommand({
        TableName: TABLE,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': { S: 'image#r' } },
      }),
    );
    expect(first.Items).toHaveLength(Math.ceil(QUERY_PAGE_BYTES / 100_030));
    expect(first.LastEvaluatedKey).toBeDefined();
    const all = await queryAll({
      TableName: TABLE,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': { S: 'image#r' } },
    });
    expect(all.items).toHaveLength(15);
  });

  it('given items with and without the index key, when the KEYS_ONLY GSI is queried, then only keys of items that carry it', async () => {
    await putEntry(1, 'w#1', 'not projected');
    await putEntry(2, undefined);
    await putEntry(3, 'w#2');
    const { items } = await queryAll({
      TableName: TABLE,
      IndexName: 'byWorkload',
      KeyConditionExpression: '#w = :w',
      ExpressionAttributeNames: { '#w': 'workload' },
      ExpressionAttributeValues: { ':w': { S: 'w#1' } },
    });
    expect(items).toEqual([
      { pk: { S: 'image#r' }, sk: { S: 'sha256:0001' }, workload: { S: 'w#1' }, lastSeen: { N: '1001' } },
    ]);
  });
});

describe('simulated DynamoDB Query projection', () => {
  // "To read data from a table, you use operations such as GetItem, Query, or Scan … returns all of the item's
  // attributes by default. To get only some, rather than all of the attributes, use a projection expression."
  // See: https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.ProjectionExpressions.html
  it('given a ProjectionExpression with a placeholder, when queried, then only those attributes return and the name counts as used', async () => {
    await putEntry(1, 'w#1', 'not asked for');
    const { items } = await queryAll({
      TableName: TABLE,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeNames: { '#seen': 'lastSeen' },
      ExpressionAttributeValues: { ':pk': { S: 'image#r' } },
      ProjectionExpression: 'sk, #seen',
    });
    expect(items).toEqual([{ sk: { S: 'sha256:0001' }, lastSeen: { N: '1001' } }]);
  });

  it('given a projection placeholder with no name defined, when queried, then it is refused', async () => {
    await expect(
      client.send(
        new QueryCommand({
          TableName: TABLE,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': { S: 'image#r' } },
          ProjectionExpression: '#nope',
        }),
      ),
    ).rejects.toMatchObject({ name: 'ValidationException' });
  });
});

describe('simulated DynamoDB conditions and validation', () => {
  it('given an item, when a put with attribute_not_exists(pk) meets it, then ConditionalCheckFailed and no change', async () => {
    await putEntry(1, 'w#1');
    await expect(
      client.send(
        new PutItemCommand({
          TableName: TABLE,
          Item: { pk: { S: 'image#r' }, sk: { S: 'sha256:0001' }, lastSeen: { N: '5' } },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      ),
    ).rejects.toBeInstanceOf(ConditionalCheckFailedException);
    expect(account.dynamodb.itemsOf(TABLE)[0]?.lastSeen).toEqual({ N: '1001' });
  });

  it('given an expression value no expression uses, then the request is refused as DynamoDB refuses it', async () => {
    await expect(
      client.send(
        new PutItemCommand({
          TableName: TABLE,
          Item: { pk: { S: 'image#r' }, sk: { S: 'x' } },
          ConditionExpression: 'attribute_not_exists(pk)',
          ExpressionAttributeValues: { ':unused': { S: 'x' } },
        }),
      ),
    ).rejects.toThrow(/unused in expressions/);
  });
});
