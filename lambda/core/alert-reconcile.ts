/**
 * The scheduled reconcile's alert text: the push path's alert for protection, with a section for what only the
 * reconcile does (releases, lifecycle), and the alert for repositories it could not check.
 */
import { ALERT_SCHEMA, buildRepositoryAlert } from './alert';
import { countOf, EntryLister, toAlertSubject } from './alert-size';
import type { Alert } from './ports';
import { shortDigest } from './protective-tag';
import type { ReplicatedDeletionRisk } from './reconcile/replication';
import type { ReconcileRun, ReconcileSettings, ReleaseResult, RepositoryReconcileReport } from './reconcile/types';

/**
 * The repository's alert: the push path's alert (`buildRepositoryAlert`) for protection, gone and
 * archived digests (restores included), with a section for what only the reconcile does (releases, lifecycle); a release-only
 * change is an INFO alert of its own. Undefined when nothing changed.
 */
export function buildReconcileAlert(report: RepositoryReconcileReport, settings: ReconcileSettings): Alert | undefined {
  const base = buildRepositoryAlert(report.protection);
  const releases = report.releases.filter(
    (r): r is Extract<ReleaseResult, { how: 'released' | 'would-release' }> => r.how !== 'kept',
  );
  const lines: string[] = [];
  const events: string[] = [];
  const lister = new EntryLister();
  lines.push(
    ...lister.list(
      releases,
      (r) => {
        const verb = r.how === 'released' ? 'Released' : 'Dry run: would release';
        const effect = r.imageDeleted ? 'it was its last tag, so the image is deleted' : 'its other tags stay';
        return [
          `  ${verb} the protection ${r.tag}: no workload uses ${shortDigest(r.digest)} and it was last used ` +
            `${r.lastUsedAt ?? '?'} (more than ${settings.releaseAfterDays} days ago); ${effect}.`,
        ];
      },
      (more) => {
        const how = releases.some((r) => r.how === 'released') ? 'released' : 'the dry run would release';
        return `  ... and ${countOf(more, 'more protection')} ${how}.`;
      },
    ),
  );
  if (releases.some((r) => r.how === 'released')) events.push('protection-released');
  if (releases.some((r) => r.how === 'would-release')) events.push('would-release');
  lines.push(
    ...lister.list(
      report.mismatched,
      (m) => [
        `  The tag ${m.tag} is on ${shortDigest(m.digest)}, another image than the digest it names: ` +
          'the guard never removes it. Check who created it.',
      ],
      (more) => `  ... and ${countOf(more, 'more protective-looking tag')} on another image than the one it names.`,
    ),
  );
  if (report.mismatched.length) events.push('protective-tag-mismatch');
  const paused = report.releasesPaused;
  if (paused) {
    events.push('releases-paused');
    lines.push(...releasesPausedSection(paused, settings, lister));
  }
  // An in-use image a rule claims now is imminent loss: alert every run until fixed. A rule that could claim
  // protective tags but claims no in-use image yet only rides along with an alert sent for another reason.
  const imminent = (report.lifecycle?.risks ?? []).filter((r) => r.digests.length > 0);
  if (imminent.length) events.push('lifecycle-risk');
  if (report.shield?.outcome === 'installed') events.push('lifecycle-shield-installed');
  const lifecycleLines = lifecycleSection(report);
  if (!base && lines.length === 0 && !imminent.length && report.shield?.outcome !== 'installed') return undefined;
  lines.push(...lifecycleLines);

  const section = ['', 'SCHEDULED RECONCILE', ...lines].join('\n');
  const reconcileJson = {
    releases: report.releases,
    mismatched: report.mismatched,
    ...(report.lifecycle ? { lifecycle: report.lifecycle } : {}),
    ...(report.shield ? { shield: report.shield } : {}),
    ...(paused ? { releasesPaused: paused } : {}),
  };
  if (base) {
    const allEvents = [...base.events, ...events];
    return {
      ...base,
      severity: imminent.length ? 'CRITICAL' : base.severity,
      text: lines.length ? `${base.text}\n${section}` : base.text,
      json: { ...(base.json as object), events: allEvents, reconcile: reconcileJson },
      events: allEvents,
      abridged: base.abridged || lister.leftOut > 0,
    };
  }
  const severity = imminent.length ? 'CRITICAL' : report.mismatched.length || paused ? 'WARNING' : 'INFO';
  const p = report.protection;
  const released = releases.filter((r) => r.how === 'released').length;
  const subject =
    released > 0
      ? `ECR digest guard: protection released on ${released} image${released === 1 ? '' : 's'} in `
      : releases.length > 0
        ? `ECR digest guard: Dry run: would release protection on ${countOf(releases.length, 'image')} in `
        : imminent.length
          ? 'ECR digest guard: CRITICAL: lifecycle policy would expire in-use images in '
          : report.shield?.outcome === 'installed'
            ? 'ECR digest guard: lifecycle shield rule added in '
            : paused
              ? 'ECR digest guard: releases paused (incomplete inventory) in '
              : 'ECR digest guard: protective tag on another image in ';
  return {
    subject: toAlertSubject(subject, p.repository),
    text: [
      `${severity}: ECR digest guard, repository ${p.repository} (account ${p.account}, ${p.region})`,
      section,
    ].join('\n'),
    json: {
      schema: ALERT_SCHEMA,
      severity,
      events,
      account: p.account,
      region: p.region,
      repository: p.repository,
      dryRun: p.dryRun,
      reconcile: reconcileJson,
    },
    severity,
    repository: p.repository,
    events,
    abridged: lister.leftOut > 0,
  };
}

/** Why protections due for release were kept, what could not be seen, and how to let releases resume. */
function releasesPausedSection(
  paused: NonNullable<RepositoryReconcileReport['releasesPaused']>,
  settings: ReconcileSettings,
  lister: EntryLister,
): string[] {
  const n = paused.digests.length;
  return [
    `  Releases paused: ${n} protection${n === 1 ? ' is' : 's are'} due for release (no known use for more than ` +
      `${settings.releaseAfterDays} days),`,
    ...lister.list(
      paused.digests,
      (digest) => [`    - ${digest}`],
      (more) => `    - ... and ${countOf(more, 'more')}`,
    ),
    '  but the inventory could not see everything that may use this repository, and a release on an incomplete',
    '  picture can delete an image a workload still needs. What could not be seen:',
    ...lister.list(
      paused.gaps,
      (gap) => [`    - ${gap.reason}${gap.repositories ? '' : ' (could concern any repository)'}`],
      (more) => `    - ... and ${countOf(more, 'more')}`,
    ),
    '  What to do: close these gaps. For a service whose revision cannot be described, redeploy the service',
    '  (ECS then records a service revision the guard can read) or name its image by digest; a resource deleted',
    '  or a call that failed while the inventory was taken clears by itself. Releases resume on the first run',
    '  that sees everything.',
  ];
}

/** The lifecycle part of an alert: which rule, why, and the fix to paste (or what the opt-in install did). */
function lifecycleSection(report: RepositoryReconcileReport): string[] {
  const findings = report.lifecycle;
  const lines: string[] = [];
  if (findings?.policy === 'unreadable')
    lines.push(`  The lifecycle policy could not be read, so its risk is unknown: ${findings.problems.join('; ')}`);
  for (const risk of findings?.risks ?? []) {
    const who = risk.digests.length
      ? `It claims in-use image${risk.digests.length === 1 ? '' : 's'} ${risk.digests.map(shortDigest).join(', ')} now (${risk.evidence}).`
      : 'It claims no in-use image yet.';
    lines.push(
      `  Lifecycle rule ${risk.rulePriority}${risk.description ? ` ("${risk.description}")` : ''} can ${risk.action} a protected image: ${risk.why} ${who}`,
    );
  }
  if (report.shield?.outcome === 'installed')
    lines.push(
      `  Added the shield rule at the top of the lifecycle policy${report.shield.renumbered ? ' (the existing rules moved down one priority, order kept)' : ''}.`,
    );
  else if (report.shield?.outcome === 'refused') lines.push(`  Did not add the shield rule: ${report.shield.reason}`);
  else if (findings?.fix)
    lines.push(
      `  Fix: add this rule with the highest priority (the lowest rulePriority), keeping the others:`,
      `    ${JSON.stringify(JSON.parse(findings.fix.ruleJson))}`,
      `  ${findings.fix.note}`,
    );
  return lines;
}

/** The alert for repositories the reconcile could not check: the next scheduled run tries them again. */
export function buildReconcileFailureAlert(
  run: ReconcileRun,
  failed: readonly { repository: string; error: unknown }[],
): Alert {
  const names = failed.map((f) => f.repository);
  const text = [
    `WARNING: ECR digest guard, scheduled reconcile (account ${run.account}, ${run.region})`,
    '',
    `The reconcile could not check ${names.length} repositor${names.length === 1 ? 'y' : 'ies'}; the next scheduled run tries again:`,
    ...new EntryLister().list(
      failed,
      (f) => [`  - ${f.repository}: ${(f.error as Error)?.message ?? String(f.error)}`],
      (more) => `  - ... and ${countOf(more, 'more repository', 'more repositories')}, each logged with its error.`,
    ),
    '',
    'Check the function role can call ECR on these repositories, and the function logs for the full error.',
  ].join('\n');
  return {
    subject: `ECR digest guard: reconcile could not check ${names.length} repositor${names.length === 1 ? 'y' : 'ies'}`,
    text,
    json: {
      schema: ALERT_SCHEMA,
      severity: 'WARNING',
      events: ['reconcile-failed'],
      account: run.account,
      region: run.region,
      repositories: names,
    },
    severity: 'WARNING',
    repository: '',
    events: ['reconcile-failed'],
  };
}

/**
 * The alert for organizational units whose accounts could not be discovered: the run listed only the accounts it
 * knew, so digests that only the others use may be unprotected; releases pause and the index keeps every entry.
 */
export function buildAccountsNotDiscoveredAlert(
  run: ReconcileRun,
  notDiscovered: { readonly organizationUnits: readonly string[]; readonly reason: string },
): Alert {
  const units = notDiscovered.organizationUnits.join(', ');
  const text = [
    `WARNING: ECR digest guard, scheduled reconcile (account ${run.account}, ${run.region})`,
    '',
    `The reconcile could not discover the accounts of ${units} (${notDiscovered.reason}). It listed only this ` +
      'account and the named workload accounts; digests only the other accounts use may be unprotected until a ' +
      'discovery succeeds. Releases are paused and nothing is removed from the in-use index for them.',
    '',
    `What to do: Organizations answers these reads only in the management account or a delegated administrator. ` +
      `Register this account from the management account (aws organizations register-delegated-administrator ` +
      `--account-id ${run.account} --service-principal member.org.stacksets.cloudformation.amazonaws.com), check ` +
      `that the reconcile role may call organizations:ListChildren and organizations:ListAccountsForParent (the ` +
      'guard stack grants both) and that the organizational units still exist (organizationUnits). The next ' +
      'scheduled run discovers them again.',
  ].join('\n');
  return {
    subject: `ECR digest guard: could not discover the accounts of ${units}`.slice(0, 100),
    text,
    json: {
      schema: ALERT_SCHEMA,
      severity: 'WARNING',
      events: ['accounts-not-discovered'],
      account: run.account,
      region: run.region,
      organizationUnits: [...notDiscovered.organizationUnits],
      reason: notDiscovered.reason,
    },
    severity: 'WARNING',
    repository: '',
    events: ['accounts-not-discovered'],
  };
}

/**
 * The alert for workloads (other accounts or regions) the reconcile could not list: what it cannot see it cannot
 * protect, so it says which, why, and what to do; releases pause and the index keeps what it knew about them.
 */
export function buildWorkloadsNotListedAlert(
  run: ReconcileRun,
  notListed: readonly { account: string; region: string; reason: string }[],
): Alert {
  const count = countOf(notListed.length, 'workload', 'workloads');
  const text = [
    `WARNING: ECR digest guard, scheduled reconcile (account ${run.account}, ${run.region})`,
    '',
    `The reconcile could not list ${count} in other accounts or regions; digests only they use may be unprotected ` +
      'until a list succeeds. Releases are paused and nothing is removed from the in-use index for them:',
    ...new EntryLister().list(
      notListed,
      (w) => [`  - account ${w.account} ${w.region}: ${w.reason}`],
      (more) => `  - ... and ${countOf(more, 'more workload', 'more workloads')}, each logged with its error.`,
    ),
    '',
    `What to do: in each account, deploy the workload stack (npx cdk deploy EcrDigestGuardWorkload -c ` +
      `guardAccount=${run.account} -c guardRegion=${run.region} …, the same context as the guard), check that the ` +
      `role ecr-digest-guard-reader-${run.region} exists and trusts this guard's reconcile role, or, if the account ` +
      'left, remove it from workloadAccounts and redeploy the guard. The next scheduled run lists it again.',
  ].join('\n');
  return {
    subject: `ECR digest guard: could not list ${count}`,
    text,
    json: {
      schema: ALERT_SCHEMA,
      severity: 'WARNING',
      events: ['workload-not-listed'],
      account: run.account,
      region: run.region,
      workloads: notListed.map((w) => ({ account: w.account, region: w.region, reason: w.reason })),
    },
    severity: 'WARNING',
    repository: '',
    events: ['workload-not-listed'],
  };
}

/** Why a remembered replicated-deletions warning is sent again, for its text. */
export interface ReplicationWarningRepeat {
  readonly send: 'first' | 'new' | 'reminder';
  /** the repository → destination pairs the last warning did not name */
  readonly added: readonly { readonly repository: string; readonly destination: string }[];
  readonly reminderDays: number;
}

/**
 * The warning for repositories holding in-use digests that a replication rule replicates with (or perhaps with)
 * its deletions: an expiry or a last-tag removal here deletes the replicas, whoever pulls them.
 * See: https://docs.aws.amazon.com/AmazonECR/latest/userguide/replication-delete.html
 */
export function buildReplicatedDeletionsAlert(
  run: ReconcileRun,
  risks: readonly ReplicatedDeletionRisk[],
  repeat?: ReplicationWarningRepeat,
): Alert {
  const count = countOf(risks.length, 'repository', 'repositories');
  const added = repeat?.added ?? [];
  const unknown = risks.some((r) => r.deletions === 'unknown');
  const text = [
    `WARNING: ECR digest guard, scheduled reconcile (account ${run.account}, ${run.region})`,
    '',
    'REPLICATED DELETIONS',
    `${count} holding in-use images ${risks.length === 1 ? 'is' : 'are'} replicated. Where a replication rule ` +
      'replicates deletions, a lifecycle expiry or a last-tag removal here deletes the image in every destination ' +
      "too, and this guard neither sees the destinations' workloads nor can a protective tag there stop it:",
    ...new EntryLister().list(
      risks,
      (r) => [
        `  - ${r.repository} → ${r.destinations.join(', ')}` +
          (r.deletions === 'replicated' ? ' (deletions replicated)' : ' (deletions: cannot tell)'),
      ],
      (more) => `  - ... and ${countOf(more, 'more repository', 'more repositories')}`,
    ),
    ...(unknown
      ? [
          '  "cannot tell": the AWS SDK this guard uses does not read a rule\'s deleteReplication setting, so every',
          '  replicated repository in use is named; check each rule in the ECR console or API.',
        ]
      : []),
    ...(added.length > 0
      ? [
          'New since the last warning:',
          ...new EntryLister().list(
            added,
            (a) => [`  - ${a.repository} → ${a.destination}`],
            (more) => `  - ... and ${countOf(more, 'more', 'more')}`,
          ),
        ]
      : []),
    ...(repeat
      ? [
          (repeat.send === 'reminder' ? 'Reminder: nothing was added since the last warning. ' : '') +
            `This warning is sent again at once when a repository or destination is added, otherwise every ` +
            `${repeat.reminderDays} days while the risk stands.`,
        ]
      : []),
    '',
    'What to do: turn off the replication of deletions on those rules (deleteReplication enabled: false), or run a ' +
      'guard in each destination registry and make this guard list the workloads that pull from the destinations ' +
      '(workloadAccounts / workloadRegions), so an image they use keeps a tag here. See ' +
      'https://docs.aws.amazon.com/AmazonECR/latest/userguide/replication-delete.html',
  ].join('\n');
  return {
    subject: `ECR digest guard: ${count} in use replicate${risks.length === 1 ? 's' : ''} deletions`,
    text,
    json: {
      schema: ALERT_SCHEMA,
      severity: 'WARNING',
      events: ['replicated-deletions'],
      account: run.account,
      region: run.region,
      repositories: risks.map((r) => ({
        repository: r.repository,
        destinations: [...r.destinations],
        deletions: r.deletions,
      })),
      ...(repeat ? { sent: repeat.send } : {}),
      ...(added.length > 0 ? { newSinceLastWarning: added.map((a) => ({ ...a })) } : {}),
    },
    severity: 'WARNING',
    repository: '',
    events: ['replicated-deletions'],
  };
}
