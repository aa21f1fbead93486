/**
 * The operator's CloudWatch dashboard: what the guard protected and could not, whether alerts go out, whether
 * anything fails, how long inventories take, how far behind the buffer is, and what the reconcile did. Every
 * metric is one the functions emit (Powertools, namespace `METRICS_NAMESPACE`, dimension `service`) or one AWS
 * emits for the functions and queues; a test holds the guard's own names to what the handlers emit.
 *
 * Cost: a dashboard is $3 a month beyond the first 3 of an account (https://aws.amazon.com/cloudwatch/pricing/).
 * It is on by default because it is the one place that shows the guard working; `dashboard: false` (context
 * `-c dashboard=false`) leaves it out.
 */
import { Aws, Duration, Fn } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { METRICS_NAMESPACE, SERVICE_NAME } from './defaults';

export interface DashboardSources {
  readonly pushFunction: lambda.IFunction;
  readonly queue: sqs.IQueue;
  readonly deadLetterQueue: sqs.IQueue;
  /** Undefined without `reconcile`. */
  readonly reconcile?: { readonly fn: lambda.IFunction; readonly deadLetterQueue: sqs.IQueue };
}

const PERIOD = Duration.minutes(5);
const WIDTH = 8;

export function createGuardDashboard(scope: Construct, sources: DashboardSources): cloudwatch.Dashboard {
  const guardMetric = (metricName: string, label: string, statistic: string = cloudwatch.Stats.SUM) =>
    new cloudwatch.Metric({
      namespace: METRICS_NAMESPACE,
      metricName,
      dimensionsMap: { service: SERVICE_NAME },
      period: PERIOD,
      statistic,
      label,
    });
  const graph = (title: string, left: cloudwatch.IMetric[]) =>
    new cloudwatch.GraphWidget({ title, left, width: WIDTH, height: 6 });
  const { pushFunction, queue, deadLetterQueue, reconcile } = sources;
  const sum = { period: PERIOD, statistic: cloudwatch.Stats.SUM };
  const max = { period: Duration.minutes(1), statistic: cloudwatch.Stats.MAXIMUM };

  const dashboard = new cloudwatch.Dashboard(scope, 'Dashboard', {
    defaultInterval: Duration.days(7),
  });
  dashboard.addWidgets(
    graph('Protected and gone (in-use images)', [
      guardMetric('ProtectedDigests', 'protected (tag put)'),
      guardMetric('GoneDigests', 'gone (CRITICAL)'),
      guardMetric('RestoresStarted', 'archived, restore started'),
    ]),
    graph('Alerts', [
      guardMetric('AlertsPublished', 'published'),
      guardMetric('AlertPublishFailures', 'refused by SNS'),
    ]),
    graph('Failures', [
      pushFunction.metricErrors({ ...sum, label: 'push function errors' }),
      ...(reconcile ? [reconcile.fn.metricErrors({ ...sum, label: 'reconcile errors' })] : []),
      guardMetric('InventoryFailures', 'inventories that failed'),
      guardMetric('RepositoryFailures', 'repositories that failed'),
    ]),
  );
  dashboard.addWidgets(
    graph('Dead-letter queues (messages waiting)', [
      deadLetterQueue.metricApproximateNumberOfMessagesVisible({ ...max, label: 'push events' }),
      ...(reconcile
        ? [reconcile.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ ...max, label: 'reconcile runs' })]
        : []),
    ]),
    graph('Inventory and function duration (ms)', [
      guardMetric('InventoryDuration', 'inventory (max)', cloudwatch.Stats.MAXIMUM),
      pushFunction.metricDuration({ period: PERIOD, statistic: cloudwatch.Stats.MAXIMUM, label: 'push (max)' }),
      ...(reconcile
        ? [
            reconcile.fn.metricDuration({
              period: PERIOD,
              statistic: cloudwatch.Stats.MAXIMUM,
              label: 'reconcile (max)',
            }),
          ]
        : []),
    ]),
    graph('Buffer queue: age of the oldest event (s)', [
      queue.metricApproximateAgeOfOldestMessage({ ...max, label: 'oldest event' }),
    ]),
  );
  if (reconcile) {
    dashboard.addWidgets(
      graph('Reconcile outcome', [
        guardMetric('ReleasedProtections', 'protections released'),
        guardMetric('RepositoriesNotReached', 'repositories not reached (next run)'),
        guardMetric('LifecycleRiskRepositories', 'repositories at lifecycle risk'),
        guardMetric('ReleasesPaused', 'releases paused (inventory gaps)'),
      ]),
    );
  }
  return dashboard;
}

/** The dashboard's address in the console of the standard AWS partition. */
export function dashboardUrl(dashboard: cloudwatch.Dashboard): string {
  return Fn.join('', [
    'https://',
    Aws.REGION,
    '.console.aws.amazon.com/cloudwatch/home?region=',
    Aws.REGION,
    '#dashboards/dashboard/',
    dashboard.dashboardName,
  ]);
}
