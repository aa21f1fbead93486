/**
 * The guard's two functions and what feeds them: the push path (EventBridge rules → SQS buffer with its
 * dead-letter queue → push function) and the scheduled reconcile (schedule rule → function, failures → its
 * dead-letter queue), both built by one factory so they share runtime, code packaging and environment.
 */
import { Duration, Stack, Validations } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import {
  MAX_CONCURRENCY,
  MAX_RECEIVE_COUNT,
  METRICS_NAMESPACE,
  PUSH_HANDLER,
  RECONCILE_HANDLER,
  RECONCILE_MAX_EVENT_AGE,
  RECONCILE_RESERVED_CONCURRENCY,
  RECONCILE_RETRY_ATTEMPTS,
  RECONCILE_TIMEOUT,
  SERVICE_NAME,
  VISIBILITY_TIMEOUT_FACTOR,
  WATCH_HANDLER,
} from './defaults';
import { CATCH_UP_INTERVAL_MINUTES } from '../lambda/core/defaults';
import { guardReconcileRoleName, guardWatchRoleName } from '../lambda/core/workloads';
import {
  buildLifecycleExpiryEventPattern,
  buildPushEventPattern,
  buildServiceImpairedEventPattern,
  buildWatchEventPatterns,
} from './event-pattern';
import { locateHandlerCode } from './handler-code';
import { listsOtherAccounts, type ResolvedSettings } from './settings';

/** One function with the log group and role made for it alone. */
export interface GuardFunction {
  readonly fn: lambda.Function;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;
}

export interface PushPath extends GuardFunction {
  /** Selects successful pushes (of the repositories in scope), minus the guard's own tags, and deletions. */
  readonly rule: events.Rule;
  /** Selects ECR lifecycle `PolicyExecutionEvent`s; undefined without `watchLifecycleExpiry`. */
  readonly lifecycleExpiryRule?: events.Rule;
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
}

export interface WatchPath extends GuardFunction {
  /** Selects ECS task state changes of this account and region. */
  readonly rule: events.Rule;
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
}

export interface ReconcilePath extends GuardFunction {
  readonly rule: events.Rule;
  /** Fires every 15 minutes: the reconcile lists again only the workloads whose last complete list is overdue. */
  readonly catchUpRule: events.Rule;
  readonly deadLetterQueue: sqs.Queue;
}

/** The catch-up rule's period (lambda/core/reconcile/catch-up.ts keeps the same figure). */
export const CATCH_UP_SCHEDULE = events.Schedule.rate(Duration.minutes(CATCH_UP_INTERVAL_MINUTES));

/** The push path, created in `scope` with the construct ids it was first deployed with. */
export function createPushPath(scope: Construct, settings: ResolvedSettings, topic: sns.ITopic): PushPath {
  // SSE-SQS: encrypted at rest, and EventBridge can send to it without a key policy of ours.
  const deadLetterQueue = new sqs.Queue(scope, 'DeadLetterQueue', {
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
  });
  const queue = new sqs.Queue(scope, 'Buffer', {
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    visibilityTimeout: Duration.seconds(
      VISIBILITY_TIMEOUT_FACTOR * settings.timeout.toSeconds() + settings.maxBatchingWindow.toSeconds(),
    ),
    retentionPeriod: Duration.days(4),
    deadLetterQueue: { queue: deadLetterQueue, maxReceiveCount: MAX_RECEIVE_COUNT },
  });
  Validations.of(deadLetterQueue).acknowledge({
    id: 'AwsSolutions-SQS3',
    reason: 'This queue is the dead-letter queue of the buffer; a DLQ of a DLQ would only move the problem.',
  });

  const pattern = buildPushEventPattern({ tagPrefix: settings.tagPrefix, repositories: settings.repositories });
  const rule = new events.Rule(scope, 'PushRule', {
    description: "Successful ECR pushes (never the guard's own protective tags) and deletions the digest guard checks",
    eventPattern: {
      source: [...pattern.source],
      detailType: [...pattern['detail-type']],
      detail: pattern.detail,
    },
  });
  // The target adds a queue policy that lets events.amazonaws.com send only for this rule's ARN.
  rule.addTarget(new targets.SqsQueue(queue));

  const stack = Stack.of(scope);
  const impaired = buildServiceImpairedEventPattern({ account: stack.account, region: stack.region });
  const serviceImpairedRule = new events.Rule(scope, 'ServiceImpairedRule', {
    description:
      'ECS services that cannot start tasks; the digest guard pages if their pinned image is gone or archived',
    eventPattern: {
      source: [...impaired.source],
      detailType: [...impaired['detail-type']],
      account: [...impaired.account],
      region: [...impaired.region],
      detail: impaired.detail,
    },
  });
  serviceImpairedRule.addTarget(new targets.SqsQueue(queue));

  let lifecycleExpiryRule: events.Rule | undefined;
  if (settings.watchLifecycleExpiry) {
    const lifecycle = buildLifecycleExpiryEventPattern({ repositories: settings.repositories });
    lifecycleExpiryRule = new events.Rule(scope, 'LifecycleExpiryRule', {
      description: 'ECR lifecycle actions (CloudTrail PolicyExecutionEvent) the digest guard checks for in-use images',
      eventPattern: {
        source: [...lifecycle.source],
        detailType: [...lifecycle['detail-type']],
        detail: lifecycle.detail,
      },
    });
    // Read-only management events reach only rules in this state; `events.Rule` has no prop for it.
    // See: https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutRule.html (State)
    (lifecycleExpiryRule.node.defaultChild as events.CfnRule).state = 'ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS';
    lifecycleExpiryRule.addTarget(new targets.SqsQueue(queue));
  }

  const push = createGuardFunction(scope, settings, topic, {
    ids: { logGroup: 'LogGroup', role: 'FunctionRole', function: 'PushFunction' },
    roleDescription: 'ECR digest guard push function',
    description: 'Protects in-use ECR digests that a push left without a tag',
    handler: PUSH_HANDLER,
    timeout: settings.timeout,
    environment: { LOOKUP_PUSHERS: String(settings.lookupPushers) },
  });
  push.fn.addEventSource(
    new SqsEventSource(queue, {
      batchSize: settings.batchSize,
      maxBatchingWindow: settings.maxBatchingWindow,
      reportBatchItemFailures: true,
      maxConcurrency: MAX_CONCURRENCY,
    }),
  );
  return { ...push, rule, ...(lifecycleExpiryRule ? { lifecycleExpiryRule } : {}), queue, deadLetterQueue };
}

/**
 * The watch: ECS task state changes of this account and region (default bus) → an encrypted, SSL-only buffer
 * with its dead-letter queue → the watch function, which keeps the in-use index fresh between lists.
 * See: https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs_task_events.html
 */
export function createWatchPath(scope: Construct, settings: ResolvedSettings, topic: sns.ITopic): WatchPath {
  const deadLetterQueue = new sqs.Queue(scope, 'WatchDeadLetterQueue', {
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
  });
  Validations.of(deadLetterQueue).acknowledge({
    id: 'AwsSolutions-SQS3',
    reason: 'This queue is the dead-letter queue of the watch buffer; a DLQ of a DLQ would only move the problem.',
  });
  const queue = new sqs.Queue(scope, 'WatchQueue', {
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    visibilityTimeout: Duration.seconds(
      VISIBILITY_TIMEOUT_FACTOR * WATCH_TIMEOUT.toSeconds() + WATCH_BATCHING_WINDOW.toSeconds(),
    ),
    retentionPeriod: Duration.days(4),
    deadLetterQueue: { queue: deadLetterQueue, maxReceiveCount: MAX_RECEIVE_COUNT },
  });
  // The guard bus's rules for forwarded events select the same (lib/guard-event-bus.ts).
  const patterns = buildWatchEventPatterns();
  const rule = new events.Rule(scope, 'WatchRule', {
    description: 'ECS task and deployment state changes: the digest guard keeps its in-use index from them',
    eventPattern: { source: [...patterns.ecs.source], detailType: [...patterns.ecs['detail-type']] },
  });
  // The target adds a queue policy that lets events.amazonaws.com send only for this rule's ARN.
  rule.addTarget(new targets.SqsQueue(queue));
  // Lambda API calls reach EventBridge only from CloudTrail, so only where a trail logs management events; the watch
  // drops the other calls the eventName prefixes let through (`CreateFunctionUrlConfig…`).
  // See: https://docs.aws.amazon.com/lambda/latest/dg/logging-using-cloudtrail.html
  const lambdaRule = new events.Rule(scope, 'WatchLambdaRule', {
    description: 'Lambda API calls that set the image a function runs: the digest guard reads that function',
    eventPattern: {
      source: [...patterns.lambda.source],
      detailType: [...patterns.lambda['detail-type']],
      ...(patterns.lambda.detail ? { detail: patterns.lambda.detail } : {}),
    },
  });
  lambdaRule.addTarget(new targets.SqsQueue(queue));

  const watch = createGuardFunction(scope, settings, topic, {
    ids: { logGroup: 'WatchLogGroup', role: 'WatchRole', function: 'WatchFunction' },
    roleDescription: 'ECR digest guard watch function',
    // The workload accounts' reader roles trust this role by name too (lib/workload-stack.ts).
    ...(listsOtherAccounts(settings) ? { roleName: guardWatchRoleName(Stack.of(scope).region) } : {}),
    description: 'Keeps the in-use index from ECS and Lambda events; protects a digest seen in use for the first time',
    handler: WATCH_HANDLER,
    timeout: WATCH_TIMEOUT,
    environment: { GUARD_ACCOUNT: Stack.of(scope).account },
  });
  watch.fn.addEventSource(
    new SqsEventSource(queue, {
      batchSize: WATCH_BATCH_SIZE,
      maxBatchingWindow: WATCH_BATCHING_WINDOW,
      reportBatchItemFailures: true,
      maxConcurrency: MAX_CONCURRENCY,
    }),
  );
  return { ...watch, rule, queue, deadLetterQueue };
}

/** A task event costs one index write: seconds, not minutes; the window keeps a scale-out to a few invocations. */
const WATCH_TIMEOUT = Duration.minutes(1);
const WATCH_BATCHING_WINDOW = Duration.seconds(1);
const WATCH_BATCH_SIZE = 100;

/** The scheduled reconcile, created in `scope`. */
export function createReconcilePath(scope: Construct, settings: ResolvedSettings, topic: sns.ITopic): ReconcilePath {
  // Failed scheduled events: from EventBridge when it could not invoke the function, from Lambda
  // when every attempt failed or the event grew too old. SSE-SQS, so neither needs a key policy.
  const deadLetterQueue = new sqs.Queue(scope, 'ReconcileDeadLetterQueue', {
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
  });
  Validations.of(deadLetterQueue).acknowledge({
    id: 'AwsSolutions-SQS3',
    reason:
      'This queue is the dead-letter queue of the scheduled reconcile; a DLQ of a DLQ would only move the problem.',
  });

  const reconcile = createGuardFunction(scope, settings, topic, {
    ids: { logGroup: 'ReconcileLogGroup', role: 'ReconcileRole', function: 'ReconcileFunction' },
    roleDescription: 'ECR digest guard scheduled reconcile function',
    // The workload accounts' reader roles trust this role by name (lib/workload-stack.ts).
    ...(listsOtherAccounts(settings) ? { roleName: guardReconcileRoleName(Stack.of(scope).region) } : {}),
    description: 'Reconciles protective tags with what runs: protects, restores, releases after a grace period',
    handler: RECONCILE_HANDLER,
    timeout: RECONCILE_TIMEOUT,
    // readReconcileHandlerConfig: unset or 0 means never release; written out so the console shows it.
    environment: {
      RELEASE_AFTER_DAYS: String(settings.releaseAfterDays),
      LIFECYCLE_CHECK: settings.lifecycleCheck,
      INSTALL_LIFECYCLE_SHIELD: String(settings.installLifecycleShield),
      // The catch-up lists a workload whose last complete list started longer ago (lambda/handlers/reconcile-config.ts).
      LIST_BOUND_MINUTES: String(settings.listBound.toMinutes()),
    },
    reservedConcurrentExecutions: RECONCILE_RESERVED_CONCURRENCY,
    asyncInvocation: {
      retryAttempts: RECONCILE_RETRY_ATTEMPTS,
      maxEventAge: RECONCILE_MAX_EVENT_AGE,
      onFailure: sendMessageOnlyDestination(deadLetterQueue),
    },
  });

  // A scheduled rule rather than EventBridge Scheduler, which AWS now recommends for new schedules:
  // the rule invokes through the function's resource policy, limited to this rule's ARN, while a
  // schedule needs one more role that may invoke the function; the handler reads the scheduled
  // event's account and time, which a rule passes as is; and cdk-nag has no finding on either.
  // See: https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-run-lambda-schedule.html
  const rule = new events.Rule(scope, 'ReconcileSchedule', {
    description: 'Runs the ECR digest guard reconcile',
    schedule: settings.reconcileSchedule,
  });
  // No input override: the handler needs the scheduled event itself (account, region, time).
  rule.addTarget(reconcileTarget(reconcile.fn, deadLetterQueue));

  // The catch-up: the same function, the same retries and dead-letter queue, told by its input that only overdue
  // workloads are to be listed. Reserved concurrency 1 makes one that fires during a scheduled run wait in Lambda's
  // asynchronous queue (throttled, retried within RECONCILE_MAX_EVENT_AGE) instead of listing beside it.
  const catchUpRule = new events.Rule(scope, 'ReconcileCatchUpSchedule', {
    description: 'Lists again the workloads whose last complete list is older than the bound (ECR digest guard)',
    schedule: CATCH_UP_SCHEDULE,
  });
  catchUpRule.addTarget(
    reconcileTarget(
      reconcile.fn,
      deadLetterQueue,
      // An input transformer: the scheduled event's account, region and time, as the handler reads them, and the marker.
      events.RuleTargetInput.fromObject({
        account: events.EventField.account,
        region: events.EventField.region,
        time: events.EventField.time,
        catchUp: true,
      }),
    ),
  );
  return { ...reconcile, rule, catchUpRule, deadLetterQueue };
}

/** How an EventBridge rule invokes the reconcile: asynchronously, old events dropped to the dead-letter queue. */
function reconcileTarget(
  fn: lambda.IFunction,
  deadLetterQueue: sqs.IQueue,
  event?: events.RuleTargetInput,
): targets.LambdaFunction {
  return new targets.LambdaFunction(fn, {
    maxEventAge: RECONCILE_MAX_EVENT_AGE,
    deadLetterQueue,
    ...(event ? { event } : {}),
  });
}

interface GuardFunctionSpec {
  /** construct ids; the push function keeps the ids it was first deployed with */
  readonly ids: { readonly logGroup: string; readonly role: string; readonly function: string };
  readonly roleDescription: string;
  /** a fixed role name, for a role other accounts' trust policies name; CloudFormation's generated name when absent */
  readonly roleName?: string;
  readonly description: string;
  /** `lambda/handlers/<handler>.ts`, pre-bundled in the package as `handlers/<handler>/` */
  readonly handler: string;
  readonly timeout: Duration;
  /** variables on top of the shared ones */
  readonly environment: Record<string, string>;
  readonly asyncInvocation?: Pick<lambda.FunctionOptions, 'retryAttempts' | 'maxEventAge' | 'onFailure'>;
  /** runs at most this many at once; unreserved when absent */
  readonly reservedConcurrentExecutions?: number;
}

/**
 * One guard function: its own log group, its own role (instead of AWSLambdaBasicExecutionRole: logs only
 * to that log group), and the runtime, architecture, bundling and environment both handlers share.
 */
function createGuardFunction(
  scope: Construct,
  settings: ResolvedSettings,
  topic: sns.ITopic,
  spec: GuardFunctionSpec,
): GuardFunction {
  const logGroup = new logs.LogGroup(scope, spec.ids.logGroup, { retention: settings.logRetention });
  const role = new iam.Role(scope, spec.ids.role, {
    assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    description: spec.roleDescription,
    ...(spec.roleName !== undefined ? { roleName: spec.roleName } : {}),
  });
  logGroup.grantWrite(role);

  const props: lambda.FunctionOptions & { readonly runtime: lambda.Runtime } = {
    description: spec.description,
    runtime: lambda.Runtime.NODEJS_24_X,
    architecture: lambda.Architecture.ARM_64,
    memorySize: settings.memorySize,
    timeout: spec.timeout,
    role,
    logGroup,
    // What lambda/handlers/config.ts (and reconcile-config.ts on top of it) reads; AWS_REGION is the runtime's.
    environment: {
      TOPIC_ARN: topic.topicArn,
      TAG_PREFIX: settings.tagPrefix,
      DRY_RUN: String(settings.dryRun),
      REPOSITORIES: settings.repositories.join(','),
      POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
      POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
      POWERTOOLS_LOG_LEVEL: settings.logLevel,
      NODE_OPTIONS: '--enable-source-maps',
      ...spec.environment,
    },
    ...spec.asyncInvocation,
    ...(spec.reservedConcurrentExecutions !== undefined
      ? { reservedConcurrentExecutions: spec.reservedConcurrentExecutions }
      : {}),
  };
  const code = locateHandlerCode(spec.handler);
  const fn =
    code.kind === 'bundled'
      ? // Installed from the package: the bundle scripts/build.mjs made with the options below.
        new lambda.Function(scope, spec.ids.function, {
          ...props,
          code: lambda.Code.fromAsset(code.directory),
          handler: 'index.handler',
        })
      : new nodejs.NodejsFunction(scope, spec.ids.function, {
          ...props,
          entry: code.entry,
          handler: 'handler',
          // scripts/build.mjs bundles the package's handlers with these same options: change both together.
          bundling: {
            forceDockerBundling: false,
            minify: true,
            sourceMap: true,
            sourcesContent: false,
            metafile: false,
            // Bundle the SDK clients the lockfile pins instead of using whatever the runtime ships.
            bundleAwsSDK: true,
          },
        });
  return { fn, role, logGroup };
}

/**
 * An on-failure destination whose grant is `sqs:SendMessage` on the queue and nothing else: Lambda sends
 * the invocation record (the scheduled event and the error) with the function's execution role, which
 * needs only that action; `SqsDestination` would also grant GetQueueAttributes and GetQueueUrl.
 * See: https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html
 */
function sendMessageOnlyDestination(queue: sqs.IQueue): lambda.IDestination {
  return {
    bind: (_scope, fn) => {
      fn.grantPrincipal.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: 'RecordFailedInvocations',
          actions: ['sqs:SendMessage'],
          resources: [queue.queueArn],
        }),
      );
      return { destination: queue.queueArn };
    },
  };
}
