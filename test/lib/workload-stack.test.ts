/**
 * Several accounts: the guard's reconcile role and the workload stack's reader role, as synthesized. The trust the
 * workload stack declares is also evaluated by the simulated organization's STS, so the role the guard uses is
 * admitted and no other is.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import type { CloudFormationStackArtifact } from 'aws-cdk-lib/cx-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configFromContext, type WorkloadDeployment } from '../../lib/config';
import { configureGuardApp, GUARD_STACK_ID } from '../../lib/digest-guard-stack';
import { inventoryReadStatements } from '../../lib/permissions';
import { DigestGuardWorkloadStack, WORKLOAD_STACK_ID } from '../../lib/workload-stack';
import { deployWorkloadStack } from '../../sim/guard-on-organization';
import { SimulatedOrganization } from '../../sim/organization';
import type { SimPolicyDocument } from '../../sim/sts';
import {
  actionsOf,
  iamPolicyStatements,
  problemsOf,
  resolveIntrinsics,
  SKIP_BUNDLING,
  synthesizeGuard,
} from '../support/cdk-app';

const GUARD = '111122223333';
const WORKLOAD_A = '444455556666';
const WORKLOAD_B = '777788889999';
const DEPLOYMENT: WorkloadDeployment = {
  guardAccount: GUARD,
  guardRegion: 'eu-west-1',
  accounts: [WORKLOAD_A, WORKLOAD_B],
  regions: ['eu-west-1', 'us-east-1'],
};
const outdirs: string[] = [];

afterAll(() => {
  for (const dir of outdirs) fs.rmSync(dir, { recursive: true, force: true });
});

describe('the guard with workload accounts', () => {
  let template: Template;
  let single: Template;

  beforeAll(() => {
    template = synthesizeGuard(
      { alertEmails: ['ops@example.com'], workloadAccounts: [WORKLOAD_A, WORKLOAD_B] },
      { bundle: false, stackId: 'Workloads' },
    ).template;
    single = synthesizeGuard({ alertEmails: ['ops@example.com'] }, { bundle: false, stackId: 'Single' }).template;
  });

  it('given workload accounts, when synthesized, then the reconcile role has the fixed name the readers trust', () => {
    template.hasResourceProperties('AWS::IAM::Role', {
      RoleName: 'ecr-digest-guard-reconcile-eu-west-1',
      Description: 'ECR digest guard scheduled reconcile function',
    });
  });

  it('given workload accounts, when synthesized, then the watch role has the fixed name the readers trust', () => {
    template.hasResourceProperties('AWS::IAM::Role', {
      RoleName: 'ecr-digest-guard-watch-eu-west-1',
      Description: 'ECR digest guard watch function',
    });
  });

  it('given workload accounts, when synthesized, then the reconcile and the watch may assume exactly their reader roles', () => {
    const assume = iamPolicyStatements(template).filter((s) => actionsOf(s).some((a) => a.startsWith('sts:')));

    // one statement in the reconcile role's policy, one in the watch role's; nothing else may assume anything
    expect(assume).toHaveLength(2);
    for (const statement of assume) {
      expect(actionsOf(statement)).toEqual(['sts:AssumeRole']);
      expect(resolveIntrinsics(statement.Resource)).toEqual([
        `arn:aws:iam::${WORKLOAD_A}:role/ecr-digest-guard-reader-eu-west-1`,
        `arn:aws:iam::${WORKLOAD_B}:role/ecr-digest-guard-reader-eu-west-1`,
      ]);
    }
    const policies = Object.values(template.findResources('AWS::IAM::Policy')) as {
      Properties: { Roles: unknown[]; PolicyDocument: { Statement: { Action: unknown }[] } };
    }[];
    const rolesThatAssume = policies
      .filter((p) => JSON.stringify(p.Properties.PolicyDocument).includes('sts:AssumeRole'))
      .map((p) => JSON.stringify(p.Properties.Roles));
    expect(rolesThatAssume.sort()).toEqual([
      expect.stringContaining('ReconcileRole'),
      expect.stringContaining('WatchRole'),
    ]);
  });

  it('given workload accounts, when synthesized, then the reconcile function is told which accounts to list', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ WORKLOAD_ACCOUNTS: `${WORKLOAD_A},${WORKLOAD_B}` }) },
    });
  });

  it('given no workload account, when synthesized, then nothing of it appears: no role name, no AssumeRole, no variable', () => {
    const text = JSON.stringify(single.toJSON());
    expect(text.match(/"RoleName"|ecr-digest-guard-reconcile|ecr-digest-guard-reader|WORKLOAD_/g)).toBeNull();
    expect(iamPolicyStatements(single).flatMap(actionsOf)).not.toContain('sts:AssumeRole');
  });

  it('given bad workload props, when the construct is built, then it names each, with the region it probably meant', () => {
    expect(problemsOf({ workloadAccounts: ['12345', WORKLOAD_A], workloadRegions: ['eu-west1', 'us-east-1'] })).toEqual(
      [
        'workloadAccounts: "12345" is not an AWS account id (12 digits)',
        'workloadRegions: "eu-west1" is not an AWS region; did you mean eu-west-1?',
      ],
    );
    expect(problemsOf({ workloadRegions: ['eu-west-1'] })).toEqual([
      'workloadRegions is set but workloadAccounts is not; name the accounts too',
    ]);
    expect(problemsOf({ workloadAccounts: [WORKLOAD_A], reconcile: false })).toEqual([
      'workloadAccounts is set but reconcile is false; other accounts are listed only by the scheduled reconcile',
    ]);
  });
});

describe('the workload stack', () => {
  let stack: Stack;
  let template: Template;

  beforeAll(() => {
    stack = new DigestGuardWorkloadStack(new App(), 'Workload', { deployment: DEPLOYMENT });
    template = Template.fromStack(stack);
  });

  it('creates the reader role, named after the guard region, trusting only the guard account narrowed to its reconcile and watch roles', () => {
    // The other role is the forwarder (test/lib/workload-forwarding.test.ts).
    template.resourceCountIs('AWS::IAM::Role', 2);
    const role = Object.values(
      template.findResources('AWS::IAM::Role', { Properties: { RoleName: Match.stringLikeRegexp('reader') } }),
    )[0] as { Properties: Record<string, unknown> };

    expect(role.Properties.RoleName).toBe('ecr-digest-guard-reader-eu-west-1');
    expect(resolveIntrinsics(role.Properties.AssumeRolePolicyDocument)).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Action: 'sts:AssumeRole',
          Principal: { AWS: `arn:aws:iam::${GUARD}:root` },
          Condition: {
            ArnEquals: {
              'aws:PrincipalArn': [
                `arn:aws:iam::${GUARD}:role/ecr-digest-guard-reconcile-eu-west-1`,
                `arn:aws:iam::${GUARD}:role/ecr-digest-guard-watch-eu-west-1`,
              ],
            },
          },
        },
      ],
    });
  });

  it("allows exactly the inventory's read calls, the same list the guard's own functions get, in each listed region", () => {
    const statements = iamPolicyStatements(template);
    const sameListElsewhere = inventoryReadStatements(new Stack()).map((s) => s.toJSON() as { Action: unknown });

    expect(statements.map((s) => s.Action)).toEqual(sameListElsewhere.map((s) => s.Action));
    expect(statements.flatMap(actionsOf).every((a) => /^(ecs|lambda):(List|Describe|Get)/.test(a))).toBe(true);
    const describeServices = statements.find((s) => s.Sid === 'DescribeWhatRunsInEcs')!;
    expect(JSON.stringify(describeServices.Resource)).toContain(':ecs:eu-west-1:');
    expect(JSON.stringify(describeServices.Resource)).toContain(':ecs:us-east-1:');
  });

  it('given the simulated workload stack the scenarios deploy, when compared with the synthesized one, then its reader has the same trust and actions', () => {
    // sim/guard-on-organization.ts writes the reader by hand (so the simulation does not synthesize CDK per test):
    // a read the stack gains or loses must show here, not only in AWS.
    const org = new SimulatedOrganization({
      accounts: [
        { accountId: GUARD, regions: ['eu-west-1'] },
        { accountId: WORKLOAD_A, regions: ['eu-west-1'] },
      ],
    });
    deployWorkloadStack(org, WORKLOAD_A, { accountId: GUARD, region: 'eu-west-1' });
    const simulated = org.role(WORKLOAD_A, 'ecr-digest-guard-reader-eu-west-1')!;
    const reader = Object.values(
      template.findResources('AWS::IAM::Role', { Properties: { RoleName: Match.stringLikeRegexp('reader') } }),
    )[0] as { Properties: Record<string, unknown> };
    const simulatedActions = [simulated.permissions!.Statement]
      .flat()
      .flatMap((s) => [s.Action ?? []].flat())
      .sort();

    expect(simulated.trustPolicy.Statement).toEqual(
      (resolveIntrinsics(reader.Properties.AssumeRolePolicyDocument) as SimPolicyDocument).Statement,
    );
    expect(simulatedActions).toEqual([...new Set(iamPolicyStatements(template).flatMap(actionsOf))].sort());
  });

  it('given the trust as synthesized, when the simulated STS evaluates it, then the reconcile and watch roles get in and no other role does', async () => {
    const { AssumeRoleCommand, STSClient } = await import('@aws-sdk/client-sts');
    const org = new SimulatedOrganization({
      accounts: [
        { accountId: GUARD, regions: ['eu-west-1'] },
        { accountId: WORKLOAD_A, regions: ['eu-west-1'] },
      ],
    });
    const role = Object.values(template.findResources('AWS::IAM::Role'))[0] as { Properties: Record<string, unknown> };
    org.putRole(
      WORKLOAD_A,
      'ecr-digest-guard-reader-eu-west-1',
      resolveIntrinsics(role.Properties.AssumeRolePolicyDocument) as SimPolicyDocument,
    );
    const assumeAs = (roleName: string) =>
      new STSClient(org.clientConfig({ accountId: GUARD, region: 'eu-west-1', roleName, maxAttempts: 1 })).send(
        new AssumeRoleCommand({
          RoleArn: `arn:aws:iam::${WORKLOAD_A}:role/ecr-digest-guard-reader-eu-west-1`,
          RoleSessionName: 'list',
        }),
      );

    await expect(assumeAs('ecr-digest-guard-reconcile-eu-west-1')).resolves.toMatchObject({
      AssumedRoleUser: { Arn: `arn:aws:sts::${WORKLOAD_A}:assumed-role/ecr-digest-guard-reader-eu-west-1/list` },
    });
    await expect(assumeAs('ecr-digest-guard-watch-eu-west-1')).resolves.toMatchObject({
      AssumedRoleUser: { Arn: `arn:aws:sts::${WORKLOAD_A}:assumed-role/ecr-digest-guard-reader-eu-west-1/list` },
    });
    await expect(assumeAs('ecr-digest-guard-push')).rejects.toMatchObject({ name: 'AccessDenied' });
  });
});

describe('bin/app.ts with workload accounts', () => {
  function synthesizeApp(context: Record<string, unknown>) {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'digest-guard-workloads-'));
    outdirs.push(outdir);
    const app = new App({ context: { ...context, ...SKIP_BUNDLING }, outdir });
    configureGuardApp(app);
    return app.synth();
  }
  const errorsOf = (stack: CloudFormationStackArtifact): string[] =>
    stack.messages.filter((m) => m.level === 'error').map((m) => String(m.entry.data));

  it('given workload context, when the app runs, then it has the guard pinned to the guard account and an environment-agnostic workload stack, cdk-nag passing', () => {
    const assembly = synthesizeApp({
      alertEmail: 'ops@example.com',
      workloadAccounts: `${WORKLOAD_A},${WORKLOAD_B}`,
      workloadRegions: 'eu-west-1,us-east-1',
      guardAccount: GUARD,
      guardRegion: 'eu-west-1',
    });
    const guard = assembly.getStackArtifact(GUARD_STACK_ID);
    const workload = assembly.getStackArtifact(WORKLOAD_STACK_ID);

    expect(guard.environment).toMatchObject({ account: GUARD, region: 'eu-west-1' });
    expect(workload.environment).toMatchObject({ account: 'unknown-account', region: 'unknown-region' });
    expect(errorsOf(guard)).toEqual([]);
    expect(errorsOf(workload)).toEqual([]);
    expect(JSON.stringify(workload.template)).toContain('ecr-digest-guard-reader-eu-west-1');
  });

  it('given workload context without an alert address, when the app runs, then only the guard stack carries the problem (a workload account deploys without it)', () => {
    const assembly = synthesizeApp({ workloadAccounts: WORKLOAD_A, guardAccount: GUARD, guardRegion: 'eu-west-1' });

    expect(errorsOf(assembly.getStackArtifact(GUARD_STACK_ID))).toHaveLength(1);
    expect(errorsOf(assembly.getStackArtifact(WORKLOAD_STACK_ID))).toEqual([]);
  });

  it('given no workload context, when the app runs, then there is only the guard stack, as before', () => {
    const assembly = synthesizeApp({ alertEmail: 'ops@example.com' });

    expect(assembly.stacks.map((s) => s.stackName)).toEqual([GUARD_STACK_ID]);
  });

  it('given workload accounts without the guard account and region, or with typos, when read, then every problem is named', () => {
    const read = (context: Record<string, string>) => {
      try {
        configFromContext((key) => context[key], { keys: Object.keys(context) });
        return [];
      } catch (error) {
        return (error as { problems: string[] }).problems;
      }
    };

    expect(read({ alertEmail: 'ops@example.com', workloadAccounts: WORKLOAD_A })).toEqual([
      'workloadAccounts needs guardAccount and guardRegion (the registry account and region the guard runs in): pass ' +
        '-c guardAccount=123456789012 -c guardRegion=eu-west-1, the same in every account that deploys the workload stack',
    ]);
    expect(
      read({
        alertEmail: 'ops@example.com',
        workloadAccount: WORKLOAD_A,
        workloadAccounts: `${WORKLOAD_A},1234`,
        workloadRegions: 'us-east1',
        guardAccount: '12',
        guardRegion: 'eu-wset-1',
      }),
    ).toEqual([
      'workloadAccount is not a setting of this app; did you mean workloadAccounts?',
      'guardAccount: "12" is not an AWS account id (12 digits)',
      'guardRegion: "eu-wset-1" is not an AWS region; did you mean eu-west-1?',
      'workloadAccounts: "1234" is not an AWS account id (12 digits)',
      'workloadRegions: "us-east1" is not an AWS region; did you mean us-east-1?',
    ]);
  });
});
