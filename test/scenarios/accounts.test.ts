/**
 * Scenario tests on a simulated organization: a guard in the registry account lists workloads in other accounts
 * and regions through the reader role (STS AssumeRole with the trust the workload stack declares), through the
 * real reconcile handler, adapters and SDK clients.
 * - the registry-account incident: a service in workload account B pins a digest of registry account A, two
 *   pushes move the tag in A, A's reconcile protects it, and the lifecycle pass spares it;
 * - a workload whose reader role was removed: alerted, nothing removed from the index for it, releases paused;
 * - a cross-region pull: a task in eu-west-1 pulling from the us-east-1 registry is protected by that registry's guard;
 * - a new account joining: named in the configuration, listed on the next run;
 * - the catch-up: a workload whose reader role was missing at the scheduled run is listed by the next 15-minute
 *   catch-up once the role is back, alone, and its pinned digest untagged meanwhile is protected.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import { DynamoDbInUseIndex } from '../../lambda/adapters/in-use-index';
import { ECSClient } from '@aws-sdk/client-ecs';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { inventoryFor } from '../../lambda/adapters/inventory';
import { inventoryFromDirectAndIndex } from '../../lambda/core/index-inventory';
import { guardReconcileRoleName, workloadReaderRoleName } from '../../lambda/core/workloads';
import type { SimulatedAccount } from '../../sim/account';
import {
  catchUpOnOrganization,
  createGuardResources,
  deployWorkloadStack as deployWorkloadStackOn,
  IN_USE_INDEX_TABLE as TABLE,
  reconcileOnOrganization,
} from '../../sim/guard-on-organization';
import { dockerManifest } from '../../sim/manifests';
import { SimulatedOrganization } from '../../sim/organization';

const REGISTRY = '111111111111';
const WORKLOAD_B = '222222222222';
const WORKLOAD_C = '333333333333';

let org: SimulatedOrganization;
let errors: string[];

/** The workload stack in `account`, for the guard of the registry account in `guardRegion`. */
function deployWorkloadStack(account: string, guardRegion: string): void {
  deployWorkloadStackOn(org, account, { accountId: REGISTRY, region: guardRegion });
}

function push(registry: SimulatedAccount, repository: string, tag: string, seed: string): string {
  const manifest = dockerManifest({ seed });
  return registry.ecr.pushImage(repository, { tag, manifest: manifest.text, mediaType: manifest.mediaType });
}

async function createIndex(guard: SimulatedAccount): Promise<void> {
  await createGuardResources(org, guard);
}

/** One scheduled run of the guard in `guard`, wired as the function wires it, listing `workloadAccounts` too. */
function reconcile(
  guard: SimulatedAccount,
  options: { workloadAccounts: string[]; workloadRegions?: string[]; releaseAfterDays?: number },
) {
  const noop = () => undefined;
  return reconcileOnOrganization(org, guard, {
    ...options,
    logger: { info: noop, warn: noop, error: (message) => void errors.push(message) },
  });
}

/** Index entries whose consumer is in `account`, as `<kind> <name>`. */
function entriesOf(guard: SimulatedAccount, account: string): string[] {
  return guard.dynamodb
    .itemsOf(TABLE)
    .filter((item) => item.sk?.S !== 'status' && item.consumerAccount?.S === account)
    .map((item) => `${item.kind?.S} ${item.name?.S}`)
    .sort();
}

function statusOf(guard: SimulatedAccount, account: string, region: string) {
  return guard.dynamodb
    .itemsOf(TABLE)
    .find(
      (item) =>
        item.sk?.S === 'status' && JSON.stringify(item).includes(`${account}`) && JSON.stringify(item).includes(region),
    );
}

function tagsOf(registry: SimulatedAccount, repository: string, digest: string): readonly string[] {
  return registry.ecr.imagesOf(repository).find((image) => image.digest === digest)?.tags ?? [];
}

beforeEach(() => {
  // On the wall clock: the SDK judges session expiry by it, as it does against AWS.
  org = new SimulatedOrganization({
    accounts: [
      { accountId: REGISTRY, regions: ['eu-west-1', 'us-east-1'] },
      { accountId: WORKLOAD_B, regions: ['eu-west-1', 'us-east-1'] },
      { accountId: WORKLOAD_C, regions: ['eu-west-1'] },
    ],
  });
  errors = [];
  org.putRole(REGISTRY, guardReconcileRoleName('eu-west-1'), { Statement: [] });
  org.putRole(REGISTRY, guardReconcileRoleName('us-east-1'), { Statement: [] });
});

describe('a registry-account guard lists workloads in other accounts', () => {
  let registry: SimulatedAccount;
  let workload: SimulatedAccount;
  let pinned: string;

  beforeEach(async () => {
    registry = org.account(REGISTRY, 'eu-west-1');
    workload = org.account(WORKLOAD_B, 'eu-west-1');
    await createIndex(registry);
    deployWorkloadStack(WORKLOAD_B, 'eu-west-1');
    registry.ecr.createRepository('shop');
    pinned = push(registry, 'shop', 'prod', 'build-1');
    workload.ecs.createCluster('prod');
    const web = workload.ecs.registerTaskDefinition('web', [
      { name: 'web', image: `${registry.ecr.registryHost}/shop:prod` },
    ]);
    workload.ecs.createService('prod', 'web', web, 2);
  });

  it('given a service in account B pinned to a digest of registry A and two pushes moving the tag, when A reconciles, then the digest is protected and the lifecycle pass spares it', async () => {
    push(registry, 'shop', 'prod', 'build-2');
    push(registry, 'shop', 'prod', 'build-3');
    expect(tagsOf(registry, 'shop', pinned)).toEqual([]);

    const outcome = await reconcile(registry, { workloadAccounts: [WORKLOAD_B] });
    registry.ecr.runLifecycleExpireUntagged('shop');

    expect(tagsOf(registry, 'shop', pinned)).toEqual([`digest-guard-${pinned.replace(':', '-')}`]);
    expect(registry.ecr.canPull('shop', pinned)).toBe(true);
    expect(workload.ecs.launchReplacementTask('prod', 'web').ok).toBe(true);
    expect(entriesOf(registry, WORKLOAD_B)).toHaveLength(3); // the service revision and its two tasks
    expect(outcome.workloadsNotListed).toBeUndefined();
    // One AssumeRole for the workload's ECS and Lambda clients together.
    expect(org.stsTransport.callCount('sts', 'AssumeRole')).toBe(1);
    expect(errors).toEqual([]);
  });

  it("given B's reader role was removed, when A reconciles, then it alerts naming B, removes nothing of B from the index and pauses releases", async () => {
    await reconcile(registry, { workloadAccounts: [WORKLOAD_B] });
    const indexedBefore = entriesOf(registry, WORKLOAD_B);
    // The tag moves, the guard protects the pinned digest; then B deploys the new build, so nothing uses the old
    // digest any more and, with B listed, its protection would be released after a day.
    const build2 = push(registry, 'shop', 'prod', 'build-2');
    await reconcile(registry, { workloadAccounts: [WORKLOAD_B] });
    const next = workload.ecs.registerTaskDefinition('web', [
      { name: 'web', image: `${registry.ecr.registryHost}/shop@${build2}` },
    ]);
    workload.ecs.updateService('prod', 'web', { taskDefinitionArn: next });
    workload.ecs.completeDeployment('prod', 'web');
    org.deleteRole(WORKLOAD_B, workloadReaderRoleName('eu-west-1'));
    org.clock.advanceDays(3);

    const outcome = await reconcile(registry, { workloadAccounts: [WORKLOAD_B], releaseAfterDays: 1 });

    expect(outcome.workloadsNotListed).toEqual([
      expect.objectContaining({
        account: WORKLOAD_B,
        region: 'eu-west-1',
        reason: expect.stringMatching(/AccessDenied/),
      }),
    ]);
    expect(entriesOf(registry, WORKLOAD_B)).toEqual(indexedBefore);
    expect(statusOf(registry, WORKLOAD_B, 'eu-west-1')).toMatchObject({ lastListOutcome: { S: 'partial' } });
    expect(tagsOf(registry, 'shop', pinned)).toEqual([`digest-guard-${pinned.replace(':', '-')}`]);
    const alert = registry.sns.published.find((m) => m.subject?.includes('could not list'));
    expect(alert?.message).toContain(`account ${WORKLOAD_B} eu-west-1`);
    expect(alert?.message).toContain('npx cdk deploy EcrDigestGuardWorkload');

    // Control: with the role back, the same run releases the protection it kept, so the pause above was the gap's.
    deployWorkloadStack(WORKLOAD_B, 'eu-west-1');
    await reconcile(registry, { workloadAccounts: [WORKLOAD_B], releaseAfterDays: 1 });
    expect(tagsOf(registry, 'shop', pinned)).toEqual([]);
  });

  it('given account C added to the configuration, when the next run lists, then C is listed and its pinned digest protected', async () => {
    await reconcile(registry, { workloadAccounts: [WORKLOAD_B] });
    const joining = org.account(WORKLOAD_C, 'eu-west-1');
    deployWorkloadStack(WORKLOAD_C, 'eu-west-1');
    const api = push(registry, 'shop', 'api', 'api-1');
    joining.ecs.createCluster('apps');
    const task = joining.ecs.registerTaskDefinition('api', [
      { name: 'api', image: `${registry.ecr.registryHost}/shop:api` },
    ]);
    joining.ecs.createService('apps', 'api', task, 1);
    push(registry, 'shop', 'api', 'api-2');

    await reconcile(registry, { workloadAccounts: [WORKLOAD_B, WORKLOAD_C] });

    expect(entriesOf(registry, WORKLOAD_C)).toHaveLength(2);
    expect(tagsOf(registry, 'shop', api)).toEqual([`digest-guard-${api.replace(':', '-')}`]);
  });
});

describe('the catch-up list between scheduled runs', () => {
  it("given B's reader role missing at the scheduled run and back afterwards, when the next catch-up runs 15 minutes later, then it lists B alone, protects B's pinned digest untagged meanwhile, and the push path no longer says B is unlisted", async () => {
    const registry = org.account(REGISTRY, 'eu-west-1');
    const workload = org.account(WORKLOAD_B, 'eu-west-1');
    await createIndex(registry);
    registry.ecr.createRepository('shop');
    const pinned = push(registry, 'shop', 'prod', 'build-1');
    workload.ecs.createCluster('prod');
    const web = workload.ecs.registerTaskDefinition('web', [
      { name: 'web', image: `${registry.ecr.registryHost}/shop:prod` },
    ]);
    workload.ecs.createService('prod', 'web', web, 1);
    // The scheduled run: B's workload stack is not deployed yet, so its list fails.
    const scheduled = await reconcile(registry, { workloadAccounts: [WORKLOAD_B] });
    expect(scheduled.workloadsNotListed).toEqual([expect.objectContaining({ account: WORKLOAD_B })]);
    const ownStatus = statusOf(registry, REGISTRY, 'eu-west-1');
    // The push path of a guard listing other accounts (its direct inventory and the index), as the push function has it.
    const config = org.clientConfig({ accountId: REGISTRY, region: 'eu-west-1', roleName: 'push' });
    const atPushTime = () =>
      inventoryFromDirectAndIndex({
        index: new DynamoDbInUseIndex(TABLE, new DynamoDBClient(config)),
        direct: inventoryFor(REGISTRY, 'eu-west-1', { ecs: new ECSClient(config), lambda: new LambdaClient(config) }),
        registry: { account: REGISTRY, region: 'eu-west-1' },
        workloads: [
          { account: REGISTRY, region: 'eu-west-1' },
          { account: WORKLOAD_B, region: 'eu-west-1' },
        ],
        logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
        now: () => org.clock.now(),
      }).takeInventory(['shop']);
    expect((await atPushTime()).notes).toEqual([
      expect.stringMatching(
        /no complete list yet, seen at push time only through what the watch indexed: 222222222222/,
      ),
    ]);
    // Meanwhile the tag moves away from the digest B pins, and B's operator deploys the workload stack.
    push(registry, 'shop', 'prod', 'build-2');
    expect(tagsOf(registry, 'shop', pinned)).toEqual([]);
    deployWorkloadStack(WORKLOAD_B, 'eu-west-1');
    org.clock.advance(15 * 60_000);
    const assumesBefore = org.stsTransport.callCount('sts', 'AssumeRole');

    const caughtUp = await catchUpOnOrganization(org, registry, {
      workloadAccounts: [WORKLOAD_B],
      listBoundMinutes: 375,
      logger: { info: () => undefined, warn: () => undefined, error: (message) => void errors.push(message) },
    });

    expect(caughtUp.overdue).toEqual([{ account: WORKLOAD_B, region: 'eu-west-1' }]);
    expect(tagsOf(registry, 'shop', pinned)).toEqual([`digest-guard-${pinned.replace(':', '-')}`]);
    expect(entriesOf(registry, WORKLOAD_B)).toHaveLength(2); // the service revision and its task
    expect(statusOf(registry, WORKLOAD_B, 'eu-west-1')).toMatchObject({ lastListOutcome: { S: 'complete' } });
    // The own account, listed completely 15 minutes ago, is neither listed nor recorded again.
    expect(statusOf(registry, REGISTRY, 'eu-west-1')).toEqual(ownStatus);
    expect(org.stsTransport.callCount('sts', 'AssumeRole') - assumesBefore).toBe(1);
    expect(errors).toEqual([]);
    // At push time B is now seen from the index: no note that it is unlisted, and its pinned digest is in use.
    const union = await atPushTime();
    expect(union.notes).toBeUndefined();
    expect(union.byRepository.get('shop')?.has(pinned)).toBe(true);

    // The next catch-up finds nothing overdue and lists nothing.
    org.clock.advance(15 * 60_000);
    const idle = await catchUpOnOrganization(org, registry, { workloadAccounts: [WORKLOAD_B], listBoundMinutes: 375 });
    expect(idle.overdue).toEqual([]);
    expect(idle.run).toBeUndefined();
  });
});

describe('a cross-region pull', () => {
  it('given a task in eu-west-1 pulling from the us-east-1 registry, when the us-east-1 guard lists eu-west-1, then it protects the us-east-1 image', async () => {
    const registry = org.account(REGISTRY, 'us-east-1');
    const workload = org.account(WORKLOAD_B, 'eu-west-1');
    await createIndex(registry);
    deployWorkloadStack(WORKLOAD_B, 'us-east-1');
    registry.ecr.createRepository('shop');
    const pinned = push(registry, 'shop', 'prod', 'build-1');
    workload.ecs.createCluster('prod');
    const web = workload.ecs.registerTaskDefinition('web', [
      { name: 'web', image: `${registry.ecr.registryHost}/shop:prod` },
    ]);
    workload.ecs.createService('prod', 'web', web, 1);
    push(registry, 'shop', 'prod', 'build-2');

    await reconcile(registry, { workloadAccounts: [WORKLOAD_B], workloadRegions: ['eu-west-1'] });

    expect(tagsOf(registry, 'shop', pinned)).toEqual([`digest-guard-${pinned.replace(':', '-')}`]);
    expect(entriesOf(registry, WORKLOAD_B)).toHaveLength(2);
    expect(errors).toEqual([]);
  });
});
