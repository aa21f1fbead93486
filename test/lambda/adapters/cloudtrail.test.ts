/**
 * The CloudTrail lookup of who pushed, against a mocked CloudTrail client.
 * LookupEvents: one lookup attribute, at most 50 events a page, NextToken paging, "two per second, per
 * account, per Region. If this limit is exceeded, a throttling error occurs."
 * https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_LookupEvents.html
 * (@aws-sdk/client-cloudtrail LookupEventsCommand docs: LookupAttributes "can contain only one item", 50 results at most)
 * PutImage record shape: "Example: Image push action",
 * https://docs.aws.amazon.com/AmazonECR/latest/userguide/logging-using-cloudtrail.html
 */
import { CloudTrailClient, LookupEventsCommand, ThrottlingException, type Event } from '@aws-sdk/client-cloudtrail';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it } from 'vitest';
import { CloudTrailPusherLookup, LOOKUP_PAGE_SIZE, putImageCaller } from '../../../lambda/adapters/cloudtrail';
import { resetBeforeEach } from '../../support/mocked-clients';

const cloudtrail = mockClient(CloudTrailClient);
const DIGEST_B = `sha256:${'b'.repeat(64)}`;
const DIGEST_C = `sha256:${'c'.repeat(64)}`;
const PUSHED_AT = new Date('2026-11-26T10:00:03Z');

/** A PutImage record like the documented one, by an assumed role (a pipeline). */
function putImageRecord(
  options: {
    repository?: string;
    tag?: string;
    digest?: string;
    arn?: string;
    issuer?: string;
    errorCode?: string;
    time?: string;
  } = {},
): string {
  return JSON.stringify({
    eventVersion: '1.08',
    userIdentity: {
      type: 'AssumedRole',
      principalId: 'AROAEXAMPLE:run-1',
      arn: options.arn ?? 'arn:aws:sts::111122223333:assumed-role/pipeline-a/run-1',
      accountId: '111122223333',
      sessionContext: {
        sessionIssuer: {
          type: 'Role',
          principalId: 'AROAEXAMPLE',
          arn: options.issuer ?? 'arn:aws:iam::111122223333:role/pipeline-a',
          accountId: '111122223333',
          userName: 'pipeline-a',
        },
        attributes: { mfaAuthenticated: 'false', creationDate: '2026-11-26T09:59:00Z' },
      },
    },
    eventTime: options.time ?? '2026-11-26T10:00:03Z',
    eventSource: 'ecr.amazonaws.com',
    eventName: 'PutImage',
    awsRegion: 'eu-west-1',
    requestParameters: {
      repositoryName: options.repository ?? 'app',
      imageTag: options.tag ?? 'prod',
      registryId: '111122223333',
      imageManifest: '{}',
    },
    responseElements: {
      image: {
        repositoryName: options.repository ?? 'app',
        registryId: '111122223333',
        imageId: { imageDigest: options.digest ?? DIGEST_B, imageTag: options.tag ?? 'prod' },
      },
    },
    ...(options.errorCode ? { errorCode: options.errorCode } : {}),
    eventType: 'AwsApiCall',
  });
}

const event = (record: string): Event => ({
  EventName: 'PutImage',
  EventSource: 'ecr.amazonaws.com',
  CloudTrailEvent: record,
});

const slept: number[] = [];
const lookup = (options: { maxCalls?: number } = {}) =>
  new CloudTrailPusherLookup({
    client: new CloudTrailClient({ region: 'eu-west-1' }),
    sleep: async (ms) => void slept.push(ms),
    ...options,
  });

resetBeforeEach(cloudtrail);
beforeEach(() => {
  slept.length = 0;
});

describe('CloudTrailPusherLookup.findPutImageCallers', () => {
  it('asks for PutImage events around the pushes, 50 a page, and names the principal and the role behind it', async () => {
    cloudtrail.on(LookupEventsCommand).resolves({ Events: [event(putImageRecord())] });

    const findings = await lookup().findPutImageCallers('app', [{ tag: 'prod', digest: DIGEST_B, time: PUSHED_AT }]);

    expect(cloudtrail).toHaveReceivedCommandTimes(LookupEventsCommand, 1);
    expect(cloudtrail).toHaveReceivedCommandWith(LookupEventsCommand, {
      LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: 'PutImage' }],
      StartTime: new Date('2026-11-26T09:58:03Z'),
      EndTime: new Date('2026-11-26T10:02:03Z'),
      MaxResults: LOOKUP_PAGE_SIZE,
    });
    expect(findings).toEqual({
      complete: true,
      from: new Date('2026-11-26T09:58:03Z'),
      to: new Date('2026-11-26T10:02:03Z'),
      callers: [
        {
          tag: 'prod',
          digest: DIGEST_B,
          time: PUSHED_AT,
          principal: 'arn:aws:sts::111122223333:assumed-role/pipeline-a/run-1',
          sessionIssuer: 'arn:aws:iam::111122223333:role/pipeline-a',
        },
      ],
    });
  });

  it('keeps only PutImage calls of this repository and these tags, and skips failed calls and unreadable records', async () => {
    cloudtrail.on(LookupEventsCommand).resolves({
      Events: [
        event(putImageRecord({ repository: 'other' })),
        event(putImageRecord({ tag: 'staging' })),
        event(putImageRecord({ errorCode: 'ImageTagAlreadyExistsException' })),
        event('{not json'),
        { EventName: 'PutImage' },
        event(
          putImageRecord({
            digest: DIGEST_C,
            arn: 'arn:aws:sts::111122223333:assumed-role/pipeline-b/run-9',
            issuer: 'arn:aws:iam::111122223333:role/pipeline-b',
          }),
        ),
      ],
    });

    const findings = await lookup().findPutImageCallers('app', [{ tag: 'prod', digest: DIGEST_C, time: PUSHED_AT }]);

    expect(findings.callers.map((c) => [c.tag, c.digest, c.sessionIssuer])).toEqual([
      ['prod', DIGEST_C, 'arn:aws:iam::111122223333:role/pipeline-b'],
    ]);
    expect(findings.complete).toBe(true);
  });

  it('pages with NextToken until every push is found, spacing requests to stay under two a second', async () => {
    cloudtrail
      .on(LookupEventsCommand)
      .resolvesOnce({ Events: [event(putImageRecord({ tag: 'staging' }))], NextToken: 't-2' })
      .resolvesOnce({ Events: [event(putImageRecord())], NextToken: 't-3' });

    const findings = await lookup().findPutImageCallers('app', [{ tag: 'prod', digest: DIGEST_B, time: PUSHED_AT }]);

    expect(cloudtrail).toHaveReceivedCommandTimes(LookupEventsCommand, 2);
    expect(cloudtrail.commandCalls(LookupEventsCommand)[1]!.args[0].input.NextToken).toBe('t-2');
    expect(slept).toEqual([1000]);
    expect(findings.complete).toBe(true);
  });

  it('stops at its call budget and says so, however many pages remain', async () => {
    cloudtrail
      .on(LookupEventsCommand)
      .resolves({ Events: [event(putImageRecord({ tag: 'staging' }))], NextToken: 'more' });

    const findings = await lookup({ maxCalls: 3 }).findPutImageCallers('app', [
      { tag: 'prod', digest: DIGEST_B, time: PUSHED_AT },
    ]);

    expect(cloudtrail).toHaveReceivedCommandTimes(LookupEventsCommand, 3);
    expect(findings).toMatchObject({
      complete: false,
      callers: [],
      note: 'stopped after 3 requests of 50 PutImage events',
    });
  });

  it('gives up quietly when CloudTrail throttles, keeping what it found so far', async () => {
    cloudtrail
      .on(LookupEventsCommand)
      .resolvesOnce({ Events: [event(putImageRecord({ tag: 'prod', digest: DIGEST_B }))], NextToken: 't-2' })
      .rejectsOnce(new ThrottlingException({ message: 'Rate exceeded', $metadata: {} }));

    const findings = await lookup().findPutImageCallers('app', [
      { tag: 'prod', digest: DIGEST_B, time: PUSHED_AT },
      { tag: 'prod', digest: DIGEST_C, time: new Date('2026-11-26T10:00:05Z') },
    ]);

    expect(findings.complete).toBe(false);
    expect(findings.note).toBe('CloudTrail throttled the lookup');
    expect(findings.callers.map((c) => c.digest)).toEqual([DIGEST_B]);
  });

  it('gives up quietly on any other error too (e.g. the role may not call LookupEvents)', async () => {
    const denied = Object.assign(new Error('not authorized'), { name: 'AccessDeniedException' });
    cloudtrail.on(LookupEventsCommand).rejects(denied);

    const findings = await lookup().findPutImageCallers('app', [{ tag: 'prod', digest: DIGEST_B, time: PUSHED_AT }]);

    expect(findings).toMatchObject({
      complete: false,
      callers: [],
      note: 'CloudTrail lookup failed: AccessDeniedException',
    });
  });

  it('calls a window complete when its last page is read, even if a push is not in event history yet', async () => {
    cloudtrail.on(LookupEventsCommand).resolves({ Events: [] });

    const findings = await lookup().findPutImageCallers('app', [{ tag: 'prod', digest: DIGEST_B, time: PUSHED_AT }]);

    expect(findings).toMatchObject({ complete: true, callers: [] });
  });
});

describe('putImageCaller', () => {
  it('reads an IAM user push without a session issuer', () => {
    const record = putImageRecord({ arn: 'arn:aws:iam::111122223333:user/Mary_Major' });
    const parsed = JSON.parse(record) as { userIdentity: Record<string, unknown> };
    parsed.userIdentity = {
      type: 'IAMUser',
      arn: 'arn:aws:iam::111122223333:user/Mary_Major',
      accountId: '111122223333',
    };

    expect(putImageCaller(JSON.stringify(parsed), 'app', new Set(['prod']))).toEqual({
      tag: 'prod',
      digest: DIGEST_B,
      time: PUSHED_AT,
      principal: 'arn:aws:iam::111122223333:user/Mary_Major',
    });
  });
});
