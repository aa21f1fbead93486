/**
 * The organization's shape of the workload stack: a service-managed StackSet, created by the guard stack, that
 * deploys the workload stack to every account of the given organizational units, in the workload regions, and to
 * every account that joins them later, without anyone running a command there.
 *
 * Its template is the workload stack itself (lib/workload-stack.ts), synthesized in a separate in-memory app with the
 * same context and deployment settings, so whatever that stack holds flows into the StackSet. Two limits follow:
 * - no assets: a member account has no CDK bootstrap bucket to fetch them from (and the StackSet needs none, which
 *   is why only the guard account is bootstrapped); synth fails naming the asset.
 * - at most 51,200 bytes of template: the most `TemplateBody` takes (the `TemplateURL` alternative would need an
 *   S3 bucket every member account can read); synth fails naming the size.
 *   See: https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_CreateStackSet.html
 *   See: https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html
 *
 * The resource's properties follow the AWS::CloudFormation::StackSet reference (CDK's `CfnStackSet`).
 * See: https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-cloudformation-stackset.html
 */
import { App, AssetStaging, DefaultStackSynthesizer, type Stack, type StackProps } from 'aws-cdk-lib';
import * as cloudformation from 'aws-cdk-lib/aws-cloudformation';
import { Construct } from 'constructs';
import type { WorkloadDeployment } from './config';
import { DigestGuardWorkloadStack, WORKLOAD_STACK_ID } from './workload-stack';

/** The most a StackSet's `TemplateBody` may hold (CreateStackSet / UpdateStackSet: 1 to 51,200 bytes). */
export const STACK_SET_TEMPLATE_BODY_LIMIT_BYTES = 51_200;

/** One StackSet per guard region, as there is one reader role per guard region in each account. */
export function workloadStackSetName(guardRegion: string): string {
  return `ecr-digest-guard-workload-${guardRegion}`;
}

/**
 * The template a stack built by `build` synthesizes to, as a StackSet's `TemplateBody`: compact JSON.
 * @throws Error when the stack has assets or the template is larger than `TemplateBody` takes
 */
export function stackSetTemplateBody(build: (app: App) => Stack, context: Record<string, unknown> = {}): string {
  const app = new App({ context, analyticsReporting: false });
  const stack = build(app);
  const assets = stack.node.findAll().filter((construct) => construct instanceof AssetStaging);
  if (assets.length > 0) {
    throw new Error(
      'the workload stack must have no assets to be deployed by the StackSet: member accounts have no CDK bootstrap ' +
        `bucket to fetch them from. Found: ${assets.map((asset) => asset.node.path).join(', ')}. Inline the code ` +
        '(e.g. lambda.Code.fromInline) or move that resource to the guard stack.',
    );
  }
  const template = app.synth().getStackArtifact(stack.artifactId).template as unknown;
  const body = JSON.stringify(template);
  const bytes = Buffer.byteLength(body, 'utf8');
  if (bytes > STACK_SET_TEMPLATE_BODY_LIMIT_BYTES) {
    throw new Error(
      `the workload template is ${bytes.toLocaleString('en-US')} bytes; a StackSet's TemplateBody takes at most ` +
        `${STACK_SET_TEMPLATE_BODY_LIMIT_BYTES.toLocaleString('en-US')} (CloudFormation CreateStackSet). Make the ` +
        'workload stack smaller (fewer regions in one template, shorter descriptions).',
    );
  }
  return body;
}

/**
 * The default synthesizer without its bootstrap version rule. Typed through `StackProps` because the CDK's own
 * declarations do not satisfy `exactOptionalPropertyTypes` (`bootstrapQualifier` getter vs. optional property).
 */
function withoutBootstrapCheck(): NonNullable<StackProps['synthesizer']> {
  return new DefaultStackSynthesizer({ generateBootstrapVersionRule: false }) as unknown as NonNullable<
    StackProps['synthesizer']
  >;
}

export interface WorkloadStackSetProps {
  /** where the guard runs, the workload regions, the organizational units and how the StackSet is called */
  readonly deployment: WorkloadDeployment & { readonly organizationUnits: readonly string[] };
}

export class WorkloadStackSet extends Construct {
  public readonly stackSet: cloudformation.CfnStackSet;

  constructor(scope: Construct, id: string, props: WorkloadStackSetProps) {
    super(scope, id);
    const { deployment } = props;
    const templateBody = stackSetTemplateBody(
      (app) =>
        new DigestGuardWorkloadStack(app, WORKLOAD_STACK_ID, {
          deployment,
          // The bootstrap version check reads an SSM parameter that only bootstrapped accounts have.
          synthesizer: withoutBootstrapCheck(),
        }),
      this.node.getAllContext(),
    );
    this.stackSet = new cloudformation.CfnStackSet(this, 'Resource', {
      stackSetName: workloadStackSetName(deployment.guardRegion),
      description: `ecr-digest-guard workload stack for the guard in ${deployment.guardAccount} ${deployment.guardRegion}`,
      // Service-managed: StackSets creates its own roles in each member account through the organization's trusted
      // access, so no administration or execution role has to exist there first.
      permissionModel: 'SERVICE_MANAGED',
      // SELF from the management account, DELEGATED_ADMIN from a registered delegated administrator (the usual
      // place of a registry account); CloudFormation refuses the other combinations.
      callAs: deployment.stackSetCallAs ?? 'DELEGATED_ADMIN',
      // The reader role has a fixed name.
      capabilities: ['CAPABILITY_NAMED_IAM'],
      // Joining accounts get the reader at once. An account that leaves the OUs loses it: the role trusts the guard
      // with reading that account, which it should no longer do; the guard stops listing it (discovery no longer
      // finds it), and whatever the index still holds for it costs only a protective tag, never a deletion.
      autoDeployment: { enabled: true, retainStacksOnAccountRemoval: false },
      // Operations that do not conflict run at once; an automatic deployment for a joining account that meets a
      // stack set update waits instead of failing.
      managedExecution: { Active: true },
      operationPreferences: {
        // One small template per region: all regions of an account at once.
        regionConcurrencyType: 'PARALLEL',
        // A quarter of the accounts at a time (CloudFormation rounds down, but to at least one account), and stop
        // when a tenth fail (rounded down, so the first failure stops a small organization's rollout).
        maxConcurrentPercentage: 25,
        failureTolerancePercentage: 10,
      },
      stackInstancesGroup: [
        {
          deploymentTargets: { organizationalUnitIds: [...deployment.organizationUnits] },
          regions: [...deployment.regions],
        },
      ],
      templateBody,
    });
  }
}
