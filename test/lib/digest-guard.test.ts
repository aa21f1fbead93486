/**
 * The DigestGuard construct as CloudFormation: one synthesized template per scenario, shared by the tests
 * of that scenario; only the default scenario bundles the code (a moment per function), the others read
 * the template.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import { beforeAll, describe, expect, it } from 'vitest';
import { DigestGuard, type DigestGuardProps, MAX_CONCURRENCY, MAX_RECEIVE_COUNT } from '../../lib/digest-guard';
import {
  buildGuard,
  problemsOf,
  actionsOf,
  appLikeCli,
  ecrRepositoryArn,
  iamPolicyStatements,
  logicalIdOf,
  resourcesOf,
  roleStatements,
  SKIP_BUNDLING,
  type Statement,
  synthesizeGuard,
  type SynthesizedGuard as Synthesized,
  TEST_ENV as ENV,
} from '../support/cdk-app';

/** Only the default variant bundles: its tests read the code; the others read the template. */
function synthesize(props: DigestGuardProps, options: { bundle: boolean } = { bundle: false }): Synthesized {
  return synthesizeGuard(props, { ...options, stackId: 'GuardTest' });
}

function statementsWithAction(template: Template, action: string): Statement[] {
  return iamPolicyStatements(template).filter((s) => actionsOf(s).includes(action));
}

/** The push function's statements only: the reconcile role has its own (test/lib/reconcile.test.ts). */
function pushStatements(s: Synthesized): Statement[] {
  return roleStatements(s.template, s.stack, s.guard.function.role);
}

describe('DigestGuard with defaults (every repository)', () => {
  let s: Synthesized;
  beforeAll(() => {
    s = synthesize({ alertEmails: ['ops@example.com', 'sre@example.com'] }, { bundle: true });
  });

  describe('trigger', () => {
    it("listens to successful ECR pushes of any repository, except pushes of the guard's own tags, and to every successful deletion", () => {
      // DELETE: "Event for a completed image deletion", https://docs.aws.amazon.com/AmazonECR/latest/userguide/ecr-eventbridge.html
      s.template.hasResourceProperties('AWS::Events::Rule', {
        EventPattern: {
          source: ['aws.ecr'],
          'detail-type': ['ECR Image Action'],
          detail: {
            result: ['SUCCESS'],
            'repository-name': Match.absent(),
            $or: [
              { 'action-type': ['PUSH'], 'image-tag': [{ 'anything-but': { prefix: 'digest-guard-sha256-' } }] },
              { 'action-type': ['DELETE'] },
            ],
          },
        },
      });
    });

    it('watches no lifecycle event and looks nobody up in CloudTrail unless asked', () => {
      expect(s.guard.lifecycleExpiryRule).toBeUndefined();
      s.template.resourcePropertiesCountIs(
        'AWS::Events::Rule',
        { State: 'ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS' },
        0,
      );
      expect(statementsWithAction(s.template, 'cloudtrail:LookupEvents')).toEqual([]);
      s.template.hasResourceProperties('AWS::Lambda::Function', {
        Environment: { Variables: Match.objectLike({ LOOKUP_PUSHERS: 'false' }) },
      });
    });

    it('sends matching events to the buffer queue, which accepts them only from this rule', () => {
      const queueId = logicalIdOf(s.stack, s.guard.queue);
      const ruleId = logicalIdOf(s.stack, s.guard.rule);
      s.template.hasResourceProperties('AWS::Events::Rule', {
        Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [queueId, 'Arn'] } })],
      });
      s.template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: queueId }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Allow',
              Principal: { Service: 'events.amazonaws.com' },
              Action: Match.arrayWith(['sqs:SendMessage']),
              Condition: { ArnEquals: { 'aws:SourceArn': { 'Fn::GetAtt': [ruleId, 'Arn'] } } },
            }),
          ]),
        },
      });
    });
  });

  describe('page at the onset', () => {
    it('given the defaults, when synthesized, then a rule sends this account and region SERVICE_TASK_START_IMPAIRED events to the buffer, which accepts them only from that rule', () => {
      // https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs_service_events.html
      const queueId = logicalIdOf(s.stack, s.guard.queue);
      const rules = s.template.findResources('AWS::Events::Rule', {
        Properties: {
          EventPattern: {
            source: ['aws.ecs'],
            'detail-type': ['ECS Service Action', 'ECS Daemon Service Action'],
            account: [ENV.account],
            region: [ENV.region],
            detail: { eventName: ['SERVICE_TASK_START_IMPAIRED', 'DAEMON_TASK_START_IMPAIRED'] },
          },
          Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [queueId, 'Arn'] } })],
        },
      });
      const ruleIds = Object.keys(rules);
      expect(ruleIds).toHaveLength(1);
      s.template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: queueId }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Principal: { Service: 'events.amazonaws.com' },
              Condition: { ArnEquals: { 'aws:SourceArn': { 'Fn::GetAtt': [ruleIds[0], 'Arn'] } } },
            }),
          ]),
        },
      });
    });

    it('given the defaults, when synthesized, then the push role may describe a service and its revisions (what an impaired service is read with)', () => {
      const allows = (action: string, resource: string) =>
        pushStatements(s).some(
          (st) => actionsOf(st).includes(action) && JSON.stringify(resourcesOf(st)).includes(resource),
        );
      expect(allows('ecs:DescribeServices', ':ecs:eu-west-1:111122223333:service/*')).toBe(true);
      expect(allows('ecs:DescribeServiceRevisions', ':ecs:eu-west-1:111122223333:service-revision/*')).toBe(true);
    });

    // Resource types from the Service Authorization Reference: ListDaemons none (ecs:cluster condition only),
    // DescribeDaemon `daemon`, DescribeDaemonRevisions `daemon` and `daemon-revision`.
    // See: https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonelasticcontainerservice.html
    it('given the defaults, when synthesized, then the push role may list ECS Managed Daemons and read their revisions', () => {
      const allows = (action: string, resource: string) =>
        pushStatements(s).some(
          (st) => actionsOf(st).includes(action) && JSON.stringify(resourcesOf(st)).includes(resource),
        );
      expect(allows('ecs:ListDaemons', '"*"')).toBe(true);
      expect(allows('ecs:DescribeDaemon', ':ecs:eu-west-1:111122223333:daemon/*')).toBe(true);
      expect(allows('ecs:DescribeDaemonRevisions', ':ecs:eu-west-1:111122223333:daemon/*')).toBe(true);
      expect(allows('ecs:DescribeDaemonRevisions', ':ecs:eu-west-1:111122223333:daemon-revision/*')).toBe(true);
    });
  });

  describe('queues', () => {
    it('encrypts the buffer and the dead-letter queue at rest', () => {
      for (const queue of [s.guard.queue, s.guard.deadLetterQueue]) {
        const resource = s.template.toJSON().Resources[logicalIdOf(s.stack, queue)];
        expect(resource.Properties.SqsManagedSseEnabled).toBe(true);
      }
    });

    it('refuses requests to either queue that do not use TLS', () => {
      for (const queue of [s.guard.queue, s.guard.deadLetterQueue]) {
        const id = logicalIdOf(s.stack, queue);
        s.template.hasResourceProperties('AWS::SQS::QueuePolicy', {
          Queues: [{ Ref: id }],
          PolicyDocument: {
            Statement: Match.arrayWith([
              Match.objectLike({
                Effect: 'Deny',
                Action: 'sqs:*',
                Condition: { Bool: { 'aws:SecureTransport': 'false' } },
                Resource: { 'Fn::GetAtt': [id, 'Arn'] },
              }),
            ]),
          },
        });
      }
    });

    it(`moves an event to the dead-letter queue after ${MAX_RECEIVE_COUNT} failed receives`, () => {
      s.template.hasResourceProperties('AWS::SQS::Queue', {
        RedrivePolicy: {
          deadLetterTargetArn: { 'Fn::GetAtt': [logicalIdOf(s.stack, s.guard.deadLetterQueue), 'Arn'] },
          maxReceiveCount: 5,
        },
      });
    });

    it('keeps a batch invisible for at least six times the function timeout (AWS recommendation for SQS event sources)', () => {
      // "set the source queue's visibility timeout to at least six times the configuration timeout on your
      // function": https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html
      const resources = s.template.toJSON().Resources;
      const visibility = resources[logicalIdOf(s.stack, s.guard.queue)].Properties.VisibilityTimeout as number;
      const timeout = resources[logicalIdOf(s.stack, s.guard.function)].Properties.Timeout as number;
      expect(timeout).toBe(300);
      expect(visibility).toBeGreaterThanOrEqual(6 * timeout);
    });
  });

  describe('event source', () => {
    it('hands the function batches from the buffer, reports failures per message and runs at most two at once', () => {
      s.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        EventSourceArn: { 'Fn::GetAtt': [logicalIdOf(s.stack, s.guard.queue), 'Arn'] },
        FunctionName: { Ref: logicalIdOf(s.stack, s.guard.function) },
        BatchSize: 10000,
        MaximumBatchingWindowInSeconds: 30,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        ScalingConfig: { MaximumConcurrency: MAX_CONCURRENCY },
      });
      expect(MAX_CONCURRENCY).toBe(2);
    });
  });

  describe('function', () => {
    it('runs the push handler on Node.js 24, arm64, with the configured memory and timeout', () => {
      s.template.hasResourceProperties('AWS::Lambda::Function', {
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        Handler: 'index.handler',
        MemorySize: 512,
        Timeout: 300,
      });
    });

    it('tells the handler where to alert, which prefix to use, whether to act and what is in scope', () => {
      s.template.hasResourceProperties('AWS::Lambda::Function', {
        Environment: {
          Variables: {
            TOPIC_ARN: { Ref: s.stack.getLogicalId(s.guard.topic.node.defaultChild as never) },
            TAG_PREFIX: 'digest-guard',
            DRY_RUN: 'false',
            REPOSITORIES: '',
            POWERTOOLS_SERVICE_NAME: 'ecr-digest-guard',
            POWERTOOLS_METRICS_NAMESPACE: 'EcrDigestGuard',
            POWERTOOLS_LOG_LEVEL: 'INFO',
          },
        },
      });
    });

    it('logs to its own log group with a retention, not through the deprecated logRetention custom resource', () => {
      s.template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 90 });
      s.template.hasResourceProperties('AWS::Lambda::Function', {
        LoggingConfig: { LogGroup: { Ref: logicalIdOf(s.stack, s.guard.logGroup) } },
      });
      s.template.resourceCountIs('Custom::LogRetention', 0);
    });

    it('ships a minified bundle with a source map, the AWS SDK inside it, and no metafile', () => {
      const fn = s.template.toJSON().Resources[logicalIdOf(s.stack, s.guard.function)];
      const assetDir = path.join(s.outdir, fn.Metadata['aws:asset:path'] as string);
      const files = fs.readdirSync(assetDir).sort();
      expect(files).toEqual(['index.js', 'index.js.map']);
      const bundle = fs.readFileSync(path.join(assetDir, 'index.js'), 'utf8');
      // External modules remain as require calls; bundled ones are inlined. The one left is the SDK's
      // optional CRT signer (SigV4a only), which the SDK loads inside try/catch and the guard never needs.
      const externalRequires = [
        ...new Set(bundle.match(/require\("@(?:aws-sdk|smithy|aws-lambda-powertools)\/[^"]+"\)/g) ?? []),
      ];
      expect(externalRequires).toEqual(['require("@aws-sdk/signature-v4-crt")']);
      expect(bundle).toContain('PutImageCommand');
      // Minified: esbuild drops its per-file `// path` markers and packs code into very long lines.
      expect(bundle).not.toContain('// lambda/handlers/push.ts');
      expect(bundle.length / bundle.split('\n').length).toBeGreaterThan(1000);
      expect(bundle.trimEnd().endsWith('//# sourceMappingURL=index.js.map')).toBe(true);
    });
  });

  describe('alerts', () => {
    it('encrypts the topic with a rotated customer managed key that CloudWatch alarms may use', () => {
      // CloudWatch alarms cannot publish to a topic encrypted with the AWS managed key; a customer managed
      // key must allow cloudwatch.amazonaws.com kms:Decrypt and kms:GenerateDataKey*.
      // See: https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services
      // See: https://repost.aws/knowledge-center/cloudwatch-configure-alarm-sns
      const keyId = logicalIdOf(s.stack, s.guard.topicKey!);
      s.template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] } });
      s.template.hasResourceProperties('AWS::KMS::Key', {
        EnableKeyRotation: true,
        KeyPolicy: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Allow',
              Principal: { Service: 'cloudwatch.amazonaws.com' },
              Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
            }),
          ]),
        },
      });
    });

    it('refuses publishes to the topic that do not use TLS', () => {
      s.template.hasResourceProperties('AWS::SNS::TopicPolicy', {
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Deny',
              Action: 'sns:Publish',
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            }),
          ]),
        },
      });
    });

    it('subscribes every alert address by email', () => {
      s.template.resourceCountIs('AWS::SNS::Subscription', 2);
      for (const address of ['ops@example.com', 'sre@example.com']) {
        s.template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: address });
      }
    });

    it('alarms to the topic on dead-lettered events, function errors, throttles, events waiting over 15 minutes and refused alerts', () => {
      const topicRef = { Ref: s.stack.getLogicalId(s.guard.topic.node.defaultChild as never) };
      // Five for the push path, two for the scheduled reconcile (test/lib/reconcile.test.ts), two for the watch
      // (test/lib/watch.test.ts).
      s.template.resourceCountIs('AWS::CloudWatch::Alarm', 9);
      const expectations = [
        {
          MetricName: 'ApproximateNumberOfMessagesVisible',
          Namespace: 'AWS/SQS',
          Threshold: 1,
          ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        },
        {
          MetricName: 'Errors',
          Namespace: 'AWS/Lambda',
          Threshold: 1,
          ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        },
        {
          MetricName: 'Throttles',
          Namespace: 'AWS/Lambda',
          Threshold: 1,
          ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        },
        {
          MetricName: 'ApproximateAgeOfOldestMessage',
          Namespace: 'AWS/SQS',
          Threshold: 900,
          ComparisonOperator: 'GreaterThanThreshold',
        },
        // The guard counts an alert SNS refused with Powertools Metrics (lambda/core/guard.ts publishOrLog).
        {
          MetricName: 'AlertPublishFailures',
          Namespace: 'EcrDigestGuard',
          Dimensions: [{ Name: 'service', Value: 'ecr-digest-guard' }],
          Statistic: 'Sum',
          Threshold: 1,
          ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        },
      ];
      for (const expected of expectations) {
        s.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
          ...expected,
          AlarmActions: [topicRef],
          TreatMissingData: 'notBreaching',
        });
      }
    });

    it('watches the dead-letter queue, not the buffer, for dead-lettered events', () => {
      s.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [
          { Name: 'QueueName', Value: { 'Fn::GetAtt': [logicalIdOf(s.stack, s.guard.deadLetterQueue), 'QueueName'] } },
        ],
      });
    });
  });

  describe('permissions', () => {
    it('may read and re-put images, and restore archived ones, in every repository of its account and region, and nothing else in ECR', () => {
      const ecrStatements = pushStatements(s).filter((st) => actionsOf(st).some((a) => a.startsWith('ecr:')));
      expect(ecrStatements).toHaveLength(2);
      expect(ecrStatements.flatMap(actionsOf).sort()).toEqual([
        'ecr:BatchGetImage',
        'ecr:DescribeImages',
        'ecr:PutImage',
        'ecr:UpdateImageStorageClass',
      ]);
      for (const statement of ecrStatements) expect(resourcesOf(statement)).toEqual([ecrRepositoryArn(s.stack, '*')]);
    });

    it('grants no wildcard action anywhere, except the data-key family the SNS key grant names', () => {
      const wildcards = iamPolicyStatements(s.template)
        .flatMap(actionsOf)
        .filter((action) => action.includes('*'));
      expect(new Set(wildcards)).toEqual(new Set(['kms:GenerateDataKey*']));
    });

    it('scopes ECS describe actions to ECS resource ARNs, and allows `*` only for actions without a resource type', () => {
      const describe = pushStatements(s).filter((st) => actionsOf(st).includes('ecs:DescribeServices'));
      expect(describe).toHaveLength(1);
      expect(resourcesOf(describe[0]!)).not.toContain('*');
      expect(JSON.stringify(resourcesOf(describe[0]!))).toContain(':ecs:eu-west-1:111122223333:service/*');

      const unscoped = pushStatements(s).filter((st) => resourcesOf(st).includes('*'));
      expect(unscoped.flatMap(actionsOf).sort()).toEqual([
        'ecs:DescribeTaskDefinition',
        'ecs:ListClusters',
        'ecs:ListDaemons',
        'ecs:ListServices',
        'ecs:ListTasks',
        'lambda:ListFunctions',
      ]);
    });

    it('may read image functions and the versions their aliases route to, on function ARNs only', () => {
      const read = pushStatements(s).filter((st) => actionsOf(st).includes('lambda:GetFunction'));
      expect(read).toHaveLength(1);
      expect(actionsOf(read[0]!).sort()).toEqual(['lambda:GetFunction', 'lambda:ListAliases']);
      expect(JSON.stringify(resourcesOf(read[0]!))).toContain(':lambda:eu-west-1:111122223333:function:*');
    });

    it('may publish to the alert topic and use its key for that', () => {
      const topicRef = { Ref: s.stack.getLogicalId(s.guard.topic.node.defaultChild as never) };
      const publish = pushStatements(s).filter((st) => actionsOf(st).includes('sns:Publish'));
      expect(publish.map((st) => st.Resource)).toEqual([topicRef]);
      const kms = pushStatements(s).filter((st) => actionsOf(st).includes('kms:GenerateDataKey*'));
      expect(kms.map((st) => st.Resource)).toEqual([
        { 'Fn::GetAtt': [logicalIdOf(s.stack, s.guard.topicKey!), 'Arn'] },
      ]);
    });

    it('uses its own role without AWS managed policies, writing logs only to its log group', () => {
      s.template.hasResourceProperties('AWS::IAM::Role', { ManagedPolicyArns: Match.absent() });
      const logWrites = pushStatements(s).filter((st) => actionsOf(st).includes('logs:PutLogEvents'));
      expect(logWrites.map((st) => st.Resource)).toEqual([
        { 'Fn::GetAtt': [logicalIdOf(s.stack, s.guard.logGroup), 'Arn'] },
      ]);
    });
  });
});

describe('DigestGuard scoped to some repositories, with its own prefix, in dry-run mode', () => {
  let s: Synthesized;
  beforeAll(() => {
    s = synthesize({
      alertEmails: ['ops@example.com'],
      repositories: ['app', 'team/api'],
      tagPrefix: 'keep',
      dryRun: true,
      batchSize: 5,
      maxBatchingWindow: Duration.seconds(0),
      timeout: Duration.minutes(2),
      memorySize: 1024,
      logRetention: logs.RetentionDays.ONE_WEEK,
      logLevel: 'DEBUG',
      maxEventAge: Duration.minutes(30),
    });
  });

  it('listens only to pushes of the named repositories, and ignores tags with its own prefix', () => {
    s.template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        detail: {
          'repository-name': ['app', 'team/api'],
          $or: [
            { 'action-type': ['PUSH'], 'image-tag': [{ 'anything-but': { prefix: 'keep-sha256-' } }] },
            { 'action-type': ['DELETE'] },
          ],
        },
      },
    });
  });

  it('may change images only in the named repositories', () => {
    const putImage = statementsWithAction(s.template, 'ecr:PutImage');
    expect(putImage).toHaveLength(3); // the push, the reconcile and the watch role
    for (const statement of putImage) {
      expect(resourcesOf(statement)).toEqual([ecrRepositoryArn(s.stack, 'app'), ecrRepositoryArn(s.stack, 'team/api')]);
    }
    expect(JSON.stringify(iamPolicyStatements(s.template))).not.toContain('repository/*');
  });

  it('passes scope, prefix, dry run and log level to the handler', () => {
    s.template.hasResourceProperties('AWS::Lambda::Function', {
      MemorySize: 1024,
      Timeout: 120,
      Environment: {
        Variables: Match.objectLike({
          TAG_PREFIX: 'keep',
          DRY_RUN: 'true',
          REPOSITORIES: 'app,team/api',
          POWERTOOLS_LOG_LEVEL: 'DEBUG',
        }),
      },
    });
    s.template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 7 });
  });

  it('derives the visibility timeout from the shorter function timeout and applies the batching knobs', () => {
    s.template.hasResourceProperties('AWS::SQS::Queue', { VisibilityTimeout: 6 * 120 });
    s.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 5,
      MaximumBatchingWindowInSeconds: 0,
    });
    s.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateAgeOfOldestMessage',
      Threshold: 1800,
    });
  });
});

describe('DigestGuard with the lifecycle expiry watch and the CloudTrail lookup of who pushed', () => {
  let s: Synthesized;
  beforeAll(() => {
    s = synthesize({
      alertEmails: ['ops@example.com'],
      repositories: ['app'],
      watchLifecycleExpiry: true,
      lookupPushers: true,
    });
  });

  it('routes ECR lifecycle PolicyExecutionEvents to the buffer with a rule that receives read-only management events', () => {
    // "Enable the rule so that EventBridge matches all events against the rule, including read-only management
    // events delivered through CloudTrail" = ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS;
    // https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-service-event-cloudtrail-management.html
    // PolicyExecutionEvent is `readOnly: true`: https://docs.aws.amazon.com/AmazonECR/latest/userguide/logging-using-cloudtrail.html
    const queueId = logicalIdOf(s.stack, s.guard.queue);
    s.template.hasResourceProperties('AWS::Events::Rule', {
      State: 'ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS',
      EventPattern: {
        source: ['aws.ecr'],
        'detail-type': ['AWS Service Event via CloudTrail', 'AWS API Call via CloudTrail'],
        detail: {
          eventSource: ['ecr.amazonaws.com'],
          eventName: ['PolicyExecutionEvent'],
          serviceEventDetails: { repositoryName: ['app'] },
        },
      },
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [queueId, 'Arn'] } })],
    });
    // the push rule keeps the plain state: it needs no management event
    s.template.hasResourceProperties('AWS::Events::Rule', {
      State: 'ENABLED',
      EventPattern: Match.objectLike({ 'detail-type': ['ECR Image Action'] }),
    });
  });

  it("lets the buffer accept messages from the lifecycle rule too, limited to that rule's ARN", () => {
    const lifecycleRuleId = logicalIdOf(s.stack, s.guard.lifecycleExpiryRule!);
    s.template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: Match.arrayWith(['sqs:SendMessage']),
            Principal: { Service: 'events.amazonaws.com' },
            Condition: { ArnEquals: { 'aws:SourceArn': { 'Fn::GetAtt': [lifecycleRuleId, 'Arn'] } } },
          }),
        ]),
      },
    });
  });

  it('lets only the push role call cloudtrail:LookupEvents, on `*` (the action has no resource type), and tells its handler to', () => {
    const lookups = statementsWithAction(s.template, 'cloudtrail:LookupEvents');
    expect(lookups).toHaveLength(1);
    expect(actionsOf(lookups[0]!)).toEqual(['cloudtrail:LookupEvents']);
    expect(resourcesOf(lookups[0]!)).toEqual(['*']);
    expect(pushStatements(s).some((st) => actionsOf(st).includes('cloudtrail:LookupEvents'))).toBe(true);
    s.template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ LOOKUP_PUSHERS: 'true' }) },
    });
  });
});

describe('DigestGuard with an existing alert topic', () => {
  const EXISTING_TOPIC_ARN = 'arn:aws:sns:eu-west-1:111122223333:platform-alerts';
  let s: Synthesized;
  beforeAll(() => {
    const app = appLikeCli(SKIP_BUNDLING);
    const stack = new Stack(app, 'ExistingTopic', { env: ENV });
    const alertTopic = sns.Topic.fromTopicArn(stack, 'Existing', EXISTING_TOPIC_ARN);
    const guard = new DigestGuard(stack, 'Guard', { alertTopic });
    s = { stack, guard, template: Template.fromStack(stack), outdir: app.outdir };
  });

  it('creates neither a topic nor a key, and alerts, alarms and publishes to the given topic', () => {
    s.template.resourceCountIs('AWS::SNS::Topic', 0);
    s.template.resourceCountIs('AWS::KMS::Key', 0);
    expect(s.guard.topicKey).toBeUndefined();
    s.template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ TOPIC_ARN: EXISTING_TOPIC_ARN }) },
    });
    s.template.allResourcesProperties('AWS::CloudWatch::Alarm', { AlarmActions: [EXISTING_TOPIC_ARN] });
    expect(statementsWithAction(s.template, 'sns:Publish').map((st) => st.Resource)).toEqual([
      EXISTING_TOPIC_ARN,
      EXISTING_TOPIC_ARN,
      EXISTING_TOPIC_ARN,
    ]);
  });
});

describe('DigestGuard prop validation', () => {
  it.each<[string, DigestGuardProps, RegExp]>([
    ['an empty tag prefix', { tagPrefix: '' }, /^tagPrefix: must not be empty$/],
    [
      'a tag prefix that starts with a dash',
      { tagPrefix: '-guard' },
      /^tagPrefix: "-guard" must match \[a-zA-Z0-9_\]\[a-zA-Z0-9._-\]\*/,
    ],
    ['a tag prefix with a slash', { tagPrefix: 'digest/guard' }, /^tagPrefix: "digest\/guard" must match/],
    [
      'a 57-character tag prefix',
      { tagPrefix: 'a'.repeat(57) },
      /^tagPrefix: "a{57}" is 57 characters; at most 56 keep "<prefix>-sha256-<64 hex>" within the 128-character tag limit$/,
    ],
    [
      'an uppercase repository name',
      { repositories: ['App'] },
      /^repositories: "App" is not a valid ECR repository name/,
    ],
    [
      'a one-character repository name',
      { repositories: ['a'] },
      /^repositories: "a" must be 2 to 256 characters long$/,
    ],
    [
      'a repository name with an empty path part',
      { repositories: ['team//api'] },
      /^repositories: "team\/\/api" is not a valid ECR repository name/,
    ],
    [
      'an address without @',
      { alertEmails: ['ops.example.com'] },
      /^alertEmails: "ops\.example\.com" is not an email address$/,
    ],
    [
      'a timeout over 15 minutes',
      { timeout: Duration.minutes(16) },
      /^timeout must be a whole number of seconds between 1 second and 15 minutes, got 16 minutes$/,
    ],
    [
      'a timeout under a second',
      { timeout: Duration.millis(500) },
      /^timeout must be a whole number of seconds between 1 second and 15 minutes, got 500 millis$/,
    ],
    [
      'a timeout in fractions of a second',
      { timeout: Duration.millis(1500) },
      /^timeout must be a whole number of seconds/,
    ],
    [
      'too little memory',
      { memorySize: 64 },
      /^memorySize must be a whole number of MiB between 128 and 10240, got 64$/,
    ],
    ['fractional memory', { memorySize: 256.5 }, /^memorySize must be a whole number/],
    ['a batch of zero', { batchSize: 0 }, /^batchSize must be a whole number between 1 and 10000, got 0$/],
    ['a batch over 10000', { batchSize: 10001 }, /^batchSize must be a whole number between 1 and 10000, got 10001$/],
    [
      'a batch over 10 without a batching window',
      { batchSize: 11, maxBatchingWindow: Duration.seconds(0) },
      /^batchSize above 10 \(got 11\) needs a maxBatchingWindow of at least 1 second$/,
    ],
    [
      'a batching window over 5 minutes',
      { maxBatchingWindow: Duration.minutes(6) },
      /^maxBatchingWindow must be a whole number of seconds between 0 and 5 minutes, got 6 minutes$/,
    ],
    [
      'an event age under a minute',
      { maxEventAge: Duration.seconds(30) },
      /^maxEventAge must be a whole number of seconds between 1 minute and 1 day, got 30 seconds$/,
    ],
    [
      'an unknown log level',
      { logLevel: 'TRACE' as never },
      /^logLevel must be one of DEBUG, INFO, WARN, ERROR, got TRACE$/,
    ],
  ])('refuses %s, naming the prop', (_case, props, message) => {
    expect(problemsOf(props)).toEqual([expect.stringMatching(message)]);
  });

  it('given no recipient at all (new DigestGuard(stack, "G", {})), when built, then it is refused and says how to name one', () => {
    expect(() => new DigestGuard(new Stack(appLikeCli(), 'Nobody'), 'Guard', {})).toThrow(
      /^Invalid DigestGuard props:\n {2}- alertEmails is empty and no alertTopic is given, so nobody would receive alerts or alarms; name an address, pass alertTopic, or set noAlertSubscription: true/,
    );
    expect(problemsOf({ alertEmails: [] })).toHaveLength(1);
  });

  it('given noAlertSubscription: true, when built without addresses, then it creates the topic and subscribes nobody', () => {
    const app = appLikeCli(SKIP_BUNDLING);
    const stack = new Stack(app, 'Explicit');
    const guard = new DigestGuard(stack, 'Guard', { noAlertSubscription: true });

    expect(guard.topic).toBeDefined();
    Template.fromStack(stack).resourceCountIs('AWS::SNS::Subscription', 0);
    expect(problemsOf({ noAlertSubscription: true })).toEqual([
      'noAlertSubscription is true but alertEmails names addresses; drop one of them',
    ]);
  });

  it('given several bad props, when built, then every problem is reported at once through the shared validation', () => {
    const problems = problemsOf({
      alertEmails: ['ops.example.com'],
      tagPrefix: '-x',
      repositories: [],
      memorySize: 64,
      reconcile: false,
      releaseAfterDays: 30,
      reconcileSchedule: events.Schedule.expression('cron(* * * * ? *)'),
    });

    expect(problems).toEqual([
      'alertEmails: "ops.example.com" is not an email address',
      expect.stringMatching(/^tagPrefix: "-x" must match/),
      'repositories is set but names no repository; leave it out to guard every repository of the account and region, or name them',
      expect.stringMatching(/^reconcileSchedule: "cron\(\* \* \* \* \? \*\)" fires as little as 1 minute apart/),
      'reconcileSchedule is set but reconcile is false; drop one of them',
      'releaseAfterDays is 30 but reconcile is false; protections are released only by the scheduled reconcile',
      'memorySize must be a whole number of MiB between 128 and 10240, got 64',
    ]);
  });

  it('accepts the longest tag prefix that keeps protective tags within 128 characters', () => {
    const guard = buildGuard({ tagPrefix: 'a'.repeat(56) })();
    expect(guard.tagPrefix).toHaveLength(56);
    expect(`${guard.tagPrefix}-sha256-${'0'.repeat(64)}`).toHaveLength(128);
  });
});
