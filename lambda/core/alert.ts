/**
 * Turns what the guard found and did for one repository into one alert: a subject under 100 characters,
 * a plain-text body that reads well in a mail client, and JSON for machine subscribers.
 * Returns undefined when nothing changed, so duplicates and quiet batches send nothing.
 */
import {
  howItWent,
  lastActionOn,
  listConsumers,
  lookupCommand,
  possiblyInUseHeadline,
  possiblyInUseLines,
  whereTagWent,
  whoPushed,
} from './alert-parts';
import { countOf, EntryLister, toAlertSubject } from './alert-size';
import { findTagRaces } from './decide';
import { SHIELD_COUNT_NUMBER, shieldPattern } from './lifecycle/shield';
import type { Alert } from './ports';
import { shortDigest } from './protective-tag';
import type { ImpairedService, RepositoryReport } from './repository-report';

export const ALERT_SCHEMA = 'ecr-digest-guard/alert@1';
export { MAX_SUBJECT_LENGTH } from './alert-size';

/** "Restoring an archived image takes up to about 20 minutes" (ECR archive, Nov 2025). */
export const RESTORE_DELAY_TEXT = 'up to about 20 minutes';

/** How far back CloudTrail event history (LookupEvents) reaches: 90 days. */
const CLOUDTRAIL_HISTORY_MS = 90 * 24 * 60 * 60 * 1000;

export type { PossiblyInUse, ProtectedDigest, RepositoryReport, RestoreResult } from './repository-report';

export function buildRepositoryAlert(report: RepositoryReport): Alert | undefined {
  const possiblyInUse = report.possiblyInUse ?? [];
  const changed =
    report.protected.length +
    report.gone.length +
    report.archived.length +
    report.refused.length +
    possiblyInUse.length;
  if (changed === 0) return undefined;
  const critical = report.gone.length + report.archived.length + report.refused.length > 0;
  const severity = critical ? 'CRITICAL' : 'WARNING';
  const events = [
    ...(report.impairedServices?.length ? ['service-start-impaired'] : []),
    ...(report.protected.some((p) => p.how !== 'would-tag') ? ['protected'] : []),
    ...(report.protected.some((p) => p.how === 'would-tag') ? ['would-protect'] : []),
    ...(report.gone.length ? ['digest-gone'] : []),
    ...(report.archived.length ? ['digest-archived'] : []),
    ...(['restore-started', 'would-restore', 'restore-in-progress', 'restore-failed'] as const).filter((how) =>
      report.restores.some((r) => r.how === how),
    ),
    ...(report.refused.length ? ['protection-refused'] : []),
    ...(possiblyInUse.length ? ['possibly-in-use'] : []),
  ];
  const lister = new EntryLister();
  return {
    subject: subjectFor(report),
    text: textFor(report, severity, lister),
    json: jsonFor(report, severity, events),
    severity,
    repository: report.repository,
    events,
    abridged: lister.leftOut > 0,
  };
}

function subjectFor(report: RepositoryReport): string {
  const count = (n: number, what: string) => `${n} in-use ${what}${n === 1 ? '' : 's'}`;
  let headline: string;
  const impaired = impairedServicesName(report);
  if (impaired && report.gone.length)
    headline = `CRITICAL: ${impaired} cannot start: ${count(report.gone.length, 'image')} gone from`;
  else if (impaired && report.archived.length) {
    headline = `CRITICAL: ${impaired} cannot start: ${count(report.archived.length, 'image')} archived in`;
  } else if (report.gone.length) {
    const expiredOnly = report.gone.every((g) => lastActionOn(report, g.digest)?.action === 'EXPIRE');
    headline = `CRITICAL: ${count(report.gone.length, 'image')} ${expiredOnly ? 'expired' : 'deleted'} from`;
  } else if (report.archived.length) headline = `CRITICAL: ${count(report.archived.length, 'image')} archived in`;
  else if (report.refused.length) headline = `CRITICAL: could not protect ${count(report.refused.length, 'image')} in`;
  else if (report.possiblyInUse?.length) headline = possiblyInUseHeadline(report);
  else if (report.dryRun) headline = `Dry run: would protect ${count(report.protected.length, 'image')} in`;
  else headline = `Protected ${count(report.protected.length, 'image')} in`;
  return toAlertSubject(`ECR digest guard: ${headline} `, report.repository);
}

/** Longer service names would crowd the repository out of the subject; the text names every service. */
const MAX_SERVICE_NAME_IN_SUBJECT = 32;

/** `ECS service web`, `3 ECS services`, or undefined when no impaired service led to this report. */
function impairedServicesName(report: RepositoryReport): string | undefined {
  const services = report.impairedServices ?? [];
  const only = services.length === 1 ? services[0]! : undefined;
  const what = only?.kind === 'daemon' ? 'ECS daemon' : 'ECS service';
  if (only) return only.service.length <= MAX_SERVICE_NAME_IN_SUBJECT ? `${what} ${only.service}` : `1 ${what}`;
  return services.length ? `${services.length} ECS services` : undefined;
}

/** ` in account 222222222222 (eu-west-1)` for a workload's service; empty in the registry's own account and region. */
function runsIn(service: ImpairedService): string {
  return service.account && service.region ? ` in account ${service.account} (${service.region})` : '';
}

function textFor(report: RepositoryReport, severity: string, lister: EntryLister): string {
  const lines: string[] = [];
  const where = `repository ${report.repository} (account ${report.account}, ${report.region})`;
  lines.push(`${severity}: ECR digest guard, ${where}`, countsLine(report), '');
  lines.push('WHAT HAPPENED');
  lines.push(
    ...lister.list(
      report.impairedServices ?? [],
      (service) => [
        service.kind === 'daemon'
          ? `  ECS daemon ${service.cluster}/${service.service}${runsIn(service)} cannot start tasks ` +
            `(DAEMON_TASK_START_IMPAIRED at ${service.time.toISOString()}); its revision pins images of this repository.`
          : `  ECS service ${service.cluster}/${service.service}${runsIn(service)} cannot start tasks ` +
            `(SERVICE_TASK_START_IMPAIRED at ${service.time.toISOString()}); it pins images of this repository.`,
      ],
      (more) => `  ... and ${countOf(more, 'more ECS service')} that cannot start tasks.`,
    ),
  );
  const moreImages = (what: string) => (more: number) => `  ... and ${countOf(more, 'more in-use image')} ${what}.`;
  const moreTags = (what: string) => (more: number) => `  ... and ${countOf(more, 'more tag')} ${what}.`;
  lines.push(
    ...lister.list(
      report.protected,
      (p) => [
        `  Image ${p.digest} has no tag left, but it is still in use:`,
        ...listConsumers(p.consumers, '    ', lister),
        ...whereTagWent(report, p.consumers),
      ],
      moreImages('with no tag left'),
    ),
  );
  lines.push(
    ...lister.list(
      report.gone,
      (g) => {
        const how = howItWent(report, g.digest);
        return [
          how
            ? `  Image ${g.digest} was ${how}, but it is still in use:`
            : report.impairedServices?.length
              ? `  Image ${g.digest} is gone from the repository: the service cannot pull it. It is pinned by:`
              : `  Image ${g.digest} is no longer in the repository, but it is still in use:`,
          ...listConsumers(g.consumers, '    ', lister),
          '    The next task launch of these workloads (a replacement after a failed health check, a scale-out) will fail',
          '    with CannotPullContainerError ... failed to resolve ref ... not found.',
        ];
      },
      moreImages('gone from the repository'),
    ),
  );
  lines.push(
    ...lister.list(
      report.archived,
      (a) => {
        const how = howItWent(report, a.digest);
        return [
          `  Image ${a.digest} ${how ? `was ${how} and ` : ''}is in the ECR archive, which cannot be pulled, ` +
            'but it is still in use:',
          ...listConsumers(a.consumers, '    ', lister),
        ];
      },
      moreImages('in the ECR archive'),
    ),
  );
  lines.push(
    ...lister.list(
      report.refused,
      (r) => [
        `  Image ${r.digest} has no tag left and is in use, but the guard could not protect it: ${r.reason}`,
        ...listConsumers(r.consumers, '    ', lister),
      ],
      moreImages('the guard could not protect'),
    ),
  );
  lines.push(...possiblyInUseLines(report, lister));
  const races = findTagRaces(report.pushes);
  lines.push(
    ...lister.list(
      races,
      (race) => {
        const seconds = Math.round((race.lastAt.getTime() - race.firstAt.getTime()) / 1000);
        return [
          `  Likely cause: tag "${race.tag}" was pushed ${race.digests.length} times with different images within ${seconds} s`,
          `  (${race.digests.map(shortDigest).join(', ')}): two writers, e.g. two pipelines, pushed the same tag.`,
        ];
      },
      moreTags('pushed with different images seconds apart'),
    ),
  );
  const quickMoves = (report.quickTagMoves ?? []).filter((move) => !races.some((race) => race.tag === move.tag));
  lines.push(
    ...lister.list(
      quickMoves,
      (move) => {
        const seconds = Math.max(0, Math.round((move.movedAt.getTime() - move.fromPushedAt.getTime()) / 1000));
        const from = shortDigest(move.from);
        return [
          `  Likely cause: tag "${move.tag}" moved from ${from} to ${shortDigest(move.to)} ${seconds} s after ${from}`,
          `  was pushed (${move.fromPushedAt.toISOString()}): two writers, e.g. two pipelines, pushing the same tag within minutes.`,
        ];
      },
      moreTags('that moved minutes after the image they named was pushed'),
    ),
  );
  lines.push(...whoPushed(report));
  lines.push('', 'WHAT THE GUARD DID');
  const moreProtectiveTags = (more: number) => `  ... and ${countOf(more, 'more protective tag')}`;
  lines.push(
    ...lister.list(
      report.protected,
      (p) => [
        p.how === 'would-tag'
          ? `  Dry run: would add the protective tag ${p.tag} to ${shortDigest(p.digest)}. Nothing was changed.`
          : `  Added the protective tag ${p.tag} to ${shortDigest(p.digest)}: ` +
            'a lifecycle rule that expires untagged images can no longer delete it.',
      ],
      (more) =>
        report.dryRun
          ? `${moreProtectiveTags(more)} it would add (dry run: nothing was changed).`
          : `${moreProtectiveTags(more)} added, each ${report.tagPrefix}-sha256-<the image's digest>.`,
    ),
  );
  if (report.gone.length) lines.push('  Nothing: a deleted image cannot be restored by the guard.');
  lines.push(
    ...lister.list(
      report.restores,
      (r) => {
        const image = shortDigest(r.digest);
        if (r.how === 'restore-started') {
          return [
            `  Started restoring archived image ${image} (UpdateImageStorageClass to STANDARD): ` +
              `it can be pulled again in ${RESTORE_DELAY_TEXT}; until then new tasks of the workloads above fail.`,
          ];
        }
        if (r.how === 'would-restore') {
          return [
            `  Dry run: would restore archived image ${image} (takes ${RESTORE_DELAY_TEXT}). Nothing was changed.`,
          ];
        }
        if (r.how === 'restore-in-progress') {
          return [
            `  Restore in progress for ${image} (ACTIVATING, ${RESTORE_DELAY_TEXT} from when it started): ` +
              'not restored again.',
          ];
        }
        return [
          `  Could not restore archived image ${image}: ${r.detail ?? 'unknown reason'}. ` +
            'Redeploy the workloads above to an active image.',
        ];
      },
      (more) => `  ... and ${countOf(more, 'more archived image')} (restores: ${restoreCounts(report)}).`,
    ),
  );
  if (report.refused.length) lines.push('  Nothing: it never moves or overwrites a tag it did not create.');
  if (report.possiblyInUse?.length) {
    lines.push('  Nothing: it cannot tell whether a workload it could not see uses these images.');
  }
  lines.push('', 'WHAT TO DO');
  if (report.gone.length)
    lines.push(
      '  - NOW: redeploy the workloads above to an image that exists (push and deploy a new tag, or a digest that is in the repository).',
    );
  const deletedAt = report.gone.map((g) => lastActionOn(report, g.digest)).filter((e) => e?.action === 'DELETE');
  if (deletedAt.length) {
    lines.push(
      `  - Find who deleted it (CloudTrail event history): ${lookupCommand(
        report.region,
        'BatchDeleteImage',
        deletedAt.map((e) => e!.time),
      )}`,
    );
  }
  const goneUnexplained = report.impairedServices?.length
    ? report.gone.filter((g) => lastActionOn(report, g.digest) === undefined)
    : [];
  if (goneUnexplained.length) {
    // CloudTrail event history keeps 90 days: the deletion may be that old, since nothing fails until a task starts.
    // See: https://docs.aws.amazon.com/awscloudtrail/latest/userguide/view-cloudtrail-events.html
    const onset = new Date(Math.max(...report.impairedServices!.map((s) => s.time.getTime())));
    const window = [new Date(onset.getTime() - CLOUDTRAIL_HISTORY_MS), onset];
    lines.push(
      '  - Find who deleted it (CloudTrail event history, 90 days): a lifecycle rule logs PolicyExecutionEvent,',
      '    a person or pipeline BatchDeleteImage:',
      `    ${lookupCommand(report.region, 'PolicyExecutionEvent', window, 0)}`,
      `    ${lookupCommand(report.region, 'BatchDeleteImage', window, 0)}`,
    );
  }
  if (report.gone.some((g) => lastActionOn(report, g.digest)?.action === 'EXPIRE')) {
    lines.push(
      "  - Find the lifecycle rule that expired an in-use image and keep in-use images out of it (the scheduled reconcile's lifecycle check names such rules).",
    );
  }
  if (report.restores.some((r) => r.how !== 'restore-started' && r.how !== 'restore-in-progress'))
    lines.push(
      `  - Restore the archived images (UpdateImageStorageClass to STANDARD; takes ${RESTORE_DELAY_TEXT}) or redeploy to an active image.`,
    );
  if (report.archived.length)
    lines.push(
      "  - Find the lifecycle rule that archives in-use images (a transition rule) and keep in-use images out of it (the scheduled reconcile's lifecycle check names such rules).",
    );
  if (report.refused.length)
    lines.push(
      '  - Check who created the conflicting tag, then tag the in-use image yourself or redeploy to a tagged image.',
    );
  if (report.possiblyInUse?.length) {
    lines.push('  - Check the workloads the gaps above name: one that runs or may relaunch these images must');
    lines.push('    be redeployed to an image that exists (or restored, if archived). Then close the gap:');
    lines.push('    redeploy a service whose revision cannot be described (ECS then records one the guard');
    lines.push('    can read), or pin the image by digest.');
  }
  if (report.protected.length || report.gone.length) {
    lines.push(
      '  - Stop reusing one mutable tag across deployments: use one tag per build (e.g. the commit SHA) or per environment,',
    );
    lines.push("    or make the repository's tags immutable, so a push can never leave a running image untagged.");
    lines.push(
      '  - A lifecycle rule that selects tagged or any images can still expire a protected image: give the protective',
    );
    lines.push(
      `    tags a top-priority rule (tagPatternList ["${shieldPattern(report.tagPrefix)}"], countType imageCountMoreThan ` +
        `${SHIELD_COUNT_NUMBER}).`,
    );
  }
  if (report.gaps.length) {
    lines.push('', 'COVERAGE NOTES');
    const moreNotes = (more: number) => `  - ... and ${countOf(more, 'more note')}.`;
    lines.push(...lister.list(report.gaps, (gap) => [`  - ${gap}`], moreNotes));
  }
  return lines.join('\n');
}

/** Every count of the alert on one line: the lists below may show only the first entries of each kind. */
function countsLine(report: RepositoryReport): string {
  const tagged = report.protected.filter((p) => p.how === 'tagged').length;
  const wouldTag = report.protected.length - tagged;
  const counts = [
    tagged ? `${countOf(tagged, 'in-use image')} protected` : '',
    wouldTag ? `${countOf(wouldTag, 'in-use image')} the dry run would protect` : '',
    report.gone.length ? `${countOf(report.gone.length, 'in-use image')} gone` : '',
    report.archived.length ? `${countOf(report.archived.length, 'in-use image')} archived` : '',
    report.restores.length ? `restores: ${restoreCounts(report)}` : '',
    report.refused.length ? `${countOf(report.refused.length, 'in-use image')} the guard could not protect` : '',
    report.possiblyInUse?.length ? `${countOf(report.possiblyInUse.length, 'image')} possibly in use` : '',
    report.pushes.length ? countOf(report.pushes.length, 'push', 'pushes') : '',
    report.deletes?.length
      ? countOf(report.deletes.length, 'deletion or lifecycle action', 'deletions or lifecycle actions')
      : '',
    report.gaps.length ? countOf(report.gaps.length, 'coverage note') : '',
  ].filter((count) => count.length > 0);
  return `In this alert: ${counts.join('; ')}.`;
}

function restoreCounts(report: RepositoryReport): string {
  const names = {
    'restore-started': 'started',
    'would-restore': 'dry run',
    'restore-in-progress': 'in progress',
    'restore-failed': 'failed',
  } as const;
  return (Object.keys(names) as (keyof typeof names)[])
    .map((how) => [names[how], report.restores.filter((r) => r.how === how).length] as const)
    .filter(([, count]) => count > 0)
    .map(([name, count]) => `${count} ${name}`)
    .join(', ');
}

function jsonFor(report: RepositoryReport, severity: string, events: readonly string[]): unknown {
  return {
    schema: ALERT_SCHEMA,
    severity,
    events,
    account: report.account,
    region: report.region,
    repository: report.repository,
    dryRun: report.dryRun,
    pushes: report.pushes.map((p) => ({
      tag: p.tag ?? null,
      digest: p.digest,
      time: p.time.toISOString(),
      eventId: p.eventId,
    })),
    // DELETE events and lifecycle actions (EXPIRE, ARCHIVE), kept apart from pushes so that `pushes` keeps its meaning
    deletes: (report.deletes ?? []).map((d) => ({
      action: d.action,
      tag: d.tag ?? null,
      tags: d.tags ?? null,
      digest: d.digest,
      time: d.time.toISOString(),
      eventId: d.eventId,
    })),
    tagRaces: findTagRaces(report.pushes).map((r) => ({
      ...r,
      firstAt: r.firstAt.toISOString(),
      lastAt: r.lastAt.toISOString(),
    })),
    quickTagMoves: (report.quickTagMoves ?? []).map((m) => ({
      ...m,
      fromPushedAt: m.fromPushedAt.toISOString(),
      movedAt: m.movedAt.toISOString(),
    })),
    pushers: report.pushers
      ? {
          complete: report.pushers.complete,
          note: report.pushers.note ?? null,
          from: report.pushers.from.toISOString(),
          to: report.pushers.to.toISOString(),
          callers: report.pushers.callers.map((c) => ({ ...c, time: c.time.toISOString() })),
        }
      : null,
    protected: report.protected,
    gone: report.gone,
    archived: report.archived,
    restores: report.restores,
    refused: report.refused,
    gaps: report.gaps,
    ...(report.impairedServices?.length
      ? { impairedServices: report.impairedServices.map((s) => ({ ...s, time: s.time.toISOString() })) }
      : {}),
    possiblyInUse: (report.possiblyInUse ?? []).map((p) => {
      const last = lastActionOn(report, p.digest);
      return { ...p, action: last?.action ?? null, tag: last?.tag ?? null, time: last?.time.toISOString() ?? null };
    }),
  };
}
