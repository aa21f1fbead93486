import { Stack, StackProps } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import { Construct } from 'constructs';
import type { DigestGuardConfig } from './config';
import { DigestGuard } from './digest-guard';

export type { DigestGuardConfig } from './config';

export interface DigestGuardStackProps extends StackProps {
  /** What to guard and whom to tell; see `configFromContext` for reading it from CDK context. */
  readonly config: DigestGuardConfig;
}

/** One guard per account and region. */
export class DigestGuardStack extends Stack {
  public readonly guard: DigestGuard;

  constructor(scope: Construct, id: string, props: DigestGuardStackProps) {
    super(scope, id, {
      description: 'ecr-digest-guard: keeps ECR image digests that workloads still run from being deleted',
      ...props,
    });
    const { config } = props;
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
      ...(config.releaseAfterDays !== undefined ? { releaseAfterDays: config.releaseAfterDays } : {}),
      ...(config.lifecycleCheck !== undefined ? { lifecycleCheck: config.lifecycleCheck } : {}),
      ...(config.installLifecycleShield !== undefined ? { installLifecycleShield: config.installLifecycleShield } : {}),
      ...(config.watchLifecycleExpiry !== undefined ? { watchLifecycleExpiry: config.watchLifecycleExpiry } : {}),
      ...(config.lookupPushers !== undefined ? { lookupPushers: config.lookupPushers } : {}),
    });
  }
}
