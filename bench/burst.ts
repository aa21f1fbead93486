/**
 * Part 2: a burst of pushes through a model of the SQS event source as deployed, on a simulated clock, into
 * the real handler, adapters and SDK clients on the large simulated account with ECS's documented token
 * buckets. Measures ECS calls per minute, inventories per minute, and push-to-protected latency.
 *
 * The event source model (https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html,
 * https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html, services-sqs-scaling.html):
 * - "Before invoking the function, Lambda continues to poll messages from the queue until the batching
 *   window expires, the invocation payload size quota is reached, or the configured maximum batch size is
 *   reached." A poller's window opens when it receives the first message of a batch.
 * - Maximum concurrency caps the invocations the event source runs at once; a batch that is ready while
 *   every slot is busy waits (and keeps filling up to the batch size) until one frees.
 * - `pollers` stand for the event source's parallel readers; arriving messages are dealt to them in turn
 *   (1 = one reader gathers every batch: the fewest, fullest batches; AWS starts more readers, which only
 *   splits the same messages into more, smaller batches).
 * - A record reported failed becomes visible again after the queue's visibility timeout
 *   (6 × function timeout + batching window, as the construct sets it) and is redelivered with
 *   ApproximateReceiveCount + 1; after 5 receives it goes to the dead-letter queue.
 * - Each concurrency slot is one warm execution environment with its own SDK clients (cold starts and
 *   EventBridge → SQS delivery time are not modelled: both are small next to the figures here).
 */
import type { SQSRecord } from 'aws-lambda';
import {
  DEFAULT_BATCH_SIZE,
  DEFAULT_MAX_BATCHING_WINDOW,
  MAX_CONCURRENCY,
  MAX_RECEIVE_COUNT,
  VISIBILITY_TIMEOUT_FACTOR,
} from '../lib/digest-guard';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ECSClient } from '@aws-sdk/client-ecs';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SDK_CLIENT_CONFIG } from '../lambda/adapters/clients';
import { DynamoDbInUseIndex, inUseIndexCreateTableInput } from '../lambda/adapters/in-use-index';
import { inventoryFor } from '../lambda/adapters/inventory';
import { applyListToIndex } from '../lambda/core/in-use-index';
import type { InventoryPort } from '../lambda/core/ports';
import type { Inventory } from '../lambda/core/types';
import { handlePushBatch } from '../lambda/handlers/push';
import { toSqsRecord, type EcrImageActionEvent } from '../sim/events';
import { ASSUMED_MEDIANS_MS, VirtualClock, perOperationLatency, seededRandom, withLatency } from '../sim/latency';
import { dockerManifest } from '../sim/manifests';
import { LARGE, START_AT, buildAccount } from './accounts';
import { fmt, quantile, seconds } from './stats';
import { SETTINGS, simWire, type Environment } from './wiring';

/** The function timeout the construct defaults to (5 minutes): the visibility timeout derives from it. */
const FUNCTION_TIMEOUT_S = 300;

export type InventoryDesign =
  /** as built: every invocation takes its own fresh inventory */
  | 'per-invocation'
  /** hypothetical: one inventory shared by all invocations; a batch uses the first inventory that started
   * after its newest event, and inventories start at most once per `minIntervalS` */
  | 'shared-fresh'
  /** hypothetical: the invocation protects from the latest finished shared inventory (even one older than
   * its events: protection is additive, never a reason to skip) and returns; the first shared inventory
   * started after its events then checks the same pushes again (in the inventory's own process) */
  | 'provisional-then-scanner'
  /** as built with the watch: every invocation reads the in-use index (filled by one complete list before the
   * burst) instead of taking an inventory. Only for the workload without tasks started during the burst: the
   * race workload would need the watch's delivery modelled (its first-seen check protects such digests) */
  | 'index';

export interface BurstSetting {
  readonly label: string;
  readonly batchSize: number;
  readonly windowS: number;
  readonly maxConcurrency: number;
  readonly pollers: number;
  readonly design: InventoryDesign;
  readonly minIntervalS?: number;
}

export interface BurstSpec {
  readonly pushes: number;
  readonly repositories: number;
  readonly durationS: number;
  /** a pipeline starts a task from `prod` between two pushes of a repository (the incident's race): every
   * push then leaves a digest that came into use seconds earlier; otherwise only the first push of each
   * repository leaves an in-use digest, in use since long before the burst */
  readonly taskBetweenPushes: boolean;
}

export const BURST: BurstSpec = { pushes: 1_000, repositories: 100, durationS: 60, taskBetweenPushes: true };

export interface BurstResult {
  readonly setting: BurstSetting;
  readonly spec: BurstSpec;
  readonly pushes: number;
  /** pushes that left an in-use digest without a tag: the ones whose protection is timed */
  readonly samples: number;
  readonly unprotected: number;
  readonly latencyS: { readonly p50: number; readonly p99: number; readonly max: number };
  readonly invocations: number;
  readonly meanBatch: number;
  readonly inventories: number;
  /** most inventories started within one minute (minutes counted from the burst's start) */
  readonly maxInventoriesPerMinute: number;
  readonly ecsCalls: number;
  readonly maxEcsCallsPerMinute: number;
  readonly ecsThrottled: number;
  readonly redeliveries: number;
  readonly deadLettered: number;
  readonly simulatedEndS: number;
  readonly wallMs: number;
}

interface Message {
  readonly event: EcrImageActionEvent;
  readonly sentAtMs: number;
  receiveCount: number;
}

interface Poller {
  buffer: Message[];
  timer: number | undefined;
  ready: boolean;
}

interface Scan {
  readonly startMs: number;
  readonly done: Promise<Inventory>;
  finished?: Inventory;
}

export async function runBurst(setting: BurstSetting, spec: BurstSpec = BURST): Promise<BurstResult> {
  const clock = new VirtualClock(START_AT);
  clock.install(23);
  const wallStarted = performance.now();
  try {
    const built = buildAccount(LARGE, { ecsThrottling: { now: () => clock.now() } });
    const { account } = built;
    const topicArn = account.sns.createTopic('ecr-digest-guard-alerts');
    const wire = simWire(account, clock, perOperationLatency(ASSUMED_MEDIANS_MS, { seed: 5 }), topicArn);
    const environments: { env: Environment; busy: boolean }[] = Array.from({ length: setting.maxConcurrency }, () => ({
      env: wire.environment(),
      busy: false,
    }));
    const scanner = wire.environment();
    // inside the clock: the list meets ECS's token buckets, whose retries wait on simulated time
    const index = setting.design === 'index' ? await clock.run(() => listedIndex(account, clock)) : undefined;
    const random = seededRandom(99);
    const t0 = clock.now();

    // ── the burst: `pushes` pushes of `prod` at random moments of the minute, dealt evenly over the repositories.
    // Between two pushes of a repository a pipeline starts a task from `prod` (a migration, a canary), so
    // every push leaves a digest in use without its tag, as in the incident.
    const repositories = built.repositories.slice(0, spec.repositories);
    const oneOff = new Map(
      repositories.map((r) => [
        r,
        account.ecs.registerTaskDefinition(`${r}-oneoff`, [
          { name: 'app', image: `${account.ecr.registryHost}/${r}:prod` },
        ]),
      ]),
    );
    const times = Array.from({ length: spec.pushes }, () => random() * spec.durationS * 1000).sort((a, b) => a - b);
    const order = Array.from({ length: spec.pushes }, (_, i) => repositories[i % repositories.length]!);
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    // The digest `prod` names in each repository, before the burst and after each push.
    const prod = new Map(
      repositories.map((r) => [
        r,
        account.events.filter((e) => e.detail['repository-name'] === r).at(-1)!.detail['image-digest'],
      ]),
    );
    const samples: { repository: string; digest: string; pushMs: number }[] = [];
    const lastPushAt = new Map<string, number>();
    const generation = new Map<string, number>();

    // ── the event source
    const windowMs = setting.windowS * 1000;
    const visibilityMs = (VISIBILITY_TIMEOUT_FACTOR * FUNCTION_TIMEOUT_S + setting.windowS) * 1000;
    const pollers: Poller[] = Array.from({ length: setting.pollers }, () => ({
      buffer: [],
      timer: undefined,
      ready: false,
    }));
    const readyPollers: Poller[] = [];
    let dealt = 0;
    let outstanding = 0; // messages sent and not yet deleted or dead-lettered
    let pushesLeft = spec.pushes;
    let redeliveries = 0;
    let followUps = 0; // checks the shared inventory still owes to pushes already acknowledged
    let deadLettered = 0;
    const invocations: { startMs: number; endMs: number; records: number }[] = [];
    const inventoryStarts: number[] = [];
    let finish: () => void = () => undefined;
    const finished = new Promise<void>((resolve) => (finish = resolve));
    const maybeFinish = () => {
      if (pushesLeft === 0 && outstanding === 0 && followUps === 0) finish();
    };

    const markReady = (poller: Poller) => {
      if (poller.ready) return;
      if (poller.timer !== undefined) clock.cancel(poller.timer);
      poller.timer = undefined;
      poller.ready = true;
      readyPollers.push(poller);
      dispatch();
    };
    const openWindow = (poller: Poller) => {
      poller.timer = clock.schedule(windowMs, () => markReady(poller));
    };
    const arrive = (message: Message) => {
      const poller = pollers[dealt++ % pollers.length]!;
      poller.buffer.push(message);
      if (poller.buffer.length === 1 && !poller.ready) openWindow(poller);
      if (poller.buffer.length >= setting.batchSize) markReady(poller);
    };
    const dispatch = () => {
      for (;;) {
        const slot = environments.find((e) => !e.busy);
        if (!slot || readyPollers.length === 0) return;
        const poller = readyPollers.shift()!;
        poller.ready = false;
        const batch = poller.buffer.splice(0, setting.batchSize);
        if (poller.buffer.length >= setting.batchSize) markReady(poller);
        else if (poller.buffer.length > 0) openWindow(poller);
        slot.busy = true;
        void invoke(slot, batch).finally(() => {
          slot.busy = false;
          dispatch();
          maybeFinish();
        });
      }
    };

    // ── inventories (the shared designs): every scan planned or started, in start order
    const scans: Scan[] = [];
    let latestFinished: Inventory | undefined;
    /** The first shared inventory that starts after `newestEventMs` (second precision, so rounded up). */
    const sharedFreshInventory = (newestEventMs: number): Promise<Inventory> => {
      const notBefore = Math.floor(newestEventMs / 1000) * 1000 + 1000;
      const usable = scans.find((s) => s.startMs >= notBefore);
      if (usable) return usable.done;
      const last = scans.at(-1);
      const startMs = Math.max(clock.now(), notBefore, last ? last.startMs + (setting.minIntervalS ?? 0) * 1000 : 0);
      let begin!: () => void;
      const done = new Promise<void>((resolve) => (begin = resolve)).then(() => {
        inventoryStarts.push(clock.now());
        return scanner
          .deps((fresh) => fresh())
          .inventoryFor(account.accountId, account.region)
          .takeInventory();
      });
      const scan: Scan = { startMs, done };
      done.then(
        (inventory) => {
          scan.finished = inventory;
          latestFinished = inventory;
        },
        () => undefined,
      );
      scans.push(scan);
      clock.schedule(startMs - clock.now(), begin);
      return done;
    };

    const invoke = async (slot: { env: Environment }, batch: Message[]) => {
      const startMs = clock.now();
      const byId = new Map<string, Message>();
      const records: SQSRecord[] = batch.map((m) => {
        const record = toSqsRecord(m.event, { receiveCount: m.receiveCount, sentAt: new Date(m.sentAtMs) });
        byId.set(record.messageId, m);
        return record;
      });
      const newestEventMs = Math.max(...batch.map((m) => Date.parse(m.event.time)));
      const counted = (port: InventoryPort): InventoryPort => ({
        takeInventory: () => {
          inventoryStarts.push(clock.now());
          return port.takeInventory();
        },
      });
      let failedIds: string[];
      if (setting.design === 'per-invocation') {
        const response = await handlePushBatch(
          { Records: records },
          SETTINGS,
          slot.env.deps((fresh) => counted(fresh())),
        );
        failedIds = response.batchItemFailures.map((f) => f.itemIdentifier);
      } else if (setting.design === 'provisional-then-scanner') {
        const older = latestFinished;
        const response = older
          ? await handlePushBatch(
              { Records: records },
              SETTINGS,
              slot.env.deps(() => ({ takeInventory: async () => older })),
            )
          : { batchItemFailures: [] };
        failedIds = response.batchItemFailures.map((f) => f.itemIdentifier);
        // The fresh check, owed by the inventory's process: the same pushes against the first inventory
        // that started after them (a real deployment would keep this debt durably, e.g. in a table).
        followUps += 1;
        void sharedFreshInventory(newestEventMs)
          .then((fresh) =>
            handlePushBatch(
              { Records: records },
              SETTINGS,
              scanner.deps(() => ({ takeInventory: async () => fresh })),
            ),
          )
          .finally(() => {
            followUps -= 1;
            maybeFinish();
          });
      } else if (setting.design === 'index') {
        const response = await handlePushBatch({ Records: records }, SETTINGS, {
          // a fallback to the direct inventory would count as an inventory here
          ...slot.env.deps((fresh) => counted(fresh())),
          inUseIndex: { index: index! },
        });
        failedIds = response.batchItemFailures.map((f) => f.itemIdentifier);
      } else {
        const response = await handlePushBatch(
          { Records: records },
          SETTINGS,
          slot.env.deps(() => ({ takeInventory: () => sharedFreshInventory(newestEventMs) })),
        );
        failedIds = response.batchItemFailures.map((f) => f.itemIdentifier);
      }
      invocations.push({ startMs, endMs: clock.now(), records: batch.length });
      const failed = new Set(failedIds);
      for (const [id, message] of byId) {
        if (!failed.has(id)) {
          outstanding -= 1;
          continue;
        }
        if (message.receiveCount >= MAX_RECEIVE_COUNT) {
          deadLettered += 1;
          outstanding -= 1;
          continue;
        }
        redeliveries += 1;
        clock.schedule(visibilityMs, () => {
          message.receiveCount += 1;
          arrive(message);
        });
      }
    };

    // ── schedule the pushes and the tasks started between them
    times.forEach((atMs, i) => {
      const repository = order[i]!;
      const previous = lastPushAt.get(repository);
      lastPushAt.set(repository, atMs);
      if (previous !== undefined && spec.taskBetweenPushes) {
        // A task started from `prod` halfway between this repository's previous push and this one.
        clock.schedule(
          (previous + atMs) / 2,
          () => void account.ecs.runTask(built.fleet.clusters[0]!, oneOff.get(repository)!, 'pipeline'),
        );
      }
      clock.schedule(atMs, () => {
        const g = (generation.get(repository) ?? 0) + 1;
        generation.set(repository, g);
        const before = account.events.length;
        const departed = prod.get(repository)!;
        const digest = account.ecr.pushImage(repository, {
          tag: 'prod',
          manifest: dockerManifest({ seed: `${repository}@burst-${g}` }).text,
        });
        prod.set(repository, digest);
        if (g === 1 || spec.taskBetweenPushes) samples.push({ repository, digest: departed, pushMs: clock.now() });
        const event = account.events[before]!;
        outstanding += 1;
        pushesLeft -= 1;
        arrive({ event, sentAtMs: clock.now(), receiveCount: 1 });
      });
    });

    await clock.run(() => finished);

    // ── figures
    const protectedAt = new Map<string, number>();
    for (const call of wire.calls) {
      if (call.operation !== 'PutImage' || call.error) continue;
      const input = call.input as { repositoryName: string; imageDigest: string };
      const key = `${input.repositoryName}@${input.imageDigest}`;
      if (!protectedAt.has(key)) protectedAt.set(key, call.endMs);
    }
    const latencies: number[] = [];
    let unprotected = 0;
    for (const s of samples) {
      const at = protectedAt.get(`${s.repository}@${s.digest}`);
      if (at === undefined) unprotected += 1;
      else latencies.push((at - s.pushMs) / 1000);
    }
    const perMinute = (times: readonly number[]) => {
      const buckets = new Map<number, number>();
      for (const t of times)
        buckets.set(Math.floor((t - t0) / 60_000), (buckets.get(Math.floor((t - t0) / 60_000)) ?? 0) + 1);
      return Math.max(0, ...buckets.values());
    };
    const ecsCalls = wire.calls.filter((c) => c.service === 'ecs');
    const wallMs = performance.now() - wallStarted;
    return {
      setting,
      spec,
      pushes: spec.pushes,
      samples: samples.length,
      unprotected,
      // Unprotected pushes count as never protected: they sort last.
      latencyS: {
        p50: quantile([...latencies, ...Array<number>(unprotected).fill(Number.POSITIVE_INFINITY)], 0.5),
        p99: quantile([...latencies, ...Array<number>(unprotected).fill(Number.POSITIVE_INFINITY)], 0.99),
        max: unprotected ? Number.POSITIVE_INFINITY : Math.max(...latencies),
      },
      invocations: invocations.length,
      meanBatch: invocations.reduce((n, i) => n + i.records, 0) / Math.max(1, invocations.length),
      inventories: inventoryStarts.length,
      maxInventoriesPerMinute: perMinute(inventoryStarts),
      ecsCalls: ecsCalls.length,
      maxEcsCallsPerMinute: perMinute(ecsCalls.map((c) => c.startMs)),
      ecsThrottled: ecsCalls.filter((c) => c.error === 'ThrottlingException').length,
      redeliveries,
      deadLettered,
      simulatedEndS: (clock.now() - t0) / 1000,
      wallMs,
    };
  } finally {
    clock.uninstall();
  }
}

/**
 * The in-use index after one complete list of the account (untimed: the reconcile's work, not the burst's), read
 * through the latency model like every other call (DynamoDB at the model's default median, an assumption).
 */
async function listedIndex(account: BuiltAccountLike, clock: VirtualClock): Promise<DynamoDbInUseIndex> {
  const table = 'ecr-digest-guard-in-use-index';
  const plain = account.clientConfig();
  await new DynamoDBClient(plain).send(new CreateTableCommand(inUseIndexCreateTableInput(table)));
  const here = { account: account.accountId, region: account.region };
  const inventory = await inventoryFor(here.account, here.region, {
    ecs: new ECSClient(plain),
    lambda: new LambdaClient(plain),
  }).takeInventory();
  const listed = await applyListToIndex(
    inventory,
    { registry: here, workload: here, startedAtMs: clock.now() },
    new DynamoDbInUseIndex(table, new DynamoDBClient(plain)),
  );
  if (listed.outcome !== 'complete') throw new Error('bench: the list before the burst was partial');
  const latency = perOperationLatency(ASSUMED_MEDIANS_MS, { seed: 6 });
  const requestHandler = withLatency(account.transport.requestHandler, clock, latency);
  return new DynamoDbInUseIndex(table, new DynamoDBClient({ ...plain, ...SDK_CLIENT_CONFIG, requestHandler }));
}

type BuiltAccountLike = ReturnType<typeof buildAccount>['account'];

/**
 * The index design on the workload it is measured on (see `InventoryDesign`): as deployed, and with a 2 s window,
 * which a batch that takes no inventory can afford (the window was sized to space inventories out).
 */
export function indexBurstSettings(): BurstSetting[] {
  const deployed: BurstSetting = {
    label: `in-use index, batch ${DEFAULT_BATCH_SIZE}, window ${DEFAULT_MAX_BATCHING_WINDOW.toSeconds()} s (as deployed)`,
    batchSize: DEFAULT_BATCH_SIZE,
    windowS: DEFAULT_MAX_BATCHING_WINDOW.toSeconds(),
    maxConcurrency: MAX_CONCURRENCY,
    pollers: 1,
    design: 'index',
  };
  return [deployed, { ...deployed, label: `in-use index, batch ${DEFAULT_BATCH_SIZE}, window 2 s`, windowS: 2 }];
}

/** The settings compared side by side: the deployed one first. */
export function burstSettings(everything: boolean): BurstSetting[] {
  const deployed = {
    batchSize: DEFAULT_BATCH_SIZE,
    windowS: DEFAULT_MAX_BATCHING_WINDOW.toSeconds(),
    maxConcurrency: MAX_CONCURRENCY,
    pollers: 1,
    design: 'per-invocation' as const,
  };
  const previous = { ...deployed, batchSize: 100 };
  const all: BurstSetting[] = [
    { label: `as deployed: batch ${deployed.batchSize}, window ${deployed.windowS} s`, ...deployed },
    { label: 'batch 100, window 30 s (the first default)', ...previous },
    { label: 'batch 100, window 10 s', ...previous, windowS: 10 },
    { label: 'batch 100, window 60 s', ...previous, windowS: 60 },
    { label: 'batch 10000, window 10 s', ...deployed, batchSize: 10_000, windowS: 10 },
    { label: 'batch 10000, window 60 s', ...deployed, batchSize: 10_000, windowS: 60 },
    { label: 'as deployed, 5 pollers', ...deployed, pollers: 5 },
    {
      label: 'shared fresh inventory ≥30 s apart (batch 100, window 10 s)',
      ...previous,
      windowS: 10,
      design: 'shared-fresh',
      minIntervalS: 30,
    },
    {
      label: 'provisional, then shared fresh ≥30 s apart (batch 100, window 10 s)',
      ...previous,
      windowS: 10,
      design: 'provisional-then-scanner',
      minIntervalS: 30,
    },
  ];
  // The default run leaves out batch 100 with other windows: batches of 100 fill in ~6 s at this rate, so
  // the window hardly matters there (`--burst=all` shows it).
  return everything ? all : all.filter((_, i) => i !== 2 && i !== 3);
}

export function printBurst(results: readonly BurstResult[]): void {
  const spec = results[0]?.spec ?? BURST;
  console.log(
    `\nburst: ${spec.pushes} pushes of "prod" in ${spec.durationS} s over ${spec.repositories} repositories of the large account, ` +
      `${spec.taskBetweenPushes ? 'a task started from "prod" between two pushes of a repository (every push leaves a digest in use for seconds)' : "no task started during the burst (only each repository's first push leaves an in-use digest)"}; ` +
      `ECS throttling on; max concurrency ${MAX_CONCURRENCY}; targets: ≤ 2 inventories/minute, p99 push→protected ≤ 30 s`,
  );
  const header = [
    'setting',
    'invocations',
    'mean batch',
    'inventories',
    'max inv/min',
    'ECS calls',
    'max ECS/min',
    'throttled',
    'p50',
    'p99',
    'max',
    'unprotected',
    'redelivered',
    'meets both',
  ];
  const rows = results.map((r) => [
    r.setting.label,
    String(r.invocations),
    fmt(r.meanBatch, 0),
    String(r.inventories),
    String(r.maxInventoriesPerMinute),
    String(r.ecsCalls),
    String(r.maxEcsCallsPerMinute),
    String(r.ecsThrottled),
    `${fmt(r.latencyS.p50, 1)} s`,
    `${fmt(r.latencyS.p99, 1)} s`,
    `${fmt(r.latencyS.max, 1)} s`,
    String(r.unprotected),
    String(r.redeliveries),
    r.maxInventoriesPerMinute <= 2 && r.latencyS.p99 <= 30 ? 'yes' : 'no',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: readonly string[]) =>
    `  ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')}`;
  console.log(line(header));
  for (const row of rows) console.log(line(row));
  console.log(
    `  (${results[0]?.samples ?? 0} timed pushes per setting, those that leave an in-use digest untagged; simulated time to drain ${results.map((r) => seconds(r.simulatedEndS * 1000, 0)).join(', ')})`,
  );
}
