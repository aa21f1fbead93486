/**
 * Scenario tests on a simulated organization: a guard in the registry account lists workloads in other accounts
 * and regions through the reader role (STS AssumeRole with the trust the workload stack declares), through the
 * real reconcile handler, adapters and SDK clients.
 * - the registry-account incident: a service in workload account B pins a digest of registry account A, two
 *   pushes move the tag in A, A's reconcile protects it, and the lifecycle pass spares it;
 * - a workload whose reader role was removed: alerted, nothing removed from the index for it, releases paused;
 * - a cross-region pull: a task in eu-west-1 pulling from the us-east-1 registry is protected by that registry's guard;
 * - a new account joining: named in the configuration, listed on the next run.
 */
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ECRClient } from '@aws-sdk/client-ecr';
import { ECSClient } from '@aws-sdk/client-ecs';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SNSClient } from '@aws-sdk/client-sns';
import { beforeEach, describe, expect, it } from 'vitest';
import { EcrAdapter } from '../../lambda/adapters/ecr';
import { DynamoDbInUseIndex, inUseIndexCreateTableInput } from '../../lambda/adapters/in-use-index';
import { inventoryFor } from '../../lambda/adapters/inventory';
import { SnsAlertAdapter } from '../../lambda/adapters/sns';
import { workloadInventoryFor } from '../../lambda/adapters/workload-inventory';
import { runReconcile } from '../../lambda/handlers/reconcile';
import { guardReconcileRoleName, workloadReaderRoleName } from '../../lambda/core/workloads';
import type { SimulatedAccount } from '../../sim/account';
import { dockerManifest } from '../../sim/manifests';
import { SimulatedOrganization } from '../../sim/organization';
import type { SimPolicyDocument } from '../../sim/sts';
import { scheduledEventOn } from '../support/sim-scenario';

const REGISTRY = '111111111111';
const WORKLOAD_B = '222222222222';
const WORKLOAD_C = '333333333333';
const TABLE = 'ecr-digest-guard-in-use-index';

let org: SimulatedOrganization;
let errors: string[];

/**
 * The reader's trust and permissions as the workload stack declares them (test/lib/workload-stack.test.ts checks
 * the synthesized trust against the same STS): the guard account, narrowed to its reconcile role; read calls only.
 */
function deployWorkloadStack(account: string, guardRegion: string): void {
  const trust: SimPolicyDocument = {
    Statement: [
      {
        Effect: 'Allow',
        Action: 'sts:AssumeRole',
        Principal: { AWS: `arn:aws:iam::${REGISTRY}:root` },
        Condition: {
          ArnEquals: { 'aws:PrincipalArn': `arn:aws:iam::${REGISTRY}:role/${guardReconcileRoleName(guardRegion)}` },
        },
      },
    ],
  };
  const readOnly: SimPolicyDocument = {
    Statement: [
      {
        Effect: 'Allow',
        Action: [
          'ecs:ListClusters',
          'ecs:ListServices',
          'ecs:ListTasks',
          'ecs:DescribeTaskDefinition',
          'ecs:DescribeServices',
          'ecs:DescribeTasks',
          'ecs:DescribeServiceRevisions',
          'ecs:DescribeServiceDeployments',
          'ecs:ListServiceDeployments',
          'lambda:ListFunctions',
          'lambda:GetFunction',
          'lambda:ListAliases',
        ],
        Resource: '*',
      },
    ],
  };
  org.putRole(account, workloadReaderRoleName(guardRegion), trust, readOnly);
}

function push(registry: SimulatedAccount, repository: string, tag: string, seed: string): string {
  const manifest = dockerManifest({ seed });
  return registry.ecr.pushImage(repository, { tag, manifest: manifest.text, mediaType: manifest.mediaType });
}

async function createIndex(guard: SimulatedAccount): Promise<void> {
  guard.sns.createTopic('ecr-digest-guard-alerts');
  const config = org.clientConfig({ accountId: guard.accountId, region: guard.region });
  await new DynamoDBClient(config).send(new CreateTableCommand(inUseIndexCreateTableInput(TABLE)));
}

/** One scheduled run of the guard in `guard`, wired as the function wires it, listing `workloadAccounts` too. */
function reconcile(
  guard: SimulatedAccount,
  options: { workloadAccounts: string[]; workloadRegions?: string[]; releaseAfterDays?: number },
) {
  const roleName = guardReconcileRoleName(guard.region);
  const config = org.clientConfig({ accountId: guard.accountId, region: guard.region, roleName, maxAttempts: 2 });
  const topicArn = `arn:aws:sns:${guard.region}:${guard.accountId}:ecr-digest-guard-alerts`;
  const noop = () => undefined;
  return runReconcile(
    {
      tagPrefix: 'digest-guard',
      dryRun: false,
      region: guard.region,
      workloadAccounts: options.workloadAccounts,
      ...(options.workloadRegions ? { workloadRegions: options.workloadRegions } : {}),
      ...(options.releaseAfterDays ? { releaseAfterDays: options.releaseAfterDays } : {}),
    },
    {
      ecr: new EcrAdapter(new ECRClient(config)),
      inventoryFor: (accountId, region) =>
        inventoryFor(accountId, region, { ecs: new ECSClient(config), lambda: new LambdaClient(config) }),
      workloadInventoryFor: (workload, registry) =>
        workloadInventoryFor(workload, {
          registry,
          partition: 'aws',
          guardCredentials: config.credentials,
          clientConfig: { requestHandler: org.requestHandler, maxAttempts: 2 },
        }),
      alerts: new SnsAlertAdapter(topicArn, new SNSClient(config)),
      inUseIndex: new DynamoDbInUseIndex(TABLE, new DynamoDBClient(config)),
      logger: { info: noop, warn: noop, error: (message) => void errors.push(message) },
      now: () => org.clock.now(),
      event: scheduledEventOn(guard),
    },
  );
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
