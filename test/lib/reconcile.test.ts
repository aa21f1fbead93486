/**
 * The scheduled reconcile of the DigestGuard construct as CloudFormation: the schedule, the function and
 * how its failures surface, and its role in each variant (release on/off, scoped/unscoped). One synth per
 * variant, shared by its tests; only the default one bundles the code (the others read IAM and settings).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Duration, Stack } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_RECONCILE_SCHEDULE,
  DigestGuard,
  type DigestGuardProps,
  RECONCILE_MAX_EVENT_AGE,
  RECONCILE_RETRY_ATTEMPTS,
} from '../../lib/digest-guard';
import { MAX_RELEASE_AFTER_DAYS } from '../../lambda/core/defaults';
import {
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
} from '../support/cdk-app';

/** Someone to alert, as the construct requires; these tests are about the reconcile, not the recipients. */
function synthesize(props: DigestGuardProps, options: { bundle: boolean }): Synthesized {
  return synthesizeGuard({ alertEmails: ['ops@example.com'], ...props }, { ...options, stackId: 'ReconcileTest' });
}

function reconcileStatements(s: Synthesized): Statement[] {
  return roleStatements(s.template, s.stack, s.guard.reconcileFunction?.role);
}

function pushStatements(s: Synthesized): Statement[] {
  return roleStatements(s.template, s.stack, s.guard.function.role);
}

function withAction(statements: Statement[], action: string): Statement[] {
  return statements.filter((st) => actionsOf(st).includes(action));
}

function ecrActionsOf(statements: Statement[]): string[] {
  return [...new Set(statements.flatMap(actionsOf).filter((a) => a.startsWith('ecr:')))].sort();
}

function reconcileFunctionProperties(s: Synthesized): Record<string, any> {
  return s.template.toJSON().Resources[logicalIdOf(s.stack, s.guard.reconcileFunction)].Properties;
}

describe('DigestGuard reconcile with defaults (every repository, release off)', () => {
  let s: Synthesized;
  beforeAll(() => {
    s = synthesize({ alertEmails: ['ops@example.com'] }, { bundle: true });
  });

  describe('schedule', () => {
    it('runs every 6 hours by default, so several runs fall into each 24-hour lifecycle expiry window', () => {
      expect(DEFAULT_RECONCILE_SCHEDULE.expressionString).toBe('rate(6 hours)');
      s.template.hasResourceProperties('AWS::Events::Rule', {
        ScheduleExpression: 'rate(6 hours)',
        State: 'ENABLED',
        EventPattern: Match.absent(),
      });
    });

    it('hands the scheduled event itself to the function (the handler reads its account, region and time)', () => {
      const rule = s.template.toJSON().Resources[logicalIdOf(s.stack, s.guard.reconcileRule)];
      expect(rule.Properties.Targets).toHaveLength(1);
      const [target] = rule.Properties.Targets;
      expect(target.Arn).toEqual({ 'Fn::GetAtt': [logicalIdOf(s.stack, s.guard.reconcileFunction), 'Arn'] });
      expect(target).not.toHaveProperty('Input');
      expect(target).not.toHaveProperty('InputPath');
      expect(target).not.toHaveProperty('InputTransformer');
    });

    it('lets only this rule invoke the function', () => {
      s.template.hasResourceProperties('AWS::Lambda::Permission', {
        Action: 'lambda:InvokeFunction',
        FunctionName: { 'Fn::GetAtt': [logicalIdOf(s.stack, s.guard.reconcileFunction), 'Arn'] },
        Principal: 'events.amazonaws.com',
        SourceArn: { 'Fn::GetAtt': [logicalIdOf(s.stack, s.guard.reconcileRule), 'Arn'] },
      });
    });

    it('gives up delivering after an hour and dead-letters what EventBridge could not deliver', () => {
      const dlqArn = { 'Fn::GetAtt': [logicalIdOf(s.stack, s.guard.reconcileDeadLetterQueue), 'Arn'] };
      s.template.hasResourceProperties('AWS::Events::Rule', {
        ScheduleExpression: 'rate(6 hours)',
        Targets: [
          Match.objectLike({ RetryPolicy: { MaximumEventAgeInSeconds: 3600 }, DeadLetterConfig: { Arn: dlqArn } }),
        ],
      });
    });
  });

  describe('function', () => {
    it('runs the reconcile handler on Node.js 24, arm64, for 15 minutes, with the shared memory setting', () => {
      expect(reconcileFunctionProperties(s)).toMatchObject({
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        Handler: 'index.handler',
        MemorySize: 512,
        Timeout: 900,
      });
    });

    it('given a run still going when the next schedule fires, then Lambda holds the event: one reconcile at a time', () => {
      // Reserved concurrency 1 throttles a second run; EventBridge invokes asynchronously, so Lambda keeps the
      // event and retries the throttle (up to the event age, an hour here), and the run starts once the other
      // ends. See: https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html
      expect(reconcileFunctionProperties(s).ReservedConcurrentExecutions).toBe(1);
      const push = s.template.toJSON().Resources[logicalIdOf(s.stack, s.guard.function)].Properties;
      expect(push.ReservedConcurrentExecutions).toBeUndefined();
      s.template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
        FunctionName: { Ref: logicalIdOf(s.stack, s.guard.reconcileFunction) },
        MaximumEventAgeInSeconds: 3600,
      });
    });

    it('gets exactly the environment reconcile-config.ts reads, with release off written as 0', () => {
      expect(reconcileFunctionProperties(s).Environment.Variables).toEqual({
        TOPIC_ARN: { Ref: logicalIdOf(s.stack, s.guard.topic as never) },
        TAG_PREFIX: 'digest-guard',
        DRY_RUN: 'false',
        REPOSITORIES: '',
        RELEASE_AFTER_DAYS: '0',
        LIFECYCLE_CHECK: 'evaluate',
        INSTALL_LIFECYCLE_SHIELD: 'false',
        // the catch-up's bound: the 6-hour rate plus 15 minutes
        LIST_BOUND_MINUTES: '375',
        // read by the handler's wiring (reconcile.ts): the in-use index it keeps as its list
        IN_USE_INDEX_TABLE_NAME: { Ref: logicalIdOf(s.stack, s.guard.inUseIndex) },
        POWERTOOLS_SERVICE_NAME: 'ecr-digest-guard',
        POWERTOOLS_METRICS_NAMESPACE: 'EcrDigestGuard',
        POWERTOOLS_LOG_LEVEL: 'INFO',
        NODE_OPTIONS: '--enable-source-maps',
      });
    });

    it('logs to its own log group with the same retention as the push function', () => {
      const logGroupId = logicalIdOf(s.stack, s.guard.reconcileLogGroup);
      expect(logGroupId).not.toBe(logicalIdOf(s.stack, s.guard.logGroup));
      expect(reconcileFunctionProperties(s).LoggingConfig).toEqual({ LogGroup: { Ref: logGroupId } });
      expect(s.template.toJSON().Resources[logGroupId].Properties.RetentionInDays).toBe(90);
    });

    it('ships its own minified bundle with a source map and the ECR restore and release calls inside', () => {
      const fn = s.template.toJSON().Resources[logicalIdOf(s.stack, s.guard.reconcileFunction)];
      const pushFn = s.template.toJSON().Resources[logicalIdOf(s.stack, s.guard.function)];
      expect(fn.Metadata['aws:asset:path']).not.toBe(pushFn.Metadata['aws:asset:path']);
      const assetDir = path.join(s.outdir, fn.Metadata['aws:asset:path'] as string);
      expect(fs.readdirSync(assetDir).sort()).toEqual(['index.js', 'index.js.map']);
      const bundle = fs.readFileSync(path.join(assetDir, 'index.js'), 'utf8');
      expect(bundle).toContain('UpdateImageStorageClassCommand');
      expect(bundle).toContain('DescribeRepositoriesCommand');
      expect(bundle).not.toContain('// lambda/handlers/reconcile.ts');
      expect(bundle.trimEnd().endsWith('//# sourceMappingURL=index.js.map')).toBe(true);
    });
  });

  describe('failed runs', () => {
    it(`retries a failed run ${RECONCILE_RETRY_ATTEMPTS} times within an hour, then records it in the dead-letter queue`, () => {
      expect(RECONCILE_RETRY_ATTEMPTS).toBe(2);
      expect(RECONCILE_MAX_EVENT_AGE.toSeconds()).toBe(3600);
      // Three 15-minute attempts and Lambda's 1 + 2 minutes of back-off fit into the maximum event age.
      expect(3 * 15 + 1 + 2).toBeLessThanOrEqual(RECONCILE_MAX_EVENT_AGE.toMinutes());
      s.template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
        FunctionName: { Ref: logicalIdOf(s.stack, s.guard.reconcileFunction) },
        Qualifier: '$LATEST',
        MaximumRetryAttempts: 2,
        MaximumEventAgeInSeconds: 3600,
        DestinationConfig: {
          OnFailure: { Destination: { 'Fn::GetAtt': [logicalIdOf(s.stack, s.guard.reconcileDeadLetterQueue), 'Arn'] } },
        },
      });
    });

    it('encrypts the reconcile dead-letter queue, keeps records 14 days and refuses requests without TLS', () => {
      const id = logicalIdOf(s.stack, s.guard.reconcileDeadLetterQueue);
      expect(s.template.toJSON().Resources[id].Properties).toMatchObject({
        SqsManagedSseEnabled: true,
        MessageRetentionPeriod: 14 * 24 * 3600,
      });
      s.template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: id }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Deny',
              Action: 'sqs:*',
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            }),
            Match.objectLike({
              Effect: 'Allow',
              Principal: { Service: 'events.amazonaws.com' },
              Action: 'sqs:SendMessage',
              Condition: {
                ArnEquals: { 'aws:SourceArn': { 'Fn::GetAtt': [logicalIdOf(s.stack, s.guard.reconcileRule), 'Arn'] } },
              },
            }),
          ]),
        },
      });
    });

    it('may only send to its dead-letter queue, and has that permission before the function exists', () => {
      // Lambda sends the on-failure record with the execution role; SendMessage is all it needs.
      const sends = reconcileStatements(s).filter((st) => actionsOf(st).some((a) => a.startsWith('sqs:')));
      expect(sends.map(actionsOf)).toEqual([['sqs:SendMessage']]);
      expect(resourcesOf(sends[0]!)).toEqual([
        { 'Fn::GetAtt': [logicalIdOf(s.stack, s.guard.reconcileDeadLetterQueue), 'Arn'] },
      ]);
      const fn = s.template.toJSON().Resources[logicalIdOf(s.stack, s.guard.reconcileFunction)];
      const policyId = Object.entries(s.template.findResources('AWS::IAM::Policy')).find(
        ([, p]) =>
          JSON.stringify((p as any).Properties.Roles) ===
          JSON.stringify([{ Ref: logicalIdOf(s.stack, s.guard.reconcileFunction!.role as never) }]),
      )?.[0];
      expect(fn.DependsOn).toContain(policyId);
    });

    it('alarms to the topic on reconcile errors and on a non-empty reconcile dead-letter queue', () => {
      const topicRef = { Ref: logicalIdOf(s.stack, s.guard.topic as never) };
      expect(s.guard.alarms.reconcileErrors).toBeDefined();
      expect(s.guard.alarms.reconcileDeadLetterQueueNotEmpty).toBeDefined();
      s.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/Lambda',
        MetricName: 'Errors',
        Dimensions: [{ Name: 'FunctionName', Value: { Ref: logicalIdOf(s.stack, s.guard.reconcileFunction) } }],
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        AlarmActions: [topicRef],
        TreatMissingData: 'notBreaching',
      });
      s.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [
          {
            Name: 'QueueName',
            Value: { 'Fn::GetAtt': [logicalIdOf(s.stack, s.guard.reconcileDeadLetterQueue), 'QueueName'] },
          },
        ],
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        AlarmActions: [topicRef],
        TreatMissingData: 'notBreaching',
      });
    });
  });

  describe('permissions', () => {
    it('uses a role of its own, not the push role', () => {
      expect(logicalIdOf(s.stack, s.guard.reconcileFunction!.role as never)).not.toBe(
        logicalIdOf(s.stack, s.guard.function.role as never),
      );
      expect(reconcileFunctionProperties(s).Role).toEqual({
        'Fn::GetAtt': [logicalIdOf(s.stack, s.guard.reconcileFunction!.role as never), 'Arn'],
      });
    });

    it('may protect, restore and read lifecycle policies in every repository of its account and region, and release nothing', () => {
      const statements = reconcileStatements(s);
      expect(ecrActionsOf(statements)).toEqual([
        'ecr:BatchGetImage',
        'ecr:DescribeImages',
        'ecr:DescribeRegistry',
        'ecr:GetLifecyclePolicy',
        'ecr:PutImage',
        'ecr:UpdateImageStorageClass',
      ]);
      const onRepositories = statements.filter((st) =>
        actionsOf(st).some((a) => a.startsWith('ecr:') && a !== 'ecr:DescribeRegistry'),
      );
      for (const statement of onRepositories) {
        expect(resourcesOf(statement)).toEqual([ecrRepositoryArn(s.stack, '*')]);
      }
    });

    it('may read the registry replication rules, alone in a statement on `*` (DescribeRegistry has no resource type)', () => {
      const granted = withAction(reconcileStatements(s), 'ecr:DescribeRegistry');
      expect(granted).toHaveLength(1);
      expect(actionsOf(granted[0]!)).toEqual(['ecr:DescribeRegistry']);
      expect(resourcesOf(granted[0]!)).toEqual(['*']);
      expect(ecrActionsOf(pushStatements(s))).not.toContain('ecr:DescribeRegistry');
    });

    it('grants BatchDeleteImage and DescribeRepositories to no role when release is off, and never changes lifecycle policies by default', () => {
      const everyAction = iamPolicyStatements(s.template).flatMap(actionsOf);
      expect(everyAction).not.toContain('ecr:PutLifecyclePolicy');
      expect(everyAction).not.toContain('ecr:StartLifecyclePolicyPreview');
      expect(everyAction).not.toContain('ecr:BatchDeleteImage');
      expect(everyAction).not.toContain('ecr:DescribeRepositories');
    });

    it('gives the push role the protect step only: read, re-put, restore; no delete, no lifecycle', () => {
      expect(ecrActionsOf(pushStatements(s))).toEqual([
        'ecr:BatchGetImage',
        'ecr:DescribeImages',
        'ecr:PutImage',
        'ecr:UpdateImageStorageClass',
      ]);
    });

    it('reads ECS and Lambda with exactly the statements the push role has', () => {
      const inventory = (statements: Statement[]) =>
        statements.filter((st) => actionsOf(st).some((a) => a.startsWith('ecs:') || a.startsWith('lambda:')));
      expect(inventory(reconcileStatements(s))).toEqual(inventory(pushStatements(s)));
      expect(inventory(reconcileStatements(s)).length).toBeGreaterThan(0);
    });

    it('may publish to the alert topic and use its key, write only its own logs, and nothing else', () => {
      const statements = reconcileStatements(s);
      const topicRef = { Ref: logicalIdOf(s.stack, s.guard.topic as never) };
      expect(withAction(statements, 'sns:Publish').map((st) => st.Resource)).toEqual([topicRef]);
      expect(withAction(statements, 'kms:GenerateDataKey*').map((st) => st.Resource)).toEqual([
        { 'Fn::GetAtt': [logicalIdOf(s.stack, s.guard.topicKey), 'Arn'] },
      ]);
      expect(withAction(statements, 'logs:PutLogEvents').map((st) => st.Resource)).toEqual([
        { 'Fn::GetAtt': [logicalIdOf(s.stack, s.guard.reconcileLogGroup), 'Arn'] },
      ]);
      const services = new Set(statements.flatMap(actionsOf).map((a) => a.split(':')[0]));
      expect([...services].sort()).toEqual(['dynamodb', 'ecr', 'ecs', 'kms', 'lambda', 'logs', 'sns', 'sqs']);
      expect(statements.flatMap(actionsOf).filter((a) => a.includes('*'))).toEqual(['kms:GenerateDataKey*']);
    });
  });
});

describe('DigestGuard reconcile with release on, every repository', () => {
  let s: Synthesized;
  beforeAll(() => {
    s = synthesize({ releaseAfterDays: 30 }, { bundle: false });
  });

  it('tells the function the grace period', () => {
    expect(reconcileFunctionProperties(s).Environment.Variables.RELEASE_AFTER_DAYS).toBe('30');
  });

  it('may remove protective tags in every repository, and list repositories to find unused ones', () => {
    const statements = reconcileStatements(s);
    expect(ecrActionsOf(statements)).toEqual([
      'ecr:BatchDeleteImage',
      'ecr:BatchGetImage',
      'ecr:DescribeImages',
      'ecr:DescribeRegistry',
      'ecr:DescribeRepositories',
      'ecr:GetLifecyclePolicy',
      'ecr:PutImage',
      'ecr:UpdateImageStorageClass',
    ]);
    for (const action of ['ecr:BatchDeleteImage', 'ecr:DescribeRepositories']) {
      const granted = withAction(statements, action);
      expect(granted).toHaveLength(1);
      expect(actionsOf(granted[0]!)).toEqual([action]);
      expect(resourcesOf(granted[0]!)).toEqual([ecrRepositoryArn(s.stack, '*')]);
    }
  });

  it('still gives the push role no BatchDeleteImage', () => {
    expect(ecrActionsOf(pushStatements(s))).toEqual([
      'ecr:BatchGetImage',
      'ecr:DescribeImages',
      'ecr:PutImage',
      'ecr:UpdateImageStorageClass',
    ]);
    expect(withAction(iamPolicyStatements(s.template), 'ecr:BatchDeleteImage')).toEqual(
      withAction(reconcileStatements(s), 'ecr:BatchDeleteImage'),
    );
  });
});

describe('DigestGuard reconcile with release on, named repositories, a cron schedule and a dry run', () => {
  let s: Synthesized;
  beforeAll(() => {
    s = synthesize(
      {
        repositories: ['app', 'team/api'],
        tagPrefix: 'keep',
        dryRun: true,
        logLevel: 'DEBUG',
        memorySize: 1024,
        timeout: Duration.minutes(2),
        releaseAfterDays: 7,
        reconcileSchedule: events.Schedule.cron({ minute: '15', hour: '*/4' }),
      },
      { bundle: false },
    );
  });

  it('runs on the given schedule', () => {
    s.template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'cron(15 */4 * * ? *)' });
  });

  it('passes scope, prefix, dry run, log level and grace period, and keeps its own 15-minute timeout', () => {
    expect(reconcileFunctionProperties(s)).toMatchObject({
      Timeout: 900,
      MemorySize: 1024,
      Environment: {
        Variables: {
          TAG_PREFIX: 'keep',
          DRY_RUN: 'true',
          REPOSITORIES: 'app,team/api',
          POWERTOOLS_LOG_LEVEL: 'DEBUG',
          RELEASE_AFTER_DAYS: '7',
        },
      },
    });
  });

  it('may protect, restore and release only in the named repositories, and lists no repositories', () => {
    const statements = reconcileStatements(s);
    expect(ecrActionsOf(statements)).not.toContain('ecr:DescribeRepositories');
    // DescribeRegistry has no resource type: alone on `*`, checked with the defaults.
    const ecr = statements.filter((st) =>
      actionsOf(st).some((a) => a.startsWith('ecr:') && a !== 'ecr:DescribeRegistry'),
    );
    expect(ecr.flatMap(actionsOf).sort()).toEqual([
      'ecr:BatchDeleteImage',
      'ecr:BatchGetImage',
      'ecr:DescribeImages',
      'ecr:GetLifecyclePolicy',
      'ecr:PutImage',
      'ecr:UpdateImageStorageClass',
    ]);
    for (const statement of ecr) {
      expect(resourcesOf(statement)).toEqual([ecrRepositoryArn(s.stack, 'app'), ecrRepositoryArn(s.stack, 'team/api')]);
    }
    expect(JSON.stringify(iamPolicyStatements(s.template))).not.toContain('repository/*');
  });
});

describe('DigestGuard reconcile with the lifecycle preview and the opt-in shield install, named repositories', () => {
  let s: Synthesized;
  beforeAll(() => {
    s = synthesize(
      { repositories: ['app'], lifecycleCheck: 'preview', installLifecycleShield: true },
      { bundle: false },
    );
  });

  it('tells the function the check mode and the opt-in', () => {
    expect(reconcileFunctionProperties(s).Environment.Variables).toMatchObject({
      LIFECYCLE_CHECK: 'preview',
      INSTALL_LIFECYCLE_SHIELD: 'true',
    });
  });

  it('may preview and put lifecycle policies of the named repositories only, and the push role may not', () => {
    const statements = reconcileStatements(s);
    for (const action of [
      'ecr:GetLifecyclePolicy',
      'ecr:StartLifecyclePolicyPreview',
      'ecr:GetLifecyclePolicyPreview',
      'ecr:PutLifecyclePolicy',
    ]) {
      const granted = withAction(statements, action);
      expect(granted, action).toHaveLength(1);
      expect(resourcesOf(granted[0]!)).toEqual([ecrRepositoryArn(s.stack, 'app')]);
    }
    expect(
      pushStatements(s)
        .flatMap(actionsOf)
        .filter((a) => a.includes('Lifecycle')),
    ).toEqual([]);
  });
});

describe('DigestGuard reconcile with the lifecycle check off', () => {
  it('grants no lifecycle action', () => {
    const s = synthesize({ lifecycleCheck: 'off' }, { bundle: false });
    expect(reconcileFunctionProperties(s).Environment.Variables.LIFECYCLE_CHECK).toBe('off');
    expect(
      iamPolicyStatements(s.template)
        .flatMap(actionsOf)
        .filter((a) => a.includes('Lifecycle')),
    ).toEqual([]);
  });
});

describe('DigestGuard with the reconcile turned off', () => {
  let s: Synthesized;
  beforeAll(() => {
    s = synthesize({ reconcile: false }, { bundle: false });
  });

  it('creates only the push path: one function, one rule, the push alarms', () => {
    expect(s.guard.reconcileFunction).toBeUndefined();
    expect(s.guard.reconcileRule).toBeUndefined();
    expect(s.guard.reconcileDeadLetterQueue).toBeUndefined();
    expect(s.guard.reconcileLogGroup).toBeUndefined();
    expect(s.guard.alarms.reconcileErrors).toBeUndefined();
    expect(s.guard.alarms.reconcileDeadLetterQueueNotEmpty).toBeUndefined();
    s.template.resourceCountIs('AWS::Lambda::Function', 1);
    s.template.resourceCountIs('AWS::Events::Rule', 2); // ECR events, ECS service impaired
    s.template.resourceCountIs('AWS::Lambda::EventInvokeConfig', 0);
    s.template.resourceCountIs('AWS::SQS::Queue', 2);
    s.template.resourceCountIs('AWS::CloudWatch::Alarm', 5);
    s.template.resourceCountIs('AWS::IAM::Role', 1);
  });

  it('grants no reconcile-only ECR action anywhere', () => {
    const everyAction = iamPolicyStatements(s.template).flatMap(actionsOf);
    for (const action of ['ecr:BatchDeleteImage', 'ecr:DescribeRepositories', 'ecr:GetLifecyclePolicy']) {
      expect(everyAction).not.toContain(action);
    }
  });
});

describe('DigestGuard reconcile prop validation', () => {
  it.each<[string, DigestGuardProps, RegExp]>([
    [
      'a negative grace period',
      { releaseAfterDays: -1 },
      /^releaseAfterDays must be a whole number of days from 0 \(never release\) to 3650, got -1$/,
    ],
    [
      'a fractional grace period',
      { releaseAfterDays: 1.5 },
      /^releaseAfterDays must be a whole number of days from 0 \(never release\) to 3650, got 1\.5$/,
    ],
    [
      'a grace period over ten years (hours typed as days?)',
      { releaseAfterDays: 3651 },
      /^releaseAfterDays must be a whole number of days .* got 3651$/,
    ],
    [
      'a release without the reconcile',
      { reconcile: false, releaseAfterDays: 30 },
      /^releaseAfterDays is 30 but reconcile is false; protections are released only by the scheduled reconcile$/,
    ],
    [
      'a schedule without the reconcile',
      { reconcile: false, reconcileSchedule: DEFAULT_RECONCILE_SCHEDULE },
      /^reconcileSchedule is set but reconcile is false; drop one of them$/,
    ],
    [
      'a list bound without the reconcile',
      { reconcile: false, listBound: Duration.hours(7) },
      /^listBound is set but reconcile is false; drop one of them$/,
    ],
    [
      'a rate under 15 minutes',
      { reconcileSchedule: events.Schedule.rate(Duration.minutes(5)) },
      /^reconcileSchedule: "rate\(5 minutes\)" must be between 15 minutes \(the reconcile timeout, so runs do not overlap\) and 12 hours/,
    ],
    [
      'a daily rate',
      { reconcileSchedule: events.Schedule.rate(Duration.days(1)) },
      /^reconcileSchedule: "rate\(1 day\)" must be between 15 minutes .* and 12 hours/,
    ],
    [
      'a rate with the wrong plural',
      { reconcileSchedule: events.Schedule.expression('rate(6 hour)') },
      /^reconcileSchedule: "rate\(6 hour\)" must use the singular unit for 1 and the plural above/,
    ],
    [
      'a five-field cron',
      { reconcileSchedule: events.Schedule.expression('cron(0 */6 * * ?)') },
      /^reconcileSchedule: "cron\(0 \*\/6 \* \* \?\)" must have six fields/,
    ],
    [
      'a cron with both day fields set',
      { reconcileSchedule: events.Schedule.expression('cron(0 6 * * MON *)') },
      /^reconcileSchedule: "cron\(0 6 \* \* MON \*\)" must have \? in exactly one of day-of-month and day-of-week$/,
    ],
    [
      'an unknown lifecycle check',
      { lifecycleCheck: 'sometimes' as never },
      /^lifecycleCheck must be off, evaluate or preview, got "sometimes"$/,
    ],
    [
      'a shield install without the check',
      { lifecycleCheck: 'off', installLifecycleShield: true },
      /^installLifecycleShield is true but the shield is installed only by the reconcile's lifecycle check; turn on reconcile and lifecycleCheck$/,
    ],
    [
      'a lifecycle check without the reconcile',
      { reconcile: false, lifecycleCheck: 'preview' },
      /^lifecycleCheck is set but reconcile is false; drop one of them$/,
    ],
    [
      'a cron that fires every minute',
      { reconcileSchedule: events.Schedule.expression('cron(* * * * ? *)') },
      /^reconcileSchedule: "cron\(\* \* \* \* \? \*\)" fires as little as 1 minute apart; runs must be at least 15 minutes apart/,
    ],
    [
      'a cron 10 minutes apart across midnight',
      { reconcileSchedule: events.Schedule.expression('cron(5,55 0,23 * * ? *)') },
      /^reconcileSchedule: "cron\(5,55 0,23 \* \* \? \*\)" fires as little as 10 minutes apart/,
    ],
    [
      'a cron in a past year',
      { reconcileSchedule: events.Schedule.expression('cron(0 6 * * ? 2020)') },
      /^reconcileSchedule: "cron\(0 6 \* \* \? 2020\)" never fires after .*, so the reconcile would never run$/,
    ],
    [
      'something that is no schedule',
      { reconcileSchedule: events.Schedule.expression('every 6 hours') },
      /^reconcileSchedule: "every 6 hours" is not a schedule expression: use rate\(6 hours\) or cron\(0 \*\/6 \* \* \? \*\)$/,
    ],
  ])('refuses %s, naming the prop', (_case, props, message) => {
    expect(problemsOf(props)).toEqual([expect.stringMatching(message)]);
  });

  it('accepts the bounds: 0 and 3650 days, rates of 15 minutes and 12 hours, crons 15 minutes apart or more, and the reconcile off', () => {
    expect(MAX_RELEASE_AFTER_DAYS).toBe(3650);
    const options: DigestGuardProps[] = [
      { releaseAfterDays: 0 },
      { releaseAfterDays: MAX_RELEASE_AFTER_DAYS },
      { reconcileSchedule: events.Schedule.rate(Duration.minutes(15)) },
      { reconcileSchedule: events.Schedule.rate(Duration.hours(12)) },
      { reconcileSchedule: events.Schedule.rate(Duration.hours(1)) },
      { reconcileSchedule: events.Schedule.expression('cron(0/15 * * * ? *)') },
      { reconcileSchedule: events.Schedule.expression('cron(0 12 ? * MON-FRI *)') },
      { reconcileSchedule: events.Schedule.expression('cron(0 12 L * ? *)') },
      { reconcile: false, releaseAfterDays: 0 },
    ];
    const app = appLikeCli(SKIP_BUNDLING);
    options.forEach((props, index) => {
      expect(
        () => new DigestGuard(new Stack(app, `Valid${index}`), 'Guard', { alertEmails: ['ops@example.com'], ...props }),
      ).not.toThrow();
    });
  });
});
