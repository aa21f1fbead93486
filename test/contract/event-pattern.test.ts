/**
 * Contract: the EventBridge rules our stack synthesizes let through exactly the ECR pushes and deletions
 * (and, opt-in, the lifecycle PolicyExecutionEvents) the guard must look at, checked by an independent
 * matcher (moto_server's EventBridge with an SQS target).
 *
 * moto is faithful for "EventBridge rule pattern matching with SQS targets via put_events" (aws-notes.md,
 * section "moto"); real EventBridge refuses PutEvents with an `aws.*` source, which is why an emulator is
 * the place to replay ECR's own events. moto's ECR emits no events itself, so they are put by hand.
 *
 * Event shape: the "Event for a completed image push" example of
 * https://docs.aws.amazon.com/AmazonECR/latest/userguide/ecr-eventbridge.html, and its "Event for a
 * completed image deletion" (the same detail with `action-type: DELETE`); the lifecycle event is the
 * "Image lifecycle policy action" record of https://docs.aws.amazon.com/AmazonECR/latest/userguide/logging-using-cloudtrail.html
 * as the detail of a CloudTrail-delivered event (source `aws.ecr`, eventSource `ecr.amazonaws.com`:
 * https://docs.aws.amazon.com/eventbridge/latest/ref/events-ref-ecr.html).
 * moto is not asked about the rule state ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS (who receives
 * read-only management events is AWS's routing, not pattern matching); the CDK assertions pin the state.
 * Matching: "the event must contain all the field names listed in the event pattern", and
 * `anything-but` with `prefix`: https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns.html,
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html
 */
import { EventBridgeClient, PutEventsCommand, PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DigestGuardStack, type DigestGuardConfig } from '../../lib/digest-guard-stack';
import { shouldSkipMotoTests, useMotoServer } from '../support/moto';

/** The ECR documentation's example push event, verbatim but for the fields EventBridge sets itself. */
const DOCUMENTED_PUSH_EVENT = {
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
    'image-digest': 'sha256:7f5b2640fe6fb4f46592dfd3410c4a79dac4f89e4782432e0378abcd1234',
    'action-type': 'PUSH',
    'image-tag': 'latest',
  },
} as const;

type EcrDetail = Record<string, string>;

/** An ECR Image Action event like the documented one, with some detail fields changed or removed. */
function ecrEvent(changes: Partial<Record<string, string | undefined>>): {
  source: string;
  detailType: string;
  detail: EcrDetail;
} {
  const detail: EcrDetail = { ...DOCUMENTED_PUSH_EVENT.detail };
  for (const [key, value] of Object.entries(changes)) {
    if (value === undefined) delete detail[key];
    else detail[key] = value;
  }
  return { source: DOCUMENTED_PUSH_EVENT.source, detailType: DOCUMENTED_PUSH_EVENT['detail-type'], detail };
}

const PROTECTIVE_TAG = `digest-guard-sha256-${'9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08'}`;

/** The `EventPattern` of the rule whose pattern has this detail-type (the reconcile rule is a schedule). */
function synthesizedPattern(
  config: Partial<DigestGuardConfig>,
  detailType: string,
  env: { account: string; region: string } = { account: '123456789012', region: 'us-east-1' },
): unknown {
  // Bundling is skipped: the pattern does not depend on the function's code, and esbuild would only slow
  // this file down. (`aws:cdk:bundling-stacks: []` is the CDK's own switch for that.)
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new DigestGuardStack(app, 'PatternUnderTest', {
    env,
    config: { alertEmails: ['platform-team@example.com'], repositories: [], dryRun: false, ...config },
  });
  const rules = Object.values(Template.fromStack(stack).findResources('AWS::Events::Rule')).filter((rule) =>
    (
      (rule as { Properties: { EventPattern?: { 'detail-type'?: string[] } } }).Properties.EventPattern?.[
        'detail-type'
      ] ?? []
    ).includes(detailType),
  );
  expect(rules).toHaveLength(1);
  return (rules[0] as { Properties: { EventPattern: unknown } }).Properties.EventPattern;
}

const synthesizedPushPattern = (config: Partial<DigestGuardConfig>) => synthesizedPattern(config, 'ECR Image Action');

describe.skipIf(shouldSkipMotoTests())('the synthesized push rule, matched by moto EventBridge', () => {
  const moto = useMotoServer();
  let unscopedPattern: unknown;
  let scopedPattern: unknown;
  let counter = 0;

  beforeAll(() => {
    unscopedPattern = synthesizedPushPattern({});
    scopedPattern = synthesizedPushPattern({ repositories: ['team/payments-api', 'team/web'] });
  });

  // Every test starts from an empty emulated account: one rule, one queue, nothing left over to match.
  beforeEach(async () => {
    await moto().reset();
  });

  /**
   * Creates a rule with `pattern` and an SQS target, puts `events` (each marked by its image digest), and
   * returns the digests of the events the queue received. moto delivers during PutEvents.
   */
  async function deliveredDigests(
    pattern: unknown,
    events: readonly { source: string; detailType: string; detail: unknown }[],
  ): Promise<string[]> {
    counter += 1;
    const eventBridge = new EventBridgeClient(moto().clientConfig);
    const sqs = new SQSClient(moto().clientConfig);
    const { QueueUrl: queueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: `push-buffer-${counter}` }));
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }),
    );
    const ruleName = `push-rule-${counter}`;
    await eventBridge.send(new PutRuleCommand({ Name: ruleName, EventPattern: JSON.stringify(pattern) }));
    await eventBridge.send(
      new PutTargetsCommand({ Rule: ruleName, Targets: [{ Id: 'buffer', Arn: Attributes?.QueueArn }] }),
    );

    const put = await eventBridge.send(
      new PutEventsCommand({
        Entries: events.map((event) => ({
          Source: event.source,
          DetailType: event.detailType,
          Detail: JSON.stringify(event.detail),
          Time: new Date(DOCUMENTED_PUSH_EVENT.time),
          Resources: [],
        })),
      }),
    );
    expect(put.FailedEntryCount ?? 0).toBe(0);

    const digests: string[] = [];
    for (;;) {
      const { Messages } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10 }));
      if (!Messages || Messages.length === 0) break;
      for (const message of Messages) {
        const body = JSON.parse(message.Body ?? '{}') as { detail?: EcrDetail };
        digests.push(body.detail?.['image-digest'] ?? '(no digest)');
      }
      await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: Messages.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle })),
        }),
      );
    }
    return digests.sort();
  }

  const digest = (n: number) => `sha256:${String(n).padStart(64, '0')}`;

  it('delivers the documented push event to the buffer queue, whole (source, detail-type and detail)', async () => {
    const sqs = new SQSClient(moto().clientConfig);
    counter += 1;
    const eventBridge = new EventBridgeClient(moto().clientConfig);
    const { QueueUrl: queueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: `whole-event-${counter}` }));
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }),
    );
    await eventBridge.send(
      new PutRuleCommand({ Name: `whole-event-${counter}`, EventPattern: JSON.stringify(unscopedPattern) }),
    );
    await eventBridge.send(
      new PutTargetsCommand({ Rule: `whole-event-${counter}`, Targets: [{ Id: 'buffer', Arn: Attributes?.QueueArn }] }),
    );

    await eventBridge.send(
      new PutEventsCommand({
        Entries: [
          {
            Source: DOCUMENTED_PUSH_EVENT.source,
            DetailType: DOCUMENTED_PUSH_EVENT['detail-type'],
            Detail: JSON.stringify(DOCUMENTED_PUSH_EVENT.detail),
            Time: new Date(DOCUMENTED_PUSH_EVENT.time),
            Resources: [],
          },
        ],
      }),
    );

    const { Messages } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10 }));
    expect(Messages).toHaveLength(1);
    const body = JSON.parse(Messages![0]!.Body!) as Record<string, unknown>;
    expect(body.source).toBe('aws.ecr');
    expect(body['detail-type']).toBe('ECR Image Action');
    expect(body.detail).toEqual(DOCUMENTED_PUSH_EVENT.detail);
  });

  it('does not deliver the push of a protective tag (the guard never reacts to its own PutImage)', async () => {
    const delivered = await deliveredDigests(unscopedPattern, [
      ecrEvent({ 'image-digest': digest(1) }),
      ecrEvent({ 'image-digest': digest(2), 'image-tag': PROTECTIVE_TAG }),
    ]);

    expect(delivered).toEqual([digest(1)]);
  });

  it('still delivers a user tag that only starts like the prefix word (`digest-guardian`), since the filter ends with a dash', async () => {
    const delivered = await deliveredDigests(unscopedPattern, [
      ecrEvent({ 'image-digest': digest(1), 'image-tag': 'digest-guardian' }),
      ecrEvent({ 'image-digest': digest(2), 'image-tag': PROTECTIVE_TAG }),
    ]);

    expect(delivered).toEqual([digest(1)]);
  });

  it('given user tags that start with the prefix and a dash, when pushed, then the rule delivers them', async () => {
    // Only the protective form `<prefix>-sha256-` is the guard's own; `digest-guard-staging` is a user's tag.
    const delivered = await deliveredDigests(unscopedPattern, [
      ecrEvent({ 'image-digest': digest(1), 'image-tag': 'digest-guard-staging' }),
      ecrEvent({ 'image-digest': digest(2), 'image-tag': 'digest-guard-' }),
      ecrEvent({ 'image-digest': digest(3), 'image-tag': 'digest-guard-sha256' }),
      ecrEvent({ 'image-digest': digest(4), 'image-tag': PROTECTIVE_TAG }),
    ]);

    expect(delivered).toEqual([digest(1), digest(2), digest(3)]);
  });

  it('given the custom prefix `prod`, when `prod-*` tags are pushed, then all but protective ones are delivered', async () => {
    const prodPattern = synthesizedPushPattern({ tagPrefix: 'prod' });

    const delivered = await deliveredDigests(prodPattern, [
      ecrEvent({ 'image-digest': digest(1), 'image-tag': 'prod-api' }),
      ecrEvent({ 'image-digest': digest(2), 'image-tag': 'prod-2026-11-30' }),
      ecrEvent({ 'image-digest': digest(3), 'image-tag': `prod-sha256-${'b'.repeat(64)}` }),
    ]);

    expect(delivered).toEqual([digest(1), digest(2)]);
  });

  it('delivers successful deletions: by tag, by digest (no image-tag), and of a protective tag', async () => {
    const delivered = await deliveredDigests(unscopedPattern, [
      ecrEvent({ 'image-digest': digest(1), 'action-type': 'DELETE' }),
      ecrEvent({ 'image-digest': digest(2), 'action-type': 'DELETE', 'image-tag': undefined }),
      ecrEvent({ 'image-digest': digest(3), 'action-type': 'DELETE', 'image-tag': PROTECTIVE_TAG }),
    ]);

    expect(delivered).toEqual([digest(1), digest(2), digest(3)]);
  });

  it('does not deliver failed pushes or failed deletions', async () => {
    const delivered = await deliveredDigests(unscopedPattern, [
      ecrEvent({ 'image-digest': digest(1) }),
      ecrEvent({ 'image-digest': digest(2), result: 'FAILURE' }),
      ecrEvent({ 'image-digest': digest(3), 'action-type': 'DELETE', result: 'FAILURE' }),
    ]);

    expect(delivered).toEqual([digest(1)]);
  });

  it('scoped to repositories, delivers deletions only of those repositories', async () => {
    const delivered = await deliveredDigests(scopedPattern, [
      ecrEvent({ 'image-digest': digest(1), 'repository-name': 'team/web', 'action-type': 'DELETE' }),
      ecrEvent({ 'image-digest': digest(2), 'repository-name': 'sandbox/anything', 'action-type': 'DELETE' }),
    ]);

    expect(delivered).toEqual([digest(1)]);
  });

  it('with the lifecycle watch on, delivers the documented PolicyExecutionEvent of a repository in scope, and no other CloudTrail event', async () => {
    const pattern = synthesizedPattern(
      { repositories: ['testrepo'], watchLifecycleExpiry: true },
      'AWS Service Event via CloudTrail',
    );
    const lifecycle = (
      repositoryName: string,
      eventName = 'PolicyExecutionEvent',
      detailType = 'AWS Service Event via CloudTrail',
    ) => ({
      source: 'aws.ecr',
      detailType,
      detail: {
        eventSource: 'ecr.amazonaws.com',
        eventName,
        readOnly: true,
        eventType: 'AwsServiceEvent',
        // marked by repository in `image-digest` for deliveredDigests, beside the documented fields
        'image-digest': `${repositoryName}/${eventName}/${detailType}`,
        serviceEventDetails: {
          repositoryName,
          lifecycleEventImageActions: [
            {
              lifecycleEventImage: {
                digest: 'sha256:ddba4d27a7ffc3f86dd6c2f92041af252a1f23a8e742c90e6e1297bfa1bc0c45',
                tagStatus: 'Tagged',
                tagList: ['alpine'],
                pushedAt: 1584042813000,
              },
              rulePriority: 1,
            },
          ],
        },
      },
    });

    const delivered = await deliveredDigests(pattern, [
      lifecycle('testrepo'),
      lifecycle('testrepo', 'PolicyExecutionEvent', 'AWS API Call via CloudTrail'),
      lifecycle('other-repo'),
      lifecycle('testrepo', 'PutImage', 'AWS API Call via CloudTrail'),
    ]);

    expect(delivered).toEqual([
      'testrepo/PolicyExecutionEvent/AWS API Call via CloudTrail',
      'testrepo/PolicyExecutionEvent/AWS Service Event via CloudTrail',
    ]);
  });

  /**
   * The "Service task start impaired" example of
   * https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs_service_events.html, marked in
   * `image-digest` for deliveredDigests; moto puts every event in its default account and region, which the
   * synthesized stack's env names.
   */
  const serviceAction = (
    marker: string,
    eventName = 'SERVICE_TASK_START_IMPAIRED',
    detailType = 'ECS Service Action',
  ) => ({
    source: 'aws.ecs',
    detailType,
    detail: {
      eventType: eventName.endsWith('_TASK_START_IMPAIRED')
        ? eventName.startsWith('DAEMON')
          ? 'WARNING'
          : 'WARN'
        : 'INFO',
      eventName,
      clusterArn: 'arn:aws:ecs:us-east-1:123456789012:cluster/default',
      createdAt: '2019-11-19T19:55:38.725Z',
      'image-digest': marker,
    },
  });

  it('given the service-impaired rule, when ECS Service and Daemon Service Actions arrive, then only the start-impaired ones of this account are delivered', async () => {
    const pattern = synthesizedPattern({}, 'ECS Service Action');

    const delivered = await deliveredDigests(pattern, [
      serviceAction('impaired'),
      serviceAction('daemon-impaired', 'DAEMON_TASK_START_IMPAIRED', 'ECS Daemon Service Action'),
      serviceAction('steady-state', 'SERVICE_STEADY_STATE'),
      serviceAction('placement-failure', 'SERVICE_TASK_PLACEMENT_FAILURE'),
      serviceAction('deployment-event', 'SERVICE_TASK_START_IMPAIRED', 'ECS Deployment State Change'),
      { ...serviceAction('other-source'), source: 'my.monitoring' },
    ]);

    expect(delivered.sort()).toEqual(['daemon-impaired', 'impaired']);
  });

  it('given the service-impaired rule of a stack in another account, when this account impairs, then nothing is delivered', async () => {
    const pattern = synthesizedPattern({}, 'ECS Service Action', { account: '111122223333', region: 'us-east-1' });

    const delivered = await deliveredDigests(pattern, [serviceAction('impaired')]);

    expect(delivered).toEqual([]);
  });

  it('does not deliver a push by digest alone (no image-tag field: no tag moved)', async () => {
    const delivered = await deliveredDigests(unscopedPattern, [
      ecrEvent({ 'image-digest': digest(1) }),
      ecrEvent({ 'image-digest': digest(2), 'image-tag': undefined }),
    ]);

    expect(delivered).toEqual([digest(1)]);
  });

  it('does not deliver an event of another source or detail-type with the same detail', async () => {
    const delivered = await deliveredDigests(unscopedPattern, [
      ecrEvent({ 'image-digest': digest(1) }),
      { ...ecrEvent({ 'image-digest': digest(2) }), source: 'my.pipeline' },
      { ...ecrEvent({ 'image-digest': digest(3) }), detailType: 'ECR Image Scan' },
    ]);

    expect(delivered).toEqual([digest(1)]);
  });

  it('unscoped, delivers pushes of every repository', async () => {
    const delivered = await deliveredDigests(unscopedPattern, [
      ecrEvent({ 'image-digest': digest(1), 'repository-name': 'team/payments-api' }),
      ecrEvent({ 'image-digest': digest(2), 'repository-name': 'sandbox/anything' }),
    ]);

    expect(delivered).toEqual([digest(1), digest(2)]);
  });

  it('scoped to repositories, delivers their pushes and not those of other repositories', async () => {
    const delivered = await deliveredDigests(scopedPattern, [
      ecrEvent({ 'image-digest': digest(1), 'repository-name': 'team/payments-api' }),
      ecrEvent({ 'image-digest': digest(2), 'repository-name': 'team/web' }),
      ecrEvent({ 'image-digest': digest(3), 'repository-name': 'team/payments-api-old' }),
      ecrEvent({ 'image-digest': digest(4), 'repository-name': 'sandbox/anything' }),
    ]);

    expect(delivered).toEqual([digest(1), digest(2)]);
  });

  it('scoped, still drops protective-tag pushes of an in-scope repository', async () => {
    const delivered = await deliveredDigests(scopedPattern, [
      ecrEvent({ 'image-digest': digest(1), 'repository-name': 'team/web' }),
      ecrEvent({ 'image-digest': digest(2), 'repository-name': 'team/web', 'image-tag': PROTECTIVE_TAG }),
    ]);

    expect(delivered).toEqual([digest(1)]);
  });

  it('with a custom tag prefix, drops pushes of that prefix and delivers the default one as a user tag', async () => {
    const customPattern = synthesizedPushPattern({ tagPrefix: 'keep' });

    const delivered = await deliveredDigests(customPattern, [
      ecrEvent({ 'image-digest': digest(1), 'image-tag': PROTECTIVE_TAG }),
      ecrEvent({ 'image-digest': digest(2), 'image-tag': `keep-sha256-${'a'.repeat(64)}` }),
    ]);

    expect(delivered).toEqual([digest(1)]);
  });
});
