/**
 * Contract: the in-use index adapter against moto_server and against the simulated account, one script run
 * on both, each step's outcome compared. moto is an independent DynamoDB emulator; where both answer the
 * same, the simulation's conditions, GSI query and status update are not just what the adapter expects.
 * Pinned: a conditional put never replaces an entry; a conditional delete removes an entry last seen before
 * the list started and keeps one seen since (ConditionalCheckFailedException = kept); the sparse KEYS_ONLY
 * `byWorkload` index returns keys and lastSeen of one workload only; the status never goes back in time; a
 * watched task event's TransactWriteItems that one stale entry cancels names it in CancellationReasons, so the
 * adapter writes the others alone.
 * See: https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.ConditionExpressions.html
 * See: https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/GSI.html
 */
import { CreateTableCommand, DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { DynamoDbInUseIndex, inUseIndexCreateTableInput } from '../../lambda/adapters/in-use-index';
import { entrySortKey, imagePartitionKey, type InUseEntry } from '../../lambda/core/in-use-index';
import { SimulatedAccount } from '../../sim/account';
import { shouldSkipMotoTests, useMotoServer } from '../support/moto';

const T0 = Date.parse('2026-11-26T10:00:00Z');
const HERE = { account: '111122223333', region: 'eu-west-1' };
const ELSEWHERE = { account: '444455556666', region: 'us-east-1' };
const digest = (c: string) => `sha256:${c.repeat(64)}`;

function entry(overrides: Partial<InUseEntry>): InUseEntry {
  return {
    registryAccount: HERE.account,
    registryRegion: HERE.region,
    repository: 'team/app',
    digest: digest('a'),
    consumerAccount: HERE.account,
    consumerRegion: HERE.region,
    kind: 'ecs-task',
    name: 'arn:aws:ecs:eu-west-1:111122223333:task/prod/1',
    seenBy: 'list',
    lastSeen: T0,
    image: '111122223333.dkr.ecr.eu-west-1.amazonaws.com/team/app:prod',
    ...overrides,
  };
}

const keyOf = (e: InUseEntry) => ({ pk: imagePartitionKey(e), sk: entrySortKey(e) });

/** The script: every call the list makes, with the outcomes it gets, in order. */
async function script(client: DynamoDBClient): Promise<unknown[]> {
  const table = `in-use-index-${Math.random().toString(36).slice(2, 8)}`;
  await client.send(new CreateTableCommand(inUseIndexCreateTableInput(table)));
  const index = new DynamoDbInUseIndex(table, client);
  const listed = entry({});
  const watched = entry({ digest: digest('b'), name: 'task/2', seenBy: 'watch', lastSeen: T0 + 10 });
  const otherWorkload = entry({ consumerAccount: ELSEWHERE.account, consumerRegion: ELSEWHERE.region });
  const out: unknown[] = [];
  out.push(await index.addEntry(listed));
  out.push(await index.addEntry({ ...listed, lastSeen: T0 + 1 }));
  out.push(await index.addEntry(watched));
  out.push(await index.addEntry(otherWorkload));
  out.push(await index.entriesOfWorkload(HERE));
  out.push(await index.removeEntryNotSeenSince(keyOf(watched), T0 + 5));
  out.push(await index.removeEntryNotSeenSince(keyOf(listed), T0 + 5));
  out.push(await index.removeEntryNotSeenSince(keyOf(listed), T0 + 5));
  out.push(await index.entriesOfWorkload(HERE));
  out.push(await index.usersOfRepository(HERE, 'team/app'));
  // A task event whose time (whole seconds, the event's) is before the list started, but that the watch wrote
  // after it: the list, which may not have seen that task, must keep it. One written well before the list: gone.
  const lateEvent = entry({ digest: digest('c'), name: 'task/3', seenBy: 'watch', lastSeen: T0 - 1_000 });
  const earlyEvent = entry({ digest: digest('d'), name: 'task/4', seenBy: 'watch', lastSeen: T0 - 300_000 });
  await new DynamoDbInUseIndex(table, client, () => T0 - 300_000).recordWatchedUse([earlyEvent], 1);
  await new DynamoDbInUseIndex(table, client, () => T0 + 2_000).recordWatchedUse([lateEvent], 1);
  out.push(await index.removeEntryNotSeenSince(keyOf(lateEvent), T0));
  out.push(await index.removeEntryNotSeenSince(keyOf(earlyEvent), T0));
  // A task event naming two digests: one TransactWriteItems. The list saw `listedLater` after this event, so that
  // update's condition fails, the whole transaction is cancelled (CancellationReasons, one per item, in order),
  // and the adapter writes the other entry alone.
  // See: https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TransactWriteItems.html
  const listedLater = entry({ digest: digest('e'), name: 'task/5', lastSeen: T0 + 50_000 });
  out.push(await index.addEntry(listedLater));
  const sidecar = entry({ digest: digest('f'), name: 'task/5', seenBy: 'watch', lastSeen: T0 + 40_000 });
  out.push(
    await new DynamoDbInUseIndex(table, client, () => T0 + 41_000).recordWatchedUse(
      [{ ...listedLater, seenBy: 'watch', lastSeen: T0 + 40_000 }, sidecar],
      1,
    ),
  );
  out.push((await index.usersOfRepository(HERE, 'team/app')).map((e) => [e.digest, e.seenBy, e.lastSeen]));
  out.push(await index.recordListStatus(HERE, { startedAtMs: T0, outcome: 'complete', gaps: [], entries: 1 }));
  out.push(await index.recordListStatus(HERE, { startedAtMs: T0 - 1, outcome: 'complete', gaps: [], entries: 9 }));
  out.push(
    await index.recordListStatus(HERE, { startedAtMs: T0 + 100, outcome: 'partial', gaps: ['a gap'], entries: 2 }),
  );
  const status = await client.send(
    new GetItemCommand({
      TableName: table,
      Key: { pk: { S: `workload#${HERE.account}#${HERE.region}` }, sk: { S: 'status' } },
    }),
  );
  out.push(status.Item);
  return out;
}

const EXPECTED = (() => {
  const listed = entry({});
  const watched = entry({ digest: digest('b'), name: 'task/2', seenBy: 'watch', lastSeen: T0 + 10 });
  const otherWorkload = entry({ consumerAccount: ELSEWHERE.account, consumerRegion: ELSEWHERE.region });
  return [
    'added',
    'already-there',
    'added',
    'added',
    [
      { ...keyOf(listed), lastSeen: T0 },
      { ...keyOf(watched), lastSeen: T0 + 10 },
    ],
    'seen-since',
    'removed',
    'removed',
    [{ ...keyOf(watched), lastSeen: T0 + 10 }],
    [otherWorkload, watched],
    'seen-since',
    'removed',
    'added',
    ['not-newer', 'written'],
    [
      [digest('a'), 'list', T0],
      [digest('b'), 'watch', T0 + 10],
      [digest('c'), 'watch', T0 - 1_000],
      [digest('e'), 'list', T0 + 50_000],
      [digest('f'), 'watch', T0 + 40_000],
    ],
    'recorded',
    'newer-recorded',
    'recorded',
    {
      pk: { S: `workload#${HERE.account}#${HERE.region}` },
      sk: { S: 'status' },
      lastListStartedAt: { N: String(T0 + 100) },
      lastCompleteListStartedAt: { N: String(T0) },
      lastListOutcome: { S: 'partial' },
      gaps: { L: [{ S: 'a gap' }] },
      entries: { N: '2' },
    },
  ];
})();

describe('the in-use index adapter on the simulated account', () => {
  it('given the list script, when run on the simulation, then every outcome is the documented one', async () => {
    const account = new SimulatedAccount();
    expect(await script(new DynamoDBClient(account.clientConfig({ maxAttempts: 1 })))).toEqual(EXPECTED);
  });
});

describe.skipIf(shouldSkipMotoTests())('the in-use index adapter against moto_server', () => {
  const moto = useMotoServer();

  it('given the list script, when run on moto, then moto agrees with the simulation at every step', async () => {
    expect(await script(new DynamoDBClient(moto().clientConfig))).toEqual(EXPECTED);
  });
});
