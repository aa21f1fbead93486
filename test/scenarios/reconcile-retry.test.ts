/**
 * Scenario tests: a run that could not protect a repository is retried, on a simulated organization, through the
 * real push and reconcile handlers, adapters and SDK clients. The finding they reproduce: workload B deploys
 * `api:prod`, the tag moves a second later, the push path handles that push before the guard knows of the
 * deployment (no user of the old digest), and the next run's list indexes the use but its `BatchGetImage` for
 * `api` is throttled. The index now says the digest is in use, so neither the watch nor the push path looks at it
 * again: only a run can protect it before a lifecycle pass deletes it.
 * - throttled through the SDK's attempts once: the run's own retry after its back-off protects it;
 * - throttled through the run's retry too: the run protects and alerts the rest, writes the index, and fails
 *   naming `api`; Lambda's asynchronous retry (the same event, called again) protects the digest before the pass.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ECRClient } from '@aws-sdk/client-ecr';
import { ECSClient } from '@aws-sdk/client-ecs';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SNSClient } from '@aws-sdk/client-sns';
import { beforeEach, describe, expect, it } from 'vitest';
import { EcrAdapter } from '../../lambda/adapters/ecr';
import { DynamoDbInUseIndex } from '../../lambda/adapters/in-use-index';
import { inventoryFor } from '../../lambda/adapters/inventory';
import { SnsAlertAdapter } from '../../lambda/adapters/sns';
import { protectiveTagFor } from '../../lambda/core/protective-tag';
import { RepositoriesNotReconciledError } from '../../lambda/core/reconcile';
import { handlePushBatch } from '../../lambda/handlers/push';
import type { SimulatedAccount } from '../../sim/account';
import { toSqsEvent } from '../../sim/events';
import { faultInjector } from '../../sim/faults';
import {
  createGuardResources,
  deployWorkloadStack,
  guardTopicArn,
  IN_USE_INDEX_TABLE,
  reconcileOnOrganization,
} from '../../sim/guard-on-organization';
import { dockerManifest } from '../../sim/manifests';
import { SimulatedOrganization } from '../../sim/organization';
import { messagesOf } from '../support/sim-scenario';

const REGISTRY = '111111111111';
const WORKLOAD_B = '222222222222';
const REGION = 'eu-west-1';
const noop = () => undefined;
const silent = { info: noop, warn: noop, error: noop };

let org: SimulatedOrganization;
let registry: SimulatedAccount;
let workload: SimulatedAccount;

function push(repository: string, tag: string, seed: string): string {
  const manifest = dockerManifest({ seed });
  return registry.ecr.pushImage(repository, { tag, manifest: manifest.text, mediaType: manifest.mediaType });
}

const tagsOf = (repository: string, digest: string) =>
  registry.ecr.imagesOf(repository).find((image) => image.digest === digest)?.tags;

/** The push path as the push function wires it with workload accounts: it reads the index for the pushed repository. */
async function pushPath(events: typeof registry.events): Promise<void> {
  const config = org.clientConfig({ accountId: REGISTRY, region: REGION, maxAttempts: 2 });
  const index = new DynamoDbInUseIndex(IN_USE_INDEX_TABLE, new DynamoDBClient(config), () => org.clock.now().getTime());
  const response = await handlePushBatch(
    toSqsEvent(events),
    { tagPrefix: 'digest-guard', dryRun: false },
    {
      ecr: new EcrAdapter(new ECRClient(config)),
      inventoryFor: (account, region) =>
        inventoryFor(account, region, { ecs: new ECSClient(config), lambda: new LambdaClient(config) }),
      alerts: new SnsAlertAdapter(guardTopicArn(registry), new SNSClient(config)),
      logger: silent,
      inUseIndex: { index, workloadAccounts: [WORKLOAD_B] },
    },
  );
  expect(response.batchItemFailures).toEqual([]);
}

const scheduledRun = () => reconcileOnOrganization(org, registry, { workloadAccounts: [WORKLOAD_B] });

/** B deploys `api:prod`; the tag moves a second later and the push path handles that push first. The old digest. */
async function deployThenMoveTagBeforeTheGuardKnows(): Promise<string> {
  const pinned = push('api', 'prod', 'build-1');
  workload.ecs.createCluster('prod');
  const td = workload.ecs.registerTaskDefinition('api', [
    { name: 'api', image: `${registry.ecr.registryHost}/api:prod` },
  ]);
  workload.ecs.createService('prod', 'api', td, 1);
  org.clock.advance(1_000);
  const pushedBefore = registry.events.length;
  push('api', 'prod', 'build-2');
  await pushPath(registry.events.slice(pushedBefore));
  expect(tagsOf('api', pinned)).toEqual([]);
  return pinned;
}

/** `BatchGetImage` of `api` throttled for the next `times` calls (each SDK attempt is a call; the run makes 2). */
function throttleBatchGetImage(times: number): () => number {
  const faults = faultInjector(registry.transport);
  faults.inject({
    kind: 'throttle',
    service: 'ecr',
    operation: 'BatchGetImage',
    times,
    match: (input: { repositoryName?: string }) => input.repositoryName === 'api',
  });
  return () => faults.pending();
}

beforeEach(async () => {
  org = new SimulatedOrganization({
    accounts: [
      { accountId: REGISTRY, regions: [REGION] },
      { accountId: WORKLOAD_B, regions: [REGION] },
    ],
  });
  registry = org.account(REGISTRY, REGION);
  workload = org.account(WORKLOAD_B, REGION);
  await createGuardResources(org, registry);
  deployWorkloadStack(org, WORKLOAD_B, { accountId: REGISTRY, region: REGION });
  registry.ecr.createRepository('api');
  registry.ecr.createRepository('app');
  // A steady state: one complete list of both accounts before the finding starts.
  await scheduledRun();
});

describe('a run whose BatchGetImage is throttled after its list indexed a use whose tag moved', () => {
  it('given the throttle outlasts the SDK attempts once, then the run retries the repository after its back-off and protects the digest', async () => {
    const pinned = await deployThenMoveTagBeforeTheGuardKnows();
    const pending = throttleBatchGetImage(2);

    const outcome = await scheduledRun();

    expect(pending()).toBe(0);
    expect(outcome.failed).toEqual([]);
    expect(tagsOf('api', pinned)).toEqual([protectiveTagFor(pinned, 'digest-guard')]);
    registry.ecr.runLifecycleExpireUntagged('api');
    expect(tagsOf('api', pinned)).toEqual([protectiveTagFor(pinned, 'digest-guard')]);
  });

  it('given the throttle outlasts the run’s retry too, then the run fails naming api after writing the index and alerting, and Lambda’s retry protects the digest before a lifecycle pass', async () => {
    const pinned = await deployThenMoveTagBeforeTheGuardKnows();
    // A second in-use digest, in `app`, whose tag moved unseen: the rest, which the failed run still protects.
    const otherPinned = push('app', 'prod', 'app-1');
    const td = workload.ecs.registerTaskDefinition('app', [
      { name: 'app', image: `${registry.ecr.registryHost}/app:prod` },
    ]);
    workload.ecs.createService('prod', 'app', td, 1);
    org.clock.advance(1_000);
    push('app', 'prod', 'app-2');
    const alertsBefore = messagesOf(registry, guardTopicArn(registry)).length;
    // Fails api's first attempt and its retry (2 SDK attempts each).
    const pending = throttleBatchGetImage(4);

    const failure = await scheduledRun().then(
      () => undefined,
      (error: unknown) => error,
    );

    expect(pending()).toBe(0);
    expect(failure).toBeInstanceOf(RepositoriesNotReconciledError);
    const { outcome, message } = failure as RepositoriesNotReconciledError;
    expect(message).toMatch(/could not reconcile 1 repository \(api\)/);
    expect(outcome.failed.map((f) => f.repository)).toEqual(['api']);
    expect(outcome.inUseIndex).toMatchObject({ outcome: 'complete' });
    expect(tagsOf('api', pinned)).toEqual([]);
    expect(tagsOf('app', otherPinned)).toEqual([protectiveTagFor(otherPinned, 'digest-guard')]);
    const alerts = messagesOf(registry, guardTopicArn(registry)).slice(alertsBefore);
    expect(alerts.map((a) => a.subject)).toEqual([
      expect.stringMatching(/protected/i),
      'ECR digest guard: reconcile could not check 1 repository',
    ]);
    const entries = registry.dynamodb
      .itemsOf(IN_USE_INDEX_TABLE)
      .filter(
        (item) => String(item.pk?.S).endsWith('#api') && String(item.sk?.S).startsWith(`${pinned}#${WORKLOAD_B}#`),
      );
    expect(entries.length).toBeGreaterThan(0);
    const statusOfB = registry.dynamodb
      .itemsOf(IN_USE_INDEX_TABLE)
      .find((item) => item.sk?.S === 'status' && String(item.pk?.S).includes(WORKLOAD_B));
    expect(statusOfB?.lastListOutcome?.S).toBe('complete');

    // Lambda's asynchronous retry: the same scheduled event, a minute later.
    org.clock.advance(60_000);
    const retried = await scheduledRun();

    expect(retried.failed).toEqual([]);
    expect(tagsOf('api', pinned)).toEqual([protectiveTagFor(pinned, 'digest-guard')]);
    registry.ecr.runLifecycleExpireUntagged('api');
    expect(tagsOf('api', pinned)).toEqual([protectiveTagFor(pinned, 'digest-guard')]);
  });
});
