import * as path from 'path';
import { ArnFormat, Duration, Stack, Token, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { buildLifecycleExpiryEventPattern, buildPushEventPattern } from './event-pattern';
import { ConfigError, sharedSettingsProblems } from './validation';

/** Log levels Powertools for AWS Lambda understands (`POWERTOOLS_LOG_LEVEL`). */
export type DigestGuardLogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';

export interface DigestGuardProps {
  /**
   * Email addresses that receive the guard's alerts and its alarms; each gets an SNS email subscription
   * (the recipient confirms it once).
   * At least one address is required unless `alertTopic` is given or `noAlertSubscription` is true, so a
   * guard is never deployed that tells nobody.
   * @default - none: then `alertTopic` or `noAlertSubscription: true` is required
   */
  readonly alertEmails?: string[];

  /**
   * Say explicitly that the construct should subscribe nobody to the topic it creates, because you subscribe
   * to `topic` yourself (chat, a pager, a queue). Cannot be combined with `alertEmails`.
   * @default false
   */
  readonly noAlertSubscription?: boolean;

  /**
   * An existing topic to publish alerts and alarms to, instead of a topic this construct creates.
   * Its topic policy must allow `cloudwatch.amazonaws.com` `sns:Publish`, and if it is encrypted with a
   * customer managed KMS key, that key's policy must allow it `kms:Decrypt` and `kms:GenerateDataKey*`,
   * or the alarms cannot notify (this construct cannot change either policy of a topic it did not create).
   * @default - a new topic encrypted with a new customer managed KMS key
   */
  readonly alertTopic?: sns.ITopic;

  /**
   * Prefix of the protective tags: the guard tags a digest `<tagPrefix>-sha256-<64 hex>`. Must fit the OCI
   * tag grammar `[a-zA-Z0-9_][a-zA-Z0-9._-]*` and be at most 56 characters so the whole tag stays within 128.
   * @default 'digest-guard'
   */
  readonly tagPrefix?: string;

  /**
   * Names of the ECR repositories to guard, in this account and region. The function may change images
   * only in these repositories.
   * @default - every repository of the account and region
   */
  readonly repositories?: string[];

  /**
   * Detect and alert, but add no protective tag.
   * @default false
   */
  readonly dryRun?: boolean;

  /**
   * Most push events handed to one invocation; one invocation takes one inventory of what is in use,
   * so larger batches mean fewer inventories. Above 10, `maxBatchingWindow` must be at least one second.
   * Lambda also caps a batch at its 6 MB invocation payload.
   * See: https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html
   * @default 10000 - the window, not the size, closes a batch: in the burst benchmark (1,000 pushes in a
   * minute) batches of 100 took 10 inventories, up to 7 a minute; batches closed by the 30 s window took 2
   */
  readonly batchSize?: number;

  /**
   * How long Lambda gathers push events before it invokes the function (0 to 5 minutes). Two pipelines
   * pushing one tag seconds apart then land in one batch.
   * @default Duration.seconds(30)
   */
  readonly maxBatchingWindow?: Duration;

  /**
   * Retention of the function's log group.
   * @default logs.RetentionDays.THREE_MONTHS
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * Timeout of the function (1 second to 15 minutes). The buffer queue's visibility timeout is derived
   * from it.
   * @default Duration.minutes(5)
   */
  readonly timeout?: Duration;

  /**
   * Memory of the function, in MiB (128 to 10240).
   * @default 512
   */
  readonly memorySize?: number;

  /**
   * Log level of the function.
   * @default 'INFO'
   */
  readonly logLevel?: DigestGuardLogLevel;

  /**
   * Alarm when the oldest push event in the buffer queue is older than this (1 minute to 1 day): the
   * guard is falling behind, and lifecycle rules may expire what it has not looked at yet.
   * @default Duration.minutes(15)
   */
  readonly maxEventAge?: Duration;

  /**
   * Run the scheduled reconcile: a second function that, on a schedule, protects every in-use digest the
   * push path may have missed (dead-lettered events, digests untagged before the guard was deployed),
   * restores archived in-use images and, with `releaseAfterDays`, releases protections nobody needs.
   * @default true
   */
  readonly reconcile?: boolean;

  /**
   * When the reconcile runs. A rate must lie between 15 minutes (the reconcile's timeout, so runs do not
   * overlap) and 12 hours (lifecycle rules expire what they select within 24 hours, so at least two runs
   * fall into any such window); a cron expression must never fire less than 15 minutes apart either, and
   * must fire again after the synth (a year already past is refused). Only with `reconcile`.
   * See: https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-scheduled-rule-pattern.html
   * @default events.Schedule.rate(Duration.hours(6)) - four runs a day: up to three of them, with their
   * retries, fall into each 24-hour expiry window, at a quarter of the inventories an hourly run would take
   */
  readonly reconcileSchedule?: events.Schedule;

  /**
   * Release a protective tag once its digest is not in use and was not pulled for this many days (whole
   * days, 0 to 3650; 0 = never). Releasing lets lifecycle rules delete the image again; only with
   * `reconcile`. The reconcile role may call `ecr:BatchDeleteImage` only when this is above 0.
   * @default 0 - never release: a protection left in place costs storage, one released too early may
   * cost a rollback
   */
  readonly releaseAfterDays?: number;

  /**
   * How the reconcile looks for lifecycle rules that can still expire or archive a protected in-use image
   * (a protective tag only beats rules that select untagged images): `evaluate` reads each in-use
   * repository's policy (`ecr:GetLifecyclePolicy`); `preview` also runs ECR's lifecycle policy preview where
   * the evaluation finds a risk (`ecr:StartLifecyclePolicyPreview`, `ecr:GetLifecyclePolicyPreview`);
   * `off` skips it. Only with `reconcile`.
   * @default 'evaluate'
   */
  readonly lifecycleCheck?: DigestGuardLifecycleCheck;

  /**
   * Opt-in: where the lifecycle check finds a risk, add a top-priority rule that keeps the protective tags
   * to the repository's lifecycle policy, keeping every existing rule and their order
   * (`ecr:PutLifecyclePolicy`, granted only then). Never in dry run; each install is alerted.
   * @default false
   */
  readonly installLifecycleShield?: boolean;

  /**
   * Opt-in: also page when a lifecycle rule expires (or archives) an in-use image, from the
   * `PolicyExecutionEvent` CloudTrail logs for each lifecycle action (one per up to 10 images). A second
   * rule, in state `ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS` (it is a read-only management event,
   * which a plain ENABLED rule does not receive), sends it to the same queue.
   * Needs a CloudTrail trail in this account and Region that logs management events, read events included
   * (the EventBridge guide requires a trail for CloudTrail-delivered API call events; *inference* that
   * service events need one too). A rule in this state also receives, and is billed for, nothing else: its
   * pattern selects only ECR's `PolicyExecutionEvent`.
   * See: https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-service-event-cloudtrail-management.html
   * See: https://docs.aws.amazon.com/AmazonECR/latest/userguide/logging-using-cloudtrail.html
   * @default false
   */
  readonly watchLifecycleExpiry?: boolean;

  /**
   * Opt-in: in an alert that is sent anyway, name who pushed the tags that moved, from CloudTrail event
   * history (`LookupEvents` for `PutImage` around the pushes: at most 3 requests, never retried, and the
   * alert goes out without names when CloudTrail throttles or fails). Off by default because
   * `cloudtrail:LookupEvents` cannot be limited to a resource: the push role could then read every
   * management event of the account and Region; and because event history lags the push by minutes, so
   * a lookup made as the alert goes out often finds nothing yet (the alert then gives the command).
   * See: https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_LookupEvents.html
   * @default false
   */
  readonly lookupPushers?: boolean;
}

/** How the reconcile checks lifecycle policies (see `lifecycleCheck`). */
export type DigestGuardLifecycleCheck = 'off' | 'evaluate' | 'preview';

/** The alarms the construct creates; each notifies the alert topic. */
export interface DigestGuardAlarms {
  /** Push events that failed `maxReceiveCount` times and now wait in the dead-letter queue. */
  readonly deadLetterQueueNotEmpty: cloudwatch.Alarm;
  /** Invocations that failed as a whole. */
  readonly functionErrors: cloudwatch.Alarm;
  /** Invocations Lambda throttled. */
  readonly functionThrottles: cloudwatch.Alarm;
  /** The buffer queue's oldest message is older than `maxEventAge`. */
  readonly eventsWaitingTooLong: cloudwatch.Alarm;
  /**
   * Alerts that SNS refused after the SDK's retries (the protection stands; the alert text is in the logs).
   * It notifies the same topic, so it may not reach email while SNS fails: it also shows in the console.
   */
  readonly alertPublishFailures: cloudwatch.Alarm;
  /** Reconcile invocations that failed as a whole (each failed attempt counts); undefined without `reconcile`. */
  readonly reconcileErrors?: cloudwatch.Alarm;
  /** Scheduled reconciles that failed every attempt, or were never delivered; undefined without `reconcile`. */
  readonly reconcileDeadLetterQueueNotEmpty?: cloudwatch.Alarm;
}

/** Default prefix of the protective tags. */
export const DEFAULT_TAG_PREFIX = 'digest-guard';

/** Receives before SQS moves a push event to the dead-letter queue. */
export const MAX_RECEIVE_COUNT = 5;

/** Concurrent invocations the event source may start: a burst of pushes must not fan out into many
 * parallel inventories against the account's shared ECS request budget. */
export const MAX_CONCURRENCY = 2;

/**
 * The queue's visibility timeout must be at least six times the function timeout, so Lambda can retry a
 * batch when the function was throttled; the batching window is added because messages are already
 * in flight while Lambda gathers a batch.
 * See: https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html
 */
export const VISIBILITY_TIMEOUT_FACTOR = 6;

/** The handlers, next to this file's package root (`lambda/handlers/*.ts`). */
const PUSH_HANDLER_ENTRY = path.join(__dirname, '..', 'lambda', 'handlers', 'push.ts');
const RECONCILE_HANDLER_ENTRY = path.join(__dirname, '..', 'lambda', 'handlers', 'reconcile.ts');

/** How often the reconcile runs unless `reconcileSchedule` says otherwise. */
export const DEFAULT_RECONCILE_SCHEDULE = events.Schedule.rate(Duration.hours(6));
/** The Powertools service name and metrics namespace of both functions. */
export const SERVICE_NAME = 'ecr-digest-guard';
export const METRICS_NAMESPACE = 'EcrDigestGuard';
/** Push events per invocation, at most (see `batchSize`). */
export const DEFAULT_BATCH_SIZE = 10_000;
/** How long the event source gathers push events (see `maxBatchingWindow`). */
export const DEFAULT_MAX_BATCHING_WINDOW = Duration.seconds(30);

/** The reconcile visits every repository in use; the handler keeps 60 s in reserve and checkpoints. */
export const RECONCILE_TIMEOUT = Duration.minutes(15);

/**
 * Lambda retries a failed asynchronous invocation at most twice (1 and 2 minutes later); the handler
 * throws only when nothing could be done (no inventory), which a retry minutes later may well fix.
 * See: https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-configuring.html
 */
export const RECONCILE_RETRY_ATTEMPTS = 2;

/**
 * How long a scheduled event may wait for its attempts: three 15-minute attempts plus the 3 minutes of
 * back-off fit in 48 minutes. Beyond an hour the event goes to the dead-letter queue (and alarms) instead
 * of running late; the next scheduled run is the better retry then. Applies to EventBridge's delivery
 * to Lambda and to Lambda's asynchronous queue alike.
 * See: https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-retry-policy.html
 */
export const RECONCILE_MAX_EVENT_AGE = Duration.hours(1);

/**
 * One reconcile at a time: two runs would take two inventories against the shared ECS request budget, and a
 * release deciding on one run's picture while the other protects is a race nobody needs. A scheduled event
 * that arrives while a run is still going is throttled; EventBridge invokes asynchronously, so the invoke
 * itself succeeds and Lambda keeps the event in its queue and retries the throttle with back-off (1 second
 * up to 5 minutes; up to 6 hours by default, here `RECONCILE_MAX_EVENT_AGE`), so it runs once the other
 * ends, or after an hour goes to the dead-letter queue, which alarms.
 * See: https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html
 * Reserving takes from the account's unreserved concurrency, of which Lambda keeps 100 for other functions:
 * in an account whose limit leaves no room (new accounts can start low), the deploy fails with "… decreases
 * account's UnreservedConcurrentExecution below its minimum value"; ask for a higher limit then.
 * See: https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html
 */
export const RECONCILE_RESERVED_CONCURRENCY = 1;

/**
 * Keeps image digests that workloads still run from being deleted by ECR lifecycle policies: a push that
 * moves a tag away from an in-use digest makes the guard tag that digest and send an alert; a scheduled
 * reconcile catches what the push path missed.
 *
 * ECR push ─► EventBridge rule ─► SQS buffer (+ DLQ) ─► push function ─► ECR tag, SNS alert
 * schedule ─► EventBridge rule ─► reconcile function (async, retried; failures ─► DLQ) ─► ECR, SNS alert
 */
export class DigestGuard extends Construct {
  /** Selects successful pushes (of the repositories in scope), minus the guard's own tags, and deletions. */
  public readonly rule: events.Rule;
  /** Selects ECR lifecycle `PolicyExecutionEvent`s delivered by CloudTrail; undefined without `watchLifecycleExpiry`. */
  public readonly lifecycleExpiryRule?: events.Rule;
  /** Buffers push events between EventBridge and the function, so bursts become batches. */
  public readonly queue: sqs.Queue;
  /** Push events the function failed on `MAX_RECEIVE_COUNT` times. */
  public readonly deadLetterQueue: sqs.Queue;
  /** The push handler. */
  public readonly function: nodejs.NodejsFunction;
  /** Where alerts and alarms go. */
  public readonly topic: sns.ITopic;
  /** The key of the topic, when this construct created the topic. */
  public readonly topicKey?: kms.Key;
  /** The function's log group. */
  public readonly logGroup: logs.LogGroup;
  /** The alarms, all notifying `topic`. */
  public readonly alarms: DigestGuardAlarms;
  /** The prefix of the protective tags, after defaults. */
  public readonly tagPrefix: string;
  /** The scheduled reconcile handler; undefined without `reconcile`. */
  public readonly reconcileFunction?: nodejs.NodejsFunction;
  /** Invokes `reconcileFunction` on `reconcileSchedule`; undefined without `reconcile`. */
  public readonly reconcileRule?: events.Rule;
  /** Scheduled events that failed every attempt or could not be delivered; undefined without `reconcile`. */
  public readonly reconcileDeadLetterQueue?: sqs.Queue;
  /** The reconcile function's log group; undefined without `reconcile`. */
  public readonly reconcileLogGroup?: logs.LogGroup;

  constructor(scope: Construct, id: string, props: DigestGuardProps = {}) {
    super(scope, id);
    const settings = validateProps(props);
    this.tagPrefix = settings.tagPrefix;

    // --- Alerts -----------------------------------------------------------------------------------
    if (props.alertTopic) {
      this.topic = props.alertTopic;
    } else {
      this.topicKey = new kms.Key(this, 'TopicKey', {
        description: 'Encrypts the ECR digest guard alert topic',
        enableKeyRotation: true,
      });
      // CloudWatch alarms publish to an encrypted topic only if the key lets CloudWatch use it; the
      // AWS managed key alias/aws/sns cannot be changed to allow that, hence a customer managed key.
      // See: https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services
      // See: https://repost.aws/knowledge-center/cloudwatch-configure-alarm-sns
      // Scoped to this account's alarms so CloudWatch cannot be made to use the key (or, below, publish)
      // on behalf of another account's alarm (confused deputy).
      // See: https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services
      this.topicKey.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: 'AllowCloudWatchAlarmsToUseTheKey',
          principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
          actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          resources: ['*'],
          conditions: this.fromThisAccountsAlarms(),
        }),
      );
      this.topic = new sns.Topic(this, 'AlertTopic', {
        displayName: 'ECR digest guard',
        masterKey: this.topicKey,
        enforceSSL: true,
      });
      // The topic policy CloudFormation attaches (here for enforceSSL) replaces the default one SNS creates,
      // so without this Allow every alarm fails with "… is not authorized to perform: SNS:Publish … because
      // no resource-based policy allows the SNS:Publish action".
      // See: https://repost.aws/knowledge-center/cloudwatch-receive-sns-for-alarm-trigger
      // See: https://github.com/aws-solutions/automated-security-response-on-aws/issues/43
      this.topic.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: 'AllowCloudWatchAlarmsToPublish',
          principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
          actions: ['sns:Publish'],
          resources: [this.topic.topicArn],
          conditions: this.fromThisAccountsAlarms(),
        }),
      );
    }
    for (const address of settings.alertEmails) {
      this.topic.addSubscription(new subscriptions.EmailSubscription(address));
    }

    // --- Buffer -----------------------------------------------------------------------------------
    // SSE-SQS: encrypted at rest, and EventBridge can send to it without a key policy of ours.
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.queue = new sqs.Queue(this, 'Buffer', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: Duration.seconds(
        VISIBILITY_TIMEOUT_FACTOR * settings.timeout.toSeconds() + settings.maxBatchingWindow.toSeconds(),
      ),
      retentionPeriod: Duration.days(4),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: MAX_RECEIVE_COUNT },
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is the dead-letter queue of the buffer; a DLQ of a DLQ would only move the problem.',
    });

    // --- Trigger ----------------------------------------------------------------------------------
    const pattern = buildPushEventPattern({ tagPrefix: settings.tagPrefix, repositories: settings.repositories });
    this.rule = new events.Rule(this, 'PushRule', {
      description: 'Successful ECR pushes (never the guard\'s own protective tags) and deletions the digest guard checks',
      eventPattern: {
        source: [...pattern.source],
        detailType: [...pattern['detail-type']],
        detail: pattern.detail,
      },
    });
    // The target adds a queue policy that lets events.amazonaws.com send only for this rule's ARN.
    this.rule.addTarget(new targets.SqsQueue(this.queue));

    if (settings.watchLifecycleExpiry) {
      const lifecycle = buildLifecycleExpiryEventPattern({ repositories: settings.repositories });
      this.lifecycleExpiryRule = new events.Rule(this, 'LifecycleExpiryRule', {
        description: 'ECR lifecycle actions (CloudTrail PolicyExecutionEvent) the digest guard checks for in-use images',
        eventPattern: { source: [...lifecycle.source], detailType: [...lifecycle['detail-type']], detail: lifecycle.detail },
      });
      // Read-only management events reach only rules in this state; `events.Rule` has no prop for it.
      // See: https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutRule.html (State)
      (this.lifecycleExpiryRule.node.defaultChild as events.CfnRule).state = 'ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS';
      this.lifecycleExpiryRule.addTarget(new targets.SqsQueue(this.queue));
    }

    // --- Push function ----------------------------------------------------------------------------
    const push = this.createGuardFunction(settings, {
      ids: { logGroup: 'LogGroup', role: 'FunctionRole', function: 'PushFunction' },
      roleDescription: 'ECR digest guard push function',
      description: 'Protects in-use ECR digests that a push left without a tag',
      entry: PUSH_HANDLER_ENTRY,
      timeout: settings.timeout,
      environment: { LOOKUP_PUSHERS: String(settings.lookupPushers) },
    });
    this.logGroup = push.logGroup;
    this.function = push.fn;
    const role = push.role;

    this.function.addEventSource(
      new SqsEventSource(this.queue, {
        batchSize: settings.batchSize,
        maxBatchingWindow: settings.maxBatchingWindow,
        reportBatchItemFailures: true,
        maxConcurrency: MAX_CONCURRENCY,
      }),
    );

    this.grantProtect(role, settings.repositories);
    this.grantInventoryReads(role);
    this.topic.grantPublish(role);
    if (settings.lookupPushers) {
      // LookupEvents has no resource type in the Service Authorization Reference: `*` is the only resource.
      // See: https://docs.aws.amazon.com/service-authorization/latest/reference/list_awscloudtrail.html
      role.addToPrincipalPolicy(new iam.PolicyStatement({ sid: 'LookUpWhoPushed', actions: ['cloudtrail:LookupEvents'], resources: ['*'] }));
    }
    this.acknowledgeWildcards(role, settings.repositories.length === 0, settings.lookupPushers);

    // --- Scheduled reconcile ----------------------------------------------------------------------
    if (settings.reconcile) {
      // Failed scheduled events: from EventBridge when it could not invoke the function, from Lambda
      // when every attempt failed or the event grew too old. SSE-SQS, so neither needs a key policy.
      const reconcileDlq = new sqs.Queue(this, 'ReconcileDeadLetterQueue', {
        encryption: sqs.QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        retentionPeriod: Duration.days(14),
      });
      Validations.of(reconcileDlq).acknowledge({
        id: 'AwsSolutions-SQS3',
        reason: 'This queue is the dead-letter queue of the scheduled reconcile; a DLQ of a DLQ would only move the problem.',
      });

      const reconcile = this.createGuardFunction(settings, {
        ids: { logGroup: 'ReconcileLogGroup', role: 'ReconcileRole', function: 'ReconcileFunction' },
        roleDescription: 'ECR digest guard scheduled reconcile function',
        description: 'Reconciles protective tags with what runs: protects, restores, releases after a grace period',
        entry: RECONCILE_HANDLER_ENTRY,
        timeout: RECONCILE_TIMEOUT,
        // readReconcileHandlerConfig: unset or 0 means never release; written out so the console shows it.
        environment: {
          RELEASE_AFTER_DAYS: String(settings.releaseAfterDays),
          LIFECYCLE_CHECK: settings.lifecycleCheck,
          INSTALL_LIFECYCLE_SHIELD: String(settings.installLifecycleShield),
        },
        reservedConcurrentExecutions: RECONCILE_RESERVED_CONCURRENCY,
        asyncInvocation: {
          retryAttempts: RECONCILE_RETRY_ATTEMPTS,
          maxEventAge: RECONCILE_MAX_EVENT_AGE,
          onFailure: sendMessageOnlyDestination(reconcileDlq),
        },
      });

      // A scheduled rule rather than EventBridge Scheduler, which AWS now recommends for new schedules:
      // the rule invokes through the function's resource policy, limited to this rule's ARN, while a
      // schedule needs one more role that may invoke the function; the handler reads the scheduled
      // event's account and time, which a rule passes as is; and cdk-nag has no finding on either.
      // See: https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-run-lambda-schedule.html
      const reconcileRule = new events.Rule(this, 'ReconcileSchedule', {
        description: 'Runs the ECR digest guard reconcile',
        schedule: settings.reconcileSchedule,
      });
      // No input override: the handler needs the scheduled event itself (account, region, time).
      reconcileRule.addTarget(
        new targets.LambdaFunction(reconcile.fn, {
          maxEventAge: RECONCILE_MAX_EVENT_AGE,
          deadLetterQueue: reconcileDlq,
        }),
      );

      this.grantProtect(reconcile.role, settings.repositories);
      this.grantReconcileChanges(reconcile.role, settings.repositories, settings.releaseAfterDays > 0);
      this.grantLifecycleCheck(reconcile.role, settings);
      this.grantInventoryReads(reconcile.role);
      this.topic.grantPublish(reconcile.role);
      this.acknowledgeWildcards(reconcile.role, settings.repositories.length === 0);

      this.reconcileFunction = reconcile.fn;
      this.reconcileLogGroup = reconcile.logGroup;
      this.reconcileRule = reconcileRule;
      this.reconcileDeadLetterQueue = reconcileDlq;
    }

    // --- Alarms -----------------------------------------------------------------------------------
    const notify = new cloudwatchActions.SnsAction(this.topic);
    const alarm = (alarmId: string, alarmProps: cloudwatch.AlarmProps): cloudwatch.Alarm => {
      const created = new cloudwatch.Alarm(this, alarmId, alarmProps);
      created.addAlarmAction(notify);
      return created;
    };
    // A dead-letter queue holds work the guard could not do: one record is one alarm.
    const queueNotEmpty = (alarmId: string, queue: sqs.IQueue, alarmDescription: string): cloudwatch.Alarm =>
      alarm(alarmId, {
        alarmDescription,
        metric: queue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: cloudwatch.Stats.MAXIMUM }),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    let reconcileAlarms: Pick<DigestGuardAlarms, 'reconcileErrors' | 'reconcileDeadLetterQueueNotEmpty'> = {};
    if (this.reconcileFunction && this.reconcileDeadLetterQueue) {
      reconcileAlarms = {
        reconcileErrors: alarm('ReconcileErrorsAlarm', {
          alarmDescription:
            'ECR digest guard: the scheduled reconcile failed as a whole (no inventory); Lambda retries it twice, then it is dead-lettered. Check the reconcile function logs.',
          metric: this.reconcileFunction.metricErrors({ period: Duration.minutes(5), statistic: cloudwatch.Stats.SUM }),
          threshold: 1,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          evaluationPeriods: 1,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        }),
        reconcileDeadLetterQueueNotEmpty: queueNotEmpty(
          'ReconcileDeadLetterQueueAlarm',
          this.reconcileDeadLetterQueue,
          'ECR digest guard: a scheduled reconcile failed every attempt or could not be delivered; in-use digests the push path missed may be unprotected until a run succeeds. Check the reconcile function logs and the dead-letter records.',
        ),
      };
    }
    this.alarms = {
      ...reconcileAlarms,
      deadLetterQueueNotEmpty: queueNotEmpty(
        'DeadLetterQueueAlarm',
        this.deadLetterQueue,
        'ECR digest guard: push events failed repeatedly and wait in the dead-letter queue. Digests they name may be unprotected; check the function logs, fix, then redrive.',
      ),
      functionErrors: alarm('FunctionErrorsAlarm', {
        alarmDescription: 'ECR digest guard: the push function failed; events will be retried, then dead-lettered.',
        metric: this.function.metricErrors({ period: Duration.minutes(5), statistic: cloudwatch.Stats.SUM }),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
      functionThrottles: alarm('FunctionThrottlesAlarm', {
        alarmDescription: 'ECR digest guard: Lambda throttled the push function; check the account concurrency.',
        metric: this.function.metricThrottles({ period: Duration.minutes(5), statistic: cloudwatch.Stats.SUM }),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
      eventsWaitingTooLong: alarm('EventsWaitingTooLongAlarm', {
        alarmDescription: `ECR digest guard: push events have waited more than ${settings.maxEventAge.toHumanString()} in the buffer; the guard is falling behind.`,
        metric: this.queue.metricApproximateAgeOfOldestMessage({
          period: Duration.minutes(1),
          statistic: cloudwatch.Stats.MAXIMUM,
        }),
        threshold: settings.maxEventAge.toSeconds(),
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
      alertPublishFailures: alarm('AlertPublishFailuresAlarm', {
        alarmDescription:
          'ECR digest guard: SNS refused an alert after retries. What the guard did stands; the alert text is in the function logs (search "could not publish an alert"). Check sns:Publish and the topic key policy.',
        // Powertools Metrics: the namespace and service the functions are given, `service` as the dimension.
        metric: new cloudwatch.Metric({
          namespace: METRICS_NAMESPACE,
          metricName: 'AlertPublishFailures',
          dimensionsMap: { service: SERVICE_NAME },
          period: Duration.minutes(5),
          statistic: cloudwatch.Stats.SUM,
        }),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    };
  }

  /**
   * One guard function: its own log group, its own role (instead of AWSLambdaBasicExecutionRole: logs only
   * to that log group), and the runtime, architecture, bundling and environment both handlers share.
   */
  private createGuardFunction(settings: ResolvedSettings, spec: GuardFunctionSpec): GuardFunction {
    const logGroup = new logs.LogGroup(this, spec.ids.logGroup, { retention: settings.logRetention });
    const role = new iam.Role(this, spec.ids.role, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: spec.roleDescription,
    });
    logGroup.grantWrite(role);

    const fn = new nodejs.NodejsFunction(this, spec.ids.function, {
      description: spec.description,
      entry: spec.entry,
      handler: 'handler',
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: settings.memorySize,
      timeout: spec.timeout,
      role,
      logGroup,
      // What lambda/handlers/config.ts (and reconcile-config.ts on top of it) reads; AWS_REGION is the runtime's.
      environment: {
        TOPIC_ARN: this.topic.topicArn,
        TAG_PREFIX: settings.tagPrefix,
        DRY_RUN: String(settings.dryRun),
        REPOSITORIES: settings.repositories.join(','),
        POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        POWERTOOLS_LOG_LEVEL: settings.logLevel,
        NODE_OPTIONS: '--enable-source-maps',
        ...spec.environment,
      },
      bundling: {
        forceDockerBundling: false,
        minify: true,
        sourceMap: true,
        sourcesContent: false,
        metafile: false,
        // Bundle the SDK clients the lockfile pins instead of using whatever the runtime ships.
        bundleAwsSDK: true,
      },
      ...spec.asyncInvocation,
      ...(spec.reservedConcurrentExecutions !== undefined
        ? { reservedConcurrentExecutions: spec.reservedConcurrentExecutions }
        : {}),
    });
    return { fn, role, logGroup };
  }

  /** Conditions that hold only for requests CloudWatch makes on behalf of an alarm of this account and region. */
  private fromThisAccountsAlarms(): Record<string, Record<string, string>> {
    const stack = Stack.of(this);
    return {
      StringEquals: { 'aws:SourceAccount': stack.account },
      ArnLike: {
        'aws:SourceArn': stack.formatArn({ service: 'cloudwatch', resource: 'alarm', resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME }),
      },
    };
  }

  /** Repository ARNs in scope: the named ones, or `repository/*` of this account and region. */
  private repositoryArns(repositories: readonly string[]): string[] {
    const stack = Stack.of(this);
    return (repositories.length === 0 ? ['*'] : repositories).map((name) =>
      stack.formatArn({ service: 'ecr', resource: 'repository', resourceName: name }),
    );
  }

  /**
   * ECR: read and re-put manifests, and restore archived in-use images (UpdateImageStorageClass), only in
   * the repositories in scope: the protect step both functions run.
   * Resource scoping follows the Service Authorization Reference; `*` only where an action has no
   * resource type there.
   * See: https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonelasticcontainerregistry.html
   */
  private grantProtect(role: iam.Role, repositories: readonly string[]): void {
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ProtectDigestsInScope',
        actions: ['ecr:BatchGetImage', 'ecr:PutImage', 'ecr:DescribeImages'],
        resources: this.repositoryArns(repositories),
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'RestoreArchivedImagesInScope',
        actions: ['ecr:UpdateImageStorageClass'],
        resources: this.repositoryArns(repositories),
      }),
    );
  }

  /**
   * What only the reconcile changes, on the repository resource type as the reference lists for each:
   * with release on, removing a protective tag
   * (BatchDeleteImage, by tag only) and, when no repositories are named, listing the registry's
   * repositories (DescribeRepositories), because release must also visit repositories nobody uses any
   * more. DescribeRepositories without names returns the repositories the caller may describe, so
   * `repository/*` of this account and region is enough; the AWS CDK's own auto-delete-images provider
   * grants it the same way.
   * See: https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonelasticcontainerregistry.html
   * See: https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_DescribeRepositories.html
   */
  private grantReconcileChanges(role: iam.Role, repositories: readonly string[], release: boolean): void {
    if (!release) return;
    const inScope = this.repositoryArns(repositories);
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ReleaseProtectiveTagsInScope',
        actions: ['ecr:BatchDeleteImage'],
        resources: inScope,
      }),
    );
    if (repositories.length === 0) {
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: 'ListRepositoriesToRelease',
          actions: ['ecr:DescribeRepositories'],
          resources: inScope,
        }),
      );
    }
  }

  /**
   * The lifecycle check, on the repositories in scope: read the policy; with `preview`, run ECR's preview
   * of it; with the opt-in shield, put the policy with the shield rule added.
   * See: https://docs.aws.amazon.com/AmazonECR/latest/userguide/LifecyclePolicies.html
   */
  private grantLifecycleCheck(role: iam.Role, settings: ResolvedSettings): void {
    if (settings.lifecycleCheck === 'off') return;
    const actions = ['ecr:GetLifecyclePolicy'];
    if (settings.lifecycleCheck === 'preview') actions.push('ecr:StartLifecyclePolicyPreview', 'ecr:GetLifecyclePolicyPreview');
    role.addToPrincipalPolicy(new iam.PolicyStatement({ sid: 'CheckLifecyclePoliciesInScope', actions, resources: this.repositoryArns(settings.repositories) }));
    if (!settings.installLifecycleShield) return;
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({ sid: 'InstallLifecycleShieldInScope', actions: ['ecr:PutLifecyclePolicy'], resources: this.repositoryArns(settings.repositories) }),
    );
  }

  /**
   * ECS and Lambda: read what runs, for the in-use inventory both functions take.
   * See: https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonelasticcontainerservice.html
   * See: https://docs.aws.amazon.com/service-authorization/latest/reference/list_awslambda.html
   */
  private grantInventoryReads(role: iam.Role): void {
    const stack = Stack.of(this);
    const ecsArn = (resource: string): string =>
      stack.formatArn({ service: 'ecs', resource, resourceName: '*' });
    // Actions the reference lists without a resource type, so `*` is the only resource that works:
    // ListClusters, ListServices (condition key ecs:cluster only), DescribeTaskDefinition.
    // ListTasks names container-instance, but Fargate tasks have no container instance and AWS's own
    // examples grant it on `*` narrowed by ecs:cluster; a wrong guess here would blind the inventory.
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ListWhatRunsInEcs',
        actions: ['ecs:ListClusters', 'ecs:ListServices', 'ecs:ListTasks', 'ecs:DescribeTaskDefinition'],
        resources: ['*'],
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'DescribeWhatRunsInEcs',
        actions: [
          'ecs:DescribeServices',
          'ecs:DescribeTasks',
          'ecs:DescribeServiceRevisions',
          'ecs:DescribeServiceDeployments',
          'ecs:ListServiceDeployments',
        ],
        resources: [
          ecsArn('service'),
          ecsArn('task'),
          ecsArn('service-revision'),
          ecsArn('service-deployment'),
        ],
      }),
    );
    // Lambda functions packaged as images pin a digest too (GetFunction → Code.ResolvedImageUri).
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ListImageFunctions',
        actions: ['lambda:ListFunctions'],
        resources: ['*'],
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ReadImageFunctions',
        // GetFunction → Code.ResolvedImageUri; ListAliases → the published versions aliases route to.
        actions: ['lambda:GetFunction', 'lambda:ListAliases'],
        resources: [stack.formatArn({ service: 'lambda', resource: 'function', resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME })],
      }),
    );
  }

  /**
   * cdk-nag names a wildcard finding after the resource as synthesized: pseudo parameters that are still
   * tokens appear as `<AWS::Region>`, concrete values (a stack with an explicit env) as themselves.
   */
  private acknowledgeWildcards(role: iam.Role, allRepositories: boolean, lookupPushers = false): void {
    const stack = Stack.of(this);
    const shown = (value: string, pseudo: string): string => (Token.isUnresolved(value) ? `<${pseudo}>` : value);
    const arnStart = (service: string): string =>
      `arn:${shown(stack.partition, 'AWS::Partition')}:${service}:${shown(stack.region, 'AWS::Region')}:` +
      `${shown(stack.account, 'AWS::AccountId')}:`;
    const acknowledge = (finding: string, reason: string): void =>
      Validations.of(role).acknowledge({ id: `AwsSolutions-IAM5[${finding}]`, reason });
    const ecs = (resource: string): string => `Resource::${arnStart('ecs')}${resource}/*`;

    if (allRepositories) {
      acknowledge(
        `Resource::${arnStart('ecr')}repository/*`,
        'No repositories were named, so every repository of this account and region is in scope by design; actions stay limited to reading and re-putting manifests, plus for the reconcile restoring archived images and, only with release on, removing protective tags by tag and listing repositories.',
      );
    }
    acknowledge(
      'Resource::*',
      'ecs:ListClusters, ecs:ListServices, ecs:DescribeTaskDefinition and lambda:ListFunctions have no resource type in the Service Authorization Reference; ecs:ListTasks must see Fargate tasks, which have no container instance. All are read-only.' +
        (lookupPushers
          ? ' cloudtrail:LookupEvents (opt-in lookupPushers) has no resource type either; it reads event history to name who pushed a tag, at most 3 requests per alert.'
          : ''),
    );
    acknowledge(
      ecs('service'),
      'The inventory must read every ECS service of the account (DescribeServices, revisions, deployments); read-only.',
    );
    acknowledge(ecs('task'), 'The inventory must read every running ECS task of the account (DescribeTasks); read-only.');
    acknowledge(
      ecs('service-revision'),
      'The current revisions of every service hold the pinned digests (DescribeServiceRevisions); read-only.',
    );
    acknowledge(
      ecs('service-deployment'),
      'In-progress deployments name what a rollback relaunches (DescribeServiceDeployments); read-only.',
    );
    acknowledge(
      `Resource::${arnStart('lambda')}function:*`,
      'Functions packaged as images pin a digest; the inventory reads every function (GetFunction); read-only.',
    );
    acknowledge(
      'Action::kms:GenerateDataKey*',
      'Publishing to the KMS-encrypted alert topic needs data keys (the grant sns.Topic.grantPublish makes); the resource is the topic key only.',
    );
  }
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
        new iam.PolicyStatement({ sid: 'RecordFailedInvocations', actions: ['sqs:SendMessage'], resources: [queue.queueArn] }),
      );
      return { destination: queue.queueArn };
    },
  };
}

interface GuardFunctionSpec {
  /** construct ids; the push function keeps the ids it was first deployed with */
  readonly ids: { readonly logGroup: string; readonly role: string; readonly function: string };
  readonly roleDescription: string;
  readonly description: string;
  readonly entry: string;
  readonly timeout: Duration;
  /** variables on top of the shared ones */
  readonly environment: Record<string, string>;
  readonly asyncInvocation?: Pick<lambda.FunctionOptions, 'retryAttempts' | 'maxEventAge' | 'onFailure'>;
  /** runs at most this many at once; unreserved when absent */
  readonly reservedConcurrentExecutions?: number;
}

interface GuardFunction {
  readonly fn: nodejs.NodejsFunction;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;
}

interface ResolvedSettings {
  readonly alertEmails: readonly string[];
  readonly tagPrefix: string;
  readonly repositories: readonly string[];
  readonly dryRun: boolean;
  readonly batchSize: number;
  readonly maxBatchingWindow: Duration;
  readonly logRetention: logs.RetentionDays;
  readonly timeout: Duration;
  readonly memorySize: number;
  readonly logLevel: DigestGuardLogLevel;
  readonly maxEventAge: Duration;
  readonly reconcile: boolean;
  readonly reconcileSchedule: events.Schedule;
  readonly releaseAfterDays: number;
  readonly lifecycleCheck: DigestGuardLifecycleCheck;
  readonly installLifecycleShield: boolean;
  readonly watchLifecycleExpiry: boolean;
  readonly lookupPushers: boolean;
}

function wholeSecondsWithin(duration: Duration, minSeconds: number, maxSeconds: number): boolean {
  const millis = duration.toMilliseconds();
  return millis % 1000 === 0 && millis >= minSeconds * 1000 && millis <= maxSeconds * 1000;
}

const LOG_LEVELS: readonly DigestGuardLogLevel[] = ['DEBUG', 'INFO', 'WARN', 'ERROR'];

/**
 * Applies defaults, and throws one ConfigError that names every prop AWS or the guard would refuse: the
 * settings the app's context also carries go through `sharedSettingsProblems` (the same check, the same
 * words), the construct-only ones are checked here.
 */
function validateProps(props: DigestGuardProps): ResolvedSettings {
  const problems: string[] = [];
  const fail = (prop: string, problem: string): void => {
    problems.push(`${prop} ${problem}`);
  };

  const scheduleExpression = props.reconcileSchedule?.expressionString;
  problems.push(
    ...sharedSettingsProblems(
      {
        ...(props.alertEmails !== undefined ? { alertEmails: props.alertEmails } : {}),
        alertTopicGiven: props.alertTopic !== undefined,
        ...(props.noAlertSubscription !== undefined ? { noAlertSubscription: props.noAlertSubscription } : {}),
        ...(props.tagPrefix !== undefined ? { tagPrefix: props.tagPrefix } : {}),
        ...(props.repositories !== undefined ? { repositories: props.repositories } : {}),
        ...(props.reconcile !== undefined ? { reconcile: props.reconcile } : {}),
        reconcileScheduleGiven: props.reconcileSchedule !== undefined,
        // A token (a CloudFormation parameter) is only known at deploy time; EventBridge checks it then.
        ...(scheduleExpression !== undefined && !Token.isUnresolved(scheduleExpression)
          ? { reconcileSchedule: scheduleExpression }
          : {}),
        ...(props.releaseAfterDays !== undefined ? { releaseAfterDays: props.releaseAfterDays } : {}),
        ...(props.lifecycleCheck !== undefined ? { lifecycleCheck: props.lifecycleCheck } : {}),
        ...(props.installLifecycleShield !== undefined ? { installLifecycleShield: props.installLifecycleShield } : {}),
      },
      {
        nameOf: (setting) => setting,
        noRecipientProblem:
          'alertEmails is empty and no alertTopic is given, so nobody would receive alerts or alarms; name an address, pass alertTopic, or set noAlertSubscription: true and subscribe to guard.topic yourself',
      },
    ),
  );

  // Milliseconds first: Duration.toSeconds() itself throws, without naming the prop, on fractions.
  const timeout = props.timeout ?? Duration.minutes(5);
  if (!wholeSecondsWithin(timeout, 1, 900)) {
    fail('timeout', `must be a whole number of seconds between 1 second and 15 minutes, got ${timeout.toHumanString()}`);
  }

  const memorySize = props.memorySize ?? 512;
  if (!Number.isInteger(memorySize) || memorySize < 128 || memorySize > 10240) {
    fail('memorySize', `must be a whole number of MiB between 128 and 10240, got ${memorySize}`);
  }

  const maxBatchingWindow = props.maxBatchingWindow ?? DEFAULT_MAX_BATCHING_WINDOW;
  const windowValid = wholeSecondsWithin(maxBatchingWindow, 0, 300);
  if (!windowValid) {
    fail('maxBatchingWindow', `must be a whole number of seconds between 0 and 5 minutes, got ${maxBatchingWindow.toHumanString()}`);
  }

  const batchSize = props.batchSize ?? DEFAULT_BATCH_SIZE;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10000) {
    fail('batchSize', `must be a whole number between 1 and 10000, got ${batchSize}`);
  }
  if (windowValid && batchSize > 10 && maxBatchingWindow.toSeconds() < 1) {
    fail('batchSize', `above 10 (got ${batchSize}) needs a maxBatchingWindow of at least 1 second`);
  }

  const logLevel = props.logLevel ?? 'INFO';
  if (!LOG_LEVELS.includes(logLevel)) {
    fail('logLevel', `must be one of ${LOG_LEVELS.join(', ')}, got ${String(logLevel)}`);
  }

  const maxEventAge = props.maxEventAge ?? Duration.minutes(15);
  if (!wholeSecondsWithin(maxEventAge, 60, 86400)) {
    fail('maxEventAge', `must be a whole number of seconds between 1 minute and 1 day, got ${maxEventAge.toHumanString()}`);
  }

  if (problems.length > 0) throw new ConfigError(problems, 'DigestGuard props');

  return {
    alertEmails: props.alertEmails ?? [],
    tagPrefix: props.tagPrefix ?? DEFAULT_TAG_PREFIX,
    repositories: [...new Set(props.repositories ?? [])],
    dryRun: props.dryRun ?? false,
    batchSize,
    maxBatchingWindow,
    logRetention: props.logRetention ?? logs.RetentionDays.THREE_MONTHS,
    timeout,
    memorySize,
    logLevel,
    maxEventAge,
    reconcile: props.reconcile ?? true,
    reconcileSchedule: props.reconcileSchedule ?? DEFAULT_RECONCILE_SCHEDULE,
    releaseAfterDays: props.releaseAfterDays ?? 0,
    lifecycleCheck: props.lifecycleCheck ?? 'evaluate',
    installLifecycleShield: props.installLifecycleShield ?? false,
    watchLifecycleExpiry: props.watchLifecycleExpiry ?? false,
    lookupPushers: props.lookupPushers ?? false,
  };
}
