/**
 * The guard's scheduled reconcile wired to a simulated organization through the real SDK clients and adapters,
 * as the function wires it: in the registry (guard) account, as its reconcile role, listing the other workload
 * accounts through the reader role each workload stack creates (STS AssumeRole with the trust that stack
 * declares). The watch the same way, as its watch role. Used by the multi-account scenario tests and the demo.
 */
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ECRClient } from '@aws-sdk/client-ecr';
import { ECSClient } from '@aws-sdk/client-ecs';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { OrganizationsClient } from '@aws-sdk/client-organizations';
import { SNSClient } from '@aws-sdk/client-sns';
import type { ScheduledEvent, SQSRecord } from 'aws-lambda';
import { EcrAdapter } from '../lambda/adapters/ecr';
import { DynamoDbInUseIndex, inUseIndexCreateTableInput } from '../lambda/adapters/in-use-index';
import { inventoryFor } from '../lambda/adapters/inventory';
import { OrganizationsAdapter } from '../lambda/adapters/organizations';
import { SnsAlertAdapter } from '../lambda/adapters/sns';
import { watchReadersFor, workloadInventoryFor } from '../lambda/adapters/workload-inventory';
import type { GuardLogger, GuardMetrics } from '../lambda/core/ports';
import { watchTaskEvents } from '../lambda/core/watch';
import {
  guardReconcileRoleName,
  guardWatchRoleName,
  workloadReaderRoleName,
  workloadsToList,
} from '../lambda/core/workloads';
import { runCatchUp, runReconcile } from '../lambda/handlers/reconcile';
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
  for (const roleName of [guardReconcileRoleName(guard.region), guardWatchRoleName(guard.region)]) {
    if (!org.role(guard.accountId, roleName)) org.putRole(guard.accountId, roleName, { Statement: [] });
  }
  const config = org.clientConfig({ accountId: guard.accountId, region: guard.region });
  await new DynamoDBClient(config).send(new CreateTableCommand(inUseIndexCreateTableInput(IN_USE_INDEX_TABLE)));
}

/**
 * The reader's trust and permissions as the workload stack declares them (test/lib/workload-stack.test.ts checks
 * the synthesized trust against the same STS): the guard account, narrowed to its reconcile and watch roles; read
 * calls only.
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
            'aws:PrincipalArn': [guardReconcileRoleName(guard.region), guardWatchRoleName(guard.region)].map(
              (name) => `arn:aws:iam::${guard.accountId}:role/${name}`,
            ),
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

/**
 * One stack instance of the workload StackSet in `account`, as the StackSet's automatic deployment creates it when
 * the account joins a target OU: the reader role of the synthesized template body, its trust resolved as
 * CloudFormation would in the `aws` partition (the guard account is a literal there), its actions as the template's
 * policies name them (the simulation checks actions, not resources).
 */
export function deployWorkloadTemplate(org: SimulatedOrganization, account: string, templateBody: string): void {
  const template = JSON.parse(templateBody) as { Resources: Record<string, { Type: string; Properties: any }> };
  const resources = Object.entries(template.Resources);
  // The reader role (the forwarder role beside it is EventBridge's, not the guard's to assume).
  const roles = resources.filter(
    ([, r]) => r.Type === 'AWS::IAM::Role' && String(r.Properties.RoleName).startsWith('ecr-digest-guard-reader-'),
  );
  if (roles.length !== 1) throw new Error(`the workload template has ${roles.length} reader roles; expected one`);
  const [roleId, role] = roles[0]!;
  const actions = resources
    .filter(([, r]) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties.Roles) === `[{"Ref":"${roleId}"}]`)
    .flatMap(([, r]) => (r.Properties.PolicyDocument.Statement as { Action: string | string[] }[]).map((s) => s.Action))
    .flat();
  org.putRole(
    account,
    role.Properties.RoleName as string,
    resolvePartition(role.Properties.AssumeRolePolicyDocument) as SimPolicyDocument,
    { Statement: [{ Effect: 'Allow', Action: actions, Resource: '*' }] },
  );
}

/** `{Ref: AWS::Partition}` as `aws` and `Fn::Join` joined; any other intrinsic is refused. */
function resolvePartition(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(resolvePartition);
  if (value === null || typeof value !== 'object') return value;
  const record = value as Record<string, unknown>;
  if (record.Ref === 'AWS::Partition') return 'aws';
  if ('Fn::Join' in record) {
    const [separator, parts] = record['Fn::Join'] as [string, unknown[]];
    return parts.map((part) => resolvePartition(part)).join(separator);
  }
  if (Object.keys(record).some((key) => key === 'Ref' || key.startsWith('Fn::'))) {
    throw new Error(`unresolvable intrinsic in the workload template: ${JSON.stringify(record)}`);
  }
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, resolvePartition(v)]));
}

export interface OrganizationReconcileOptions {
  readonly workloadAccounts: readonly string[];
  /** organizational units whose accounts the run discovers (the guard account must be allowed to read them) */
  readonly organizationUnits?: readonly string[];
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
  const { settings, deps } = reconcileWiring(org, guard, options);
  return runReconcile(settings, { ...deps, event: scheduledEventOn(guard) });
}

/**
 * One catch-up of the guard in `guard` (the 15-minute rule's event: the scheduled event's account, region and time
 * and `catchUp: true`), wired as the function wires it; `listBoundMinutes` as the construct sets it.
 */
export function catchUpOnOrganization(
  org: SimulatedOrganization,
  guard: SimulatedAccount,
  options: OrganizationReconcileOptions & { readonly listBoundMinutes: number },
) {
  const { settings, deps } = reconcileWiring(org, guard, options);
  const { account, region, time } = scheduledEventOn(guard);
  return runCatchUp(
    { ...settings, listBoundMinutes: options.listBoundMinutes },
    { ...deps, event: { account, region, time, catchUp: true } },
  );
}

function reconcileWiring(org: SimulatedOrganization, guard: SimulatedAccount, options: OrganizationReconcileOptions) {
  const roleName = guardReconcileRoleName(guard.region);
  const config = org.clientConfig({ accountId: guard.accountId, region: guard.region, roleName, maxAttempts: 2 });
  const noop = () => undefined;
  const index = new DynamoDbInUseIndex(IN_USE_INDEX_TABLE, new DynamoDBClient(config));
  return {
    settings: {
      tagPrefix: 'digest-guard',
      dryRun: false,
      region: guard.region,
      workloadAccounts: options.workloadAccounts,
      ...(options.workloadRegions ? { workloadRegions: options.workloadRegions } : {}),
      ...(options.releaseAfterDays ? { releaseAfterDays: options.releaseAfterDays } : {}),
      ...(options.organizationUnits ? { organizationUnits: options.organizationUnits } : {}),
    },
    deps: {
      ecr: new EcrAdapter(new ECRClient(config)),
      inventoryFor: (accountId: string, region: string) =>
        inventoryFor(accountId, region, { ecs: new ECSClient(config), lambda: new LambdaClient(config) }),
      workloadInventoryFor: (
        workload: { readonly account: string; readonly region: string },
        registry: { readonly account: string; readonly region: string },
      ) =>
        workloadInventoryFor(workload, {
          registry,
          partition: 'aws',
          guardCredentials: config.credentials,
          clientConfig: { requestHandler: org.requestHandler, maxAttempts: 2 },
        }),
      alerts: new SnsAlertAdapter(guardTopicArn(guard), new SNSClient(config)),
      inUseIndex: index,
      listStatuses: index,
      organization: new OrganizationsAdapter(new OrganizationsClient(config)),
      logger: options.logger ?? { info: noop, warn: noop, error: noop },
      now: () => org.clock.now(),
      // The back-off before a run retries its failed repositories passes on the organization's clock, not the wall's.
      sleep: async (ms: number) => void org.clock.advance(ms),
    },
  };
}

export interface OrganizationWatchOptions {
  readonly workloadAccounts: readonly string[];
  readonly workloadRegions?: readonly string[];
  readonly logger?: GuardLogger;
  /** the function's counts (`UnreadableWorkloadEvents` and the others) */
  readonly metrics?: GuardMetrics;
  /** with organizational units: any account in these regions may be read (`ORGANIZATION_UNITS` in the function) */
  readonly anyAccountIn?: readonly string[];
}

/**
 * One batch of the guard's watch in `guard`, wired as the function wires it (lambda/handlers/watch.ts): as its watch
 * role, reading the guard's own account and region with its own clients and any listed workload through its reader
 * role. The readers live as long as the returned function, as they do in a warm execution environment.
 */
export function watchOnOrganization(
  org: SimulatedOrganization,
  guard: SimulatedAccount,
  options: OrganizationWatchOptions,
): (records: readonly SQSRecord[]) => ReturnType<typeof watchTaskEvents> {
  const roleName = guardWatchRoleName(guard.region);
  const config = org.clientConfig({ accountId: guard.accountId, region: guard.region, roleName, maxAttempts: 2 });
  const registry = { account: guard.accountId, region: guard.region };
  const noop = () => undefined;
  const readerFor = watchReadersFor({
    registry,
    partition: 'aws',
    guardCredentials: config.credentials,
    clientConfig: { requestHandler: org.requestHandler, maxAttempts: 2 },
    ownClients: { ecs: new ECSClient(config), lambda: new LambdaClient(config) },
  });
  const workloads = workloadsToList(
    registry,
    options.workloadAccounts,
    options.workloadRegions ?? [guard.region],
  ).slice(1);
  const deps = {
    index: new DynamoDbInUseIndex(IN_USE_INDEX_TABLE, new DynamoDBClient(config), () => org.clock.now().getTime()),
    registry,
    ecr: new EcrAdapter(new ECRClient(config)),
    alerts: new SnsAlertAdapter(guardTopicArn(guard), new SNSClient(config)),
    logger: options.logger ?? { info: noop, warn: noop, error: noop },
    readerFor,
    workloads,
    ...(options.metrics ? { metrics: options.metrics } : {}),
    ...(options.anyAccountIn ? { anyAccountIn: options.anyAccountIn } : {}),
  };
  return (records) => watchTaskEvents(records, { tagPrefix: 'digest-guard', dryRun: false }, deps);
}
