/**
 * The audit's findings as data (the `--json` report, schema `cli/audit-report.schema.json`), its verdict and
 * exit code, and the text a person reads. Everything here is read off the core's reports: nothing is decided
 * again.
 */
import type { Alert } from '../../lambda/core/ports';
import type { RepositoryReconcileReport } from '../../lambda/core/reconcile';
import type { Consumer, InventoryGap } from '../../lambda/core/types';
import { replicatedTo, type TargetAudit } from './run';

export const AUDIT_REPORT_SCHEMA = 'ecr-digest-guard/audit-report@1';

export type Verdict = 'nothing-at-risk' | 'at-risk' | 'incomplete' | 'could-not-run';

/** 0: nothing at risk; 1: something at risk, or a region could not be read; 2: nothing could be read. */
export const EXIT_CODES: Readonly<Record<Verdict, number>> = {
  'nothing-at-risk': 0,
  'at-risk': 1,
  incomplete: 1,
  'could-not-run': 2,
};

interface DigestEntry {
  readonly digest: string;
  readonly consumers: readonly ConsumerJson[];
}
type ConsumerJson = Consumer;

export interface RepositoryJson {
  readonly repository: string;
  readonly inUseDigests: number;
  readonly untaggedInUse: readonly (DigestEntry & { readonly protectiveTag: string })[];
  readonly gone: readonly DigestEntry[];
  readonly archived: readonly (DigestEntry & { readonly restore: string })[];
  readonly refused: readonly (DigestEntry & { readonly reason: string })[];
  readonly indexChildren: readonly { readonly index: string; readonly children: readonly string[] }[];
  readonly lifecycle?: {
    readonly policy: string;
    readonly problems: readonly string[];
    readonly preview: string;
    readonly risks: readonly {
      readonly rulePriority: number;
      readonly action: string;
      readonly reach: string;
      readonly digests: readonly string[];
      readonly evidence: string;
      readonly why: string;
    }[];
    readonly fix?: { readonly ruleJson: string; readonly note: string };
  };
  readonly replicatedTo: readonly string[];
  readonly gaps: readonly string[];
  readonly guardWouldDo: readonly string[];
  readonly alert?: { readonly severity: string; readonly subject: string; readonly events: readonly string[] };
  readonly atRisk: boolean;
}

export type TargetJson =
  | {
      readonly account: string;
      readonly region: string;
      readonly status: 'read';
      readonly inventoryTakenAt: string;
      readonly gaps: readonly InventoryGap[];
      readonly replication: { readonly status: 'read' | 'unreadable'; readonly note: string };
      readonly repositories: readonly RepositoryJson[];
      readonly failedRepositories: readonly { readonly repository: string; readonly error: string }[];
      readonly apiCalls: number;
    }
  | { readonly account?: string; readonly region: string; readonly status: 'failed'; readonly error: string };

export interface AuditReportJson {
  readonly schema: typeof AUDIT_REPORT_SCHEMA;
  readonly generatedAt: string;
  readonly tagPrefix: string;
  readonly verdict: Verdict;
  readonly exitCode: number;
  readonly summary: {
    readonly targetsRead: number;
    readonly targetsFailed: number;
    readonly repositoriesAtRisk: number;
    readonly untaggedInUse: number;
    readonly gone: number;
    readonly archived: number;
    readonly lifecycleRisks: number;
  };
  readonly targets: readonly TargetJson[];
}

const REPLICATION_NOTE =
  'ECR can replicate deletions (a rule with deleteReplication); the pinned SDK does not model that field, so ' +
  'check each listed rule in the console or with the AWS CLI: with it on, an expiry here deletes the replicas too.';

export function buildAuditReport(audits: readonly TargetAudit[], tagPrefix: string, now: Date): AuditReportJson {
  const targets = audits.map((audit) => targetJson(audit));
  const read = targets.filter((t) => t.status === 'read');
  const repositories = read.flatMap((t) => t.repositories);
  const summary = {
    targetsRead: read.length,
    targetsFailed: targets.length - read.length,
    repositoriesAtRisk:
      repositories.filter((r) => r.atRisk).length + read.reduce((n, t) => n + t.failedRepositories.length, 0),
    untaggedInUse: repositories.reduce((n, r) => n + r.untaggedInUse.length, 0),
    gone: repositories.reduce((n, r) => n + r.gone.length, 0),
    archived: repositories.reduce((n, r) => n + r.archived.length, 0),
    lifecycleRisks: repositories.reduce((n, r) => n + (r.lifecycle?.risks.length ?? 0), 0),
  };
  const verdict: Verdict =
    read.length === 0
      ? 'could-not-run'
      : summary.repositoriesAtRisk > 0
        ? 'at-risk'
        : summary.targetsFailed > 0
          ? 'incomplete'
          : 'nothing-at-risk';
  return {
    schema: AUDIT_REPORT_SCHEMA,
    generatedAt: now.toISOString(),
    tagPrefix,
    verdict,
    exitCode: EXIT_CODES[verdict],
    summary,
    targets,
  };
}

function targetJson(audit: TargetAudit): TargetJson {
  if (audit.status === 'failed')
    return {
      ...(audit.account ? { account: audit.account } : {}),
      region: audit.region,
      status: 'failed',
      error: audit.error,
    };
  const { outcome, inventory } = audit;
  return {
    account: audit.account,
    region: audit.region,
    status: 'read',
    inventoryTakenAt: inventory.takenAt.toISOString(),
    gaps: inventory.gaps.map((g) => ({
      reason: g.reason,
      ...(g.repositories ? { repositories: g.repositories } : {}),
    })),
    replication:
      audit.replication.status === 'read'
        ? { status: 'read', note: REPLICATION_NOTE }
        : {
            status: 'unreadable',
            note: `could not read the registry's replication rules: ${audit.replication.reason}`,
          },
    repositories: outcome.reports.map((report) =>
      repositoryJson(
        report,
        inventory.byRepository.get(report.repository)?.size ?? 0,
        audit.indexChildren.get(report.repository),
        replicatedTo(report.repository, audit.replication),
        audit.alerts.get(report.repository),
      ),
    ),
    failedRepositories: outcome.failed.map((f) => ({ repository: f.repository, error: errorText(f.error) })),
    apiCalls: audit.apiCalls,
  };
}

function repositoryJson(
  report: RepositoryReconcileReport,
  inUseDigests: number,
  children: ReadonlyMap<string, readonly string[]> | undefined,
  replicas: readonly string[],
  alert: Alert | undefined,
): RepositoryJson {
  const p = report.protection;
  const consumers = (list: readonly Consumer[]) => list.map((c) => ({ ...c }));
  const untaggedInUse = p.protected.map((d) => ({
    digest: d.digest,
    protectiveTag: d.tag,
    consumers: consumers(d.consumers),
  }));
  const lifecycle = report.lifecycle;
  const guardWouldDo = [
    ...p.protected.map((d) => `${d.how === 'tagged' ? 'added' : 'add'} ${d.tag} to ${d.digest}`),
    ...p.restores.map((r) => `${restoreVerb(r.how)} ${r.digest} (archived images cannot be pulled)`),
    ...p.refused.map((r) => `cannot protect ${r.digest}: ${r.reason}`),
    ...p.gone.map((g) => `nothing: ${g.digest} is gone; redeploy its workloads to a digest that exists`),
    ...(lifecycle?.risks.length
      ? [
          `alert CRITICAL on every run until the lifecycle policy is fixed (installLifecycleShield=true adds the shield rule)`,
        ]
      : []),
  ];
  const atRisk =
    p.protected.some((d) => d.how === 'would-tag') ||
    p.gone.length > 0 ||
    p.restores.some((r) => r.how !== 'restore-started') ||
    p.refused.length > 0 ||
    (lifecycle?.risks.length ?? 0) > 0;
  return {
    repository: report.repository,
    inUseDigests,
    untaggedInUse,
    gone: p.gone.map((g) => ({ digest: g.digest, consumers: consumers(g.consumers) })),
    archived: p.restores.map((r) => ({ digest: r.digest, consumers: consumers(r.consumers), restore: r.how })),
    refused: p.refused.map((r) => ({ digest: r.digest, consumers: consumers(r.consumers), reason: r.reason })),
    indexChildren: [...(children ?? new Map<string, readonly string[]>())].map(([index, list]) => ({
      index,
      children: [...list].sort(),
    })),
    ...(lifecycle
      ? {
          lifecycle: {
            policy: lifecycle.policy,
            problems: lifecycle.problems,
            preview: lifecycle.preview,
            risks: lifecycle.risks.map((r) => ({
              rulePriority: r.rulePriority,
              action: r.action,
              reach: r.reach,
              digests: r.digests,
              evidence: r.evidence,
              why: r.why,
            })),
            ...(lifecycle.fix ? { fix: { ruleJson: lifecycle.fix.ruleJson, note: lifecycle.fix.note } } : {}),
          },
        }
      : {}),
    replicatedTo: replicas,
    gaps: p.gaps,
    guardWouldDo,
    ...(alert ? { alert: { severity: alert.severity, subject: alert.subject, events: alert.events } } : {}),
    atRisk,
  };
}

function restoreVerb(how: string): string {
  switch (how) {
    case 'would-restore':
      return 'restore';
    case 'restore-started':
      return 'started restoring';
    case 'restore-in-progress':
      return 'wait: already restoring';
    default:
      return 'could not restore';
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** Short text for people: per region, per repository at risk, then one verdict line. */
export function renderAuditText(report: AuditReportJson): string {
  const lines: string[] = [];
  const consumerText = (c: Consumer) =>
    c.kind === 'lambda-function'
      ? `Lambda ${c.arn ?? c.image}`
      : `ECS ${c.kind.replace('ecs-', '')} ${[c.cluster, c.service].filter(Boolean).join('/') || (c.arn ?? '')}`;
  for (const target of report.targets) {
    const where = `${target.account ? `${target.account} ` : ''}${target.region}`;
    if (target.status === 'failed') {
      lines.push(`${where}: could not be read: ${target.error}`, '');
      continue;
    }
    const atRisk = target.repositories.filter((r) => r.atRisk);
    lines.push(
      `${where}: ${target.repositories.length} repositories in use, ${atRisk.length} at risk (${target.apiCalls} API calls)`,
    );
    for (const repository of atRisk) {
      lines.push(`  ${repository.repository}`);
      for (const d of repository.untaggedInUse)
        lines.push(`    in use, no tag left: ${d.digest} (${d.consumers.map(consumerText).join(', ')})`);
      for (const d of repository.gone)
        lines.push(`    in use and GONE: ${d.digest} (${d.consumers.map(consumerText).join(', ')})`);
      for (const d of repository.archived) lines.push(`    in use and archived: ${d.digest}`);
      for (const d of repository.refused) lines.push(`    cannot be protected: ${d.digest}: ${d.reason}`);
      for (const risk of repository.lifecycle?.risks ?? [])
        lines.push(
          `    lifecycle rule ${risk.rulePriority} can ${risk.action === 'transition' ? 'archive' : 'expire'} ` +
            `${risk.digests.length ? risk.digests.join(', ') : 'protected images'} (${risk.evidence})`,
        );
      for (const child of repository.indexChildren)
        lines.push(`    index ${child.index} references ${child.children.length} manifests`);
      if (repository.replicatedTo.length) lines.push(`    replicated to ${repository.replicatedTo.join(', ')}`);
      for (const action of repository.guardWouldDo) lines.push(`    the guard would: ${action}`);
    }
    for (const failed of target.failedRepositories)
      lines.push(`  ${failed.repository}: could not be read: ${failed.error}`);
    const replicated = target.repositories.filter((r) => r.replicatedTo.length > 0 && !r.atRisk);
    if (replicated.length)
      lines.push(`  replicated: ${replicated.map((r) => `${r.repository} → ${r.replicatedTo.join(', ')}`).join('; ')}`);
    if (replicated.length || atRisk.some((r) => r.replicatedTo.length)) lines.push(`  ${target.replication.note}`);
    if (target.gaps.length) lines.push(`  the inventory could not see: ${target.gaps.map((g) => g.reason).join('; ')}`);
    lines.push('');
  }
  lines.push(verdictLine(report));
  return `${lines.join('\n')}\n`;
}

export function verdictLine(report: AuditReportJson): string {
  const s = report.summary;
  const found =
    `${s.untaggedInUse} in-use digests with no tag, ${s.gone} gone, ${s.archived} archived, ` +
    `${s.lifecycleRisks} lifecycle risks in ${s.repositoriesAtRisk} repositories`;
  switch (report.verdict) {
    case 'nothing-at-risk':
      return `NOTHING AT RISK: ${s.targetsRead} account/regions read, every in-use digest is tagged and no lifecycle rule can take one.`;
    case 'at-risk':
      return `AT RISK: ${found}${s.targetsFailed ? `; ${s.targetsFailed} account/regions could not be read` : ''}.`;
    case 'incomplete':
      return `INCOMPLETE: nothing at risk where read, but ${s.targetsFailed} account/regions could not be read: treat them as at risk.`;
    case 'could-not-run':
      return 'COULD NOT RUN: no account/region could be read.';
  }
}
