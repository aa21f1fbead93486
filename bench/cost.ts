/**
 * What the guard costs a month, from the counts the bench measures (one batch's simulated duration and SNS
 * publishes) and stated assumptions (pushes and alerts a day, log bytes, cold starts), at us-east-1 list
 * prices. Free tiers are left out on purpose: the account's other workloads usually use them up already.
 *
 * Prices as read on 2026-11-30. Where only a page quoting AWS's page could be read, it says so; check the AWS
 * page before relying on a figure.
 */
import { ratio } from './stats';

export interface Price {
  readonly usd: number;
  readonly per: string;
  readonly source: string;
}

export const PRICES = {
  // The guard's functions run on arm64 (lib/guard-functions.ts). AWS page: https://aws.amazon.com/lambda/pricing/
  // (read through a quoting page: https://git.mcrn.ar/mariano/lambda_local_runner, docs/lambdas-md/lambda-13-cost.md)
  lambdaRequest: { usd: 0.2 / 1e6, per: 'request', source: 'https://aws.amazon.com/lambda/pricing/' },
  lambdaArmGbSecond: { usd: 0.0000133334, per: 'GB-second (arm64)', source: 'https://aws.amazon.com/lambda/pricing/' },
  // standard queue, first 100 billion requests a month; read through https://cloudburn.io/blog/amazon-sqs-pricing
  sqsRequest: { usd: 0.4 / 1e6, per: 'request (64 KB chunk)', source: 'https://aws.amazon.com/sqs/pricing/' },
  // read through https://www.factualminds.com/blog/amazon-sns-pricing-publishes-fanout-protocols/
  snsPublish: { usd: 0.5 / 1e6, per: 'publish (64 KB chunk)', source: 'https://aws.amazon.com/sns/pricing/' },
  snsEmail: { usd: 2 / 1e5, per: 'email delivery', source: 'https://aws.amazon.com/sns/pricing/' },
  // the AWS page (free tier part read): https://aws.amazon.com/cloudwatch/pricing/; the paid rates read through
  // https://cloudburn.io/blog/amazon-cloudwatch-pricing and https://signoz.io/guides/cloudwatch-pricing
  alarmMonth: {
    usd: 0.1,
    per: 'standard-resolution alarm a month',
    source: 'https://aws.amazon.com/cloudwatch/pricing/',
  },
  metricMonth: { usd: 0.3, per: 'custom metric a month', source: 'https://aws.amazon.com/cloudwatch/pricing/' },
  logIngestGb: {
    usd: 0.5,
    per: 'GB of logs ingested (standard class)',
    source: 'https://aws.amazon.com/cloudwatch/pricing/',
  },
  // read on the AWS page: "Each AWS KMS key that you create in KMS costs $1/month"; each automatic rotation
  // adds $1/month for the backing key it creates (the topic's key rotates yearly)
  kmsKeyMonth: {
    usd: 1,
    per: 'customer managed key a month (first year)',
    source: 'https://aws.amazon.com/kms/pricing/',
  },
  kmsRequest: { usd: 0.03 / 1e4, per: 'request', source: 'https://aws.amazon.com/kms/pricing/' },
  // ECR Image Action events come from AWS itself: free on the default bus, as are rule matches and the scheduled
  // rule; read through https://www.wring.co/blog/aws-eventbridge-pricing-guide
  eventBridgeServiceEvent: { usd: 0, per: 'AWS service event', source: 'https://aws.amazon.com/eventbridge/pricing/' },
  // on demand, standard table class, after the November 2024 cut; read through
  // https://airbyte.com/data-engineering-resources/dynamodb-pricing (quoting the AWS page). A conditional write
  // whose condition fails is billed as a write; a TransactWriteItems write costs 2 units an item.
  dynamoDbWrite: {
    usd: 0.625 / 1e6,
    per: 'write request unit (≤ 1 KB)',
    source: 'https://aws.amazon.com/dynamodb/pricing/on-demand/',
  },
  dynamoDbRead: {
    usd: 0.125 / 1e6,
    per: 'read request unit (≤ 4 KB, strongly consistent)',
    source: 'https://aws.amazon.com/dynamodb/pricing/on-demand/',
  },
  // ECS Task State Change events come from AWS itself: free on the default bus, like ECR's
  // ECS, ECR and Lambda control-plane calls (the inventory, DescribeImages, PutImage) are not charged per call
  controlPlaneCall: { usd: 0, per: 'ECS / ECR / Lambda API call', source: 'https://aws.amazon.com/ecr/pricing/' },
} as const satisfies Record<string, Price>;

export const DAYS_PER_MONTH = 30;

/** What the bench measured for one account shape. */
export interface MeasuredAccount {
  readonly shape: string;
  /** simulated milliseconds one batch took, ECS throttling on (the slower, billed case) */
  readonly batchMs: number;
  /** SNS publishes of that batch, and its pushes (every push in the bench leaves an in-use digest untagged) */
  readonly batchPublishes: number;
  readonly batchPushes: number;
}

/** What nobody can measure offline; printed next to the estimate. */
export interface Assumptions {
  readonly pushesPerDay: number;
  /** alerts a day in a quiet month: an alert is sent only when something changed */
  readonly alertsPerDay: number;
  readonly reconcileRunsPerDay: number;
  /** catch-up invocations a day (its rule fires every 15 minutes: 96) */
  readonly catchUpRunsPerDay: number;
  /** simulated-free assumption: a catch-up with nothing overdue (status reads only) takes this long */
  readonly catchUpMs: number;
  /** workloads (account, region) whose list status each catch-up reads: one strongly consistent GetItem each */
  readonly workloads: number;
  readonly memoryMb: number;
  /** billed initialisation per invocation: every invocation is taken to start cold (pushes are spread out) */
  readonly initMs: number;
  readonly logBytesPerInvocation: number;
  readonly logBytesPerAlert: number;
  /** SQS ReceiveMessage calls the event source makes while the queue is idle, a day (long polls of 20 s) */
  readonly idleReceivesPerDay: number;
  readonly emailSubscribers: number;
  readonly alarms: number;
  readonly customMetrics: number;
  /**
   * ECS Task State Change events a day, for the watch: tasks started a day × the events of one task's life
   * (PROVISIONING … STOPPED, about 8 on Fargate: an assumption, ECS documents the states, not a count)
   */
  readonly taskEventsPerDay: number;
  /** simulated-free assumption: one watch batch (index writes, no ECS call) takes this long */
  readonly watchBatchMs: number;
  /**
   * events a watch invocation takes at once: the event source waits at most 1 s (lib/guard-functions.ts,
   * batch size 100), so at the large account's ~1 event a second about 2 share one, and sparse events go alone
   */
  readonly taskEventsPerWatchInvocation: number;
  /** in-use index entries a list removes a day (tasks replaced since the last list) */
  readonly indexRemovalsPerDay: number;
  /** in-use index entries (the bench's --part=index count) */
  readonly indexEntries: number;
}

export interface CostLine {
  readonly item: string;
  readonly quantity: number;
  readonly unit: string;
  readonly usd: number;
}

export interface MonthlyCost {
  readonly shape: string;
  readonly lines: readonly CostLine[];
  readonly totalUsd: number;
}

/**
 * One invocation per push (an upper bound: pushes within one 30 s window share one), each as long as the
 * bench's batch, since the inventory, not the number of pushes, sets the duration. A reconcile run is taken
 * to last as long as one batch too (one inventory, then a DescribeImages per repository in use).
 */
export function monthlyCost(measured: MeasuredAccount, assume: Assumptions): MonthlyCost {
  const pushInvocations = assume.pushesPerDay * DAYS_PER_MONTH;
  const reconcileRuns = assume.reconcileRunsPerDay * DAYS_PER_MONTH;
  const invocations = pushInvocations + reconcileRuns;
  const gbSeconds = ((invocations * (measured.batchMs + assume.initMs)) / 1000) * (assume.memoryMb / 1024);
  const alerts = assume.alertsPerDay * DAYS_PER_MONTH;
  // EventBridge's SendMessage per push, the event source's receive and delete per invocation, idle polling
  const sqsRequests = pushInvocations * 3 + assume.idleReceivesPerDay * DAYS_PER_MONTH;
  // SNS asks KMS for a data key per publish to the encrypted topic, and to decrypt it per delivery (upper bound)
  const kmsRequests = alerts * (1 + assume.emailSubscribers);
  const taskEvents = assume.taskEventsPerDay * DAYS_PER_MONTH;
  const watchInvocations = Math.ceil(taskEvents / assume.taskEventsPerWatchInvocation);
  const watchGbSeconds = ((watchInvocations * (assume.watchBatchMs + assume.initMs)) / 1000) * (assume.memoryMb / 1024);
  // one write per task event (upper bound: STOPPED events write nothing), the list's removals, its status
  const indexWrites = taskEvents + (assume.indexRemovalsPerDay + assume.reconcileRunsPerDay) * DAYS_PER_MONTH;
  // each list reads the byWorkload keys (about 100 bytes an item) in 4 KB units
  const indexReads = reconcileRuns * Math.ceil((assume.indexEntries * 100) / 4096);
  // The catch-up: every run reads each workload's status item (< 4 KB, strongly consistent: 1 read unit); the runs
  // that find a workload overdue list it, which is taken to be rare (a fresh install, a failing workload) and left out.
  const catchUps = assume.catchUpRunsPerDay * DAYS_PER_MONTH;
  const catchUpGbSeconds = ((catchUps * (assume.catchUpMs + assume.initMs)) / 1000) * (assume.memoryMb / 1024);
  const logGb =
    ((invocations + watchInvocations + catchUps) * assume.logBytesPerInvocation + alerts * assume.logBytesPerAlert) /
    1e9;
  const line = (item: string, quantity: number, price: Price): CostLine => ({
    item,
    quantity,
    unit: price.per,
    usd: quantity * price.usd,
  });
  const lines = [
    line('Lambda requests (push + reconcile)', invocations, PRICES.lambdaRequest),
    line('Lambda duration', gbSeconds, PRICES.lambdaArmGbSecond),
    line('SQS requests', sqsRequests, PRICES.sqsRequest),
    line('Lambda requests (watch)', watchInvocations, PRICES.lambdaRequest),
    line('Lambda duration (watch)', watchGbSeconds, PRICES.lambdaArmGbSecond),
    // EventBridge's send per event, receive and delete (upper bound: per event), and the queue's idle polling
    line('SQS requests (watch)', taskEvents * 3 + assume.idleReceivesPerDay * DAYS_PER_MONTH, PRICES.sqsRequest),
    line('EventBridge ECS task events', taskEvents, PRICES.eventBridgeServiceEvent),
    line('DynamoDB writes (watch, list)', indexWrites, PRICES.dynamoDbWrite),
    line('DynamoDB reads (list)', indexReads, PRICES.dynamoDbRead),
    line('Lambda requests (catch-up)', catchUps, PRICES.lambdaRequest),
    line('Lambda duration (catch-up)', catchUpGbSeconds, PRICES.lambdaArmGbSecond),
    line('DynamoDB reads (catch-up)', catchUps * assume.workloads, PRICES.dynamoDbRead),
    line('SNS publishes', alerts, PRICES.snsPublish),
    line('SNS email deliveries', alerts * assume.emailSubscribers, PRICES.snsEmail),
    line('EventBridge ECR events', pushInvocations, PRICES.eventBridgeServiceEvent),
    line('CloudWatch alarms', assume.alarms, PRICES.alarmMonth),
    line('CloudWatch custom metrics', assume.customMetrics, PRICES.metricMonth),
    line('CloudWatch Logs ingestion', logGb, PRICES.logIngestGb),
    line('KMS key (alert topic)', 1, PRICES.kmsKeyMonth),
    line('KMS requests', kmsRequests, PRICES.kmsRequest),
  ];
  return { shape: measured.shape, lines, totalUsd: lines.reduce((sum, l) => sum + l.usd, 0) };
}

/** Alarms of a stack with the defaults (reconcile on): checked against the synthesized template in a test. */
export const DEFAULT_ALARMS = 9;
/**
 * Metric names the handlers emit (the counts, and the inventory duration), one series each (dimension: the
 * service name); a test recounts them in lambda/, so a new metric cannot go uncosted.
 */
export const CUSTOM_METRICS = 22;

/** What both account shapes share; each shape below states only what differs. */
const SHARED_ASSUMPTIONS = {
  reconcileRunsPerDay: 4,
  catchUpRunsPerDay: 96,
  catchUpMs: 200,
  workloads: 1,
  memoryMb: 512,
  initMs: 1_000,
  logBytesPerInvocation: 4_000,
  logBytesPerAlert: 8_000,
  idleReceivesPerDay: 5 * 3 * 60 * 24,
  emailSubscribers: 1,
  alarms: DEFAULT_ALARMS,
  customMetrics: CUSTOM_METRICS,
  watchBatchMs: 200,
} as const;

/** Tasks and index entries from the bench's shapes (bench/accounts.ts, --part=index); every task replaced daily. */
export const ASSUMED: Record<'small' | 'large', Assumptions> = {
  small: {
    ...SHARED_ASSUMPTIONS,
    pushesPerDay: 20,
    alertsPerDay: 1,
    taskEventsPerDay: 100 * 8,
    taskEventsPerWatchInvocation: 1,
    indexRemovalsPerDay: 100,
    indexEntries: 130,
  },
  large: {
    ...SHARED_ASSUMPTIONS,
    pushesPerDay: 1_000,
    alertsPerDay: 10,
    taskEventsPerDay: 10_000 * 8,
    taskEventsPerWatchInvocation: 2,
    indexRemovalsPerDay: 10_000,
    indexEntries: 12_000,
  },
};

export function printCost(costs: readonly MonthlyCost[]): void {
  const usd = (n: number) => `$${n < 0.01 && n > 0 ? n.toFixed(4) : n.toFixed(2)}`;
  console.log('\nper month at us-east-1 list prices read 2026-11-30, free tiers left out (bench/cost.ts):');
  for (const cost of costs) {
    const a = ASSUMED[cost.shape as 'small' | 'large'];
    console.log(
      `  ${cost.shape}: ${usd(cost.totalUsd)} — ${a.pushesPerDay} pushes and ${a.alertsPerDay} alerts a day, reconcile ${a.reconcileRunsPerDay}× a day, ${a.memoryMb} MB arm64, every invocation cold (${a.initMs} ms)`,
    );
    for (const l of [...cost.lines].sort((x, y) => y.usd - x.usd)) {
      const share = ratio(l.usd, cost.totalUsd) * 100;
      console.log(
        `    ${l.item.padEnd(36)} ${usd(l.usd).padStart(8)} (${share.toFixed(0)} %)  ${Number(l.quantity.toPrecision(4)).toLocaleString('en-US')} × ${l.unit}`,
      );
    }
  }
}
