/**
 * Time for the simulated account without waiting for it: a virtual clock that runs real async code (the
 * real SDK clients, adapters and handler) and jumps from one timer to the next whenever nothing else is
 * left to run, plus per-call latency models applied on the wire. A run's figures are then counts of
 * simulated milliseconds: the same on a busy machine as on an idle one, and the same from run to run
 * (`Math.random`, which the SDK's retry jitter uses, is seeded while the clock is installed).
 *
 * What the clock replaces while installed: `setTimeout`/`clearTimeout` (the SDK's retry back-off and its
 * adaptive rate limiter wait through them), `Date.now` (the rate limiter, the ECS token buckets when given
 * `now: () => clock.now()`, and `SimClock` all read it) and `Math.random`. `new Date()` without arguments,
 * `performance.now()` and `setImmediate` keep real time: nothing whose timing matters here reads them.
 *
 * Real I/O takes no simulated time: while a file read, a DNS lookup or a socket write is in flight, the clock
 * fires no timer and waits for it, however long a busy machine makes it take. The SDK does such I/O on a
 * client's first call (it reads the shared config files, `~/.aws/config` and `~/.aws/credentials`, found or
 * not), so without this rule a run's figures, or whether it finishes at all, depended on the machine's load.
 */
import type { HttpRequest, HttpResponse } from '@smithy/protocol-http';

/** A small, fast, seedable PRNG (mulberry32): the same seed gives the same sequence. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Timer {
  readonly id: number;
  readonly at: number;
  readonly seq: number;
  readonly fire: () => void;
  cancelled: boolean;
}

/** What `setTimeout` returns while the clock is installed: enough of node's `Timeout` for the SDK. */
class VirtualTimeout {
  constructor(readonly id: number) {}
  ref(): this {
    return this;
  }
  unref(): this {
    return this;
  }
  hasRef(): boolean {
    return true;
  }
  refresh(): this {
    return this;
  }
  [Symbol.toPrimitive](): number {
    return this.id;
  }
}

/**
 * The kinds of libuv request `process.getActiveResourcesInfo()` lists while real I/O is owed an answer: file
 * system calls (a `fs.promises` file handle's close shows as `CloseReq`, and `readFile` resolves only after it:
 * without it a timer could fire between the read and its answer), DNS lookups, connects, writes and shutdowns.
 * Long-lived handles (servers, open sockets, pipes, timers) are not requests: they may stay open for the whole
 * process and are not waited for.
 * See: https://nodejs.org/docs/latest-v20.x/api/process.html#processgetactiveresourcesinfo
 */
const REAL_IO_REQUEST = new RegExp(
  `^(${[
    'FSReqCallback',
    'FSReqPromise',
    'FileHandleCloseReq',
    'CloseReq',
    'GetAddrInfoReqWrap',
    'GetNameInfoReqWrap',
    'QueryReqWrap',
    '\\w*ConnectWrap',
    'WriteWrap',
    'ShutdownWrap',
    'SendWrap',
  ].join('|')})$`,
);

/** The real I/O requests in flight in this process, by kind (empty when none). */
export function realIoInFlight(): string[] {
  return process.getActiveResourcesInfo().filter((kind) => REAL_IO_REQUEST.test(kind));
}

export class VirtualClock {
  private nowMs: number;
  private seq = 0;
  private readonly heap: Timer[] = [];
  private readonly byId = new Map<number, Timer>();
  private restore: (() => void) | undefined;
  /** the real `setTimeout`, to wait on real I/O while the global one is replaced */
  private realSetTimeout: typeof setTimeout = globalThis.setTimeout;

  /**
   * @param realIoLimitMs real milliseconds `run` waits for real I/O to come back before it gives up (only a
   *   request that never completes reaches it; a busy machine only makes I/O slow)
   */
  constructor(
    startAt: Date,
    private readonly realIoLimitMs = 60_000,
  ) {
    this.nowMs = startAt.getTime();
  }

  /** Simulated milliseconds since the epoch. */
  now(): number {
    return this.nowMs;
  }

  /** Resolves after `ms` simulated milliseconds. */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.schedule(ms, resolve));
  }

  /** Calls `fire` after `ms` simulated milliseconds; returns an id for `cancel`. */
  schedule(ms: number, fire: () => void): number {
    const timer: Timer = {
      id: ++this.seq,
      at: this.nowMs + Math.max(0, Number.isFinite(ms) ? ms : 0),
      seq: this.seq,
      fire,
      cancelled: false,
    };
    this.byId.set(timer.id, timer);
    this.push(timer);
    return timer.id;
  }

  cancel(id: number): void {
    const timer = this.byId.get(id);
    if (timer) timer.cancelled = true;
    this.byId.delete(id);
  }

  /**
   * Replaces the global timers, `Date.now` and `Math.random` (seeded) until `uninstall`. Install before
   * creating a `SimulatedAccount` with `startAt` equal to this clock's start, so that the account's clock
   * and this one agree.
   */
  install(seed = 1): void {
    if (this.restore) throw new Error('VirtualClock: already installed');
    const saved = {
      setTimeout: globalThis.setTimeout,
      clearTimeout: globalThis.clearTimeout,
      now: Date.now,
      random: Math.random,
    };
    // Node's own rule: a delay that is not a number from 1 to 2^31 − 1 becomes 1 ms. Without it, a caller that
    // waits for a sub-millisecond remainder (the SDK's rate limiter does) would never see the clock move.
    const fakeSetTimeout = (handler: (...args: unknown[]) => void, ms?: number, ...args: unknown[]) => {
      const delay = Number(ms);
      return new VirtualTimeout(this.schedule(delay >= 1 && delay <= 2 ** 31 - 1 ? delay : 1, () => handler(...args)));
    };
    const fakeClearTimeout = (timeout: unknown) => {
      if (timeout instanceof VirtualTimeout) this.cancel(timeout.id);
      else if (typeof timeout === 'number') this.cancel(timeout);
    };
    this.realSetTimeout = saved.setTimeout;
    globalThis.setTimeout = fakeSetTimeout as unknown as typeof globalThis.setTimeout;
    globalThis.clearTimeout = fakeClearTimeout as unknown as typeof globalThis.clearTimeout;
    Date.now = () => this.nowMs;
    Math.random = seededRandom(seed);
    this.restore = () => {
      globalThis.setTimeout = saved.setTimeout;
      globalThis.clearTimeout = saved.clearTimeout;
      Date.now = saved.now;
      Math.random = saved.random;
    };
  }

  uninstall(): void {
    this.restore?.();
    this.restore = undefined;
  }

  /**
   * Runs `work` to completion on simulated time: lets every ready promise, tick and immediate run and every
   * real I/O request in flight come back, then moves the clock to the earliest timer and fires every timer
   * due then, and again, until `work` settles. Throws when `work` is still pending with no timer and no real
   * I/O left (it waits on something outside the simulation), or when real I/O is not back within
   * `realIoLimitMs` of real time.
   */
  async run<T>(work: () => Promise<T>): Promise<T> {
    let settled = false;
    const outcome = work().then(
      (value) => {
        settled = true;
        return { value };
      },
      (error: unknown) => {
        settled = true;
        return { error };
      },
    );
    const isSettled = () => settled;
    for (;;) {
      await this.quiesce(isSettled);
      if (settled) break;
      let next = this.pop();
      for (let idle = 0; !next && !settled && idle < 50; idle++) {
        await this.quiesce(isSettled);
        next = this.pop();
      }
      if (settled) {
        if (next) this.push(next);
        break;
      }
      if (!next) throw new Error('VirtualClock.run: the work is pending but no timer is left (it waits on real I/O?)');
      this.nowMs = Math.max(this.nowMs, next.at);
      this.fire(next);
      // Everything else due at the same moment fires before the program runs on.
      while (this.heap.length && this.heap[0]!.at <= this.nowMs) {
        const due = this.pop();
        if (due) this.fire(due);
      }
    }
    const result = await outcome;
    if ('error' in result) throw result.error;
    return result.value;
  }

  /**
   * Lets ready work run, and waits (in real time) while real I/O is in flight, so that no timer fires, and
   * simulated time does not move, before the I/O is back: where it lands among the timers then never depends
   * on how long the machine took to serve it.
   */
  private async quiesce(isSettled: () => boolean): Promise<void> {
    const startedMs = performance.now();
    for (;;) {
      await settle();
      if (isSettled()) return;
      const inFlight = realIoInFlight();
      if (inFlight.length === 0) return;
      if (performance.now() - startedMs > this.realIoLimitMs) {
        const pending = inFlight.join(', ');
        throw new Error(`VirtualClock.run: real I/O still in flight after ${this.realIoLimitMs} real ms: ${pending}`);
      }
      await new Promise<void>((resolve) => this.realSetTimeout(resolve, 1));
    }
  }

  private fire(timer: Timer): void {
    this.byId.delete(timer.id);
    timer.fire();
  }

  /** The earliest timer not cancelled, removed from the heap. */
  private pop(): Timer | undefined {
    while (this.heap.length) {
      const top = this.heap[0]!;
      const last = this.heap.pop()!;
      if (this.heap.length) {
        this.heap[0] = last;
        this.siftDown(0);
      }
      if (!top.cancelled) return top;
    }
    return undefined;
  }

  private push(timer: Timer): void {
    this.heap.push(timer);
    let i = this.heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(this.heap[i]!, this.heap[parent]!)) break;
      [this.heap[i], this.heap[parent]] = [this.heap[parent]!, this.heap[i]!];
      i = parent;
    }
  }

  private siftDown(i: number): void {
    const n = this.heap.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < n && before(this.heap[l]!, this.heap[m]!)) m = l;
      if (r < n && before(this.heap[r]!, this.heap[m]!)) m = r;
      if (m === i) return;
      [this.heap[i], this.heap[m]] = [this.heap[m]!, this.heap[i]!];
      i = m;
    }
  }
}

function before(a: Timer, b: Timer): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}

/** Lets every promise, `process.nextTick` and already queued immediate run (real event loop turns). */
async function settle(): Promise<void> {
  for (let i = 0; i < 2; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

// ─────────────────────────────── latency models ───────────────────────────────

/** Milliseconds one call takes end to end (request on the wire, service time, answer on the wire). */
export type LatencyModel = (service: string, operation: string) => number;

/** Every call takes the same time. */
export function fixedLatency(ms: number): LatencyModel {
  return () => ms;
}

/**
 * Per-operation medians with a log-normal spread (`sigma` 0.35 puts p99 at about 2.3 × the median),
 * drawn from a seeded PRNG. The medians are assumptions for calls within one region, not measurements
 * of AWS: no AWS document gives API latencies.
 */
export function perOperationLatency(
  mediansMs: Readonly<Record<string, number>>,
  options: { readonly defaultMs?: number; readonly sigma?: number; readonly seed?: number } = {},
): LatencyModel {
  const random = seededRandom(options.seed ?? 7);
  const sigma = options.sigma ?? 0.35;
  const normal = (): number => {
    // Box-Muller; 1 - u keeps the logarithm finite.
    const u = 1 - random();
    const v = random();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  };
  return (service, operation) => {
    const median = mediansMs[`${service}:${operation}`] ?? mediansMs[service] ?? options.defaultMs ?? 50;
    return median * Math.exp(sigma * normal());
  };
}

/** The assumed medians the benchmarks use (in-region calls from Lambda), by `service:Operation` or `service`. */
export const ASSUMED_MEDIANS_MS: Readonly<Record<string, number>> = {
  'ecs:ListClusters': 40,
  'ecs:ListServices': 40,
  'ecs:ListTasks': 40,
  'ecs:DescribeServices': 70,
  'ecs:DescribeTasks': 80,
  'ecs:DescribeServiceRevisions': 60,
  'ecs:DescribeServiceDeployments': 60,
  'ecs:DescribeTaskDefinition': 40,
  'ecr:DescribeImages': 50,
  'ecr:BatchGetImage': 50,
  'ecr:PutImage': 120,
  'sns:Publish': 40,
};

/** One call as the latency wrapper saw it, in simulated milliseconds. */
export interface TimedCall {
  readonly service: string;
  readonly operation: string;
  readonly startMs: number;
  readonly endMs: number;
  readonly latencyMs: number;
  readonly input?: unknown;
  /** the AWS error code answered, if any */
  readonly error?: string;
}

interface RequestHandlerLike {
  handle(request: HttpRequest, options?: unknown): Promise<{ response: HttpResponse }>;
}

/** The simulated service a request is for, and its operation, read the way the simulated wire reads them. */
export function identifyRequest(request: HttpRequest): { service: string; operation: string; input?: unknown } {
  const host = request.hostname;
  const service = host.startsWith('api.ecr.') ? 'ecr' : (host.split('.')[0] ?? 'unknown');
  const target = request.headers['x-amz-target'] ?? request.headers['X-Amz-Target'];
  const body =
    typeof request.body === 'string'
      ? request.body
      : request.body instanceof Uint8Array
        ? new TextDecoder().decode(request.body)
        : undefined;
  if (target) {
    let input: unknown;
    try {
      input = body ? JSON.parse(body) : undefined;
    } catch {
      input = undefined;
    }
    return { service, operation: String(target).split('.').pop() ?? '', input };
  }
  if (body?.includes('Action=')) return { service, operation: new URLSearchParams(body).get('Action') ?? '' };
  if (service === 'lambda' && request.method === 'GET') {
    // The few Lambda REST routes the guard reads (botocore/data/lambda/2015-03-31/service-2.json).
    if (/^\/2015-03-31\/functions\/?$/.test(request.path)) return { service, operation: 'ListFunctions' };
    if (/^\/2015-03-31\/functions\/[^/]+\/aliases\/?$/.test(request.path)) return { service, operation: 'ListAliases' };
    if (/^\/2015-03-31\/functions\/[^/]+\/?$/.test(request.path)) return { service, operation: 'GetFunction' };
  }
  return { service, operation: `${request.method} ${request.path}` };
}

/**
 * Wraps a simulated wire's request handler so that each call takes `model(service, operation)`
 * simulated milliseconds: half on the way in (the service, and its throttling, sees the request then),
 * half on the way back. Pass the result as `requestHandler` of any SDK client.
 */
export function withLatency(
  inner: RequestHandlerLike,
  clock: VirtualClock,
  model: LatencyModel,
  record?: (call: TimedCall) => void,
) {
  return {
    handle: async (request: HttpRequest, options?: unknown): Promise<{ response: HttpResponse }> => {
      const { service, operation, input } = identifyRequest(request);
      const latencyMs = model(service, operation);
      const startMs = clock.now();
      await clock.sleep(latencyMs / 2);
      const answer = await inner.handle(request, options);
      await clock.sleep(latencyMs / 2);
      const status = answer.response.statusCode;
      const errorType = answer.response.headers['x-amzn-errortype'];
      const error = status >= 400 ? (errorType ?? `HTTP ${status}`) : undefined;
      record?.({
        service,
        operation,
        startMs,
        endMs: clock.now(),
        latencyMs,
        ...(input !== undefined ? { input } : {}),
        ...(error ? { error } : {}),
      });
      return answer;
    },
    updateHttpClientConfig: () => undefined,
    httpHandlerConfigs: () => ({}),
    destroy: () => undefined,
  };
}
