/**
 * The construct's constants and the defaults of its props, in one place. The names the functions share at
 * run time (tag prefix, Powertools service and namespace, lifecycle check) come from lambda/core, which is
 * pure, so the app and the functions it deploys cannot drift apart.
 */
import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as logs from 'aws-cdk-lib/aws-logs';

export {
  DEFAULT_LIFECYCLE_CHECK,
  DEFAULT_TAG_PREFIX,
  LIFECYCLE_CHECKS,
  METRICS_NAMESPACE,
  SERVICE_NAME,
} from '../lambda/core/defaults';

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

/** The handlers by name: `lambda/handlers/<name>.ts`, bundled to `dist/handlers/<name>/` (lib/handler-code.ts). */
export const PUSH_HANDLER = 'push';
export const RECONCILE_HANDLER = 'reconcile';
export const WATCH_HANDLER = 'watch';

/** How often the reconcile runs unless `reconcileSchedule` says otherwise. */
export const DEFAULT_RECONCILE_SCHEDULE = events.Schedule.rate(Duration.hours(6));
/** Push events per invocation, at most (see `batchSize`). */
export const DEFAULT_BATCH_SIZE = 10_000;
/** How long the event source gathers push events (see `maxBatchingWindow`). */
export const DEFAULT_MAX_BATCHING_WINDOW = Duration.seconds(30);
/**
 * The window when the push path reads the in-use index alone (`pushReadsIndex`): the 30 s above spaces out the
 * account inventories a batch takes, which such a batch does not take, so the window is what remains of the
 * push → protected latency; 2 s keeps p99 under 5 s in the 1,000-pushes-a-minute burst (README, Performance).
 */
export const INDEX_MAX_BATCHING_WINDOW = Duration.seconds(2);
/** Timeout of the push function unless `timeout` says otherwise. */
export const DEFAULT_TIMEOUT = Duration.minutes(5);
/** Memory of both functions, in MiB, unless `memorySize` says otherwise. */
export const DEFAULT_MEMORY_SIZE = 512;
/** Log level of both functions unless `logLevel` says otherwise. */
export const DEFAULT_LOG_LEVEL = 'INFO';
/** Retention of both log groups unless `logRetention` says otherwise. */
export const DEFAULT_LOG_RETENTION = logs.RetentionDays.THREE_MONTHS;
/** Age of the oldest buffered push event that alarms, unless `maxEventAge` says otherwise. */
export const DEFAULT_MAX_EVENT_AGE = Duration.minutes(15);

/** The reconcile visits every repository in use; the handler keeps 60 s in reserve and checkpoints. */
export const RECONCILE_TIMEOUT = Duration.minutes(15);

/**
 * Lambda retries a failed asynchronous invocation at most twice (1 and 2 minutes later); the handler
 * throws when nothing could be done (no inventory) or when repositories could not be reconciled (after
 * the run's own retry of them), which a retry minutes later may well fix; any error is retried.
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
