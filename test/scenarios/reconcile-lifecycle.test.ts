/**
 * Scenario tests: the reconcile's lifecycle-risk check, through the real reconcile handler (`runReconcile`),
 * adapters (`EcrAdapter`, `EcrLifecycleAdapter`, the inventory, `SnsAlertAdapter`) and SDK clients against the
 * stateful simulated account. The lifecycle policy is read and written through the simulated ECR API
 * (GetLifecyclePolicy, PutLifecyclePolicy); the default check (`evaluate`) runs no lifecycle policy preview.
 *
 * ECR: "An image that matches the tagging requirements of a rule cannot be expired by a rule with a lower
 * priority" (https://docs.aws.amazon.com/AmazonECR/latest/userguide/LifecyclePolicies.html): a protective tag
 * keeps an image from `untagged` rules only; a `tagStatus: any` rule still claims it.
 */
import { ECRClient, GetLifecyclePolicyCommand } from '@aws-sdk/client-ecr';
import { ECSClient } from '@aws-sdk/client-ecs';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SNSClient } from '@aws-sdk/client-sns';
import { beforeEach, describe, expect, it } from 'vitest';
import { EcrAdapter } from '../../lambda/adapters/ecr';
import { EcrLifecycleAdapter } from '../../lambda/adapters/ecr-lifecycle';
import { inventoryFor } from '../../lambda/adapters/inventory';
import { SnsAlertAdapter } from '../../lambda/adapters/sns';
import type { GuardLogger } from '../../lambda/core/ports';
import { shieldRuleFor } from '../../lambda/core/lifecycle';
import { protectiveTagFor } from '../../lambda/core/protective-tag';
import type { ReconcileSettings } from '../../lambda/core/reconcile';
import { runReconcile, type ReconcileHandlerDependencies } from '../../lambda/handlers/reconcile';
import { SimulatedAccount } from '../../sim/account';
import { dockerManifest } from '../../sim/manifests';
import { alertsOf, scheduledEventOn, tagsOf as tagsOfImage } from '../support/sim-scenario';

const PREFIX = 'digest-guard';
let account: SimulatedAccount;
let host: string;
let topicArn: string;
let ecr: ECRClient;
let errors: { message: string; extra: unknown }[];

const KEEP_ONE_OF_ANY = {
  rulePriority: 1,
  description: 'keep only the newest image',
  selection: { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 1 },
  action: { type: 'expire' },
};
const EXPIRE_UNTAGGED = {
  rulePriority: 1,
  description: 'expire untagged images',
  selection: { tagStatus: 'untagged', countType: 'imageCountMoreThan', countNumber: 1 },
  action: { type: 'expire' },
};

function pushBuild(repository: string, tag: string, seed: string): string {
  const manifest = dockerManifest({ seed });
  return account.ecr.pushImage(repository, { tag, manifest: manifest.text, mediaType: manifest.mediaType });
}

function deployService(cluster: string, name: string, repository: string, reference: string): void {
  const taskDefinition = account.ecs.registerTaskDefinition(name, [
    { name, image: `${host}/${repository}${reference}` },
  ]);
  account.ecs.createService(cluster, name, taskDefinition, 1);
}

const tagsOf = (repository: string, digest: string) => tagsOfImage(account, repository, digest);

const alerts = () => alertsOf<Record<string, any>>(account, topicArn);

const scheduledEvent = () => scheduledEventOn(account);

/** The reconcile's wiring, as the scheduled function builds it, with the lifecycle adapter on the same ECR client config. */
function reconcile(overrides: Partial<ReconcileSettings> = {}) {
  const config = account.clientConfig({ maxAttempts: 3 });
  const ecs = new ECSClient(config);
  const lambda = new LambdaClient(config);
  const noop = () => undefined;
  const logger: GuardLogger = {
    info: noop,
    warn: noop,
    error: (message, extra) => void errors.push({ message, extra }),
  };
  const deps: ReconcileHandlerDependencies = {
    ecr: new EcrAdapter(new ECRClient(config)),
    lifecycle: new EcrLifecycleAdapter(new ECRClient(config), { sleep: async () => undefined }),
    inventoryFor: (accountId, region) => inventoryFor(accountId, region, { ecs, lambda }),
    alerts: new SnsAlertAdapter(topicArn, new SNSClient(config)),
    logger,
    now: () => account.clock.now(),
  };
  return runReconcile(
    { tagPrefix: PREFIX, dryRun: false, region: account.region, ...overrides },
    { ...deps, event: scheduledEvent() },
  );
}

async function livePolicy(repository: string): Promise<string | undefined> {
  return (await ecr.send(new GetLifecyclePolicyCommand({ repositoryName: repository }))).lifecyclePolicyText;
}

/**
 * `web` runs build-1 by digest, which lost its tag to build-2; a first reconcile (no lifecycle policy yet)
 * protects it and alerts that. Returns the in-use digest, now carrying its protective tag.
 */
async function protectedInUseDigest(): Promise<string> {
  const a = pushBuild('app', 'prod', 'build-1');
  deployService('prod', 'web', 'app', ':prod');
  pushBuild('app', 'prod', 'build-2');
  const first = await reconcile();
  expect(first.failed).toEqual([]);
  expect(tagsOf('app', a)).toEqual([protectiveTagFor(a, PREFIX)]);
  expect(first.reports[0]?.lifecycle?.policy).toBe('none');
  expect(alerts()).toHaveLength(1);
  return a;
}

beforeEach(() => {
  account = new SimulatedAccount({ startAt: new Date('2026-11-26T10:00:00Z') });
  host = account.ecr.registryHost;
  topicArn = account.sns.createTopic('ecr-digest-guard-alerts');
  ecr = new ECRClient(account.clientConfig({ maxAttempts: 1 }));
  errors = [];
  account.ecr.createRepository('app');
  account.ecs.createCluster('prod');
});

describe('a lifecycle rule that can expire a protected in-use image', () => {
  it('sends one CRITICAL alert naming the rule and the shield rule to add, and leaves the policy as it is', async () => {
    const a = await protectedInUseDigest();
    const policy = JSON.stringify({ rules: [KEEP_ONE_OF_ANY] });
    account.ecr.setLifecyclePolicy('app', policy);

    const outcome = await reconcile();

    expect(outcome.failed).toEqual([]);
    expect(errors).toEqual([]);
    const sent = alerts().slice(1);
    expect(sent).toHaveLength(1);
    const [alert] = sent;
    expect(alert!.severity).toBe('CRITICAL');
    expect(alert!.subject).toBe('ECR digest guard: CRITICAL: lifecycle policy would expire in-use images in app');
    expect(alert!.json.events).toEqual(['lifecycle-risk']);
    expect(alert!.email).toContain('Lifecycle rule 1 ("keep only the newest image") can expire a protected image');
    expect(alert!.email).toContain(JSON.stringify(shieldRuleFor(PREFIX, 1)));
    const risks = alert!.json.reconcile.lifecycle.risks as { rulePriority: number; reach: string; digests: string[] }[];
    expect(risks).toEqual([expect.objectContaining({ rulePriority: 1, reach: 'any-image', digests: [a] })]);
    expect(JSON.parse(alert!.json.reconcile.lifecycle.fix.ruleJson)).toEqual(shieldRuleFor(PREFIX, 1));

    expect(await livePolicy('app')).toBe(policy);
    expect(account.callCount('ecr', 'PutLifecyclePolicy')).toBe(0);
    expect(account.callCount('ecr', 'StartLifecyclePolicyPreview')).toBe(0);
  });

  it('with installLifecycleShield, puts the shield at priority 1 and moves the old rule to 2', async () => {
    const a = await protectedInUseDigest();
    account.ecr.setLifecyclePolicy('app', JSON.stringify({ rules: [KEEP_ONE_OF_ANY] }));

    const outcome = await reconcile({ installLifecycleShield: true });

    expect(outcome.failed).toEqual([]);
    expect(errors).toEqual([]);
    expect(outcome.reports[0]?.shield).toMatchObject({ outcome: 'installed', renumbered: true });
    const live = JSON.parse((await livePolicy('app'))!) as { rules: Record<string, unknown>[] };
    expect(live.rules).toEqual([shieldRuleFor(PREFIX, 1), { ...KEEP_ONE_OF_ANY, rulePriority: 2 }]);
    expect(account.callCount('ecr', 'PutLifecyclePolicy')).toBe(1);

    const sent = alerts().slice(1);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.severity).toBe('CRITICAL');
    expect(sent[0]!.json.events).toEqual(['lifecycle-risk', 'lifecycle-shield-installed']);
    expect(sent[0]!.json.reconcile.lifecycle.risks[0].digests).toEqual([a]);
    expect(sent[0]!.email).toContain('Added the shield rule at the top of the lifecycle policy');

    // The next run reads the shielded policy: no risk left, nothing sent, nothing put again.
    const again = await reconcile({ installLifecycleShield: true });
    expect(again.reports[0]?.lifecycle).toMatchObject({ policy: 'present', shielded: true, risks: [] });
    expect(alerts()).toHaveLength(2);
    expect(account.callCount('ecr', 'PutLifecyclePolicy')).toBe(1);
  });
});

describe('a lifecycle policy a protective tag beats', () => {
  it('sends no lifecycle alert when the only rule selects untagged images', async () => {
    await protectedInUseDigest();
    const policy = JSON.stringify({ rules: [EXPIRE_UNTAGGED] });
    account.ecr.setLifecyclePolicy('app', policy);
    const reads = account.callCount('ecr', 'GetLifecyclePolicy');

    const outcome = await reconcile({ installLifecycleShield: true });

    expect(outcome.failed).toEqual([]);
    expect(errors).toEqual([]);
    // The policy was read and evaluated, and found harmless.
    expect(account.callCount('ecr', 'GetLifecyclePolicy')).toBe(reads + 1);
    expect(outcome.reports[0]?.lifecycle).toMatchObject({ policy: 'present', risks: [] });
    expect(outcome.reports[0]?.shield).toBeUndefined();
    expect(alerts()).toHaveLength(1);
    expect(await livePolicy('app')).toBe(policy);
    expect(account.callCount('ecr', 'PutLifecyclePolicy')).toBe(0);
  });
});
