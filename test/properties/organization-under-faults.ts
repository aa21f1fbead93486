/**
 * The property "the guard keeps in-use digests under faults" across a simulated organization: a registry account
 * (the guard's, with the repositories, the in-use index and the push path reading it) and two workload accounts
 * whose reader roles the workload stack creates (`deployWorkloadStack`). Random histories of pushes that move tags,
 * deployments in the workloads (some racing a push of the tag they resolved), task replacements from pinned digests,
 * watch deliveries (late, reordered, duplicated, some events lost), lists that fail part-way (a reader role removed
 * for one run, ECS throttling mid-list), faults on ECR, DynamoDB and ECS, and lifecycle passes at random points run
 * through the real handlers, adapters and SDK clients, with STS role assumption as the trust declares.
 *
 * The workloads' task and deployment events are handed to the watch directly (not through the simulated buses: the
 * forwarding rules are checked in test/scenarios/forwarding.test.ts); the model holds them back, reorders, repeats
 * and loses them, which is what the buses and the watch queue may do.
 *
 * The invariant, checked at every lifecycle pass: a digest a service revision or running task of any account uses
 * is tagged (so the pass cannot expire it) once the guard has been told both that it is in use and that it lost its
 * last tag. "Told it is in use": the watch handled a task event naming the digest from that account, dated at or
 * after the use began, or a complete list of that account started after the use began. "Told it lost its tag": the
 * push path handled the ECR push event that took the tag. Until then the digest is in the delivery delay (events
 * waiting in the buses and queues, which the model stretches arbitrarily); after the history, everything is
 * delivered, a complete list runs, and every in-use digest must be tagged.
 *
 * The oracle is this file's own record of what each service was deployed with, not the guard's index.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ECRClient } from '@aws-sdk/client-ecr';
import { ECSClient } from '@aws-sdk/client-ecs';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SNSClient } from '@aws-sdk/client-sns';
import fc from 'fast-check';
import { EcrAdapter } from '../../lambda/adapters/ecr';
import { DynamoDbInUseIndex } from '../../lambda/adapters/in-use-index';
import { inventoryFor } from '../../lambda/adapters/inventory';
import { SnsAlertAdapter } from '../../lambda/adapters/sns';
import { DEFAULT_TAG_PREFIX } from '../../lambda/core/protective-tag';
import { workloadStatusKey } from '../../lambda/core/in-use-index/keys';
import { workloadReaderRoleName } from '../../lambda/core/workloads';
import { handlePushBatch } from '../../lambda/handlers/push';
import type { EcrImageActionEvent } from '../../sim/events';
import { toSqsEvent } from '../../sim/events';
import { faultInjector, type FaultInjector, type FaultKind } from '../../sim/faults';
import {
  createGuardResources,
  deployWorkloadStack,
  guardTopicArn,
  IN_USE_INDEX_TABLE,
  reconcileOnOrganization,
  watchOnOrganization,
} from '../../sim/guard-on-organization';
import { VirtualClock } from '../../sim/latency';
import { dockerManifest } from '../../sim/manifests';
import { SimulatedOrganization } from '../../sim/organization';
import { auditGuard, checkWritesOnlyAddOwnProtectiveTags } from '../support/invariants';

export const REGISTRY = '111111111111';
export const WORKLOADS = ['222222222222', '333333333333'] as const;
export const REGION = 'eu-west-1';
const REPOSITORIES = ['app', 'api'] as const;
const TAGS = ['prod', 'staging'] as const;
const SERVICES = 2;
const TAG_PREFIX = DEFAULT_TAG_PREFIX;
const SCENARIO_START = new Date('2026-11-26T10:00:00Z');

/** Where a fault may land: the registry's ECR and DynamoDB (push path, watch, list), a workload's ECS (watch, list). */
const FAULT_TARGETS = [
  { where: 'registry', service: 'ecr', operation: 'BatchGetImage' },
  { where: 'registry', service: 'ecr', operation: 'PutImage' },
  { where: 'registry', service: 'ecr', operation: 'DescribeImages' },
  { where: 'registry', service: 'dynamodb' },
  { where: 'workload', service: 'ecs', operation: 'DescribeServices' },
  { where: 'workload', service: 'ecs' },
] as const;

export type Action =
  | { readonly kind: 'push'; readonly repo: number; readonly tag: number; readonly build: number }
  | {
      readonly kind: 'deploy';
      readonly workload: number;
      readonly service: number;
      readonly repo: number;
      readonly tag: number;
      readonly complete: boolean;
    }
  /** a pipeline pushes the tag a deployment in a workload has just resolved, before the watch hears of it */
  | {
      readonly kind: 'deploy-racing-push';
      readonly workload: number;
      readonly service: number;
      readonly repo: number;
      readonly tag: number;
      readonly build: number;
    }
  | { readonly kind: 'complete-deployment'; readonly workload: number; readonly service: number }
  /** Fargate retirement: the service's tasks stop and one is relaunched from the pinned digest */
  | { readonly kind: 'replace-tasks'; readonly workload: number; readonly service: number }
  | { readonly kind: 'deliver-pushes' }
  /** the oldest (or newest) `take` watch events, once or twice */
  | { readonly kind: 'deliver-watch'; readonly take: number; readonly newestFirst: boolean; readonly twice: boolean }
  /** a watch event that never arrives: only a list can find what it named */
  | { readonly kind: 'lose-watch-event'; readonly pick: number }
  | {
      readonly kind: 'list';
      readonly failure: 'none' | 'role-removed' | 'throttled';
      readonly workload: number;
      /** with `throttled`: ECS calls of the workload answered before throttling starts */
      readonly afterCalls: number;
    }
  | { readonly kind: 'lifecycle'; readonly repo: number }
  | { readonly kind: 'fault'; readonly fault: FaultKind; readonly target: number; readonly times: number }
  | { readonly kind: 'advance'; readonly seconds: number };

const index = (n: number) => fc.integer({ min: 0, max: n - 1 });
const workloadService = { workload: index(WORKLOADS.length), service: index(SERVICES) };
const image = { repo: index(REPOSITORIES.length), tag: index(TAGS.length) };

export const actionArb: fc.Arbitrary<Action> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('push' as const), ...image, build: index(6) }) },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('deploy' as const),
      ...workloadService,
      ...image,
      complete: fc.boolean(),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('deploy-racing-push' as const),
      ...workloadService,
      ...image,
      build: index(6),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('complete-deployment' as const), ...workloadService }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('replace-tasks' as const), ...workloadService }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('deliver-pushes' as const) }) },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('deliver-watch' as const),
      take: fc.integer({ min: 1, max: 10 }),
      newestFirst: fc.boolean(),
      twice: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('lose-watch-event' as const), pick: fc.nat() }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('list' as const),
      failure: fc.constantFrom<'none' | 'role-removed' | 'throttled'>('none', 'role-removed', 'throttled'),
      workload: index(WORKLOADS.length),
      afterCalls: fc.integer({ min: 0, max: 12 }),
    }),
  },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('lifecycle' as const), repo: index(REPOSITORIES.length) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('fault' as const),
      fault: fc.constantFrom<FaultKind>('throttle', 'server-error', 'timeout-before', 'timeout-after'),
      target: index(FAULT_TARGETS.length * WORKLOADS.length), // a workload-side target, once per workload
      times: fc.integer({ min: 1, max: 4 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('advance' as const), seconds: fc.integer({ min: 1, max: 600 }) }),
  },
);

export interface Scenario {
  readonly actions: readonly Action[];
  readonly schedulerSeed: number;
  /**
   * How the push function reads what is in use (`PUSH_INVENTORY`): `direct+index`, the default of a guard that
   * lists other accounts, or `index`, with `pushReadsIndex: true`. @default 'index' (scenarios written before both)
   */
  readonly pushInventory?: 'index' | 'direct+index';
}

export const scenarioArb: fc.Arbitrary<Scenario> = fc.record({
  actions: fc.array(actionArb, { minLength: 1, maxLength: 30 }),
  schedulerSeed: fc.integer(),
  pushInventory: fc.constantFrom<'index' | 'direct+index'>('direct+index', 'index'),
});

export interface ScenarioResult {
  readonly violations: string[];
  readonly stats: {
    readonly watchDeliveries: number;
    readonly pushDeliveries: number;
    readonly lists: number;
    readonly partialLists: number;
    /** attempts that threw, whatever the error (the function failed; Lambda retries it) */
    readonly failedLists: number;
    readonly protections: number;
    readonly lifecycleDeletes: number;
    /** in-use digests untagged at a pass while the guard had not been told yet (the delivery delay) */
    readonly inDeliveryDelay: number;
    /** 1 when the push path ran as `direct+index` (the default across accounts), else 0 */
    readonly directAndIndexRuns: number;
  };
}

/** Every count at zero: one run's start, and the long run's totals before the first run. */
export function noStats(): { -readonly [K in keyof ScenarioResult['stats']]: number } {
  return {
    watchDeliveries: 0,
    pushDeliveries: 0,
    lists: 0,
    partialLists: 0,
    failedLists: 0,
    protections: 0,
    lifecycleDeletes: 0,
    inDeliveryDelay: 0,
    directAndIndexRuns: 0,
  };
}

/** Runs one history on the virtual clock (as guard-under-faults.ts does, so a seed reproduces its counts). */
export async function runOrganizationScenario(scenario: Scenario): Promise<ScenarioResult> {
  const clock = new VirtualClock(SCENARIO_START);
  clock.install(scenario.schedulerSeed);
  try {
    return await clock.run(() => runOnClock(scenario));
  } finally {
    clock.uninstall();
  }
}

interface Use {
  readonly repository: string;
  readonly digest: string;
  /** when the service revision pinning it was created (epoch ms) */
  readonly since: number;
}

async function runOnClock(scenario: Scenario): Promise<ScenarioResult> {
  const org = new SimulatedOrganization({
    startAt: SCENARIO_START,
    accounts: [REGISTRY, ...WORKLOADS].map((accountId) => ({ accountId, regions: [REGION] })),
  });
  const registry = org.account(REGISTRY, REGION);
  const host = registry.ecr.registryHost;
  await createGuardResources(org, registry);
  for (const workload of WORKLOADS) {
    deployWorkloadStack(org, workload, { accountId: REGISTRY, region: REGION });
    org.account(workload, REGION).ecs.createCluster('prod');
  }
  for (const repository of REPOSITORIES) registry.ecr.createRepository(repository);
  const noop = () => undefined;
  const silent = { info: noop, warn: noop, error: noop };
  const workloadAccounts = [...WORKLOADS];

  const violations: string[] = [];
  const stats = { ...noStats(), directAndIndexRuns: scenario.pushInventory === 'direct+index' ? 1 : 0 };

  // The push path as the push function wires it with the watch on: it reads the index for the pushed repositories,
  // alone or beside the registry account's own inventory (lambda/handlers/push.ts).
  const config = org.clientConfig({ accountId: REGISTRY, region: REGION, maxAttempts: 2 });
  const index = new DynamoDbInUseIndex(IN_USE_INDEX_TABLE, new DynamoDBClient(config), () => org.clock.now().getTime());
  const pushDeps = {
    ecr: new EcrAdapter(new ECRClient(config)),
    inventoryFor: (account: string, region: string) =>
      inventoryFor(account, region, { ecs: new ECSClient(config), lambda: new LambdaClient(config) }),
    alerts: new SnsAlertAdapter(guardTopicArn(registry), new SNSClient(config)),
    logger: silent,
    inUseIndex: { index, workloadAccounts, mode: scenario.pushInventory ?? 'index' },
  };

  // Audit the guard's ECR writes; then faults, inside the audit's view of what reached the service.
  const audit = auditGuard(registry);
  const registryFaults = faultInjector(registry.transport);
  const workloadFaults: FaultInjector[] = WORKLOADS.map((w) => faultInjector(org.account(w, REGION).transport));

  // ── the registry's ECR events, as the push rule routes them (PUSH, SUCCESS, not a protective tag) ──
  let registryEventsSeen = 0;
  const pendingPushes: { event: EcrImageActionEvent; seq: number; receives: number }[] = [];
  const handledPushSeqs = new Set<number>();
  const routePushes = () => {
    for (; registryEventsSeen < registry.events.length; registryEventsSeen += 1) {
      const event = registry.events[registryEventsSeen]!;
      const tag = event.detail['image-tag'];
      if (event.detail['action-type'] !== 'PUSH' || event.detail.result !== 'SUCCESS' || tag === undefined) continue;
      if (tag.startsWith(`${TAG_PREFIX}-sha256-`)) continue;
      pendingPushes.push({ event, seq: registryEventsSeen, receives: 0 });
    }
  };
  /** `repository digest` → the sequence number of the ECR event that took its last tag */
  const untaggedBy = new Map<string, number>();

  // ── the workloads' watch events: task and deployment state changes, waiting to be delivered ──
  type WatchEvent = { readonly account: string; readonly region: string; readonly [key: string]: unknown };
  const seenOf = WORKLOADS.map(() => ({ tasks: 0, deployments: 0 }));
  const pendingWatch: WatchEvent[] = [];
  const receivesOf = new Map<WatchEvent, number>();
  const collectWatchEvents = () => {
    for (const [i, workload] of WORKLOADS.entries()) {
      const ecs = org.account(workload, REGION).ecs;
      const seen = seenOf[i]!;
      for (; seen.tasks < ecs.taskEvents.length; seen.tasks += 1)
        pendingWatch.push(ecs.taskEvents[seen.tasks] as unknown as WatchEvent);
      for (; seen.deployments < ecs.deploymentEvents.length; seen.deployments += 1)
        pendingWatch.push(ecs.deploymentEvents[seen.deployments] as unknown as WatchEvent);
    }
  };
  /** `account repository digest` → the event times (epoch ms) of the task events naming it that the watch handled */
  const watchedTaskTimes = new Map<string, number[]>();
  const noteHandledTaskEvent = (event: WatchEvent) => {
    if (event['detail-type'] !== 'ECS Task State Change') return;
    const detail = event.detail as { lastStatus: string; containers: { image: string; imageDigest?: string }[] };
    if (detail.lastStatus === 'STOPPED') return;
    for (const container of detail.containers) {
      if (!container.imageDigest) continue;
      const repository = container.image.slice(host.length + 1).split(/[:@]/)[0]!;
      const key = `${event.account} ${repository} ${container.imageDigest}`;
      watchedTaskTimes.set(key, [...(watchedTaskTimes.get(key) ?? []), Date.parse(event.time as string)]);
    }
  };

  // ── the oracle: what each service's current revisions pin, and since when ──
  const services = new Map<string, { repository: string; uses: Use[] }>();
  const inUse = (): { account: string; use: Use }[] =>
    [...services].flatMap(([key, s]) => s.uses.map((use) => ({ account: key.split('/')[0]!, use })));
  /** per workload: the start times of its complete lists (from the index's status, as the guard records them) */
  const completeListStarts = new Map<string, number[]>();

  const toldInUse = (account: string, use: Use): boolean => {
    const sinceSecond = Math.floor(use.since / 1000) * 1000; // an event's `time` has whole seconds
    const watched = watchedTaskTimes.get(`${account} ${use.repository} ${use.digest}`) ?? [];
    return (
      watched.some((time) => time >= sinceSecond) ||
      (completeListStarts.get(account) ?? []).some((started) => started >= use.since)
    );
  };
  const toldUntagged = (repository: string, digest: string): boolean => {
    const seq = untaggedBy.get(`${repository} ${digest}`);
    return seq !== undefined && handledPushSeqs.has(seq);
  };

  const tagsNow = (repository: string) =>
    new Map(registry.ecr.imagesOf(repository).map((i) => [i.digest, i.tags.length]));
  const push = (repo: number, tag: number, build: number) => {
    const repository = REPOSITORIES[repo]!;
    const before = tagsNow(repository);
    const manifest = dockerManifest({ seed: `${repository}-build-${build}` });
    try {
      registry.ecr.pushImage(repository, { tag: TAGS[tag], manifest: manifest.text, mediaType: manifest.mediaType });
    } catch (error) {
      if ((error as { code?: string }).code === 'ImageAlreadyExistsException') return;
      throw error;
    }
    for (const [digest, count] of tagsNow(repository)) {
      if (count === 0 && (before.get(digest) ?? 0) > 0)
        untaggedBy.set(`${repository} ${digest}`, registry.events.length - 1);
    }
    routePushes();
  };

  const deploy = (w: number, s: number, repo: number, tag: number, complete: boolean): boolean => {
    const repository = REPOSITORIES[repo]!;
    const digest = registry.ecr.resolve(repository, { tag: TAGS[tag] });
    if (!digest) return false; // nothing pushed under that tag yet: ECS would fail the deployment
    const workload = org.account(WORKLOADS[w]!, REGION);
    const key = `${WORKLOADS[w]}/${s}`;
    const name = `svc-${s}`;
    const existing = services.get(key);
    if (existing && existing.repository !== repository) return false; // one repository per service
    const taskDefinition = workload.ecs.registerTaskDefinition(name, [
      { name, image: `${host}/${repository}:${TAGS[tag]}` },
    ]);
    const use: Use = { repository, digest, since: org.clock.now().getTime() };
    if (!existing) {
      workload.ecs.createService('prod', name, taskDefinition, 1);
      services.set(key, { repository, uses: [use] });
      return true;
    }
    workload.ecs.updateService('prod', name, { taskDefinitionArn: taskDefinition });
    existing.uses.push(use);
    if (complete) {
      workload.ecs.completeDeployment('prod', name);
      existing.uses = [use];
    }
    return true;
  };

  const deliverPushes = async () => {
    if (pendingPushes.length === 0) return;
    const batch = pendingPushes.splice(0, pendingPushes.length);
    // SQS counts each receive; the handlers read it (ApproximateReceiveCount) to tell a retry from a first try.
    const sqs = {
      Records: batch.map((p) => toSqsEvent([p.event], { receiveCount: (p.receives += 1) }).Records[0]!),
    };
    stats.pushDeliveries += 1;
    const response = await handlePushBatch(sqs, { tagPrefix: TAG_PREFIX, dryRun: false }, pushDeps);
    const failed = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
    for (const [i, record] of sqs.Records.entries()) {
      if (failed.has(record.messageId)) pendingPushes.push(batch[i]!);
      else handledPushSeqs.add(batch[i]!.seq);
    }
  };

  const deliverWatch = async (take: number, newestFirst: boolean, twice: boolean) => {
    if (pendingWatch.length === 0) return;
    const batch = newestFirst
      ? pendingWatch.splice(Math.max(0, pendingWatch.length - take), take).reverse()
      : pendingWatch.splice(0, take);
    // A fresh watch each delivery: a new execution environment, so no assumed-role session outlives the clock.
    const watch = watchOnOrganization(org, registry, { workloadAccounts, logger: silent });
    for (let round = 0; round < (twice ? 2 : 1); round += 1) {
      const sqs = {
        Records: batch.map((event) => {
          const receives = (receivesOf.get(event) ?? 0) + 1;
          receivesOf.set(event, receives);
          return toSqsEvent([event], { receiveCount: receives }).Records[0]!;
        }),
      };
      stats.watchDeliveries += 1;
      const outcome = await watch(sqs.Records);
      const failed = new Set(outcome.failedMessageIds);
      for (const [i, record] of sqs.Records.entries()) {
        if (!failed.has(record.messageId)) noteHandledTaskEvent(batch[i]!);
        else if (round === 0) pendingWatch.push(batch[i]!);
      }
    }
  };

  /** The workload's list status as the guard recorded it, read off the table (no wire, so no fault reaches it). */
  const statusOf = (w: string) => {
    const key = workloadStatusKey({ account: w, region: REGION });
    const item = registry.dynamodb.itemsOf(IN_USE_INDEX_TABLE).find((i) => i.pk?.S === key.pk && i.sk?.S === key.sk);
    const complete = item?.lastCompleteListStartedAt?.N;
    return {
      outcome: item?.lastListOutcome?.S,
      completeStartedAt: complete === undefined ? undefined : Number(complete),
    };
  };
  const list = async () => {
    const startedBefore = new Map(WORKLOADS.map((w) => [w, statusOf(w).completeStartedAt]));
    stats.lists += 1;
    // A run that fails (no inventory, an index that could not be written, or repositories it could not reconcile
    // after its own retry) fails the function: Lambda retries an asynchronous invocation twice, whatever the error
    // (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html), so any error is retried
    // here. The retries run at once (Lambda waits a minute, then two): no lifecycle pass falls between them here.
    for (let attempt = 1; attempt <= 3; attempt += 1) {
      try {
        await reconcileOnOrganization(org, registry, { workloadAccounts, logger: silent });
        break;
      } catch {
        stats.failedLists += 1;
      }
    }
    for (const w of WORKLOADS) {
      const status = statusOf(w);
      const started = status.completeStartedAt;
      if (status.outcome !== 'complete') stats.partialLists += 1;
      if (started !== undefined && started !== startedBefore.get(w))
        completeListStarts.set(w, [...(completeListStarts.get(w) ?? []), started]);
    }
  };

  /** in-use digests a pass expired while the guard had not been told yet: gone for good, not counted again */
  const expiredInDelay = new Set<string>();
  const lifecyclePass = (repository: string, when: string) => {
    const images = new Map(registry.ecr.imagesOf(repository).map((i) => [i.digest, i]));
    for (const { account, use } of inUse()) {
      if (use.repository !== repository) continue;
      const current = images.get(use.digest);
      if (current && current.tags.length > 0) continue;
      if (!current && expiredInDelay.has(`${repository} ${use.digest}`)) continue;
      if (toldInUse(account, use) && toldUntagged(repository, use.digest)) {
        violations.push(
          `${when}: ${repository}@${use.digest}, pinned in ${account} since ${new Date(use.since).toISOString()}, ` +
            `is ${current ? 'untagged' : 'gone'} at a lifecycle pass although the guard was told of the use and ` +
            'of the push that took its last tag',
        );
      } else if (current) {
        stats.inDeliveryDelay += 1;
        expiredInDelay.add(`${repository} ${use.digest}`);
      }
    }
    const before = images.size;
    registry.ecr.runLifecycleExpireUntagged(repository);
    stats.lifecycleDeletes += before - registry.ecr.imagesOf(repository).length;
  };

  // A steady state to start from: one complete list of every workload (a fresh install falls back to the direct
  // inventory of its own account until then, which README documents).
  await list();

  for (const [step, action] of scenario.actions.entries()) {
    switch (action.kind) {
      case 'push':
        push(action.repo, action.tag, action.build);
        break;
      case 'deploy':
        deploy(action.workload, action.service, action.repo, action.tag, action.complete);
        break;
      case 'deploy-racing-push':
        if (deploy(action.workload, action.service, action.repo, action.tag, true)) {
          org.clock.advance(1_000);
          push(action.repo, action.tag, action.build);
        }
        break;
      case 'complete-deployment': {
        const existing = services.get(`${WORKLOADS[action.workload]}/${action.service}`);
        if (!existing) break;
        org.account(WORKLOADS[action.workload]!, REGION).ecs.completeDeployment('prod', `svc-${action.service}`);
        existing.uses = [existing.uses[existing.uses.length - 1]!];
        break;
      }
      case 'replace-tasks': {
        if (!services.has(`${WORKLOADS[action.workload]}/${action.service}`)) break;
        const ecs = org.account(WORKLOADS[action.workload]!, REGION).ecs;
        ecs.stopAllTasks('prod', `svc-${action.service}`);
        ecs.launchReplacementTask('prod', `svc-${action.service}`);
        break;
      }
      case 'deliver-pushes':
        await deliverPushes();
        break;
      case 'deliver-watch':
        collectWatchEvents();
        await deliverWatch(action.take, action.newestFirst, action.twice);
        break;
      case 'lose-watch-event':
        collectWatchEvents();
        if (pendingWatch.length > 0) pendingWatch.splice(action.pick % pendingWatch.length, 1);
        break;
      case 'list': {
        const workload = WORKLOADS[action.workload]!;
        if (action.failure === 'role-removed') {
          org.deleteRole(workload, workloadReaderRoleName(REGION));
          await list();
          deployWorkloadStack(org, workload, { accountId: REGISTRY, region: REGION });
        } else if (action.failure === 'throttled') {
          let calls = 0;
          workloadFaults[action.workload]!.inject({
            kind: 'throttle',
            service: 'ecs',
            times: 4, // more than the list's 2 attempts: the list of that workload ends partial
            match: () => calls++ >= action.afterCalls,
          });
          await list();
        } else {
          await list();
        }
        break;
      }
      case 'lifecycle':
        lifecyclePass(REPOSITORIES[action.repo]!, `step ${step}`);
        break;
      case 'fault': {
        const target = FAULT_TARGETS[action.target % FAULT_TARGETS.length]!;
        const injector =
          target.where === 'registry'
            ? registryFaults
            : workloadFaults[Math.floor(action.target / FAULT_TARGETS.length) % WORKLOADS.length]!;
        injector.inject({
          kind: action.fault,
          service: target.service,
          ...('operation' in target ? { operation: target.operation } : {}),
          times: action.times,
        });
        break;
      }
      case 'advance':
        org.clock.advance(action.seconds * 1_000);
        break;
    }
    collectWatchEvents();
    // Every step takes a second: events, uses and lists get distinct times, as they would.
    org.clock.advance(1_000);
  }

  // Settle: everything delivered (faults left over still apply and are used up), then a complete list.
  for (let round = 0; round < 20 && (pendingPushes.length > 0 || pendingWatch.length > 0); round += 1) {
    await deliverPushes();
    collectWatchEvents();
    await deliverWatch(pendingWatch.length, false, false);
    org.clock.advance(1_000);
  }
  for (let round = 0; round < 5 && WORKLOADS.some((w) => !completeSince(w)); round += 1) await list();
  if (pendingPushes.length > 0 || pendingWatch.length > 0)
    violations.push(
      `events still undelivered after settling: ${pendingPushes.length} pushes, ${pendingWatch.length} watch`,
    );
  function completeSince(w: string): boolean {
    const starts = completeListStarts.get(w) ?? [];
    return inUse().every(({ account, use }) => account !== w || starts.some((s) => s >= use.since));
  }
  for (const repository of REPOSITORIES) lifecyclePass(repository, 'after settling');
  for (const { account, use } of inUse()) {
    const current = registry.ecr.imagesOf(use.repository).find((i) => i.digest === use.digest);
    if (!current && !expiredInDelay.has(`${use.repository} ${use.digest}`))
      violations.push(`after settling: ${use.repository}@${use.digest}, pinned in ${account}, is gone`);
  }
  violations.push(...checkWritesOnlyAddOwnProtectiveTags(audit.writes, TAG_PREFIX));
  stats.protections = audit.writes.filter((w) => w.operation === 'PutImage' && w.answer === 'ok').length;
  return { violations, stats };
}

/** The property itself, for fc.assert. */
export function organizationUnderFaultsProperty() {
  return fc.asyncProperty(scenarioArb, async (scenario) => {
    const { violations } = await runOrganizationScenario(scenario);
    if (violations.length > 0) throw new Error(`invariants violated:\n- ${violations.join('\n- ')}`);
  });
}
