/**
 * The simulated organization: STS AssumeRole checks the role and its trust, and the credentials it returns act
 * in the role's account, in the region the client signs for. Pinned against the STS API reference
 * (https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html, botocore
 * `sts/2011-06-15/service-2.json`) and the IAM principal and condition-key references.
 */
import { DeleteClusterCommand, ECSClient, ListClustersCommand } from '@aws-sdk/client-ecs';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient, STSServiceException } from '@aws-sdk/client-sts';
import { AsyncLocalStorage } from 'node:async_hooks';
import { fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import { beforeEach, describe, expect, it } from 'vitest';
import { SimulatedOrganization } from '../../sim/organization';
import type { SimPolicyDocument } from '../../sim/sts';

const GUARD = '111111111111';
const WORKLOAD = '222222222222';
const STRANGER = '333333333333';
const GUARD_ROLE = 'ecr-digest-guard-reconcile-eu-west-1';
const READER = 'ecr-digest-guard-reader-eu-west-1';
const readerArn = (account: string) => `arn:aws:iam::${account}:role/${READER}`;

/** The trust the workload stack declares: the guard account, narrowed to the reconcile role by aws:PrincipalArn. */
const trustOfGuardReconcile: SimPolicyDocument = {
  Version: '2012-10-17',
  Statement: [
    {
      Effect: 'Allow',
      Action: 'sts:AssumeRole',
      Principal: { AWS: `arn:aws:iam::${GUARD}:root` },
      Condition: { ArnEquals: { 'aws:PrincipalArn': `arn:aws:iam::${GUARD}:role/${GUARD_ROLE}` } },
    },
  ],
};
const readOnlyEcs: SimPolicyDocument = {
  Statement: [{ Effect: 'Allow', Action: ['ecs:List*', 'ecs:Describe*'], Resource: '*' }],
};

let org: SimulatedOrganization;

beforeEach(() => {
  org = new SimulatedOrganization({
    accounts: [
      { accountId: GUARD, regions: ['eu-west-1'] },
      { accountId: WORKLOAD, regions: ['eu-west-1', 'us-east-1'] },
      { accountId: STRANGER, regions: ['eu-west-1'] },
    ],
  });
  org.putRole(GUARD, GUARD_ROLE, { Statement: [] });
  org.putRole(WORKLOAD, READER, trustOfGuardReconcile, readOnlyEcs);
  org.account(GUARD, 'eu-west-1').ecs.createCluster('registry-tools');
  org.account(WORKLOAD, 'eu-west-1').ecs.createCluster('shop');
  org.account(WORKLOAD, 'us-east-1').ecs.createCluster('shop-us');
});

function stsAs(account: string, roleName?: string): STSClient {
  return new STSClient(
    org.clientConfig({ accountId: account, region: 'eu-west-1', maxAttempts: 1, ...(roleName ? { roleName } : {}) }),
  );
}

async function assumeError(client: STSClient, roleArn: string): Promise<unknown> {
  return client.send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: 'list' })).then(
    () => undefined,
    (error: unknown) => error,
  );
}

/** An ECS client in `region` acting through the reader role, the way the reconcile's list will get one. */
function ecsThroughReader(region: string, account = WORKLOAD): ECSClient {
  const guard = org.clientConfig({ accountId: GUARD, region: 'eu-west-1', roleName: GUARD_ROLE });
  return new ECSClient({
    region,
    maxAttempts: 1,
    requestHandler: org.requestHandler,
    credentials: fromTemporaryCredentials({
      params: { RoleArn: readerArn(account), RoleSessionName: 'ecr-digest-guard-list' },
      masterCredentials: guard.credentials,
      clientConfig: { region: 'eu-west-1', requestHandler: org.requestHandler, maxAttempts: 1 },
    }),
  });
}

describe('STS AssumeRole in the simulated organization', () => {
  it('given the reader role trusting the guard reconcile role, when the guard assumes it, then later calls act in the workload account of the region signed for', async () => {
    const euClusters = await ecsThroughReader('eu-west-1').send(new ListClustersCommand({}));
    const usClusters = await ecsThroughReader('us-east-1').send(new ListClustersCommand({}));

    expect(euClusters.clusterArns).toEqual([`arn:aws:ecs:eu-west-1:${WORKLOAD}:cluster/shop`]);
    expect(usClusters.clusterArns).toEqual([`arn:aws:ecs:us-east-1:${WORKLOAD}:cluster/shop-us`]);
    expect(org.stsTransport.callCount('sts', 'AssumeRole')).toBe(2);
    expect(org.account(GUARD, 'eu-west-1').callCount('ecs')).toBe(0);
  });

  it('given temporary credentials, when the caller asks who it is, then STS names the assumed-role session in the workload account', async () => {
    const before = org.clock.now().getTime();
    const assumed = await stsAs(GUARD, GUARD_ROLE).send(
      new AssumeRoleCommand({ RoleArn: readerArn(WORKLOAD), RoleSessionName: 'ecr-digest-guard-list' }),
    );
    const credentials = assumed.Credentials!;
    expect(assumed.AssumedRoleUser?.Arn).toBe(`arn:aws:sts::${WORKLOAD}:assumed-role/${READER}/ecr-digest-guard-list`);
    // DurationSeconds defaults to 3600.
    expect(credentials.Expiration!.getTime() - before).toBeGreaterThanOrEqual(3600 * 1000);
    expect(credentials.Expiration!.getTime() - org.clock.now().getTime()).toBeLessThanOrEqual(3600 * 1000);

    const asReader = new STSClient({
      region: 'eu-west-1',
      requestHandler: org.requestHandler,
      credentials: {
        accessKeyId: credentials.AccessKeyId!,
        secretAccessKey: credentials.SecretAccessKey!,
        sessionToken: credentials.SessionToken!,
      },
    });
    expect((await asReader.send(new GetCallerIdentityCommand({}))).Account).toBe(WORKLOAD);
  });

  it('given another role of the guard account, when it assumes the reader role, then STS answers AccessDenied (the condition narrows the account to one role)', async () => {
    org.putRole(GUARD, 'deploy-tool', { Statement: [] });

    const error = await assumeError(stsAs(GUARD, 'deploy-tool'), readerArn(WORKLOAD));

    expect(error).toBeInstanceOf(STSServiceException);
    expect((error as STSServiceException).name).toBe('AccessDenied');
    expect((error as STSServiceException).$metadata.httpStatusCode).toBe(403);
  });

  it("given a principal of another account named like the guard's role, when it assumes the reader role, then STS answers AccessDenied", async () => {
    org.putRole(STRANGER, GUARD_ROLE, { Statement: [] });

    const error = await assumeError(stsAs(STRANGER, GUARD_ROLE), readerArn(WORKLOAD));

    expect((error as STSServiceException).name).toBe('AccessDenied');
  });

  it('given the reader role was removed, when the guard assumes it, then STS answers AccessDenied, the same answer as a refused trust', async () => {
    org.deleteRole(WORKLOAD, READER);

    const error = await assumeError(stsAs(GUARD, GUARD_ROLE), readerArn(WORKLOAD));

    expect((error as STSServiceException).name).toBe('AccessDenied');
    expect((error as Error).message).toContain(
      `not authorized to perform: sts:AssumeRole on resource: ${readerArn(WORKLOAD)}`,
    );
  });

  it('given a session handed out before the role was removed, when it calls ECS, then ECS denies it', async () => {
    const ecs = ecsThroughReader('eu-west-1');
    await ecs.send(new ListClustersCommand({}));
    org.deleteRole(WORKLOAD, READER);

    await expect(ecs.send(new ListClustersCommand({}))).rejects.toMatchObject({ name: 'AccessDeniedException' });
  });

  it("given the caller's own policy does not allow sts:AssumeRole on the role, when it assumes it, then STS answers AccessDenied", async () => {
    org.putRole(
      GUARD,
      GUARD_ROLE,
      { Statement: [] },
      {
        Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: readerArn(STRANGER) }],
      },
    );

    const error = await assumeError(stsAs(GUARD, GUARD_ROLE), readerArn(WORKLOAD));

    expect((error as STSServiceException).name).toBe('AccessDenied');
  });

  it("given the reader's read-only permissions, when its session calls an ECS action outside them, then ECS denies it", async () => {
    const ecs = ecsThroughReader('eu-west-1');

    await expect(ecs.send(new DeleteClusterCommand({ cluster: 'shop' }))).rejects.toMatchObject({
      name: 'AccessDeniedException',
    });
  });

  it('given session credentials past their expiration, when they are used, then the call is refused as expired', async () => {
    const assumed = await stsAs(GUARD, GUARD_ROLE).send(
      new AssumeRoleCommand({ RoleArn: readerArn(WORKLOAD), RoleSessionName: 'list', DurationSeconds: 900 }),
    );
    org.clock.advance(901_000);
    const ecs = new ECSClient({
      region: 'eu-west-1',
      maxAttempts: 1,
      requestHandler: org.requestHandler,
      credentials: {
        accessKeyId: assumed.Credentials!.AccessKeyId!,
        secretAccessKey: assumed.Credentials!.SecretAccessKey!,
        sessionToken: assumed.Credentials!.SessionToken!,
      },
    });

    await expect(ecs.send(new ListClustersCommand({}))).rejects.toMatchObject({ name: 'ExpiredTokenException' });
  });
});

describe('many simulated organizations in one process', () => {
  // Node 20 keeps every AsyncLocalStorage that ever ran in a list and visits each one at every promise created
  // afterwards (lib/async_hooks.js, `storageList`): one storage per organization made the long property run,
  // which builds an organization per run, slower with every run.
  it('given two organizations, when each answers a call, then both use the same async context storage', async () => {
    const storagesOf = async (organization: SimulatedOrganization): Promise<Set<unknown>> => {
      const used = new Set<unknown>();
      const run = AsyncLocalStorage.prototype.run;
      AsyncLocalStorage.prototype.run = function (this: AsyncLocalStorage<unknown>, ...args: Parameters<typeof run>) {
        used.add(this);
        return run.apply(this, args);
      } as typeof run;
      try {
        const ecs = new ECSClient(organization.clientConfig({ accountId: GUARD, region: 'eu-west-1', maxAttempts: 1 }));
        await ecs.send(new ListClustersCommand({}));
      } finally {
        AsyncLocalStorage.prototype.run = run;
      }
      return used;
    };
    const other = new SimulatedOrganization({ accounts: [{ accountId: GUARD, regions: ['eu-west-1'] }] });

    const first = await storagesOf(org);
    const second = await storagesOf(other);

    expect(first.size).toBeGreaterThan(0);
    expect(second.size).toBeGreaterThan(0);
    expect([...second].filter((storage) => !first.has(storage))).toHaveLength(0);
  });
});
