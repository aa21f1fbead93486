/**
 * Scenario tests: the scheduled reconcile is the list of its own account and region, and keeps the in-use
 * index (DynamoDB) on the simulated account, through the real handler, adapters and SDK clients.
 * Add fast, remove slow: a complete list adds what runs and removes what stopped; a list with a gap or a
 * failed inventory removes nothing; an entry written after the list started survives its removals; a list
 * with nothing changed writes no entry.
 */
import { DynamoDBClient, CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { ECRClient } from '@aws-sdk/client-ecr';
import { ECSClient } from '@aws-sdk/client-ecs';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SNSClient } from '@aws-sdk/client-sns';
import { beforeEach, describe, expect, it } from 'vitest';
import { EcrAdapter } from '../../lambda/adapters/ecr';
import { DynamoDbInUseIndex, inUseIndexCreateTableInput } from '../../lambda/adapters/in-use-index';
import { inventoryFor } from '../../lambda/adapters/inventory';
import { SnsAlertAdapter } from '../../lambda/adapters/sns';
import { runReconcile } from '../../lambda/handlers/reconcile';
import { SimulatedAccount } from '../../sim/account';
import { dockerManifest } from '../../sim/manifests';
import { scheduledEventOn } from '../support/sim-scenario';

const TABLE = 'ecr-digest-guard-in-use-index';
let account: SimulatedAccount;
let host: string;
let topicArn: string;
let errors: string[];

function push(repository: string, tag: string, seed: string): string {
  const manifest = dockerManifest({ seed });
  return account.ecr.pushImage(repository, { tag, manifest: manifest.text, mediaType: manifest.mediaType });
}

/** One reconcile run, wired as the scheduled function wires it, with the in-use index on the same account. */
function reconcile() {
  const config = account.clientConfig({ maxAttempts: 2 });
  const noop = () => undefined;
  return runReconcile(
    { tagPrefix: 'digest-guard', dryRun: false, region: account.region },
    {
      ecr: new EcrAdapter(new ECRClient(config)),
      inventoryFor: (accountId, region) =>
        inventoryFor(accountId, region, { ecs: new ECSClient(config), lambda: new LambdaClient(config) }),
      alerts: new SnsAlertAdapter(topicArn, new SNSClient(config)),
      inUseIndex: new DynamoDbInUseIndex(TABLE, new DynamoDBClient(config)),
      logger: { info: noop, warn: noop, error: (message) => void errors.push(message) },
      now: () => account.clock.now(),
      event: scheduledEventOn(account),
    },
  );
}

/** The image-user entries of the index as `<kind> <name>`, sorted. */
function entries(): string[] {
  return account.dynamodb
    .itemsOf(TABLE)
    .filter((item) => item.sk?.S !== 'status')
    .map((item) => `${item.kind?.S} ${item.name?.S}`)
    .sort();
}

function status() {
  return account.dynamodb.itemsOf(TABLE).find((item) => item.sk?.S === 'status');
}

const writes = () => account.callCount('dynamodb', 'PutItem') + account.callCount('dynamodb', 'DeleteItem');

let webTask: string;
let batchTask: string;

beforeEach(async () => {
  account = new SimulatedAccount({ startAt: new Date('2026-11-26T10:00:00Z') });
  host = account.ecr.registryHost;
  topicArn = account.sns.createTopic('ecr-digest-guard-alerts');
  errors = [];
  await new DynamoDBClient(account.clientConfig()).send(new CreateTableCommand(inUseIndexCreateTableInput(TABLE)));
  account.ecr.createRepository('app');
  account.ecs.createCluster('prod');
  push('app', 'prod', 'build-1');
  push('app', 'batch', 'job-1');
  const web = account.ecs.registerTaskDefinition('web', [{ name: 'web', image: `${host}/app:prod` }]);
  account.ecs.createService('prod', 'web', web, 1);
  webTask = account.ecs.taskArnsOf('prod', 'web')[0]!;
  const job = account.ecs.registerTaskDefinition('job', [{ name: 'job', image: `${host}/app:batch` }]);
  const run = account.ecs.runTask('prod', job);
  if (!run.ok) throw new Error('the batch task did not start');
  batchTask = run.taskArn;
});

/** The simulated clock follows the wall clock from its start, so a list starts at a time between two readings. */
const now = () => account.clock.now().getTime();
const numberOf = (value: { N?: unknown } | undefined): number => Number(value?.N);

describe('the reconcile keeps the in-use index as its list', () => {
  it('given a service and a batch task, when a complete list runs, then each user is indexed once', async () => {
    const before = now();
    const outcome = await reconcile();
    const after = now();

    expect(entries()).toHaveLength(3);
    expect(entries()).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^ecs-service arn:aws:ecs:eu-west-1:111122223333:service-revision\/prod\/web\//),
        `ecs-task ${batchTask}`,
        `ecs-task ${webTask}`,
      ]),
    );
    expect(outcome.inUseIndex).toMatchObject({ outcome: 'complete', entries: 3, added: 3, removed: 0 });
    expect(status()).toMatchObject({ lastListOutcome: { S: 'complete' }, entries: { N: '3' } });
    const startedAt = numberOf(status()?.lastListStartedAt);
    expect(startedAt).toBeGreaterThanOrEqual(before);
    expect(startedAt).toBeLessThanOrEqual(after);
    expect(numberOf(status()?.lastCompleteListStartedAt)).toBe(startedAt);
    expect(account.dynamodb.itemsOf(TABLE).filter((item) => item.lastSeen?.N === String(startedAt))).toHaveLength(3);
    expect(errors).toEqual([]);
  });

  it('given the batch task stopped, when the next complete list runs, then its entry is removed and the rest stay', async () => {
    await reconcile();
    account.ecs.stopTask(batchTask);
    account.clock.advance(6 * 3_600_000);

    const outcome = await reconcile();

    expect(entries()).not.toContain(`ecs-task ${batchTask}`);
    expect(entries()).toHaveLength(2);
    expect(outcome.inUseIndex).toMatchObject({ outcome: 'complete', added: 0, removed: 1 });
  });

  it('given nothing changed, when the list runs again, then it writes no entry', async () => {
    await reconcile();
    const before = writes();
    account.clock.advance(6 * 3_600_000);
    const secondStart = now();

    const outcome = await reconcile();

    expect(writes() - before).toBe(0);
    expect(outcome.inUseIndex).toMatchObject({ outcome: 'complete', entries: 3, added: 0, removed: 0 });
    expect(numberOf(status()?.lastCompleteListStartedAt)).toBeGreaterThanOrEqual(secondStart);
  });

  it('given a service revision that cannot be described (a gap), when the list runs, then it removes nothing and says partial', async () => {
    await reconcile();
    const firstStart = numberOf(status()?.lastListStartedAt);
    account.ecs.stopTask(batchTask);
    account.clock.advance(6 * 3_600_000);
    account.transport.injectFault({
      service: 'ecs',
      operation: 'DescribeServiceRevisions',
      code: 'ServiceNotFoundException',
      times: 10,
    });

    const outcome = await reconcile();

    expect(entries()).toContain(`ecs-task ${batchTask}`);
    expect(outcome.inUseIndex).toMatchObject({ outcome: 'partial', removed: 0 });
    expect(status()).toMatchObject({ lastListOutcome: { S: 'partial' } });
    expect(numberOf(status()?.lastListStartedAt)).toBeGreaterThan(firstStart);
    expect(numberOf(status()?.lastCompleteListStartedAt)).toBe(firstStart);
    expect(JSON.stringify(status()?.gaps)).toMatch(/could not be described/);
  });

  it('given ECS throttles every listing, when the list runs, then the run fails and the index is left as it was', async () => {
    await reconcile();
    const before = account.dynamodb.itemsOf(TABLE);
    account.ecs.stopTask(batchTask);
    account.clock.advance(6 * 3_600_000);
    account.transport.injectFault({
      service: 'ecs',
      operation: 'ListClusters',
      code: 'ThrottlingException',
      times: 100,
    });

    await expect(reconcile()).rejects.toThrow(/could not take the in-use inventory/);

    expect(account.dynamodb.itemsOf(TABLE)).toEqual(before);
  });

  it('given a watch refreshes the stopped task entry after the list read the index, then that list keeps it', async () => {
    await reconcile();
    account.ecs.stopTask(batchTask);
    account.clock.advance(6 * 3_600_000);
    // The watch (a later slice) writes between the list's index read and its conditional delete.
    account.transport.addInterceptor(async (call, answer) => {
      const output = await answer();
      if (call.service === 'dynamodb' && call.operation === 'Query' && call.input.IndexName === 'byWorkload') {
        for (const item of account.dynamodb.itemsOf(TABLE)) {
          if (item.name?.S === batchTask) {
            account.dynamodb.putItemDirectly(TABLE, {
              ...item,
              seenBy: { S: 'watch' },
              lastSeen: { N: String(now() + 1) },
            });
          }
        }
      }
      return output;
    });

    const outcome = await reconcile();

    expect(entries()).toContain(`ecs-task ${batchTask}`);
    expect(outcome.inUseIndex).toMatchObject({ outcome: 'complete', removed: 0, keptSeenSince: 1 });
  });

  it('given the index cannot be written, when the list runs, then the in-use digests are still protected and the run fails', async () => {
    push('app', 'prod', 'build-2'); // build-1, which web runs, loses its last tag
    account.transport.injectFault({
      service: 'dynamodb',
      operation: 'PutItem',
      code: 'InternalServerError',
      status: 500,
      times: 1000,
    });

    await expect(reconcile()).rejects.toThrow(/in-use index writes failed/);

    expect(
      account.ecr.imagesOf('app').some((image) => image.tags.some((t) => t.startsWith('digest-guard-sha256-'))),
    ).toBe(true);
    expect(errors).toContain(
      'could not update the in-use index; the run fails after protecting, and the next run retries',
    );
    expect(status()).toMatchObject({ lastListOutcome: { S: 'partial' } });
    expect(status()?.lastCompleteListStartedAt).toBeUndefined();
  });
});
