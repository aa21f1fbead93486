/**
 * The workload stack: what each workload account deploys so that a guard in the registry account can list what
 * it runs. Environment-agnostic (`npx cdk deploy EcrDigestGuardWorkload` with the workload account's
 * credentials, in any one region: the role is global, so deploy it once per account and guard region).
 *
 * The reader role trusts the guard's account, narrowed by `aws:PrincipalArn` to the guard's reconcile role,
 * rather than naming that role as the principal, for two reasons the IAM reference gives: a role named as a
 * principal must exist when the trust policy is saved (so no workload account could deploy before the guard),
 * and IAM stores it as the role's unique id, so a guard stack that is replaced (role deleted and recreated)
 * would silently break every trust. The condition compares the ARN on each request instead; the guard's role
 * name is fixed (`ecr-digest-guard-reconcile-<guardRegion>`) so the condition can name it exactly.
 * See: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html#principal-roles
 * See: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-principalarn
 */
import { Stack, type StackProps, Token, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import { guardReconcileRoleName, guardWatchRoleName, workloadReaderRoleName } from '../lambda/core/workloads';
import type { WorkloadDeployment } from './config';
import { inventoryReadStatements } from './permissions';

/** The id of the stack each workload account deploys. */
export const WORKLOAD_STACK_ID = 'EcrDigestGuardWorkload';

const DESCRIPTION = 'ecr-digest-guard workload: lets the guard in the registry account read what runs here';

export interface DigestGuardWorkloadStackProps extends StackProps {
  /** Where the guard runs (whom to trust) and which regions of this account it lists. */
  readonly deployment: WorkloadDeployment;
}

export class DigestGuardWorkloadStack extends Stack {
  /** Read-only: the ECS and Lambda calls of the in-use inventory, in the listed regions of this account. */
  public readonly readerRole: iam.Role;

  constructor(scope: Construct, id: string, props: DigestGuardWorkloadStackProps) {
    super(scope, id, { description: DESCRIPTION, ...props });
    const { guardAccount, guardRegion, regions } = props.deployment;
    const guardRoleArn = (name: string): string => `arn:${this.partition}:iam::${guardAccount}:role/${name}`;
    // The reconcile lists; the watch reads the one service or function a deployment event or Lambda call names.
    const guardRoleArns = [
      guardRoleArn(guardReconcileRoleName(guardRegion)),
      guardRoleArn(guardWatchRoleName(guardRegion)),
    ];
    this.readerRole = new iam.Role(this, 'ReaderRole', {
      roleName: workloadReaderRoleName(guardRegion),
      description: `Lets the ECR digest guard in ${guardAccount} ${guardRegion} list the ECS and Lambda workloads here`,
      assumedBy: new iam.AccountPrincipal(guardAccount).withConditions({
        ArnEquals: { 'aws:PrincipalArn': guardRoleArns },
      }),
    });
    for (const statement of inventoryReadStatements(this.readerRole, regions)) {
      this.readerRole.addToPrincipalPolicy(statement);
    }
    acknowledgeReaderWildcards(this.readerRole, regions);

    // Watch forwarding belongs here in a later release: EventBridge rules in each listed region that forward ECS
    // task, deployment and daemon events (and Lambda API calls) to the guard's event bus.
  }
}

/** cdk-nag findings of the reader's read-only wildcards, named as synthesized (the account is a token here). */
function acknowledgeReaderWildcards(role: iam.Role, regions: readonly string[]): void {
  const stack = Stack.of(role);
  const shown = (value: string, pseudo: string): string => (Token.isUnresolved(value) ? `<${pseudo}>` : value);
  const arnStart = (service: string, region: string): string =>
    `arn:${shown(stack.partition, 'AWS::Partition')}:${service}:${region}:${shown(stack.account, 'AWS::AccountId')}:`;
  const acknowledge = (finding: string, reason: string): void =>
    Validations.of(role).acknowledge({ id: `AwsSolutions-IAM5[${finding}]`, reason });
  acknowledge(
    'Resource::*',
    'ecs:ListClusters, ecs:ListServices, ecs:ListDaemons, ecs:DescribeTaskDefinition and lambda:ListFunctions have ' +
      'no resource type in the Service Authorization Reference; ecs:ListTasks must see Fargate tasks, which have no container ' +
      'instance. All are read-only, and only the guard reconcile role can assume this role.',
  );
  for (const region of regions) {
    for (const resource of ['service', 'task', 'service-revision', 'service-deployment', 'daemon', 'daemon-revision']) {
      acknowledge(
        `Resource::${arnStart('ecs', region)}${resource}/*`,
        `The guard's inventory must read every ECS ${resource} of this account in ${region}; read-only.`,
      );
    }
    acknowledge(
      `Resource::${arnStart('lambda', region)}function:*`,
      `Functions packaged as images pin a digest; the inventory reads every function in ${region}; read-only.`,
    );
  }
}
