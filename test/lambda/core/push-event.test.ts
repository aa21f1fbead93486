import { describe, expect, it } from 'vitest';
import { parsePushRecord } from '../../../lambda/core/push-event';

const DIGEST = `sha256:${'c'.repeat(64)}`;

/** The example event of https://docs.aws.amazon.com/AmazonECR/latest/userguide/ecr-eventbridge.html (push). */
function ecrPushEvent(detail: Record<string, unknown> = {}, top: Record<string, unknown> = {}) {
  return {
    version: '0',
    id: '13cde686-328b-6117-af20-0e5566167482',
    'detail-type': 'ECR Image Action',
    source: 'aws.ecr',
    account: '123456789012',
    time: '2019-11-16T01:54:34Z',
    region: 'us-west-2',
    resources: [],
    detail: {
      result: 'SUCCESS',
      'repository-name': 'my-repository-name',
      'image-digest': DIGEST,
      'action-type': 'PUSH',
      'image-tag': 'latest',
      'manifest-media-type': 'application/vnd.docker.distribution.manifest.v2+json',
      ...detail,
    },
    ...top,
  };
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

  it.each([
    ['a DELETE', { 'action-type': 'DELETE' }],
    ['a failed push', { result: 'FAILURE' }],
  ])('ignores %s without failing it', (_name, detail) => {
    const parsed = parsePushRecord(record(ecrPushEvent(detail)));
    expect(parsed).toMatchObject({ ok: true, ignored: expect.stringMatching(/cannot untag/) });
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
});
