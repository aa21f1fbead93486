/**
 * Scenario tests: the watch reads the one service or function an event names, on a simulated organization,
 * through the real core, adapters and SDK clients, as its watch role:
 * - a deployment in workload account B, read through B's reader role (STS AssumeRole with the trust the workload
 *   stack declares): two ECS calls, an index entry for its revision as the list writes it, and a pinned digest
 *   whose tag already moved protected at once;
 * - a Lambda UpdateFunctionCode in the guard's own account: one Lambda call, protected at once;
 * - a duplicate event changes nothing; a reader role that cannot be assumed fails the record with a clear error,
 *   and the retry (once the role is back) loses nothing; an unlisted account is not read.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { protectiveTagFor } from '../../lambda/core/protective-tag';
import { workloadReaderRoleName } from '../../lambda/core/workloads';
import type { SimulatedAccount } from '../../sim/account';
import { toDaemonDeploymentStateChangeEvent, toLambdaApiCallEvent, toSqsEvent } from '../../sim/events';
import {
  createGuardResources,
  deployWorkloadStack,
  guardTopicArn,
  IN_USE_INDEX_TABLE as TABLE,
  reconcileOnOrganization,
  watchOnOrganization,
} from '../../sim/guard-on-organization';
import { dockerManifest } from '../../sim/manifests';
import { SimulatedOrganization } from '../../sim/organization';
import { messagesOf } from '../support/sim-scenario';

const REGISTRY = '111111111111';
const WORKLOAD_B = '222222222222';
const WORKLOAD_C = '333333333333';
const REGION = 'eu-west-1';

let org: SimulatedOrganization;
let registry: SimulatedAccount;
let workload: SimulatedAccount;
let logs: { level: string; message: string; extra: Record<string, unknown> }[];

function push(repository: string, tag: string, seed: string): string {
  const manifest = dockerManifest({ seed });
  return registry.ecr.pushImage(repository, { tag, manifest: manifest.text, mediaType: manifest.mediaType });
}

function watcher(workloadAccounts: string[] = [WORKLOAD_B], anyAccountIn?: string[]) {
  const log =
    (level: string) =>
    (message: string, extra: Record<string, unknown> = {}) =>
      void logs.push({ level, message, extra });
  return watchOnOrganization(org, registry, {
    workloadAccounts,
    logger: { info: log('info'), warn: log('warn'), error: log('error') },
    ...(anyAccountIn ? { anyAccountIn } : {}),
  });
}

/** Index entries whose consumer is in `account`, as `<kind> <name> <seenBy>`. */
function entriesOf(account: string): string[] {
  return registry.dynamodb
    .itemsOf(TABLE)
    .filter((item) => item.sk?.S !== 'status' && item.consumerAccount?.S === account)
    .map((item) => `${item.kind?.S} ${item.name?.S} ${item.seenBy?.S}`)
    .sort();
}

const tagsOf = (repository: string, digest: string) =>
  registry.ecr.imagesOf(repository).find((image) => image.digest === digest)?.tags ?? [];

/** B's service `web` pins the digest `prod` names now; then the tag moves on. Returns the pinned digest. */
function deployInWorkloadThenMoveTag(): string {
  const pinned = push('app', 'prod', 'build-1');
  workload.ecs.createCluster('prod');
  const td = workload.ecs.registerTaskDefinition('web', [
    { name: 'web', image: `${registry.ecr.registryHost}/app:prod` },
  ]);
  // No task runs yet (desired 0): only the deployment event tells the watch about the revision.
  workload.ecs.createService('prod', 'web', td, 0);
  push('app', 'prod', 'build-2');
  expect(tagsOf('app', pinned)).toEqual([]);
  return pinned;
}

const inProgress = () =>
  workload.ecs.deploymentEvents.filter((e) => e.detail.eventName === 'SERVICE_DEPLOYMENT_IN_PROGRESS');

beforeEach(async () => {
  // On the wall clock: the SDK judges session expiry by it, as it does against AWS.
  org = new SimulatedOrganization({
    accounts: [
      { accountId: REGISTRY, regions: [REGION] },
      { accountId: WORKLOAD_B, regions: [REGION] },
      { accountId: WORKLOAD_C, regions: [REGION] },
    ],
  });
  registry = org.account(REGISTRY, REGION);
  workload = org.account(WORKLOAD_B, REGION);
  logs = [];
  await createGuardResources(org, registry);
  deployWorkloadStack(org, WORKLOAD_B, { accountId: REGISTRY, region: REGION });
  registry.ecr.createRepository('app');
});

describe('a deployment in a workload account', () => {
  it('given a service in B pinned a digest whose tag has moved, when its deployment event is watched, then two ECS calls in B index its revision and the digest is protected at once', async () => {
    const pinned = deployInWorkloadThenMoveTag();
    const ecsCallsBefore = workload.callCount('ecs');

    const outcome = await watcher()(toSqsEvent(workload.ecs.deploymentEvents).Records);

    expect(outcome.failedMessageIds).toEqual([]);
    expect(workload.callCount('ecs') - ecsCallsBefore).toBe(2);
    expect(workload.callCount('ecs', 'DescribeServices') + workload.callCount('ecs', 'DescribeServiceRevisions')).toBe(
      2,
    );
    expect(entriesOf(WORKLOAD_B)).toEqual([
      expect.stringMatching(/^ecs-service arn:aws:ecs:eu-west-1:222222222222:service-revision\/prod\/web\/\d+ watch$/),
    ]);
    expect(outcome.firstSeen).toEqual([{ repository: 'app', digest: pinned }]);
    expect(tagsOf('app', pinned)).toEqual([protectiveTagFor(pinned, 'digest-guard')]);
    expect(messagesOf(registry, guardTopicArn(registry))).toHaveLength(1);
  });

  it('given the watch wrote a revision, when the list of B runs, then it refreshes that entry instead of adding another', async () => {
    deployInWorkloadThenMoveTag();
    await watcher()(toSqsEvent(inProgress()).Records);
    const watched = entriesOf(WORKLOAD_B).map((entry) => entry.replace(/ watch$/, ''));

    await reconcileOnOrganization(org, registry, { workloadAccounts: [WORKLOAD_B] });

    expect(entriesOf(WORKLOAD_B).map((entry) => entry.replace(/ (watch|list)$/, ''))).toEqual(watched);
  });

  it('given the same deployment event delivered twice, then the second changes nothing in the index and sends nothing', async () => {
    deployInWorkloadThenMoveTag();
    const watch = watcher();
    const [event] = inProgress();
    await watch(toSqsEvent([event!]).Records);
    const items = structuredClone(registry.dynamodb.itemsOf(TABLE));
    const alerts = messagesOf(registry, guardTopicArn(registry)).length;

    const again = await watch(toSqsEvent([event!]).Records);

    expect(again.failedMessageIds).toEqual([]);
    expect(again.firstSeen).toEqual([]);
    expect(registry.dynamodb.itemsOf(TABLE)).toEqual(items);
    expect(messagesOf(registry, guardTopicArn(registry))).toHaveLength(alerts);
  });

  it('given B’s reader role cannot be assumed, then the record fails with an error that names the role, and the retry once it is back protects the digest', async () => {
    const pinned = deployInWorkloadThenMoveTag();
    org.deleteRole(WORKLOAD_B, workloadReaderRoleName(REGION));
    const events = inProgress();

    const first = await watcher()(toSqsEvent(events).Records);

    expect(first.failedMessageIds).toHaveLength(1);
    expect(entriesOf(WORKLOAD_B)).toEqual([]);
    const error = logs.find((l) => l.level === 'error');
    expect(error?.message).toBe(
      'could not read the service a deployment event names; the event will be retried, then dead-lettered',
    );
    expect(error?.extra.whatToDo).toMatch(
      /account 222222222222 deployed the workload stack in eu-west-1 \(role ecr-digest-guard-reader-eu-west-1\)/,
    );

    deployWorkloadStack(org, WORKLOAD_B, { accountId: REGISTRY, region: REGION });
    const retry = await watcher()(toSqsEvent(events, { receiveCount: 2 }).Records);

    expect(retry.failedMessageIds).toEqual([]);
    expect(tagsOf('app', pinned)).toEqual([protectiveTagFor(pinned, 'digest-guard')]);
  });

  it('given a deployment in an account the guard does not list, then nothing is assumed or read, and a warning says what to do', async () => {
    const other = org.account(WORKLOAD_C, REGION);
    push('app', 'prod', 'build-1');
    other.ecs.createCluster('prod');
    const td = other.ecs.registerTaskDefinition('web', [
      { name: 'web', image: `${registry.ecr.registryHost}/app:prod` },
    ]);
    other.ecs.createService('prod', 'web', td, 0);
    const stsCalls = org.stsTransport.callCount();

    const outcome = await watcher()(toSqsEvent(other.ecs.deploymentEvents).Records);

    expect(outcome.failedMessageIds).toEqual([]);
    expect(org.stsTransport.callCount() - stsCalls).toBe(0);
    expect(other.callCount('ecs', 'DescribeServices')).toBe(0);
    expect(logs.find((l) => l.level === 'warn')?.extra.whatToDo).toMatch(/add 333333333333 to workloadAccounts/);
  });
});

describe('a deployment in an account of the organizational units', () => {
  it('given the guard lists organizational units, when an account it never named deploys, then its reader role is read and the digest protected at once', async () => {
    // The StackSet deployed the workload stack to C when it joined the OU; nobody named C anywhere.
    deployWorkloadStack(org, WORKLOAD_C, { accountId: REGISTRY, region: REGION });
    const other = org.account(WORKLOAD_C, REGION);
    const pinned = push('app', 'prod', 'build-1');
    other.ecs.createCluster('prod');
    const td = other.ecs.registerTaskDefinition('web', [
      { name: 'web', image: `${registry.ecr.registryHost}/app:prod` },
    ]);
    other.ecs.createService('prod', 'web', td, 0);
    push('app', 'prod', 'build-2');

    const outcome = await watcher([], [REGION])(toSqsEvent(other.ecs.deploymentEvents).Records);

    expect(outcome.failedMessageIds).toEqual([]);
    expect(other.callCount('ecs', 'DescribeServices')).toBe(1);
    expect(entriesOf(WORKLOAD_C)).toHaveLength(1);
    expect(tagsOf('app', pinned)).toEqual([`digest-guard-${pinned.replace(':', '-')}`]);
  });
});

describe('a daemon deployment in a workload account', () => {
  /** B's daemon `log-router` starts a deployment to `app:prod`, whose tag then moves; returns the event and digest. */
  function deployDaemonInWorkloadThenMoveTag() {
    push('app', 'prod', 'build-0');
    workload.ecs.createCluster('prod');
    const image = `${registry.ecr.registryHost}/app:prod`;
    const daemonArn = workload.ecs.createDaemon('prod', 'log-router', [{ name: 'router', image }]);
    const pinned = push('app', 'prod', 'build-1');
    const target = workload.ecs.updateDaemon('prod', 'log-router', [{ name: 'router', image }]);
    push('app', 'prod', 'build-2');
    expect(tagsOf('app', pinned)).toEqual([]);
    const event = toDaemonDeploymentStateChangeEvent({
      account: WORKLOAD_B,
      region: REGION,
      clusterArn: `arn:aws:ecs:${REGION}:${WORKLOAD_B}:cluster/prod`,
      daemonArn,
      targetDaemonRevisionArn: target,
      eventName: 'DAEMON_DEPLOYMENT_IN_PROGRESS',
      time: new Date(),
    });
    return { event, pinned, target };
  }

  it('given a daemon in B rolls out a revision whose tag has moved, when its deployment event is watched, then one DescribeDaemonRevisions indexes it as the list names it and the digest is protected at once', async () => {
    const { event, pinned, target } = deployDaemonInWorkloadThenMoveTag();
    const ecsCallsBefore = workload.callCount('ecs');

    const outcome = await watcher()(toSqsEvent([event]).Records);

    expect(outcome.failedMessageIds).toEqual([]);
    expect(workload.callCount('ecs') - ecsCallsBefore).toBe(1);
    expect(workload.callCount('ecs', 'DescribeDaemonRevisions')).toBe(1);
    expect(entriesOf(WORKLOAD_B)).toEqual([`ecs-daemon ${target} watch`]);
    expect(outcome.firstSeen).toEqual([{ repository: 'app', digest: pinned }]);
    expect(tagsOf('app', pinned)).toEqual([protectiveTagFor(pinned, 'digest-guard')]);
    expect(messagesOf(registry, guardTopicArn(registry))).toHaveLength(1);
  });

  it('given the watch wrote a daemon revision, when the list of B runs, then it refreshes that entry instead of adding another', async () => {
    const { event } = deployDaemonInWorkloadThenMoveTag();
    await watcher()(toSqsEvent([event]).Records);
    const watched = entriesOf(WORKLOAD_B).map((entry) => entry.replace(/ watch$/, ''));

    await reconcileOnOrganization(org, registry, { workloadAccounts: [WORKLOAD_B] });

    // The list also writes the source revision, still current while the deployment rolls.
    expect(entriesOf(WORKLOAD_B).map((entry) => entry.replace(/ (watch|list)$/, ''))).toEqual(
      expect.arrayContaining(watched),
    );
    expect(entriesOf(WORKLOAD_B).filter((entry) => entry.startsWith(watched[0]!))).toHaveLength(1);
  });
});

describe('a Lambda API call in the guard’s own account', () => {
  it('given UpdateFunctionCode set a tag that has moved since, when the call is watched, then one GetFunction indexes the function and the digest is protected at once', async () => {
    push('app', 'v1', 'build-0');
    registry.lambda.createFunction('resizer', `${registry.ecr.registryHost}/app:v1`);
    const pinned = push('app', 'prod', 'build-1');
    registry.lambda.updateFunctionCode('resizer', `${registry.ecr.registryHost}/app:prod`);
    push('app', 'prod', 'build-2');
    const lambdaCalls = registry.callCount('lambda');

    const outcome = await watcher()(
      toSqsEvent([
        toLambdaApiCallEvent({
          account: REGISTRY,
          region: REGION,
          eventName: 'UpdateFunctionCode20150331v2',
          functionName: 'resizer',
          time: org.clock.now(),
        }),
      ]).Records,
    );

    expect(outcome.failedMessageIds).toEqual([]);
    expect(registry.callCount('lambda') - lambdaCalls).toBe(1);
    expect(entriesOf(REGISTRY)).toEqual([
      `lambda-function arn:aws:lambda:eu-west-1:${REGISTRY}:function:resizer watch`,
    ]);
    expect(tagsOf('app', pinned)).toEqual([protectiveTagFor(pinned, 'digest-guard')]);
  });

  it('given an UpdateAlias call, then the alias is read once and indexed under the alias ARN the list writes', async () => {
    push('app', 'v1', 'build-0');
    registry.lambda.createFunction('resizer', `${registry.ecr.registryHost}/app:v1`);
    const version = registry.lambda.publishVersion('resizer');
    registry.lambda.createAlias('resizer', 'live', version);
    const lambdaCalls = registry.callCount('lambda');

    await watcher()(
      toSqsEvent([
        toLambdaApiCallEvent({
          account: REGISTRY,
          region: REGION,
          eventName: 'UpdateAlias20150331',
          functionName: 'resizer',
          alias: 'live',
          time: org.clock.now(),
        }),
      ]).Records,
    );

    expect(registry.callCount('lambda') - lambdaCalls).toBe(1);
    expect(entriesOf(REGISTRY)).toEqual([
      `lambda-function arn:aws:lambda:eu-west-1:${REGISTRY}:function:resizer:live watch`,
    ]);
  });

  it('given the function was deleted meanwhile, then nothing is added and the record succeeds', async () => {
    const outcome = await watcher()(
      toSqsEvent([
        toLambdaApiCallEvent({
          account: REGISTRY,
          region: REGION,
          eventName: 'CreateFunction20150331',
          functionName: 'gone',
          time: org.clock.now(),
        }),
      ]).Records,
    );

    expect(outcome.failedMessageIds).toEqual([]);
    expect(entriesOf(REGISTRY)).toEqual([]);
  });
});
