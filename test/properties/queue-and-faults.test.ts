/**
 * The building blocks of the property, pinned on their own: the SQS + event source model, the fault
 * helpers through the real SDK, and the checkers failing on what they must catch.
 */
import { BatchGetImageCommand, ECRClient, ListImagesCommand, PutImageCommand } from '@aws-sdk/client-ecr';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { ConfiguredRetryStrategy } from '@smithy/core/retry';
import type { SQSEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { SimulatedAccount } from '../../sim/account';
import { failImageIds, faultInjector } from '../../sim/faults';
import { dockerManifest } from '../../sim/manifests';
import { SimQueue } from '../../sim/queue';
import {
  auditGuard,
  checkAtMostOneAlertPerProtection,
  checkEveryMessageHandledOrDeadLettered,
  checkWritesOnlyAddOwnProtectiveTags,
} from '../support/invariants';
import { seededRandom } from './guard-under-faults';

const clock = () => {
  let now = Date.parse('2026-11-26T10:00:00Z');
  return { now: () => new Date(now), advance: (ms: number) => void (now += ms) };
};
const receiveCounts = (event: SQSEvent) => event.Records.map((r) => Number(r.attributes.ApproximateReceiveCount));

describe('the SQS buffer and the Lambda event source', () => {
  it('redelivers a failed message after the visibility timeout with a growing receive count, then dead-letters it after 5', async () => {
    const queue = new SimQueue({ clock: clock() });
    const id = queue.send({ account: '111122223333', region: 'eu-west-1' });
    const seen: number[] = [];
    const result = await queue.settle(async (event) => {
      seen.push(...receiveCounts(event));
      return { batchItemFailures: [{ itemIdentifier: id }] };
    });
    expect(seen).toEqual([1, 2, 3, 4, 5]);
    expect(queue.message(id).state).toBe('dead-letter');
    expect(result).toMatchObject({ invocations: 5, deadLettered: 1, deleted: 0 });
  });

  it('deletes only the records a partial batch response does not list', async () => {
    const queue = new SimQueue({ clock: clock() });
    const [a, b] = [queue.send('a'), queue.send('b')];
    await queue.pollOnce(async () => ({ batchItemFailures: [{ itemIdentifier: b }] }));
    expect(queue.message(a).state).toBe('deleted');
    expect(queue.message(b).state).toBe('in-flight');
  });

  it('fails the whole batch when the function throws or names an id that is not in the batch', async () => {
    const queue = new SimQueue({ clock: clock() });
    const [a, b] = [queue.send('a'), queue.send('b')];
    await queue.pollOnce(async () => ({ batchItemFailures: [{ itemIdentifier: 'not-in-batch' }] }));
    expect([queue.message(a).state, queue.message(b).state]).toEqual(['in-flight', 'in-flight']);
    expect(queue.invocations[0]!.outcome).toMatchObject({ kind: 'error' });
    const other = new SimQueue({ clock: clock() });
    other.send('c');
    await other.pollOnce(async () => {
      throw new Error('Task timed out after 300.00 seconds');
    });
    expect(other.invocations[0]!.outcome).toEqual({ kind: 'error', reason: 'Task timed out after 300.00 seconds' });
  });

  it('runs up to maxConcurrency invocations at once, and reorders with a random source', async () => {
    const queue = new SimQueue({ clock: clock(), random: seededRandom(3) });
    for (const body of ['1', '2', '3', '4']) queue.send(body);
    let running = 0;
    let peak = 0;
    const order: string[] = [];
    await queue.pollOnce(
      async (event) => {
        running += 1;
        peak = Math.max(peak, running);
        order.push(...event.Records.map((r) => r.body));
        await new Promise((resolve) => setImmediate(resolve));
        running -= 1;
        return { batchItemFailures: [] };
      },
      { batchSize: 2 },
    );
    expect(peak).toBe(2);
    expect(order.sort()).toEqual(['1', '2', '3', '4']);
    expect(queue.outstanding).toEqual([]);
  });
});

/** The SDK's own retry strategy (classification, attempts, quota) without its backoff delays. */
const zeroDelay = () => ({ retryStrategy: new ConfiguredRetryStrategy(3, () => 0) });

describe('faults through the real SDK', () => {
  it('a timeout after the service acted: the effect stays, the caller sees TimeoutError, the SDK retries', async () => {
    const account = new SimulatedAccount();
    const topicArn = account.sns.createTopic('t');
    faultInjector(account.transport).inject({ kind: 'timeout-after', service: 'sns', operation: 'Publish', times: 1 });
    const sns = new SNSClient({ ...account.clientConfig(), ...zeroDelay() });
    await sns.send(new PublishCommand({ TopicArn: topicArn, Message: 'hello' }));
    expect(account.sns.messagesTo(topicArn)).toHaveLength(2); // the lost answer, then the retry: at-least-once
  });

  it('a timeout before the service acted, a 5xx and throttling are retried by the SDK; past maxAttempts the error surfaces', async () => {
    const account = new SimulatedAccount();
    account.ecr.createRepository('app');
    const faults = faultInjector(account.transport);
    faults.inject({ kind: 'timeout-before', service: 'ecr', times: 1 });
    faults.inject({ kind: 'server-error', service: 'ecr', operation: 'ListImages', times: 1 });
    const ecr = new ECRClient({ ...account.clientConfig(), ...zeroDelay() });
    await expect(ecr.send(new ListImagesCommand({ repositoryName: 'app' }))).resolves.toMatchObject({ imageIds: [] });
    expect(faults.pending()).toBe(0);
    faults.inject({ kind: 'throttle', service: 'ecr', times: 3 });
    await expect(ecr.send(new ListImagesCommand({ repositoryName: 'app' }))).rejects.toMatchObject({
      name: 'ThrottlingException',
    });
  });

  it('a partial failure lists the chosen ids as failures and keeps the rest of the answer', async () => {
    const account = new SimulatedAccount();
    account.ecr.createRepository('app');
    failImageIds(account.transport, {
      operation: 'BatchGetImage',
      failureCode: 'KmsError',
      failWhen: (id) => id.imageTag === 'x',
      times: 1,
    });
    const ecr = new ECRClient({ ...account.clientConfig(), ...zeroDelay() });
    const answer = await ecr.send(
      new BatchGetImageCommand({ repositoryName: 'app', imageIds: [{ imageTag: 'x' }, { imageTag: 'y' }] }),
    );
    expect(answer.failures?.map((f) => [f.imageId?.imageTag, f.failureCode])).toEqual([
      ['y', 'ImageNotFound'],
      ['x', 'KmsError'],
    ]);
  });
});

describe('the checkers fail on what they must catch', () => {
  const alert = (digest: string, how = 'tagged') =>
    JSON.stringify({ default: JSON.stringify({ repository: 'app', protected: [{ digest, how }] }) });

  it('(d) flags a protection alerted twice, and allows one re-send per failed publish', () => {
    expect(
      checkAtMostOneAlertPerProtection([alert('sha256:a'), alert('sha256:a', 'confirmed-on-retry')], []),
    ).toHaveLength(1);
    expect(
      checkAtMostOneAlertPerProtection(
        [alert('sha256:a'), alert('sha256:a', 'confirmed-on-retry')],
        [{ message: alert('sha256:a'), error: 'TimeoutError' }],
      ),
    ).toEqual([]);
  });

  it('(c) flags a function that fails its batch as a whole, and a message dead-lettered early', async () => {
    const queue = new SimQueue({ clock: clock(), maxReceiveCount: 2 });
    queue.send('x');
    await queue.settle(async () => {
      throw new Error('boom');
    });
    const violations = checkEveryMessageHandledOrDeadLettered(queue, 5);
    expect(violations).toContain('msg-000001 is in the DLQ after only 2 receives');
    expect(violations.filter((v) => v.includes('failed as a whole: boom'))).toHaveLength(2);
  });

  it('(b) the audit records a write whose answer was lost, and the checker flags its tag', async () => {
    const account = new SimulatedAccount();
    account.ecr.createRepository('app');
    const manifest = dockerManifest({ seed: 's' });
    const digest = account.ecr.pushImage('app', {
      tag: 'prod',
      manifest: manifest.text,
      mediaType: manifest.mediaType,
    });
    faultInjector(account.transport).inject({ kind: 'timeout-after', service: 'ecr', operation: 'PutImage', times: 1 });
    const audit = auditGuard(account);
    const ecr = new ECRClient({ ...account.clientConfig(), ...zeroDelay() });
    // The first put acts and its answer is lost; the SDK's retry then meets the image it just tagged.
    await expect(
      ecr.send(
        new PutImageCommand({
          repositoryName: 'app',
          imageManifest: manifest.text,
          imageDigest: digest,
          imageTag: 'moved',
        }),
      ),
    ).rejects.toMatchObject({
      name: 'ImageAlreadyExistsException',
    });
    expect(audit.writes.map((w) => w.answer)).toEqual(['ok', { error: 'ImageAlreadyExistsException' }]);
    expect(checkWritesOnlyAddOwnProtectiveTags(audit.writes, 'digest-guard')).toContain(
      `PutImage on app: put tag moved on ${digest}, which is not that digest's protective tag`,
    );
  });
});
