/**
 * The workloads a guard lists: its own (account, region) always, plus every configured workload account in every
 * configured workload region, each read through a role the workload stack creates. The role names are derived
 * from the guard's region alone, so the guard stack, the workload stack and the reconcile compute the same ARNs
 * without exchanging anything: a workload account that serves two registry regions holds one reader per guard.
 */
import type { AccountRegion } from './in-use-index/types';

const READER_ROLE_PREFIX = 'ecr-digest-guard-reader';
const RECONCILE_ROLE_PREFIX = 'ecr-digest-guard-reconcile';
const WATCH_ROLE_PREFIX = 'ecr-digest-guard-watch';

/** The read-only role each workload account creates for the guard of `guardRegion`. */
export function workloadReaderRoleName(guardRegion: string): string {
  return `${READER_ROLE_PREFIX}-${guardRegion}`;
}

/** The guard reconcile's role name when it lists other accounts: the one principal the readers trust. */
export function guardReconcileRoleName(guardRegion: string): string {
  return `${RECONCILE_ROLE_PREFIX}-${guardRegion}`;
}

/**
 * The guard watch's role name when workloads are configured: the readers trust it too, because an ECS deployment
 * event or a Lambda API call names a service or function without its digests, and only the workload's reader role
 * can read them.
 */
export function guardWatchRoleName(guardRegion: string): string {
  return `${WATCH_ROLE_PREFIX}-${guardRegion}`;
}

/** The reader role's ARN in `account` (the partition of the guard: workloads never span partitions). */
export function workloadReaderRoleArn(partition: string, account: string, guardRegion: string): string {
  return `arn:${partition}:iam::${account}:role/${workloadReaderRoleName(guardRegion)}`;
}

const FORWARDER_ROLE_PREFIX = 'ecr-digest-guard-forwarder';
const GUARD_EVENT_BUS_PREFIX = 'ecr-digest-guard';

/**
 * The guard's event bus, which workload accounts forward their ECS (and Lambda API call) events to. Named after
 * the guard's region alone, so a workload stack can name its ARN without a cross-stack reference.
 */
export function guardEventBusName(guardRegion: string): string {
  return `${GUARD_EVENT_BUS_PREFIX}-${guardRegion}`;
}

/** The ARN every workload forwarding rule targets: `arn:<partition>:events:<guardRegion>:<guardAccount>:event-bus/…`. */
export function guardEventBusArn(partition: string, guardAccount: string, guardRegion: string): string {
  return `arn:${partition}:events:${guardRegion}:${guardAccount}:event-bus/${guardEventBusName(guardRegion)}`;
}

/** The role EventBridge uses in a workload account to put events on the guard's bus (`events:PutEvents` only). */
export function workloadForwarderRoleName(guardRegion: string): string {
  return `${FORWARDER_ROLE_PREFIX}-${guardRegion}`;
}

export function workloadForwarderRoleArn(partition: string, account: string, guardRegion: string): string {
  return `arn:${partition}:iam::${account}:role/${workloadForwarderRoleName(guardRegion)}`;
}

/**
 * IAM is global, but the workload stack is deployed in every workload region: only one region per account creates
 * the roles. The guard's region when it is a workload region (the one a guard operator deploys first anyway),
 * otherwise the first workload region listed; every deployment of the stack computes the same answer.
 */
export function forwardingHomeRegion(guardRegion: string, regions: readonly string[]): string {
  const first = regions[0];
  if (first === undefined) throw new Error('forwarding needs at least one workload region');
  return regions.includes(guardRegion) ? guardRegion : first;
}

/** Every (account, region) to list, the guard's own first, each once. */
export function workloadsToList(
  own: AccountRegion,
  accounts: readonly string[],
  regions: readonly string[],
): AccountRegion[] {
  const seen = new Set<string>([`${own.account}:${own.region}`]);
  const workloads: AccountRegion[] = [own];
  for (const account of accounts) {
    for (const region of regions) {
      const key = `${account}:${region}`;
      if (seen.has(key)) continue;
      seen.add(key);
      workloads.push({ account, region });
    }
  }
  return workloads;
}

/** `111111111111:eu-west-1,222222222222:us-east-1`: how the construct hands the list to the reconcile. */
export function formatWorkloads(workloads: readonly AccountRegion[]): string {
  return workloads.map((w) => `${w.account}:${w.region}`).join(',');
}

/** Reads `formatWorkloads`' form; throws naming each bad item. */
export function parseWorkloads(text: string): AccountRegion[] {
  const items = text
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
  const bad = items.filter((item) => !/^\d{12}:[a-z]{2}(-[a-z]+)+-\d$/.test(item));
  if (bad.length > 0) throw new Error(`workloads must be <12-digit account>:<region>, got ${bad.join(', ')}`);
  return items.map((item) => {
    const [account, region] = item.split(':') as [string, string];
    return { account, region };
  });
}
