/**
 * The SQS buffer between the EventBridge rule and the push Lambda, with the Lambda event source mapping
 * that polls it: batches, partial batch responses, redelivery after the visibility timeout with a growing
 * `ApproximateReceiveCount`, `maxReceiveCount` then the dead-letter queue, best-effort ordering, at-least-once
 * delivery, and up to `maxConcurrency` invocations at once.
 *
 * What it models, and where AWS says so:
 * - A received message stays invisible for the visibility timeout; a message the function does not delete
 *   (listed in `batchItemFailures`, or the whole batch when the function fails) becomes visible again after
 *   it, with `ApproximateReceiveCount` one higher.
 *   See: https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-visibility-timeout.html
 * - "When the ReceiveCount for a message exceeds the maxReceiveCount for a queue, Amazon SQS moves the
 *   message to a dead-letter queue": with 5, the function sees a message at most 5 times.
 *   See: https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-dead-letter-queues.html
 * - With `ReportBatchItemFailures`, Lambda deletes every message of a successful invocation that the
 *   response does not list. A response that lists an id not in the batch (or an empty id) fails the whole
 *   batch; so does a function error or timeout.
 *   See: https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html#services-sqs-batchfailurereporting
 * - Standard queues: "at-least-once delivery" and "best-effort ordering": a message may arrive twice, and
 *   in another order than it was sent. See: https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/standard-queues.html
 * - `maxConcurrency` caps the concurrent invocations the event source starts (minimum 2).
 *   See: https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html
 */
import { createHash } from 'node:crypto';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { toSqsRecord } from './events';

/** A clock the queue reads and, while waiting for a visibility timeout, moves (`SimClock` fits). */
export interface QueueClock {
  now(): Date;
  advance(ms: number): void;
}

export interface SimQueueOptions {
  readonly clock: QueueClock;
  /** @default 5 (the construct's `MAX_RECEIVE_COUNT`) */
  readonly maxReceiveCount?: number;
  /** @default 1830 s (6 × a 5-minute function timeout + a 30 s batching window, as the construct sets it) */
  readonly visibilityTimeoutMs?: number;
  /** records per invocation @default 100 */
  readonly batchSize?: number;
  /** invocations at once @default 2 (the construct's `MAX_CONCURRENCY`) */
  readonly maxConcurrency?: number;
  /**
   * A number in [0, 1) for each choice the queue makes (reordering, duplicate delivery); left out, the
   * queue delivers in send order and never duplicates. Pass a seeded generator for reproducible runs.
   */
  readonly random?: () => number;
  /** chance that a received message is also handed to a second invocation of the same round @default 0 */
  readonly duplicateDeliveryRate?: number;
  /** queue ARN written into each record @default `arn:aws:sqs:eu-west-1:111122223333:ecr-digest-guard-events` */
  readonly queueArn?: string;
}

/** The handler the event source invokes: an SQS batch in, a partial batch response out (or a throw). */
export type QueueHandler = (event: SQSEvent) => Promise<SQSBatchResponse | undefined>;

export interface QueueMessage {
  readonly messageId: string;
  readonly body: string;
  readonly sentAt: Date;
  /** SQS `ApproximateReceiveCount`: how many times it was handed to the function */
  receiveCount: number;
  /** where it is now */
  state: 'visible' | 'in-flight' | 'deleted' | 'dead-letter';
  visibleAtMs: number;
  /** the invocations that received it, by index in `invocations` */
  readonly receivedBy: number[];
  /** the invocation whose success deleted it */
  deletedBy?: number;
}

export interface Invocation {
  readonly index: number;
  readonly messageIds: readonly string[];
  readonly startedAt: Date;
  /** `ok`: a valid response (its failures listed); `error`: the function threw or answered invalidly */
  outcome?:
    | { readonly kind: 'ok'; readonly failed: readonly string[] }
    | { readonly kind: 'error'; readonly reason: string };
}

export interface SettleResult {
  readonly invocations: number;
  readonly rounds: number;
  readonly deleted: number;
  readonly deadLettered: number;
}

export class SimQueue {
  readonly messages: QueueMessage[] = [];
  readonly invocations: Invocation[] = [];
  private readonly clock: QueueClock;
  private readonly maxReceiveCount: number;
  private readonly visibilityTimeoutMs: number;
  private readonly batchSize: number;
  private readonly maxConcurrency: number;
  private readonly random: (() => number) | undefined;
  private readonly duplicateDeliveryRate: number;
  private readonly queueArn: string;
  private sequence = 0;

  constructor(options: SimQueueOptions) {
    this.clock = options.clock;
    this.maxReceiveCount = options.maxReceiveCount ?? 5;
    this.visibilityTimeoutMs = options.visibilityTimeoutMs ?? 1_830_000;
    this.batchSize = options.batchSize ?? 100;
    this.maxConcurrency = options.maxConcurrency ?? 2;
    this.random = options.random;
    this.duplicateDeliveryRate = options.duplicateDeliveryRate ?? 0;
    this.queueArn = options.queueArn ?? 'arn:aws:sqs:eu-west-1:111122223333:ecr-digest-guard-events';
    if (!Number.isInteger(this.maxReceiveCount) || this.maxReceiveCount < 1)
      throw new RangeError('maxReceiveCount must be a positive integer');
    if (!Number.isInteger(this.batchSize) || this.batchSize < 1 || this.batchSize > 10_000)
      throw new RangeError('batchSize must be 1 to 10000');
    if (!Number.isInteger(this.maxConcurrency) || this.maxConcurrency < 1)
      throw new RangeError('maxConcurrency must be a positive integer');
  }

  /** Sends one message (an EventBridge event, serialised as the SQS target does, or a raw body). Returns its id. */
  send(eventOrBody: object | string): string {
    this.sequence += 1;
    const messageId = `msg-${String(this.sequence).padStart(6, '0')}`;
    const body = typeof eventOrBody === 'string' ? eventOrBody : JSON.stringify(eventOrBody);
    const now = this.clock.now();
    this.messages.push({
      messageId,
      body,
      sentAt: now,
      receiveCount: 0,
      state: 'visible',
      visibleAtMs: now.getTime(),
      receivedBy: [],
    });
    return messageId;
  }

  /** Messages not yet deleted nor dead-lettered. */
  get outstanding(): QueueMessage[] {
    return this.messages.filter((m) => m.state === 'visible' || m.state === 'in-flight');
  }

  get deadLetters(): QueueMessage[] {
    return this.messages.filter((m) => m.state === 'dead-letter');
  }

  message(messageId: string): QueueMessage {
    const message = this.messages.find((m) => m.messageId === messageId);
    if (!message) throw new Error(`sim queue: no message ${messageId}`);
    return message;
  }

  /**
   * One round of the event source: receive up to `maxConcurrency` batches of visible messages, invoke the
   * handler on all of them at once, then delete what succeeded. Returns how many invocations ran.
   */
  async pollOnce(
    handler: QueueHandler,
    options: { readonly concurrency?: number; readonly batchSize?: number } = {},
  ): Promise<number> {
    const concurrency = Math.min(options.concurrency ?? this.maxConcurrency, this.maxConcurrency);
    const batchSize = options.batchSize ?? this.batchSize;
    const batches: QueueMessage[][] = [];
    for (let i = 0; i < concurrency; i += 1) {
      const batch = this.receive(batchSize);
      if (batch.length === 0) break;
      batches.push(batch);
    }
    if (batches.length === 0) return 0;
    // At-least-once: a message of the first batch may also be handed to a second invocation.
    if (this.random && this.duplicateDeliveryRate > 0 && batches.length > 1) {
      for (const message of batches[0]!) {
        if (
          this.random() < this.duplicateDeliveryRate &&
          !batches[1]!.includes(message) &&
          batches[1]!.length < batchSize
        )
          batches[1]!.push(message);
      }
    }
    const invocations = batches.map((batch) => this.startInvocation(batch));
    await Promise.all(
      invocations.map(async ({ invocation, event }) => this.finish(invocation, await settleHandler(handler, event))),
    );
    return invocations.length;
  }

  /**
   * Polls until every message is deleted or dead-lettered, moving the clock past visibility timeouts
   * while only in-flight messages are left. Terminates: each message is received at most `maxReceiveCount` times.
   */
  async settle(
    handler: QueueHandler,
    options: { readonly concurrency?: number; readonly batchSize?: number } = {},
  ): Promise<SettleResult> {
    let rounds = 0;
    let invocations = 0;
    for (;;) {
      this.expireVisibility();
      if (this.outstanding.length === 0) break;
      if (!this.messages.some((m) => m.state === 'visible')) {
        const next = Math.min(...this.outstanding.map((m) => m.visibleAtMs));
        this.clock.advance(Math.max(1, next - this.clock.now().getTime()));
        continue;
      }
      invocations += await this.pollOnce(handler, options);
      rounds += 1;
    }
    return {
      invocations,
      rounds,
      deleted: this.messages.filter((m) => m.state === 'deleted').length,
      deadLettered: this.deadLetters.length,
    };
  }

  /** Receives up to `max` visible messages; best-effort ordering when a random source is given. */
  private receive(max: number): QueueMessage[] {
    this.expireVisibility();
    const visible = this.messages.filter((m) => m.state === 'visible');
    if (this.random) shuffle(visible, this.random);
    const batch: QueueMessage[] = [];
    for (const message of visible) {
      if (batch.length >= max) break;
      if (message.receiveCount >= this.maxReceiveCount) {
        // This receive would exceed maxReceiveCount: SQS moves the message to the dead-letter queue instead.
        message.state = 'dead-letter';
        continue;
      }
      message.receiveCount += 1;
      message.state = 'in-flight';
      message.visibleAtMs = this.clock.now().getTime() + this.visibilityTimeoutMs;
      batch.push(message);
    }
    return batch;
  }

  private expireVisibility(): void {
    const now = this.clock.now().getTime();
    for (const message of this.messages) {
      if (message.state === 'in-flight' && message.visibleAtMs <= now) message.state = 'visible';
    }
    // A visible message that has used up its receives goes to the dead-letter queue on its next receive;
    // do it now so `outstanding` says what is really left to deliver.
    for (const message of this.messages) {
      if (message.state === 'visible' && message.receiveCount >= this.maxReceiveCount) message.state = 'dead-letter';
    }
  }

  private startInvocation(batch: readonly QueueMessage[]): { invocation: Invocation; event: SQSEvent } {
    const invocation: Invocation = {
      index: this.invocations.length,
      messageIds: batch.map((m) => m.messageId),
      startedAt: this.clock.now(),
    };
    this.invocations.push(invocation);
    for (const message of batch) message.receivedBy.push(invocation.index);
    return { invocation, event: { Records: batch.map((m) => this.recordOf(m)) } };
  }

  private finish(invocation: Invocation, result: { response?: SQSBatchResponse | undefined; error?: unknown }): void {
    const inBatch = new Set(invocation.messageIds);
    if (result.error !== undefined) {
      invocation.outcome = { kind: 'error', reason: String((result.error as Error)?.message ?? result.error) };
      return;
    }
    const failures = result.response?.batchItemFailures ?? [];
    const invalid = failures.find((f) => !f || typeof f.itemIdentifier !== 'string' || !inBatch.has(f.itemIdentifier));
    if (invalid) {
      invocation.outcome = { kind: 'error', reason: `invalid partial batch response: ${JSON.stringify(invalid)}` };
      return;
    }
    const failed = new Set(failures.map((f) => f.itemIdentifier));
    invocation.outcome = { kind: 'ok', failed: [...failed] };
    for (const id of inBatch) {
      if (failed.has(id)) continue;
      const message = this.message(id);
      if (message.state === 'deleted' || message.state === 'dead-letter') continue;
      message.state = 'deleted';
      message.deletedBy = invocation.index;
    }
  }

  private recordOf(message: QueueMessage): SQSRecord {
    const sentAt = message.sentAt;
    let shape: { account: string; region: string } = { account: '111122223333', region: 'eu-west-1' };
    try {
      const parsed = JSON.parse(message.body) as { account?: unknown; region?: unknown };
      if (typeof parsed?.account === 'string' && typeof parsed?.region === 'string')
        shape = { account: parsed.account, region: parsed.region };
    } catch {
      // a raw body that is not JSON: the record shape does not depend on it
    }
    const record = toSqsRecord(shape, { queueArn: this.queueArn, receiveCount: message.receiveCount, sentAt });
    return {
      ...record,
      messageId: message.messageId,
      body: message.body,
      md5OfBody: createHash('md5').update(message.body, 'utf8').digest('hex'),
      attributes: { ...record.attributes, ApproximateFirstReceiveTimestamp: String(sentAt.getTime()) },
    };
  }
}

async function settleHandler(
  handler: QueueHandler,
  event: SQSEvent,
): Promise<{ response?: SQSBatchResponse | undefined; error?: unknown }> {
  try {
    return { response: await handler(event) };
  } catch (error) {
    return { error: error ?? new Error('handler threw undefined') };
  }
}

/** Fisher–Yates with the given source of [0, 1) numbers. */
function shuffle<T>(items: T[], random: () => number): void {
  for (let i = items.length - 1; i > 0; i -= 1) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
}
