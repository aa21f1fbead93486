/**
 * `ecr-digest-guard protect`: audits, shows exactly what it will change, asks, applies it through the guard's
 * own protect step (the reconcile core without dry run, only in the repositories the audit found at risk), and
 * audits again. It never releases a tag and never changes a lifecycle policy.
 */
import { DEFAULT_TAG_PREFIX } from '../../lambda/core/protective-tag';
import type { TargetScope } from '../aws';
import { auditTarget, describeError } from '../audit/run';
import { renderAuditText, type AuditReportJson, type TargetJson } from '../audit/report';
import type { CliDependencies } from '../io';
import { resolveScopes, UsageError, type ScopeOptions } from '../options';
import { readGuardStack } from '../stack';
import { auditScopes } from './audit';

export interface ProtectOptions extends ScopeOptions {
  readonly tagPrefix?: string;
  readonly yes?: boolean;
  readonly stackName: string;
  readonly evenIfDryRun?: boolean;
  readonly quiet?: boolean;
}

export async function runProtect(options: ProtectOptions, deps: CliDependencies): Promise<number> {
  const scopes = await resolveScopes(options, deps.aws);
  const tagPrefix = await deployedTagPrefix(scopes, options, deps);
  const before = await auditScopes(scopes, { tagPrefix, preview: false }, options, deps);
  const plan = planOf(before);
  if (before.verdict === 'could-not-run') {
    deps.io.out(renderAuditText(before));
    throw new UsageError('could not read any region: nothing to protect; check the credentials and permissions');
  }
  if (plan.length === 0) {
    deps.io.out(renderAuditText(before));
    deps.io.out('Nothing for protect to do: it adds protective tags and restores archived images only.\n');
    return before.exitCode;
  }
  deps.io.out(`protect will change ${plan.reduce((n, p) => n + p.actions.length, 0)} images:\n`);
  for (const step of plan) {
    deps.io.out(`  ${step.target.account} ${step.target.region} ${step.repository}\n`);
    for (const action of step.actions) deps.io.out(`    ${action}\n`);
  }
  if (!options.yes) {
    if (!deps.io.stdinIsTTY)
      throw new UsageError(
        'refusing to change the registry without a confirmation: pass --yes to apply the plan above',
      );
    if (!(await deps.io.confirm('Apply these changes? [y/N] '))) {
      deps.io.out('Nothing changed.\n');
      return before.exitCode;
    }
  }
  for (const scope of scopes) {
    const repositories = plan
      .filter((p) => p.target.region === scope.region && p.scope === scope)
      .map((p) => p.repository);
    if (repositories.length === 0) continue;
    const applied = await auditTarget(await deps.aws.clientsFor(scope), {
      tagPrefix,
      preview: false,
      apply: true,
      repositories,
    });
    if (applied.status === 'failed') deps.io.err(`ecr-digest-guard: ${scope.region}: ${applied.error}\n`);
  }
  const after = await auditScopes(scopes, { tagPrefix, preview: false }, options, deps);
  deps.io.out(`\nafter protect:\n${renderAuditText(after)}`);
  return after.exitCode;

  function planOf(report: AuditReportJson) {
    return report.targets.flatMap((target, i) =>
      target.status === 'read'
        ? target.repositories.flatMap((r) => {
            const actions = [
              ...r.untaggedInUse.map((d) => `add ${d.protectiveTag} to ${d.digest}`),
              ...r.archived.filter((a) => a.restore === 'would-restore').map((a) => `restore archived ${a.digest}`),
            ];
            return actions.length
              ? [
                  {
                    target: target as TargetJson & { account: string },
                    scope: scopes[i]!,
                    repository: r.repository,
                    actions,
                  },
                ]
              : [];
          })
        : [],
    );
  }
}

/**
 * Where the guard is deployed, protect uses its prefix (so the guard recognises and keeps the tags) and refuses
 * if it runs in dry run there: whoever deployed it in dry run decided nothing is changed yet.
 */
async function deployedTagPrefix(
  scopes: readonly TargetScope[],
  options: ProtectOptions,
  deps: CliDependencies,
): Promise<string> {
  const prefixes = new Set<string>();
  for (const scope of scopes) {
    let stack: Awaited<ReturnType<typeof readGuardStack>>;
    try {
      stack = await readGuardStack((await deps.aws.clientsFor(scope)).cloudformation, options.stackName);
    } catch (error) {
      if (options.evenIfDryRun) continue;
      throw new UsageError(
        `${scope.region}: could not read stack ${options.stackName} (${describeError(error)}); ` +
          'pass --stack-name, or --even-if-dry-run to protect without checking how the guard is deployed',
      );
    }
    if (!stack.found) continue;
    if (stack.outputs.DryRun === 'true' && !options.evenIfDryRun)
      throw new UsageError(
        `${scope.region}: the guard (stack ${options.stackName}) is deployed in dry run here; ` +
          'pass --even-if-dry-run to protect anyway',
      );
    if (stack.outputs.TagPrefix) prefixes.add(stack.outputs.TagPrefix);
  }
  if (prefixes.size > 1)
    throw new UsageError(
      `the guard uses several tag prefixes here (${[...prefixes].join(', ')}): protect one at a time`,
    );
  const deployed = [...prefixes][0];
  if (deployed && options.tagPrefix && options.tagPrefix !== deployed)
    throw new UsageError(`--tag-prefix ${options.tagPrefix} differs from the deployed guard's ${deployed}`);
  return options.tagPrefix ?? deployed ?? DEFAULT_TAG_PREFIX;
}
