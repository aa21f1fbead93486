/**
 * Scenario tests: the real push handler, adapters and SDK clients against the stateful simulated account.
 * Each scenario states the AWS behaviour it relies on; the simulated account pins those in test/sim.
 */
import { BatchDeleteImageCommand, ECRClient } from '@aws-sdk/client-ecr';
import { beforeEach, describe, expect, it } from 'vitest';
import { protectiveTagFor } from '../../lambda/core/protective-tag';
import { SimulatedAccount } from '../../sim/account';
import { toLifecycleEventBridgeEvent, type EcrImageActionEvent } from '../../sim/events';
import { dockerManifest, ociIndex, ociManifest } from '../../sim/manifests';
import { guardOnSim, type GuardOnSim } from '../../sim/guard-on-sim';
import { messagesOf, tagsOf as tagsOfImage } from '../support/sim-scenario';

let account: SimulatedAccount;
let host: string;

function pushBuild(repository: string, tag: string, seed: string): string {
  const manifest = dockerManifest({ seed });
  return account.ecr.pushImage(repository, { tag, manifest: manifest.text, mediaType: manifest.mediaType });
}

/** A service deployed from repo:tag, pinned to the digest the tag had then (software version consistency). */
function deployService(cluster: string, name: string, repository: string, tag: string, desiredCount = 1): void {
  const taskDefinition = account.ecs.registerTaskDefinition(name, [{ name, image: `${host}/${repository}:${tag}` }]);
  account.ecs.createService(cluster, name, taskDefinition, desiredCount);
}

const tagsOf = (repository: string, digest: string) => tagsOfImage(account, repository, digest);

const alertsOf = (guard: GuardOnSim) => messagesOf(account, guard.topicArn);

beforeEach(() => {
  account = new SimulatedAccount({ startAt: new Date('2026-11-26T10:00:00Z') });
  host = account.ecr.registryHost;
  account.ecr.createRepository('app');
  account.ecs.createCluster('prod');
});

describe('the incident: two pipelines push one tag while a service is pinned to the old digest', () => {
  it('protects the pinned digest so an expire-untagged lifecycle pass spares it and a replacement task starts', async () => {
    const guard = guardOnSim(account);
    const a = pushBuild('app', 'prod', 'build-1');
    deployService('prod', 'web', 'app', 'prod');
    await guard.deliverNewEvents(); // the first push: nothing in use has lost a tag
    account.ecs.stopAllTasks('prod', 'web'); // a failed health check: zero running tasks, the revision still pins A
    // Two pipelines push `prod` within seconds; the tag ends on B and A is left without a tag.
    const b1 = pushBuild('app', 'prod', 'build-2a');
    account.clock.advance(2_000);
    const b2 = pushBuild('app', 'prod', 'build-2b');
    expect(tagsOf('app', a)).toEqual([]);

    const response = await guard.deliverNewEvents();

    expect(response.batchItemFailures).toEqual([]);
    expect(tagsOf('app', a)).toEqual([protectiveTagFor(a, 'digest-guard')]);
    expect(tagsOf('app', b2)).toEqual(['prod']);
    expect(tagsOf('app', b1)).toEqual([]); // nobody runs it: the guard leaves it to the lifecycle policy
    account.clock.advanceDays(2);
    account.ecr.runLifecycleExpireUntagged('app');
    expect(tagsOf('app', a)).toBeDefined();
    expect(tagsOf('app', b1)).toBeUndefined();
    expect(account.ecs.launchReplacementTask('prod', 'web')).toMatchObject({ ok: true });

    const alerts = alertsOf(guard);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.subject).toBe('ECR digest guard: Protected 1 in-use image in app');
    expect(alerts[0]!.messageAttributes.severity).toMatchObject({ dataType: 'String', stringValue: 'WARNING' });
    expect(alerts[0]!.body.email).toContain('ECS service prod/web');
    expect(alerts[0]!.body.email).toMatch(/tag "prod" was pushed 2 times with different images within 2 s/);
    expect(JSON.parse(alerts[0]!.body.default)).toMatchObject({ repository: 'app', events: ['protected'] });
  });

  it('without the guard, the same story ends in CannotPullContainerError', () => {
    const a = pushBuild('app', 'prod', 'build-1');
    deployService('prod', 'web', 'app', 'prod');
    account.ecs.stopAllTasks('prod', 'web');
    pushBuild('app', 'prod', 'build-2a');
    pushBuild('app', 'prod', 'build-2b');
    account.clock.advanceDays(2);
    account.ecr.runLifecycleExpireUntagged('app');
    expect(tagsOf('app', a)).toBeUndefined();
    const launch = account.ecs.launchReplacementTask('prod', 'web');
    expect(launch.ok).toBe(false);
    expect(!launch.ok && launch.stoppedReason).toMatch(
      /^CannotPullContainerError: .*failed to resolve ref .*@sha256:[a-f0-9]{64}: not found$/,
    );
  });
});

describe('idempotency and quiet cases', () => {
  it('handles the same event delivered twice: protects once, alerts once', async () => {
    const guard = guardOnSim(account);
    const a = pushBuild('app', 'prod', 'build-1');
    deployService('prod', 'web', 'app', 'prod');
    pushBuild('app', 'prod', 'build-2');
    const events = account.events.slice(-1);
    await guard.deliver(events);
    const putsAfterFirst = account.callCount('ecr', 'PutImage');
    await guard.deliver(events);
    expect(account.callCount('ecr', 'PutImage')).toBe(putsAfterFirst);
    expect(tagsOf('app', a)).toEqual([protectiveTagFor(a, 'digest-guard')]);
    expect(alertsOf(guard)).toHaveLength(1);
  });

  it('does nothing for a push to a repository nobody runs, and sends nothing', async () => {
    const guard = guardOnSim(account);
    account.ecr.createRepository('unused');
    pushBuild('unused', 'v1', 'x-1');
    pushBuild('unused', 'v1', 'x-2');
    const response = await guard.deliverNewEvents();
    expect(response.batchItemFailures).toEqual([]);
    expect(account.callCount('ecr')).toBe(0);
    expect(alertsOf(guard)).toEqual([]);
  });

  it('ignores the PUSH event of its own protective tag (the filter in code, behind the rule pattern)', async () => {
    const guard = guardOnSim(account);
    pushBuild('app', 'prod', 'build-1');
    deployService('prod', 'web', 'app', 'prod');
    pushBuild('app', 'prod', 'build-2');
    await guard.deliverNewEvents();
    const ownTagEvents = account.events.filter((e) => e.detail['image-tag']?.startsWith('digest-guard-'));
    expect(ownTagEvents).toHaveLength(1);
    const callsBefore = account.callCount();
    await guard.deliver(ownTagEvents);
    expect(account.callCount()).toBe(callsBefore);
  });

  it('in dry run, detects and alerts but changes nothing', async () => {
    const guard = guardOnSim(account, { dryRun: true });
    const a = pushBuild('app', 'prod', 'build-1');
    deployService('prod', 'web', 'app', 'prod');
    pushBuild('app', 'prod', 'build-2');
    await guard.deliverNewEvents();
    expect(tagsOf('app', a)).toEqual([]);
    expect(account.callCount('ecr', 'PutImage')).toBe(0);
    expect(alertsOf(guard)[0]!.subject).toBe('ECR digest guard: Dry run: would protect 1 in-use image in app');
  });
});

describe('repositories and images that need care', () => {
  it('protects in an immutable repository whose exclusion lets the deploy tag move', async () => {
    // IMMUTABLE_WITH_EXCLUSION: tags matching an exclusion filter stay mutable; any other NEW tag can still be
    // added (immutability refuses moving a tag, ImageTagAlreadyExistsException, not adding one).
    // See: https://docs.aws.amazon.com/AmazonECR/latest/userguide/image-tag-mutability.html
    account.ecr.createRepository('locked', {
      imageTagMutability: 'IMMUTABLE_WITH_EXCLUSION',
      exclusionFilters: ['prod*'],
    });
    const guard = guardOnSim(account);
    const a = pushBuild('locked', 'prod', 'locked-1');
    deployService('prod', 'locked-svc', 'locked', 'prod');
    pushBuild('locked', 'prod', 'locked-2');
    expect(tagsOf('locked', a)).toEqual([]);
    await guard.deliverNewEvents();
    expect(tagsOf('locked', a)).toEqual([protectiveTagFor(a, 'digest-guard')]);
  });

  it('never moves a protective tag that someone put on another image, and pages instead', async () => {
    account.ecr.createRepository('locked', {
      imageTagMutability: 'IMMUTABLE_WITH_EXCLUSION',
      exclusionFilters: ['prod*'],
    });
    const guard = guardOnSim(account);
    const a = pushBuild('locked', 'prod', 'locked-1');
    deployService('prod', 'locked-svc', 'locked', 'prod');
    const squatter = pushBuild('locked', protectiveTagFor(a, 'digest-guard'), 'squatter');
    pushBuild('locked', 'prod', 'locked-2');
    const response = await guard.deliverNewEvents();
    expect(response.batchItemFailures).toEqual([]);
    expect(account.callCount('ecr', 'PutImage')).toBe(0);
    expect(tagsOf('locked', squatter)).toEqual([protectiveTagFor(a, 'digest-guard')]);
    expect(tagsOf('locked', a)).toEqual([]);
    const [alert] = alertsOf(guard);
    expect(alert!.subject).toBe('ECR digest guard: CRITICAL: could not protect 1 in-use image in locked');
    expect(alert!.body.email).toContain(squatter);
  });

  it('protects an OCI image index and the per-platform manifests it references', async () => {
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
    const guard = guardOnSim(account);
    deployService('prod', 'multi-svc', 'multi', 'prod');
    pushBuild('multi', 'prod', 'single-arch'); // the tag moves to a single-arch image
    await guard.deliverNewEvents();
    expect(tagsOf('multi', index.digest)).toEqual([protectiveTagFor(index.digest, 'digest-guard')]);
    // No AWS document says a lifecycle rule spares an index's untagged children, so they are protected too.
    expect(tagsOf('multi', amd.digest)).toEqual([protectiveTagFor(amd.digest, 'digest-guard')]);
    expect(tagsOf('multi', arm.digest)).toEqual([protectiveTagFor(arm.digest, 'digest-guard')]);
    account.ecr.runLifecycleExpireUntagged('multi');
    expect(tagsOf('multi', amd.digest)).toBeDefined();
    expect(tagsOf('multi', arm.digest)).toBeDefined();
    expect(account.ecs.launchReplacementTask('prod', 'multi-svc')).toMatchObject({ ok: true });
  });

  it('pages with CRITICAL when the in-use digest is already gone', async () => {
    const guard = guardOnSim(account);
    const a = pushBuild('app', 'prod', 'build-1');
    deployService('prod', 'web', 'app', 'prod');
    pushBuild('app', 'prod', 'build-2');
    account.ecr.runLifecycleExpireUntagged('app'); // the lifecycle run won the race
    expect(tagsOf('app', a)).toBeUndefined();
    const response = await guard.deliverNewEvents();
    expect(response.batchItemFailures).toEqual([]);
    const [alert] = alertsOf(guard);
    expect(alert!.subject).toBe('ECR digest guard: CRITICAL: 1 in-use image deleted from app');
    expect(alert!.messageAttributes.severity!.stringValue).toBe('CRITICAL');
    expect(alert!.body.email).toMatch(/NOW: redeploy/);
  });

  it("reports a malformed record as that record's failure and still protects the rest of the batch", async () => {
    const guard = guardOnSim(account);
    const a = pushBuild('app', 'prod', 'build-1');
    deployService('prod', 'web', 'app', 'prod');
    pushBuild('app', 'prod', 'build-2');
    const good = account.events.slice(-1)[0]!;
    const bad = { ...good, detail: { ...good.detail, 'image-digest': 'not-a-digest' } };
    const response = await guard.deliver([bad, good]);
    expect(response.batchItemFailures).toHaveLength(1);
    expect(guard.logs.find((l) => l.level === 'error')!.extra.reason).toMatch(/image-digest/);
    expect(tagsOf('app', a)).toEqual([protectiveTagFor(a, 'digest-guard')]);
  });

  it('retries throttled ECS calls and still completes the batch', async () => {
    const guard = guardOnSim(account);
    const a = pushBuild('app', 'prod', 'build-1');
    deployService('prod', 'web', 'app', 'prod');
    pushBuild('app', 'prod', 'build-2');
    account.transport.injectFault({
      service: 'ecs',
      operation: 'DescribeServices',
      code: 'ThrottlingException',
      times: 1,
    });
    const response = await guard.deliverNewEvents();
    expect(response.batchItemFailures).toEqual([]);
    expect(tagsOf('app', a)).toEqual([protectiveTagFor(a, 'digest-guard')]);
  });

  it('fails the batch for a retry when ECR keeps failing, and protects on the redelivery', async () => {
    const guard = guardOnSim(account, { maxAttempts: 1 });
    const a = pushBuild('app', 'prod', 'build-1');
    deployService('prod', 'web', 'app', 'prod');
    pushBuild('app', 'prod', 'build-2');
    account.transport.injectFault({
      service: 'ecr',
      operation: 'DescribeImages',
      code: 'ServerException',
      status: 500,
      times: 1,
    });
    const events = account.events.slice(-1);
    const first = await guard.deliver(events);
    expect(first.batchItemFailures).toHaveLength(1);
    expect(tagsOf('app', a)).toEqual([]);
    const second = await guard.deliver(events, { receiveCount: 2 });
    expect(second.batchItemFailures).toEqual([]);
    expect(tagsOf('app', a)).toEqual([protectiveTagFor(a, 'digest-guard')]);
    expect(alertsOf(guard)).toHaveLength(1);
  });
});

describe('archived images', () => {
  it('restores an in-use image that a lifecycle transition archived, and pages with the restore delay', async () => {
    const guard = guardOnSim(account);
    const a = pushBuild('app', 'prod', 'build-1');
    deployService('prod', 'web', 'app', 'prod');
    account.ecr.archive('app', a);
    pushBuild('app', 'prod', 'build-2');
    await guard.deliverNewEvents();
    expect(account.ecr.imagesOf('app').find((i) => i.digest === a)?.status).toBe('ACTIVATING');
    const [alert] = alertsOf(guard);
    expect(alert!.subject).toBe('ECR digest guard: CRITICAL: 1 in-use image archived in app');
    expect(alert!.body.email).toMatch(
      /Started restoring archived image sha256:[a-f0-9]{12}… \(UpdateImageStorageClass to STANDARD\): it can be pulled again in up to about 20 minutes/,
    );
  });
});

describe('scale', () => {
  it('finds pinned digests across more than one page of clusters, services and tasks', async () => {
    const guard = guardOnSim(account);
    const a = pushBuild('app', 'prod', 'build-1');
    for (let c = 0; c < 3; c += 1) account.ecs.createCluster(`c${c}`);
    // 150 services in one cluster (2 pages of ListServices at 100), 120 tasks in another (2 pages of ListTasks).
    const td = account.ecs.registerTaskDefinition('filler', [{ name: 'filler', image: `${host}/app:prod` }]);
    for (let s = 0; s < 150; s += 1) account.ecs.createService('c0', `svc-${s}`, td, 0);
    account.ecs.createService('c1', 'wide', td, 120);
    pushBuild('app', 'prod', 'build-2');
    await guard.deliverNewEvents();
    expect(tagsOf('app', a)).toEqual([protectiveTagFor(a, 'digest-guard')]);
    expect(account.callCount('ecs', 'ListServices')).toBeGreaterThanOrEqual(2);
    expect(account.callCount('ecs', 'DescribeTasks')).toBeGreaterThanOrEqual(2);
  });

  it('given 120 in-use digests of one repository left untagged, reads them in ⌈120/50⌉ BatchGetImage calls', async () => {
    // BatchGetImage takes at most 100 image ids (botocore ecr/2015-09-21/service-2.json, ImageIdentifierList
    // max 100); each digest needs two (itself and its protective tag), so 50 digests a call.
    const guard = guardOnSim(account);
    const pinned: string[] = [];
    for (let i = 0; i < 120; i += 1) {
      pinned.push(pushBuild('app', `svc-${i}`, `build-${i}-1`));
      deployService('prod', `svc-${i}`, 'app', `svc-${i}`, 0);
    }
    await guard.deliverNewEvents(); // every digest still tagged: nothing to protect
    for (let i = 0; i < 120; i += 1) pushBuild('app', `svc-${i}`, `build-${i}-2`);
    const readsBefore = account.callCount('ecr', 'BatchGetImage');
    const putsBefore = account.callCount('ecr', 'PutImage');

    const response = await guard.deliverNewEvents();

    expect(response.batchItemFailures).toEqual([]);
    expect(account.callCount('ecr', 'BatchGetImage') - readsBefore).toBe(Math.ceil(120 / 50));
    expect(account.callCount('ecr', 'PutImage') - putsBefore).toBe(120);
    for (const digest of pinned) expect(tagsOf('app', digest)).toEqual([protectiveTagFor(digest, 'digest-guard')]);
  });
});

/** BatchDeleteImage through the real SDK client, as a person or a pipeline would call it. */
async function batchDeleteImage(repository: string, imageId: { imageTag?: string; imageDigest?: string }) {
  return new ECRClient(account.clientConfig()).send(
    new BatchDeleteImageCommand({ repositoryName: repository, imageIds: [imageId] }),
  );
}

describe('deleted anyway: an in-use image is deleted or expired', () => {
  it('pages CRITICAL at once when BatchDeleteImage deletes a digest a service runs, naming the service and the fix', async () => {
    // "action-type": "DELETE": https://docs.aws.amazon.com/AmazonECR/latest/userguide/ecr-eventbridge.html;
    // deleting by digest removes the image and every tag (BatchDeleteImage, botocore ecr service-2.json).
    const guard = guardOnSim(account);
    const a = pushBuild('app', 'prod', 'build-1');
    deployService('prod', 'web', 'app', 'prod');
    await guard.deliverNewEvents(); // the push: nothing lost a tag
    account.clock.advance(60_000);
    await batchDeleteImage('app', { imageDigest: a });
    expect(tagsOf('app', a)).toBeUndefined();

    const response = await guard.deliverNewEvents();

    expect(response.batchItemFailures).toEqual([]);
    const [alert, ...more] = alertsOf(guard);
    expect(more).toEqual([]);
    expect(alert!.subject).toBe('ECR digest guard: CRITICAL: 1 in-use image deleted from app');
    expect(alert!.messageAttributes.severity!.stringValue).toBe('CRITICAL');
    expect(alert!.body.email).toContain(
      `Image ${a} was deleted (ECR DELETE event at 2026-11-26T10:01:00.000Z, tag "prod"), but it is still in use:`,
    );
    expect(alert!.body.email).toContain('ECS service prod/web');
    expect(alert!.body.email).toMatch(/NOW: redeploy the workloads above to an image that exists/);
    expect(alert!.body.email).toMatch(
      /aws cloudtrail lookup-events --region eu-west-1 --lookup-attributes AttributeKey=EventName,AttributeValue=BatchDeleteImage/,
    );
    const json = JSON.parse(alert!.body.default) as {
      events: string[];
      pushes: unknown[];
      deletes: { action: string; digest: string; tag: string }[];
    };
    expect(json.events).toEqual(['digest-gone']);
    expect(json.pushes).toEqual([]); // a deletion is not presented as a push
    expect(json.deletes).toMatchObject([{ action: 'DELETE', digest: a, tag: 'prod' }]);
  });

  it('changes nothing and sends nothing for a DELETE by tag of an in-use digest that keeps another tag', async () => {
    // BatchDeleteImage by tag removes that tag only, while the image has another one (aws-notes, ECR images and tags).
    const guard = guardOnSim(account);
    const a = pushBuild('app', 'prod', 'build-1');
    pushBuild('app', 'v1', 'build-1'); // the same manifest: a second tag on A
    deployService('prod', 'web', 'app', 'prod');
    await guard.deliverNewEvents();
    await batchDeleteImage('app', { imageTag: 'v1' });

    const response = await guard.deliverNewEvents();

    expect(response.batchItemFailures).toEqual([]);
    expect(tagsOf('app', a)).toEqual(['prod']);
    expect(account.callCount('ecr', 'PutImage')).toBe(0);
    expect(alertsOf(guard)).toEqual([]);
  });

  it("pages when someone deletes the protective tag that was an in-use image's only tag (which deletes the image)", async () => {
    // "BatchDeleteImage by tag removes that tag; removing an image's last tag deletes the image" (aws-notes).
    const guard = guardOnSim(account);
    const a = pushBuild('app', 'prod', 'build-1');
    deployService('prod', 'web', 'app', 'prod');
    pushBuild('app', 'prod', 'build-2');
    await guard.deliverNewEvents();
    expect(tagsOf('app', a)).toEqual([protectiveTagFor(a, 'digest-guard')]);

    await batchDeleteImage('app', { imageTag: protectiveTagFor(a, 'digest-guard') });
    await guard.deliverNewEvents();

    const alerts = alertsOf(guard);
    expect(alerts).toHaveLength(2);
    expect(alerts[1]!.subject).toBe('ECR digest guard: CRITICAL: 1 in-use image deleted from app');
    expect(alerts[1]!.body.email).toContain(`tag "${protectiveTagFor(a, 'digest-guard')}"`);
  });

  it('pages CRITICAL when a lifecycle rule expired an in-use digest, from the PolicyExecutionEvent alone', async () => {
    // PolicyExecutionEvent, one per up to 10 images with digest, tags and pushedAt:
    // https://docs.aws.amazon.com/AmazonECR/latest/userguide/logging-using-cloudtrail.html
    const guard = guardOnSim(account, { dryRun: true }); // dry run: the guard saw the risk and changed nothing
    const a = pushBuild('app', 'prod', 'build-1');
    deployService('prod', 'web', 'app', 'prod');
    pushBuild('app', 'prod', 'build-2');
    await guard.deliverNewEvents();
    account.clock.advanceDays(2);
    const [execution] = account.ecr.runLifecycleExpireUntagged('app');
    expect(tagsOf('app', a)).toBeUndefined();

    // guardOnSim types a batch as ECR Image Action events; the handler takes any EventBridge event body.
    const lifecycleEvent = toLifecycleEventBridgeEvent(execution!, {
      account: account.accountId,
      region: account.region,
    });
    const response = await guard.deliver([lifecycleEvent as unknown as EcrImageActionEvent]);

    expect(response.batchItemFailures).toEqual([]);
    const last = alertsOf(guard).at(-1)!;
    expect(last.subject).toBe('ECR digest guard: CRITICAL: 1 in-use image expired from app');
    expect(last.body.email).toContain(
      `Image ${a} was expired by a lifecycle rule (PolicyExecutionEvent at 2026-11-28T10:00:00.000Z, untagged), but it is still in use:`,
    );
    expect(last.body.email).toContain('ECS service prod/web');
    expect(last.body.email).toMatch(/Find the lifecycle rule that expired an in-use image/);
    expect((JSON.parse(last.body.default) as { deletes: { action: string }[] }).deletes.map((d) => d.action)).toEqual([
      'EXPIRE',
    ]);
  });
});

describe('root cause across batches', () => {
  it('says the tag moved soon after the in-use digest was pushed, though the two pushes came in different batches', async () => {
    // imagePushedAt of the in-use digest (DescribeImages) against the time of the push that moved its tag.
    const guard = guardOnSim(account);
    pushBuild('app', 'prod', 'build-1');
    deployService('prod', 'web', 'app', 'prod');
    await guard.deliverNewEvents();
    account.clock.advance(40_000);
    pushBuild('app', 'prod', 'build-2');

    await guard.deliverNewEvents();

    const [alert] = alertsOf(guard);
    expect(alert!.body.email).toMatch(
      /Likely cause: tag "prod" moved from sha256:[a-f0-9]{12}… to sha256:[a-f0-9]{12}… 40 s after/,
    );
    expect((JSON.parse(alert!.body.default) as { quickTagMoves: { tag: string }[] }).quickTagMoves).toMatchObject([
      { tag: 'prod' },
    ]);
  });

  it('says nothing of a race when the in-use digest was pushed long before its tag moved', async () => {
    const guard = guardOnSim(account);
    pushBuild('app', 'prod', 'build-1');
    deployService('prod', 'web', 'app', 'prod');
    await guard.deliverNewEvents();
    account.clock.advanceDays(3);
    pushBuild('app', 'prod', 'build-2');

    await guard.deliverNewEvents();

    const [alert] = alertsOf(guard);
    expect(alert!.subject).toBe('ECR digest guard: Protected 1 in-use image in app');
    expect(alert!.body.email).not.toMatch(/Likely cause/);
  });
});
