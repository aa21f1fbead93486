/**
 * Who pushed a tag, from CloudTrail event history: `LookupEvents` for `PutImage` around the pushes, filtered
 * by repository and tag in each event's `requestParameters`. Best effort and bounded: at most `maxCalls`
 * requests of `MaxResults` 50 (the maximum), spaced to stay under the documented rate, one attempt each;
 * throttling, a missing permission or any other error ends the lookup quietly with what it found so far.
 *
 * What it relies on:
 * - "The rate of lookup requests is limited to two per second, per account, per Region. If this limit is
 *   exceeded, a throttling error occurs." "The default number of results returned is 50, with a maximum of
 *   50"; one lookup attribute per request; event history holds the last 90 days of management events
 *   without a trail. https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_LookupEvents.html
 *   (and the SDK's LookupEventsCommand docs: `LookupAttributes` "can contain only one item")
 * - `Event.CloudTrailEvent` is the whole record as a JSON string; a `PutImage` record carries
 *   `requestParameters.repositoryName`, `requestParameters.imageTag`, `responseElements.image.imageId.imageDigest`
 *   and `userIdentity` ("Example: Image push action",
 *   https://docs.aws.amazon.com/AmazonECR/latest/userguide/logging-using-cloudtrail.html).
 * - *Inference*: event history shows an event some minutes after the call (no latency is promised), so a
 *   lookup made within a minute of the push often finds nothing; the alert then says so and gives the command.
 */
import { type CloudTrailClient, LookupEventsCommand, type LookupEventsCommandOutput } from '@aws-sdk/client-cloudtrail';
import type { PusherLookup } from '../core/ports';
import type { Digest, PusherFindings, PutImageCaller } from '../core/types';
import { defaultCloudTrailClient } from './clients';

export interface CloudTrailPusherLookupOptions {
  readonly client?: CloudTrailClient;
  /** requests per lookup, at most @default 3 */
  readonly maxCalls?: number;
  /** the search starts this long before the first push and ends this long after the last @default 2 minutes */
  readonly marginMs?: number;
  /** the least time between two requests of this lookup: 2 per second is the account's whole budget @default 1000 */
  readonly minIntervalMs?: number;
  /** waits between requests; injectable for tests */
  readonly sleep?: (ms: number) => Promise<void>;
  readonly logger?: { warn(message: string, ...extra: Record<string, unknown>[]): void };
}

/** `LookupEvents` returns at most 50 events a page. */
export const LOOKUP_PAGE_SIZE = 50;

export class CloudTrailPusherLookup implements PusherLookup {
  private readonly client: CloudTrailClient;
  private readonly maxCalls: number;
  private readonly marginMs: number;
  private readonly minIntervalMs: number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly options: CloudTrailPusherLookupOptions = {}) {
    this.client = options.client ?? defaultCloudTrailClient();
    this.maxCalls = options.maxCalls ?? 3;
    this.marginMs = options.marginMs ?? 2 * 60_000;
    this.minIntervalMs = options.minIntervalMs ?? 1000;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  async findPutImageCallers(
    repository: string,
    pushes: readonly { tag: string; digest: Digest; time: Date }[],
  ): Promise<PusherFindings> {
    const times = pushes.map((p) => p.time.getTime());
    const from = new Date(Math.min(...times) - this.marginMs);
    const to = new Date(Math.max(...times) + this.marginMs);
    const wanted = new Set(pushes.map((p) => `${p.tag} ${p.digest}`));
    const tags = new Set(pushes.map((p) => p.tag));
    const callers: PutImageCaller[] = [];
    const found = new Set<string>();
    const done = (complete: boolean, note?: string): PusherFindings => ({
      callers,
      complete,
      from,
      to,
      ...(note ? { note } : {}),
    });

    let nextToken: string | undefined;
    for (let call = 0; call < this.maxCalls; call += 1) {
      if (call > 0) await this.sleep(this.minIntervalMs);
      let page: LookupEventsCommandOutput;
      try {
        page = await this.client.send(
          new LookupEventsCommand({
            LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: 'PutImage' }],
            StartTime: from,
            EndTime: to,
            MaxResults: LOOKUP_PAGE_SIZE,
            ...(nextToken ? { NextToken: nextToken } : {}),
          }),
        );
      } catch (error) {
        const name = (error as { name?: string }).name ?? 'Error';
        this.options.logger?.warn('CloudTrail lookup of who pushed gave up', { repository, error: name, call });
        return done(
          false,
          name === 'ThrottlingException' ? 'CloudTrail throttled the lookup' : `CloudTrail lookup failed: ${name}`,
        );
      }
      for (const event of page.Events ?? []) {
        const caller = putImageCaller(event.CloudTrailEvent, repository, tags);
        if (!caller) continue;
        callers.push(caller);
        if (caller.digest) found.add(`${caller.tag} ${caller.digest}`);
      }
      if ([...wanted].every((key) => found.has(key))) return done(true);
      nextToken = page.NextToken;
      if (!nextToken) return done(true); // every page of the window read: what is missing is not in event history (yet)
    }
    return done(false, `stopped after ${this.maxCalls} requests of ${LOOKUP_PAGE_SIZE} PutImage events`);
  }
}

/** The caller of one `PutImage` of this repository and one of these tags, or undefined for any other record. */
export function putImageCaller(
  recordJson: string | undefined,
  repository: string,
  tags: ReadonlySet<string>,
): PutImageCaller | undefined {
  if (!recordJson) return undefined;
  let record: unknown;
  try {
    record = JSON.parse(recordJson);
  } catch {
    return undefined;
  }
  const r = record as {
    eventName?: unknown;
    eventTime?: unknown;
    errorCode?: unknown;
    requestParameters?: { repositoryName?: unknown; imageTag?: unknown } | null;
    responseElements?: { image?: { imageId?: { imageDigest?: unknown } } } | null;
    userIdentity?: { arn?: unknown; sessionContext?: { sessionIssuer?: { arn?: unknown } } };
  };
  if (r?.eventName !== 'PutImage' || r.errorCode !== undefined) return undefined;
  const tag = r.requestParameters?.imageTag;
  if (r.requestParameters?.repositoryName !== repository || typeof tag !== 'string' || !tags.has(tag)) return undefined;
  const principal = r.userIdentity?.arn;
  if (typeof principal !== 'string') return undefined;
  const digest = r.responseElements?.image?.imageId?.imageDigest;
  const issuer = r.userIdentity?.sessionContext?.sessionIssuer?.arn;
  const time = typeof r.eventTime === 'string' ? new Date(r.eventTime) : undefined;
  if (!time || Number.isNaN(time.getTime())) return undefined;
  return {
    tag,
    ...(typeof digest === 'string' ? { digest } : {}),
    time,
    principal,
    ...(typeof issuer === 'string' ? { sessionIssuer: issuer } : {}),
  };
}
