/**
 * Scenario tests: the watch of ECS task events on the simulated account, through the real core, DynamoDB
 * adapter and SDK clients. One write per task event; duplicates and reordered events change nothing; a
 * stopped task removes nothing; a digest seen in use for the first time is checked and protected at once.
 */
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ECRClient } from '@aws-sdk/client-ecr';
import { SNSClient } from '@aws-sdk/client-sns';
import { beforeEach, describe, expect, it } from 'vitest';
import { EcrAdapter } from '../../lambda/adapters/ecr';
import { DynamoDbInUseIndex, inUseIndexCreateTableInput } from '../../lambda/adapters/in-use-index';
import { SnsAlertAdapter } from '../../lambda/adapters/sns';
import { protectiveTagFor } from '../../lambda/core/protective-tag';
import { entriesOfTaskEvent, parseTaskStateChangeRecord, watchTaskEvents } from '../../lambda/core/watch';
import { WATCH_WRITE_SETTLE_MS } from '../../lambda/core/in-use-index/keys';
import { SimulatedAccount } from '../../sim/account';
import { type EcsTaskStateChangeEvent, toSqsEvent } from '../../sim/events';
import { dockerManifest } from '../../sim/manifests';
import { messagesOf, tagsOf as tagsOfImage } from '../support/sim-scenario';

const TABLE = 'ecr-digest-guard-in-use-index';
let account: SimulatedAccount;
let host: string;
let topicArn: string;
let delivered: number;

function push(repository: string, tag: string, seed: string): string {
  const manifest = dockerManifest({ seed });
  return account.ecr.pushImage(repository, { tag, manifest: manifest.text, mediaType: manifest.mediaType });
}

function watch(events: readonly EcsTaskStateChangeEvent[], options: { receiveCount?: number } = {}) {
  const config = account.clientConfig({ maxAttempts: 2 });
  const noop = () => undefined;
  return watchTaskEvents(
    toSqsEvent(events, options).Records,
    { tagPrefix: 'digest-guard', dryRun: false },
    {
      index: new DynamoDbInUseIndex(TABLE, new DynamoDBClient(config), () => account.clock.now().getTime()),
      registry: { account: account.accountId, region: account.region },
      ecr: new EcrAdapter(new ECRClient(config)),
      alerts: new SnsAlertAdapter(topicArn, new SNSClient(config)),
      logger: { info: noop, warn: noop, error: noop },
    },
  );
}

/** One task event as the watch parses it. */
function parseTaskStateChangeOf(event: EcsTaskStateChangeEvent) {
  const parsed = parseTaskStateChangeRecord(toSqsEvent([event]).Records[0]!);
  if (!parsed.ok) throw new Error(parsed.reason);
  return parsed.event;
}

/** Every task event ECS emitted since the last call. */
function newTaskEvents(): EcsTaskStateChangeEvent[] {
  const fresh = account.ecs.taskEvents.slice(delivered);
  delivered = account.ecs.taskEvents.length;
  return fresh;
}

const entries = () => account.dynamodb.itemsOf(TABLE).filter((item) => item.sk?.S !== 'status');
const indexWrites = () =>
  account.callCount('dynamodb', 'UpdateItem') +
  account.callCount('dynamodb', 'TransactWriteItems') +
  account.callCount('dynamodb', 'PutItem') +
  account.callCount('dynamodb', 'DeleteItem');
const tagsOf = (repository: string, digest: string) => tagsOfImage(account, repository, digest);

beforeEach(async () => {
  account = new SimulatedAccount({ startAt: new Date('2026-11-26T10:00:00Z') });
  host = account.ecr.registryHost;
  topicArn = account.sns.createTopic('ecr-digest-guard-alerts');
  delivered = 0;
  await new DynamoDBClient(account.clientConfig()).send(new CreateTableCommand(inUseIndexCreateTableInput(TABLE)));
  account.ecr.createRepository('app');
  account.ecr.createRepository('sidecar');
  account.ecs.createCluster('prod');
});

describe('the watch keeps the in-use index from task events', () => {
  it('given a service task starts, when its event is watched, then one write adds its digest, and no ECS call is made', async () => {
    const a = push('app', 'prod', 'build-1');
    const td = account.ecs.registerTaskDefinition('web', [{ name: 'web', image: `${host}/app:prod` }]);
    account.ecs.createService('prod', 'web', td, 1);
    const ecsCalls = account.callCount('ecs');

    const outcome = await watch(newTaskEvents());

    expect(outcome.failedMessageIds).toEqual([]);
    expect(indexWrites()).toBe(1);
    expect(account.callCount('ecs')).toBe(ecsCalls);
    expect(entries()).toHaveLength(1);
    expect(entries()[0]).toMatchObject({
      digest: { S: a },
      kind: { S: 'ecs-task' },
      name: { S: account.ecs.taskArnsOf('prod', 'web')[0] },
      seenBy: { S: 'watch' },
      version: { N: '1' },
    });
  });

  it('given a task with two ECR images, when its event is watched, then both entries are written in one transaction', async () => {
    push('app', 'prod', 'build-1');
    push('sidecar', 'v1', 'side-1');
    const td = account.ecs.registerTaskDefinition('web', [
      { name: 'web', image: `${host}/app:prod` },
      { name: 'log', image: `${host}/sidecar:v1` },
    ]);
    account.ecs.createService('prod', 'web', td, 1);

    await watch(newTaskEvents());

    expect(account.callCount('dynamodb', 'TransactWriteItems')).toBe(1);
    expect(indexWrites()).toBe(1);
    expect(
      entries()
        .map((e) => e.pk?.S)
        .sort(),
    ).toEqual([
      `image#${account.accountId}#${account.region}#app`,
      `image#${account.accountId}#${account.region}#sidecar`,
    ]);
  });

  it('given the same event twice and an older event after a newer one, then the index keeps the newest sighting', async () => {
    push('app', 'prod', 'build-1');
    const td = account.ecs.registerTaskDefinition('web', [{ name: 'web', image: `${host}/app:prod` }]);
    account.ecs.createService('prod', 'web', td, 1);
    const [started] = newTaskEvents();
    account.clock.advance(60_000);
    const later = {
      ...started!,
      id: 'later',
      time: '2026-11-26T10:01:00Z',
      detail: { ...started!.detail, version: 2 },
    };
    await watch([later]);
    const afterLater = structuredClone(entries());

    await watch([later]); // a duplicate delivery
    await watch([started!]); // the older event, delivered late

    expect(entries()).toEqual(afterLater);
    expect(entries()[0]).toMatchObject({
      lastSeen: { N: String(Date.parse('2026-11-26T10:01:00Z')) },
      version: { N: '2' },
    });
  });

  it('given two events of one task in the same second, then the higher version wins whatever the order', async () => {
    push('app', 'prod', 'build-1');
    const td = account.ecs.registerTaskDefinition('web', [{ name: 'web', image: `${host}/app:prod` }]);
    account.ecs.createService('prod', 'web', td, 1);
    const [started] = newTaskEvents();
    const next = { ...started!, id: 'next', detail: { ...started!.detail, version: 2 } };

    await watch([next]);
    await watch([started!]);

    expect(entries()[0]).toMatchObject({ version: { N: '2' } });
  });

  it('given a task stops, when its event is watched, then its entry stays (only a complete list removes)', async () => {
    push('app', 'prod', 'build-1');
    const td = account.ecs.registerTaskDefinition('web', [{ name: 'web', image: `${host}/app:prod` }]);
    account.ecs.createService('prod', 'web', td, 1);
    await watch(newTaskEvents());
    const before = structuredClone(entries());
    const writes = indexWrites();
    account.ecs.stopAllTasks('prod', 'web');

    await watch(newTaskEvents());

    expect(indexWrites()).toBe(writes);
    expect(entries()).toEqual(before);
  });
});

describe('a digest the watch sees in use for the first time is checked at once', () => {
  it('given a push raced a deployment (tag resolved, then moved before the index knew), then the watch protects the digest and alerts', async () => {
    const a = push('app', 'prod', 'build-1');
    const td = account.ecs.registerTaskDefinition('web', [{ name: 'web', image: `${host}/app:prod` }]);
    account.ecs.createService('prod', 'web', td, 1); // resolves prod → A
    push('app', 'prod', 'build-2'); // the tag moves to B before any event about the task was applied
    expect(tagsOf('app', a)).toEqual([]);

    const outcome = await watch(newTaskEvents());

    expect(outcome.firstSeen).toEqual([{ repository: 'app', digest: a }]);
    expect(tagsOf('app', a)).toEqual([protectiveTagFor(a, 'digest-guard')]);
    const alerts = messagesOf(account, topicArn);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.subject).toBe('ECR digest guard: Protected 1 in-use image in app');
    const task = account.ecs.taskArnsOf('prod', 'web')[0]!.split('/').pop();
    expect(alerts[0]!.body.email).toContain(`ECS task prod/${task} of service web (container web,`);
  });

  it('given two tasks start from a digest whose tag already moved, when both events arrive in one batch, then the digest is checked and protected', async () => {
    // Found by the organization fault property: each sighting's write made the other look like an older user.
    const a = push('app', 'prod', 'build-1');
    const td = account.ecs.registerTaskDefinition('web', [{ name: 'web', image: `${host}/app:prod` }]);
    account.ecs.createService('prod', 'web', td, 2); // both tasks pin A
    push('app', 'prod', 'build-2');
    expect(tagsOf('app', a)).toEqual([]);

    const outcome = await watch(newTaskEvents());

    expect(outcome.firstSeen).toEqual([{ repository: 'app', digest: a }]);
    expect(tagsOf('app', a)).toEqual([protectiveTagFor(a, 'digest-guard')]);
    expect(messagesOf(account, topicArn)).toHaveLength(1);
  });

  it('given the digest already has another user in the index, then the watch does not ask ECR', async () => {
    push('app', 'prod', 'build-1');
    const td = account.ecs.registerTaskDefinition('web', [{ name: 'web', image: `${host}/app:prod` }]);
    account.ecs.createService('prod', 'web', td, 1);
    await watch(newTaskEvents()); // the first task: first seen, checked (still tagged: nothing to do)
    const ecrCalls = account.callCount('ecr');
    // The first entry has settled: the batch that wrote it finished its check long ago.
    account.clock.advance(WATCH_WRITE_SETTLE_MS + 1_000);

    account.ecs.launchReplacementTask('prod', 'web');
    await watch(newTaskEvents());

    expect(account.callCount('ecr')).toBe(ecrCalls);
    expect(entries()).toHaveLength(2);
  });

  it('given several tasks of a new digest start in one batch after the tag moved, then the watch still protects it', async () => {
    // Each task's write lands before the others' "any other user?" read: no task may count on another to check.
    const a = push('app', 'prod', 'build-1');
    const td = account.ecs.registerTaskDefinition('web', [{ name: 'web', image: `${host}/app:prod` }]);
    account.ecs.createService('prod', 'web', td, 3);
    push('app', 'prod', 'build-2');

    const outcome = await watch(newTaskEvents());

    expect(outcome.firstSeen).toEqual([{ repository: 'app', digest: a }]);
    expect(tagsOf('app', a)).toEqual([protectiveTagFor(a, 'digest-guard')]);
    expect(messagesOf(account, topicArn)).toHaveLength(1);
  });

  it('given another user of the digest was written moments ago by a concurrent batch, then the watch still checks', async () => {
    const a = push('app', 'prod', 'build-1');
    const td = account.ecs.registerTaskDefinition('web', [{ name: 'web', image: `${host}/app:prod` }]);
    account.ecs.createService('prod', 'web', td, 2);
    push('app', 'prod', 'build-2');
    const [first, second] = newTaskEvents();
    // A batch that wrote the first task and has not yet checked (or died before it): its write is not proof.
    await new DynamoDbInUseIndex(TABLE, new DynamoDBClient(account.clientConfig()), () =>
      account.clock.now().getTime(),
    ).recordWatchedUse(entriesOfTaskEvent(parseTaskStateChangeOf(first!)), 1);

    await watch([second!]);

    expect(tagsOf('app', a)).toEqual([protectiveTagFor(a, 'digest-guard')]);
  });

  it('given the check failed after the write, when the event is redelivered, then it checks again and protects', async () => {
    const a = push('app', 'prod', 'build-1');
    const td = account.ecs.registerTaskDefinition('web', [{ name: 'web', image: `${host}/app:prod` }]);
    account.ecs.createService('prod', 'web', td, 1);
    push('app', 'prod', 'build-2');
    const events = newTaskEvents();
    account.transport.injectFault({
      service: 'ecr',
      operation: 'DescribeImages',
      code: 'ServiceUnavailable',
      times: 2,
      status: 503,
    });

    const first = await watch(events);
    expect(first.failedMessageIds).toHaveLength(1);
    expect(tagsOf('app', a)).toEqual([]);

    const retry = await watch(events, { receiveCount: 2 });

    expect(retry.failedMessageIds).toEqual([]);
    expect(tagsOf('app', a)).toEqual([protectiveTagFor(a, 'digest-guard')]);
  });
});
