/**
 * Invariants of the guard, checked on what the simulated account saw rather than on what the guard says:
 * every ECR write the guard made (with the repository before and after it), every alert attempt, and the
 * queue's record of every message. Each checker returns violations as sentences; an empty list is a pass.
 * Tests of the checkers themselves feed them a deliberately broken guard (see test/properties).
 */
import { isProtectiveTag, protectiveTagFor } from '../../lambda/core/protective-tag';
import type { SimulatedAccount } from '../../sim/account';
import { digestOf } from '../../sim/manifests';
import { SimAwsError } from '../../sim/transport';
import type { SimQueue } from '../../sim/queue';

/** The tags of every image of one repository at one moment: digest → tags. */
export type RepositoryTags = ReadonlyMap<string, readonly string[]>;

/** One ECR write that reached the simulated service, with the repository's tags around it. */
export interface EcrWrite {
  readonly operation: 'PutImage' | 'BatchDeleteImage';
  readonly repository: string;
  readonly input: any;
  readonly before: RepositoryTags;
  readonly after: RepositoryTags;
  /** how the caller saw it: answered, an AWS error code, or a rejected request (the effect may still apply) */
  readonly answer: 'ok' | { readonly error: string };
}

/** One `Publish` the caller saw fail: refused with an AWS error, or rejected without an answer (it may still have been delivered). */
export interface FailedPublish {
  readonly message: string;
  readonly error: string;
}

export interface GuardAudit {
  readonly writes: EcrWrite[];
  /** every Publish the caller saw fail: refused with an AWS error (injected or by validation), or answer lost */
  failedPublishes(): FailedPublish[];
  dispose(): void;
}

function tagsOfRepository(account: SimulatedAccount, repository: string): RepositoryTags {
  try {
    return new Map(account.ecr.imagesOf(repository).map((image) => [image.digest, image.tags]));
  } catch {
    return new Map();
  }
}

/**
 * Records every ECR `PutImage`/`BatchDeleteImage` that reaches the simulated service (even when its answer
 * is then lost), and every SNS `Publish` the caller saw fail. Add it AFTER every other interceptor: the ECR
 * recorder must sit right around the service, so that the snapshot after a call holds only that call's effect.
 * (`outcome` of a write is what the service answered; a fault outside may still lose that answer.)
 */
export function auditGuard(account: SimulatedAccount): GuardAudit {
  const writes: EcrWrite[] = [];
  // Publish attempts whose request was rejected (no AWS answer); AWS errors are in the transport's call log.
  const lost: FailedPublish[] = [];
  // Outermost: a publish whose answer an inner interceptor loses (a timeout after SNS acted) is seen as failed here.
  const disposeOuter = account.transport.addInterceptor(
    async (call, answer) => {
      if (call.service !== 'sns' || call.operation !== 'Publish') return answer();
      try {
        return await answer();
      } catch (error) {
        if (!(error instanceof SimAwsError))
          lost.push({ message: String(call.input?.Message ?? ''), error: (error as Error)?.name ?? String(error) });
        throw error;
      }
    },
    { outermost: true },
  );
  const disposeInner = account.transport.addInterceptor(async (call, answer) => {
    const isWrite = call.service === 'ecr' && (call.operation === 'PutImage' || call.operation === 'BatchDeleteImage');
    if (!isWrite) return answer();
    const repository = String(call.input?.repositoryName ?? '');
    const before = tagsOfRepository(account, repository);
    // The simulated services act synchronously inside answer(): read the state before awaiting anything.
    const pending = answer();
    const after = tagsOfRepository(account, repository);
    try {
      const output = await pending;
      writes.push({
        operation: call.operation as EcrWrite['operation'],
        repository,
        input: call.input,
        before,
        after,
        answer: 'ok',
      });
      return output;
    } catch (error) {
      const name = error instanceof SimAwsError ? error.code : ((error as Error)?.name ?? String(error));
      writes.push({
        operation: call.operation as EcrWrite['operation'],
        repository,
        input: call.input,
        before,
        after,
        answer: { error: name },
      });
      throw error;
    }
  });
  return {
    writes,
    failedPublishes: () => [
      ...account.transport.calls
        .filter((c) => c.service === 'sns' && c.operation === 'Publish' && c.error)
        .map(
          (c): FailedPublish => ({
            message: String((c.input as { Message?: unknown })?.Message ?? ''),
            error: c.error!,
          }),
        ),
      ...lost,
    ],
    dispose: () => {
      disposeOuter();
      disposeInner();
    },
  };
}

/**
 * (b) The guard never moves or removes a tag, never creates or deletes an image: each write only ADDS
 * the protective tag `<prefix>-sha256-<hex>` to the digest that tag names.
 */
export function checkWritesOnlyAddOwnProtectiveTags(writes: readonly EcrWrite[], tagPrefix: string): string[] {
  const violations: string[] = [];
  for (const write of writes) {
    const where = `${write.operation} on ${write.repository}`;
    if (write.operation === 'BatchDeleteImage') {
      const removed = [...write.before].flatMap(([digest, tags]) =>
        tags.filter((t) => !(write.after.get(digest) ?? []).includes(t)),
      );
      const notOwn = removed.filter((t) => !isProtectiveTag(t, tagPrefix));
      violations.push(
        `${where}: the push path never deletes${notOwn.length ? `; it removed tags it did not create: ${notOwn.join(', ')}` : ''}`,
      );
      continue;
    }
    const tag = write.input?.imageTag;
    const digest = write.input?.imageDigest;
    if (typeof digest !== 'string' || typeof tag !== 'string') {
      violations.push(
        `${where}: put without imageDigest and imageTag (${JSON.stringify({ tag, digest })}) could move a tag or create an image`,
      );
    } else if (tag !== protectiveTagFor(digest, tagPrefix)) {
      violations.push(`${where}: put tag ${tag} on ${digest}, which is not that digest's protective tag`);
    }
    if (
      typeof digest === 'string' &&
      typeof write.input?.imageManifest === 'string' &&
      digestOf(write.input.imageManifest) !== digest
    ) {
      violations.push(`${where}: manifest bytes hash to ${digestOf(write.input.imageManifest)}, not ${digest}`);
    }
    for (const [d, tagsBefore] of write.before) {
      const tagsAfter = write.after.get(d);
      if (!tagsAfter) {
        violations.push(`${where}: image ${d} disappeared`);
        continue;
      }
      const removed = tagsBefore.filter((t) => !tagsAfter.includes(t));
      if (removed.length) violations.push(`${where}: tags ${removed.join(', ')} left ${d} (moved or removed)`);
      const added = tagsAfter.filter((t) => !tagsBefore.includes(t));
      const wrong = added.filter((t) => t !== protectiveTagFor(d, tagPrefix));
      if (wrong.length) violations.push(`${where}: added ${wrong.join(', ')} to ${d}, not its own protective tag`);
    }
    for (const [d, tagsAfter] of write.after) {
      if (write.before.has(d)) continue;
      // A lifecycle pass can delete the image between the guard's BatchGetImage and its PutImage; the put
      // with the exact bytes then brings that digest back (when ECR still has its layers), carrying only its
      // protective tag. That still only adds the digest's own protective tag; any other new image is a violation.
      const restoredWithOwnTag =
        d === digest && tagsAfter.length === 1 && tagsAfter[0] === protectiveTagFor(d, tagPrefix);
      if (!restoredWithOwnTag) violations.push(`${where}: created image ${d} with tags [${tagsAfter.join(', ')}]`);
    }
  }
  return violations;
}

/** The protections one alert message reports: `repository digest` keys, with how. */
export function protectionsIn(message: string): { key: string; how: string }[] {
  try {
    const envelope = JSON.parse(message) as { default?: string };
    const alert = JSON.parse(envelope.default ?? 'null') as {
      repository?: string;
      protected?: { digest: string; how: string }[];
    } | null;
    return (alert?.protected ?? []).map((p) => ({ key: `${alert?.repository} ${p.digest}`, how: p.how }));
  } catch {
    return [];
  }
}

/**
 * (d) At most one alert per protection. The one tolerance: a publish whose answer was lost after SNS
 * accepted it counts as failed, and the SDK's retry of it may deliver the same alert again; so an alert about
 * a digest's protection may be delivered once, plus once per failed publish that named it.
 * `delivered` are the messages SNS accepted (what subscribers got), `failed` what the guard saw fail.
 */
export function checkAtMostOneAlertPerProtection(
  delivered: readonly string[],
  failed: readonly FailedPublish[],
): string[] {
  const count = (messages: readonly string[]) => {
    const counts = new Map<string, number>();
    for (const message of messages) {
      for (const { key } of protectionsIn(message)) {
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
    }
    return counts;
  };
  const sent = count(delivered);
  const failedCounts = count(failed.map((f) => f.message));
  const violations: string[] = [];
  for (const [key, times] of sent) {
    const allowed = 1 + (failedCounts.get(key) ?? 0);
    if (times > allowed)
      violations.push(
        `protection of ${key} was alerted ${times} times; allowed ${allowed} (1 + ${failedCounts.get(key) ?? 0} failed publishes)`,
      );
  }
  return violations;
}

/**
 * (e) No silent protection: every protective tag a guard write added is named by an alert that was
 * delivered, or by a publish the guard saw fail (the queue then retries it).
 */
export function checkEveryProtectionAlerted(
  writes: readonly EcrWrite[],
  delivered: readonly string[],
  failed: readonly FailedPublish[],
): string[] {
  const named = new Set(
    [...delivered, ...failed.map((f) => f.message)].flatMap((m) => protectionsIn(m).map((p) => p.key)),
  );
  const violations: string[] = [];
  for (const write of writes) {
    if (write.operation !== 'PutImage') continue;
    for (const [digest, tags] of write.after) {
      const added = tags.filter((t) => !(write.before.get(digest) ?? []).includes(t));
      if (added.length > 0 && !named.has(`${write.repository} ${digest}`)) {
        violations.push(`${write.repository}@${digest} got a protective tag and no alert ever named it`);
      }
    }
  }
  return violations;
}

/**
 * (c) Every message ends deleted after an invocation that did not fail it, or in the dead-letter queue
 * after `maxReceiveCount` receives; and the function never failed a whole batch by throwing.
 */
export function checkEveryMessageHandledOrDeadLettered(queue: SimQueue, maxReceiveCount = 5): string[] {
  const violations: string[] = [];
  for (const message of queue.messages) {
    if (message.state === 'deleted') continue;
    if (message.state === 'dead-letter') {
      if (message.receiveCount < maxReceiveCount)
        violations.push(`${message.messageId} is in the DLQ after only ${message.receiveCount} receives`);
      continue;
    }
    violations.push(`${message.messageId} is still ${message.state} after settling`);
  }
  for (const invocation of queue.invocations) {
    if (invocation.outcome?.kind === 'error')
      violations.push(`invocation ${invocation.index} failed as a whole: ${invocation.outcome.reason}`);
    if (!invocation.outcome) violations.push(`invocation ${invocation.index} never finished`);
  }
  return violations;
}
