/**
 * Scenario tests: Lambda functions packaged as container images, through the real push handler, adapters
 * and SDK clients on the simulated account.
 *
 * AWS behaviour relied on (pinned for the simulated Lambda in test/sim/lambda.test.ts):
 * - Lambda resolves an image tag to a digest when the code is set; `GetFunction` → `Code.ResolvedImageUri`
 *   keeps that digest after the tag moves, and a published version keeps the digest it was published with.
 * - "If the corresponding container image no longer exists on Amazon ECR … the function enters the Failed
 *   state." See: https://docs.aws.amazon.com/lambda/latest/dg/invocation-images.html
 * - An alias routes invocations to a published version.
 *   See: https://docs.aws.amazon.com/lambda/latest/dg/configuration-aliases.html
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { protectiveTagFor } from '../../lambda/core/protective-tag';
import { SimulatedAccount } from '../../sim/account';
import { dockerManifest } from '../../sim/manifests';
import { guardOnSim, type GuardOnSim } from '../../sim/guard-on-sim';
import { messagesOf, tagsOf as tagsOfImage } from '../support/sim-scenario';

let account: SimulatedAccount;
let host: string;

function pushBuild(repository: string, tag: string, seed: string): string {
  const manifest = dockerManifest({ seed });
  return account.ecr.pushImage(repository, { tag, manifest: manifest.text, mediaType: manifest.mediaType });
}

const tagsOf = (repository: string, digest: string) => tagsOfImage(account, repository, digest);

const alertsOf = (guard: GuardOnSim) => messagesOf(account, guard.topicArn);

/** The lifecycle policy's "expire untagged" pass, once the images are old enough to qualify. */
function lifecyclePass(repository: string): void {
  account.clock.advanceDays(2);
  account.ecr.runLifecycleExpireUntagged(repository);
}

beforeEach(() => {
  account = new SimulatedAccount({ startAt: new Date('2026-11-26T10:00:00Z') });
  host = account.ecr.registryHost;
  account.ecr.createRepository('app');
});

describe('a Lambda function created from app:prod, then prod moves', () => {
  it('protects the digest the function runs, names the function in the alert, and the function still runs after the lifecycle pass', async () => {
    const guard = guardOnSim(account);
    const a = pushBuild('app', 'prod', 'build-1');
    const functionArn = account.lambda.createFunction('thumbnails', `${host}/app:prod`); // resolves prod → A now
    await guard.deliverNewEvents();
    const b = pushBuild('app', 'prod', 'build-2'); // A loses its last tag
    expect(tagsOf('app', a)).toEqual([]);

    const response = await guard.deliverNewEvents();

    expect(response.batchItemFailures).toEqual([]);
    expect(tagsOf('app', a)).toEqual([protectiveTagFor(a, 'digest-guard')]);
    expect(tagsOf('app', b)).toEqual(['prod']);
    const alerts = alertsOf(guard);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.subject).toBe('ECR digest guard: Protected 1 in-use image in app');
    expect(alerts[0]!.body.email).toContain(`Lambda function ${functionArn} (${host}/app:prod)`);
    expect(JSON.parse(alerts[0]!.body.default)).toMatchObject({ repository: 'app', events: ['protected'] });

    lifecyclePass('app');
    expect(tagsOf('app', a)).toBeDefined();
    expect(account.lambda.invoke('thumbnails')).toEqual({ ok: true, version: '$LATEST' });
  });

  it('without the guard, the same story leaves the function Failed once the lifecycle pass deletes its digest', () => {
    const a = pushBuild('app', 'prod', 'build-1');
    account.lambda.createFunction('thumbnails', `${host}/app:prod`);
    pushBuild('app', 'prod', 'build-2');

    lifecyclePass('app');

    expect(tagsOf('app', a)).toBeUndefined();
    expect(account.lambda.invoke('thumbnails')).toMatchObject({
      ok: false,
      state: 'Failed',
      stateReasonCode: 'ImageDeleted',
    });
  });

  it('names an ECS service and a Lambda function that run the same digest in one alert', async () => {
    const guard = guardOnSim(account);
    account.ecs.createCluster('prod');
    const a = pushBuild('app', 'prod', 'build-1');
    const taskDefinition = account.ecs.registerTaskDefinition('web', [{ name: 'web', image: `${host}/app:prod` }]);
    account.ecs.createService('prod', 'web', taskDefinition, 1);
    const functionArn = account.lambda.createFunction('thumbnails', `${host}/app:prod`);
    pushBuild('app', 'prod', 'build-2');

    await guard.deliverNewEvents();

    expect(tagsOf('app', a)).toEqual([protectiveTagFor(a, 'digest-guard')]);
    const alerts = alertsOf(guard);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.body.email).toContain('ECS service prod/web');
    expect(alerts[0]!.body.email).toContain(`Lambda function ${functionArn}`);
  });
});

describe('published versions behind an alias', () => {
  it('protects the older digest an alias still runs after $LATEST moved on, and the alias still runs after the lifecycle pass', async () => {
    const guard = guardOnSim(account);
    const a = pushBuild('app', 'prod', 'build-1');
    const functionArn = account.lambda.createFunction('api', `${host}/app:prod`);
    const v1 = account.lambda.publishVersion('api'); // version 1 keeps A
    account.lambda.createAlias('api', 'live', v1);
    await guard.deliverNewEvents();
    const b = pushBuild('app', 'prod', 'build-2');
    account.lambda.updateFunctionCode('api', `${host}/app:prod`); // $LATEST → B; live still on version 1 → A

    await guard.deliverNewEvents();

    expect(tagsOf('app', a)).toEqual([protectiveTagFor(a, 'digest-guard')]);
    expect(tagsOf('app', b)).toEqual(['prod']);
    const email = alertsOf(guard)[0]!.body.email;
    expect(email).toContain(`Lambda function ${functionArn}:live (${host}/app:prod)`);

    lifecyclePass('app');
    expect(account.lambda.invoke('api', 'live')).toEqual({ ok: true, version: v1 });
    expect(account.lambda.invoke('api')).toEqual({ ok: true, version: '$LATEST' });
  });

  it('without the guard, the alias enters Failed while $LATEST still runs', () => {
    pushBuild('app', 'prod', 'build-1');
    account.lambda.createFunction('api', `${host}/app:prod`);
    account.lambda.createAlias('api', 'live', account.lambda.publishVersion('api'));
    pushBuild('app', 'prod', 'build-2');
    account.lambda.updateFunctionCode('api', `${host}/app:prod`);

    lifecyclePass('app');

    expect(account.lambda.invoke('api', 'live')).toMatchObject({
      ok: false,
      state: 'Failed',
      stateReasonCode: 'ImageDeleted',
    });
    expect(account.lambda.invoke('api')).toMatchObject({ ok: true });
  });
});

describe('what the Lambda inventory leaves alone, and what it costs', () => {
  it('ignores zip functions: they are listed, never read, and protect nothing', async () => {
    const guard = guardOnSim(account);
    account.lambda.createZipFunction('zip-1');
    account.lambda.createZipFunction('zip-2');
    const a = pushBuild('app', 'prod', 'build-1');
    pushBuild('app', 'prod', 'build-2');

    const response = await guard.deliverNewEvents();

    expect(response.batchItemFailures).toEqual([]);
    expect(account.callCount('lambda', 'ListFunctions')).toBe(1);
    expect(account.callCount('lambda', 'GetFunction')).toBe(0);
    expect(account.callCount('lambda', 'ListAliases')).toBe(0);
    expect(tagsOf('app', a)).toEqual([]);
    expect(alertsOf(guard)).toEqual([]);
  });

  it('reads each image function with one GetFunction and one ListAliases, plus one GetFunction per aliased version', async () => {
    const guard = guardOnSim(account);
    pushBuild('app', 'prod', 'build-1');
    account.lambda.createFunction('plain', `${host}/app:prod`);
    account.lambda.createFunction('api', `${host}/app:prod`);
    const v1 = account.lambda.publishVersion('api');
    account.lambda.createAlias('api', 'live', v1);
    account.lambda.createAlias('api', 'blue', v1); // same version: no extra read
    account.lambda.createZipFunction('zip');
    pushBuild('app', 'prod', 'build-2');

    await guard.deliverNewEvents();

    expect(account.callCount('lambda', 'ListFunctions')).toBe(1);
    expect(account.callCount('lambda', 'ListAliases')).toBe(2);
    expect(account.callCount('lambda', 'GetFunction')).toBe(3); // plain, api $LATEST, api version 1
    expect(account.callCount('lambda')).toBe(6);
  });

  it('fails the batch for a retry when the role cannot list aliases, rather than decide without Lambda', async () => {
    const guard = guardOnSim(account, { maxAttempts: 1 });
    const a = pushBuild('app', 'prod', 'build-1');
    account.lambda.createFunction('thumbnails', `${host}/app:prod`);
    pushBuild('app', 'prod', 'build-2');
    // Lambda answers a missing permission with 403 AccessDeniedException.
    account.transport.injectFault({
      service: 'lambda',
      operation: 'ListAliases',
      code: 'AccessDeniedException',
      status: 403,
      times: 1,
    });

    const first = await guard.deliver(account.events);

    expect(first.batchItemFailures).toHaveLength(2);
    expect(tagsOf('app', a)).toEqual([]);

    const redelivery = await guard.deliver(account.events, { receiveCount: 2 });

    expect(redelivery.batchItemFailures).toEqual([]);
    expect(tagsOf('app', a)).toEqual([protectiveTagFor(a, 'digest-guard')]);
  });
});
