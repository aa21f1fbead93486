/**
 * Scenario: the watch across accounts, on a simulated organization whose EventBridge buses carry what the stacks
 * synthesize: the guard bus's policy and rule (guard stack) and the forwarding rules and forwarder role (workload
 * stack), read from the templates. A task starts in workload account B from a digest of registry account A whose
 * tag has already moved: the forwarded task event reaches the guard's watch queue with B's account, the watch indexes
 * B as the consumer, and the digest is protected and alerted at once, before any list. An account the bus policy does
 * not admit gets nothing through. Page at the onset across accounts: B's service (or daemon) pins a digest the
 * registry no longer has, B's ECS emits the start-impaired action, it is forwarded, and the watch, reading B through
 * its reader role, pages CRITICAL naming B's service and the digest.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ECRClient } from '@aws-sdk/client-ecr';
import { SNSClient } from '@aws-sdk/client-sns';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { EcrAdapter } from '../../lambda/adapters/ecr';
import { DynamoDbInUseIndex } from '../../lambda/adapters/in-use-index';
import { SnsAlertAdapter } from '../../lambda/adapters/sns';
import { protectiveTagFor } from '../../lambda/core/protective-tag';
import { watchTaskEvents } from '../../lambda/core/watch';
import { guardEventBusName, workloadForwarderRoleArn, workloadForwarderRoleName } from '../../lambda/core/workloads';
import { DigestGuard } from '../../lib/digest-guard';
import { DigestGuardWorkloadStack } from '../../lib/workload-stack';
import type { SimulatedAccount } from '../../sim/account';
import { eventBusArn } from '../../sim/event-buses';
import { toDaemonTaskStartImpairedEvent, toServiceTaskStartImpairedEvent, toSqsEvent } from '../../sim/events';
import {
  createGuardResources,
  deployWorkloadStack as deployReaderRole,
  guardTopicArn,
  IN_USE_INDEX_TABLE as TABLE,
  reconcileOnOrganization,
  watchOnOrganization,
} from '../../sim/guard-on-organization';
import { dockerManifest } from '../../sim/manifests';
import { SimulatedOrganization } from '../../sim/organization';
import type { SimPolicyDocument } from '../../sim/sts';
import { appLikeCli, resolveIntrinsics, SKIP_BUNDLING } from '../support/cdk-app';
import { alertsOf } from '../support/sim-scenario';

const REGISTRY = '111111111111';
const WORKLOAD_B = '222222222222';
const OUTSIDER_C = '333333333333';
const REGION = 'eu-west-1';
const WATCH_QUEUE = `arn:aws:sqs:${REGION}:${REGISTRY}:ecr-digest-guard-watch`;

interface Synthesized {
  readonly busPolicy: SimPolicyDocument;
  /** every rule on the guard bus: state changes, Lambda calls, start-impaired actions */
  readonly busWatchPatterns: readonly unknown[];
  readonly forwardingPatterns: readonly unknown[];
  readonly forwardingTarget: string;
  readonly forwarderTrust: SimPolicyDocument;
  readonly forwarderPermissions: SimPolicyDocument;
}
let synthesized: Synthesized;

beforeAll(() => {
  const guardStack = new Stack(appLikeCli(SKIP_BUNDLING), 'Guard', { env: { account: REGISTRY, region: REGION } });
  new DigestGuard(guardStack, 'Guard', { alertEmails: ['ops@example.com'], workloadAccounts: [WORKLOAD_B] });
  const guard = Template.fromStack(guardStack).toJSON() as any;
  const workload = Template.fromStack(
    new DigestGuardWorkloadStack(new App(), 'Workload', {
      deployment: { guardAccount: REGISTRY, guardRegion: REGION, accounts: [WORKLOAD_B], regions: [REGION] },
    }),
  ).toJSON() as any;
  const resources = (template: any, type: string): any[] =>
    Object.values(template.Resources).filter((r: any) => r.Type === type);
  const forwarder = resources(workload, 'AWS::IAM::Role').find(
    (r) => r.Properties.RoleName === workloadForwarderRoleName(REGION),
  );
  const rules = resources(workload, 'AWS::Events::Rule');
  synthesized = {
    busPolicy: {
      Statement: [resolveIntrinsics(resources(guard, 'AWS::Events::EventBusPolicy')[0].Properties.Statement)],
    } as SimPolicyDocument,
    busWatchPatterns: resources(guard, 'AWS::Events::Rule')
      .filter((r) => r.Properties.EventBusName)
      .map((r) => r.Properties.EventPattern),
    forwardingPatterns: rules.map((r) => r.Properties.EventPattern),
    forwardingTarget: resolveIntrinsics(rules[0].Properties.Targets[0].Arn) as string,
    forwarderTrust: forwarder.Properties.AssumeRolePolicyDocument,
    forwarderPermissions: {
      Statement: forwarder.Properties.Policies.flatMap((p: any) => resolveIntrinsics(p.PolicyDocument.Statement)),
    },
  };
});

let org: SimulatedOrganization;
let registry: SimulatedAccount;

/** What the workload stack creates in `account` (home region): the forwarder role and the forwarding rules. */
function deployWorkloadStack(account: string): void {
  const trust = resolveIntrinsics(synthesized.forwarderTrust, { 'AWS::AccountId': account }) as SimPolicyDocument;
  org.putRole(account, workloadForwarderRoleName(REGION), trust, synthesized.forwarderPermissions);
  for (const [i, pattern] of synthesized.forwardingPatterns.entries()) {
    org.eventBuses.putRule(eventBusArn(account, REGION, 'default'), {
      name: `forward-${i}`,
      pattern,
      targets: [{ arn: synthesized.forwardingTarget, roleArn: workloadForwarderRoleArn('aws', account, REGION) }],
    });
  }
}

/** Every task event ECS in `account` emitted, put on its default bus as ECS does. */
function emitTaskEvents(account: SimulatedAccount): void {
  for (const event of account.ecs.taskEvents) org.eventBuses.emit(event);
}

function watchForwardedEvents() {
  const config = org.clientConfig({ accountId: REGISTRY, region: REGION });
  const noop = () => undefined;
  return watchTaskEvents(
    toSqsEvent(org.eventBuses.messagesOf(WATCH_QUEUE), { queueArn: WATCH_QUEUE }).Records,
    { tagPrefix: 'digest-guard', dryRun: false },
    {
      index: new DynamoDbInUseIndex(TABLE, new DynamoDBClient(config)),
      registry: { account: REGISTRY, region: REGION },
      ecr: new EcrAdapter(new ECRClient(config)),
      alerts: new SnsAlertAdapter(guardTopicArn(registry), new SNSClient(config)),
      logger: { info: noop, warn: noop, error: noop },
    },
  );
}

function push(repository: string, tag: string, seed: string): string {
  const manifest = dockerManifest({ seed });
  return registry.ecr.pushImage(repository, { tag, manifest: manifest.text, mediaType: manifest.mediaType });
}

/** A service in `account` running `shop:prod` of the registry, resolved to a digest when it deploys. */
function runShop(account: string): void {
  const workload = org.account(account, REGION);
  workload.ecs.createCluster('prod');
  const web = workload.ecs.registerTaskDefinition('web', [
    { name: 'web', image: `${registry.ecr.registryHost}/shop:prod` },
  ]);
  workload.ecs.createService('prod', 'web', web, 1);
}

beforeEach(async () => {
  org = new SimulatedOrganization({
    accounts: [
      { accountId: REGISTRY, regions: [REGION] },
      { accountId: WORKLOAD_B, regions: [REGION] },
      { accountId: OUTSIDER_C, regions: [REGION] },
    ],
  });
  registry = org.account(REGISTRY, REGION);
  await createGuardResources(org, registry);
  // The guard stack: its bus with the synthesized policy, and the synthesized rule into the watch queue.
  const bus = org.eventBuses.createBus(REGISTRY, REGION, guardEventBusName(REGION));
  expect(bus).toBe(synthesized.forwardingTarget);
  org.eventBuses.putPolicy(bus, synthesized.busPolicy);
  org.eventBuses.createQueue(WATCH_QUEUE);
  for (const [i, pattern] of synthesized.busWatchPatterns.entries()) {
    org.eventBuses.putRule(bus, { name: `watch-${i}`, pattern, targets: [{ arn: WATCH_QUEUE }] });
  }
  registry.ecr.createRepository('shop');
});

describe('the watch across accounts', () => {
  it('given a task in account B starts from a digest whose tag already moved, when its event is forwarded, then the guard indexes B and protects the digest before any list', async () => {
    deployWorkloadStack(WORKLOAD_B);
    const pinned = push('shop', 'prod', 'build-1');
    runShop(WORKLOAD_B);
    push('shop', 'prod', 'build-2');
    expect(registry.ecr.imagesOf('shop').find((i) => i.digest === pinned)?.tags).toEqual([]);

    emitTaskEvents(org.account(WORKLOAD_B, REGION));
    const forwarded = org.eventBuses.messagesOf(WATCH_QUEUE);
    const outcome = await watchForwardedEvents();

    expect(org.eventBuses.refused).toEqual([]);
    expect(forwarded.length).toBeGreaterThan(0);
    expect(forwarded.every((e) => e.account === WORKLOAD_B && e.region === REGION)).toBe(true);
    expect(outcome.failedMessageIds).toEqual([]);
    expect(outcome.firstSeen).toEqual([{ repository: 'shop', digest: pinned }]);
    const entries = registry.dynamodb.itemsOf(TABLE).filter((item) => item.sk?.S !== 'status');
    expect(entries.map((e) => [e.digest?.S, e.consumerAccount?.S, e.consumerRegion?.S, e.seenBy?.S])).toEqual([
      [pinned, WORKLOAD_B, REGION, 'watch'],
    ]);
    expect(registry.ecr.imagesOf('shop').find((i) => i.digest === pinned)?.tags).toEqual([
      protectiveTagFor(pinned, 'digest-guard'),
    ]);
    expect(registry.sns.messagesTo(guardTopicArn(registry))).toHaveLength(1);
    // Before any list: the reconcile never ran, and the guard made no ECS call anywhere.
    expect(org.callCount('ecs')).toBe(0);
    expect(org.callCount('sts')).toBe(0);
  });

  it('given account C forwards but the bus policy does not admit it, when its task starts, then nothing reaches the watch', async () => {
    deployWorkloadStack(OUTSIDER_C);
    const pinned = push('shop', 'prod', 'build-1');
    runShop(OUTSIDER_C);
    push('shop', 'prod', 'build-2');

    emitTaskEvents(org.account(OUTSIDER_C, REGION));

    expect(org.eventBuses.messagesOf(WATCH_QUEUE)).toEqual([]);
    expect(org.eventBuses.refused.length).toBeGreaterThan(0);
    for (const refusal of org.eventBuses.refused) {
      expect(refusal.reason).toBe(
        `the policy of ${synthesized.forwardingTarget} does not admit events:PutEvents from ${OUTSIDER_C}`,
      );
    }
    expect(registry.ecr.imagesOf('shop').find((i) => i.digest === pinned)?.tags).toEqual([]);
  });

  it('given the watch indexed B from a forwarded event, when the reconcile lists B later, then it finds the same consumer', async () => {
    // Guards the keys: the watch's entry and the list's entry name the same (account, region), so a list can
    // confirm (and later remove) what the watch added.
    deployWorkloadStack(WORKLOAD_B);
    push('shop', 'prod', 'build-1');
    runShop(WORKLOAD_B);
    emitTaskEvents(org.account(WORKLOAD_B, REGION));
    await watchForwardedEvents();
    deployReaderRole(org, WORKLOAD_B, { accountId: REGISTRY, region: REGION });

    await reconcileOnOrganization(org, registry, { workloadAccounts: [WORKLOAD_B] });

    const consumers = registry.dynamodb
      .itemsOf(TABLE)
      .filter((item) => item.sk?.S !== 'status' && item.kind?.S === 'ecs-task')
      .map((item) => `${item.consumerAccount?.S}/${item.consumerRegion?.S}`);
    expect(new Set(consumers)).toEqual(new Set([`${WORKLOAD_B}/${REGION}`]));
  });
});

describe('page at the onset across accounts', () => {
  let logs: { level: string; message: string; extra: Record<string, unknown> }[];
  let metrics: string[];

  /** The guard's watch as its function wires it (watch role, readers), over what reached the watch queue. */
  function watchQueue(workloadAccounts: string[]) {
    logs = [];
    metrics = [];
    const log =
      (level: string) =>
      (message: string, extra: Record<string, unknown> = {}) =>
        void logs.push({ level, message, extra });
    const watch = watchOnOrganization(org, registry, {
      workloadAccounts,
      logger: { info: log('info'), warn: log('warn'), error: log('error') },
      metrics: { count: (name: string, value: number) => void (value > 0 && metrics.push(`${name} ${value}`)) },
    });
    return watch(toSqsEvent(org.eventBuses.messagesOf(WATCH_QUEUE), { queueArn: WATCH_QUEUE }).Records);
  }

  /** B's service `web` pins the digest `shop:prod` names now; then the digest is deleted from the registry. */
  function serviceInBPinsDeletedDigest(): { pinned: string; serviceArn: string; clusterArn: string } {
    const pinned = push('shop', 'prod', 'build-1');
    const workload = org.account(WORKLOAD_B, REGION);
    const clusterArn = workload.ecs.createCluster('prod');
    const web = workload.ecs.registerTaskDefinition('web', [
      { name: 'web', image: `${registry.ecr.registryHost}/shop:prod` },
    ]);
    const serviceArn = workload.ecs.createService('prod', 'web', web, 1);
    push('shop', 'prod', 'build-2');
    registry.ecr.deleteImage('shop', pinned);
    return { pinned, serviceArn, clusterArn };
  }

  /** B's ECS reports prod/web cannot start tasks: the Service Action on B's default bus. */
  function emitServiceImpairedInB(clusterArn: string, serviceArn: string): void {
    org.eventBuses.emit(
      toServiceTaskStartImpairedEvent({
        account: WORKLOAD_B,
        region: REGION,
        clusterArn,
        serviceArn,
        time: org.clock.now(),
      }),
    );
  }

  it("given B's service pins a digest deleted from the registry, when B's ECS reports it impaired, then the forwarded action reaches the watch, which reads B and pages CRITICAL naming B's service and the digest", async () => {
    deployWorkloadStack(WORKLOAD_B);
    deployReaderRole(org, WORKLOAD_B, { accountId: REGISTRY, region: REGION });
    const { pinned, serviceArn, clusterArn } = serviceInBPinsDeletedDigest();
    const workload = org.account(WORKLOAD_B, REGION);
    expect(workload.ecs.launchReplacementTask('prod', 'web')).toMatchObject({ ok: false });

    emitServiceImpairedInB(clusterArn, serviceArn);
    const forwarded = org.eventBuses.messagesOf(WATCH_QUEUE);
    const outcome = await watchQueue([WORKLOAD_B]);

    expect(org.eventBuses.refused).toEqual([]);
    expect(forwarded.map((e) => [e.account, e.region, (e as any)['detail-type']])).toEqual([
      [WORKLOAD_B, REGION, 'ECS Service Action'],
    ]);
    expect(outcome.failedMessageIds).toEqual([]);
    // read in B through its reader role: DescribeServices and DescribeServiceRevisions
    expect(workload.callCount('ecs', 'DescribeServices')).toBe(1);
    expect(workload.callCount('ecs', 'DescribeServiceRevisions')).toBe(1);
    const alerts = alertsOf(registry, guardTopicArn(registry));
    expect(alerts.map((a) => [a.severity, a.subject])).toEqual([
      ['CRITICAL', 'ECR digest guard: CRITICAL: ECS service web cannot start: 1 in-use image gone from shop'],
    ]);
    expect(alerts[0]!.email).toContain(`ECS service prod/web in account ${WORKLOAD_B} (${REGION}) cannot start tasks`);
    expect(alerts[0]!.email).toContain(pinned);
    expect(alerts[0]!.email).toContain(`repository shop (account ${REGISTRY}, ${REGION})`);
  });

  it("given B's daemon pins a digest archived in the registry, when B's ECS reports DAEMON_TASK_START_IMPAIRED, then the watch reads B's revision and pages CRITICAL naming the daemon and the digest", async () => {
    deployWorkloadStack(WORKLOAD_B);
    deployReaderRole(org, WORKLOAD_B, { accountId: REGISTRY, region: REGION });
    const pinned = push('shop', 'prod', 'build-1');
    const workload = org.account(WORKLOAD_B, REGION);
    const clusterArn = workload.ecs.createCluster('prod');
    const daemonArn = workload.ecs.createDaemon('prod', 'log-router', [
      { name: 'router', image: `${registry.ecr.registryHost}/shop:prod` },
    ]);
    const daemonRevisionArn = workload.ecs.currentDaemonRevisionArn('prod', 'log-router');
    registry.ecr.archive('shop', pinned);

    org.eventBuses.emit(
      toDaemonTaskStartImpairedEvent({
        account: WORKLOAD_B,
        region: REGION,
        clusterArn,
        daemonArn,
        daemonRevisionArn,
        failureType: 'TASK_FAILED_TO_RUN',
        reason: 'CannotPullContainerError: pull image manifest has been retried 5 time(s)',
        time: org.clock.now(),
      }),
    );
    const outcome = await watchQueue([WORKLOAD_B]);

    expect(outcome.failedMessageIds).toEqual([]);
    expect(workload.callCount('ecs', 'DescribeDaemonRevisions')).toBe(1);
    const alerts = alertsOf(registry, guardTopicArn(registry));
    expect(alerts.map((a) => [a.severity, a.subject])).toEqual([
      ['CRITICAL', 'ECR digest guard: CRITICAL: ECS daemon log-router cannot start: 1 in-use image archived in shop'],
    ]);
    expect(alerts[0]!.email).toContain(`ECS daemon prod/log-router in account ${WORKLOAD_B} (${REGION})`);
    expect(alerts[0]!.email).toContain(pinned);
  });

  it("given the bus admits B but the guard does not list it, when B's service is impaired, then the watch counts and logs it, reads nothing, pages nothing and fails nothing", async () => {
    deployWorkloadStack(WORKLOAD_B);
    const { serviceArn, clusterArn } = serviceInBPinsDeletedDigest();
    const workload = org.account(WORKLOAD_B, REGION);
    const ecsCallsBefore = workload.callCount('ecs');

    emitServiceImpairedInB(clusterArn, serviceArn);
    expect(org.eventBuses.messagesOf(WATCH_QUEUE)).toHaveLength(1);
    const outcome = await watchQueue([]);

    expect(outcome.failedMessageIds).toEqual([]);
    expect(workload.callCount('ecs') - ecsCallsBefore).toBe(0);
    expect(org.callCount('sts')).toBe(0);
    expect(registry.sns.messagesTo(guardTopicArn(registry))).toEqual([]);
    expect(logs.find((l) => l.level === 'warn')).toMatchObject({
      message: 'a start-impaired action of a workload this guard does not list: not read, not paged',
      extra: { account: WORKLOAD_B, region: REGION, service: serviceArn },
    });
    expect(metrics).toEqual(['UnreadableWorkloadEvents 1']);
  });
});
