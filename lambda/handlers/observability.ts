/**
 * The Powertools Logger and Metrics of both functions, named from one place: the alarms the construct
 * creates read the metrics by these names, so a handler must not spell them itself.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { METRICS_NAMESPACE, SERVICE_NAME } from '../core/defaults';
import type { GuardMetrics, InventoryPort } from '../core/ports';

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

/**
 * The Lambda entry of a function fed by an SQS event source (the push buffer, the watch queue): wires its
 * dependencies once, on the first batch, hands every batch to `handle`, logs how the batch went, and always
 * flushes the batch's metrics, so a batch that throws still publishes what it counted.
 */
export function sqsBatchEntry<Wiring>(
  { logger, metrics }: Pick<Observability, 'logger' | 'metrics'>,
  wire: () => Wiring,
  handle: (event: SQSEvent, wiring: Wiring) => Promise<SQSBatchResponse>,
  doneMessage: string,
): (event: SQSEvent, context?: Context) => Promise<SQSBatchResponse> {
  let wiring: Wiring | undefined;
  return async (event, context) => {
    if (context) logger.addContext(context);
    wiring ??= wire();
    try {
      const response = await handle(event, wiring);
      logger.info(doneMessage, { records: event.Records?.length ?? 0, failed: response.batchItemFailures.length });
      return response;
    } finally {
      metrics.publishStoredMetrics();
    }
  };
}

/**
 * Where the function's alerts are logged in full, for the alert to name with its Logs Insights query: the log
 * group Lambda sets in every function's environment, when it is set.
 * See: https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime
 */
export function alertLogGroupFrom(env: NodeJS.ProcessEnv): { alertLogGroup?: string } {
  return env.AWS_LAMBDA_LOG_GROUP_NAME ? { alertLogGroup: env.AWS_LAMBDA_LOG_GROUP_NAME } : {};
}

/** The metric the dashboard shows for how long inventories take. */
export const INVENTORY_DURATION_METRIC = 'InventoryDuration';

/**
 * The inventory, timed: one `InventoryDuration` (milliseconds) per inventory taken, a failed one included (a
 * throttled account shows as a slow inventory before it shows as a failure).
 */
export function timedInventory(
  inventory: InventoryPort,
  metrics: Pick<Metrics, 'addMetric'>,
  clock: () => number = () => performance.now(),
): InventoryPort {
  return {
    takeInventory: async () => {
      const start = clock();
      try {
        return await inventory.takeInventory();
      } finally {
        metrics.addMetric(INVENTORY_DURATION_METRIC, MetricUnit.Milliseconds, clock() - start);
      }
    },
  };
}
