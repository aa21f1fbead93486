/** `ecr-digest-guard audit`: read-only, per account and region, the guard's own findings and what it would do. */
import { DEFAULT_TAG_PREFIX } from '../../lambda/core/protective-tag';
import type { AwsAccess, TargetScope } from '../aws';
import { auditTarget, describeError, type AuditSettings, type TargetAudit } from '../audit/run';
import { buildAuditReport, renderAuditText, type AuditReportJson } from '../audit/report';
import type { CliDependencies } from '../io';
import { resolveScopes, type ScopeOptions } from '../options';
import { startProgress } from '../progress';

export interface AuditOptions extends ScopeOptions {
  readonly tagPrefix?: string;
  readonly preview?: boolean;
  readonly json?: boolean;
  readonly quiet?: boolean;
}

export async function runAudit(options: AuditOptions, deps: CliDependencies): Promise<number> {
  const scopes = await resolveScopes(options, deps.aws);
  const tagPrefix = options.tagPrefix ?? DEFAULT_TAG_PREFIX;
  const report = await auditScopes(scopes, { tagPrefix, preview: options.preview ?? false }, options, deps);
  deps.io.out(options.json ? `${JSON.stringify(report, null, 2)}\n` : renderAuditText(report));
  if (report.verdict === 'could-not-run') deps.io.err(couldNotRun(report));
  return report.exitCode;
}

export async function auditScopes(
  scopes: readonly TargetScope[],
  settings: AuditSettings,
  options: { readonly json?: boolean; readonly quiet?: boolean },
  deps: CliDependencies,
): Promise<AuditReportJson> {
  const progress = await startProgress(deps.io.stderrIsTTY && !options.quiet && !options.json, 'auditing');
  const audits: TargetAudit[] = [];
  try {
    for (const [i, scope] of scopes.entries()) {
      progress.update(`auditing ${scope.region} (${i + 1} of ${scopes.length}): inventory, images, lifecycle`);
      audits.push(await auditScope(scope, settings, deps.aws));
    }
  } finally {
    progress.stop();
  }
  return buildAuditReport(audits, settings.tagPrefix, (deps.now ?? (() => new Date()))());
}

async function auditScope(scope: TargetScope, settings: AuditSettings, aws: AwsAccess): Promise<TargetAudit> {
  try {
    return await auditTarget(await aws.clientsFor(scope), settings);
  } catch (error) {
    return { status: 'failed', region: scope.region, error: describeError(error) };
  }
}

function couldNotRun(report: AuditReportJson): string {
  const first = report.targets.find((t) => t.status === 'failed');
  return (
    `ecr-digest-guard: could not read any region (${first && 'error' in first ? first.error : 'no region'}); ` +
    'check the credentials (--profile, --role-arn) and the read-only permissions the README lists\n'
  );
}
