/**
 * The reconcile function's settings: the push function's (topic, region, prefix, dry run, scope) plus the
 * release grace period. A bad value fails the cold start loudly, with every problem named.
 */
import {
  DEFAULT_LIFECYCLE_CHECK,
  LIFECYCLE_CHECKS,
  MAX_RELEASE_AFTER_DAYS,
  type LifecycleCheck,
} from '../core/defaults';
import { CATCH_UP_INTERVAL_MINUTES, type ReconcileSettings } from '../core/reconcile';
import { readPushHandlerConfig, readWorkloads, type PushHandlerConfig } from './config';

export interface ReconcileHandlerConfig extends PushHandlerConfig, ReconcileSettings {
  /** other accounts listed through their reader role (`WORKLOAD_ACCOUNTS`); absent: only the own account */
  readonly workloadAccounts?: readonly string[];
  /** their regions (`WORKLOAD_REGIONS`); absent: the function's own region */
  readonly workloadRegions?: readonly string[];
  /** organizational units whose accounts each run discovers and lists (`ORGANIZATION_UNITS`) */
  readonly organizationUnits?: readonly string[];
  /**
   * A catch-up lists a workload whose last complete list started longer ago than this (`LIST_BOUND_MINUTES`, whole
   * minutes, at least the catch-up's own period); absent: a catch-up event is refused (the construct always sets it).
   */
  readonly listBoundMinutes?: number;
}

export { MAX_RELEASE_AFTER_DAYS } from '../core/defaults';

export function readReconcileHandlerConfig(env: NodeJS.ProcessEnv): ReconcileHandlerConfig {
  const problems: string[] = [];
  let base: PushHandlerConfig | undefined;
  try {
    base = readPushHandlerConfig(env);
  } catch (error) {
    problems.push((error as Error).message.replace(/^invalid configuration: /, ''));
  }
  // Unset, empty or 0: never release (the safe default, see ReconcileSettings.releaseAfterDays).
  const text = (env.RELEASE_AFTER_DAYS ?? '').trim();
  const releaseAfterDays = text === '' ? 0 : Number(text);
  if (
    !/^\d+$/.test(text || '0') ||
    !Number.isSafeInteger(releaseAfterDays) ||
    releaseAfterDays > MAX_RELEASE_AFTER_DAYS
  ) {
    problems.push(
      `RELEASE_AFTER_DAYS must be a whole number of days from 0 (never release) to ${MAX_RELEASE_AFTER_DAYS}, got "${env.RELEASE_AFTER_DAYS}"`,
    );
  }
  const lifecycleCheck =
    (env.LIFECYCLE_CHECK ?? DEFAULT_LIFECYCLE_CHECK).trim().toLowerCase() || DEFAULT_LIFECYCLE_CHECK;
  if (!isLifecycleCheck(lifecycleCheck)) {
    problems.push(`LIFECYCLE_CHECK must be "off", "evaluate" or "preview", got "${env.LIFECYCLE_CHECK}"`);
  }
  const installText = (env.INSTALL_LIFECYCLE_SHIELD ?? 'false').trim().toLowerCase();
  if (installText !== 'true' && installText !== 'false')
    problems.push(`INSTALL_LIFECYCLE_SHIELD must be "true" or "false", got "${env.INSTALL_LIFECYCLE_SHIELD}"`);
  const { workloadAccounts, workloadRegions } = readWorkloads(env, problems);
  const organizationUnits = (env.ORGANIZATION_UNITS ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
  // The Organizations API's OrganizationalUnitId pattern (lib/validation.ts checks the same at synth time).
  const badUnits = organizationUnits.filter((id) => !/^ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$/.test(id));
  if (badUnits.length > 0) problems.push(`ORGANIZATION_UNITS must be OU ids (ou-…), got ${badUnits.join(', ')}`);
  const boundText = (env.LIST_BOUND_MINUTES ?? '').trim();
  const listBoundMinutes = boundText === '' ? undefined : Number(boundText);
  if (listBoundMinutes !== undefined && (!/^\d+$/.test(boundText) || listBoundMinutes < CATCH_UP_INTERVAL_MINUTES)) {
    problems.push(
      `LIST_BOUND_MINUTES must be a whole number of minutes of at least ${CATCH_UP_INTERVAL_MINUTES}, got "${env.LIST_BOUND_MINUTES}"`,
    );
  }
  if (problems.length || !base) throw new Error(`invalid configuration: ${problems.join('; ')}`);
  return {
    ...base,
    ...(releaseAfterDays > 0 ? { releaseAfterDays } : {}),
    lifecycleCheck: lifecycleCheck as LifecycleCheck,
    installLifecycleShield: installText === 'true',
    ...(workloadAccounts.length > 0 ? { workloadAccounts } : {}),
    ...(workloadRegions.length > 0 ? { workloadRegions } : {}),
    ...(organizationUnits.length > 0 ? { organizationUnits } : {}),
    ...(listBoundMinutes !== undefined ? { listBoundMinutes } : {}),
  };
}

function isLifecycleCheck(value: string): value is LifecycleCheck {
  return (LIFECYCLE_CHECKS as readonly string[]).includes(value);
}
