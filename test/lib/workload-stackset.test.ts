/**
 * An AWS Organization: `-c organizationUnits=ou-…` makes the guard stack create a service-managed StackSet whose
 * template is the workload stack, so every account that joins those OUs gets the reader role without anyone running
 * a command; and the guard's reconcile discovers those accounts each run (organizations:ListChildren,
 * organizations:ListAccountsForParent).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, CfnResource, type Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import type { CloudFormationStackArtifact } from 'aws-cdk-lib/cx-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configFromContext, type WorkloadDeployment } from '../../lib/config';
import { configureGuardApp, GUARD_STACK_ID } from '../../lib/digest-guard-stack';
import { DigestGuardWorkloadStack, WORKLOAD_STACK_ID } from '../../lib/workload-stack';
import { STACK_SET_TEMPLATE_BODY_LIMIT_BYTES, stackSetTemplateBody } from '../../lib/workload-stackset';
import { actionsOf, iamPolicyStatements, problemsOf, resolveIntrinsics, SKIP_BUNDLING } from '../support/cdk-app';

const GUARD = '111122223333';
const OU_A = 'ou-ab12-cdef3456';
const OU_B = 'ou-ab12-99998888';
const outdirs: string[] = [];

afterAll(() => {
  for (const dir of outdirs) fs.rmSync(dir, { recursive: true, force: true });
});

function synthesizeApp(context: Record<string, unknown>) {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'digest-guard-stackset-'));
  outdirs.push(outdir);
  const app = new App({ context: { ...context, ...SKIP_BUNDLING }, outdir });
  configureGuardApp(app);
  return app.synth();
}

const errorsOf = (stack: CloudFormationStackArtifact): string[] =>
  stack.messages.filter((m) => m.level === 'error').map((m) => String(m.entry.data));

const ORGANIZATION_CONTEXT = {
  alertEmail: 'ops@example.com',
  organizationUnits: `${OU_A},${OU_B}`,
  workloadRegions: 'eu-west-1,us-east-1',
  guardAccount: GUARD,
  guardRegion: 'eu-west-1',
  organizationId: 'o-a1b2c3d4e5',
};

interface StackSetProperties {
  readonly StackSetName: string;
  readonly PermissionModel: string;
  readonly CallAs: string;
  readonly Capabilities: string[];
  readonly AutoDeployment: Record<string, unknown>;
  readonly ManagedExecution: Record<string, unknown>;
  readonly OperationPreferences: Record<string, unknown>;
  readonly StackInstancesGroup: { DeploymentTargets: Record<string, unknown>; Regions: string[] }[];
  readonly TemplateBody: string;
}

function stackSetOf(template: Record<string, unknown>): StackSetProperties {
  const resources = Object.values((template.Resources ?? {}) as Record<string, { Type: string; Properties: unknown }>);
  const stackSets = resources.filter((r) => r.Type === 'AWS::CloudFormation::StackSet');
  expect(stackSets).toHaveLength(1);
  return stackSets[0]!.Properties as StackSetProperties;
}

describe('the guard stack with organization units', () => {
  let guard: CloudFormationStackArtifact;
  let workload: CloudFormationStackArtifact;
  let stackSet: StackSetProperties;

  beforeAll(() => {
    const assembly = synthesizeApp(ORGANIZATION_CONTEXT);
    guard = assembly.getStackArtifact(GUARD_STACK_ID);
    workload = assembly.getStackArtifact(WORKLOAD_STACK_ID);
    stackSet = stackSetOf(guard.template as Record<string, unknown>);
  });

  it('given organizationUnits, when the app runs, then the guard stack has one service-managed StackSet with automatic deployment to those OUs in the workload regions, cdk-nag passing', () => {
    expect(errorsOf(guard)).toEqual([]);
    expect(stackSet).toMatchObject({
      StackSetName: 'ecr-digest-guard-workload-eu-west-1',
      PermissionModel: 'SERVICE_MANAGED',
      CallAs: 'DELEGATED_ADMIN',
      Capabilities: ['CAPABILITY_NAMED_IAM'],
      AutoDeployment: { Enabled: true, RetainStacksOnAccountRemoval: false },
      ManagedExecution: { Active: true },
      StackInstancesGroup: [
        { DeploymentTargets: { OrganizationalUnitIds: [OU_A, OU_B] }, Regions: ['eu-west-1', 'us-east-1'] },
      ],
    });
  });

  it('given organizationUnits, when the app runs, then the StackSet rolls out to all regions at once and a quarter of the accounts at a time, stopping when a tenth fail', () => {
    expect(stackSet.OperationPreferences).toEqual({
      RegionConcurrencyType: 'PARALLEL',
      MaxConcurrentPercentage: 25,
      FailureTolerancePercentage: 10,
    });
  });

  it('given organizationUnits, when the template body is parsed, then it is the workload stack as the app synthesizes it, without the bootstrap check member accounts could not pass', () => {
    const body = JSON.parse(stackSet.TemplateBody) as Record<string, unknown>;
    const standalone = workload.template as Record<string, unknown>;

    expect(body.Resources).toEqual(standalone.Resources);
    expect(body.Description).toEqual(standalone.Description);
    expect(body.Parameters).toBeUndefined();
    expect(body.Rules).toBeUndefined();
    expect(JSON.stringify(body)).not.toMatch(/BootstrapVersion|cdk-bootstrap|AWS::CDK::Metadata/);
  });

  it('given organizationUnits, when the template body is measured, then it fits the 51,200 bytes CloudFormation accepts in a TemplateBody', () => {
    expect(STACK_SET_TEMPLATE_BODY_LIMIT_BYTES).toBe(51_200);
    expect(Buffer.byteLength(stackSet.TemplateBody, 'utf8')).toBeLessThanOrEqual(STACK_SET_TEMPLATE_BODY_LIMIT_BYTES);
  });

  it('given stackSetCallAs=SELF (the guard runs in the management account), when the app runs, then the StackSet is created as SELF', () => {
    const assembly = synthesizeApp({ ...ORGANIZATION_CONTEXT, stackSetCallAs: 'SELF' });

    expect(stackSetOf(assembly.getStackArtifact(GUARD_STACK_ID).template).CallAs).toBe('SELF');
  });

  it('given organizationUnits, when the app runs, then the reconcile is told the OUs, is named as the readers trust, and may only read the OU tree and assume reader roles', () => {
    const template = Template.fromJSON(guard.template as Record<string, unknown>);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ ORGANIZATION_UNITS: `${OU_A},${OU_B}` }) },
    });
    template.hasResourceProperties('AWS::IAM::Role', { RoleName: 'ecr-digest-guard-reconcile-eu-west-1' });
    const organizations = iamPolicyStatements(template).filter((s) =>
      actionsOf(s).some((a) => a.startsWith('organizations:')),
    );
    expect(organizations).toHaveLength(1);
    expect(actionsOf(organizations[0]!)).toEqual(['organizations:ListAccountsForParent', 'organizations:ListChildren']);
    expect(organizations[0]!.Resource).toBe('*');
    const assume = iamPolicyStatements(template).filter((s) => actionsOf(s).includes('sts:AssumeRole'));
    // the reconcile's and the watch's: both read accounts known only at run time
    expect(assume.map((s) => resolveIntrinsics(s.Resource))).toEqual([
      'arn:aws:iam::*:role/ecr-digest-guard-reader-eu-west-1',
      'arn:aws:iam::*:role/ecr-digest-guard-reader-eu-west-1',
    ]);
  });

  it('given organizationUnits, when the app runs, then the guard bus admits the organization and the watch may read any account of it', () => {
    const template = Template.fromJSON(guard.template as Record<string, unknown>);
    // The StackSet's forwarding rules target this bus: without it their events would fail in the member accounts.
    template.hasResourceProperties('AWS::Events::EventBus', { Name: 'ecr-digest-guard-eu-west-1' });
    template.hasResourceProperties('AWS::Events::EventBusPolicy', {
      Statement: Match.objectLike({
        Principal: '*',
        Action: 'events:PutEvents',
        Condition: { StringEquals: { 'aws:PrincipalOrgID': 'o-a1b2c3d4e5' } },
      }),
    });
    template.hasResourceProperties('AWS::IAM::Role', { RoleName: 'ecr-digest-guard-watch-eu-west-1' });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('^Keeps the in-use index'),
      Environment: {
        Variables: Match.objectLike({ ORGANIZATION_UNITS: `${OU_A},${OU_B}`, WORKLOAD_REGIONS: 'eu-west-1,us-east-1' }),
      },
    });
  });
});

describe('the guard stack without organization units', () => {
  it('given workload accounts only, when the app runs, then there is no StackSet and no Organizations permission', () => {
    const assembly = synthesizeApp({
      alertEmail: 'ops@example.com',
      workloadAccounts: '444455556666',
      guardAccount: GUARD,
      guardRegion: 'eu-west-1',
    });
    const text = JSON.stringify(assembly.getStackArtifact(GUARD_STACK_ID).template);

    expect(text).not.toContain('AWS::CloudFormation::StackSet');
    expect(text).not.toContain('organizations:');
    expect(text).not.toContain('ORGANIZATION_UNITS');
  });

  it('given a single account (no setting), when the app runs, then there is no StackSet', () => {
    const assembly = synthesizeApp({ alertEmail: 'ops@example.com' });

    expect(JSON.stringify(assembly.getStackArtifact(GUARD_STACK_ID).template)).not.toContain('StackSet');
  });
});

describe('the StackSet template body', () => {
  const deployment: WorkloadDeployment = {
    guardAccount: GUARD,
    guardRegion: 'eu-west-1',
    accounts: [],
    regions: ['eu-west-1'],
  };

  it('given a workload stack with an asset, when its template body is made, then synth fails saying member accounts have no bootstrap bucket for it', () => {
    const withAsset = (app: App): Stack => {
      const stack = new DigestGuardWorkloadStack(app, WORKLOAD_STACK_ID, { deployment });
      new s3assets.Asset(stack, 'Code', { path: __filename });
      return stack;
    };

    expect(() => stackSetTemplateBody(withAsset)).toThrow(
      /the workload stack must have no assets to be deployed by the StackSet.*Code/s,
    );
  });

  it('given a workload stack larger than 51,200 bytes, when its template body is made, then synth fails naming the size and the limit', () => {
    const tooLarge = (app: App): Stack => {
      const stack = new DigestGuardWorkloadStack(app, WORKLOAD_STACK_ID, { deployment });
      for (let i = 0; i < 200; i += 1) {
        new CfnResource(stack, `Filler${i}`, {
          type: 'AWS::SSM::Parameter',
          properties: { Type: 'String', Value: 'x'.repeat(300) },
        });
      }
      return stack;
    };

    expect(() => stackSetTemplateBody(tooLarge)).toThrow(
      /the workload template is \d{2,3},\d{3} bytes; a StackSet's TemplateBody takes at most 51,200/,
    );
  });
});

describe('organizationUnits in the context', () => {
  const read = (context: Record<string, string>) => {
    try {
      configFromContext((key) => context[key], { keys: Object.keys(context) });
      return [];
    } catch (error) {
      return (error as { problems: string[] }).problems;
    }
  };

  it('given OU ids that do not match the Organizations id pattern or a bad stackSetCallAs, when read, then each is named', () => {
    expect(
      read({
        ...ORGANIZATION_CONTEXT,
        organizationUnits: `${OU_A},r-ab12,ou-AB12-cdef3456`,
        stackSetCallAs: 'ADMIN',
      }),
    ).toEqual([
      'stackSetCallAs must be SELF (the guard runs in the management account) or DELEGATED_ADMIN, got "ADMIN"',
      'organizationUnits: "r-ab12" is not an organizational unit id (ou-, 4 to 32 lowercase letters or digits, -, ' +
        '8 to 32 more)',
      'organizationUnits: "ou-AB12-cdef3456" is not an organizational unit id (ou-, 4 to 32 lowercase letters or ' +
        'digits, -, 8 to 32 more)',
    ]);
  });

  it('given organizationUnits without the organization id, when read, then it is asked for with where to find it', () => {
    const { organizationId: _, ...withoutId } = ORGANIZATION_CONTEXT;
    expect(read(withoutId)).toEqual([
      "organizationUnits needs organizationId (o-…, from `aws organizations describe-organization`): the guard's " +
        "event bus admits the organization's accounts by aws:PrincipalOrgID so that the workload stacks the StackSet " +
        'deploys can forward their events',
    ]);
  });

  it('given organizationUnits without the guard account and region, when read, then both are asked for', () => {
    expect(read({ alertEmail: 'ops@example.com', organizationUnits: OU_A, organizationId: 'o-a1b2c3d4e5' })).toEqual([
      'organizationUnits needs guardAccount and guardRegion (the registry account and region the guard runs in): pass ' +
        '-c guardAccount=123456789012 -c guardRegion=eu-west-1, the same in every account that deploys the workload stack',
    ]);
  });

  it('given workloadRegions with organizationUnits and no workloadAccounts, when read, then it is accepted', () => {
    expect(read(ORGANIZATION_CONTEXT)).toEqual([]);
  });

  it('given stackSetCallAs without organizationUnits, when read, then it is refused', () => {
    expect(read({ alertEmail: 'ops@example.com', stackSetCallAs: 'SELF' })).toEqual([
      'stackSetCallAs is set but organizationUnits is not; drop it or name the organizational units',
    ]);
  });

  it('given bad organizationUnits props, when the construct is built, then they are named', () => {
    expect(problemsOf({ organizationUnits: ['ou-1'] })).toEqual([
      'organizationUnits: "ou-1" is not an organizational unit id (ou-, 4 to 32 lowercase letters or digits, -, ' +
        '8 to 32 more)',
    ]);
    expect(problemsOf({ organizationUnits: [OU_A], reconcile: false })).toEqual([
      'organizationUnits is set but reconcile is false; the accounts of organizational units are listed only by ' +
        'the scheduled reconcile',
    ]);
  });
});
