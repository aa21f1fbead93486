/**
 * Part 7: one push batch that reads the in-use index instead of taking the account's inventory, on the simulated
 * account after a complete list: ECS calls (bound 0), index reads (bound: one status GetItem per listed workload
 * and one Query per pushed repository, as the entries of one repository fit one page here), and the batch's
 * simulated duration beside the same batch with the direct inventory (part 1). Same latency model as part 1;
 * DynamoDB calls take its default median (50 ms), an assumption, not a measurement.
 */
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ECSClient } from '@aws-sdk/client-ecs';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SDK_CLIENT_CONFIG } from '../lambda/adapters/clients';
import { DynamoDbInUseIndex, inUseIndexCreateTableInput } from '../lambda/adapters/in-use-index';
import { inventoryFor } from '../lambda/adapters/inventory';
import { applyListToIndex } from '../lambda/core/in-use-index';
import { handlePushBatch } from '../lambda/handlers/push';
import { toSqsEvent } from '../sim/events';
import { ASSUMED_MEDIANS_MS, VirtualClock, perOperationLatency, withLatency } from '../sim/latency';
import { START_AT, buildAccount, pushNewProd, type Shape } from './accounts';
import { seconds } from './stats';
import { SETTINGS, simWire } from './wiring';

const TABLE = 'ecr-digest-guard-in-use-index';

export interface PushIndexRun {
  readonly shape: Shape['name'];
  readonly pushes: number;
  readonly pushedRepositories: number;
  readonly protectedDigests: number;
  readonly failedRecords: number;
  readonly requests: { readonly ecs: number; readonly lambda: number; readonly ecr: number; readonly sns: number };
  readonly indexReads: { readonly getItem: number; readonly query: number };
  /** one GetItem per listed workload (here the own account only) + one Query per pushed repository */
  readonly indexReadBound: number;
  /** the batch's duration on the simulated clock */
  readonly simulatedMs: number;
  /** whether the batch fell back to the direct inventory (it must not, after a complete list) */
  readonly fellBack: boolean;
}

export async function measurePushIndex(shape: Shape): Promise<PushIndexRun> {
  const clock = new VirtualClock(START_AT);
  clock.install(11);
  try {
    const built = buildAccount(shape);
    const { account } = built;
    const here = { account: account.accountId, region: account.region };
    const plain = account.clientConfig();
    await new DynamoDBClient(plain).send(new CreateTableCommand(inUseIndexCreateTableInput(TABLE)));
    // The list the reconcile makes, untimed: this part times the push batch only.
    const listed = await applyListToIndex(
      await inventoryFor(here.account, here.region, {
        ecs: new ECSClient(plain),
        lambda: new LambdaClient(plain),
      }).takeInventory(),
      { registry: here, workload: here, startedAtMs: clock.now() },
      new DynamoDbInUseIndex(TABLE, new DynamoDBClient(plain)),
    );
    if (listed.outcome !== 'complete') throw new Error('bench: the list of the account was partial');

    const topicArn = account.sns.createTopic('ecr-digest-guard-alerts');
    const latency = perOperationLatency(ASSUMED_MEDIANS_MS, { seed: 3 });
    const wire = simWire(account, clock, latency, topicArn);
    const dynamodb = new DynamoDBClient({
      ...plain,
      ...SDK_CLIENT_CONFIG,
      requestHandler: withLatency(account.transport.requestHandler, clock, latency, (call) => wire.calls.push(call)),
    });
    const deps = wire.environment().deps((fresh) => fresh());
    const pushed = built.repositories.slice(0, shape.pushedRepositories);
    const events = pushNewProd(built, pushed, 1);
    const notes: string[] = [];
    const started = clock.now();
    const response = await clock.run(() =>
      handlePushBatch(toSqsEvent(events, { sentAt: new Date(clock.now()) }), SETTINGS, {
        ...deps,
        logger: {
          ...deps.logger,
          info: (message: string, ...rest: Record<string, unknown>[]) => {
            if (message.startsWith('the in-use index was not used')) notes.push(message);
            deps.logger.info(message, ...rest);
          },
        },
        inUseIndex: { index: new DynamoDbInUseIndex(TABLE, dynamodb) },
      }),
    );
    const simulatedMs = clock.now() - started;
    const calls = wire.calls;
    const count = (service: string, operation?: string) =>
      calls.filter((c) => c.service === service && (!operation || c.operation === operation)).length;
    return {
      shape: shape.name,
      pushes: events.length,
      pushedRepositories: pushed.length,
      protectedDigests: calls.filter((c) => c.operation === 'PutImage' && !c.error).length,
      failedRecords: response.batchItemFailures.length,
      requests: { ecs: count('ecs'), lambda: count('lambda'), ecr: count('ecr'), sns: count('sns') },
      indexReads: { getItem: count('dynamodb', 'GetItem'), query: count('dynamodb', 'Query') },
      indexReadBound: 1 + pushed.length,
      simulatedMs,
      fellBack: notes.length > 0,
    };
  } finally {
    clock.uninstall();
  }
}

export function printPushIndex(run: PushIndexRun): void {
  const reads = run.indexReads.getItem + run.indexReads.query;
  console.log(
    `${run.shape} account: ${run.pushes} pushes to ${run.pushedRepositories} repositories; ` +
      `${run.protectedDigests} digests protected; ${run.failedRecords} records failed` +
      `${run.fellBack ? '; FELL BACK to the direct inventory' : ''}`,
  );
  console.log(
    `  ECS requests ${run.requests.ecs} (bound 0), Lambda ${run.requests.lambda}; index reads ${reads} ` +
      `(GetItem ${run.indexReads.getItem}, Query ${run.indexReads.query}) vs bound ${run.indexReadBound}; ` +
      `ECR ${run.requests.ecr}, SNS ${run.requests.sns}; simulated time ${seconds(run.simulatedMs, 2)}`,
  );
}
