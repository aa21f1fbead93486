/**
 * The DigestGuard construct: its props and public members, composed from one file per concern (defaults.ts,
 * settings.ts, alert-topic.ts, guard-functions.ts, permissions.ts, alarms.ts).
 */
import type { Duration } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as events from 'aws-cdk-lib/aws-events';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { LifecycleCheck } from '../lambda/core/defaults';
import { createGuardAlarms, type DigestGuardAlarms } from './alarms';
import { createAlertTopic } from './alert-topic';
import { type ChatChannelConfigurations, createChatChannels, type DigestGuardChatChannels } from './chat-channels';
import { createGuardDashboard } from './dashboard';
import { createGuardEventBus, workloadOrganizationIdProblems } from './guard-event-bus';
import { createPushPath, createReconcilePath, createWatchPath } from './guard-functions';
import { createInUseIndex } from './in-use-index';
import {
  grantAssumeWorkloadReaders,
  grantDiscoverOrganizationAccounts,
  grantInUseIndexList,
  grantInUseIndexRead,
  grantPushPermissions,
  grantReconcilePermissions,
  grantWatchPermissions,
} from './permissions';
import { listsOtherAccounts, resolveSettings } from './settings';
import { ConfigError } from './validation';

export type { DigestGuardAlarms } from './alarms';
export type { DigestGuardChatChannels, DigestGuardSlackChannel, DigestGuardTeamsChannel } from './chat-channels';
export {
  DEFAULT_BATCH_SIZE,
  DEFAULT_MAX_BATCHING_WINDOW,
  DEFAULT_RECONCILE_SCHEDULE,
  DEFAULT_TAG_PREFIX,
  MAX_CONCURRENCY,
  MAX_RECEIVE_COUNT,
  METRICS_NAMESPACE,
  RECONCILE_MAX_EVENT_AGE,
  RECONCILE_RESERVED_CONCURRENCY,
  RECONCILE_RETRY_ATTEMPTS,
  RECONCILE_TIMEOUT,
  SERVICE_NAME,
  VISIBILITY_TIMEOUT_FACTOR,
} from './defaults';

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
   * A second rule runs the reconcile every 15 minutes as a catch-up: it lists again each workload (account, region)
   * whose last complete list started longer ago than this, or that has none (a fresh install, a new account, a list
   * that failed); when none is overdue it only reads their list status (one DynamoDB GetItem each). Whole minutes,
   * at least 15. Only with `reconcile`.
   * @default the reconcile's rate plus 15 minutes (6 hours 15 minutes by default); 12 hours 15 minutes for a cron
   * `reconcileSchedule`, which has no one interval
   */
  readonly listBound?: Duration;

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

  /**
   * Chat channels (Slack, Microsoft Teams) that receive the alerts through Amazon Q Developer in chat
   * applications, each in the chat form (title, counts, first images, next steps, where the full list is). The
   * workspace or team must be authorized in the Amazon Q Developer console first. Each channel gets a role with
   * no permission and a guardrail that denies every action: it receives, it can do nothing.
   * @default - no chat channel (email, and whatever subscribes to `topic`)
   */
  readonly chat?: DigestGuardChatChannels;

  /**
   * A CloudWatch dashboard of what the guard did and how it runs (protected, gone, alerts, failures, inventory
   * duration, queue age, the reconcile's outcome). A dashboard costs $3 a month beyond the first 3 of an account.
   * @default true
   */
  readonly dashboard?: boolean;

  /**
   * Watch ECS task state changes of this account and region into the in-use index: a rule, a queue with its
   * dead-letter queue and alarms, a function. Only with `reconcile`, whose list the watch keeps fresh. Each task
   * event is one conditional index write; a digest seen in use for the first time is checked and protected at once.
   * With it, a guard that lists other accounts reads the index at push time too (see `pushReadsIndex`).
   * @default true
   */
  readonly watch?: boolean;

  /**
   * How the push function learns what is in use. `true`: the in-use index alone instead of an inventory of the
   * account per batch (no ECS call per batch); a Lambda function changed without a trail since the last complete
   * list is then seen only by the next reconcile, where the direct inventory sees it at once. Needs the watch
   * (`reconcile` on, `watch` not false). `false`: the direct inventory of this account and region alone, so a
   * digest only `workloadAccounts` use is protected at the next reconcile, not at push time.
   * @default - a guard that lists other accounts (`workloadAccounts`, `organizationUnits`) with the watch on takes
   * its direct inventory AND reads the index for the pushed repositories, merged; otherwise the direct inventory
   */
  readonly pushReadsIndex?: boolean;

  /**
   * Other accounts whose ECS and Lambda workloads the scheduled reconcile lists, so that digests they pin in
   * this registry are protected too (the registry-account layout). Each account deploys the workload stack
   * (`DigestGuardWorkloadStack`), whose read-only role `ecr-digest-guard-reader-<this region>` trusts only this
   * guard's reconcile role; that role is then named `ecr-digest-guard-reconcile-<this region>` and may assume
   * exactly those readers. Needs `reconcile`.
   * @default - only this account and region are listed
   */
  readonly workloadAccounts?: string[];

  /**
   * The regions of `workloadAccounts` (and of the accounts of `organizationUnits`) to list. This guard's own
   * account and region are always listed too.
   * @default - this guard's region
   */
  readonly workloadRegions?: string[];

  /**
   * Admit every account of this AWS Organization (`o-…`) to forward events to the guard's event bus
   * (`aws:PrincipalOrgID`), instead of naming `workloadAccounts` in its policy. Only with `workloadAccounts`.
   * @default - the bus admits exactly `workloadAccounts`
   */
  readonly workloadOrganizationId?: string;

  /**
   * Organizational units (`ou-…`) whose accounts the scheduled reconcile discovers on each run (Organizations
   * `ListChildren` and `ListAccountsForParent`, recursively; ACTIVE accounts only) and lists like
   * `workloadAccounts`, through the same reader role, which the StackSet of `DigestGuardStack` deploys to them.
   * Needs `reconcile`, and the guard in the management account or a delegated administrator.
   * @default - no organizational unit
   */
  readonly organizationUnits?: string[];
}

/** How the reconcile checks lifecycle policies (see `lifecycleCheck`). */
export type DigestGuardLifecycleCheck = LifecycleCheck;

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
  /**
   * Selects ECR lifecycle `PolicyExecutionEvent`s delivered by CloudTrail; undefined without
   * `watchLifecycleExpiry`.
   */
  public readonly lifecycleExpiryRule?: events.Rule;
  /** Buffers push events between EventBridge and the function, so bursts become batches. */
  public readonly queue: sqs.Queue;
  /** Push events the function failed on `MAX_RECEIVE_COUNT` times. */
  public readonly deadLetterQueue: sqs.Queue;
  /** The push handler. */
  public readonly function: lambda.Function;
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
  public readonly reconcileFunction?: lambda.Function;
  /** Invokes `reconcileFunction` on `reconcileSchedule`; undefined without `reconcile`. */
  public readonly reconcileRule?: events.Rule;
  /** Invokes `reconcileFunction` every 15 minutes as a catch-up of overdue lists; undefined without `reconcile`. */
  public readonly reconcileCatchUpRule?: events.Rule;
  /** Scheduled events that failed every attempt or could not be delivered; undefined without `reconcile`. */
  public readonly reconcileDeadLetterQueue?: sqs.Queue;
  /** The reconcile function's log group; undefined without `reconcile`. */
  public readonly reconcileLogGroup?: logs.LogGroup;
  /**
   * Who uses which image digest (DynamoDB, retained on stack deletion), kept by the reconcile's list of this
   * account and region; created with or without `reconcile`, since the watch of later releases writes it too.
   */
  public readonly inUseIndex: dynamodb.Table;
  /** The chat channel configurations asked for with `chat`; empty without it. */
  public readonly chatChannels: ChatChannelConfigurations;
  /** Selects ECS task state changes for the watch; undefined with `watch: false`. */
  public readonly watchRule?: events.Rule;
  /** Buffers task events for the watch function; undefined with `watch: false`. */
  public readonly watchQueue?: sqs.Queue;
  /** Task events the watch failed on `MAX_RECEIVE_COUNT` times; undefined with `watch: false`. */
  public readonly watchDeadLetterQueue?: sqs.Queue;
  /** The watch function; undefined with `watch: false`. */
  public readonly watchFunction?: lambda.Function;
  /**
   * Where workload accounts and regions forward their ECS events (`ecr-digest-guard-<region>`); undefined without
   * `workloadAccounts` or without the watch.
   */
  public readonly guardEventBus?: events.EventBus;
  /** Routes forwarded task events from `guardEventBus` into `watchQueue`; undefined without `guardEventBus`. */
  public readonly forwardedWatchRule?: events.Rule;
  /** The operator's dashboard; undefined with `dashboard: false`. */
  public readonly dashboard?: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: DigestGuardProps = {}) {
    super(scope, id);
    const settings = resolveSettings(props);
    const organizationProblems = workloadOrganizationIdProblems(
      props.workloadOrganizationId,
      props.workloadAccounts,
      props.organizationUnits,
    );
    if (organizationProblems.length > 0) throw new ConfigError(organizationProblems);
    this.tagPrefix = settings.tagPrefix;

    // Every part is created in this construct's scope, in this order, so the logical ids and the template
    // stay those of the stacks already deployed.
    const alerts = createAlertTopic(this, props.alertTopic, settings.alertEmails);
    this.topic = alerts.topic;
    if (alerts.topicKey) this.topicKey = alerts.topicKey;

    const push = createPushPath(this, settings, this.topic);
    this.deadLetterQueue = push.deadLetterQueue;
    this.queue = push.queue;
    this.rule = push.rule;
    if (push.lifecycleExpiryRule) this.lifecycleExpiryRule = push.lifecycleExpiryRule;
    this.function = push.fn;
    this.logGroup = push.logGroup;
    grantPushPermissions(push.role, settings, this.topic);

    this.inUseIndex = createInUseIndex(this);

    if (settings.reconcile) {
      const reconcile = createReconcilePath(this, settings, this.topic);
      grantReconcilePermissions(reconcile.role, settings, this.topic);
      // The reconcile is the list that keeps the index (lambda/handlers/reconcile.ts reads the name).
      grantInUseIndexList(reconcile.role, this.inUseIndex);
      reconcile.fn.addEnvironment('IN_USE_INDEX_TABLE_NAME', this.inUseIndex.tableName);
      if (settings.organizationUnits.length > 0) {
        // Their accounts are known only at run time: the reader role of this guard in any account.
        grantAssumeWorkloadReaders(reconcile.role, ['*']);
        grantDiscoverOrganizationAccounts(reconcile.role);
        // lambda/handlers/reconcile-config.ts reads it, with WORKLOAD_ACCOUNTS and WORKLOAD_REGIONS below.
        reconcile.fn.addEnvironment('ORGANIZATION_UNITS', settings.organizationUnits.join(','));
        if (settings.workloadRegions && settings.workloadAccounts.length === 0)
          reconcile.fn.addEnvironment('WORKLOAD_REGIONS', settings.workloadRegions.join(','));
      }
      if (settings.workloadAccounts.length > 0) {
        if (settings.organizationUnits.length === 0)
          grantAssumeWorkloadReaders(reconcile.role, settings.workloadAccounts);
        // lambda/handlers/reconcile-config.ts reads both; the reader ARNs follow from the function's own region.
        reconcile.fn.addEnvironment('WORKLOAD_ACCOUNTS', settings.workloadAccounts.join(','));
        if (settings.workloadRegions)
          reconcile.fn.addEnvironment('WORKLOAD_REGIONS', settings.workloadRegions.join(','));
      }
      this.reconcileFunction = reconcile.fn;
      this.reconcileLogGroup = reconcile.logGroup;
      this.reconcileRule = reconcile.rule;
      this.reconcileCatchUpRule = reconcile.catchUpRule;
      this.reconcileDeadLetterQueue = reconcile.deadLetterQueue;
    }

    // The index is usable by the push path only once a list is recorded, so the watch comes with the reconcile.
    const watched = settings.reconcile && (props.watch ?? true);
    if (props.pushReadsIndex && !watched) {
      throw new Error(
        'pushReadsIndex needs the watch that keeps the index fresh: turn reconcile on and leave watch on',
      );
    }
    if (watched) {
      const watch = createWatchPath(this, settings, this.topic);
      grantWatchPermissions(watch.role, settings, this.topic, this.inUseIndex);
      watch.fn.addEnvironment('IN_USE_INDEX_TABLE_NAME', this.inUseIndex.tableName);
      const listsOthers = listsOtherAccounts(settings);
      if (listsOthers) {
        // Deployment and Lambda events name a service or function, not its digests: the watch reads them there.
        // The accounts of organizational units are known only at run time, as for the reconcile.
        grantAssumeWorkloadReaders(
          watch.role,
          settings.organizationUnits.length > 0 ? ['*'] : settings.workloadAccounts,
        );
        if (settings.workloadAccounts.length > 0)
          watch.fn.addEnvironment('WORKLOAD_ACCOUNTS', settings.workloadAccounts.join(','));
        // lambda/handlers/watch.ts: with organizational units, any account that reaches the bus may be read.
        if (settings.organizationUnits.length > 0)
          watch.fn.addEnvironment('ORGANIZATION_UNITS', settings.organizationUnits.join(','));
        if (settings.workloadRegions) watch.fn.addEnvironment('WORKLOAD_REGIONS', settings.workloadRegions.join(','));
      }
      // A guard that lists other accounts reads the index at push time by default, besides its own account's
      // direct inventory: only the index knows the other accounts' users before the next reconcile.
      const pushInventory = props.pushReadsIndex
        ? 'index'
        : props.pushReadsIndex === undefined && listsOthers
          ? 'direct+index'
          : 'direct';
      if (pushInventory !== 'direct') {
        // The push function reads the index only where the watch keeps it fresh (lambda/handlers/push.ts).
        grantInUseIndexRead(push.role, this.inUseIndex);
        push.fn.addEnvironment('IN_USE_INDEX_TABLE_NAME', this.inUseIndex.tableName);
        if (pushInventory === 'index') push.fn.addEnvironment('WATCH_ENABLED', 'true');
        // lambda/handlers/config.ts
        push.fn.addEnvironment('PUSH_INVENTORY', pushInventory);
        // The index is complete only once every workload the reconcile lists has a complete list: the same list.
        if (settings.workloadAccounts.length > 0) {
          push.fn.addEnvironment('WORKLOAD_ACCOUNTS', settings.workloadAccounts.join(','));
          if (settings.workloadRegions) push.fn.addEnvironment('WORKLOAD_REGIONS', settings.workloadRegions.join(','));
        }
        // Their accounts are found at run time: an index the push path cannot read then misses them too.
        if (settings.organizationUnits.length > 0)
          push.fn.addEnvironment('ORGANIZATION_UNITS', settings.organizationUnits.join(','));
      }
      if (listsOthers) {
        // Other accounts and regions reach the watch through the guard's bus (their workload stacks forward to it).
        const forwarded = createGuardEventBus(
          this,
          {
            accounts: settings.workloadAccounts,
            ...(props.workloadOrganizationId ? { organizationId: props.workloadOrganizationId } : {}),
          },
          watch.queue,
        );
        this.guardEventBus = forwarded.bus;
        this.forwardedWatchRule = forwarded.watchRule;
      }
      this.watchRule = watch.rule;
      this.watchQueue = watch.queue;
      this.watchDeadLetterQueue = watch.deadLetterQueue;
      this.watchFunction = watch.fn;
    }

    this.alarms = createGuardAlarms(this, {
      topic: this.topic,
      queue: this.queue,
      deadLetterQueue: this.deadLetterQueue,
      pushFunction: this.function,
      maxEventAge: settings.maxEventAge,
      ...(this.reconcileFunction && this.reconcileDeadLetterQueue
        ? { reconcile: { fn: this.reconcileFunction, deadLetterQueue: this.reconcileDeadLetterQueue } }
        : {}),
      ...(this.watchFunction && this.watchQueue && this.watchDeadLetterQueue
        ? { watch: { fn: this.watchFunction, queue: this.watchQueue, deadLetterQueue: this.watchDeadLetterQueue } }
        : {}),
    });

    // Last, so that adding a channel leaves every other logical id as it was.
    this.chatChannels = createChatChannels(this, props.chat, this.topic);
    if (props.dashboard ?? true) {
      this.dashboard = createGuardDashboard(this, {
        pushFunction: this.function,
        queue: this.queue,
        deadLetterQueue: this.deadLetterQueue,
        ...(this.reconcileFunction && this.reconcileDeadLetterQueue
          ? { reconcile: { fn: this.reconcileFunction, deadLetterQueue: this.reconcileDeadLetterQueue } }
          : {}),
      });
    }
  }
}
