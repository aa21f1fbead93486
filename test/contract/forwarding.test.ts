/**
 * Contract: forwarding from a workload account to the guard's bus on moto_server, with what the stacks synthesize:
 * the guard bus and its policy (guard stack), the forwarding rules and their target (workload stack), and the guard
 * bus rule into a queue. moto 5.2.1 acts as several accounts and delivers a rule target that is another account's
 * event bus (aws-notes.md, "moto"); so it checks the synthesized patterns on both buses and the bus ARN the workload
 * targets (a wrong ARN delivers nothing).
 * What moto does NOT check, read in its source (moto/events/models.py, `send_to_targets` and `put_events`): it does
 * not evaluate the bus policy (an account the policy omits is delivered too, pinned below), nor the target role; and
 * it re-puts the forwarded event as a new one (source, detail-type and detail only) in the receiving account, and the
 * copy that reaches the queue carries no `account` at all. AWS keeps the sender's ("Rules with an account field do not match any events sent from other
 * accounts", https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutPermission.html): the simulated
 * organization models that and the policy (test/sim/event-buses.test.ts, test/scenarios/forwarding.test.ts).
 * Events: the "Task state change event" example of
 * https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs_task_events.html, the "Service task start impaired"
 * example of https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs_service_events.html and the daemon one
 * of https://docs.aws.amazon.com/AmazonECS/latest/developerguide/managed-daemons-events.html (test/fixtures).
 */
import {
  CreateEventBusCommand,
  EventBridgeClient,
  PutEventsCommand,
  PutPermissionCommand,
  PutRuleCommand,
  PutTargetsCommand,
} from '@aws-sdk/client-eventbridge';
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { guardEventBusName, workloadForwarderRoleArn } from '../../lambda/core/workloads';
import { DigestGuard } from '../../lib/digest-guard';
import { DigestGuardWorkloadStack } from '../../lib/workload-stack';
import { appLikeCli, resolveIntrinsics, SKIP_BUNDLING } from '../support/cdk-app';
import {
  daemonTaskStartImpairedEventFixture,
  ecsTaskStateChangeFixture,
  serviceTaskStartImpairedEventFixture,
} from '../support/fixtures';
import {
  MOTO_ACCOUNT_ID,
  MOTO_REGION,
  type MotoClientConfig,
  shouldSkipMotoTests,
  useMotoServer,
} from '../support/moto';

const GUARD = MOTO_ACCOUNT_ID;
const WORKLOAD = '222222222222';
const OUTSIDER = '333333333333';

let busStatement: unknown;
let busWatchPatterns: unknown[];
let forwardingPatterns: unknown[];
let forwardingTarget: string;

beforeAll(() => {
  const guardStack = new Stack(appLikeCli(SKIP_BUNDLING), 'Guard', { env: { account: GUARD, region: MOTO_REGION } });
  new DigestGuard(guardStack, 'Guard', { alertEmails: ['ops@example.com'], workloadAccounts: [WORKLOAD] });
  const guard = Template.fromStack(guardStack);
  busStatement = resolveIntrinsics(
    (Object.values(guard.findResources('AWS::Events::EventBusPolicy'))[0] as any).Properties.Statement,
  );
  busWatchPatterns = (Object.values(guard.findResources('AWS::Events::Rule')) as any[])
    .filter((r) => r.Properties.EventBusName)
    .map((r) => r.Properties.EventPattern);
  const workload = Template.fromStack(
    new DigestGuardWorkloadStack(new App(), 'Workload', {
      deployment: { guardAccount: GUARD, guardRegion: MOTO_REGION, accounts: [WORKLOAD], regions: [MOTO_REGION] },
    }),
  );
  const rules = Object.values(workload.findResources('AWS::Events::Rule')) as any[];
  forwardingPatterns = rules.map((r) => r.Properties.EventPattern);
  forwardingTarget = resolveIntrinsics(rules[0].Properties.Targets[0].Arn) as string;
});

describe.skipIf(shouldSkipMotoTests())('forwarding to the guard bus against moto_server', () => {
  const moto = useMotoServer();

  async function credentialsIn(account: string): Promise<MotoClientConfig> {
    const guard = moto().clientConfig;
    const assumed = await new STSClient(guard).send(
      new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${account}:role/setup`, RoleSessionName: 'setup' }),
    );
    return {
      ...guard,
      credentials: {
        accessKeyId: assumed.Credentials!.AccessKeyId!,
        secretAccessKey: assumed.Credentials!.SecretAccessKey!,
        sessionToken: assumed.Credentials!.SessionToken!,
      } as MotoClientConfig['credentials'],
    };
  }

  /** The guard side: its bus with the synthesized policy, a rule with the synthesized pattern → a queue. */
  async function deployGuard(): Promise<string> {
    const config = moto().clientConfig;
    const events = new EventBridgeClient(config);
    const name = guardEventBusName(MOTO_REGION);
    const { EventBusArn } = await events.send(new CreateEventBusCommand({ Name: name }));
    expect(EventBusArn).toBe(forwardingTarget);
    await events.send(
      new PutPermissionCommand({
        EventBusName: name,
        Policy: JSON.stringify({ Version: '2012-10-17', Statement: [busStatement] }),
      }),
    );
    const sqs = new SQSClient(config);
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'watch' }));
    const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
    for (const [i, pattern] of busWatchPatterns.entries()) {
      await events.send(
        new PutRuleCommand({ Name: `watch-${i}`, EventBusName: name, EventPattern: JSON.stringify(pattern) }),
      );
      await events.send(
        new PutTargetsCommand({
          Rule: `watch-${i}`,
          EventBusName: name,
          Targets: [{ Id: 'q', Arn: Attributes!.QueueArn }],
        }),
      );
    }
    return QueueUrl!;
  }

  /** The workload side in `account`: the synthesized forwarding rules on its default bus. */
  async function deployWorkload(account: string): Promise<EventBridgeClient> {
    const events = new EventBridgeClient(await credentialsIn(account));
    for (const [i, pattern] of forwardingPatterns.entries()) {
      await events.send(new PutRuleCommand({ Name: `forward-${i}`, EventPattern: JSON.stringify(pattern) }));
      await events.send(
        new PutTargetsCommand({
          Rule: `forward-${i}`,
          Targets: [
            { Id: 'guard', Arn: forwardingTarget, RoleArn: workloadForwarderRoleArn('aws', account, MOTO_REGION) },
          ],
        }),
      );
    }
    return events;
  }

  const put = (events: EventBridgeClient, detailType: string, detail: unknown, source = 'aws.ecs') =>
    events.send(
      new PutEventsCommand({
        Entries: [{ Source: source, DetailType: detailType, Detail: JSON.stringify(detail) }],
      }),
    );

  async function received(queueUrl: string): Promise<any[]> {
    const { Messages } = await new SQSClient(moto().clientConfig).send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
    );
    return (Messages ?? []).map((m) => JSON.parse(m.Body!));
  }

  it('given the synthesized rules and bus, when the workload puts the documented task event, then the guard queue gets it', async () => {
    await moto().reset();
    const queueUrl = await deployGuard();
    const workload = await deployWorkload(WORKLOAD);
    const sample = ecsTaskStateChangeFixture();

    await put(workload, sample['detail-type'], sample.detail);
    const messages = await received(queueUrl);

    expect(messages).toHaveLength(1);
    expect(messages[0]['detail-type']).toBe('ECS Task State Change');
    expect(messages[0].detail).toEqual(sample.detail);
    // moto's own divergence (see the header): AWS would keep the workload's account here; moto's copy has none.
    expect(messages[0]).not.toHaveProperty('account');
  });

  it('given events the forwarding or the guard bus rule does not select, when put, then none reaches the guard queue', async () => {
    await moto().reset();
    const queueUrl = await deployGuard();
    const workload = await deployWorkload(WORKLOAD);

    // Not forwarded: a Service Action other than the start-impaired one.
    await put(workload, 'ECS Service Action', { eventType: 'INFO', eventName: 'SERVICE_STEADY_STATE' });
    await put(workload, 'ECS Daemon Service Action', { eventType: 'INFO', eventName: 'DAEMON_STEADY_STATE' });

    expect(await received(queueUrl)).toEqual([]);
  });

  it("given the synthesized rules, when the workload puts AWS's documented start-impaired service action and the daemon one, then both reach the guard's watch queue", async () => {
    await moto().reset();
    const queueUrl = await deployGuard();
    const workload = await deployWorkload(WORKLOAD);
    const service = serviceTaskStartImpairedEventFixture();
    const daemon = daemonTaskStartImpairedEventFixture();

    await put(workload, service['detail-type'], service.detail);
    await put(workload, daemon['detail-type'], daemon.detail);
    const messages = await received(queueUrl);

    expect(messages.map((m) => [m['detail-type'], m.detail.eventName]).sort()).toEqual([
      ['ECS Daemon Service Action', 'DAEMON_TASK_START_IMPAIRED'],
      ['ECS Service Action', 'SERVICE_TASK_START_IMPAIRED'],
    ]);
    expect(messages.find((m) => m['detail-type'] === 'ECS Service Action').detail).toEqual(service.detail);
  });

  it('given the synthesized rules, when the workload puts a deployment change, a daemon deployment change and a Lambda image call, then all reach the guard queue', async () => {
    await moto().reset();
    const queueUrl = await deployGuard();
    const workload = await deployWorkload(WORKLOAD);

    await put(workload, 'ECS Deployment State Change', {
      eventType: 'INFO',
      eventName: 'SERVICE_DEPLOYMENT_IN_PROGRESS',
    });
    await put(workload, 'ECS Daemon Deployment State Change', {
      eventType: 'INFO',
      eventName: 'DAEMON_DEPLOYMENT_COMPLETED',
    });
    // CloudTrail appends the API version to Lambda's eventNames: the rules match by prefix.
    await put(
      workload,
      'AWS API Call via CloudTrail',
      { eventSource: 'lambda.amazonaws.com', eventName: 'UpdateFunctionCode20150331v2' },
      'aws.lambda',
    );

    const messages = await received(queueUrl);
    expect(messages.map((m) => m['detail-type']).sort()).toEqual([
      'AWS API Call via CloudTrail',
      'ECS Daemon Deployment State Change',
      'ECS Deployment State Change',
    ]);
  });

  it('given an account the bus policy omits, when it forwards, then moto delivers anyway: it does not enforce the policy', async () => {
    await moto().reset();
    const queueUrl = await deployGuard();
    const outsider = await deployWorkload(OUTSIDER);
    const sample = ecsTaskStateChangeFixture();

    await put(outsider, sample['detail-type'], sample.detail);

    expect(await received(queueUrl)).toHaveLength(1);
  });
});
