/**
 * Contract: STS AssumeRole into another account's reader role, and what the credentials then see, on moto_server
 * and on the simulated organization, one script on both and the outcomes compared. moto 5.2.1 answers AssumeRole
 * with credentials whose later calls act in the role's account (its multi-account support), and stores the trust
 * document the workload stack synthesizes as given; it does not evaluate trust (moto enforces no IAM unless told
 * to), so who may assume the role is pinned against the IAM and STS references in test/sim/organization.test.ts
 * and test/lib/workload-stack.test.ts instead.
 * See: https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html
 */
import { CreateClusterCommand, ECSClient, type ECSClientConfig, ListClustersCommand } from '@aws-sdk/client-ecs';
import { CreateRoleCommand, GetRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient, type STSClientConfig } from '@aws-sdk/client-sts';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { guardReconcileRoleName, workloadReaderRoleName } from '../../lambda/core/workloads';
import { DigestGuardWorkloadStack } from '../../lib/workload-stack';
import { SimulatedOrganization } from '../../sim/organization';
import type { SimPolicyDocument } from '../../sim/sts';
import { resolveIntrinsics } from '../support/cdk-app';
import { MOTO_ACCOUNT_ID, MOTO_REGION, shouldSkipMotoTests, useMotoServer } from '../support/moto';

const GUARD = MOTO_ACCOUNT_ID;
const WORKLOAD = '222222222222';
const READER = workloadReaderRoleName(MOTO_REGION);
const READER_ARN = `arn:aws:iam::${WORKLOAD}:role/${READER}`;

let trust: SimPolicyDocument;

beforeAll(() => {
  const stack = new DigestGuardWorkloadStack(new App(), 'Workload', {
    deployment: { guardAccount: GUARD, guardRegion: MOTO_REGION, accounts: [WORKLOAD], regions: [MOTO_REGION] },
  });
  const role = Object.values(Template.fromStack(stack).findResources('AWS::IAM::Role'))[0] as {
    Properties: { AssumeRolePolicyDocument: unknown };
  };
  trust = resolveIntrinsics(role.Properties.AssumeRolePolicyDocument) as SimPolicyDocument;
});

/** What both backends hand out: a region, credentials, and how to reach the backend. */
type Config = STSClientConfig & ECSClientConfig;

/** The script: assume the reader as the guard, then read ECS as the guard and as the reader. */
async function script(guard: Config): Promise<unknown[]> {
  const assumed = await new STSClient(guard).send(
    new AssumeRoleCommand({ RoleArn: READER_ARN, RoleSessionName: 'ecr-digest-guard-list', DurationSeconds: 900 }),
  );
  const reader: Config = {
    ...guard,
    credentials: {
      accessKeyId: assumed.Credentials!.AccessKeyId!,
      secretAccessKey: assumed.Credentials!.SecretAccessKey!,
      sessionToken: assumed.Credentials!.SessionToken!,
    },
  };
  return [
    assumed.AssumedRoleUser?.Arn,
    (await new STSClient(reader).send(new GetCallerIdentityCommand({}))).Account,
    (await new ECSClient(reader).send(new ListClustersCommand({}))).clusterArns,
    (await new ECSClient(guard).send(new ListClustersCommand({}))).clusterArns,
  ];
}

const EXPECTED = [
  `arn:aws:sts::${WORKLOAD}:assumed-role/${READER}/ecr-digest-guard-list`,
  WORKLOAD,
  [`arn:aws:ecs:${MOTO_REGION}:${WORKLOAD}:cluster/shop`],
  [`arn:aws:ecs:${MOTO_REGION}:${GUARD}:cluster/registry-tools`],
];

describe('the reader role on the simulated organization', () => {
  it('given the synthesized trust, when the guard reconcile role assumes the reader, then its calls see only the workload account', async () => {
    const org = new SimulatedOrganization({
      accounts: [
        { accountId: GUARD, regions: [MOTO_REGION] },
        { accountId: WORKLOAD, regions: [MOTO_REGION] },
      ],
    });
    org.putRole(WORKLOAD, READER, trust);
    org.account(WORKLOAD, MOTO_REGION).ecs.createCluster('shop');
    org.account(GUARD, MOTO_REGION).ecs.createCluster('registry-tools');
    const guard = org.clientConfig({
      accountId: GUARD,
      region: MOTO_REGION,
      roleName: guardReconcileRoleName(MOTO_REGION),
      maxAttempts: 1,
    });

    expect(await script(guard)).toEqual(EXPECTED);
  });
});

describe.skipIf(shouldSkipMotoTests())('the reader role against moto_server', () => {
  const moto = useMotoServer();

  it('given the synthesized trust stored in the workload account, when the guard assumes the reader, then moto agrees with the simulation', async () => {
    await moto().reset();
    const guard = moto().clientConfig;
    // Setting up the workload account needs credentials in it; moto hands them out for any role ARN there.
    const admin = await new STSClient(guard).send(
      new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${WORKLOAD}:role/setup`, RoleSessionName: 'setup' }),
    );
    const inWorkload = {
      ...guard,
      credentials: {
        accessKeyId: admin.Credentials!.AccessKeyId!,
        secretAccessKey: admin.Credentials!.SecretAccessKey!,
        sessionToken: admin.Credentials!.SessionToken!,
      },
    };
    await new IAMClient(inWorkload).send(
      new CreateRoleCommand({ RoleName: READER, AssumeRolePolicyDocument: JSON.stringify(trust) }),
    );
    const stored = await new IAMClient(inWorkload).send(new GetRoleCommand({ RoleName: READER }));
    await new ECSClient(inWorkload).send(new CreateClusterCommand({ clusterName: 'shop' }));
    await new ECSClient(guard).send(new CreateClusterCommand({ clusterName: 'registry-tools' }));

    // IAM returns the document URL-encoded. See: https://docs.aws.amazon.com/IAM/latest/APIReference/API_Role.html
    expect(JSON.parse(decodeURIComponent(stored.Role!.AssumeRolePolicyDocument!))).toEqual(trust);
    expect(await script(guard)).toEqual(EXPECTED);
  });
});
