/**
 * Part 1: one batch of pushes (`prod` moves in `pushedRepositories` repositories) through the real handler,
 * adapters and SDK clients on a simulated account: requests against the computed lower bound, and the
 * batch's duration on a simulated clock (per-call latency, 4 requests in flight, ECS's documented token
 * buckets on or off) against the shortest duration those same calls allow.
 */
import { handlePushBatch } from '../lambda/handlers/push';
import { toSqsEvent } from '../sim/events';
import { ASSUMED_MEDIANS_MS, VirtualClock, perOperationLatency, type TimedCall } from '../sim/latency';
import { ECS_THROTTLING_CATEGORIES } from '../sim/throttling';
import { START_AT, buildAccount, inventoryLowerBound, pushNewProd, type Shape } from './accounts';
import { fmt, ratio, seconds } from './stats';
import { SETTINGS, simWire } from './wiring';

/** Requests in flight the adapter and the core allow (DEFAULT_INVENTORY_CONCURRENCY, guard concurrency). */
const IN_FLIGHT = 4;

export interface BatchRun {
  readonly shape: string;
  readonly throttling: boolean;
  readonly pushes: number;
  readonly failedRecords: number;
  readonly protectedDigests: number;
  readonly requests: {
    readonly ecs: number;
    readonly lambda: number;
    readonly ecr: number;
    readonly sns: number;
    readonly total: number;
    readonly throttled: number;
  };
  readonly lowerBound: {
    readonly ecs: number;
    readonly lambda: number;
    readonly ecr: number;
    readonly sns: number;
    readonly total: number;
  };
  readonly ratio: { readonly ecs: number; readonly total: number };
  readonly byOperation: Record<string, number>;
  /** simulated milliseconds from the batch's delivery to the handler's answer */
  readonly simulatedMs: number;
  /** the inventory's part of it */
  readonly inventoryMs: number;
  /** shortest duration for the same calls with ≤4 in flight, and (throttling on) the token buckets' floor */
  readonly simulatedLowerBoundMs: number;
  readonly throttleFloorMs: number;
  readonly wallMs: number;
}

export async function measureBatch(shape: Shape, throttling: boolean): Promise<BatchRun> {
  const clock = new VirtualClock(START_AT);
  clock.install(11);
  try {
    const built = buildAccount(shape, throttling ? { ecsThrottling: { now: () => clock.now() } } : {});
    const { account } = built;
    const topicArn = account.sns.createTopic('ecr-digest-guard-alerts');
    const wire = simWire(account, clock, perOperationLatency(ASSUMED_MEDIANS_MS, { seed: 3 }), topicArn);
    const environment = wire.environment();
    const pushed = built.repositories.slice(0, shape.pushedRepositories);
    const events = pushNewProd(built, pushed, 1);

    let inventoryMs = 0;
    const started = clock.now();
    const wallStarted = performance.now();
    const response = await clock.run(() =>
      handlePushBatch(
        toSqsEvent(events, { sentAt: new Date(clock.now()) }),
        SETTINGS,
        environment.deps((fresh) => ({
          takeInventory: async () => {
            const at = clock.now();
            try {
              return await fresh().takeInventory();
            } finally {
              inventoryMs += clock.now() - at;
            }
          },
        })),
      ),
    );
    const wallMs = performance.now() - wallStarted;
    const simulatedMs = clock.now() - started;

    const calls = wire.calls;
    const count = (service: string) => calls.filter((c) => c.service === service).length;
    const ok = (c: TimedCall) => !c.error;
    const protectedDigests = calls.filter((c) => c.operation === 'PutImage' && ok(c)).length;
    const ecsBound = inventoryLowerBound(built.servicesPerCluster, built.tasksPerCluster);
    // ECR: one DescribeImages per pushed repository in use (≤100 digests each), one BatchGetImage per 50
    // digests to protect of a repository (each takes two of its 100 image ids: the digest and its tag), one
    // PutImage per digest to protect; SNS: one Publish per repository with news.
    const protectedPerRepository = new Map<string, number>();
    for (const c of calls.filter((c) => c.operation === 'PutImage' && ok(c))) {
      const repository = (c.input as { repositoryName?: string }).repositoryName ?? '';
      protectedPerRepository.set(repository, (protectedPerRepository.get(repository) ?? 0) + 1);
    }
    const batchGetBound = [...protectedPerRepository.values()].reduce((sum, n) => sum + Math.ceil(n / 50), 0);
    const ecrBound = pushed.length + batchGetBound + protectedDigests;
    // Lambda: ⌈functions/50⌉ ListFunctions, at least 1; these accounts run no Lambda functions.
    const lambdaBound = 1;
    const snsBound = new Set(
      calls
        .filter((c) => c.operation === 'PutImage' && ok(c))
        .map((c) => (c.input as { repositoryName?: string }).repositoryName),
    ).size;
    const byOperation: Record<string, number> = {};
    for (const c of calls)
      byOperation[`${c.service}:${c.operation}${c.error ? ` (${c.error})` : ''}`] =
        (byOperation[`${c.service}:${c.operation}${c.error ? ` (${c.error})` : ''}`] ?? 0) + 1;

    // Shortest possible duration for these very calls: the inventory comes before any ECR call, and each
    // phase keeps at most 4 calls in flight, so each phase lasts at least Σ latency / 4.
    const phaseBound = (filter: (c: TimedCall) => boolean) =>
      calls.filter(filter).reduce((sum, c) => sum + c.latencyMs, 0) / IN_FLIGHT;
    const inventoryCall = (c: TimedCall) => c.service === 'ecs' || c.service === 'lambda';
    // ECS and Lambda are taken concurrently, each with its own limit of 4: ECS alone bounds the phase here.
    const ecsPacking = phaseBound((c) => c.service === 'ecs');
    const otherPacking = phaseBound((c) => !inventoryCall(c));
    // The token buckets (inventory phase only): n calls of a category starting from a full bucket need (n − capacity) / refill seconds.
    let throttleFloorMs = 0;
    if (throttling) {
      const perCategory = new Map<string, number>();
      for (const c of calls.filter((c) => c.service === 'ecs' && ok(c))) {
        const category = Object.entries(ECS_THROTTLING_CATEGORIES).find(([, spec]) =>
          spec.actions.includes(c.operation),
        )?.[0];
        if (category) perCategory.set(category, (perCategory.get(category) ?? 0) + 1);
      }
      for (const [category, n] of perCategory) {
        const spec = ECS_THROTTLING_CATEGORIES[category]!;
        throttleFloorMs = Math.max(throttleFloorMs, (Math.max(0, n - spec.capacity) / spec.refillPerSecond) * 1000);
      }
    }
    const requests = {
      ecs: count('ecs'),
      lambda: count('lambda'),
      ecr: count('ecr'),
      sns: count('sns'),
      total: calls.length,
      throttled: calls.filter((c) => c.error === 'ThrottlingException').length,
    };
    return {
      shape: shape.name,
      throttling,
      pushes: events.length,
      failedRecords: response.batchItemFailures.length,
      protectedDigests,
      requests,
      lowerBound: {
        ecs: ecsBound,
        lambda: lambdaBound,
        ecr: ecrBound,
        sns: snsBound,
        total: ecsBound + lambdaBound + ecrBound + snsBound,
      },
      ratio: {
        ecs: ratio(requests.ecs, ecsBound),
        total: ratio(requests.total, ecsBound + lambdaBound + ecrBound + snsBound),
      },
      byOperation,
      simulatedMs,
      inventoryMs,
      simulatedLowerBoundMs: Math.max(ecsPacking, throttleFloorMs) + otherPacking,
      throttleFloorMs,
      wallMs,
    };
  } finally {
    clock.uninstall();
  }
}

export function printBatch(run: BatchRun, describe: string): void {
  console.log(
    `\n${run.shape} account, ECS throttling ${run.throttling ? 'ON (documented buckets, full at start)' : 'off'}: ${describe}`,
  );
  console.log(
    `  batch: ${run.pushes} pushes moving "prod"; ${run.protectedDigests} digests protected; ${run.failedRecords} records failed`,
  );
  console.log(
    `  ECS requests ${run.requests.ecs} vs lower bound ${run.lowerBound.ecs}: ratio ${fmt(run.ratio.ecs)}${run.requests.throttled ? ` (${run.requests.throttled} answered ThrottlingException and retried)` : ''}`,
  );
  console.log(
    `  Lambda requests ${run.requests.lambda} vs ${run.lowerBound.lambda}, ECR requests ${run.requests.ecr} vs ${run.lowerBound.ecr}, SNS ${run.requests.sns} vs ${run.lowerBound.sns}; all ${run.requests.total} vs ${run.lowerBound.total}: ratio ${fmt(run.ratio.total)}`,
  );
  console.log(
    `  by operation: ${Object.entries(run.byOperation)
      .sort()
      .map(([op, n]) => `${op}=${n}`)
      .join(' ')}`,
  );
  console.log(
    `  simulated time ${seconds(run.simulatedMs, 2)} (inventory ${seconds(run.inventoryMs, 2)}) vs shortest possible for these calls ${seconds(run.simulatedLowerBoundMs, 2)}` +
      `${run.throttling ? ` (token-bucket floor ${seconds(run.throttleFloorMs, 2)})` : ''}: ratio ${fmt(ratio(run.simulatedMs, run.simulatedLowerBoundMs))}; wall ${run.wallMs.toFixed(0)} ms`,
  );
}
