/**
 * The watch's pure parts: which task events become which in-use index entries, and the reasons a malformed
 * record is refused with. The writes and the first-seen check run on the simulated account in
 * test/scenarios/watch.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { entriesOfTaskEvent, parseTaskStateChangeRecord, watchTaskEvents } from '../../../lambda/core/watch';
import type { InUseIndexWatchPort } from '../../../lambda/core/ports';
import { ecsTaskStateChangeFixture } from '../../support/fixtures';

const record = (body: unknown, messageId = 'm-1') => ({
  messageId,
  body: typeof body === 'string' ? body : JSON.stringify(body),
});
const TASK = 'arn:aws:ecs:us-west-2:111122223333:task/FargateCluster/c13b4cb40f1f4fe4a2971f76ae5a47ad';
const DIGEST = 'sha256:74b2c688c700ec95a93e478cdb959737c148df3fbf5ea706abe0318726e885e6';

function parsed(body: unknown) {
  const result = parseTaskStateChangeRecord(record(body));
  if (!result.ok) throw new Error(result.reason);
  return result.event;
}

describe('task state change events as in-use index entries', () => {
  it("given AWS's documented sample event, when it is read, then its ECR digest is one ecs-task entry of the task", () => {
    const entries = entriesOfTaskEvent(parsed(ecsTaskStateChangeFixture()));

    expect(entries).toEqual([
      {
        registryAccount: '111122223333',
        registryRegion: 'us-west-2',
        repository: 'hello-repository',
        digest: DIGEST,
        consumerAccount: '111122223333',
        consumerRegion: 'us-west-2',
        kind: 'ecs-task',
        name: TASK,
        seenBy: 'watch',
        lastSeen: Date.parse('2020-01-23T17:57:58Z'),
        image: '111122223333.dkr.ecr.us-west-2.amazonaws.com/hello-repository:latest',
      },
    ]);
  });

  it('given a task in eu-west-1 pulling from a us-east-1 registry of another account, then the entry keys that registry', () => {
    const event = ecsTaskStateChangeFixture();
    event.region = 'eu-west-1';
    event.detail.containers[0]!.image = '444455556666.dkr.ecr.us-east-1.amazonaws.com/shared/base:1';

    const [entry] = entriesOfTaskEvent(parsed(event));

    expect(entry).toMatchObject({
      registryAccount: '444455556666',
      registryRegion: 'us-east-1',
      repository: 'shared/base',
      consumerRegion: 'eu-west-1',
    });
  });

  it('given containers of Docker Hub, without a digest, or running one digest twice, then only distinct ECR digests count', () => {
    const event = ecsTaskStateChangeFixture();
    const ecr = event.detail.containers[0]!;
    event.detail.containers.push(
      { ...ecr, name: 'sidecar' },
      { ...ecr, name: 'proxy', image: 'public.ecr.aws/nginx/nginx:1', imageDigest: `sha256:${'a'.repeat(64)}` },
      { ...ecr, name: 'pending', imageDigest: undefined as unknown as string },
    );

    expect(entriesOfTaskEvent(parsed(event)).map((e) => e.digest)).toEqual([DIGEST]);
  });

  it.each([
    ['not JSON', '{', /body is not JSON/],
    ['another detail type', { ...ecsTaskStateChangeFixture(), 'detail-type': 'ECS Service Action' }, /detail-type/],
    [
      'no detail.version',
      (() => {
        const e = ecsTaskStateChangeFixture() as { detail: Record<string, unknown> };
        delete e.detail.version;
        return e;
      })(),
      /detail\.version: is missing/,
    ],
    [
      'a task ARN that is not one',
      (() => {
        const e = ecsTaskStateChangeFixture();
        e.detail.taskArn = 'c13b4cb40f1f4fe4a2971f76ae5a47ad';
        return e;
      })(),
      /detail\.taskArn: must be a task ARN/,
    ],
  ])('given %s, when the record is read, then it is refused with a reason naming the field', (_, body, reason) => {
    const result = parseTaskStateChangeRecord(record(body));

    expect(result.ok).toBe(false);
    expect(result.ok ? '' : result.reason).toMatch(reason);
  });
});

describe('a batch of task events', () => {
  function recordingIndex() {
    const writes: { names: string[]; version: number }[] = [];
    const index: InUseIndexWatchPort = {
      recordWatchedUse: async (entries, version) => {
        writes.push({ names: entries.map((e) => e.digest), version });
        return entries.map(() => 'refreshed' as const);
      },
      hasSettledOtherUsers: async () => true,
    };
    return { writes, index };
  }
  const noop = () => undefined;
  const deps = (index: InUseIndexWatchPort, errors: string[] = []) => ({
    index,
    registry: { account: '111122223333', region: 'us-west-2' },
    ecr: {} as never,
    alerts: {} as never,
    logger: { info: noop, warn: noop, error: (message: string) => void errors.push(message) },
  });
  const settings = { tagPrefix: 'digest-guard', dryRun: false };

  it('given a stopped task, when the batch is applied, then nothing is written', async () => {
    const { writes, index } = recordingIndex();
    const stopped = ecsTaskStateChangeFixture();
    stopped.detail.lastStatus = 'STOPPED';
    stopped.detail.desiredStatus = 'STOPPED';

    const outcome = await watchTaskEvents([record(stopped)], settings, deps(index));

    expect(writes).toEqual([]);
    expect(outcome.failedMessageIds).toEqual([]);
  });

  it('given a malformed record among good ones, then only it fails and the others are written, one write each', async () => {
    const { writes, index } = recordingIndex();
    const errors: string[] = [];

    const outcome = await watchTaskEvents(
      [record(ecsTaskStateChangeFixture(), 'good'), record('{"detail-type": 1}', 'bad')],
      settings,
      deps(index, errors),
    );

    expect(outcome.failedMessageIds).toEqual(['bad']);
    expect(writes).toEqual([{ names: [DIGEST], version: 4 }]);
    expect(outcome.indexWrites).toBe(1);
    expect(errors).toEqual([
      'malformed task event: reported as failed; after the retries it lands in the dead-letter queue',
    ]);
  });

  it('given the index write fails, then that task event fails so that the queue retries it', async () => {
    const index: InUseIndexWatchPort = {
      recordWatchedUse: async () => {
        throw new Error('ProvisionedThroughputExceededException');
      },
      hasSettledOtherUsers: async () => true,
    };

    const outcome = await watchTaskEvents([record(ecsTaskStateChangeFixture(), 'm-9')], settings, deps(index));

    expect(outcome.failedMessageIds).toEqual(['m-9']);
  });
});
