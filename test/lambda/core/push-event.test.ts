import { describe, expect, it } from 'vitest';
import { parsePushRecord } from '../../../lambda/core/push-event';
import {
  ecrPushEventFixture,
  policyExecutionEventFixture,
  daemonTaskStartImpairedEventFixture,
  serviceTaskStartImpairedEventFixture,
} from '../../support/fixtures';

const DIGEST = `sha256:${'c'.repeat(64)}`;

/** The example event of https://docs.aws.amazon.com/AmazonECR/latest/userguide/ecr-eventbridge.html (push). */
function ecrPushEvent(detail: Record<string, unknown> = {}, top: Record<string, unknown> = {}) {
  const event = ecrPushEventFixture();
  return { ...event, detail: { ...event.detail, 'image-digest': DIGEST, ...detail }, ...top };
}

const record = (body: unknown, receiveCount = '1') => ({
  messageId: 'm-1',
  body: typeof body === 'string' ? body : JSON.stringify(body),
  attributes: { ApproximateReceiveCount: receiveCount },
});

describe('parsePushRecord', () => {
  it('reads the documented push event', () => {
    const parsed = parsePushRecord(record(ecrPushEvent(), '3'));
    expect(parsed).toEqual({
      ok: true,
      event: {
        action: 'PUSH',
        messageId: 'm-1',
        eventId: '13cde686-328b-6117-af20-0e5566167482',
        time: new Date('2019-11-16T01:54:34Z'),
        account: '123456789012',
        region: 'us-west-2',
        repository: 'my-repository-name',
        digest: DIGEST,
        tag: 'latest',
        manifestMediaType: 'application/vnd.docker.distribution.manifest.v2+json',
        attempt: 3,
      },
    });
  });

  it('accepts a push without a tag (pushed by digest)', () => {
    const event = ecrPushEvent();
    delete (event.detail as Record<string, unknown>)['image-tag'];
    const parsed = parsePushRecord(record(event));
    expect(parsed.ok && parsed.event?.tag).toBeUndefined();
    expect(parsed.ok && parsed.event?.digest).toBe(DIGEST);
  });

  it('reads a successful DELETE as a deletion of that digest and tag', () => {
    // "action-type": "DELETE", "result": "SUCCESS": the "Event for a completed image deletion" example of
    // https://docs.aws.amazon.com/AmazonECR/latest/userguide/ecr-eventbridge.html
    const parsed = parsePushRecord(record(ecrPushEvent({ 'action-type': 'DELETE', 'image-tag': 'v1' })));
    expect(parsed).toMatchObject({
      ok: true,
      event: { action: 'DELETE', digest: DIGEST, tag: 'v1', repository: 'my-repository-name' },
    });
  });

  it('reads a DELETE by digest (no image-tag) as a deletion without a tag', () => {
    const event = ecrPushEvent({ 'action-type': 'DELETE' });
    delete (event.detail as Record<string, unknown>)['image-tag'];
    const parsed = parsePushRecord(record(event));
    expect(parsed.ok && parsed.event).toMatchObject({ action: 'DELETE', digest: DIGEST });
    expect(parsed.ok && parsed.event?.tag).toBeUndefined();
  });

  it.each([
    ['a failed push', { result: 'FAILURE' }],
    ['a failed deletion', { 'action-type': 'DELETE', result: 'FAILURE' }],
  ])('ignores %s without failing it', (_name, detail) => {
    const parsed = parsePushRecord(record(ecrPushEvent(detail)));
    expect(parsed).toMatchObject({ ok: true, ignored: expect.stringMatching(/change no image/) });
  });

  it.each([
    ['a body that is not JSON', '{"truncated":', /not JSON/],
    ['another source', ecrPushEvent({}, { source: 'aws.ec2' }), /source/],
    ['another detail type', ecrPushEvent({}, { 'detail-type': 'ECR Image Scan' }), /detail-type/],
    ['a missing repository', ecrPushEvent({ 'repository-name': undefined }), /repository-name/],
    ['a digest that is not sha256', ecrPushEvent({ 'image-digest': 'sha256:xyz' }), /image-digest: must be sha256/],
    ['a numeric tag', ecrPushEvent({ 'image-tag': 42 }), /image-tag/],
    ['a bad account', ecrPushEvent({}, { account: 'me' }), /account/],
    ['a bad time', ecrPushEvent({}, { time: 'yesterday' }), /time/],
    ['null', null, /expected object/],
    ['an oversized body', 'x'.repeat(300 * 1024), /larger than any EventBridge event/],
  ])('fails %s with a clear reason', (_name, body, reason) => {
    const parsed = parsePushRecord(record(body));
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.reason).toMatch(reason);
  });

  it('given a wrong value, when the record is rejected, then the reason says what arrived, cut short', () => {
    const parsed = parsePushRecord(record(ecrPushEvent({}, { source: `aws.${'x'.repeat(10_000)}` })));
    expect(!parsed.ok && parsed.reason).toMatch(
      /^not an ECR Image Action event: source: expected "aws\.ecr", got "aws\.x+…"$/,
    );
    expect(!parsed.ok && parsed.reason.length).toBeLessThan(120);
  });

  it('given a missing field, when the record is rejected, then the reason names the field as missing', () => {
    const parsed = parsePushRecord(record(ecrPushEvent({ 'repository-name': undefined })));
    expect(!parsed.ok && parsed.reason).toBe('not an ECR Image Action event: detail.repository-name: is missing');
  });
});

/** The documented lifecycle PolicyExecutionEvent (see the fixture for its source and envelope). */
const policyExecutionEvent = policyExecutionEventFixture;

describe('parsePushRecord with a lifecycle PolicyExecutionEvent', () => {
  it('reads one expiry per image of the documented event, with the repository, tags and event time', () => {
    const parsed = parsePushRecord(record(policyExecutionEvent(), '2'));
    expect(parsed.ok && parsed.lifecycle).toEqual([
      {
        action: 'EXPIRE',
        messageId: 'm-1',
        eventId: 'f1c9e2a0-0000-4000-8000-000000000001#0',
        time: new Date('2020-03-12T20:22:12Z'),
        account: '123456789012',
        region: 'us-west-2',
        repository: 'testrepo',
        digest: 'sha256:ddba4d27a7ffc3f86dd6c2f92041af252a1f23a8e742c90e6e1297bfa1bc0c45',
        tags: ['alpine'],
        attempt: 2,
      },
      {
        action: 'EXPIRE',
        messageId: 'm-1',
        eventId: 'f1c9e2a0-0000-4000-8000-000000000001#1',
        time: new Date('2020-03-12T20:22:12Z'),
        account: '123456789012',
        region: 'us-west-2',
        repository: 'testrepo',
        digest: 'sha256:6ab380c5a5acf71c1b6660d645d2cd79cc8ce91b38e0352cbf9561e050427baf',
        tags: ['centos'],
        attempt: 2,
      },
    ]);
  });

  it('accepts it under the API-call detail-type too (inference: no ECR page shows its EventBridge envelope)', () => {
    const parsed = parsePushRecord(record(policyExecutionEvent('AWS API Call via CloudTrail')));
    expect(parsed.ok && parsed.lifecycle).toHaveLength(2);
  });

  it('marks images of a transition rule as archived, not expired', () => {
    const parsed = parsePushRecord(record(policyExecutionEvent('AWS Service Event via CloudTrail', 'transition')));
    expect(parsed.ok && parsed.lifecycle?.map((e) => e.action)).toEqual(['ARCHIVE', 'ARCHIVE']);
  });

  it('fails another CloudTrail event with a reason that names what is wrong', () => {
    const event = policyExecutionEvent();
    (event.detail as Record<string, unknown>).eventName = 'PutImage';
    const parsed = parsePushRecord(record(event));
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.reason).toMatch(/^not an ECR lifecycle PolicyExecutionEvent: detail\.eventName/);
  });

  it('fails an image whose digest is not sha256', () => {
    const event = policyExecutionEvent();
    event.detail.serviceEventDetails.lifecycleEventImageActions[0]!.lifecycleEventImage.digest = 'sha256:nope';
    const parsed = parsePushRecord(record(event));
    expect(!parsed.ok && parsed.reason).toMatch(/lifecycleEventImageActions\.0\.lifecycleEventImage\.digest/);
  });
});

describe('parsePushRecord with an ECS Service Action SERVICE_TASK_START_IMPAIRED event', () => {
  it('given the documented event, when parsed, then it names the impaired service, its cluster and the time', () => {
    const parsed = parsePushRecord(record(serviceTaskStartImpairedEventFixture(), '2'));

    expect(parsed).toEqual({
      ok: true,
      impairments: [
        {
          messageId: 'm-1',
          eventId: '57c9506e-9d21-294c-d2fe-e8738da7e67d',
          time: new Date('2019-11-19T19:55:38Z'),
          account: '111122223333',
          region: 'us-west-2',
          clusterArn: 'arn:aws:ecs:us-west-2:111122223333:cluster/default',
          serviceArn: 'arn:aws:ecs:us-west-2:111122223333:service/default/servicetest',
          service: 'servicetest',
          attempt: 2,
        },
      ],
    });
  });

  it('given no clusterArn in the detail, when parsed, then the cluster comes from the service ARN', () => {
    const event = serviceTaskStartImpairedEventFixture();
    delete (event.detail as Record<string, unknown>).clusterArn;

    const parsed = parsePushRecord(record(event));

    expect(parsed.ok && parsed.impairments?.[0]?.clusterArn).toBe('arn:aws:ecs:us-west-2:111122223333:cluster/default');
  });

  it('given another Service Action (steady state), when parsed, then it is ignored, not failed', () => {
    const event = serviceTaskStartImpairedEventFixture();
    event.detail.eventName = 'SERVICE_STEADY_STATE';
    event.detail.eventType = 'INFO';

    const parsed = parsePushRecord(record(event));

    expect(parsed).toEqual({ ok: true, ignored: 'ECS Service Action SERVICE_STEADY_STATE needs no action' });
  });

  it('given resources without a service ARN, when parsed, then the record fails with a reason naming resources', () => {
    const event = serviceTaskStartImpairedEventFixture();
    event.resources = ['arn:aws:ecs:us-west-2:111122223333:cluster/default'];

    const parsed = parsePushRecord(record(event));

    expect(parsed).toEqual({
      ok: false,
      reason:
        'not an ECS Service Action event: resources: must name the impaired service ' +
        '(arn:aws:ecs:<region>:<account>:service/<cluster>/<name>)',
    });
  });

  it('given an old-format service ARN and no clusterArn, when parsed, then the record fails: the cluster is unknown', () => {
    const event = serviceTaskStartImpairedEventFixture();
    event.resources = ['arn:aws:ecs:us-west-2:111122223333:service/servicetest'];
    delete (event.detail as Record<string, unknown>).clusterArn;

    const parsed = parsePushRecord(record(event));

    expect(!parsed.ok && parsed.reason).toBe(
      'not an ECS Service Action event: detail.clusterArn: is missing, and the service ARN does not name its cluster',
    );
  });

  it('given a detail without eventName, when parsed, then the record fails with a reason naming the field', () => {
    const event = serviceTaskStartImpairedEventFixture();
    delete (event.detail as Record<string, unknown>).eventName;

    const parsed = parsePushRecord(record(event));

    expect(!parsed.ok && parsed.reason).toBe('not an ECS Service Action event: detail.eventName: is missing');
  });
});

describe('parsePushRecord with an ECS Daemon Service Action DAEMON_TASK_START_IMPAIRED event', () => {
  it('given the documented TASK_FAILED_TO_RUN sample, when parsed, then it names the daemon and the revision to read', () => {
    const event = daemonTaskStartImpairedEventFixture();

    const parsed = parsePushRecord(record(event));

    expect(parsed).toEqual({
      ok: true,
      impairments: [
        {
          messageId: 'm-1',
          eventId: event.id,
          time: new Date(event.time),
          account: '123456789012',
          region: 'us-west-2',
          clusterArn: event.detail.clusterArn,
          serviceArn: event.detail.daemonArn,
          service: 'my-daemon',
          daemonRevisionArn: event.detail.daemonRevisionArn,
          attempt: 1,
        },
      ],
    });
  });

  it('given TASK_CREATION_FAILED with empty resources, then the detail alone names the revision', () => {
    const event = daemonTaskStartImpairedEventFixture() as { resources: string[]; detail: Record<string, unknown> };
    event.resources = [];
    event.detail.failureType = 'TASK_CREATION_FAILED';
    delete event.detail.taskArn;

    const parsed = parsePushRecord(record(event));

    expect(parsed.ok && parsed.impairments?.[0]?.daemonRevisionArn).toBe(event.detail.daemonRevisionArn);
  });

  it('given a daemon action without the revision, then it is refused naming the field', () => {
    const event = daemonTaskStartImpairedEventFixture() as { detail: Record<string, unknown> };
    delete event.detail.daemonRevisionArn;

    expect(parsePushRecord(record(event))).toEqual({
      ok: false,
      reason: expect.stringMatching(/^not an ECS Daemon Service Action event: .*detail\.daemonRevisionArn/),
    });
  });
});
