/**
 * The property "the guard keeps in-use digests under faults", shared by the fixed-seed test and the
 * long-run script: random sequences of pushes, deployments, task deaths, Lambda updates, lifecycle passes,
 * faults and queue deliveries run against the simulated account with the real handler, adapters and SDK
 * clients; then the queue is settled and the invariants are checked.
 *
 * The in-use oracle is this file's own model of what each service and function was deployed with, kept
 * apart from the guard's inventory adapters, so a wrong inventory cannot vouch for itself.
 */
import { ECRClient } from '@aws-sdk/client-ecr';
import { ECSClient } from '@aws-sdk/client-ecs';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SNSClient } from '@aws-sdk/client-sns';
import { ConfiguredRetryStrategy } from '@smithy/core/retry';
import fc from 'fast-check';
import { EcrAdapter } from '../../lambda/adapters/ecr';
import { inventoryFor } from '../../lambda/adapters/inventory';
import { SnsAlertAdapter } from '../../lambda/adapters/sns';
import type { GuardLogger } from '../../lambda/core/ports';
import type { EcrPort } from '../../lambda/core/ports';
import { DEFAULT_TAG_PREFIX } from '../../lambda/core/protective-tag';
import type { GuardSettings } from '../../lambda/core/types';
import { handlePushBatch } from '../../lambda/handlers/push';
import { SimulatedAccount } from '../../sim/account';
import type { EcrImageActionEvent } from '../../sim/events';
import { faultInjector, failImageIds, interleave, type FaultKind } from '../../sim/faults';
import { dockerManifest } from '../../sim/manifests';
import { SimQueue } from '../../sim/queue';
import { VirtualClock, seededRandom } from '../../sim/latency';
import {
  auditGuard,
  checkAtMostOneAlertPerProtection,
  checkEveryMessageHandledOrDeadLettered,
  checkEveryProtectionAlerted,
  checkWritesOnlyAddOwnProtectiveTags,
} from '../support/invariants';

export const REPOSITORIES = ['app', 'api'] as const;
export const TAGS = ['prod', 'staging'] as const;
const SERVICES = 3;
const FUNCTIONS = 2;
const MAX_ATTEMPTS = 3; // the SDK's default
const TAG_PREFIX = DEFAULT_TAG_PREFIX;

const FAULT_TARGETS = [
  { service: 'ecs', operation: 'ListServices' },
  { service: 'ecs', operation: 'DescribeServices' },
  { service: 'ecs', operation: 'DescribeServiceRevisions' },
  { service: 'ecs', operation: 'DescribeTasks' },
  { service: 'lambda' },
  { service: 'ecr', operation: 'DescribeImages' },
  { service: 'ecr', operation: 'BatchGetImage' },
  { service: 'ecr', operation: 'PutImage' },
  { service: 'sns', operation: 'Publish' },
] as const;

export type Action =
  | { readonly kind: 'push'; readonly repo: number; readonly tag: number; readonly build: number }
  /** the incident's race: two pipelines push one tag seconds apart */
  | {
      readonly kind: 'push-race';
      readonly repo: number;
      readonly tag: number;
      readonly builds: readonly [number, number];
    }
  | {
      readonly kind: 'deploy';
      readonly service: number;
      readonly repo: number;
      readonly tag: number;
      readonly complete: boolean;
    }
  /** the incident end to end: a service deployed from repo:tag, then two pipelines push that tag */
  | {
      readonly kind: 'incident';
      readonly service: number;
      readonly repo: number;
      readonly tag: number;
      readonly builds: readonly [number, number, number];
    }
  | { readonly kind: 'complete-deployment'; readonly service: number }
  | { readonly kind: 'stop-tasks'; readonly service: number }
  | { readonly kind: 'lambda'; readonly fn: number; readonly repo: number; readonly tag: number }
  | { readonly kind: 'lifecycle'; readonly repo: number }
  | { readonly kind: 'fault'; readonly fault: FaultKind; readonly target: number; readonly times: number }
  /** BatchGetImage answers a per-id failure for the protective tag's id (ECR partial failure) */
  | { readonly kind: 'partial-failure'; readonly times: number }
  | { readonly kind: 'deliver'; readonly concurrency: 1 | 2; readonly batchSize: number }
  /** a lifecycle pass that runs while the guard is mid-batch, after `afterCalls` calls */
  | {
      readonly kind: 'lifecycle-during-delivery';
      readonly repo: number;
      readonly afterCalls: number;
      readonly concurrency: 1 | 2;
      readonly batchSize: number;
    }
  /** EventBridge delivers one event a second time (at-least-once) */
  | { readonly kind: 'duplicate-event'; readonly pick: number }
  | { readonly kind: 'advance'; readonly minutes: number };

const index = (n: number) => fc.integer({ min: 0, max: n - 1 });

export const actionArb: fc.Arbitrary<Action> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('push' as const),
      repo: index(REPOSITORIES.length),
      tag: index(TAGS.length),
      build: index(6),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('push-race' as const),
      repo: index(REPOSITORIES.length),
      tag: index(TAGS.length),
      builds: fc.tuple(index(6), index(6)),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('deploy' as const),
      service: index(SERVICES),
      repo: index(REPOSITORIES.length),
      tag: index(TAGS.length),
      complete: fc.boolean(),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('incident' as const),
      service: index(SERVICES),
      repo: index(REPOSITORIES.length),
      tag: index(TAGS.length),
      builds: fc.tuple(index(6), index(6), index(6)),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('complete-deployment' as const), service: index(SERVICES) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('stop-tasks' as const), service: index(SERVICES) }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('lambda' as const),
      fn: index(FUNCTIONS),
      repo: index(REPOSITORIES.length),
      tag: index(TAGS.length),
    }),
  },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('lifecycle' as const), repo: index(REPOSITORIES.length) }) },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('fault' as const),
      fault: fc.constantFrom<FaultKind>('throttle', 'server-error', 'timeout-before', 'timeout-after'),
      target: index(FAULT_TARGETS.length),
      // mostly transient; sometimes long enough (5 receives × 3 SDK attempts) to send messages to the DLQ
      times: fc.oneof(
        { weight: 4, arbitrary: fc.integer({ min: 1, max: 4 }) },
        { weight: 1, arbitrary: fc.constant(16) },
      ),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('partial-failure' as const), times: fc.integer({ min: 1, max: 2 }) }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('deliver' as const),
      concurrency: fc.constantFrom<1 | 2>(1, 2),
      batchSize: fc.integer({ min: 1, max: 10 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('lifecycle-during-delivery' as const),
      repo: index(REPOSITORIES.length),
      afterCalls: fc.integer({ min: 0, max: 25 }),
      concurrency: fc.constantFrom<1 | 2>(1, 2),
      batchSize: fc.integer({ min: 1, max: 10 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('duplicate-event' as const), pick: fc.nat() }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('advance' as const), minutes: fc.integer({ min: 1, max: 120 }) }),
  },
);

export interface Scenario {
  readonly actions: readonly Action[];
  /** drives the queue's reordering and duplicate deliveries, and how concurrent calls interleave */
  readonly schedulerSeed: number;
}

export const scenarioArb: fc.Arbitrary<Scenario> = fc.record({
  actions: fc.array(actionArb, { minLength: 1, maxLength: 30 }),
  schedulerSeed: fc.integer(),
});

export interface ScenarioOptions {
  /** replace the ECR port the handler uses, e.g. with a deliberately broken one to show a checker fails */
  readonly wrapEcr?: (real: EcrPort, account: SimulatedAccount) => EcrPort;
  /** called once the account exists, before any action: e.g. to model a machine that stalls on every call */
  readonly onAccount?: (account: SimulatedAccount) => void;
}

export interface ScenarioResult {
  readonly violations: string[];
  readonly stats: {
    readonly invocations: number;
    readonly deadLettered: number;
    readonly protections: number;
    readonly lifecycleDeletes: number;
  };
}

/** The queue's and the interleaving's deterministic generator: the one the simulated clock uses. */
export { seededRandom } from '../../sim/latency';

const silentLogger: GuardLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

const SCENARIO_START = new Date('2026-11-26T10:00:00Z');

/**
 * Runs one scenario and checks every invariant. Violations are sentences; none = the property holds.
 *
 * The scenario runs on a virtual clock, so that the same scenario gives the same result to the last count on
 * any machine: the SDK's retries wait on `setTimeout` (0 ms here, which node makes 1 ms of real time), and
 * whether that timer fell due before or after the other invocation's turns depended on how busy the machine
 * was; the order decided how many redeliveries, protections and dead letters a run counted. On the clock a
 * timer fires only when nothing else is ready to run, and `Date.now` (the account's clock) and `Math.random`
 * (seeded with the scenario's `schedulerSeed`) no longer read the machine. Scenarios must not run concurrently.
 */
export async function runScenario(scenario: Scenario, options: ScenarioOptions = {}): Promise<ScenarioResult> {
  const clock = new VirtualClock(SCENARIO_START);
  clock.install(scenario.schedulerSeed);
  try {
    return await clock.run(() => runOnClock(scenario, options));
  } finally {
    clock.uninstall();
  }
}

async function runOnClock(scenario: Scenario, options: ScenarioOptions): Promise<ScenarioResult> {
  const random = seededRandom(scenario.schedulerSeed);
  const account = new SimulatedAccount({ startAt: SCENARIO_START });
  const host = account.ecr.registryHost;
  for (const repository of REPOSITORIES) account.ecr.createRepository(repository);
  account.ecs.createCluster('prod');
  const topicArn = account.sns.createTopic('ecr-digest-guard-alerts');
  // Real SDK retries (classification, attempts, quota) without the real backoff delays.
  const config = () => ({
    ...account.clientConfig(),
    retryStrategy: new ConfiguredRetryStrategy(MAX_ATTEMPTS, () => 0),
  });
  const ecs = new ECSClient(config());
  const lambda = new LambdaClient(config());
  const realEcr = new EcrAdapter(new ECRClient(config()));
  const settings: GuardSettings = { tagPrefix: TAG_PREFIX, dryRun: false };
  const deps = {
    ecr: options.wrapEcr ? options.wrapEcr(realEcr, account) : realEcr,
    inventoryFor: (accountId: string, region: string) => inventoryFor(accountId, region, { ecs, lambda }),
    alerts: new SnsAlertAdapter(topicArn, new SNSClient(config())),
    logger: silentLogger,
  };
  const handler = (event: Parameters<typeof handlePushBatch>[0]) => handlePushBatch(event, settings, deps);

  // Interceptors, outermost first: interleaving, faults, then the audit right around the services.
  interleave(account.transport, () => (random() < 0.5 ? 0 : Math.floor(random() * 4)));
  const faults = faultInjector(account.transport);
  let partialFailuresLeft = 0;
  failImageIds(account.transport, {
    operation: 'BatchGetImage',
    failureCode: 'KmsError',
    failWhen: (id) =>
      partialFailuresLeft > 0 && id.imageTag?.startsWith(`${TAG_PREFIX}-sha256-`) === true && partialFailuresLeft-- > 0,
    times: Number.MAX_SAFE_INTEGER,
  });
  const audit = auditGuard(account);
  const queue = new SimQueue({ clock: account.clock, random, duplicateDeliveryRate: 0.2 });
  const violations: string[] = [];
  options.onAccount?.(account);

  // ── the oracle: what is in use, and since when each digest has had no tag ──
  const services = new Map<number, { repository: string; digests: string[] }>();
  const functions = new Map<number, { repository: string; digest: string }>();
  const inUse = (): Map<string, Set<string>> => {
    const byRepo = new Map<string, Set<string>>();
    const add = (repository: string, digest: string) =>
      byRepo.set(repository, (byRepo.get(repository) ?? new Set()).add(digest));
    for (const s of services.values()) for (const d of s.digests) add(s.repository, d);
    for (const f of functions.values()) add(f.repository, f.digest);
    return byRepo;
  };
  /** `repo digest` → the sequence number of the ECR event that took its last tag */
  const untaggedAt = new Map<string, number>();
  /** EventBridge event id → its sequence number among the registry's events */
  const sequenceOf = new Map<string, number>();
  const routed: EcrImageActionEvent[] = [];
  let eventsSeen = 0;
  let lifecycleDeletes = 0;
  /** in-use digests a lifecycle pass deleted before the guard had a fair chance: not expected back */
  const lostWithoutFairChance = new Set<string>();

  const route = () => {
    // The rule: PUSH, SUCCESS, a tag that is not a protective tag (`anything-but` needs the field present).
    for (; eventsSeen < account.events.length; eventsSeen += 1) {
      const event = account.events[eventsSeen]!;
      sequenceOf.set(event.id, eventsSeen);
      const tag = event.detail['image-tag'];
      if (event.detail['action-type'] !== 'PUSH' || event.detail.result !== 'SUCCESS' || tag === undefined) continue;
      if (tag.startsWith(`${TAG_PREFIX}-sha256-`)) continue;
      routed.push(event);
      queue.send(event);
    }
  };

  const tagsNow = (repository: string) =>
    new Map(account.ecr.imagesOf(repository).map((i) => [i.digest, i.tags.length]));
  const push = (repo: number, tag: number, build: number) => {
    const repository = REPOSITORIES[repo]!;
    const before = tagsNow(repository);
    const manifest = dockerManifest({ seed: `${repository}-build-${build}` });
    try {
      account.ecr.pushImage(repository, { tag: TAGS[tag], manifest: manifest.text, mediaType: manifest.mediaType });
    } catch (error) {
      // The same build pushed again under the same tag changes nothing (and the sim records no event).
      if ((error as { code?: string }).code === 'ImageAlreadyExistsException') return;
      throw error;
    }
    for (const [digest, count] of tagsNow(repository)) {
      if (count === 0 && (before.get(digest) ?? 0) > 0)
        untaggedAt.set(`${repository} ${digest}`, account.events.length - 1);
    }
    route();
  };

  /** Deleted messages' events, as sequence numbers per repository: what the guard has handled. */
  const handledSequences = (repository: string): number[] =>
    queue.messages
      .filter((m) => m.state === 'deleted')
      .map((m) => JSON.parse(m.body) as EcrImageActionEvent)
      .filter((e) => e.detail['repository-name'] === repository)
      .map((e) => sequenceOf.get(e.id)!);
  const hadFairChance = (repository: string, digest: string): number | undefined => {
    const lostTagAt = untaggedAt.get(`${repository} ${digest}`) ?? -1;
    return handledSequences(repository).find((seq) => seq >= lostTagAt);
  };

  const lifecyclePass = (repository: string) => {
    const used = inUse().get(repository) ?? new Set<string>();
    const before = account.ecr.imagesOf(repository);
    // (a) the guard had a fair chance to protect D when a push event of its repository, pushed at or after
    // D lost its last tag, was delivered and handled (its message deleted) before this pass began.
    const fairChance = new Map([...used].map((d) => [d, hadFairChance(repository, d)]));
    account.ecr.runLifecycleExpireUntagged(repository);
    const after = new Set(account.ecr.imagesOf(repository).map((i) => i.digest));
    for (const image of before) {
      if (after.has(image.digest)) continue;
      lifecycleDeletes += 1;
      if (!used.has(image.digest)) continue;
      const seq = fairChance.get(image.digest);
      if (seq !== undefined) {
        violations.push(
          `(a) lifecycle deleted in-use ${repository}@${image.digest} although push event #${seq} was handled before the pass`,
        );
      } else {
        lostWithoutFairChance.add(`${repository} ${image.digest}`);
      }
    }
  };

  const deploy = (service: number, repo: number, tag: number, complete: boolean) => {
    const repository = REPOSITORIES[repo]!;
    const digest = account.ecr.resolve(repository, { tag: TAGS[tag] });
    if (!digest) return; // nothing pushed under that tag yet: a deploy would fail, as it does in ECS
    const name = `svc-${service}`;
    const taskDefinition = account.ecs.registerTaskDefinition(name, [
      { name, image: `${host}/${repository}:${TAGS[tag]}` },
    ]);
    const existing = services.get(service);
    if (!existing) {
      account.ecs.createService('prod', name, taskDefinition, 1);
      services.set(service, { repository, digests: [digest] });
      return;
    }
    if (existing.repository !== repository) return; // one repository per service keeps the oracle simple
    account.ecs.updateService('prod', name, { taskDefinitionArn: taskDefinition });
    existing.digests.push(digest);
    if (complete) {
      account.ecs.completeDeployment('prod', name);
      existing.digests = [digest];
    }
  };

  const deliver = (concurrency: 1 | 2, batchSize: number) => queue.pollOnce(handler, { concurrency, batchSize });

  for (const action of scenario.actions) {
    switch (action.kind) {
      case 'push':
        push(action.repo, action.tag, action.build);
        break;
      case 'push-race':
        push(action.repo, action.tag, action.builds[0]);
        account.clock.advance(2_000);
        push(action.repo, action.tag, action.builds[1]);
        break;
      case 'deploy':
        deploy(action.service, action.repo, action.tag, action.complete);
        break;
      case 'incident':
        push(action.repo, action.tag, action.builds[0]);
        deploy(action.service, action.repo, action.tag, true);
        push(action.repo, action.tag, action.builds[1]);
        account.clock.advance(2_000);
        push(action.repo, action.tag, action.builds[2]);
        break;
      case 'complete-deployment': {
        const existing = services.get(action.service);
        if (!existing) break;
        account.ecs.completeDeployment('prod', `svc-${action.service}`);
        existing.digests = [existing.digests[existing.digests.length - 1]!];
        break;
      }
      case 'stop-tasks':
        if (services.has(action.service)) account.ecs.stopAllTasks('prod', `svc-${action.service}`);
        break;
      case 'lambda': {
        const repository = REPOSITORIES[action.repo]!;
        const digest = account.ecr.resolve(repository, { tag: TAGS[action.tag] });
        if (!digest) break;
        const existing = functions.get(action.fn);
        if (existing && existing.repository !== repository) break;
        const uri = `${host}/${repository}:${TAGS[action.tag]}`;
        if (existing) account.lambda.updateFunctionCode(`fn-${action.fn}`, uri);
        else account.lambda.createFunction(`fn-${action.fn}`, uri);
        functions.set(action.fn, { repository, digest });
        break;
      }
      case 'lifecycle':
        lifecyclePass(REPOSITORIES[action.repo]!);
        break;
      case 'fault': {
        const target = FAULT_TARGETS[action.target]!;
        faults.inject({
          kind: action.fault,
          service: target.service,
          ...('operation' in target ? { operation: target.operation } : {}),
          times: action.times,
        });
        break;
      }
      case 'partial-failure':
        partialFailuresLeft += action.times;
        break;
      case 'deliver':
        await deliver(action.concurrency, action.batchSize);
        break;
      case 'lifecycle-during-delivery': {
        // Runs from `beforeCall`, ahead of every interceptor, so the audit never sees it inside a guard write.
        let calls = 0;
        let ran = false;
        const previous = account.transport.beforeCall;
        account.transport.beforeCall = (service, operation) => {
          if (!ran && calls++ >= action.afterCalls) {
            ran = true;
            lifecyclePass(REPOSITORIES[action.repo]!);
          }
          previous?.(service, operation);
        };
        await deliver(action.concurrency, action.batchSize);
        account.transport.beforeCall = previous;
        if (!ran) lifecyclePass(REPOSITORIES[action.repo]!);
        break;
      }
      case 'duplicate-event':
        if (routed.length > 0) queue.send(routed[action.pick % routed.length]!);
        break;
      case 'advance':
        account.clock.advance(action.minutes * 60_000);
        break;
    }
    route();
  }

  // Settle: deliver until every message is deleted or dead-lettered (faults left over still apply).
  for (let rounds = 0; queue.outstanding.length > 0 && rounds < 50; rounds += 1) {
    await queue.settle(handler);
    route(); // the guard's own PutImage events are filtered by the rule; anything else goes in
  }

  // (a) after settling: an in-use digest still in the repository has a tag, unless every event that could
  // have made the guard look at it ended in the dead-letter queue.
  for (const [repository, digests] of inUse()) {
    const images = new Map(account.ecr.imagesOf(repository).map((i) => [i.digest, i]));
    for (const digest of digests) {
      const image = images.get(digest);
      if (!image) {
        if (!lostWithoutFairChance.has(`${repository} ${digest}`))
          violations.push(`(a) in-use ${repository}@${digest} is gone, and no lifecycle pass took it`);
        continue;
      }
      if (image.tags.length > 0) continue;
      const seq = hadFairChance(repository, digest);
      if (seq !== undefined)
        violations.push(
          `(a) in-use ${repository}@${digest} has no tag after settling, although push event #${seq} was handled`,
        );
    }
  }
  violations.push(...checkWritesOnlyAddOwnProtectiveTags(audit.writes, TAG_PREFIX));
  violations.push(...checkEveryMessageHandledOrDeadLettered(queue).map((v) => `(c) ${v}`));
  const delivered = account.sns.messagesTo(topicArn).map((m) => m.message);
  violations.push(...checkAtMostOneAlertPerProtection(delivered, audit.failedPublishes()).map((v) => `(d) ${v}`));
  violations.push(
    ...checkEveryProtectionAlerted(audit.writes, delivered, audit.failedPublishes()).map((v) => `(e) ${v}`),
  );
  // Every routed event has a message, and every message carries a routed event.
  if (
    new Set(queue.messages.map((m) => (JSON.parse(m.body) as EcrImageActionEvent).id)).size !==
    new Set(routed.map((e) => e.id)).size
  ) {
    violations.push('(c) an event routed by the rule has no queue message');
  }
  return {
    violations: violations.map((v) => (v.startsWith('(') ? v : `(b) ${v}`)),
    stats: {
      invocations: queue.invocations.length,
      deadLettered: queue.deadLetters.length,
      protections: audit.writes.filter((w) => w.operation === 'PutImage' && w.answer === 'ok').length,
      lifecycleDeletes,
    },
  };
}

/** The property itself, for fc.assert. */
export function guardUnderFaultsProperty(options: ScenarioOptions = {}) {
  return fc.asyncProperty(scenarioArb, async (scenario) => {
    const { violations } = await runScenario(scenario, options);
    if (violations.length > 0) throw new Error(`invariants violated:\n- ${violations.join('\n- ')}`);
  });
}
