/**
 * The in-use index kept by the list, on the simulated accounts: what a list of the account writes to and
 * reads from the index (DynamoDB requests, counted on the wire), first on an empty index and then again with
 * nothing changed. Add fast, remove slow: the first list adds one entry per (digest, user); the second writes
 * no entry, only the workload's status. The bound of each is computed here from the inventory, apart from the
 * core that decides the writes.
 */
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ECSClient } from '@aws-sdk/client-ecs';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { DynamoDbInUseIndex, inUseIndexCreateTableInput } from '../lambda/adapters/in-use-index';
import { inventoryFor } from '../lambda/adapters/inventory';
import { applyListToIndex } from '../lambda/core/in-use-index';
import { buildAccount, type Shape } from './accounts';

export interface IndexListPass {
  /** entries the list saw: one per (repository, digest, user) */
  readonly entries: number;
  readonly puts: number;
  readonly deletes: number;
  /** the workload status item (one UpdateItem per list) */
  readonly statusWrites: number;
  /** Query pages of the byWorkload index */
  readonly queries: number;
}

export interface IndexListRun {
  readonly shape: Shape['name'];
  readonly first: IndexListPass;
  readonly unchanged: IndexListPass;
}

const TABLE = 'ecr-digest-guard-in-use-index';

export async function measureIndexList(shape: Shape): Promise<IndexListRun> {
  const { account } = buildAccount(shape);
  const config = account.clientConfig();
  const dynamodb = new DynamoDBClient(config);
  await dynamodb.send(new CreateTableCommand(inUseIndexCreateTableInput(TABLE)));
  const index = new DynamoDbInUseIndex(TABLE, dynamodb);
  const inventory = inventoryFor(account.accountId, account.region, {
    ecs: new ECSClient(config),
    lambda: new LambdaClient(config),
  });
  const here = { account: account.accountId, region: account.region };
  const count = (operation: string) => account.callCount('dynamodb', operation);
  const pass = async (): Promise<IndexListPass> => {
    const before = { put: count('PutItem'), del: count('DeleteItem'), upd: count('UpdateItem'), q: count('Query') };
    const startedAtMs = account.clock.now().getTime();
    const result = await applyListToIndex(
      await inventory.takeInventory(),
      {
        registry: here,
        workload: here,
        startedAtMs,
      },
      index,
    );
    return {
      entries: result.entries,
      puts: count('PutItem') - before.put,
      deletes: count('DeleteItem') - before.del,
      statusWrites: count('UpdateItem') - before.upd,
      queries: count('Query') - before.q,
    };
  };
  const first = await pass();
  account.clock.advance(6 * 3_600_000);
  const unchanged = await pass();
  return { shape: shape.name, first, unchanged };
}

export function printIndexList(run: IndexListRun): void {
  const line = (label: string, p: IndexListPass, expectedPuts: number) =>
    console.log(
      `  ${label.padEnd(28)} entries ${String(p.entries).padStart(6)}  PutItem ${String(p.puts).padStart(6)} ` +
        `(expected ${expectedPuts})  DeleteItem ${p.deletes}  status UpdateItem ${p.statusWrites}  ` +
        `Query pages ${p.queries}`,
    );
  console.log(`${run.shape} account:`);
  line('first list (empty index)', run.first, run.first.entries);
  line('second list (no change)', run.unchanged, 0);
}
