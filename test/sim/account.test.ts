/**
 * The simulated account as a whole: real SDK v3 clients configured with `clientConfig()` reach the
 * simulated services; SNS captures and validates what is published; injected faults reach the SDK as its
 * real exception classes and go through its retry strategy; recorded ECR events arrive as an
 * EventBridge → SQS target delivers them.
 */
import { createHash } from 'node:crypto';
import {
  BatchGetImageCommand,
  DescribeImagesCommand,
  ECRClient,
  ECRServiceException,
  ServerException,
} from '@aws-sdk/client-ecr';
import { ECSClient, ListClustersCommand } from '@aws-sdk/client-ecs';
import {
  InvalidParameterException,
  NotFoundException,
  PublishCommand,
  SNSClient,
  ThrottledException,
} from '@aws-sdk/client-sns';
import { beforeEach, describe, expect, it } from 'vitest';
import { SimulatedAccount } from '../../sim/account';
import { toSqsEvent } from '../../sim/events';
import { dockerManifest } from '../../sim/manifests';

let account: SimulatedAccount;
let sns: SNSClient;
let topicArn: string;

beforeEach(() => {
  account = new SimulatedAccount();
  sns = new SNSClient(account.clientConfig({ maxAttempts: 1 }));
  topicArn = account.sns.createTopic('digest-guard-alerts');
});

describe('the account facade', () => {
  it('defaults to account 111122223333 in eu-west-1, with the registry host ECS and Lambda resolve images against', () => {
    expect(account.clientConfig()).toMatchObject({
      region: 'eu-west-1',
      requestHandler: account.transport.requestHandler,
    });
    expect(account.ecr.registryHost).toBe('111122223333.dkr.ecr.eu-west-1.amazonaws.com');
    expect(topicArn).toBe('arn:aws:sns:eu-west-1:111122223333:digest-guard-alerts');
  });

  it('routes every client to its simulated service and counts the calls per service and operation', async () => {
    account.ecr.createRepository('app');
    const ecr = new ECRClient(account.clientConfig());
    const ecs = new ECSClient(account.clientConfig());

    await ecr.send(new DescribeImagesCommand({ repositoryName: 'app' }));
    await ecr.send(new DescribeImagesCommand({ repositoryName: 'app' }));
    await ecs.send(new ListClustersCommand({}));
    await sns.send(new PublishCommand({ TopicArn: topicArn, Message: 'hello' }));

    expect(account.callCount()).toBe(4);
    expect(account.callCount('ecr')).toBe(2);
    expect(account.callCount('ecr', 'DescribeImages')).toBe(2);
    expect(account.callCount('ecs', 'ListClusters')).toBe(1);
    expect(account.callCount('sns', 'Publish')).toBe(1);
  });

  it('moves the registry clock with the account clock', () => {
    account.ecr.createRepository('app');
    account.clock.advanceDays(30);
    const digest = account.ecr.pushImage('app', { manifest: dockerManifest({ seed: 'a' }).text });
    const pushedAt = account.ecr.imagesOf('app').find((i) => i.digest === digest)!.pushedAt;
    expect(pushedAt.getTime() - Date.now()).toBeGreaterThan(29 * 86_400_000);
  });
});

describe('SNS capture', () => {
  // See: https://docs.aws.amazon.com/sns/latest/api/API_Publish.html
  it('captures subject, message, structure and message attributes decoded from the query form', async () => {
    const message = JSON.stringify({ default: 'digest protected', email: 'digest protected (email)' });
    const { MessageId } = await sns.send(
      new PublishCommand({
        TopicArn: topicArn,
        Subject: '[digest-guard] app: protected 1 digest in use',
        Message: message,
        MessageStructure: 'json',
        MessageAttributes: {
          severity: { DataType: 'String', StringValue: 'WARNING' },
          repository: { DataType: 'String', StringValue: 'app' },
          count: { DataType: 'Number', StringValue: '1' },
          events: { DataType: 'String.Array', StringValue: '["protected"]' },
        },
      }),
    );

    expect(account.sns.published).toEqual([
      {
        topicArn,
        subject: '[digest-guard] app: protected 1 digest in use',
        message,
        messageStructure: 'json',
        messageAttributes: {
          severity: { dataType: 'String', stringValue: 'WARNING' },
          repository: { dataType: 'String', stringValue: 'app' },
          count: { dataType: 'Number', stringValue: '1' },
          events: { dataType: 'String.Array', stringValue: '["protected"]' },
        },
        messageId: MessageId,
      },
    ]);
  });

  // Publish, Subject: "must be ASCII text that begins with a letter, number, or punctuation mark; must not
  // include line breaks or control characters; and must be less than 100 characters long."
  it('refuses a subject of 100 characters or more, or with a line break', async () => {
    await expect(
      sns.send(new PublishCommand({ TopicArn: topicArn, Subject: 'x'.repeat(100), Message: 'm' })),
    ).rejects.toBeInstanceOf(InvalidParameterException);
    await expect(
      sns.send(new PublishCommand({ TopicArn: topicArn, Subject: 'two\nlines', Message: 'm' })),
    ).rejects.toBeInstanceOf(InvalidParameterException);
    await sns.send(new PublishCommand({ TopicArn: topicArn, Subject: 'x'.repeat(99), Message: 'm' }));
    expect(account.sns.published).toHaveLength(1);
  });

  // Publish, MessageStructure: with `json` the Message must "be a syntactically valid JSON object; and contain
  // at least a top-level JSON key of "default" with a value that is a string."
  it('refuses a json-structured message without a default entry', async () => {
    await expect(
      sns.send(
        new PublishCommand({
          TopicArn: topicArn,
          Message: JSON.stringify({ email: 'only email' }),
          MessageStructure: 'json',
        }),
      ),
    ).rejects.toBeInstanceOf(InvalidParameterException);
    await expect(
      sns.send(new PublishCommand({ TopicArn: topicArn, Message: 'not json', MessageStructure: 'json' })),
    ).rejects.toBeInstanceOf(InvalidParameterException);
    expect(account.sns.published).toEqual([]);
  });

  // Publish errors: NotFound (404) "Indicates that the requested resource does not exist."
  it('answers NotFound for a topic that does not exist', async () => {
    const error = await sns
      .send(new PublishCommand({ TopicArn: 'arn:aws:sns:eu-west-1:111122223333:nope', Message: 'm' }))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotFoundException);
    expect((error as NotFoundException).$metadata.httpStatusCode).toBe(404);
  });
});

describe('fault injection', () => {
  beforeEach(() => {
    account.ecr.createRepository('app');
    account.ecr.pushImage('app', { tag: 'prod', manifest: dockerManifest({ seed: 'a' }).text });
  });

  it('reaches the SDK as the modelled exception class (ECR ServerException)', async () => {
    const ecr = new ECRClient(account.clientConfig({ maxAttempts: 1 }));
    account.transport.injectFault({
      service: 'ecr',
      operation: 'BatchGetImage',
      code: 'ServerException',
      status: 500,
      times: 1,
    });

    await expect(
      ecr.send(new BatchGetImageCommand({ repositoryName: 'app', imageIds: [{ imageTag: 'prod' }] })),
    ).rejects.toBeInstanceOf(ServerException);
    // the fault is used up: the next call is answered
    const { images } = await ecr.send(
      new BatchGetImageCommand({ repositoryName: 'app', imageIds: [{ imageTag: 'prod' }] }),
    );
    expect(images).toHaveLength(1);
  });

  // The SDK's standard retry mode retries 5xx and throttling errors up to maxAttempts (default 3).
  // See: https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html
  it('is retried by the SDK like a real transient fault: two throttles then an answer take three calls', async () => {
    const ecr = new ECRClient(account.clientConfig());
    account.transport.injectFault({
      service: 'ecr',
      operation: 'DescribeImages',
      code: 'ThrottlingException',
      times: 2,
    });

    const { imageDetails } = await ecr.send(new DescribeImagesCommand({ repositoryName: 'app' }));

    expect(imageDetails).toHaveLength(1);
    expect(account.callCount('ecr', 'DescribeImages')).toBe(3);
    expect(account.transport.calls.filter((c) => c.operation === 'DescribeImages').map((c) => c.error)).toEqual([
      'ThrottlingException',
      'ThrottlingException',
      undefined,
    ]);
  }, 20_000);

  it('surfaces an unmodelled ECR error code as the service exception with that name', async () => {
    const ecr = new ECRClient(account.clientConfig({ maxAttempts: 1 }));
    account.transport.injectFault({ service: 'ecr', code: 'AccessDeniedException', times: 1 });

    const error = await ecr.send(new DescribeImagesCommand({ repositoryName: 'app' })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ECRServiceException);
    expect((error as Error).name).toBe('AccessDeniedException');
  });

  it('reaches the SNS client through the query protocol as its exception class (Throttled → ThrottledException)', async () => {
    account.transport.injectFault({ service: 'sns', operation: 'Publish', code: 'Throttled', status: 429, times: 1 });
    await expect(sns.send(new PublishCommand({ TopicArn: topicArn, Message: 'm' }))).rejects.toBeInstanceOf(
      ThrottledException,
    );
    expect(account.sns.published).toEqual([]);
  });
});

describe('ECR events delivered through SQS', () => {
  // An EventBridge rule with an SQS target puts the event, as JSON, in the message body; Lambda's SQS
  // event source hands the messages over as `Records`. See: https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html
  it('wraps each recorded event into one SQS record whose body is the event JSON', () => {
    account.ecr.createRepository('app');
    account.ecr.pushImage('app', { tag: 'prod', manifest: dockerManifest({ seed: 'a' }).text });
    account.ecr.pushImage('app', { tag: 'prod', manifest: dockerManifest({ seed: 'b' }).text });

    const { Records } = toSqsEvent(account.events, { receiveCount: 2 });

    expect(Records).toHaveLength(2);
    expect(Records.map((r) => JSON.parse(r.body))).toEqual(account.events);
    expect(new Set(Records.map((r) => r.messageId)).size).toBe(2);
    expect(Records[0]).toMatchObject({
      eventSource: 'aws:sqs',
      awsRegion: 'eu-west-1',
      eventSourceARN: 'arn:aws:sqs:eu-west-1:111122223333:ecr-digest-guard-events',
      attributes: { ApproximateReceiveCount: '2' },
      md5OfBody: createHash('md5').update(Records[0]!.body).digest('hex'),
    });
  });
});
