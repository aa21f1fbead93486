/**
 * Scenario: the watch across accounts, on a simulated organization whose EventBridge buses carry what the stacks
 * synthesize: the guard bus's policy and rule (guard stack) and the forwarding rules and forwarder role (workload
 * stack), read from the templates. A task starts in workload account B from a digest of registry account A whose
 * tag has already moved: the forwarded task event reaches the guard's watch queue with B's account, the watch indexes
 * B as the consumer, and the digest is protected and alerted at once, before any list. An account the bus policy does
 * not admit gets nothing through.
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
import { toSqsEvent } from '../../sim/events';
import {
  createGuardResources,
  deployWorkloadStack as deployReaderRole,
  guardTopicArn,
  IN_USE_INDEX_TABLE as TABLE,
  reconcileOnOrganization,
} from '../../sim/guard-on-organization';
import { dockerManifest } from '../../sim/manifests';
import { SimulatedOrganization } from '../../sim/organization';
import type { SimPolicyDocument } from '../../sim/sts';
import { appLikeCli, resolveIntrinsics, SKIP_BUNDLING } from '../support/cdk-app';

const REGISTRY = '111111111111';
const WORKLOAD_B = '222222222222';
const OUTSIDER_C = '333333333333';
const REGION = 'eu-west-1';
const WATCH_QUEUE = `arn:aws:sqs:${REGION}:${REGISTRY}:ecr-digest-guard-watch`;

interface Synthesized {
  readonly busPolicy: SimPolicyDocument;
  readonly busWatchPattern: unknown;
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
    busWatchPattern: resources(guard, 'AWS::Events::Rule').find((r) => r.Properties.EventBusName)!.Properties
      .EventPattern,
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
  org.eventBuses.putRule(bus, { name: 'watch', pattern: synthesized.busWatchPattern, targets: [{ arn: WATCH_QUEUE }] });
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
