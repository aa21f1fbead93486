/**
 * The workload stack: what each workload account deploys so that a guard in the registry account can list what
 * it runs and watch it change. Environment-agnostic (`npx cdk deploy EcrDigestGuardWorkload` with the workload
 * account's credentials), deployed in every workload region of the account, one template for all (a StackSet can
 * deploy it too):
 * - in the account's home region only (`forwardingHomeRegion`: the guard's region if it is a workload region, else
 *   the first workload region; a CloudFormation condition on `AWS::Region`), the global IAM roles: the reader and
 *   the forwarder. Deploy the home region first: the other regions' rules name the forwarder by ARN;
 * - in every region, rules on the default bus forwarding ECS task, deployment and daemon events, start-impaired
 *   service and daemon actions, and Lambda's image-changing API calls to the guard's bus
 *   (`ecr-digest-guard-<guardRegion>` in the guard account), except in the guard's own account and region, whose
 *   default bus the guard's watch reads directly.
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
import { Aws, CfnCondition, Fn, Stack, type StackProps, Token, Validations } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import {
  forwardingHomeRegion,
  guardEventBusArn,
  guardReconcileRoleName,
  guardWatchRoleName,
  workloadForwarderRoleName,
  workloadReaderRoleName,
} from '../lambda/core/workloads';
import type { WorkloadDeployment } from './config';
import { buildForwardingEventPatterns } from './event-pattern';
import { inventoryReadStatements } from './permissions';

/** The id of the stack each workload account deploys. */
export const WORKLOAD_STACK_ID = 'EcrDigestGuardWorkload';

const DESCRIPTION =
  'ecr-digest-guard workload: lets the guard in the registry account read what runs here and forwards its ECS events';

export interface DigestGuardWorkloadStackProps extends StackProps {
  /** Where the guard runs (whom to trust) and which regions of this account it lists. */
  readonly deployment: WorkloadDeployment;
}

export class DigestGuardWorkloadStack extends Stack {
  /** Read-only: the ECS and Lambda calls of the in-use inventory, in the listed regions of this account. */
  public readonly readerRole: iam.Role;
  /** EventBridge puts the forwarded events on the guard's bus as this role (`events:PutEvents` on that bus only). */
  public readonly forwarderRole: iam.Role;
  /** The default-bus rules that forward ECS (and Lambda API call) events to the guard's bus. */
  public readonly forwardingRules: readonly events.CfnRule[];

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

    // IAM is global and this template is deployed in every workload region: the roles only in the home region.
    const homeRegion = new CfnCondition(this, 'IsHomeRegion', {
      expression: Fn.conditionEquals(Aws.REGION, forwardingHomeRegion(guardRegion, regions)),
    });
    const busArn = guardEventBusArn(this.partition, guardAccount, guardRegion);
    this.forwarderRole = new iam.Role(this, 'ForwarderRole', {
      roleName: workloadForwarderRoleName(guardRegion),
      description: `Lets EventBridge forward ECS events to the ECR digest guard's bus in ${guardAccount} ${guardRegion}`,
      // Only this account's rules may use it (confused-deputy prevention; for a rule whose target is an event bus,
      // aws:SourceArn is the rule's ARN). Every region's rules share this one role, so the region is a wildcard.
      // See: https://docs.aws.amazon.com/eventbridge/latest/userguide/cross-service-confused-deputy-prevention.html
      assumedBy: new iam.ServicePrincipal('events.amazonaws.com').withConditions({
        StringEquals: { 'aws:SourceAccount': this.account },
        ArnLike: { 'aws:SourceArn': `arn:${this.partition}:events:*:${this.account}:rule/*` },
      }),
      inlinePolicies: {
        PutEventsOnGuardBus: new iam.PolicyDocument({
          statements: [new iam.PolicyStatement({ actions: ['events:PutEvents'], resources: [busArn] })],
        }),
      },
    });
    for (const role of [this.readerRole, this.forwarderRole]) {
      for (const child of role.node.findAll()) {
        if (child instanceof iam.CfnRole || child instanceof iam.CfnPolicy) child.cfnOptions.condition = homeRegion;
      }
    }

    // The guard's own account and region reach the watch on its default bus already: forwarding them too would
    // only send every event twice.
    const forwards = new CfnCondition(this, 'ForwardsToGuard', {
      expression: Fn.conditionNot(
        Fn.conditionAnd(Fn.conditionEquals(Aws.ACCOUNT_ID, guardAccount), Fn.conditionEquals(Aws.REGION, guardRegion)),
      ),
    });
    // By ARN rather than a reference: outside the home region the role is not in this stack, yet exists.
    const forwarderRoleArn = `arn:${this.partition}:iam::${this.account}:role/${workloadForwarderRoleName(guardRegion)}`;
    this.forwardingRules = buildForwardingEventPatterns().map((spec) => {
      const rule = new events.CfnRule(this, `Forward${spec.id}`, {
        description: spec.description,
        state: 'ENABLED',
        eventPattern: spec.pattern,
        targets: [{ id: 'GuardEventBus', arn: busArn, roleArn: forwarderRoleArn }],
      });
      rule.cfnOptions.condition = forwards;
      return rule;
    });
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
