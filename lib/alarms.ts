/**
 * The guard's alarms, all made by one factory: each notifies the alert topic, evaluates one period and treats
 * missing data as fine (no data means nothing failed); by default it fires on one occurrence.
 */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { METRICS_NAMESPACE, SERVICE_NAME } from './defaults';

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
  /** Task events the watch failed on repeatedly; undefined without `watch`. */
  readonly watchDeadLetterQueueNotEmpty?: cloudwatch.Alarm;
  /** Watch invocations that failed as a whole; undefined without `watch`. */
  readonly watchErrors?: cloudwatch.Alarm;
}

/** What the alarms watch. */
export interface AlarmedResources {
  readonly topic: sns.ITopic;
  readonly queue: sqs.IQueue;
  readonly deadLetterQueue: sqs.IQueue;
  readonly pushFunction: lambda.IFunction;
  /** Alarm when the buffer's oldest event is older than this. */
  readonly maxEventAge: Duration;
  /** Undefined without `reconcile`. */
  readonly reconcile?: { readonly fn: lambda.IFunction; readonly deadLetterQueue: sqs.IQueue };
  /** Undefined without `watch`. */
  readonly watch?: { readonly fn: lambda.IFunction; readonly queue: sqs.IQueue; readonly deadLetterQueue: sqs.IQueue };
}

interface GuardAlarmSpec {
  readonly description: string;
  readonly metric: cloudwatch.IMetric;
  /** @default 1 */
  readonly threshold?: number;
  /** @default GREATER_THAN_OR_EQUAL_TO_THRESHOLD: one occurrence is one alarm */
  readonly comparisonOperator?: cloudwatch.ComparisonOperator;
}

/** Creates the alarms in `scope`, with the construct ids they were first deployed with. */
export function createGuardAlarms(scope: Construct, watched: AlarmedResources): DigestGuardAlarms {
  const notify = new cloudwatchActions.SnsAction(watched.topic);
  const alarm = (id: string, spec: GuardAlarmSpec): cloudwatch.Alarm => {
    const created = new cloudwatch.Alarm(scope, id, {
      alarmDescription: spec.description,
      metric: spec.metric,
      threshold: spec.threshold ?? 1,
      comparisonOperator: spec.comparisonOperator ?? cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    created.addAlarmAction(notify);
    return created;
  };
  // A dead-letter queue holds work the guard could not do: one record is one alarm.
  const queueNotEmpty = (id: string, queue: sqs.IQueue, description: string): cloudwatch.Alarm =>
    alarm(id, {
      description,
      metric: queue.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(1),
        statistic: cloudwatch.Stats.MAXIMUM,
      }),
    });
  const failedInvocations = (fn: lambda.IFunction): cloudwatch.IMetric =>
    fn.metricErrors({ period: Duration.minutes(5), statistic: cloudwatch.Stats.SUM });

  let reconcileAlarms: Pick<DigestGuardAlarms, 'reconcileErrors' | 'reconcileDeadLetterQueueNotEmpty'> = {};
  if (watched.reconcile) {
    reconcileAlarms = {
      reconcileErrors: alarm('ReconcileErrorsAlarm', {
        description:
          'ECR digest guard: a reconcile run failed (no inventory, or repositories it could not reconcile: in-use ' +
          'digests there may be unprotected); Lambda retries it twice, then it is dead-lettered. Check the ' +
          'reconcile function logs.',
        metric: failedInvocations(watched.reconcile.fn),
      }),
      reconcileDeadLetterQueueNotEmpty: queueNotEmpty(
        'ReconcileDeadLetterQueueAlarm',
        watched.reconcile.deadLetterQueue,
        'ECR digest guard: a scheduled reconcile failed every attempt or could not be delivered; in-use digests ' +
          'the push path missed may be unprotected until a run succeeds. Check the reconcile function logs and ' +
          'the dead-letter records.',
      ),
    };
  }
  let watchAlarms: Pick<DigestGuardAlarms, 'watchDeadLetterQueueNotEmpty' | 'watchErrors'> = {};
  if (watched.watch) {
    watchAlarms = {
      watchDeadLetterQueueNotEmpty: queueNotEmpty(
        'WatchDeadLetterQueueAlarm',
        watched.watch.deadLetterQueue,
        'ECR digest guard: ECS task events failed repeatedly and wait in the watch dead-letter queue. The in-use ' +
          'index may miss those tasks until the next complete list; check the watch function logs, fix, redrive.',
      ),
      watchErrors: alarm('WatchErrorsAlarm', {
        description: 'ECR digest guard: the watch function failed; task events will be retried, then dead-lettered.',
        metric: failedInvocations(watched.watch.fn),
      }),
    };
  }
  return {
    ...reconcileAlarms,
    ...watchAlarms,
    deadLetterQueueNotEmpty: queueNotEmpty(
      'DeadLetterQueueAlarm',
      watched.deadLetterQueue,
      'ECR digest guard: push events failed repeatedly and wait in the dead-letter queue. Digests they name may ' +
        'be unprotected; check the function logs, fix, then redrive.',
    ),
    functionErrors: alarm('FunctionErrorsAlarm', {
      description: 'ECR digest guard: the push function failed; events will be retried, then dead-lettered.',
      metric: failedInvocations(watched.pushFunction),
    }),
    functionThrottles: alarm('FunctionThrottlesAlarm', {
      description: 'ECR digest guard: Lambda throttled the push function; check the account concurrency.',
      metric: watched.pushFunction.metricThrottles({ period: Duration.minutes(5), statistic: cloudwatch.Stats.SUM }),
    }),
    eventsWaitingTooLong: alarm('EventsWaitingTooLongAlarm', {
      description:
        `ECR digest guard: push events have waited more than ${watched.maxEventAge.toHumanString()} in the ` +
        'buffer; the guard is falling behind.',
      metric: watched.queue.metricApproximateAgeOfOldestMessage({
        period: Duration.minutes(1),
        statistic: cloudwatch.Stats.MAXIMUM,
      }),
      threshold: watched.maxEventAge.toSeconds(),
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    }),
    alertPublishFailures: alarm('AlertPublishFailuresAlarm', {
      description:
        'ECR digest guard: SNS refused an alert after retries. What the guard did stands; the alert text is in ' +
        'the function logs (search "could not publish an alert"). Check sns:Publish and the topic key policy.',
      // Powertools Metrics: the namespace and service the functions are given, `service` as the dimension.
      metric: new cloudwatch.Metric({
        namespace: METRICS_NAMESPACE,
        metricName: 'AlertPublishFailures',
        dimensionsMap: { service: SERVICE_NAME },
        period: Duration.minutes(5),
        statistic: cloudwatch.Stats.SUM,
      }),
    }),
  };
}
