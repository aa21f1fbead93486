/**
 * The catch-up list: between scheduled runs, every 15 minutes, list again each workload (account, region) whose last
 * complete list is older than a stated bound, or that has none (a fresh install, a new account, a list that failed).
 * Reading whether any is overdue costs one index `GetItem` per workload; when none is, that is all it does (no ECS,
 * no ECR, no alert): the common case.
 *
 * Overdue workloads are listed through the same per-workload inventories as a scheduled run and written to the index
 * exactly as it writes them (a complete list may remove that workload's stale entries, a failed one removes nothing
 * and records why), their in-use digests left untagged are protected, and what it protects and what it could not
 * list are alerted. What a catch-up does not do, because its picture is partial (only the overdue workloads): release
 * protective tags, move the scheduled run's cursor, send the replicated-deletions warning, check lifecycle policies
 * (the scheduled run does all of these), or write anything for a workload it did not list.
 * Pure apart from the ports: no SDK.
 */
import { mapWithConcurrency } from '../concurrency';
import type { AccountRegion } from '../in-use-index/types';
import { discoverOrganizationAccounts } from '../organization-accounts';
import type { InUseIndexReadPort, InventoryPort, OrganizationPort } from '../ports';
import { failureReason, inventoryAcrossWorkloads } from '../workload-list';
import { workloadsToList } from '../workloads';
import { reconcileAccount } from './run';
import type { ReconcileDependencies, ReconcileOutcome, ReconcileRun, ReconcileSettings } from './types';

export { CATCH_UP_INTERVAL_MINUTES } from '../defaults';
/** Status reads in flight at once: one small GetItem each. */
const STATUS_READ_CONCURRENCY = 8;

export interface CatchUpDependencies
  extends Omit<ReconcileDependencies, 'inventory' | 'checkpoint' | 'replication' | 'replicationWarnings'> {
  /** the index the run writes its lists to */
  readonly inUseIndex: NonNullable<ReconcileDependencies['inUseIndex']>;
  /** where each workload's last list is recorded (the same table) */
  readonly listStatuses: Pick<InUseIndexReadPort, 'listStatus'>;
  /** the inventory of one workload: the guard's own clients for its own account, the reader role for the others */
  readonly inventoryOf: (workload: AccountRegion) => InventoryPort;
  /** the organization's tree, when `organizationUnits` are configured */
  readonly organization?: OrganizationPort;
  /** workloads listed at once @default WORKLOAD_LIST_CONCURRENCY */
  readonly workloadConcurrency?: number;
}

export interface CatchUpWorkloads {
  readonly workloadAccounts: readonly string[];
  readonly regions: readonly string[];
  readonly organizationUnits?: readonly string[];
  /** a workload is overdue when its last complete list started longer ago than this (epoch ms difference) */
  readonly listBoundMs: number;
}

export interface CatchUpOutcome {
  /** the workloads found overdue, and listed; empty when every workload had a recent complete list */
  readonly overdue: readonly AccountRegion[];
  /** why each overdue workload was (no complete list recorded, or when its last one started) */
  readonly reasons: readonly string[];
  /** what listing them did; absent when none was overdue */
  readonly run?: ReconcileOutcome;
  /** the OUs' accounts could not be discovered: only the known accounts were looked at */
  readonly accountsNotDiscovered?: { readonly organizationUnits: readonly string[]; readonly reason: string };
}

/**
 * Why the workload is overdue, or undefined when its last complete list is recent enough. A status that cannot be
 * read counts as overdue: one more list costs reads, a workload left unlisted costs what it runs being unseen.
 */
export async function overdueReason(
  workload: AccountRegion,
  statuses: Pick<InUseIndexReadPort, 'listStatus'>,
  nowMs: number,
  boundMs: number,
  /** called when the last recorded list of the workload was partial (its failure was recorded, and alerted) */
  lastListFailed: () => void = () => undefined,
): Promise<string | undefined> {
  let status: Awaited<ReturnType<InUseIndexReadPort['listStatus']>>;
  try {
    status = await statuses.listStatus(workload);
  } catch (error) {
    return `its list status could not be read (${failureReason(error)})`;
  }
  if (status?.lastListOutcome === 'partial') lastListFailed();
  const complete = status?.lastCompleteListStartedAt;
  if (complete === undefined) return 'no complete list recorded';
  if (nowMs - complete > boundMs) return `last complete list started ${new Date(complete).toISOString()}`;
  return undefined;
}

/** One catch-up run of the guard in `run`'s account and region. */
export async function catchUpAccount(
  run: ReconcileRun,
  settings: ReconcileSettings,
  workloads: CatchUpWorkloads,
  deps: CatchUpDependencies,
): Promise<CatchUpOutcome> {
  const now = deps.now ?? (() => new Date());
  const own: AccountRegion = { account: run.account, region: run.region };
  // With organizational units the accounts are known only by discovering them: a joined account has no complete
  // list, so it is overdue by definition and only discovery can name it. Organizations' calls are free; a
  // discovery that fails is logged and the known accounts are still looked at (the scheduled run alerts it).
  let discovered: string[] = [];
  let accountsNotDiscovered: CatchUpOutcome['accountsNotDiscovered'];
  if (workloads.organizationUnits?.length) {
    if (!deps.organization) throw new Error('organization units are configured but the catch-up cannot discover them');
    try {
      discovered = await discoverOrganizationAccounts(workloads.organizationUnits, deps.organization);
    } catch (error) {
      accountsNotDiscovered = { organizationUnits: [...workloads.organizationUnits], reason: failureReason(error) };
      deps.logger.warn('catch-up: the accounts of organizational units could not be discovered; known ones only', {
        accountsNotDiscovered,
      });
    }
  }
  const candidates = workloadsToList(own, [...workloads.workloadAccounts, ...discovered], workloads.regions);
  const nowMs = now().getTime();
  const alreadyFailing = new Set<string>();
  const reasons = await mapWithConcurrency(candidates, STATUS_READ_CONCURRENCY, (workload) =>
    overdueReason(workload, deps.listStatuses, nowMs, workloads.listBoundMs, () =>
      alreadyFailing.add(`${workload.account}#${workload.region}`),
    ),
  );
  const overdue = candidates.filter((_, i) => reasons[i] !== undefined);
  const why = candidates.flatMap((w, i) => (reasons[i] ? [`${w.account} ${w.region}: ${reasons[i]}`] : []));
  const base = { ...(accountsNotDiscovered ? { accountsNotDiscovered } : {}) };
  if (overdue.length === 0) {
    deps.logger.info('catch-up: every workload has a recent complete list; nothing to do', {
      workloads: candidates.length,
      listBoundMinutes: workloads.listBoundMs / 60_000,
    });
    return { overdue: [], reasons: [], ...base };
  }
  deps.logger.info('catch-up: listing the workloads whose last complete list is overdue', { overdue: why });

  const ownOverdue = overdue.some((w) => w.account === own.account && w.region === own.region);
  const others = overdue.filter((w) => !(w.account === own.account && w.region === own.region));
  // Only the overdue workloads: a workload not listed has no part, so the index update records nothing for it.
  const inventory = inventoryAcrossWorkloads(
    ownOverdue ? { workload: own, inventory: deps.inventoryOf(own) } : undefined,
    others.map((workload) => ({ workload, inventory: deps.inventoryOf(workload) })),
    { now, ...(deps.workloadConcurrency ? { concurrency: deps.workloadConcurrency } : {}) },
  );
  // Taken apart by name, not by type: a caller may hand over the scheduled run's whole dependencies.
  const {
    listStatuses: _statuses,
    inventoryOf: _inventoryOf,
    organization: _organization,
    checkpoint: _checkpoint,
    replication: _replication,
    replicationWarnings: _replicationWarnings,
    ...reconcileDeps
  } = deps as CatchUpDependencies & Partial<ReconcileDependencies>;
  // No release (the picture is partial), no lifecycle check or shield install (the scheduled run's), no checkpoint
  // (the scheduled run's cursor stays where it is), no replication read (its warning is the scheduled run's).
  const outcome = await reconcileAccount(
    { account: run.account, region: run.region },
    { ...settings, releaseAfterDays: 0, lifecycleCheck: 'off', installLifecycleShield: false },
    {
      ...reconcileDeps,
      inventory,
      // A workload whose last list already failed was alerted by that run (and the scheduled run alerts it on every
      // run): a catch-up every 15 minutes alerting it again would bury other alerts. It is logged each time.
      notListedAlreadyAlerted: (workload) => alreadyFailing.has(`${workload.account}#${workload.region}`),
    },
  );
  return { overdue, reasons: why, run: outcome, ...base };
}
