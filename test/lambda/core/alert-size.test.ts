/**
 * Alerts designed for size: one repository with the longest name ECR allows, 300 in-use digests that lost
 * their tag, five workloads each. Run through the push path (`guardImageEvents`), the real SNS adapter
 * (its client mocked) and the real Powertools Logger (only its output stream captured), so what is checked is
 * what SNS and CloudWatch Logs would receive.
 *
 * Limits:
 * - SNS: a message, body and attributes together, is at most 262,144 bytes; with `MessageStructure: json` the
 *   whole JSON envelope counts (botocore/data/sns/2010-03-31/service-2.json, `PublishInput.Message`).
 *   Subjects are under 100 characters (same model, `PublishInput.Subject`).
 * - CloudWatch Logs: one event is at most 256 KB including 26 bytes of overhead
 *   (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutLogEvents.html).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { InternalErrorException, PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { Console } from 'node:console';
import { Writable } from 'node:stream';
import { beforeEach, describe, expect, it } from 'vitest';
import { SnsAlertAdapter } from '../../../lambda/adapters/sns';
import { publishOrLog } from '../../../lambda/core/alert-publish';
import { guardImageEvents, type GuardDependencies } from '../../../lambda/core/image-events';
import type { Alert, EcrPort, ProtectiveTagRequest, ProtectOutcome } from '../../../lambda/core/ports';
import { buildReconcileAlert } from '../../../lambda/core/alert-reconcile';
import type { ReleaseResult, RepositoryReconcileReport } from '../../../lambda/core/reconcile';
import type { Consumer, Digest, ImageState, PushEvent } from '../../../lambda/core/types';
import { CHAT_DESCRIPTION_MAX_CHARS } from '../../../lambda/core/alert-chat';
import { chatSchemaProblems } from '../../support/chat-schema';

const SNS_MESSAGE_LIMIT_BYTES = 262_144;
const LOG_EVENT_LIMIT_BYTES = 262_144 - 26;
const ACCOUNT = '111122223333';
const LOG_GROUP = '/aws/lambda/digest-guard-PushFunction-1A2B3C4D5E6F';
const TOPIC = `arn:aws:sns:eu-west-1:${ACCOUNT}:digest-guard-alerts`;

/** 256 characters, the most ECR allows: a team prefix, filler path segments, and the service at the end. */
const REPOSITORY = (() => {
  const start = 'platform-team/';
  const end = '/payments-api';
  const filler = 'shared-components/'
    .repeat(20)
    .slice(0, 256 - start.length - end.length)
    .replace(/\/$/, 'x');
  return `${start}${filler}${end}`;
})();
const IN_USE = 300;
const CONSUMERS_EACH = 5;

const hex = (n: number, salt: string) => (salt + n.toString(16)).padStart(64, '0').slice(-64);
const inUseDigest = (i: number): Digest => `sha256:${hex(i, 'a')}`;
const newDigest = (i: number): Digest => `sha256:${hex(i, 'b')}`;
const consumersOf = (i: number): Consumer[] =>
  Array.from({ length: CONSUMERS_EACH }, (_, c) => ({
    kind: 'ecs-service',
    cluster: `prod-cluster-${c}`,
    service: `payments-api-${i}-${c}`,
    container: 'app',
    image: `${ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/${REPOSITORY}:svc-${i}`,
  }));

/** Every in-use digest is present and untagged: its tag `svc-<i>` moved to a new digest. */
class UntaggedRegistry implements EcrPort {
  readonly tagged = new Map<Digest, string>();
  async describeDigests(_repository: string, digests: readonly Digest[]): Promise<ImageState[]> {
    return digests.map((digest) => ({
      digest,
      present: true,
      tags: this.tagged.has(digest) ? [this.tagged.get(digest)!] : [],
      storageStatus: 'ACTIVE',
    }));
  }
  async addProtectiveTags(_repository: string, requests: readonly ProtectiveTagRequest[]): Promise<ProtectOutcome[]> {
    for (const { digest, tag } of requests) this.tagged.set(digest, tag);
    return requests.map(() => ({ outcome: 'tagged' }));
  }
  async referencedManifests(): Promise<Map<Digest, Digest[]>> {
    return new Map();
  }
  async restoreArchivedImage(): Promise<never> {
    throw new Error('nothing is archived here');
  }
}

const pushes: PushEvent[] = Array.from({ length: IN_USE }, (_, i) => ({
  action: 'PUSH',
  messageId: `m-${i}`,
  eventId: `e-${i}`,
  time: new Date(Date.UTC(2026, 10, 26, 10, 0, i % 60)),
  account: ACCOUNT,
  region: 'eu-west-1',
  repository: REPOSITORY,
  digest: newDigest(i),
  tag: `svc-${i}`,
  attempt: 1,
}));

const sns = mockClient(SNSClient);
let logLines: string[];
let registry: UntaggedRegistry;

/** The real Powertools Logger; only the stream it writes to is replaced, so each captured line is one log event. */
function capturingLogger(): Logger {
  logLines = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      logLines.push(
        ...String(chunk)
          .split('\n')
          .filter((line) => line.length > 0),
      );
      done();
    },
  });
  const logger = new Logger({ serviceName: 'ecr-digest-guard' });
  (logger as unknown as { console: Console }).console = new Console({ stdout: sink, stderr: sink });
  return logger;
}

async function guardTheBigRepository(): Promise<void> {
  registry = new UntaggedRegistry();
  const inUse = new Map(Array.from({ length: IN_USE }, (_, i) => [inUseDigest(i), consumersOf(i)] as const));
  const deps: GuardDependencies & { alertLogGroup: string } = {
    ecr: registry,
    inventory: {
      takeInventory: async () => ({
        takenAt: new Date('2026-11-26T10:01:00Z'),
        byRepository: new Map([[REPOSITORY, inUse]]),
        gaps: [],
      }),
    },
    alerts: new SnsAlertAdapter(TOPIC, new SNSClient({ region: 'eu-west-1' })),
    logger: capturingLogger(),
    alertLogGroup: LOG_GROUP,
  };
  await guardImageEvents(pushes, { tagPrefix: 'digest-guard', dryRun: false }, deps);
}

function published(): {
  subject: string;
  email: string;
  json: Record<string, any>;
  chat: Record<string, any> | undefined;
  bytes: number;
} {
  const calls = sns.commandCalls(PublishCommand);
  expect(calls).toHaveLength(1);
  const input = calls[0]!.args[0].input;
  const attributeBytes = Object.entries(input.MessageAttributes ?? {}).reduce(
    (sum, [name, value]) =>
      sum +
      Buffer.byteLength(name) +
      Buffer.byteLength(value.DataType ?? '') +
      Buffer.byteLength(value.StringValue ?? ''),
    0,
  );
  const body = JSON.parse(input.Message!) as Record<string, string>;
  return {
    subject: input.Subject!,
    email: body.email!,
    json: JSON.parse(body.default!) as Record<string, any>,
    chat: body.https === undefined ? undefined : (JSON.parse(body.https) as Record<string, any>),
    bytes: Buffer.byteLength(input.Message!) + Buffer.byteLength(input.Subject ?? '') + attributeBytes,
  };
}

/** The log lines that carry the alert's entries, parsed, in part order. */
function loggedParts(alertId: string): Record<string, any>[] {
  return logLines
    .map((line) => JSON.parse(line) as Record<string, any>)
    .filter((line) => line.alertId === alertId && typeof line.alertPart === 'number')
    .sort((a, b) => a.alertPart - b.alertPart);
}

beforeEach(() => {
  sns.reset();
});

describe('given one repository with a 256-character name and 300 in-use untagged digests used by 5 workloads each', () => {
  it('when the guard protects them, then the email states every count and lists the first images of each kind with "and N more"', async () => {
    sns.on(PublishCommand).resolves({ MessageId: 'm-1' });

    await guardTheBigRepository();

    const { email } = published();
    expect(registry.tagged.size).toBe(IN_USE);
    expect(email).toContain('300 in-use images protected');
    expect(email).toContain('300 pushes');
    expect(email.match(/Image sha256:[0-9a-f]{64} has no tag left, but it is still in use:/g)).toHaveLength(10);
    expect(email.match(/Added the protective tag digest-guard-sha256-[0-9a-f]{64}/g)).toHaveLength(10);
    expect(email).toContain('... and 290 more in-use images with no tag left');
    expect(email).toContain('... and 290 more protective tags added');
    // what the review found: a cut mid-list, and a pointer to a JSON form that was only a summary
    expect(email).not.toContain('Truncated');
    expect(email).not.toContain('carries the details');
  });

  it('when the guard protects them, then the email gives the log group and the Logs Insights query that return the full list', async () => {
    sns.on(PublishCommand).resolves({ MessageId: 'm-1' });

    await guardTheBigRepository();

    const { email, json } = published();
    expect(json.fullList).toMatchObject({ logGroup: LOG_GROUP, alertId: expect.stringMatching(/^[0-9a-f]{16}$/) });
    expect(email).toContain(LOG_GROUP);
    expect(email).toContain(json.fullList.query);
    expect(json.fullList.query).toContain(`alertId = "${json.fullList.alertId}"`);
  });

  it('when the guard protects them, then the JSON carries its schema, every count and as many entries as fit in one SNS message', async () => {
    sns.on(PublishCommand).resolves({ MessageId: 'm-1' });

    await guardTheBigRepository();

    const { json, bytes } = published();
    expect(bytes).toBeLessThanOrEqual(SNS_MESSAGE_LIMIT_BYTES);
    expect(json).toMatchObject({
      schema: 'ecr-digest-guard/alert@1',
      severity: 'WARNING',
      repository: REPOSITORY,
      events: ['protected'],
    });
    expect(json.counts).toMatchObject({ protected: 300, pushes: 300 });
    expect(json.complete).toBe(false);
    expect(json.protected.length + json.omitted.protected).toBe(300);
    expect(json.pushes.length + (json.omitted.pushes ?? 0)).toBe(300);
    // the first entries, in order, each whole
    expect(json.protected.map((p: { digest: string }) => p.digest)).toEqual(
      Array.from({ length: json.protected.length }, (_, i) => inUseDigest(i)),
    );
    expect(json.protected[0].consumers).toHaveLength(CONSUMERS_EACH);
    // "as many as fit": the message is filled, not cut to a summary
    expect(json.protected.length).toBeGreaterThan(41);
    expect(bytes).toBeGreaterThan(SNS_MESSAGE_LIMIT_BYTES * 0.9);
  });

  it('when the guard protects them, then the chat form rides along whole, and email text, JSON and chat together fit one SNS message', async () => {
    sns.on(PublishCommand).resolves({ MessageId: 'm-1' });

    await guardTheBigRepository();

    const { chat, json, email, bytes } = published();
    expect(bytes).toBeLessThanOrEqual(SNS_MESSAGE_LIMIT_BYTES);
    expect(chat).toBeDefined();
    expect(chatSchemaProblems(chat)).toEqual([]);
    expect(chat!.metadata.threadId).toBe(`${ACCOUNT}/eu-west-1/${REPOSITORY}`);
    expect(chat!.content.description).toContain('In this alert: 300 pushes, 300 protected.');
    expect(chat!.content.description.length).toBeLessThanOrEqual(CHAT_DESCRIPTION_MAX_CHARS);
    expect(chat!.content.description).toContain(json.fullList.query);
    // the text and the JSON still say where the full list is, and the JSON still fills what is left
    expect(email).toContain(json.fullList.query);
    expect(json.protected.length).toBeGreaterThan(41);
  });

  it('when the guard protects them, then every entry is logged in parts that each fit one CloudWatch Logs event', async () => {
    sns.on(PublishCommand).resolves({ MessageId: 'm-1' });

    await guardTheBigRepository();

    const { json } = published();
    const parts = loggedParts(json.fullList.alertId);
    expect(parts.length).toBeGreaterThan(1);
    expect(parts.map((p) => p.alertPart)).toEqual(Array.from({ length: parts.length }, (_, i) => i + 1));
    expect(parts.every((p) => p.alertParts === parts.length && p.repository === REPOSITORY)).toBe(true);
    for (const line of logLines) expect(Buffer.byteLength(line, 'utf8')).toBeLessThanOrEqual(LOG_EVENT_LIMIT_BYTES);
    const protectedEntries = parts
      .filter((p) => p.section === 'protected')
      .flatMap((p) => JSON.parse(p.entries) as { digest: string; consumers: unknown[] }[]);
    expect(protectedEntries.map((p) => p.digest)).toEqual(Array.from({ length: IN_USE }, (_, i) => inUseDigest(i)));
    expect(protectedEntries.every((p) => p.consumers.length === CONSUMERS_EACH)).toBe(true);
    expect(parts.filter((p) => p.section === 'pushes').flatMap((p) => JSON.parse(p.entries) as unknown[])).toHaveLength(
      IN_USE,
    );
  });

  it('when SNS refuses the alert, then what it says and every entry are still logged, each line within one log event', async () => {
    sns.on(PublishCommand).rejects(new InternalErrorException({ message: 'try later', $metadata: {} }));

    await guardTheBigRepository();

    for (const line of logLines) expect(Buffer.byteLength(line, 'utf8')).toBeLessThanOrEqual(LOG_EVENT_LIMIT_BYTES);
    const failure = logLines
      .map((line) => JSON.parse(line) as Record<string, any>)
      .find((line) => /could not publish an alert/.test(line.message));
    expect(failure).toBeDefined();
    expect(failure!.text).toContain('300 in-use images protected');
    expect(failure!.query).toContain(failure!.alertId);
    const protectedEntries = loggedParts(failure!.alertId)
      .filter((p) => p.section === 'protected')
      .flatMap((p) => JSON.parse(p.entries) as unknown[]);
    expect(protectedEntries).toHaveLength(IN_USE);
  });

  it('when the guard protects them, then the subject stays under 100 characters and names both ends of the repository', async () => {
    sns.on(PublishCommand).resolves({ MessageId: 'm-1' });

    await guardTheBigRepository();

    const { subject } = published();
    expect(REPOSITORY).toHaveLength(256);
    expect(subject.length).toBeLessThanOrEqual(99);
    expect(subject).toMatch(/^[\x20-\x7e]+$/);
    expect(subject.startsWith('ECR digest guard: Protected 300 in-use images in platform-team/')).toBe(true);
    expect(subject).toContain('...');
    expect(subject.endsWith('/payments-api')).toBe(true);
  });
});

describe('given a scheduled reconcile that released the protection of 300 images in the same repository', () => {
  const releases: ReleaseResult[] = Array.from({ length: IN_USE }, (_, i) => ({
    digest: inUseDigest(i),
    tag: `digest-guard-sha256-${hex(i, 'a')}`,
    how: 'released',
    imageDeleted: true,
    lastUsedAt: '2026-09-01T00:00:00.000Z',
  }));
  const report: RepositoryReconcileReport = {
    repository: REPOSITORY,
    protection: {
      account: ACCOUNT,
      region: 'eu-west-1',
      repository: REPOSITORY,
      dryRun: false,
      tagPrefix: 'digest-guard',
      pushes: [],
      protected: [],
      gone: [],
      archived: [],
      restores: [],
      refused: [],
      gaps: [],
    },
    releases,
    mismatched: [],
  };

  it('when its alert is sent, then the text counts them, lists the first with "and N more" and gives the query for the rest', async () => {
    const sent: Alert[] = [];
    const alert = buildReconcileAlert(report, { tagPrefix: 'digest-guard', dryRun: false, releaseAfterDays: 30 })!;

    await publishOrLog(alert, {
      alerts: { publish: async (a) => void sent.push(a) },
      logger: capturingLogger(),
      alertLogGroup: LOG_GROUP,
    });

    const [delivered] = sent;
    expect(delivered!.text.match(/Released the protection digest-guard-sha256-/g)).toHaveLength(10);
    expect(delivered!.text).toContain('... and 290 more protections released.');
    const fullList = (delivered!.json as { fullList: { query: string; alertId: string } }).fullList;
    expect(delivered!.text).toContain(fullList.query);
    expect((delivered!.json as { counts: Record<string, number> }).counts['reconcile.releases']).toBe(300);
    const logged = loggedParts(fullList.alertId)
      .filter((p) => p.section === 'reconcile.releases')
      .flatMap((p) => JSON.parse(p.entries) as unknown[]);
    expect(logged).toEqual(releases);
    expect(delivered!.subject.length).toBeLessThanOrEqual(99);
    expect(delivered!.subject.endsWith('/payments-api')).toBe(true);
  });
});
