/**
 * The reconcile Lambda: an EventBridge scheduled event in, one reconcile of the account and region out.
 * It only parses, wires and calls: the decisions live in `lambda/core`, the AWS calls in `lambda/adapters`.
 * It throws (so Lambda retries, the error alarm fires, and after the retries the event is dead-lettered) when
 * nothing could be done, and when repositories could not be reconciled: the core does everything else first
 * (protections, alerts, the index) and throws `RepositoriesNotReconciledError`, whose outcome is logged here.
 * See: https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-run-lambda-schedule.html
 */
import type { Context, ScheduledEvent } from 'aws-lambda';
import { EcrAdapter } from '../adapters/ecr';
import { EcrLifecycleAdapter } from '../adapters/ecr-lifecycle';
import { DynamoDbInUseIndex } from '../adapters/in-use-index';
import { inventoryFor } from '../adapters/inventory';
import { OrganizationsAdapter } from '../adapters/organizations';
import { workloadInventoryFor } from '../adapters/workload-inventory';
import { SnsAlertAdapter } from '../adapters/sns';
import type { GuardLogger, GuardMetrics } from '../core/ports';
import type { LifecyclePolicyPort } from '../core/ports';
import type {
  AlertPort,
  InUseIndexPort,
  InUseIndexReadPort,
  InventoryPort,
  OrganizationPort,
  RegistryReplicationPort,
  ReplicationWarningMemory,
} from '../core/ports';
import {
  catchUpAccount,
  type CatchUpOutcome,
  reconcileAccount,
  type ReconcileOutcome,
  type ReconcileSettings,
  RepositoriesNotReconciledError,
} from '../core/reconcile';
import type { ReconcileCheckpoint, ReconcileEcrPort } from '../core/ports';
import { inventoryWithOrganizationAccounts } from '../core/organization-accounts';
import { inventoryAcrossWorkloads } from '../core/workload-list';
import { workloadsToList } from '../core/workloads';
import { alertLogGroupFrom, createObservability, timedInventory } from './observability';
import { readReconcileHandlerConfig } from './reconcile-config';

export interface ReconcileHandlerDependencies {
  readonly ecr: ReconcileEcrPort;
  /** the inventory of the account and region the schedule runs in */
  readonly inventoryFor: (account: string, region: string) => InventoryPort;
  readonly alerts: AlertPort;
  readonly logger: GuardLogger;
  readonly metrics?: GuardMetrics;
  /** repository lifecycle policies, for the lifecycle-risk check */
  readonly lifecycle?: LifecyclePolicyPort;
  /** a persistent cursor; without one the start rotates with the scheduled time */
  readonly checkpoint?: ReconcileCheckpoint;
  /** repositories handled at once @default 4 */
  readonly concurrency?: number;
  /** time kept back when deciding whether to start another repository @default 60000 */
  readonly reserveMs?: number;
  readonly now?: () => Date;
  /** waits before the run's one retry of failed repositories @default a `setTimeout` */
  readonly sleep?: (ms: number) => Promise<void>;
  /** the function's log group, named in alerts as where their full list is */
  readonly alertLogGroup?: string;
  /** the in-use index the run's inventory is applied to (the list of this account and region) */
  readonly inUseIndex?: InUseIndexPort;
  /** each workload's last recorded list (the same table), which a catch-up reads to find the overdue ones */
  readonly listStatuses?: Pick<InUseIndexReadPort, 'listStatus'>;
  /**
   * The inventory of another workload (account, region) of this guard's registry, through its reader role; called
   * once per workload and run, so each run has its own client set per workload.
   */
  readonly workloadInventoryFor?: (
    workload: { readonly account: string; readonly region: string },
    registry: { readonly account: string; readonly region: string },
  ) => InventoryPort;
  /** workloads listed at once @default WORKLOAD_LIST_CONCURRENCY */
  readonly workloadConcurrency?: number;
  /** the organization's tree, to discover the accounts of `organizationUnits` on each run */
  readonly organization?: OrganizationPort;
  /** the registry's replication rules, for the replicated-deletions warning */
  readonly replication?: RegistryReplicationPort;
  /** where the last replicated-deletions warning is remembered (the in-use index table) */
  readonly replicationWarnings?: ReplicationWarningMemory;
}

/** Which other accounts and regions the run lists, besides its own (lambda/handlers/reconcile-config.ts). */
export interface ReconcileWorkloadSettings {
  readonly workloadAccounts?: readonly string[];
  readonly workloadRegions?: readonly string[];
  readonly organizationUnits?: readonly string[];
}

/** One scheduled invocation, as it reaches the function. */
export interface ReconcileInvocation {
  readonly event: ScheduledEvent;
  readonly context?: Pick<Context, 'getRemainingTimeInMillis'>;
}

/**
 * What the catch-up rule sends (lib/guard-functions.ts): the scheduled event's account, region and time through an
 * input transformer, and the marker. A scheduled event never carries `catchUp` at its top level.
 */
export interface CatchUpEvent {
  readonly account: string;
  readonly region: string;
  readonly time: string;
  readonly catchUp: true;
}

export function isCatchUpEvent(event: unknown): event is CatchUpEvent {
  return (event as { catchUp?: unknown } | undefined)?.catchUp === true;
}

const HOUR_MS = 3_600_000;

/**
 * Reconciles the account the scheduled event names. The rotation seed is the scheduled time in whole
 * hours since the epoch: stateless, and successive runs start at evenly spread points of the list.
 */
export async function runReconcile(
  settings: ReconcileSettings & ReconcileWorkloadSettings & { readonly region: string },
  deps: ReconcileHandlerDependencies & ReconcileInvocation,
): Promise<ReconcileOutcome> {
  const { event, context } = deps;
  const account = typeof event?.account === 'string' ? event.account : '';
  if (!/^\d{12}$/.test(account))
    throw new Error(`the scheduled event carries no 12-digit account id (got "${account}")`);
  const scheduledAt = Date.parse(typeof event.time === 'string' ? event.time : '');
  const region = typeof event.region === 'string' && event.region ? event.region : settings.region;
  const inventory = inventoryOfRun({ account, region }, settings, deps);
  return reconcileAccount(
    { account, region, ...(Number.isFinite(scheduledAt) ? { rotationSeed: Math.floor(scheduledAt / HOUR_MS) } : {}) },
    settings,
    {
      ecr: deps.ecr,
      inventory,
      ...runDependencies(deps, context),
      ...(deps.lifecycle ? { lifecycle: deps.lifecycle } : {}),
      ...(deps.checkpoint ? { checkpoint: deps.checkpoint } : {}),
      ...(deps.inUseIndex ? { inUseIndex: deps.inUseIndex } : {}),
      ...(deps.replication ? { replication: deps.replication } : {}),
      ...(deps.replicationWarnings ? { replicationWarnings: deps.replicationWarnings } : {}),
    },
  );
}

/** What a scheduled run and a catch-up both take from the handler's wiring and the invocation. */
function runDependencies(
  deps: ReconcileHandlerDependencies,
  context: Pick<Context, 'getRemainingTimeInMillis'> | undefined,
) {
  return {
    alerts: deps.alerts,
    logger: deps.logger,
    ...(deps.metrics ? { metrics: deps.metrics } : {}),
    ...(context ? { remainingTimeMs: () => context.getRemainingTimeInMillis() } : {}),
    ...(deps.concurrency ? { concurrency: deps.concurrency } : {}),
    ...(deps.reserveMs !== undefined ? { reserveMs: deps.reserveMs } : {}),
    ...(deps.now ? { now: deps.now } : {}),
    ...(deps.sleep ? { sleep: deps.sleep } : {}),
    ...(deps.alertLogGroup ? { alertLogGroup: deps.alertLogGroup } : {}),
  };
}

/**
 * One catch-up: list again only the workloads (own, configured, and with organizational units those discovered now)
 * whose last complete list is older than `listBoundMinutes`; nothing overdue → a few index reads and nothing else.
 * The reconcile has reserved concurrency 1: a catch-up that fires while a scheduled run (or another catch-up) is in
 * progress is throttled, and Lambda's asynchronous queue retries it within the target's maximum event age
 * (RECONCILE_MAX_EVENT_AGE), then sends it to the dead-letter queue; the next catch-up 15 minutes later looks again.
 * See: https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html
 */
export async function runCatchUp(
  settings: ReconcileSettings &
    ReconcileWorkloadSettings & { readonly region: string; readonly listBoundMinutes?: number },
  deps: ReconcileHandlerDependencies & Omit<ReconcileInvocation, 'event'> & { readonly event: CatchUpEvent },
): Promise<CatchUpOutcome> {
  const { event, context } = deps;
  const account = typeof event?.account === 'string' ? event.account : '';
  if (!/^\d{12}$/.test(account))
    throw new Error(`the catch-up event carries no 12-digit account id (got "${account}")`);
  const region = typeof event.region === 'string' && event.region ? event.region : settings.region;
  if (settings.listBoundMinutes === undefined) throw new Error('a catch-up needs LIST_BOUND_MINUTES; none is set');
  const { inUseIndex, listStatuses } = deps;
  if (!inUseIndex || !listStatuses) throw new Error('a catch-up needs the in-use index; none is configured');
  const own = { account, region };
  const reach = deps.workloadInventoryFor;
  return catchUpAccount(
    own,
    settings,
    {
      workloadAccounts: settings.workloadAccounts ?? [],
      regions: settings.workloadRegions ?? [region],
      ...(settings.organizationUnits?.length ? { organizationUnits: settings.organizationUnits } : {}),
      listBoundMs: settings.listBoundMinutes * 60_000,
    },
    {
      ecr: deps.ecr,
      inUseIndex,
      listStatuses,
      inventoryOf: (workload) => {
        if (workload.account === own.account && workload.region === own.region)
          return deps.inventoryFor(account, region);
        if (!reach) throw new Error('workload accounts are configured but the reconcile was given no way to list them');
        return reach(workload, own);
      },
      ...runDependencies(deps, context),
      ...(deps.organization ? { organization: deps.organization } : {}),
      ...(deps.workloadConcurrency ? { workloadConcurrency: deps.workloadConcurrency } : {}),
    },
  );
}

/** The own account's inventory, or, with workload accounts, the list across every workload (own first). */
function inventoryOfRun(
  own: { readonly account: string; readonly region: string },
  settings: ReconcileWorkloadSettings,
  deps: ReconcileHandlerDependencies,
): InventoryPort {
  const ownInventory = deps.inventoryFor(own.account, own.region);
  if (settings.organizationUnits?.length) {
    const { organization, workloadInventoryFor: reach } = deps;
    if (!organization || !reach) {
      throw new Error('organization units are configured but the reconcile was given no way to discover or list them');
    }
    return inventoryWithOrganizationAccounts({
      own,
      ownInventory,
      workloadAccounts: settings.workloadAccounts ?? [],
      regions: settings.workloadRegions ?? [own.region],
      organizationUnits: settings.organizationUnits,
      organization,
      inventoryOf: (workload) => reach(workload, own),
      now: deps.now ?? (() => new Date()),
      ...(deps.workloadConcurrency ? { concurrency: deps.workloadConcurrency } : {}),
    });
  }
  const others = workloadsToList(own, settings.workloadAccounts ?? [], settings.workloadRegions ?? [own.region]).slice(
    1,
  );
  if (others.length === 0) return ownInventory;
  const reach = deps.workloadInventoryFor;
  if (!reach) throw new Error('workload accounts are configured but the reconcile was given no way to list them');
  return inventoryAcrossWorkloads(
    { workload: own, inventory: ownInventory },
    others.map((workload) => ({ workload, inventory: reach(workload, own) })),
    {
      now: deps.now ?? (() => new Date()),
      ...(deps.workloadConcurrency ? { concurrency: deps.workloadConcurrency } : {}),
    },
  );
}

/** The in-use index table keeps both the run's list and the memory of the last replicated-deletions warning. */
function indexOf(
  index: DynamoDbInUseIndex,
): Pick<ReconcileHandlerDependencies, 'inUseIndex' | 'replicationWarnings' | 'listStatuses'> {
  return { inUseIndex: index, replicationWarnings: index, listStatuses: index };
}

const { logger, metrics, counts } = createObservability();
let wiring: { settings: ReturnType<typeof readReconcileHandlerConfig>; deps: ReconcileHandlerDependencies } | undefined;

function wireFromEnvironment() {
  const settings = readReconcileHandlerConfig(process.env);
  // Set by the construct (lib/in-use-index.ts); the run keeps that index as the list of its account and region.
  const inUseIndexTable = process.env.IN_USE_INDEX_TABLE_NAME?.trim();
  const ecr = new EcrAdapter();
  return {
    settings,
    deps: {
      ecr,
      replication: ecr,
      lifecycle: new EcrLifecycleAdapter(),
      alerts: new SnsAlertAdapter(settings.topicArn),
      inventoryFor: (accountId: string, region: string) => timedInventory(inventoryFor(accountId, region), metrics),
      logger,
      metrics: counts,
      ...alertLogGroupFrom(process.env),
      ...(inUseIndexTable ? indexOf(new DynamoDbInUseIndex(inUseIndexTable)) : {}),
      ...(settings.organizationUnits ? { organization: new OrganizationsAdapter() } : {}),
      workloadInventoryFor: (
        workload: { readonly account: string; readonly region: string },
        registry: { readonly account: string; readonly region: string },
      ) =>
        timedInventory(
          workloadInventoryFor(workload, { registry, partition: settings.topicArn.split(':')[1] ?? 'aws' }),
          metrics,
        ),
    },
  };
}

export const handler = async (event: ScheduledEvent | CatchUpEvent, context?: Context): Promise<void> => {
  if (context) logger.addContext(context);
  const wired = (wiring ??= wireFromEnvironment());
  try {
    if (isCatchUpEvent(event)) {
      const caughtUp = await loggingFailedRun('catch-up', () =>
        runCatchUp(wired.settings, { ...wired.deps, event, ...(context ? { context } : {}) }),
      );
      logger.info('catch-up done', {
        overdue: caughtUp.reasons,
        repositories: caughtUp.run?.reports.length ?? 0,
        alerts: caughtUp.run?.alertsPublished ?? 0,
        workloadsNotListed: caughtUp.run?.workloadsNotListed,
        accountsNotDiscovered: caughtUp.accountsNotDiscovered,
      });
      return;
    }
    const outcome = await loggingFailedRun('reconcile', () =>
      runReconcile(wired.settings, { ...wired.deps, event, ...(context ? { context } : {}) }),
    );
    logReconcileDone('reconcile done', outcome);
  } finally {
    metrics.publishStoredMetrics();
  }
};

function logReconcileDone(message: string, outcome: ReconcileOutcome): void {
  logger.info(message, {
    repositories: outcome.reports.length,
    failed: outcome.failed.map((f) => f.repository),
    notReached: outcome.notReached.length,
    cursor: outcome.cursor,
    alerts: outcome.alertsPublished,
    inUseIndex: outcome.inUseIndex,
    workloadsNotListed: outcome.workloadsNotListed,
    accountsNotDiscovered: outcome.accountsNotDiscovered,
    replicatedDeletions: outcome.replicatedDeletions,
  });
}

/** A run that failed repositories still did the rest: its outcome is logged before the error goes to Lambda. */
async function loggingFailedRun<T>(what: 'reconcile' | 'catch-up', run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof RepositoriesNotReconciledError) {
      logReconcileDone(`${what} done with repositories not reconciled; failing so that Lambda retries`, error.outcome);
    }
    throw error;
  }
}
