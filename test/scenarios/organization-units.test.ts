/**
 * Scenario tests on a simulated AWS Organization: the guard in the registry account (a delegated administrator)
 * discovers the accounts of its organizational units on each run and lists them through the reader role that the
 * workload StackSet deploys, through the real reconcile handler, adapters and SDK clients.
 * - a new account joining an OU: the StackSet's automatic deployment gives it the reader role of the synthesized
 *   template body; the next run discovers it and protects the digest its service pins;
 * - a discovery failure (the registry account is no longer a delegated administrator): the known accounts are
 *   listed, nothing is removed from the index for the others, releases pause, and it alerts what to do.
 */
import { App, Stack } from 'aws-cdk-lib';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { guardReconcileRoleName } from '../../lambda/core/workloads';
import { WorkloadStackSet } from '../../lib/workload-stackset';
import type { SimulatedAccount } from '../../sim/account';
import {
  createGuardResources,
  deployWorkloadTemplate,
  IN_USE_INDEX_TABLE as TABLE,
  reconcileOnOrganization,
} from '../../sim/guard-on-organization';
import { dockerManifest } from '../../sim/manifests';
import { SimulatedOrganization } from '../../sim/organization';

const MANAGEMENT = '100000000000';
const REGISTRY = '111111111111';
const WORKLOAD_B = '222222222222';
const JOINING_C = '333333333333';

let templateBody: string;
let org: SimulatedOrganization;
let registry: SimulatedAccount;
let unit: string;
let errors: string[];

function push(repository: string, tag: string, seed: string): string {
  const manifest = dockerManifest({ seed });
  return registry.ecr.pushImage(repository, { tag, manifest: manifest.text, mediaType: manifest.mediaType });
}

function tagsOf(repository: string, digest: string): readonly string[] {
  return registry.ecr.imagesOf(repository).find((image) => image.digest === digest)?.tags ?? [];
}

function entriesOf(account: string): string[] {
  return registry.dynamodb
    .itemsOf(TABLE)
    .filter((item) => item.sk?.S !== 'status' && item.consumerAccount?.S === account)
    .map((item) => `${item.kind?.S} ${item.name?.S}`)
    .sort();
}

/** A service in `account` that pins what `shop:<tag>` resolves to now. */
function runService(account: string, tag: string): void {
  const workload = org.account(account, 'eu-west-1');
  workload.ecs.createCluster('prod');
  const task = workload.ecs.registerTaskDefinition(tag, [
    { name: tag, image: `${registry.ecr.registryHost}/shop:${tag}` },
  ]);
  workload.ecs.createService('prod', tag, task, 1);
}

function reconcile(options: { releaseAfterDays?: number } = {}) {
  const noop = () => undefined;
  return reconcileOnOrganization(org, registry, {
    workloadAccounts: [],
    organizationUnits: [unit],
    ...options,
    logger: { info: noop, warn: noop, error: (message) => void errors.push(message) },
  });
}

beforeAll(() => {
  // The StackSet exactly as the guard stack creates it: its template body is what every member account gets.
  const guardStack = new Stack(new App(), 'Guard', { env: { account: REGISTRY, region: 'eu-west-1' } });
  const stackSet = new WorkloadStackSet(guardStack, 'WorkloadStackSet', {
    deployment: {
      guardAccount: REGISTRY,
      guardRegion: 'eu-west-1',
      accounts: [],
      regions: ['eu-west-1'],
      organizationUnits: ['ou-sim0-00000000'],
    },
  });
  templateBody = stackSet.stackSet.templateBody!;
});

beforeEach(async () => {
  org = new SimulatedOrganization({
    managementAccount: MANAGEMENT,
    accounts: [
      { accountId: MANAGEMENT, regions: ['eu-west-1'] },
      { accountId: REGISTRY, regions: ['eu-west-1'] },
      { accountId: WORKLOAD_B, regions: ['eu-west-1'] },
    ],
  });
  errors = [];
  registry = org.account(REGISTRY, 'eu-west-1');
  org.putRole(REGISTRY, guardReconcileRoleName('eu-west-1'), { Statement: [] });
  await createGuardResources(org, registry);
  org.organizations.registerDelegatedAdministrator(REGISTRY);
  org.organizations.placeAccount(REGISTRY, org.organizations.rootId);
  unit = org.organizations.createOrganizationalUnit();
  // B sits in an OU nested under the guard's OU: discovery walks the tree.
  const nested = org.organizations.createOrganizationalUnit(unit);
  org.organizations.placeAccount(WORKLOAD_B, nested);
  deployWorkloadTemplate(org, WORKLOAD_B, templateBody);
  // Suspended: runs nothing and has no reader; the guard must not try to list it.
  org.organizations.placeAccount('444444444444', unit, 'SUSPENDED');
  registry.ecr.createRepository('shop');
  push('shop', 'web', 'web-1');
  runService(WORKLOAD_B, 'web');
});

describe('a guard over organizational units', () => {
  it('given account C joins the OU and the StackSet deploys the reader there, when the next run lists, then C is discovered and the digest it pins is protected', async () => {
    await reconcile();
    expect(entriesOf(WORKLOAD_B)).not.toEqual([]);
    expect(entriesOf(JOINING_C)).toEqual([]);

    org.joinAccount(JOINING_C, ['eu-west-1']);
    org.organizations.placeAccount(JOINING_C, unit);
    deployWorkloadTemplate(org, JOINING_C, templateBody);
    const pinned = push('shop', 'api', 'api-1');
    runService(JOINING_C, 'api');
    push('shop', 'api', 'api-2');
    expect(tagsOf('shop', pinned)).toEqual([]);

    const outcome = await reconcile();
    registry.ecr.runLifecycleExpireUntagged('shop');

    expect(tagsOf('shop', pinned)).toEqual([`digest-guard-${pinned.replace(':', '-')}`]);
    expect(registry.ecr.canPull('shop', pinned)).toBe(true);
    expect(entriesOf(JOINING_C)).toEqual(expect.arrayContaining([expect.stringMatching(/api/)]));
    expect(outcome.workloadsNotListed).toBeUndefined();
    expect(outcome.accountsNotDiscovered).toBeUndefined();
    expect(errors).toEqual([]);
  });

  it('given the registry account is no longer a delegated administrator, when it reconciles, then it lists what it knows, removes nothing for the others, pauses releases and alerts what to do', async () => {
    await reconcile();
    const indexedBefore = entriesOf(WORKLOAD_B);
    expect(indexedBefore).not.toEqual([]);
    // B moves to a new build: nothing uses web-1 any more, so a complete list of B would release its protection
    // and remove B's old entries.
    const web1 = registry.ecr.imagesOf('shop').find((image) => image.tags.includes('web'))!.digest;
    const web2 = push('shop', 'web', 'web-2');
    await reconcile();
    expect(tagsOf('shop', web1)).toEqual([`digest-guard-${web1.replace(':', '-')}`]);
    const workload = org.account(WORKLOAD_B, 'eu-west-1');
    const next = workload.ecs.registerTaskDefinition('web', [
      { name: 'web', image: `${registry.ecr.registryHost}/shop@${web2}` },
    ]);
    workload.ecs.updateService('prod', 'web', { taskDefinitionArn: next });
    workload.ecs.completeDeployment('prod', 'web');
    org.organizations.deregisterDelegatedAdministrator(REGISTRY);
    org.clock.advanceDays(3);

    const outcome = await reconcile({ releaseAfterDays: 1 });

    expect(outcome.accountsNotDiscovered).toEqual({
      organizationUnits: [unit],
      reason: expect.stringMatching(/^AccessDeniedException: /),
    });
    expect(entriesOf(WORKLOAD_B)).toEqual(indexedBefore);
    expect(tagsOf('shop', web1)).toEqual([`digest-guard-${web1.replace(':', '-')}`]);
    const alert = registry.sns.published.find((m) => m.subject?.includes('could not discover'));
    expect(alert?.message).toContain(`could not discover the accounts of ${unit}`);
    expect(alert?.message).toContain(
      `aws organizations register-delegated-administrator --account-id ${REGISTRY} --service-principal ` +
        'member.org.stacksets.cloudformation.amazonaws.com',
    );

    // Control: with the delegation back, the same run lists B and releases the protection it kept.
    org.organizations.registerDelegatedAdministrator(REGISTRY);
    const after = await reconcile({ releaseAfterDays: 1 });
    expect(after.accountsNotDiscovered).toBeUndefined();
    expect(entriesOf(WORKLOAD_B)).not.toEqual(indexedBefore);
    expect(tagsOf('shop', web1)).toEqual([]);
  });
});
