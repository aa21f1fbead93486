/**
 * The watch the construct creates: ECS task state changes of the default bus → an encrypted, SSL-only queue
 * with a dead-letter queue and alarms → the watch function, whose role may write the index and protect in
 * scope, and call no ECS action; the push function is told the index is watched; the stack outputs the names.
 * See: https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs_task_events.html
 */
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { DigestGuardStack } from '../../lib/digest-guard-stack';
import {
  actionsOf,
  appLikeCli,
  logicalIdOf,
  roleStatements,
  SKIP_BUNDLING,
  type SynthesizedGuard,
  synthesizeGuard,
} from '../support/cdk-app';

describe('the watch of ECS task events', () => {
  let s: SynthesizedGuard;
  beforeAll(() => {
    s = synthesizeGuard({ alertEmails: ['ops@example.com'] }, { bundle: false, stackId: 'Watch' });
  });

  it('given the default guard, then a rule sends every ECS task, deployment and daemon deployment state change to the watch queue', () => {
    expect(s.guard.watchRule).toBeDefined();
    s.template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.ecs'],
        'detail-type': ['ECS Task State Change', 'ECS Deployment State Change', 'ECS Daemon Deployment State Change'],
      },
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [logicalIdOf(s.stack, s.guard.watchQueue), 'Arn'] } })],
    });
  });

  it('given the default guard, then a rule sends the Lambda API calls that set an image to the watch queue, by eventName prefix', () => {
    // CloudTrail writes Lambda's eventNames with a date and version (UpdateFunctionCode20150331v2): prefix matching.
    // See: https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html#eb-filtering-prefix-matching
    s.template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.lambda'],
        'detail-type': ['AWS API Call via CloudTrail'],
        detail: {
          eventSource: ['lambda.amazonaws.com'],
          eventName: [
            { prefix: 'CreateFunction' },
            { prefix: 'UpdateFunctionCode' },
            { prefix: 'PublishVersion' },
            { prefix: 'CreateAlias' },
            { prefix: 'UpdateAlias' },
          ],
        },
      },
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [logicalIdOf(s.stack, s.guard.watchQueue), 'Arn'] } })],
    });
  });

  it('given the watch queue, then it is encrypted, SSL-only and dead-letters after 5 receives', () => {
    const queueId = logicalIdOf(s.stack, s.guard.watchQueue);
    const dlqId = logicalIdOf(s.stack, s.guard.watchDeadLetterQueue);
    s.template.hasResourceProperties('AWS::SQS::Queue', {
      SqsManagedSseEnabled: true,
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [dlqId, 'Arn'] }, maxReceiveCount: 5 },
    });
    const policies = s.template.findResources('AWS::SQS::QueuePolicy');
    const forQueue = (id: string) =>
      Object.values(policies).filter((p) => JSON.stringify(p.Properties.Queues).includes(id));
    for (const id of [queueId, dlqId]) {
      expect(JSON.stringify(forQueue(id))).toContain('"aws:SecureTransport":"false"');
    }
  });

  it('given the watch function, then it reads the queue with partial batch responses and knows the table and account', () => {
    const fnId = logicalIdOf(s.stack, s.guard.watchFunction);
    s.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: fnId },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    const fn = s.template.findResources('AWS::Lambda::Function')[fnId];
    expect(fn?.Properties.Environment.Variables).toMatchObject({
      IN_USE_INDEX_TABLE_NAME: { Ref: logicalIdOf(s.stack, s.guard.inUseIndex) },
      GUARD_ACCOUNT: expect.anything(),
    });
  });

  it('given the watch role, then it may write and query the index table only, protect in scope, and list nothing in ECS or Lambda', () => {
    const actions = roleStatements(s.template, s.stack, s.guard.watchFunction!.role).flatMap(actionsOf);
    expect(actions.filter((a) => a.startsWith('dynamodb:')).sort()).toEqual(['dynamodb:Query', 'dynamodb:UpdateItem']);
    expect(actions.filter((a) => /^(ecs|lambda):List/.test(a))).toEqual([]);
    expect(actions).toEqual(expect.arrayContaining(['ecr:BatchGetImage', 'ecr:PutImage', 'ecr:DescribeImages']));
  });

  it('given the watch role, then it may read one named service of its own account and region, and one function', () => {
    const statements = roleStatements(s.template, s.stack, s.guard.watchFunction!.role);
    const resourcesOf = (action: string) =>
      JSON.stringify(statements.filter((st) => actionsOf(st).includes(action)).map((st) => st.Resource));
    expect(resourcesOf('ecs:DescribeServices')).toMatch(/:service\/\*/);
    expect(resourcesOf('ecs:DescribeServiceRevisions')).toMatch(/:service-revision\/\*/);
    const own = `${s.stack.region}:${s.stack.account}:`;
    expect(resourcesOf('ecs:DescribeServices')).toContain(`:ecs:${own}service/*`);
    expect(resourcesOf('ecs:DescribeServiceRevisions')).toContain(`:ecs:${own}service-revision/*`);
    expect(resourcesOf('lambda:GetFunction')).toContain(`:lambda:${own}function:*`);
  });

  it('given the watch role, then it may describe a named daemon revision of its own account and region', () => {
    const statements = roleStatements(s.template, s.stack, s.guard.watchFunction!.role);
    const resources = JSON.stringify(
      statements.filter((st) => actionsOf(st).includes('ecs:DescribeDaemonRevisions')).map((st) => st.Resource),
    );
    const own = `${s.stack.region}:${s.stack.account}:`;
    // DescribeDaemonRevisions authorizes on the daemon and the daemon revision (Service Authorization Reference).
    expect(resources).toContain(`:ecs:${own}daemon/*`);
    expect(resources).toContain(`:ecs:${own}daemon-revision/*`);
  });

  it('given the defaults, then the push function keeps its direct inventory and may not read the index', () => {
    // The watch follows ECS tasks only; reading the index at push time is opt-in (pushReadsIndex).
    const fn = s.template.findResources('AWS::Lambda::Function')[logicalIdOf(s.stack, s.guard.function)];
    expect(fn?.Properties.Environment.Variables.WATCH_ENABLED).toBeUndefined();
    const actions = roleStatements(s.template, s.stack, s.guard.function.role).flatMap(actionsOf);
    expect(actions.filter((a) => a.startsWith('dynamodb:'))).toEqual([]);
  });

  it('given pushReadsIndex, then the push function is told the index is watched and where it is', () => {
    const reads = synthesizeGuard(
      { alertEmails: ['ops@example.com'], pushReadsIndex: true },
      { bundle: false, stackId: 'PushReadsIndex' },
    );
    const fn = reads.template.findResources('AWS::Lambda::Function')[logicalIdOf(reads.stack, reads.guard.function)];
    expect(fn?.Properties.Environment.Variables).toMatchObject({
      WATCH_ENABLED: 'true',
      IN_USE_INDEX_TABLE_NAME: { Ref: logicalIdOf(reads.stack, reads.guard.inUseIndex) },
    });
  });

  it('given pushReadsIndex without the watch, then the construct refuses and says why', () => {
    expect(() =>
      synthesizeGuard(
        { alertEmails: ['ops@example.com'], pushReadsIndex: true, watch: false },
        { bundle: false, stackId: 'NoWatchButIndex' },
      ),
    ).toThrow(/pushReadsIndex needs the watch/);
  });

  it('given workload accounts, then the push function is told the same workloads as the reconcile lists', () => {
    const multi = synthesizeGuard(
      {
        alertEmails: ['ops@example.com'],
        workloadAccounts: ['222222222222'],
        workloadRegions: ['us-east-1'],
        pushReadsIndex: true,
      },
      { bundle: false, stackId: 'WatchAccounts' },
    );
    const functions = multi.template.findResources('AWS::Lambda::Function');
    const push = functions[logicalIdOf(multi.stack, multi.guard.function)]?.Properties.Environment.Variables;
    const reconcile =
      functions[logicalIdOf(multi.stack, multi.guard.reconcileFunction)]?.Properties.Environment.Variables;
    expect(push).toMatchObject({ WORKLOAD_ACCOUNTS: '222222222222', WORKLOAD_REGIONS: 'us-east-1' });
    expect(push.WORKLOAD_ACCOUNTS).toEqual(reconcile.WORKLOAD_ACCOUNTS);
    expect(push.WORKLOAD_REGIONS).toEqual(reconcile.WORKLOAD_REGIONS);
  });

  it('given the watch, then its dead-letter queue and its errors alarm to the topic', () => {
    expect(s.guard.alarms.watchDeadLetterQueueNotEmpty).toBeDefined();
    expect(s.guard.alarms.watchErrors).toBeDefined();
    s.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [
        {
          Name: 'QueueName',
          Value: { 'Fn::GetAtt': [logicalIdOf(s.stack, s.guard.watchDeadLetterQueue), 'QueueName'] },
        },
      ],
    });
  });

  it.each([
    ['watch: false', { watch: false }],
    ['reconcile: false (no list, so nothing to keep fresh)', { reconcile: false }],
  ])('given %s, then there is no watch and the push function is not told of one', (_, props) => {
    const off = synthesizeGuard({ alertEmails: ['ops@example.com'], ...props }, { bundle: false, stackId: 'NoWatch' });
    expect(off.guard.watchFunction).toBeUndefined();
    expect(JSON.stringify(off.template.toJSON())).not.toContain('ECS Task State Change');
    expect(JSON.stringify(off.template.toJSON())).not.toContain('WATCH_ENABLED');
  });

  it('given the stack, then WatchQueueName and WatchFunctionName are outputs', () => {
    const stack = new DigestGuardStack(appLikeCli(SKIP_BUNDLING), 'EcrDigestGuard', {
      config: { alertEmails: ['ops@example.com'], repositories: [], dryRun: false },
    });
    const outputs = Template.fromStack(stack).toJSON().Outputs;
    expect(Object.keys(outputs)).toEqual(expect.arrayContaining(['WatchQueueName', 'WatchFunctionName']));
  });
});
