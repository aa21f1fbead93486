/**
 * Publishing an alert, shared by the batch of image events and the scheduled reconcile: every entry is logged
 * first, and an SNS failure is logged and counted rather than failing work that already stands.
 */
import { alertLogParts, countOf, cutTextToBytes, escapedBytes, withFullList } from './alert-size';
import type { Alert, AlertPort, GuardLogger, GuardMetrics } from './ports';

/** What publishing an alert calls. */
export interface AlertPublishDependencies {
  readonly alerts: AlertPort;
  readonly logger: GuardLogger;
  readonly metrics?: GuardMetrics;
  /** the function's log group, named in alerts as where their full list is (`AWS_LAMBDA_LOG_GROUP_NAME`) */
  readonly alertLogGroup?: string;
}

/**
 * Publishes an alert. If SNS still fails after the SDK's retries, the protection already stands: failing the
 * message would only redeliver it to a guard that finds its tag in place and has nothing new to say (and
 * re-alerting every protection in place on any redelivery sends duplicates). So the alert is logged, as an
 * error a person can read, and counted (`AlertPublishFailures`, which has an alarm).
 * Before publishing, every entry of the alert is logged in parts that each fit one CloudWatch Logs event (the
 * text lists the first of each kind, the JSON as many as fit in an SNS message); the alert names the query that
 * returns them.
 */
export async function publishOrLog(alert: Alert, deps: AlertPublishDependencies): Promise<boolean> {
  const delivered = withFullList(alert, deps.alertLogGroup);
  for (const part of alertLogParts(delivered)) {
    deps.logger.warn('alert entries: one part of the full list of an alert', { ...part });
  }
  try {
    await deps.alerts.publish(delivered);
    deps.metrics?.count('AlertsPublished', 1);
    return true;
  } catch (error) {
    const { alertId, query } = delivered.fullList;
    deps.logger.error("could not publish an alert; what it says follows, and the guard's changes stand", {
      repository: alert.repository,
      alertId,
      error,
      severity: alert.severity,
      subject: alert.subject,
      text: cutTextToBytes(
        delivered.text,
        LOGGED_ALERT_TEXT_BYTES,
        escapedBytes,
        (more) =>
          `[${countOf(more, 'more line')} of this alert left out to fit one log event; ` +
          `every entry is logged as alert ${alertId}.]`,
      ),
      query,
      whatToDo:
        'check sns:Publish and the topic key policy for the function role; read the alert here, and its ' +
        'entries with the query',
    });
    deps.metrics?.count('AlertPublishFailures', 1);
    return false;
  }
}

/** The alert text in the publish-failure log line: with the error and the Logger's keys, well within one event. */
const LOGGED_ALERT_TEXT_BYTES = 128 * 1024;
