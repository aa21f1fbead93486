import { Annotations, type App, CfnOutput, Duration, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { Construct } from 'constructs';
import {
  ConfigError,
  configFromContext,
  type DigestGuardConfig,
  type WorkloadDeployment,
  workloadDeploymentFromContext,
} from './config';
import { dashboardUrl } from './dashboard';
import { DigestGuard } from './digest-guard';
import { DigestGuardWorkloadStack, WORKLOAD_STACK_ID } from './workload-stack';
import { WorkloadStackSet } from './workload-stackset';

const DESCRIPTION = 'ecr-digest-guard: keeps ECR image digests that workloads still run from being deleted';

/** The id of the stack the app deploys (`npx cdk destroy EcrDigestGuard`). */
export const GUARD_STACK_ID = 'EcrDigestGuard';

export type { DigestGuardConfig } from './config';

export interface DigestGuardStackProps extends StackProps {
  /** What to guard and whom to tell; see `configFromContext` for reading it from CDK context. */
  readonly config: DigestGuardConfig;
}

/** One guard per account and region. */
export class DigestGuardStack extends Stack {
  public readonly guard: DigestGuard;
  /** Deploys the workload stack to the accounts of `organizationUnits`; undefined without them. */
  public readonly workloadStackSet?: WorkloadStackSet;
  private readonly config: DigestGuardConfig;

  constructor(scope: Construct, id: string, props: DigestGuardStackProps) {
    super(scope, id, { description: DESCRIPTION, ...props });
    const { config } = props;
    this.config = config;
    this.guard = new DigestGuard(this, 'Guard', {
      alertEmails: [...config.alertEmails],
      // An empty list in the config means every repository, which the construct expresses by leaving it out.
      ...(config.repositories.length > 0 ? { repositories: [...config.repositories] } : {}),
      dryRun: config.dryRun,
      ...(config.tagPrefix !== undefined ? { tagPrefix: config.tagPrefix } : {}),
      ...(config.reconcile !== undefined ? { reconcile: config.reconcile } : {}),
      ...(config.reconcileSchedule !== undefined
        ? { reconcileSchedule: events.Schedule.expression(config.reconcileSchedule) }
        : {}),
      ...(config.listBoundMinutes !== undefined ? { listBound: Duration.minutes(config.listBoundMinutes) } : {}),
      ...(config.releaseAfterDays !== undefined ? { releaseAfterDays: config.releaseAfterDays } : {}),
      ...(config.lifecycleCheck !== undefined ? { lifecycleCheck: config.lifecycleCheck } : {}),
      ...(config.installLifecycleShield !== undefined ? { installLifecycleShield: config.installLifecycleShield } : {}),
      ...(config.watchLifecycleExpiry !== undefined ? { watchLifecycleExpiry: config.watchLifecycleExpiry } : {}),
      ...(config.pushReadsIndex !== undefined ? { pushReadsIndex: config.pushReadsIndex } : {}),
      ...(config.lookupPushers !== undefined ? { lookupPushers: config.lookupPushers } : {}),
      ...(config.chat !== undefined ? { chat: config.chat } : {}),
      ...(config.dashboard !== undefined ? { dashboard: config.dashboard } : {}),
      ...(config.workloads ? { workloadRegions: [...config.workloads.regions] } : {}),
      // With organizational units only, no account is named (discovery finds them): an empty list would be refused.
      ...(config.workloads?.accounts.length ? { workloadAccounts: [...config.workloads.accounts] } : {}),
      ...(config.workloads?.organizationUnits ? { organizationUnits: [...config.workloads.organizationUnits] } : {}),
      ...(config.workloads?.organizationId ? { workloadOrganizationId: config.workloads.organizationId } : {}),
    });
    const organizationUnits = config.workloads?.organizationUnits;
    if (config.workloads && organizationUnits) {
      this.workloadStackSet = new WorkloadStackSet(this, 'WorkloadStackSet', {
        deployment: { ...config.workloads, organizationUnits },
      });
    }
    this.addOperatorOutputs();
  }

  /**
   * What an operator (or a script) looks up after a deploy: where alerts go, which queues to watch or redrive,
   * which prefix the protective tags carry and whether the guard only reports (`aws cloudformation
   * describe-stacks --stack-name EcrDigestGuard --query 'Stacks[0].Outputs'`).
   */
  private addOperatorOutputs(): void {
    const { guard } = this;
    const output = (id: string, value: string, description: string) => new CfnOutput(this, id, { value, description });
    output('AlertTopicArn', guard.topic.topicArn, 'SNS topic the guard and its alarms publish to');
    output('BufferQueueName', guard.queue.queueName, 'SQS queue that buffers ECR events for the push function');
    output('DeadLetterQueueName', guard.deadLetterQueue.queueName, 'Events the push function could not handle');
    output('PushFunctionName', guard.function.functionName, 'The push function (its log group holds every alert)');
    if (guard.reconcileFunction) {
      output('ReconcileFunctionName', guard.reconcileFunction.functionName, 'The scheduled reconcile function');
    }
    if (guard.reconcileDeadLetterQueue) {
      output(
        'ReconcileDeadLetterQueueName',
        guard.reconcileDeadLetterQueue.queueName,
        'Reconcile runs that failed after their retries',
      );
    }
    output(
      'InUseIndexTableName',
      guard.inUseIndex.tableName,
      'DynamoDB table of the image digests in use and their users',
    );
    if (guard.watchQueue && guard.watchFunction) {
      output('WatchQueueName', guard.watchQueue.queueName, 'SQS queue that buffers ECS task events for the watch');
      output('WatchFunctionName', guard.watchFunction.functionName, 'The watch function that keeps the in-use index');
    }
    output('TagPrefix', guard.tagPrefix, 'Protective tags are <TagPrefix>-sha256-<64 hex>');
    output('DryRun', String(this.config.dryRun), 'true: the guard only reports, it tags nothing');
    if (guard.dashboard) {
      output('DashboardName', guard.dashboard.dashboardName, 'CloudWatch dashboard of what the guard did');
      output('DashboardUrl', dashboardUrl(guard.dashboard), 'The dashboard in the CloudWatch console');
    }
  }
}

/**
 * The guard stack as the CLI runs the app: configured from CDK context, or, when the context has problems, a
 * stack of the same name that carries each problem as an error annotation and nothing else.
 *
 * Why not throw: the CLI fails `cdk synth`, `deploy` and `diff` on error annotations of the stacks they
 * select, but `cdk destroy` and `cdk ls` select stacks without that check (aws-cdk 2.1148: the toolkit's
 * `_destroy` and `list` call `selectStacks` and never `validateStacks`). So `npx cdk destroy` works without
 * `-c alertEmail`, while a deploy with a bad configuration still stops before touching AWS. Should someone
 * deploy it anyway (`--ignore-errors`), the template has no resources, which CloudFormation refuses.
 */
export function guardStackFromContext(app: App, id: string, props: StackProps = {}): Stack {
  try {
    const config = configFromContext((key) => app.node.tryGetContext(key), {
      keys: Object.keys(app.node.getAllContext()),
    });
    return new DigestGuardStack(app, id, { ...props, config });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    const stack = new Stack(app, id, { description: DESCRIPTION, ...props, analyticsReporting: false });
    for (const problem of error.problems) {
      Annotations.of(stack).addError(`Invalid ecr-digest-guard configuration: ${problem}`);
    }
    Validations.of(stack).acknowledge({
      id: 'CloudFormation-Validate::F0001',
      reason:
        'This empty stack only stands in for the guard while the configuration has problems, so that cdk destroy ' +
        'and cdk ls work; its error annotations stop synth and deploy, and CloudFormation refuses an empty template.',
    });
    return stack;
  }
}

/**
 * The workload stack, when the context names workload accounts: environment-agnostic, since each workload account
 * deploys the same template with its own credentials. Its problems (only the workload keys: a workload account's
 * operator need not know the guard's alert settings) become error annotations like the guard stack's.
 */
function workloadStackFromContext(app: App): WorkloadDeployment | undefined {
  try {
    const deployment = workloadDeploymentFromContext((key) => app.node.tryGetContext(key));
    if (deployment) new DigestGuardWorkloadStack(app, WORKLOAD_STACK_ID, { deployment });
    return deployment;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    // The guard stack reports the same problems (its configuration reads the same keys): no second stack.
    return undefined;
  }
}

/**
 * What the CDK app (bin/app.ts) builds, callable in process: the guard stack from the app's context, in the
 * account and region of the current credentials, with cdk-nag registered so that every finding fails the synth.
 */
export function configureGuardApp(app: App): Stack {
  // Configuration problems become error annotations on the stack rather than an exception, so that
  // `cdk destroy` and `cdk ls` need no configuration while `cdk synth` and `cdk deploy` list every problem.
  const deployment = workloadStackFromContext(app);
  const { CDK_DEFAULT_ACCOUNT: account, CDK_DEFAULT_REGION: region } = process.env;
  const stack = guardStackFromContext(app, GUARD_STACK_ID, {
    // With workload accounts the guard must run where their readers' trust says: pinning the stack's environment
    // makes the CLI refuse a deploy with another account's credentials instead of creating a guard nobody trusts.
    // Without credentials the CLI sets neither: the stack is then environment-agnostic.
    env: deployment
      ? { account: deployment.guardAccount, region: deployment.guardRegion }
      : { ...(account ? { account } : {}), ...(region ? { region } : {}) },
  });
  // Every finding fails the synth; each accepted one is acknowledged, with its reason, where it arises.
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return stack;
}
