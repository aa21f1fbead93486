/**
 * Scenario tests: the real reconcile handler (`runReconcile`), adapters and SDK clients against the
 * stateful simulated account. Each scenario states the AWS behaviour it relies on; the simulated account
 * pins those in test/sim.
 */
import { ECRClient } from '@aws-sdk/client-ecr';
import { ECSClient } from '@aws-sdk/client-ecs';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SNSClient } from '@aws-sdk/client-sns';
import { beforeEach, describe, expect, it } from 'vitest';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EcrAdapter } from '../../lambda/adapters/ecr';
import { DynamoDbInUseIndex, inUseIndexCreateTableInput } from '../../lambda/adapters/in-use-index';
import { inventoryFor } from '../../lambda/adapters/inventory';
import { SnsAlertAdapter } from '../../lambda/adapters/sns';
import type { GuardLogger } from '../../lambda/core/ports';
import type { InventoryPort } from '../../lambda/core/ports';
import { protectiveTagFor } from '../../lambda/core/protective-tag';
import {
  RELEASE_CHECK_MAX_AGE_MS,
  REPLICATED_DELETIONS_REMINDER_MS,
  type ReconcileSettings,
} from '../../lambda/core/reconcile';
import type { ReconcileCheckpoint } from '../../lambda/core/ports';
import { runReconcile, type ReconcileHandlerDependencies } from '../../lambda/handlers/reconcile';
import { SimulatedAccount } from '../../sim/account';
import { dockerManifest, ociIndex, ociManifest } from '../../sim/manifests';
import { guardOnSim } from '../../sim/guard-on-sim';
import { alertsOf, scheduledEventOn, tagsOf as tagsOfImage } from '../support/sim-scenario';

const PREFIX = 'digest-guard';
let account: SimulatedAccount;
let host: string;
let topicArn: string;

function pushBuild(repository: string, tag: string, seed: string, pushedAt?: Date): string {
  const manifest = dockerManifest({ seed });
  return account.ecr.pushImage(repository, {
    tag,
    manifest: manifest.text,
    mediaType: manifest.mediaType,
    ...(pushedAt ? { pushedAt } : {}),
  });
}

function deployService(cluster: string, name: string, repository: string, reference: string, desiredCount = 1): void {
  const taskDefinition = account.ecs.registerTaskDefinition(name, [
    { name, image: `${host}/${repository}${reference}` },
  ]);
  account.ecs.createService(cluster, name, taskDefinition, desiredCount);
}

function redeploy(cluster: string, name: string, repository: string, reference: string): void {
  const taskDefinition = account.ecs.registerTaskDefinition(name, [
    { name, image: `${host}/${repository}${reference}` },
  ]);
  account.ecs.updateService(cluster, name, { taskDefinitionArn: taskDefinition });
  account.ecs.completeDeployment(cluster, name);
}

const tagsOf = (repository: string, digest: string) => tagsOfImage(account, repository, digest);

const alerts = () => alertsOf(account, topicArn);

const scheduledEvent = () => scheduledEventOn(account);

interface Wiring {
  settings: ReconcileSettings & { region: string };
  deps: ReconcileHandlerDependencies;
}

function wire(overrides: Partial<ReconcileSettings> = {}, extra: Partial<ReconcileHandlerDependencies> = {}): Wiring {
  const config = account.clientConfig({ maxAttempts: 3 });
  const ecs = new ECSClient(config);
  const lambda = new LambdaClient(config);
  const noop = () => undefined;
  const logger: GuardLogger = { info: noop, warn: noop, error: noop };
  return {
    settings: { tagPrefix: PREFIX, dryRun: false, region: account.region, ...overrides },
    deps: {
      ecr: new EcrAdapter(new ECRClient(config)),
      inventoryFor: (accountId, region) => inventoryFor(accountId, region, { ecs, lambda }),
      alerts: new SnsAlertAdapter(topicArn, new SNSClient(config)),
      logger,
      now: () => account.clock.now(),
      ...extra,
    },
  };
}

function reconcile(w: Wiring, context?: { getRemainingTimeInMillis(): number }) {
  return runReconcile(w.settings, { ...w.deps, event: scheduledEvent(), ...(context ? { context } : {}) });
}

beforeEach(() => {
  account = new SimulatedAccount({ startAt: new Date('2026-11-26T10:00:00Z') });
  host = account.ecr.registryHost;
  topicArn = account.sns.createTopic('ecr-digest-guard-alerts');
  account.ecr.createRepository('app');
  account.ecs.createCluster('prod');
});

describe('risk that existed before install', () => {
  it('protects an in-use digest that lost its tag before the guard was installed, and the lifecycle pass spares it', async () => {
    const a = pushBuild('app', 'prod', 'build-1');
    deployService('prod', 'web', 'app', ':prod');
    const b = pushBuild('app', 'prod', 'build-2'); // no guard yet: nobody saw this push
    expect(tagsOf('app', a)).toEqual([]);

    const outcome = await reconcile(wire());

    expect(outcome.failed).toEqual([]);
    expect(tagsOf('app', a)).toEqual([protectiveTagFor(a, PREFIX)]);
    expect(tagsOf('app', b)).toEqual(['prod']);
    account.ecr.runLifecycleExpireUntagged('app');
    expect(tagsOf('app', a)).toBeDefined();
    const [alert] = alerts();
    expect(alert!.subject).toBe('ECR digest guard: Protected 1 in-use image in app');
    expect(alert!.email).toContain('ECS service prod/web');
  });

  it('sends nothing and changes nothing on a second run (idempotent)', async () => {
    pushBuild('app', 'prod', 'build-1');
    deployService('prod', 'web', 'app', ':prod');
    pushBuild('app', 'prod', 'build-2');
    await reconcile(wire());
    const puts = account.callCount('ecr', 'PutImage');
    await reconcile(wire());
    expect(account.callCount('ecr', 'PutImage')).toBe(puts);
    expect(alerts()).toHaveLength(1);
  });

  it('does not list every repository when release is off: the inventory names the repositories in use', async () => {
    pushBuild('app', 'prod', 'build-1');
    deployService('prod', 'web', 'app', ':prod');
    await reconcile(wire());
    expect(account.callCount('ecr', 'DescribeRepositories')).toBe(0);
  });
});

describe('release after the grace period', () => {
  const longAgo = new Date('2026-06-01T00:00:00Z');

  /** A was protected while `web` ran it; then `web` moved to B. */
  async function protectThenStopUsing(): Promise<{ a: string; b: string }> {
    const a = pushBuild('app', 'prod', 'build-1', longAgo);
    deployService('prod', 'web', 'app', ':prod');
    const b = pushBuild('app', 'prod', 'build-2', longAgo);
    await reconcile(wire());
    expect(tagsOf('app', a)).toEqual([protectiveTagFor(a, PREFIX)]);
    redeploy('prod', 'web', 'app', ':prod'); // now runs B
    return { a, b };
  }

  it('removes only the protective tag of a digest nobody uses, and never that of an in-use digest', async () => {
    const { a } = await protectThenStopUsing();
    // Another service runs C, protected too: its protection must stay.
    account.ecr.createRepository('api');
    const c = pushBuild('api', 'prod', 'api-1', longAgo);
    deployService('prod', 'api', 'api', ':prod');
    pushBuild('api', 'prod', 'api-2', longAgo);
    // D is protected and also carries a tag of its own: only the protective tag goes.
    const d = pushBuild('app', 'release-7', 'build-7', longAgo);
    account.ecr.pushImage('app', {
      tag: protectiveTagFor(d, PREFIX),
      manifest: dockerManifest({ seed: 'build-7' }).text,
    });
    account.clock.advanceDays(40);

    const outcome = await reconcile(wire({ releaseAfterDays: 30 }));

    expect(outcome.failed).toEqual([]);
    expect(tagsOf('app', a)).toBeUndefined(); // its last tag: ECR deletes the image (BatchDeleteImage by tag)
    expect(tagsOf('app', d)).toEqual(['release-7']);
    expect(tagsOf('api', c)).toEqual([protectiveTagFor(c, PREFIX)]);
    const released = alerts().filter((m) => m.subject?.includes('protection released'));
    expect(released.map((m) => [m.subject, m.severity])).toEqual([
      ['ECR digest guard: protection released on 2 images in app', 'INFO'],
    ]);
    expect(released[0]!.email).toContain('it was its last tag, so the image is deleted');
  });

  it('sends no page from the push path for the DELETE events of its own release (the released digests are not in use)', async () => {
    // The push rule lets every successful DELETE through, protective tags included; the release removes
    // protection only from digests nothing uses, so the push path's inventory finds nothing to report.
    const { a } = await protectThenStopUsing();
    const push = guardOnSim(account);
    account.clock.advanceDays(40);
    const before = account.events.length;
    const alertsBefore = alerts().length;

    await reconcile(wire({ releaseAfterDays: 30 }));
    const releaseDeletes = account.events.slice(before).filter((e) => e.detail['action-type'] === 'DELETE');
    expect(releaseDeletes.map((e) => [e.detail['image-digest'], e.detail['image-tag']])).toEqual([
      [a, protectiveTagFor(a, PREFIX)],
    ]);
    const afterRelease = alerts().length;
    expect(afterRelease).toBe(alertsBefore + 1); // the reconcile's own INFO "protection released"

    const response = await push.deliver(releaseDeletes);

    expect(response.batchItemFailures).toEqual([]);
    expect(alerts()).toHaveLength(afterRelease);
  });

  it('keeps a protection whose digest was pulled within the grace period plus the 24-hour refresh lag', async () => {
    const { a } = await protectThenStopUsing();
    account.clock.advanceDays(40);
    account.ecr.recordPull('app', a, new Date(account.clock.now().getTime() - 30 * 86_400_000)); // 30 days ago: within 30 + 1
    await reconcile(wire({ releaseAfterDays: 30 }));
    expect(tagsOf('app', a)).toEqual([protectiveTagFor(a, PREFIX)]);
  });

  it('keeps a digest that became in use again right before the release (the inventory is re-taken)', async () => {
    const { a } = await protectThenStopUsing();
    account.clock.advanceDays(40);
    const w = wire({ releaseAfterDays: 30 });
    const real = w.deps.inventoryFor;
    let takes = 0;
    const inventory = (accountId: string, region: string): InventoryPort => ({
      takeInventory: async () => {
        takes += 1;
        // Between the first look and the release, someone deploys A by digest.
        if (takes === 2) deployService('prod', 'rollback', 'app', `@${a}`);
        return real(accountId, region).takeInventory();
      },
    });

    const outcome = await reconcile({ ...w, deps: { ...w.deps, inventoryFor: inventory } });

    expect(takes).toBe(2);
    expect(tagsOf('app', a)).toEqual([protectiveTagFor(a, PREFIX)]);
    expect(account.callCount('ecr', 'BatchDeleteImage')).toBe(0);
    expect(outcome.reports.find((r) => r.repository === 'app')!.releases).toEqual([
      {
        digest: a,
        tag: protectiveTagFor(a, PREFIX),
        how: 'kept',
        reason: 'in use again at the check right before release',
      },
    ]);
  });

  it('given a deployment onto a due digest mid-release, when the check is too old, then it re-checks', async () => {
    const { a } = await protectThenStopUsing();
    // E: a second image whose only tag is its protection, nobody uses it: due for release with A.
    const hotfix = dockerManifest({ seed: 'build-hotfix' });
    const e = account.ecr.pushImage('app', {
      tag: protectiveTagFor(hotfix.digest, PREFIX),
      manifest: hotfix.text,
      mediaType: hotfix.mediaType,
      pushedAt: longAgo,
    });
    account.clock.advanceDays(40);
    // The first release is slow (SDK retries, say): 90 s pass, more than the check may be relied on
    // (RELEASE_CHECK_MAX_AGE_MS), and meanwhile someone deploys the other digest.
    let deployedOnto: string | undefined;
    const remove = account.transport.addInterceptor(async (call, answer) => {
      const output = await answer();
      if (call.operation === 'BatchDeleteImage' && !deployedOnto) {
        const released = call.input.imageIds[0].imageTag as string;
        deployedOnto = released === protectiveTagFor(a, PREFIX) ? e : a;
        account.clock.advance(90_000);
        deployService('prod', 'rollback', 'app', `@${deployedOnto}`);
      }
      return output;
    });

    const outcome = await reconcile(wire({ releaseAfterDays: 30 }));
    remove();

    expect(deployedOnto).toBeDefined();
    expect(tagsOf('app', deployedOnto!)).toEqual([protectiveTagFor(deployedOnto!, PREFIX)]);
    expect(account.callCount('ecr', 'BatchDeleteImage')).toBe(1);
    expect(account.ecs.launchReplacementTask('prod', 'rollback')).toMatchObject({ ok: true });
    expect(outcome.reports.find((r) => r.repository === 'app')!.releases).toContainEqual({
      digest: deployedOnto,
      tag: protectiveTagFor(deployedOnto!, PREFIX),
      how: 'kept',
      reason: 'in use again at the check right before release',
    });
    expect(90_000).toBeGreaterThan(RELEASE_CHECK_MAX_AGE_MS);
  });

  it('never removes a protective-looking tag that names another digest than it encodes', async () => {
    const other = pushBuild('app', 'prod', 'other', longAgo);
    const squatted = protectiveTagFor(`sha256:${'e'.repeat(64)}`, PREFIX);
    account.ecr.pushImage('app', { tag: squatted, manifest: dockerManifest({ seed: 'other' }).text });
    account.clock.advanceDays(40);
    await reconcile(wire({ releaseAfterDays: 30 }));
    expect(tagsOf('app', other)).toEqual(['prod', squatted]);
    expect(account.callCount('ecr', 'BatchDeleteImage')).toBe(0);
    expect(alerts().at(-1)!.subject).toBe('ECR digest guard: protective tag on another image in app');
  });

  it('given look-alike tags, when releasing, then only `<prefix>-sha256-<its own digest>` goes', async () => {
    // ECR keeps no record of who put a tag, so a tag a person created in exactly the protective form is
    // released like the guard's own; every other tag stays, whatever it resembles.
    const bare = (seed: string, tags: (digest: string) => string[]): string => {
      const manifest = dockerManifest({ seed });
      for (const tag of tags(manifest.digest)) {
        const { text, mediaType } = manifest;
        account.ecr.pushImage('app', { tag, manifest: text, mediaType, pushedAt: longAgo });
      }
      return manifest.digest;
    };
    const hex = (digest: string) => digest.slice('sha256:'.length);
    const exactByHand = bare('exact', (d) => [protectiveTagFor(d, PREFIX), 'v1']);
    const otherPrefix = bare('other-prefix', (d) => [`other-sha256-${hex(d)}`]);
    const otherCase = bare('other-case', (d) => [`Digest-Guard-sha256-${hex(d)}`]);
    const suffixed = bare('suffixed', (d) => [`${protectiveTagFor(d, PREFIX)}-old`]);
    const upperHex = bare('upper-hex', (d) => [`${PREFIX}-sha256-${hex(d).toUpperCase()}`]);
    const foreign = `sha256:${'e'.repeat(64)}`;
    const mismatched = bare('mismatched', () => [protectiveTagFor(foreign, PREFIX)]);
    const before = new Map(account.ecr.imagesOf('app').map((image) => [image.digest, [...image.tags]]));
    account.clock.advanceDays(40);

    await reconcile(wire({ releaseAfterDays: 30 }));

    expect(account.callCount('ecr', 'BatchDeleteImage')).toBe(1);
    expect(tagsOf('app', exactByHand)).toEqual(['v1']);
    for (const digest of [otherPrefix, otherCase, suffixed, upperHex, mismatched]) {
      expect(tagsOf('app', digest)).toEqual(before.get(digest));
    }
  });

  it('never releases when no grace period is set (the default)', async () => {
    const { a } = await protectThenStopUsing();
    account.clock.advanceDays(400);
    await reconcile(wire());
    expect(tagsOf('app', a)).toEqual([protectiveTagFor(a, PREFIX)]);
    expect(account.callCount('ecr', 'BatchDeleteImage')).toBe(0);
  });
});

describe('dry run', () => {
  it('lists what it would protect and release, and changes nothing', async () => {
    const longAgo = new Date('2026-06-01T00:00:00Z');
    const a = pushBuild('app', 'prod', 'build-1', longAgo);
    account.ecr.pushImage('app', {
      tag: protectiveTagFor(a, PREFIX),
      manifest: dockerManifest({ seed: 'build-1' }).text,
    });
    pushBuild('app', 'prod', 'build-2', longAgo); // A keeps only its protective tag; nobody runs it
    account.ecr.createRepository('api');
    const c = pushBuild('api', 'prod', 'api-1', longAgo);
    deployService('prod', 'api', 'api', ':prod');
    pushBuild('api', 'prod', 'api-2', longAgo);
    account.clock.advanceDays(40);

    await reconcile(wire({ dryRun: true, releaseAfterDays: 30 }));

    expect(tagsOf('app', a)).toEqual([protectiveTagFor(a, PREFIX)]);
    expect(tagsOf('api', c)).toEqual([]);
    expect(account.callCount('ecr', 'PutImage') + account.callCount('ecr', 'BatchDeleteImage')).toBe(0);
    expect(
      alerts()
        .map((m) => m.subject)
        .sort(),
    ).toEqual([
      'ECR digest guard: Dry run: would protect 1 in-use image in api',
      'ECR digest guard: Dry run: would release protection on 1 image in app',
    ]);
  });
});

describe('archived images in use', () => {
  // Archived images cannot be pulled (404); UpdateImageStorageClass to STANDARD restores them in up to
  // about 20 minutes. See: https://docs.aws.amazon.com/AmazonECR/latest/userguide/archive-image.html and
  // https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_UpdateImageStorageClass.html
  it('restores an archived in-use digest, pages CRITICAL with the delay, and reports a second run as in progress', async () => {
    const a = pushBuild('app', 'prod', 'build-1');
    deployService('prod', 'web', 'app', ':prod');
    account.ecr.archive('app', a);

    await reconcile(wire());

    expect(account.ecr.imagesOf('app').find((i) => i.digest === a)!.status).toBe('ACTIVATING');
    const [first] = alerts();
    expect(first!.severity).toBe('CRITICAL');
    expect(first!.subject).toBe('ECR digest guard: CRITICAL: 1 in-use image archived in app');
    expect(first!.email).toContain('Started restoring archived image');
    expect(first!.email).toContain('up to about 20 minutes');
    expect(first!.json.events).toEqual(['digest-archived', 'restore-started']);

    await reconcile(wire());

    expect(account.callCount('ecr', 'UpdateImageStorageClass')).toBe(1);
    expect(alerts()[1]!.email).toContain('Restore in progress');
    account.ecr.completeRestore('app', a);
    expect(account.ecs.launchReplacementTask('prod', 'web')).toMatchObject({ ok: true });
  });
});

describe('image indexes', () => {
  // No AWS document found says a lifecycle rule spares the untagged children of an index it keeps
  // (searched: ECR lifecycle policy pages; aws/containers-roadmap#1466 asks for rules to follow index links).
  // ECR only refuses a direct BatchDeleteImage of a referenced child (ImageReferencedByManifestList).
  // So the reconcile protects the children of an in-use index as well as the index.
  it('protects an in-use index and every manifest it references', async () => {
    account.ecr.createRepository('multi');
    const amd = ociManifest({ seed: 'amd64' });
    const arm = ociManifest({ seed: 'arm64' });
    for (const child of [amd, arm])
      account.ecr.pushImage('multi', { manifest: child.text, mediaType: child.mediaType });
    const index = ociIndex([
      { manifest: amd, platform: { architecture: 'amd64', os: 'linux' } },
      { manifest: arm, platform: { architecture: 'arm64', os: 'linux' } },
    ]);
    account.ecr.pushImage('multi', { tag: 'prod', manifest: index.text, mediaType: index.mediaType });
    deployService('prod', 'multi-svc', 'multi', ':prod');
    pushBuild('multi', 'prod', 'single-arch');

    await reconcile(wire());

    for (const digest of [index.digest, amd.digest, arm.digest])
      expect(tagsOf('multi', digest)).toEqual([protectiveTagFor(digest, PREFIX)]);
    expect(alerts()[0]!.subject).toBe('ECR digest guard: Protected 3 in-use images in multi');
  });
});

describe('a large account', () => {
  it('stops cleanly before the timeout with a checkpoint, and the next run continues after it', async () => {
    const names = Array.from({ length: 12 }, (_, i) => `svc-${String(i).padStart(2, '0')}`);
    const lost: Record<string, string> = {};
    for (const name of names) {
      account.ecr.createRepository(name);
      lost[name] = pushBuild(name, 'prod', `${name}-1`);
      deployService('prod', name, name, ':prod');
      pushBuild(name, 'prod', `${name}-2`);
    }
    let saved: string | undefined;
    const checkpoint: ReconcileCheckpoint = { load: async () => saved, save: async (cursor) => void (saved = cursor) };
    const w = wire({}, { checkpoint, concurrency: 1, reserveMs: 15_000 });
    // Each repository started costs 10 s of a 60 s budget, 15 s are kept back: the first run reaches 5.
    let left = 60_000;
    const context = { getRemainingTimeInMillis: () => (left -= 10_000) + 10_000 };

    const first = await reconcile(w, context);

    expect(first.notReached).toEqual(names.slice(5));
    expect(first.cursor).toBe('svc-04');
    expect(saved).toBe('svc-04');
    expect(names.filter((n) => tagsOf(n, lost[n]!)!.length > 0)).toEqual(names.slice(0, 5));

    left = 600_000;
    const second = await reconcile(w, context);

    expect(second.notReached).toEqual([]);
    expect(saved).toBeUndefined();
    expect(second.reports.map((r) => r.repository).slice(0, 7)).toEqual(names.slice(5));
    for (const name of names) expect(tagsOf(name, lost[name]!)).toEqual([protectiveTagFor(lost[name]!, PREFIX)]);
  });
});

describe('release on an incomplete inventory', () => {
  const longAgo = new Date('2026-06-01T00:00:00Z');

  /**
   * The reproduction: `web` was deployed before 2024-10-25, so its service revision cannot be
   * described ("You can't describe a service revision that was created before October 25, 2024.",
   * https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DescribeServiceRevisions.html), and its
   * task definition names `app:prod` by tag. A was protected while a task ran it; then no task runs and
   * the only record of A is the undescribable revision.
   */
  async function preRevisionServiceWithNoTask(): Promise<string> {
    const a = pushBuild('app', 'prod', 'build-1', longAgo);
    deployService('prod', 'web', 'app', ':prod');
    account.ecs.markServiceAsPreRevisions('prod', 'web');
    pushBuild('app', 'prod', 'build-2', longAgo);
    await reconcile(wire());
    expect(tagsOf('app', a)).toEqual([protectiveTagFor(a, PREFIX)]);
    account.ecs.stopAllTasks('prod', 'web');
    account.clock.advanceDays(40);
    return a;
  }

  it('given a gap in the repository, when a protection is due, then it is kept and the alert says why', async () => {
    const a = await preRevisionServiceWithNoTask();
    const alertsBefore = alerts().length;

    const outcome = await reconcile(wire({ releaseAfterDays: 30 }));

    expect(tagsOf('app', a)).toEqual([protectiveTagFor(a, PREFIX)]);
    expect(account.callCount('ecr', 'BatchDeleteImage')).toBe(0);
    expect(account.ecs.launchReplacementTask('prod', 'web')).toMatchObject({ ok: true });
    expect(outcome.reports.find((r) => r.repository === 'app')!.releases).toEqual([
      expect.objectContaining({ digest: a, how: 'kept', reason: expect.stringMatching(/^releases paused: /) }),
    ]);
    const paused = alerts().slice(alertsBefore);
    expect(paused.map((m) => [m.subject, m.severity])).toEqual([
      ['ECR digest guard: releases paused (incomplete inventory) in app', 'WARNING'],
    ]);
    expect(paused[0]!.email).toContain('Releases paused: 1 protection');
    expect(paused[0]!.email).toMatch(/service prod\/web: the digest behind .*\/app:prod .* is unknown/);
    expect(paused[0]!.email).toMatch(/redeploy the service/);
    expect(paused[0]!.json.events).toEqual(['releases-paused']);
    expect(paused[0]!.json.reconcile).toMatchObject({
      releasesPaused: { gaps: [expect.objectContaining({ repositories: ['app'] })] },
    });
  });

  it('given a gap concerning only another repository, when a protection is due, then it releases here', async () => {
    await preRevisionServiceWithNoTask();
    account.ecr.createRepository('api');
    const c = pushBuild('api', 'old', 'api-1', longAgo);
    const manifest = dockerManifest({ seed: 'api-1' }).text;
    account.ecr.pushImage('api', { tag: protectiveTagFor(c, PREFIX), manifest });
    pushBuild('api', 'old', 'api-2', longAgo);

    await reconcile(wire({ releaseAfterDays: 30 }));

    expect(tagsOf('api', c)).toBeUndefined();
  });

  it('given a gap in the repository, when an unlisted digest is deleted, then it is possibly in use', async () => {
    const a = await preRevisionServiceWithNoTask();
    const push = guardOnSim(account);
    const before = account.events.length;
    account.ecr.deleteImage('app', a);
    const deletes = account.events.slice(before);
    const alertsBefore = alerts().length;

    const response = await push.deliver(deletes);

    expect(response.batchItemFailures).toEqual([]);
    const sent = alerts().slice(alertsBefore); // the push path publishes to the same topic
    expect(sent.map((m) => [m.subject, m.severity])).toEqual([
      ['ECR digest guard: 1 deleted image possibly in use in app', 'WARNING'],
    ]);
    expect(sent[0]!.email).toContain(`Image ${a} was deleted`);
    expect(sent[0]!.email).toMatch(/the digest behind .*\/app:prod .* is unknown/);
    expect(sent[0]!.json.events).toEqual(['possibly-in-use']);
    expect(sent[0]!.json.possiblyInUse).toEqual([
      expect.objectContaining({
        digest: a,
        action: 'DELETE',
        gaps: [expect.objectContaining({ repositories: ['app'] })],
      }),
    ]);
  });
});

describe('replicated deletions', () => {
  // "When a lifecycle policy expires an image in the source registry, Amazon ECR replicates the deletion to each
  // destination repository" (https://docs.aws.amazon.com/AmazonECR/latest/userguide/replication-delete.html).
  const replicating = () => {
    const w = wire();
    return { ...w, deps: { ...w.deps, replication: w.deps.ecr as EcrAdapter } };
  };
  const replicationWarnings = () =>
    alerts().filter((a) => (a.json.events as string[]).includes('replicated-deletions'));

  beforeEach(() => {
    pushBuild('app', 'prod', 'build-1');
    deployService('prod', 'web', 'app', ':prod');
    account.ecr.createRepository('tools');
    pushBuild('tools', 'v1', 'tools-1'); // replicated too, but nobody runs it
  });

  it('given a replicated repository holding an in-use digest, the run warns naming it, its destinations and what to do', async () => {
    account.ecr.setReplicationConfiguration([
      { destinations: [{ region: 'us-east-1', registryId: account.accountId }], deleteReplication: true },
      { destinations: [{ region: 'eu-central-1', registryId: '444455556666' }], repositoryPrefixes: ['ap'] },
    ]);

    await reconcile(replicating());

    const warnings = replicationWarnings();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.severity).toBe('WARNING');
    expect(warnings[0]!.email).toContain(`app → ${account.accountId}/us-east-1, 444455556666/eu-central-1`);
    expect(warnings[0]!.email).not.toMatch(/tools →/);
    expect(warnings[0]!.email).toMatch(/What to do: /);
    expect(warnings[0]!.json).toMatchObject({
      repositories: [
        {
          repository: 'app',
          destinations: [`${account.accountId}/us-east-1`, '444455556666/eu-central-1'],
          deletions: 'unknown',
        },
      ],
    });
    expect(account.callCount('ecr', 'DescribeRegistry')).toBe(1);
  });

  it('without replication, reads the registry once and sends no such warning', async () => {
    await reconcile(replicating());

    expect(replicationWarnings()).toEqual([]);
    expect(account.callCount('ecr', 'DescribeRegistry')).toBe(1);
  });

  it('given rules that do not select any in-use repository, sends no such warning', async () => {
    account.ecr.setReplicationConfiguration([
      { destinations: [{ region: 'us-east-1', registryId: account.accountId }], repositoryPrefixes: ['tools'] },
    ]);

    await reconcile(replicating());

    expect(replicationWarnings()).toEqual([]);
  });

  describe('said once: the index remembers what was last warned', () => {
    const TABLE = 'ecr-digest-guard-in-use-index';
    const DAY_MS = 86_400_000;
    let errors: string[];
    const remembering = () => {
      const w = replicating();
      const config = account.clientConfig({ maxAttempts: 2 });
      const logger: GuardLogger = { info: () => undefined, warn: () => undefined, error: (m) => void errors.push(m) };
      return {
        ...w,
        deps: {
          ...w.deps,
          logger,
          replicationWarnings: new DynamoDbInUseIndex(TABLE, new DynamoDBClient(config)),
        },
      };
    };
    const toUsEast = { destinations: [{ region: 'us-east-1', registryId: '111122223333' }] };

    beforeEach(async () => {
      errors = [];
      await new DynamoDBClient(account.clientConfig()).send(new CreateTableCommand(inUseIndexCreateTableInput(TABLE)));
      account.ecr.setReplicationConfiguration([toUsEast]);
    });

    it('given a first run warns, when the next run finds the same set, then it sends nothing', async () => {
      await reconcile(remembering());
      expect(replicationWarnings()).toHaveLength(1);
      account.clock.advance(6 * 3_600_000);

      const outcome = await reconcile(remembering());

      expect(replicationWarnings()).toHaveLength(1);
      expect(outcome.replicatedDeletions).toHaveLength(1);
      expect(errors).toEqual([]);
    });

    it('given a warned set, when a new repository in use is replicated, then it warns again naming it as new', async () => {
      await reconcile(remembering());
      account.ecr.createRepository('api');
      pushBuild('api', 'prod', 'api-1');
      deployService('prod', 'api', 'api', ':prod');
      account.clock.advance(6 * 3_600_000);

      await reconcile(remembering());

      const warnings = replicationWarnings();
      expect(warnings).toHaveLength(2);
      expect(warnings[1]!.email).toContain('api → 111122223333/us-east-1');
      expect(warnings[1]!.email).toMatch(/New since the last warning:\n {2}- api → 111122223333\/us-east-1/);
      expect(warnings[1]!.json).toMatchObject({ newSinceLastWarning: [{ repository: 'api' }] });
    });

    it('given a warned set, when a rule adds a destination, then it warns again', async () => {
      await reconcile(remembering());
      account.ecr.setReplicationConfiguration([
        toUsEast,
        { destinations: [{ region: 'eu-central-1', registryId: '444455556666' }] },
      ]);

      await reconcile(remembering());

      expect(replicationWarnings()).toHaveLength(2);
      expect(replicationWarnings()[1]!.email).toMatch(
        /New since the last warning:\n {2}- app → 444455556666\/eu-central-1/,
      );
    });

    it('given a warned set that shrinks, when the next run finds fewer repositories, then it sends nothing', async () => {
      account.ecr.createRepository('api');
      pushBuild('api', 'prod', 'api-1');
      deployService('prod', 'api', 'api', ':prod');
      await reconcile(remembering());
      account.ecr.setReplicationConfiguration([{ ...toUsEast, repositoryPrefixes: ['app'] }]);

      await reconcile(remembering());

      expect(replicationWarnings()).toHaveLength(1);
    });

    it('given the same set, when the reminder interval has passed since the warning, then it warns again once', async () => {
      await reconcile(remembering());
      account.clock.advance(REPLICATED_DELETIONS_REMINDER_MS - 1_000);
      await reconcile(remembering());
      expect(replicationWarnings()).toHaveLength(1);
      account.clock.advance(1_000);

      await reconcile(remembering());
      account.clock.advance(DAY_MS);
      await reconcile(remembering());

      expect(REPLICATED_DELETIONS_REMINDER_MS).toBe(7 * DAY_MS);
      expect(replicationWarnings()).toHaveLength(2);
      expect(replicationWarnings()[1]!.email).toMatch(/Reminder: /);
    });

    it('given the remembered warning cannot be read, when the run finds the set, then it warns and logs why', async () => {
      await reconcile(remembering());
      account.transport.injectFault({
        service: 'dynamodb',
        operation: 'GetItem',
        code: 'InternalServerError',
        status: 500,
        times: 1000,
      });

      await reconcile(remembering());

      expect(replicationWarnings()).toHaveLength(2);
      expect(errors).toContain('could not read the last replicated-deletions warning; warning again');
    });

    it('given the warning cannot be remembered, when the next run finds the same set, then it warns again', async () => {
      account.transport.injectFault({
        service: 'dynamodb',
        operation: 'PutItem',
        code: 'InternalServerError',
        status: 500,
        times: 1000,
      });
      await reconcile(remembering());

      await reconcile(remembering());

      expect(replicationWarnings()).toHaveLength(2);
      expect(errors).toContain('could not remember the replicated-deletions warning; the next run warns again');
    });

    it('given the warning could not be published, when the next run finds the same set, then it warns again', async () => {
      account.transport.injectFault({
        service: 'sns',
        operation: 'Publish',
        code: 'InternalError',
        status: 500,
        times: 3,
      });
      await reconcile(remembering());
      expect(replicationWarnings()).toHaveLength(0);

      await reconcile(remembering());

      expect(replicationWarnings()).toHaveLength(1);
    });
  });
});
