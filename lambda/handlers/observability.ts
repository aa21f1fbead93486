/**
 * The Powertools Logger and Metrics of both functions, named from one place: the alarms the construct
 * creates read the metrics by these names, so a handler must not spell them itself.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { METRICS_NAMESPACE, SERVICE_NAME } from '../core/defaults';
import type { GuardMetrics } from '../core/ports';

export interface Observability {
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** the core's metrics port: every count goes to Powertools as a `Count` */
  readonly counts: GuardMetrics;
}

export function createObservability(): Observability {
  const logger = new Logger({ serviceName: SERVICE_NAME });
  const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE_NAME });
  return { logger, metrics, counts: { count: (name, value) => metrics.addMetric(name, MetricUnit.Count, value) } };
}
