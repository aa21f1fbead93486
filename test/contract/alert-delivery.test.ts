/**
 * Contract: an alert published through our SNS adapter reaches an SQS subscriber as people and machines
 * need it, against moto_server.
 *
 * moto is faithful for "SNS publish → SQS subscription delivery (no Binary attributes with raw delivery)"
 * (aws-notes.md, section "moto").
 * With `MessageStructure: 'json'`, `Message` must hold a string `default`; other top-level keys address one
 * protocol each (`email`, `http`, ...), and a protocol without its own key (here `sqs`) gets `default`:
 * https://docs.aws.amazon.com/sns/latest/api/API_Publish.html (parameter MessageStructure)
 * The SQS body is the SNS notification envelope (Type, MessageId, TopicArn, Subject, Message, Timestamp,
 * MessageAttributes as {Type, Value}): https://docs.aws.amazon.com/sns/latest/dg/sns-message-and-json-formats.html
 */
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SetQueueAttributesCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { SnsAlertAdapter } from '../../lambda/adapters/sns';
import { buildRepositoryAlert } from '../../lambda/core/alert';
import { publishOrLog } from '../../lambda/core/alert-publish';
import type { Alert } from '../../lambda/core/ports';
import { MOTO_ACCOUNT_ID, shouldSkipMotoTests, useMotoServer } from '../support/moto';

/** The SNS notification envelope as an SQS subscriber without raw delivery receives it. */
interface SnsEnvelope {
  Type: string;
  MessageId: string;
  TopicArn: string;
  Subject?: string;
  Message: string;
  Timestamp: string;
  MessageAttributes?: Record<string, { Type: string; Value: string }>;
}

const alert: Alert = {
  subject: 'ECR digest protected: team/payments-api (1 image still used by 2 services)',
  text: [
    'The tag "prod" of team/payments-api moved away from sha256:9f86d08… while it still runs in:',
    '  - cluster prod-eu, service payments-api',
    '  - cluster prod-eu, service payments-worker',
    'The guard tagged it digest-guard-9f86d081884c7d659a2feaa0c55ad015 so lifecycle rules keep it.',
    'Use per-environment or immutable tags, then redeploy.',
  ].join('\n'),
  json: {
    repository: 'team/payments-api',
    protected: [
      {
        digest: `sha256:9f86d081884c7d659a2feaa0c55ad015${'a'.repeat(32)}`,
        tag: 'digest-guard-9f86d081884c7d659a2feaa0c55ad015',
      },
    ],
    services: ['prod-eu/payments-api', 'prod-eu/payments-worker'],
  },
  severity: 'CRITICAL',
  repository: 'team/payments-api',
  events: ['protected'],
};

describe.skipIf(shouldSkipMotoTests())(
  'alert delivery from our SNS adapter to an SQS subscriber, against moto_server',
  () => {
    const moto = useMotoServer();
    let counter = 0;

    /** Given a topic with one SQS subscriber (queue policy allowing the topic, as a real account needs). */
    async function givenTopicWithQueueSubscriber(): Promise<{
      sns: SNSClient;
      sqs: SQSClient;
      topicArn: string;
      queueUrl: string;
    }> {
      counter += 1;
      const sns = new SNSClient(moto().clientConfig);
      const sqs = new SQSClient(moto().clientConfig);
      const { TopicArn: topicArn } = await sns.send(new CreateTopicCommand({ Name: `digest-guard-alerts-${counter}` }));
      const { QueueUrl: queueUrl } = await sqs.send(
        new CreateQueueCommand({ QueueName: `alert-subscriber-${counter}` }),
      );
      const { Attributes } = await sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }),
      );
      const queueArn = Attributes?.QueueArn;
      // SNS needs sqs:SendMessage on the queue, granted to sns.amazonaws.com for this topic.
      // See: https://docs.aws.amazon.com/sns/latest/dg/subscribe-sqs-queue-to-sns-topic.html
      await sqs.send(
        new SetQueueAttributesCommand({
          QueueUrl: queueUrl,
          Attributes: {
            Policy: JSON.stringify({
              Version: '2012-10-17',
              Statement: [
                {
                  Effect: 'Allow',
                  Principal: { Service: 'sns.amazonaws.com' },
                  Action: 'sqs:SendMessage',
                  Resource: queueArn,
                  Condition: { ArnEquals: { 'aws:SourceArn': topicArn } },
                },
              ],
            }),
          },
        }),
      );
      await sns.send(new SubscribeCommand({ TopicArn: topicArn, Protocol: 'sqs', Endpoint: queueArn }));
      return { sns, sqs, topicArn: topicArn!, queueUrl: queueUrl! };
    }

    async function receiveAll(sqs: SQSClient, queueUrl: string): Promise<SnsEnvelope[]> {
      const { Messages } = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
      );
      return (Messages ?? []).map((message) => JSON.parse(message.Body ?? 'null') as SnsEnvelope);
    }

    it('the SQS subscriber receives exactly one notification carrying the default (JSON) variant of the alert', async () => {
      const { sns, sqs, topicArn, queueUrl } = await givenTopicWithQueueSubscriber();

      await new SnsAlertAdapter(topicArn, sns).publish(alert);

      const received = await receiveAll(sqs, queueUrl);
      expect(received).toHaveLength(1);
      const [envelope] = received;
      expect(envelope!.Type).toBe('Notification');
      expect(envelope!.TopicArn).toBe(topicArn);
      expect(topicArn).toContain(`:${MOTO_ACCOUNT_ID}:`);
      // `default` is the alert's JSON, not the email text and not the whole JSON-structured body.
      expect(JSON.parse(envelope!.Message)).toEqual(alert.json);
      expect(envelope!.Message).not.toContain('Use per-environment or immutable tags');
    });

    it('given the alert also carries its chat form for https subscribers, when it is published, then an SQS subscriber without raw delivery still gets the JSON (default), not the chat form', async () => {
      // `https` addresses HTTPS subscriptions only (the chat service's); SQS has no key of its own and gets
      // `default`: https://docs.aws.amazon.com/sns/latest/api/API_Publish.html (MessageStructure). moto cannot
      // deliver to an HTTPS endpoint, so the chat side is pinned by the adapter's tests and the docs.
      const { sns, sqs, topicArn, queueUrl } = await givenTopicWithQueueSubscriber();

      await new SnsAlertAdapter(topicArn, sns).publish(alert);

      const [envelope] = await receiveAll(sqs, queueUrl);
      expect(JSON.parse(envelope!.Message)).toEqual(alert.json);
      expect(envelope!.Message).not.toContain('client-markdown');
    });

    it('the notification carries the subject, unchanged when it is short ASCII', async () => {
      const { sns, sqs, topicArn, queueUrl } = await givenTopicWithQueueSubscriber();

      await new SnsAlertAdapter(topicArn, sns).publish(alert);

      const [envelope] = await receiveAll(sqs, queueUrl);
      expect(envelope!.Subject).toBe(alert.subject);
    });

    it('the notification carries the severity, repository and events attributes for subscription filter policies', async () => {
      // Attribute types: https://docs.aws.amazon.com/sns/latest/dg/sns-message-attributes.html
      const { sns, sqs, topicArn, queueUrl } = await givenTopicWithQueueSubscriber();

      await new SnsAlertAdapter(topicArn, sns).publish({
        ...alert,
        severity: 'WARNING',
        events: ['digest-gone', 'protected'],
      });

      const [envelope] = await receiveAll(sqs, queueUrl);
      expect(envelope!.MessageAttributes?.severity).toEqual({ Type: 'String', Value: 'WARNING' });
      expect(envelope!.MessageAttributes?.repository).toEqual({ Type: 'String', Value: 'team/payments-api' });
      expect(envelope!.MessageAttributes?.events?.Type).toBe('String.Array');
      expect(JSON.parse(envelope!.MessageAttributes!.events!.Value)).toEqual(['digest-gone', 'protected']);
    });

    it('an alert about 300 in-use images arrives within the size limit as JSON with its schema, counts and where the full list is', async () => {
      // SNS: at most 262,144 bytes per message, the whole JSON envelope included (PublishInput.Message,
      // botocore/data/sns/2010-03-31/service-2.json). moto refuses a larger message, so a delivery proves the fit.
      const { sns, sqs, topicArn, queueUrl } = await givenTopicWithQueueSubscriber();
      const repository = `platform-team/${'shared/'.repeat(33)}payments-api`;
      const digest = (i: number) => `sha256:${i.toString(16).padStart(64, '0')}`;
      const big = buildRepositoryAlert({
        account: MOTO_ACCOUNT_ID,
        region: 'us-east-1',
        repository,
        dryRun: false,
        tagPrefix: 'digest-guard',
        pushes: [],
        protected: Array.from({ length: 300 }, (_, i) => ({
          digest: digest(i),
          tag: `digest-guard-sha256-${digest(i).slice(7)}`,
          how: 'tagged' as const,
          consumers: Array.from({ length: 5 }, (__, c) => ({
            kind: 'ecs-service' as const,
            cluster: 'prod',
            service: `svc-${i}-${c}`,
            container: 'app',
            image: `${MOTO_ACCOUNT_ID}.dkr.ecr.us-east-1.amazonaws.com/${repository}:svc-${i}`,
          })),
        })),
        gone: [],
        archived: [],
        restores: [],
        refused: [],
        gaps: [],
      })!;
      const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };

      const published = await publishOrLog(big, {
        alerts: new SnsAlertAdapter(topicArn, sns),
        logger: silent,
        alertLogGroup: '/aws/lambda/guard',
      });

      expect(published).toBe(true);
      const [envelope] = await receiveAll(sqs, queueUrl);
      const json = JSON.parse(envelope!.Message) as Record<string, any>;
      expect(json).toMatchObject({
        schema: 'ecr-digest-guard/alert@1',
        repository,
        counts: { protected: 300 },
        complete: false,
      });
      expect(json.fullList).toMatchObject({
        logGroup: '/aws/lambda/guard',
        query: expect.stringContaining(json.fullList.alertId),
      });
      expect(json.protected.length + json.omitted.protected).toBe(300);
      expect(envelope!.Subject!.length).toBeLessThan(100);
    });

    it('a subject longer than SNS allows arrives shortened to under 100 characters instead of failing the publish', async () => {
      // PublishInput.Subject: "must be less than 100 characters" (botocore/data/sns/2010-03-31/service-2.json).
      const { sns, sqs, topicArn, queueUrl } = await givenTopicWithQueueSubscriber();
      const longSubject = `ECR digest protected: ${'team/a-very-long-repository-name/'.repeat(5)}api`;

      await new SnsAlertAdapter(topicArn, sns).publish({ ...alert, subject: longSubject });

      const [envelope] = await receiveAll(sqs, queueUrl);
      expect(envelope!.Subject!.length).toBeLessThan(100);
      expect(longSubject.startsWith(envelope!.Subject!.replace(/\.\.\.$/, ''))).toBe(true);
    });
  },
);
