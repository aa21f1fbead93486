/** The monthly cost estimate is arithmetic on the bench's counts: pinned here by hand-computed cases. */
import { describe, expect, it } from 'vitest';
import { type Assumptions, CUSTOM_METRICS, DEFAULT_ALARMS, monthlyCost, PRICES } from '../../bench/cost';
import { synthesizeGuard } from '../support/cdk-app';

const NOTHING: Assumptions = {
  pushesPerDay: 0,
  alertsPerDay: 0,
  reconcileRunsPerDay: 0,
  catchUpRunsPerDay: 0,
  catchUpMs: 0,
  workloads: 0,
  memoryMb: 1024,
  initMs: 0,
  logBytesPerInvocation: 0,
  logBytesPerAlert: 0,
  idleReceivesPerDay: 0,
  emailSubscribers: 0,
  alarms: 0,
  customMetrics: 0,
  taskEventsPerDay: 0,
  watchBatchMs: 0,
  taskEventsPerWatchInvocation: 1,
  indexRemovalsPerDay: 0,
  indexEntries: 0,
};
const BATCH = { shape: 'small', batchMs: 1_000, batchPublishes: 1, batchPushes: 1 };
const usdOf = (lines: readonly { item: string; usd: number }[], item: string) =>
  lines.find((l) => l.item === item)?.usd;

describe('monthlyCost', () => {
  it('given nothing but the topic key, when costed, then the month costs the key alone ($1)', () => {
    expect(monthlyCost(BATCH, NOTHING).totalUsd).toBeCloseTo(1, 10);
  });

  it('given 10 pushes a day of 1 s at 1 GB, when costed, then it bills 300 requests and 300 GB-seconds', () => {
    const cost = monthlyCost(BATCH, { ...NOTHING, pushesPerDay: 10 });
    expect(usdOf(cost.lines, 'Lambda requests (push + reconcile)')).toBeCloseTo(300 * 0.2e-6, 12);
    expect(usdOf(cost.lines, 'Lambda duration')).toBeCloseTo(300 * 0.0000133334, 12);
    // EventBridge's send, the event source's receive and delete, per push
    expect(usdOf(cost.lines, 'SQS requests')).toBeCloseTo(900 * 0.4e-6, 12);
    expect(usdOf(cost.lines, 'EventBridge ECR events')).toBe(0);
  });

  it('given task events, list removals and an index, when costed, then the watch and the index are billed', () => {
    const cost = monthlyCost(BATCH, {
      ...NOTHING,
      taskEventsPerDay: 1_000,
      taskEventsPerWatchInvocation: 4,
      watchBatchMs: 500,
      memoryMb: 512,
      indexRemovalsPerDay: 100,
      reconcileRunsPerDay: 4,
      indexEntries: 12_000,
    });
    // 30,000 events in batches of 4: 7,500 invocations of 0.5 s at half a GB
    expect(usdOf(cost.lines, 'Lambda requests (watch)')).toBeCloseTo(7_500 * 0.2e-6, 12);
    expect(usdOf(cost.lines, 'Lambda duration (watch)')).toBeCloseTo(7_500 * 0.25 * PRICES.lambdaArmGbSecond.usd, 12);
    expect(usdOf(cost.lines, 'SQS requests (watch)')).toBeCloseTo(90_000 * 0.4e-6, 12);
    // a write per event, plus 100 removals and 4 status updates a day
    expect(usdOf(cost.lines, 'DynamoDB writes (watch, list)')).toBeCloseTo((30_000 + 3_120) * 0.625e-6, 12);
    // 120 lists, each reading 1.2 MB of keys in 4 KB units (293)
    expect(usdOf(cost.lines, 'DynamoDB reads (list)')).toBeCloseTo(120 * 293 * 0.125e-6, 12);
    expect(usdOf(cost.lines, 'EventBridge ECS task events')).toBe(0);
  });

  it('given the 15-minute catch-up with nothing overdue, when costed, then its 96 runs a day and their status reads are billed', () => {
    const cost = monthlyCost(BATCH, {
      ...NOTHING,
      catchUpRunsPerDay: 96,
      catchUpMs: 200,
      initMs: 1_000,
      memoryMb: 512,
      workloads: 3,
    });
    // 2,880 runs a month × (1 s + 0.2 s) × 0.5 GB, and one read unit per workload and run
    expect(usdOf(cost.lines, 'Lambda requests (catch-up)')).toBeCloseTo(2_880 * 0.2e-6, 12);
    expect(usdOf(cost.lines, 'Lambda duration (catch-up)')).toBeCloseTo(2_880 * 0.6 * PRICES.lambdaArmGbSecond.usd, 12);
    expect(usdOf(cost.lines, 'DynamoDB reads (catch-up)')).toBeCloseTo(2_880 * 3 * PRICES.dynamoDbRead.usd, 12);
  });

  it('given a cold start and 512 MB, when costed, then the initialisation is billed at half a GB per second', () => {
    const cost = monthlyCost(BATCH, { ...NOTHING, reconcileRunsPerDay: 4, initMs: 1_000, memoryMb: 512 });
    // 120 runs × (1 s + 1 s) × 0.5 GB
    expect(usdOf(cost.lines, 'Lambda duration')).toBeCloseTo(120 * 2 * 0.5 * PRICES.lambdaArmGbSecond.usd, 12);
  });

  it('given alerts, alarms, metrics and logs, when costed, then each is billed at its own price', () => {
    const cost = monthlyCost(BATCH, {
      ...NOTHING,
      alertsPerDay: 2,
      emailSubscribers: 3,
      alarms: 7,
      customMetrics: 15,
      logBytesPerAlert: 1e6,
    });
    expect(usdOf(cost.lines, 'SNS publishes')).toBeCloseTo(60 * 0.5e-6, 12);
    expect(usdOf(cost.lines, 'SNS email deliveries')).toBeCloseTo(180 * 2e-5, 12);
    expect(usdOf(cost.lines, 'CloudWatch alarms')).toBeCloseTo(0.7, 12);
    expect(usdOf(cost.lines, 'CloudWatch custom metrics')).toBeCloseTo(4.5, 12);
    expect(usdOf(cost.lines, 'CloudWatch Logs ingestion')).toBeCloseTo(0.06 * 0.5, 12);
    expect(usdOf(cost.lines, 'KMS requests')).toBeCloseTo(60 * 4 * 0.03e-4, 12);
    expect(cost.totalUsd).toBeCloseTo(
      cost.lines.reduce((sum, l) => sum + l.usd, 0),
      12,
    );
  });

  it('given the stack with its defaults, when synthesized, then it has as many alarms as the estimate counts', () => {
    const { template } = synthesizeGuard(
      { alertEmails: ['ops@example.com'] },
      { bundle: false, stackId: 'CostAlarms' },
    );
    expect(Object.keys(template.findResources('AWS::CloudWatch::Alarm'))).toHaveLength(DEFAULT_ALARMS);
  }, 180_000);

  it('given the handlers, when the metric names they emit are listed, then the estimate counts each once', async () => {
    const { readdirSync, readFileSync } = await import('node:fs');
    const path = await import('node:path');
    const names = new Set<string>();
    const walk = (dir: string): void => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) walk(full);
        else if (entry.name.endsWith('.ts'))
          for (const m of readFileSync(full, 'utf8').matchAll(/\.count\(\s*'([A-Za-z]+)'|_METRIC = '([A-Za-z]+)'/g))
            names.add((m[1] ?? m[2])!);
      }
    };
    walk(path.resolve(__dirname, '..', '..', 'lambda'));
    expect(names.size).toBe(CUSTOM_METRICS);
  });
});
