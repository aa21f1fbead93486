/**
 * The scheduled reconcile, over the ports: one fresh inventory, then for every repository in scope the
 * push path's protect step (`protectInUseDigests`, deciding with `findUntaggedInUseDigests`), restoring
 * archived in-use images, and releasing protective tags that are no longer needed; one alert per
 * repository where something changed. It protects what the push path could not see: missed events, risk
 * that existed before install, tags moved by pull-through cache or replication.
 *
 * Bounded work: repositories are handled in a stable (sorted) order with a bounded number in flight; a run
 * that is about to run out of time stops starting repositories, reports those it did not reach, and saves
 * the last one it reached so the next run starts after it.
 */
import { publishOrLog } from '../alert-publish';
import {
  buildAccountsNotDiscoveredAlert,
  buildReconcileAlert,
  buildReconcileFailureAlert,
  buildReplicatedDeletionsAlert,
  buildWorkloadsNotListedAlert,
} from '../alert-reconcile';
import { mapWithConcurrency } from '../concurrency';
import { applyListToIndex, type InUseIndexListResult, InUseIndexUpdateError } from '../in-use-index';
import { gapsConcerning } from '../inventory';
import { protectInUseDigests } from '../protect';
import type { Inventory } from '../types';
import { checkLifecycleRisk } from './lifecycle';
import {
  findReplicatedDeletionRisks,
  REPLICATED_DELETIONS_REMINDER_MS,
  type ReplicatedDeletionRisk,
  replicationWarningDue,
  replicationWarningPair,
  replicationWarningPairs,
} from './replication';
import { findReleaseCandidates, releaseCandidates, type ReleasePhaseResult } from './release';
import type {
  ReconcileDependencies,
  ReconcileOutcome,
  ReconcileRun,
  ReconcileSettings,
  RepositoryReconcileReport,
  RepositoryWork,
} from './types';

const GOLDEN_RATIO_CONJUGATE = (Math.sqrt(5) - 1) / 2;

/** The inventory could not be taken: nothing can be decided, so the run fails and is retried. */
export class ReconcileNotPossibleError extends Error {
  override readonly name = 'ReconcileNotPossibleError';
}

/**
 * Repositories the run reached but could not reconcile (after its one retry): everything else was done (protections,
 * releases, alerts, the index, the cursor), and the run still fails so that Lambda's asynchronous retries run it
 * again and, once they are used up, the event lands in the reconcile's dead-letter queue, which alarms. Until then an
 * in-use digest of those repositories may be unprotected, and the index already says it is in use, so neither the
 * watch nor the push path would look at it again: only a run can. `outcome` is what the run did, for the log line.
 */
export class RepositoriesNotReconciledError extends Error {
  override readonly name = 'RepositoriesNotReconciledError';
  constructor(
    readonly outcome: ReconcileOutcome,
    options?: ErrorOptions,
  ) {
    const names = outcome.failed.map((f) => f.repository);
    super(
      `could not reconcile ${names.length} ${names.length === 1 ? 'repository' : 'repositories'} ` +
        `(${names.join(', ')}); in-use digests there may be unprotected. Lambda retries the run; if every attempt ` +
        'fails it goes to the reconcile dead-letter queue. Check the logged errors (throttling, or the function role ' +
        'may not call ECR on those repositories).',
      options,
    );
  }
}

/**
 * The wait before a run's one retry of the repositories that failed. A repository fails after the SDK's own retries
 * (throttling, a 5xx, a timeout), so mostly for a burst that has passed seconds later; retrying just those
 * repositories costs a few ECR calls, where failing the run has Lambda list the whole organization again a minute
 * later. One retry only, and only while the time left allows the wait and the reserve: what still fails fails the run.
 */
export const REPOSITORY_RETRY_BACKOFF_MS = 5_000;

export async function reconcileAccount(
  run: ReconcileRun,
  settings: ReconcileSettings,
  deps: ReconcileDependencies,
): Promise<ReconcileOutcome> {
  const { logger } = deps;
  const now = deps.now ?? (() => new Date());
  const releaseEnabled = (settings.releaseAfterDays ?? 0) > 0;
  const inScope = settings.repositories?.length ? new Set(settings.repositories) : undefined;

  // The list's start: nothing the inventory sees was seen earlier, so the index may remove only entries last
  // seen before it (a later writer wins).
  const listStartedAt = now();
  let inventory: Inventory;
  try {
    inventory = await deps.inventory.takeInventory();
  } catch (error) {
    deps.metrics?.count('InventoryFailures', 1);
    throw new ReconcileNotPossibleError('could not take the in-use inventory; nothing was reconciled', {
      cause: error,
    });
  }
  for (const gap of inventory.gaps) logger.warn('inventory gap', { gap });
  const indexUpdate = deps.inUseIndex ? await updateInUseIndex(inventory, run, listStartedAt, deps) : undefined;
  const unlisted = await alertWorkloadsNotListed(run, inventory, deps);
  const undiscovered = await alertAccountsNotDiscovered(run, inventory, deps);
  const replicated = await alertReplicatedDeletions(run, inventory, inScope, deps);

  const repositories = await repositoriesToVisit(inventory, settings, releaseEnabled, inScope, deps);
  const ordered = await startingPoint(repositories, run, deps);
  const remaining = deps.remainingTimeMs ?? (() => Number.POSITIVE_INFINITY);
  const reserveMs = deps.reserveMs ?? 60_000;

  const concurrency = deps.concurrency ?? 4;
  const attempt = async (repository: string, retry: boolean) => {
    try {
      return { repository, work: await reconcileRepository(repository, inventory, run, settings, deps, now()) };
    } catch (error) {
      logger.error(
        retry
          ? 'could not reconcile a repository after a retry; the run fails so that Lambda retries it'
          : 'could not reconcile a repository; retrying it once after a back-off',
        {
          repository,
          error,
          whatToDo: 'see the error; check the function role can call ECR on this repository',
        },
      );
      if (retry) deps.metrics?.count('RepositoryFailures', 1);
      return { repository, error };
    }
  };
  const firstPass = await mapWithConcurrency(ordered, concurrency, async (repository) => {
    if (remaining() <= reserveMs) return { repository, notReached: true as const };
    return attempt(repository, false);
  });
  const firstFailed = firstPass.flatMap((r) => ('error' in r ? [r.repository] : []));
  // The retry repeats the repository's whole step, which is safe to repeat: protecting an already tagged digest is a
  // no-op, release candidates are only collected here (released below, once), the shield install reads the policy
  // first. Without the time for the wait and the reserve, the failures stand and the run fails.
  const retried = new Map<string, Awaited<ReturnType<typeof attempt>>>();
  if (firstFailed.length > 0 && remaining() > reserveMs + REPOSITORY_RETRY_BACKOFF_MS) {
    await (deps.sleep ?? sleep)(REPOSITORY_RETRY_BACKOFF_MS);
    const again = await mapWithConcurrency(firstFailed, concurrency, (repository) => attempt(repository, true));
    for (const result of again) retried.set(result.repository, result);
  } else if (firstFailed.length > 0) {
    deps.metrics?.count('RepositoryFailures', firstFailed.length);
  }
  const results = firstPass.map((r) => retried.get(r.repository) ?? r);

  const works = results.flatMap((r) => ('work' in r && r.work ? [r.work] : []));
  const failed = results.flatMap((r) => ('error' in r ? [{ repository: r.repository, error: r.error }] : []));
  const notReached = results.filter((r) => 'notReached' in r).map((r) => r.repository);
  const reachedInOrder = results.filter((r) => !('notReached' in r)).map((r) => r.repository);
  const cursor = notReached.length > 0 ? reachedInOrder.at(-1) : undefined;

  let alertsPublished = unlisted.alerts + undiscovered + replicated.alerts;
  const reportOf = new Map<RepositoryWork, RepositoryReconcileReport>();
  const finish = async (work: RepositoryWork, released: ReleasePhaseResult): Promise<void> => {
    const report: RepositoryReconcileReport = {
      repository: work.repository,
      protection: work.protection,
      releases: [...released.releases, ...work.kept],
      mismatched: work.mismatched,
      ...(work.lifecycle ? { lifecycle: work.lifecycle } : {}),
      ...(work.shield ? { shield: work.shield } : {}),
      ...(released.paused ? { releasesPaused: released.paused } : {}),
    };
    reportOf.set(work, report);
    const alert = buildReconcileAlert(report, settings);
    if (!alert) return;
    if (await publishOrLog(alert, deps)) alertsPublished += 1;
    deps.metrics?.count('ProtectedDigests', work.protection.protected.filter((p) => p.how === 'tagged').length);
    deps.metrics?.count('ReleasedProtections', report.releases.filter((r) => r.how === 'released').length);
    deps.metrics?.count('RestoresStarted', work.protection.restores.filter((r) => r.how === 'restore-started').length);
  };
  // Alerts of repositories with nothing to release go out before any release: a release phase the timeout cuts
  // short must not take them with it. Each repository's releases are alerted as soon as they are done.
  const releasing = releaseEnabled ? works.filter((w) => w.candidates.length > 0) : [];
  for (const work of works) if (!releasing.includes(work)) await finish(work, { releases: [] });
  if (releasing.length > 0) await releaseCandidates(releasing, inventory, settings, deps, remaining, finish);
  const reports = works.map((work) => reportOf.get(work)!);

  if (notReached.length > 0) {
    logger.warn(
      'reconcile stopped before the function timeout; the next run continues after the last repository reached',
      {
        cursor,
        notReached,
      },
    );
    deps.metrics?.count('RepositoriesNotReached', notReached.length);
  }
  if (deps.checkpoint) await deps.checkpoint.save(cursor);
  if (failed.length > 0) alertsPublished += await alertFailures(run, failed, deps);
  // Nothing could be done: fail the invocation so Lambda retries it and the failure alarm fires.
  if (works.length === 0 && failed.length > 0) {
    throw new ReconcileNotPossibleError(
      `every repository reached failed (${failed.map((f) => f.repository).join(', ')})`,
      { cause: failed[0]?.error },
    );
  }
  // The protections and alerts above stand; the run still fails so that Lambda retries it and the error alarm
  // fires: an index that silently lags would later let the push path miss a workload.
  if (indexUpdate && 'error' in indexUpdate) throw indexUpdate.error;
  const outcome: ReconcileOutcome = {
    inventoryTakenAt: inventory.takenAt,
    reports,
    failed,
    notReached,
    ...(cursor ? { cursor } : {}),
    alertsPublished,
    ...(indexUpdate && 'result' in indexUpdate && indexUpdate.result ? { inUseIndex: indexUpdate.result } : {}),
    ...(unlisted.notListed.length > 0 ? { workloadsNotListed: unlisted.notListed } : {}),
    ...(inventory.accountsNotDiscovered ? { accountsNotDiscovered: inventory.accountsNotDiscovered } : {}),
    ...(replicated.risks.length > 0 ? { replicatedDeletions: replicated.risks } : {}),
  };
  // Not the repositories the timeout cut (the cursor starts the next run with them): those that failed, whose
  // in-use digests nothing else will look at again before the next scheduled run.
  if (failed.length > 0) throw new RepositoriesNotReconciledError(outcome, { cause: failed[0]?.error });
  return outcome;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Organizational units whose accounts could not be discovered: one WARNING alert; their gap pauses releases. */
async function alertAccountsNotDiscovered(
  run: ReconcileRun,
  inventory: Inventory,
  deps: ReconcileDependencies,
): Promise<number> {
  const notDiscovered = inventory.accountsNotDiscovered;
  if (!notDiscovered) return 0;
  deps.logger.warn('the accounts of organizational units could not be discovered; only known accounts were listed', {
    notDiscovered,
  });
  return (await publishOrLog(buildAccountsNotDiscoveredAlert(run, notDiscovered), deps)) ? 1 : 0;
}

/**
 * One read of the registry's replication rules a run (none when nothing is in use); a WARNING alert naming the
 * in-use repositories they replicate with (perhaps) their deletions. A failed read is logged and the run goes on:
 * it changes no protection. With a memory of the last warning, it is sent only when it names something the last
 * one did not, or once the last one is `REPLICATED_DELETIONS_REMINDER_MS` old: the same risk every run is noise
 * that hides real alerts. A memory that cannot be read or written sends the warning (loud, never silent).
 */
async function alertReplicatedDeletions(
  run: ReconcileRun,
  inventory: Inventory,
  inScope: ReadonlySet<string> | undefined,
  deps: ReconcileDependencies,
): Promise<{ alerts: number; risks: ReplicatedDeletionRisk[] }> {
  if (!deps.replication) return { alerts: 0, risks: [] };
  // Nothing in use: no repository to warn about, so no call.
  const inUse = [...inventory.byRepository].some(
    ([repository, digests]) => digests.size > 0 && (!inScope || inScope.has(repository)),
  );
  if (!inUse) return { alerts: 0, risks: [] };
  let risks: ReplicatedDeletionRisk[];
  try {
    const rules = await deps.replication.readReplicationRules();
    risks = findReplicatedDeletionRisks(inventory, rules, (repository) => !inScope || inScope.has(repository));
  } catch (error) {
    deps.logger.error('could not read the registry replication rules; replicated deletions are not checked this run', {
      error,
      whatToDo: 'check the reconcile role may call ecr:DescribeRegistry',
    });
    return { alerts: 0, risks: [] };
  }
  if (risks.length === 0) return { alerts: 0, risks };
  const registry = { account: run.account, region: run.region };
  const memory = deps.replicationWarnings;
  const pairs = replicationWarningPairs(risks);
  const nowMs = (deps.now ?? (() => new Date()))().getTime();
  let due: ReturnType<typeof replicationWarningDue> = { send: 'first', added: [] };
  if (memory) {
    try {
      due = replicationWarningDue(pairs, await memory.lastReplicationWarning(registry), nowMs);
    } catch (error) {
      deps.logger.error('could not read the last replicated-deletions warning; warning again', {
        error,
        whatToDo: 'check the reconcile role may call dynamodb:GetItem on the in-use index table',
      });
    }
  }
  if (due.send === 'already-sent') {
    deps.logger.info('in-use repositories are replicated with (perhaps) their deletions; already warned', {
      replicatedDeletions: risks,
    });
    return { alerts: 0, risks };
  }
  deps.logger.warn('in-use repositories are replicated with (perhaps) their deletions', { replicatedDeletions: risks });
  const added = new Set(due.added);
  const repeat = memory
    ? {
        send: due.send,
        added: risks.flatMap((risk) =>
          risk.destinations.flatMap((destination) =>
            added.has(replicationWarningPair(risk, destination)) ? [{ repository: risk.repository, destination }] : [],
          ),
        ),
        reminderDays: Math.round(REPLICATED_DELETIONS_REMINDER_MS / 86_400_000),
      }
    : undefined;
  const published = await publishOrLog(buildReplicatedDeletionsAlert(run, risks, repeat), deps);
  // Only a warning that went out is remembered: one that could not be published is tried again next run.
  if (published && memory) {
    try {
      await memory.rememberReplicationWarning(registry, { pairs, sentAtMs: nowMs });
    } catch (error) {
      deps.logger.error('could not remember the replicated-deletions warning; the next run warns again', {
        error,
        whatToDo: 'check the reconcile role may call dynamodb:PutItem on the in-use index table',
      });
    }
  }
  return { alerts: published ? 1 : 0, risks };
}

/**
 * The run's inventory applied to the in-use index: as the list of this account and region, or, for an inventory
 * across workloads, each workload's own list separately (its registry is always this guard's: the inventory names
 * only this registry's repositories). A workload that could not be listed is recorded as a partial list and
 * nothing is removed for it. A failure is logged and counted here and thrown at the end of the run, after the
 * protect step, which does not depend on the index.
 */
async function updateInUseIndex(
  inventory: Inventory,
  run: ReconcileRun,
  startedAt: Date,
  deps: ReconcileDependencies,
): Promise<{ result?: InUseIndexListResult } | { error: InUseIndexUpdateError }> {
  const here = { account: run.account, region: run.region };
  const parts = inventory.workloads ?? [{ workload: here, startedAtMs: startedAt.getTime(), inventory }];
  let own: InUseIndexListResult | undefined;
  let firstError: InUseIndexUpdateError | undefined;
  for (const part of parts) {
    const workload = { account: part.workload.account, region: part.workload.region };
    try {
      if ('failure' in part) {
        await deps.inUseIndex!.recordListStatus(workload, {
          startedAtMs: part.startedAtMs,
          outcome: 'partial',
          gaps: [part.failure],
          entries: 0,
        });
        continue;
      }
      const result = await applyListToIndex(
        part.inventory,
        // The own list's start is the run's: nothing the inventory saw was seen earlier than that.
        {
          registry: here,
          workload,
          startedAtMs: sameWorkload(workload, here) ? startedAt.getTime() : part.startedAtMs,
        },
        deps.inUseIndex!,
      );
      deps.logger.info('in-use index updated', { inUseIndex: result });
      deps.metrics?.count('InUseIndexEntriesAdded', result.added);
      deps.metrics?.count('InUseIndexEntriesRemoved', result.removed);
      if (sameWorkload(workload, here)) own = result;
    } catch (error) {
      const failure =
        error instanceof InUseIndexUpdateError
          ? error
          : new InUseIndexUpdateError(
              `the in-use index could not be updated for ${workload.account} ${workload.region}`,
              undefined,
              { cause: error },
            );
      deps.logger.error('could not update the in-use index; the run fails after protecting, and the next run retries', {
        error: failure,
        inUseIndex: failure.result,
      });
      deps.metrics?.count('InUseIndexFailures', 1);
      firstError ??= failure;
    }
  }
  if (firstError) return { error: firstError };
  // A catch-up that did not list the own account has no own result.
  return own ? { result: own } : {};
}

function sameWorkload(a: { account: string; region: string }, b: { account: string; region: string }): boolean {
  return a.account === b.account && a.region === b.region;
}

/**
 * Workloads the run could not list: one WARNING alert naming each and what to do. Their gaps already pause
 * releases; the index keeps every entry it had for them.
 */
async function alertWorkloadsNotListed(
  run: ReconcileRun,
  inventory: Inventory,
  deps: ReconcileDependencies,
): Promise<{ alerts: number; notListed: { account: string; region: string; reason: string }[] }> {
  const notListed = (inventory.workloads ?? []).flatMap((part) =>
    'failure' in part ? [{ account: part.workload.account, region: part.workload.region, reason: part.failure }] : [],
  );
  if (notListed.length === 0) return { alerts: 0, notListed };
  deps.logger.warn('workloads could not be listed; releases pause and nothing is removed from the index for them', {
    notListed,
  });
  const toAlert = notListed.filter((workload) => !deps.notListedAlreadyAlerted?.(workload));
  if (toAlert.length === 0) return { alerts: 0, notListed };
  const published = await publishOrLog(buildWorkloadsNotListedAlert(run, toAlert), deps);
  return { alerts: published ? 1 : 0, notListed };
}

/**
 * Repositories to visit, sorted. Protection needs only those the inventory names (an in-use digest says
 * its repository). Release must also visit repositories nobody uses any more — that is where protection
 * stops being needed — and the inventory cannot name those, so with release on and no explicit scope the
 * registry's repositories are listed (DescribeRepositories).
 */
async function repositoriesToVisit(
  inventory: Inventory,
  settings: ReconcileSettings,
  releaseEnabled: boolean,
  inScope: ReadonlySet<string> | undefined,
  deps: ReconcileDependencies,
): Promise<string[]> {
  const names = new Set<string>(inventory.byRepository.keys());
  if (releaseEnabled) {
    if (settings.repositories?.length) for (const name of settings.repositories) names.add(name);
    else {
      try {
        for (const name of await deps.ecr.listRepositories()) names.add(name);
      } catch (error) {
        deps.logger.error('could not list repositories: releases are limited to repositories in use this run', {
          error,
        });
        deps.metrics?.count('RepositoryListFailures', 1);
      }
    }
  }
  return [...names].filter((name) => !inScope || inScope.has(name)).sort();
}

/** The sorted list rotated to start after the saved cursor, or at `rotationSeed mod N` without a checkpoint. */
async function startingPoint(
  sorted: readonly string[],
  run: ReconcileRun,
  deps: ReconcileDependencies,
): Promise<string[]> {
  if (sorted.length === 0) return [];
  let start = 0;
  if (deps.checkpoint) {
    const cursor = await deps.checkpoint.load();
    if (cursor !== undefined) {
      const after = sorted.findIndex((name) => name > cursor);
      start = after === -1 ? 0 : after;
    }
  } else if (run.rotationSeed !== undefined) {
    const fraction = (Math.abs(Math.trunc(run.rotationSeed)) * GOLDEN_RATIO_CONJUGATE) % 1;
    start = Math.min(sorted.length - 1, Math.floor(fraction * sorted.length));
  }
  return [...sorted.slice(start), ...sorted.slice(0, start)];
}

async function reconcileRepository(
  repository: string,
  inventory: Inventory,
  run: ReconcileRun,
  settings: ReconcileSettings,
  deps: ReconcileDependencies,
  now: Date,
): Promise<RepositoryWork> {
  // The protect step adds what in-use image indexes reference, and restores archived in-use images.
  const { report, states, inUse } = await protectInUseDigests(
    repository,
    inventory.byRepository.get(repository) ?? new Map(),
    {
      account: run.account,
      region: run.region,
      pushes: [],
      gaps: gapsConcerning(inventory.gaps, repository).map((gap) => gap.reason),
    },
    settings,
    deps,
  );

  const work: RepositoryWork = { repository, protection: report, candidates: [], kept: [], mismatched: [] };
  await checkLifecycleRisk(work, states, settings, deps);
  if ((settings.releaseAfterDays ?? 0) > 0) await findReleaseCandidates(work, inUse, settings, deps, now);
  return work;
}

async function alertFailures(
  run: ReconcileRun,
  failed: readonly { repository: string; error: unknown }[],
  deps: ReconcileDependencies,
): Promise<number> {
  const alert = buildReconcileFailureAlert(run, failed);
  try {
    await deps.alerts.publish(alert);
    return 1;
  } catch (error) {
    deps.logger.error('could not publish the reconcile failure alert', { error });
    return 0;
  }
}
