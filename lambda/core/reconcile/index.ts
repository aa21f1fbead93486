/** The scheduled reconcile: run (orchestration), release, lifecycle check; its alert text: `core/alert-reconcile.ts`. */
export {
  ReconcileNotPossibleError,
  REPOSITORY_RETRY_BACKOFF_MS,
  RepositoriesNotReconciledError,
  reconcileAccount,
} from './run';
export {
  CATCH_UP_INTERVAL_MINUTES,
  catchUpAccount,
  overdueReason,
  type CatchUpDependencies,
  type CatchUpOutcome,
  type CatchUpWorkloads,
} from './catch-up';
export { ALERT_RESERVE_MS, PULL_TIME_REFRESH_LAG_MS, RELEASE_CHECK_MAX_AGE_MS } from './release';
export { REPLICATED_DELETIONS_REMINDER_MS } from './replication';
export {
  assessLifecycleRisk,
  installShieldRule,
  type AssessOptions,
  type InstallOutcome,
  type LifecycleFindings,
} from './lifecycle';
export type {
  ReconcileDependencies,
  ReconcileOutcome,
  ReconcileRun,
  ReconcileSettings,
  ReleaseResult,
  RepositoryReconcileReport,
} from './types';
