/**
 * Fuzzing the push event parser and the push handler with fake ports: malformed, truncated, oversized,
 * wrong-typed, deeply nested, prototype-pollution keys, unicode, huge arrays. Each bad record gets a clear
 * reason and becomes that record's failure; the batch never throws and never fails a valid sibling.
 */
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { GuardLogger } from '../../lambda/core/ports';
import type { Alert, EcrPort, InventoryPort } from '../../lambda/core/ports';
import { parsePushRecord, type QueueRecord } from '../../lambda/core/push-event';
import type { Consumer, GuardSettings } from '../../lambda/core/types';
import { handlePushBatch } from '../../lambda/handlers/push';

const SEED = 20261126;
const DIGEST_A = `sha256:${'a'.repeat(64)}`;
const DIGEST_B = `sha256:${'b'.repeat(64)}`;

function validEvent(overrides: { repository?: string; digest?: string; tag?: string } = {}) {
  return {
    version: '0',
    id: '13cde686-328b-6117-af20-0e5566167482',
    'detail-type': 'ECR Image Action',
    source: 'aws.ecr',
    account: '123456789012',
    time: '2026-11-26T10:00:00Z',
    region: 'eu-west-1',
    resources: [],
    detail: {
      result: 'SUCCESS',
      'repository-name': overrides.repository ?? 'app',
      'image-digest': overrides.digest ?? DIGEST_B,
      'action-type': 'PUSH',
      'image-tag': overrides.tag ?? 'prod',
      'manifest-media-type': 'application/vnd.docker.distribution.manifest.v2+json',
    },
  };
}

function record(messageId: string, body: unknown): SQSRecord {
  return {
    messageId,
    receiptHandle: 'AQEB',
    body: body as string,
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: '0',
      SenderId: 'AIDA',
      ApproximateFirstReceiveTimestamp: '0',
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:eu-west-1:123456789012:q',
    awsRegion: 'eu-west-1',
  };
}

/** Any JSON value, deep and wide, with keys that have hurt parsers before. */
const nastyKey = fc.constantFrom(
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  '',
  '\u0000',
  'detail',
  'image-digest',
  '𝔘𝔫𝔦',
);
const anyJson = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    fc.double(),
    fc.string({ unit: 'binary' }),
    fc.array(tie('value'), { maxLength: 5 }),
    fc.dictionary(fc.oneof(nastyKey, fc.string()), tie('value'), { maxKeys: 5 }),
  ),
})).value;

/** A valid event with one field replaced by something of the wrong type or shape. */
const mutatedEvent = fc
  .tuple(
    fc.constantFrom('version', 'id', 'detail-type', 'source', 'account', 'time', 'region', 'resources', 'detail'),
    fc.constantFrom('result', 'repository-name', 'image-digest', 'action-type', 'image-tag', 'manifest-media-type'),
    fc.boolean(),
    anyJson,
  )
  .map(([top, inner, inDetail, value]) => {
    const event = validEvent() as Record<string, any>;
    if (inDetail) event.detail = { ...event.detail, [inner]: value };
    else event[top] = value;
    return JSON.stringify(event);
  });

/** Bodies a queue could carry: anything, truncated events, nested arrays, pollution keys, huge strings. */
const body: fc.Arbitrary<unknown> = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 200 }),
  anyJson.map((v) => JSON.stringify(v)),
  mutatedEvent,
  fc.nat({ max: 400 }).map((cut) => JSON.stringify(validEvent()).slice(0, cut)),
  fc.nat({ max: 2_000 }).map((depth) => '['.repeat(depth) + ']'.repeat(depth)),
  fc.nat({ max: 2_000 }).map((depth) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`),
  fc.constant(
    JSON.stringify(validEvent()).replace(
      '"detail":{',
      '"__proto__":{"polluted":true},"detail":{"__proto__":{"polluted":true},',
    ),
  ),
  fc.constant(`{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}`),
  fc
    .nat({ max: 100_000 })
    .map((n) => JSON.stringify({ ...validEvent(), resources: Array.from({ length: n }, () => 'arn:aws:ecr:x') })),
  fc.constant('x'.repeat(256 * 1024 + 1)),
  fc
    .string({ unit: 'grapheme', minLength: 1, maxLength: 20 })
    .map((repository) => JSON.stringify(validEvent({ repository }))),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }).map((tag) => JSON.stringify(validEvent({ tag }))),
  // wrong types for the body itself
  fc.constantFrom(undefined, null, 42, {}, [], true),
);

const logger: GuardLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };
const settings: GuardSettings = { tagPrefix: 'digest-guard', dryRun: false };

/** Fake ports: `app` runs DIGEST_A, which has lost its tag; ECR and SNS record what they were asked. */
function fakePorts() {
  const tagged: string[] = [];
  const alerts: Alert[] = [];
  const consumer: Consumer = {
    kind: 'ecs-service',
    cluster: 'prod',
    service: 'web',
    image: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/app:prod',
  };
  const ecr: EcrPort = {
    describeDigests: async (_repository, digests) =>
      digests.map((digest) => ({ digest, present: true, tags: [], storageStatus: 'ACTIVE' })),
    addProtectiveTags: async (repository, requests) =>
      requests.map(({ digest, tag }) => {
        tagged.push(`${repository}@${digest}:${tag}`);
        return { outcome: 'tagged' };
      }),
    referencedManifests: async () => new Map(),
    restoreArchivedImage: async () => ({ outcome: 'image-missing' }),
  };
  const inventory: InventoryPort = {
    takeInventory: async () => ({
      takenAt: new Date(),
      byRepository: new Map([['app', new Map([[DIGEST_A, [consumer]]])]]),
      gaps: [],
    }),
  };
  return {
    tagged,
    alerts,
    deps: { ecr, inventoryFor: () => inventory, alerts: { publish: async (a: Alert) => void alerts.push(a) }, logger },
  };
}

describe('parsePushRecord under fuzzing', () => {
  it('never throws, and every rejection says what is wrong in a short, printable reason', () => {
    fc.assert(
      fc.property(body, fc.option(fc.string({ maxLength: 5 }), { nil: undefined }), (b, receiveCount) => {
        const parsed = parsePushRecord({
          messageId: 'm-1',
          body: b as string,
          ...(receiveCount !== undefined ? { attributes: { ApproximateReceiveCount: receiveCount } } : {}),
        });
        if (!parsed.ok) {
          expect(parsed.reason.length).toBeGreaterThan(0);
          expect(parsed.reason.length).toBeLessThan(2_000);
        } else if (parsed.event) {
          expect(parsed.event.digest).toMatch(/^sha256:[a-f0-9]{64}$/);
          expect(Number.isInteger(parsed.event.attempt) && parsed.event.attempt >= 1).toBe(true);
          expect(Number.isNaN(parsed.event.time.getTime())).toBe(false);
        }
      }),
      { seed: SEED, numRuns: 400 },
    );
  });

  it('does not pollute Object.prototype, whatever keys the body carries', () => {
    fc.assert(
      fc.property(body, (b) => {
        parsePushRecord({ messageId: 'm-1', body: b as string });
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      }),
      { seed: SEED, numRuns: 200 },
    );
  });

  it('accepts exactly the valid event, whatever its repository name, tag or receive count (within the documented limits)', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[a-z0-9][a-z0-9._/-]{1,60}$/),
        fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/),
        fc.integer({ min: 1, max: 1000 }),
        (repository, tag, count) => {
          const parsed = parsePushRecord({
            messageId: 'm',
            body: JSON.stringify(validEvent({ repository, tag })),
            attributes: { ApproximateReceiveCount: String(count) },
          });
          expect(parsed).toMatchObject({ ok: true, event: { repository, tag, attempt: count, digest: DIGEST_B } });
        },
      ),
      { seed: SEED, numRuns: 200 },
    );
  });

  it('names the field for a wrong-typed digest, a body over the SQS limit, and a truncated body', () => {
    expect(
      parsePushRecord({
        messageId: 'm',
        body: JSON.stringify({ ...validEvent(), detail: { ...validEvent().detail, 'image-digest': 42 } }),
      }),
    ).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/detail\.image-digest/),
    });
    expect(parsePushRecord({ messageId: 'm', body: 'x'.repeat(256 * 1024 + 1) })).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/larger than any EventBridge event/),
    });
    expect(parsePushRecord({ messageId: 'm', body: JSON.stringify(validEvent()).slice(0, 50) })).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/^body is not JSON/),
    });
  });

  it('answers the deepest bodies the size limit allows with a reason, quickly and without a stack overflow', () => {
    const head = JSON.stringify(validEvent()).replace(/"detail":\{.*$/, '"detail":');
    const bodies = [
      '['.repeat(131_000) + ']'.repeat(131_000),
      `${'{"detail":'.repeat(20_000)}1${'}'.repeat(20_000)}`,
      `${head + '{"image-digest":'.repeat(12_000)}1${'}'.repeat(12_001)}`,
    ];
    for (const b of bodies) {
      expect(b.length).toBeLessThanOrEqual(256 * 1024);
      expect(parsePushRecord({ messageId: 'm', body: b })).toMatchObject({
        ok: false,
        reason: expect.stringMatching(/^not an ECR Image Action event: /),
      });
    }
  });

  // Found by fuzzing (defensive: SQS never hands Lambda a null record, but the parser promises never to throw):
  it('turns a record that is not an object into a reason, not a TypeError', () => {
    for (const bad of [null, undefined, 42, 'text', []]) {
      expect(() => parsePushRecord(bad as unknown as QueueRecord)).not.toThrow();
    }
  });
});

describe('handlePushBatch under fuzzing', () => {
  it('never throws, fails exactly the bad records, and still protects for the valid sibling', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(body, { minLength: 0, maxLength: 6 }), fc.nat({ max: 6 }), async (bodies, position) => {
        const { tagged, deps } = fakePorts();
        const records = bodies.map((b, i) => record(`bad-${i}`, b));
        const valid = record('valid', JSON.stringify(validEvent()));
        records.splice(Math.min(position, records.length), 0, valid);
        const response = await handlePushBatch({ Records: records }, settings, deps);
        const failed = response.batchItemFailures.map((f) => f.itemIdentifier);
        expect(failed).not.toContain('valid');
        for (const r of records) {
          const ok = parsePushRecord(r).ok;
          expect(failed.includes(r.messageId)).toBe(!ok);
        }
        expect(tagged).toEqual([`app@${DIGEST_A}:digest-guard-sha256-${'a'.repeat(64)}`]);
      }),
      { seed: SEED, numRuns: 150 },
    );
  });

  it('answers an empty batch, a batch without Records, and a huge batch of bad records without throwing', async () => {
    const { deps } = fakePorts();
    expect(await handlePushBatch({ Records: [] }, settings, deps)).toEqual({ batchItemFailures: [] });
    expect(await handlePushBatch({} as SQSEvent, settings, deps)).toEqual({ batchItemFailures: [] });
    const many = Array.from({ length: 10_000 }, (_, i) =>
      record(`m-${i}`, i % 2 ? '{' : JSON.stringify({ detail: [] })),
    );
    const response = await handlePushBatch({ Records: many }, settings, deps);
    expect(response.batchItemFailures).toHaveLength(10_000);
  });

  // Found by fuzzing: one null record threw out of handlePushBatch, failing the whole batch.
  it('fails a null record alone instead of throwing for the whole batch', async () => {
    const { tagged, deps } = fakePorts();
    const response = await handlePushBatch(
      { Records: [null as unknown as SQSRecord, record('valid', JSON.stringify(validEvent()))] },
      settings,
      deps,
    );
    expect(response.batchItemFailures.map((f) => f.itemIdentifier)).not.toContain('valid');
    expect(tagged).toHaveLength(1);
  });
});
