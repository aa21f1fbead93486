/**
 * The parts the repository alert's text and JSON are made of: who uses an image, where a moved tag went, what
 * the batch's events say happened to a digest, who pushed, and the "possibly in use" lines. Pure.
 */
import { CONSUMERS_LISTED_PER_IMAGE, countOf, type EntryLister } from './alert-size';
import { tagsNamedBy } from './decide';
import { daemonName } from './ecs-digests';
import { parseImageUri } from './image-uri';
import { shortDigest } from './protective-tag';
import type { PossiblyInUse, RepositoryReport } from './repository-report';
import type { Consumer, Digest, ImageEvent } from './types';

export function describeConsumer(consumer: Consumer): string {
  return describeWorkload(consumer) + elsewhere(consumer);
}

/**
 * ` in account 222222222222, eu-west-1` when the workload runs in another account or region than the registry
 * its image is pulled from (its ARN against the image URI's host), so on-call knows where to look; nothing when
 * both are the same, as in a single-account guard.
 */
function elsewhere(consumer: Consumer): string {
  const [, , , region, account] = consumer.arn?.split(':') ?? [];
  const registry = parseImageUri(consumer.image);
  if (!region || !account || !registry) return '';
  return account !== registry.registryId || region !== registry.region ? ` in account ${account}, ${region}` : '';
}

function describeWorkload(consumer: Consumer): string {
  const where = consumer.cluster ? `${consumer.cluster}/` : '';
  switch (consumer.kind) {
    case 'ecs-service':
      return `ECS service ${where}${consumer.service ?? '?'} (${containerOf(consumer)}deployed as ${consumer.image})`;
    case 'ecs-rollback':
      return `ECS service ${where}${consumer.service ?? '?'}: the revision a rollback would relaunch (${containerOf(consumer)}${consumer.image})`;
    case 'ecs-task':
      return `ECS task ${where}${lastPart(consumer.arn)}${consumer.service ? ` of service ${consumer.service}` : ''} (${containerOf(consumer)}${consumer.image})`;
    case 'ecs-task-definition':
      return `ECS task definition ${lastPart(consumer.arn)}${consumer.service ? ` of service ${where}${consumer.service}` : ''} (pins ${consumer.image})`;
    case 'ecs-daemon':
      return `ECS daemon ${where}${daemonName(consumer.arn)} (${containerOf(consumer)}deployed as ${consumer.image})`;
    case 'lambda-function':
      return `Lambda function ${consumer.arn ?? '?'} (${consumer.image})`;
  }
}

/**
 * `container <name>, ` when the inventory knew it; users read back from the in-use index carry only their ARN, and
 * a "container ?" placeholder in an alert reads like a fault.
 */
function containerOf(consumer: Consumer): string {
  return consumer.container ? `container ${consumer.container}, ` : '';
}

export function lastPart(arn: string | undefined): string {
  return arn ? arn.slice(arn.lastIndexOf('/') + 1) : '?';
}

export function listConsumers(consumers: readonly Consumer[], indent: string, lister: EntryLister): string[] {
  return lister.list(
    consumers,
    (c) => [`${indent}- ${describeConsumer(c)}`],
    (more) => `${indent}- ... and ${countOf(more, 'more workload')}`,
    CONSUMERS_LISTED_PER_IMAGE,
  );
}

export function whereTagWent(report: RepositoryReport, consumers: readonly Consumer[]): string[] {
  const lines: string[] = [];
  for (const tag of tagsNamedBy(consumers)) {
    const pushes = report.pushes.filter((p) => p.tag === tag);
    const last = pushes.sort((a, b) => a.time.getTime() - b.time.getTime()).at(-1);
    if (last) lines.push(`    Tag "${tag}" now points to ${last.digest} (pushed ${last.time.toISOString()}).`);
  }
  return lines;
}

/** The last DELETE or lifecycle event of this batch that named the digest. */
export function lastActionOn(report: RepositoryReport, digest: Digest): ImageEvent | undefined {
  return (report.deletes ?? [])
    .filter((d) => d.digest === digest)
    .sort((a, b) => a.time.getTime() - b.time.getTime())
    .at(-1);
}

/** "deleted (…)", "expired by a lifecycle rule (…)": what the events of this batch say happened to the digest. */
export function howItWent(report: RepositoryReport, digest: Digest): string | undefined {
  const last = lastActionOn(report, digest);
  if (!last) return undefined;
  const at = last.time.toISOString();
  if (last.action === 'DELETE') {
    const tags = [
      ...new Set(
        (report.deletes ?? [])
          .filter((d) => d.digest === digest && d.action === 'DELETE' && d.tag)
          .map((d) => `"${d.tag}"`),
      ),
    ];
    return `deleted (ECR DELETE event at ${at}, ${tags.length ? `tag${tags.length === 1 ? '' : 's'} ${tags.join(', ')}` : 'by digest'})`;
  }
  const rule = `by a lifecycle rule (PolicyExecutionEvent at ${at}${last.tags?.length ? `, tags ${last.tags.map((t) => `"${t}"`).join(', ')}` : ', untagged'})`;
  return last.action === 'ARCHIVE' ? `archived ${rule}` : `expired ${rule}`;
}

/** A pasteable CloudTrail event history lookup for one API around the given times (`padMs` either side). */
export function lookupCommand(region: string, eventName: string, times: readonly Date[], padMs = 10 * 60_000): string {
  const ms = times.map((t) => t.getTime());
  const from = new Date(Math.min(...ms) - padMs).toISOString();
  const to = new Date(Math.max(...ms) + padMs).toISOString();
  return `aws cloudtrail lookup-events --region ${region} --lookup-attributes AttributeKey=EventName,AttributeValue=${eventName} --start-time ${from} --end-time ${to}`;
}

/** Who pushed the tags that moved, when the guard looked it up in CloudTrail (best effort). */
export function whoPushed(report: RepositoryReport): string[] {
  const findings = report.pushers;
  if (!findings) return [];
  const lines: string[] = [];
  if (findings.callers.length) {
    lines.push('  Who pushed (CloudTrail PutImage events):');
    for (const c of [...findings.callers].sort((a, b) => a.time.getTime() - b.time.getTime())) {
      const issuer = c.sessionIssuer && !c.principal.startsWith(c.sessionIssuer) ? ` (role ${c.sessionIssuer})` : '';
      lines.push(
        `    - tag "${c.tag}"${c.digest ? ` -> ${shortDigest(c.digest)}` : ''} at ${c.time.toISOString()} by ${c.principal}${issuer}`,
      );
    }
  }
  if (!findings.complete || findings.callers.length === 0) {
    const why =
      findings.note ?? 'CloudTrail event history had no matching PutImage event yet (it can lag the push by minutes)';
    lines.push(
      `  Who pushed: ${findings.callers.length ? 'not every push was found' : 'not found'} (${why}). To look yourself:`,
    );
    lines.push(`    ${lookupCommand(report.region, 'PutImage', [findings.from, findings.to], 0)}`);
  }
  return lines;
}

export function possiblyInUseHeadline(report: RepositoryReport): string {
  const items = report.possiblyInUse ?? [];
  const verbOf = (p: PossiblyInUse): string =>
    p.state === 'archived' ? 'archived' : lastActionOn(report, p.digest)?.action === 'EXPIRE' ? 'expired' : 'deleted';
  const actions = new Set(items.map(verbOf));
  const verb = actions.size === 1 ? [...actions][0]! : 'deleted or archived';
  return `${items.length} ${verb} image${items.length === 1 ? '' : 's'} possibly in use in`;
}

/**
 * The digests that went away while the inventory could not see everything, then once the gaps that could hide
 * their use (every digest of a repository shares the repository's gaps).
 */
export function possiblyInUseLines(report: RepositoryReport, lister: EntryLister): string[] {
  const items = report.possiblyInUse ?? [];
  if (items.length === 0) return [];
  const lines = lister.list(
    items,
    (p) => {
      const how = howItWent(report, p.digest) ?? (p.state === 'archived' ? 'archived' : 'removed from the repository');
      return [`  Image ${p.digest} was ${how}; no workload the guard can see uses it.`];
    },
    (more) => `  ... and ${countOf(more, 'more image')} gone or archived that no workload the guard can see uses.`,
  );
  const gaps = [...new Map(items.flatMap((p) => p.gaps).map((gap) => [gap.reason, gap])).values()];
  lines.push(
    `  But ${items.length === 1 ? 'it' : 'they'} may be in use: the inventory could not see everything that may use ` +
      'this repository:',
  );
  const moreGaps = (more: number) => `    - ... and ${countOf(more, 'more')}.`;
  lines.push(...lister.list(gaps, (gap) => [`    - ${gap.reason}`], moreGaps));
  return lines;
}
