import { PublishCommand, SNSClient, InvalidParameterException } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { describe, expect, it } from 'vitest';
import {
  SNS_MAX_MESSAGE_BYTES,
  SNS_MAX_SUBJECT_LENGTH,
  SnsAlertAdapter,
  buildMessage,
  toSnsSubject,
} from '../../../lambda/adapters/sns';
import { toChatNotification } from '../../../lambda/core/alert-chat';
import type { Alert } from '../../../lambda/core/ports';
import { chatSchemaProblems } from '../../support/chat-schema';
import { resetBeforeEach } from '../../support/mocked-clients';

const sns = mockClient(SNSClient);
const TOPIC = 'arn:aws:sns:eu-west-1:111122223333:digest-guard-alerts';
const adapter = () => new SnsAlertAdapter(TOPIC, new SNSClient({ region: 'eu-west-1' }));

const alert = (overrides: Partial<Alert> = {}): Alert => ({
  subject: '[ecr-digest-guard] team/app: protected 1 digest still in use',
  text: 'Digest sha256:aaa lost its last tag while service web still runs it.\nThe guard tagged it.',
  json: { repository: 'team/app', protected: ['sha256:aaa'], services: ['web'] },
  severity: 'WARNING',
  repository: 'team/app',
  events: ['protected'],
  ...overrides,
});

const sentInput = () => sns.commandCalls(PublishCommand)[0]!.args[0].input;

resetBeforeEach(sns);

describe('SnsAlertAdapter.publish', () => {
  it('given an alert, when it is published, then one JSON-structured message carries the JSON as default, the text for email and the chat form for https', async () => {
    // MessageStructure json: https://docs.aws.amazon.com/sns/latest/api/API_Publish.html; a protocol without a key
    // of its own receives `default`, and every key counts against the one message size limit.
    // See: botocore/data/sns/2010-03-31/service-2.json, PublishInput.Message
    sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
    const a = alert();

    await adapter().publish(a);

    expect(sns).toHaveReceivedCommandTimes(PublishCommand, 1);
    const input = sentInput();
    expect(input).toMatchObject({ TopicArn: TOPIC, MessageStructure: 'json', Subject: a.subject });
    const body = JSON.parse(input.Message!) as Record<string, string>;
    expect(body).toEqual({
      default: JSON.stringify(a.json),
      email: a.text,
      // The chat service subscribes to the topic over HTTPS, so the `https` key is what a chat channel receives;
      // every other HTTPS subscriber gets it too (see the adapter's `buildMessage`).
      https: JSON.stringify(toChatNotification(a)),
    });
    expect(chatSchemaProblems(JSON.parse(body.https!))).toEqual([]);
  });

  it('sets severity, repository and events attributes for subscription filter policies', async () => {
    // String.Array values are JSON arrays: https://docs.aws.amazon.com/sns/latest/dg/sns-message-attributes.html
    sns.on(PublishCommand).resolves({});

    await adapter().publish(alert({ severity: 'CRITICAL', events: ['protected', 'digest-gone'] }));

    expect(sentInput().MessageAttributes).toEqual({
      severity: { DataType: 'String', StringValue: 'CRITICAL' },
      repository: { DataType: 'String', StringValue: 'team/app' },
      events: { DataType: 'String.Array', StringValue: '["protected","digest-gone"]' },
    });
  });

  it('keeps the subject ASCII, on one line and shorter than 100 characters', async () => {
    // Subject constraints: botocore/data/sns/2010-03-31/service-2.json, PublishInput.Subject
    sns.on(PublishCommand).resolves({});
    const long = `Protégé digest\nin use by ${'service-'.repeat(30)}`;

    await adapter().publish(alert({ subject: long }));

    const subject = sentInput().Subject!;
    expect(subject.length).toBeLessThanOrEqual(SNS_MAX_SUBJECT_LENGTH);
    expect(subject).toMatch(/^[\x20-\x7e]+$/);
    expect(subject.startsWith('Protege digest in use by service-')).toBe(true);
    expect(subject.endsWith('...')).toBe(true);
  });

  it('cuts an oversized email text at a line boundary to fit the 256 KiB limit and says how many lines it left out', async () => {
    // Limit: 262,144 bytes, body and attributes together (botocore/data/sns/2010-03-31/service-2.json, PublishInput.Message)
    sns.on(PublishCommand).resolves({});
    const huge = 'é service web uses sha256:abc\n'.repeat(20_000); // ~640 KB of UTF-8

    await adapter().publish(alert({ text: huge }));

    const input = sentInput();
    expect(Buffer.byteLength(input.Message!, 'utf8')).toBeLessThanOrEqual(SNS_MAX_MESSAGE_BYTES);
    const body = JSON.parse(input.Message!) as Record<string, string>;
    const kept = body.email!.slice(0, body.email!.indexOf('\n\n['));
    const leftOut = Number(/\[(\d+) more lines left out to fit the SNS message size limit\.\]$/.exec(body.email!)?.[1]);
    expect(kept.split('\n').length + leftOut).toBe(huge.split('\n').length);
    expect(huge.startsWith(`${kept}\n`)).toBe(true);
    expect(body.email).not.toContain('JSON');
    expect(body.default).toBe(JSON.stringify(alert().json));
  });

  it('keeps the first entries of a JSON too large to send, as many as fit, and says how many it left out', () => {
    const digests = Array.from({ length: 20_000 }, (_, i) => `sha256:${String(i).padStart(64, '0')}`);
    const json = { schema: 'ecr-digest-guard/alert@1', repository: 'team/app', digests };

    const message = buildMessage(alert({ json }), 200_000);

    expect(Buffer.byteLength(message, 'utf8')).toBeLessThanOrEqual(200_000);
    expect(Buffer.byteLength(message, 'utf8')).toBeGreaterThan(200_000 - 100);
    const body = JSON.parse(message) as Record<string, string>;
    const sent = JSON.parse(body.default!) as { digests: string[]; omitted: { digests: number } };
    expect(sent).toMatchObject({ schema: 'ecr-digest-guard/alert@1', repository: 'team/app', complete: false });
    expect(sent.digests).toEqual(digests.slice(0, sent.digests.length));
    expect(sent.digests.length + sent.omitted.digests).toBe(20_000);
  });

  it('never cuts a surrogate pair in half when truncating', () => {
    const text = '🚨'.repeat(50_000); // 4 bytes each in UTF-8

    const message = buildMessage(alert({ text }), 100_000);

    const email = (JSON.parse(message) as Record<string, string>).email!;
    expect(email).not.toMatch(/[\ud800-\udbff](?![\udc00-\udfff])/);
    expect(Buffer.byteLength(message, 'utf8')).toBeLessThanOrEqual(100_000);
  });

  it('rethrows what SNS rejects, so the caller can retry', async () => {
    sns.on(PublishCommand).rejects(new InvalidParameterException({ message: 'bad', $metadata: {} }));

    await expect(adapter().publish(alert())).rejects.toBeInstanceOf(InvalidParameterException);
  });
});

describe('toSnsSubject', () => {
  it('leaves a short ASCII subject unchanged', () => {
    expect(toSnsSubject('team/app: 2 digests protected')).toBe('team/app: 2 digests protected');
  });

  it('falls back to a fixed subject when nothing printable is left', () => {
    expect(toSnsSubject('\n\t')).toBe('ecr-digest-guard alert');
  });
});
