/**
 * The guard's scheduled reconcile wired to a simulated organization through the real SDK clients and adapters,
 * as the function wires it: in the registry (guard) account, as its reconcile role, listing the other workload
 * accounts through the reader role each workload stack creates (STS AssumeRole with the trust that stack
 * declares). Used by the multi-account scenario tests and the demo.
 */
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ECRClient } from '@aws-sdk/client-ecr';
import { ECSClient } from '@aws-sdk/client-ecs';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SNSClient } from '@aws-sdk/client-sns';
import type { ScheduledEvent } from 'aws-lambda';
import { EcrAdapter } from '../lambda/adapters/ecr';
import { DynamoDbInUseIndex, inUseIndexCreateTableInput } from '../lambda/adapters/in-use-index';
import { inventoryFor } from '../lambda/adapters/inventory';
import { SnsAlertAdapter } from '../lambda/adapters/sns';
import { workloadInventoryFor } from '../lambda/adapters/workload-inventory';
import type { GuardLogger } from '../lambda/core/ports';
import { guardReconcileRoleName, workloadReaderRoleName } from '../lambda/core/workloads';
import { runReconcile } from '../lambda/handlers/reconcile';
import type { SimulatedAccount } from './account';
import type { SimulatedOrganization } from './organization';
import type { SimPolicyDocument } from './sts';

export const GUARD_TOPIC_NAME = 'ecr-digest-guard-alerts';
export const IN_USE_INDEX_TABLE = 'ecr-digest-guard-in-use-index';

/** The ARN of the guard's alert topic in `guard` (created by `createGuardResources`). */
export function guardTopicArn(guard: SimulatedAccount): string {
  return `arn:aws:sns:${guard.region}:${guard.accountId}:${GUARD_TOPIC_NAME}`;
}

/**
 * What the guard stack creates in its account and region that the reconcile needs: the alert topic, the in-use
 * index table, and the reconcile role under the fixed name the readers trust.
 */
export async function createGuardResources(org: SimulatedOrganization, guard: SimulatedAccount): Promise<void> {
  guard.sns.createTopic(GUARD_TOPIC_NAME);
  if (!org.role(guard.accountId, guardReconcileRoleName(guard.region))) {
    org.putRole(guard.accountId, guardReconcileRoleName(guard.region), { Statement: [] });
  }
  const config = org.clientConfig({ accountId: guard.accountId, region: guard.region });
  await new DynamoDBClient(config).send(new CreateTableCommand(inUseIndexCreateTableInput(IN_USE_INDEX_TABLE)));
}

/**
 * The reader's trust and permissions as the workload stack declares them (test/lib/workload-stack.test.ts checks
 * the synthesized trust against the same STS): the guard account, narrowed to its reconcile role; read calls only.
 */
export function deployWorkloadStack(
  org: SimulatedOrganization,
  workloadAccount: string,
  guard: { readonly accountId: string; readonly region: string },
  /** actions a workload stack of an older release lacks, e.g. the daemon reads added later */
  options: { readonly withoutActions?: readonly string[] } = {},
): void {
  const trust: SimPolicyDocument = {
    Statement: [
      {
        Effect: 'Allow',
        Action: 'sts:AssumeRole',
        Principal: { AWS: `arn:aws:iam::${guard.accountId}:root` },
        Condition: {
          ArnEquals: {
            'aws:PrincipalArn': `arn:aws:iam::${guard.accountId}:role/${guardReconcileRoleName(guard.region)}`,
          },
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
          'ecs:ListDaemons',
          'ecs:DescribeDaemon',
          'ecs:DescribeDaemonRevisions',
          'lambda:ListFunctions',
          'lambda:GetFunction',
          'lambda:ListAliases',
        ].filter((action) => !options.withoutActions?.includes(action)),
        Resource: '*',
      },
    ],
  };
  org.putRole(workloadAccount, workloadReaderRoleName(guard.region), trust, readOnly);
}

/** The scheduled event EventBridge sends the reconcile, at the organization's current simulated time. */
export function scheduledEventOn(account: SimulatedAccount): ScheduledEvent {
  return {
    version: '0',
    id: `sim-${account.clock.now().getTime()}`,
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: account.accountId,
    // EventBridge writes whole seconds
    time: account.clock
      .now()
      .toISOString()
      .replace(/\.\d{3}Z$/, 'Z'),
    region: account.region,
    resources: [`arn:aws:events:${account.region}:${account.accountId}:rule/ecr-digest-guard-reconcile`],
    detail: {},
  };
}

export interface OrganizationReconcileOptions {
  readonly workloadAccounts: readonly string[];
  readonly workloadRegions?: readonly string[];
  readonly releaseAfterDays?: number;
  readonly logger?: GuardLogger;
}

/** One scheduled run of the guard in `guard`, wired as the function wires it, listing `workloadAccounts` too. */
export function reconcileOnOrganization(
  org: SimulatedOrganization,
  guard: SimulatedAccount,
  options: OrganizationReconcileOptions,
) {
  const roleName = guardReconcileRoleName(guard.region);
  const config = org.clientConfig({ accountId: guard.accountId, region: guard.region, roleName, maxAttempts: 2 });
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
      alerts: new SnsAlertAdapter(guardTopicArn(guard), new SNSClient(config)),
      inUseIndex: new DynamoDbInUseIndex(IN_USE_INDEX_TABLE, new DynamoDBClient(config)),
      logger: options.logger ?? { info: noop, warn: noop, error: noop },
      now: () => org.clock.now(),
      event: scheduledEventOn(guard),
    },
  );
}
