/**
 * Replicated deletions: with a replication rule that replicates deletions, "when a lifecycle policy expires an
 * image in the source registry, Amazon ECR replicates the deletion to each destination repository", and removing
 * an image's last tag deletes it there too (https://docs.aws.amazon.com/AmazonECR/latest/userguide/replication-delete.html).
 * A workload that pulls from a destination is invisible to this guard's protection of the source, and a protective
 * tag in the destination does not stop a deletion replicated from here: so the reconcile warns about every
 * repository holding in-use digests that a rule replicates, naming where.
 */
import type { RegistryReplicationRule } from '../ports';
import type { Inventory } from '../types';

/** A repository that holds in-use digests and is replicated by a rule that does or may replicate deletions. */
export interface ReplicatedDeletionRisk {
  readonly repository: string;
  readonly destinations: readonly string[];
  /** `replicated` when a selecting rule says so; `unknown` when none says so but one could not tell */
  readonly deletions: 'replicated' | 'unknown';
}

/** Every repository of the inventory (in use) that a rule replicating, or perhaps replicating, deletions selects. */
export function findReplicatedDeletionRisks(
  inventory: Pick<Inventory, 'byRepository'>,
  rules: readonly RegistryReplicationRule[],
  inScope: (repository: string) => boolean = () => true,
): ReplicatedDeletionRisk[] {
  const risks: ReplicatedDeletionRisk[] = [];
  for (const [repository, digests] of [...inventory.byRepository].sort(([a], [b]) => a.localeCompare(b))) {
    if (digests.size === 0 || !inScope(repository)) continue;
    const selecting = rules.filter(
      (rule) =>
        rule.deletions !== 'not-replicated' &&
        (rule.prefixes.length === 0 || rule.prefixes.some((prefix) => repository.startsWith(prefix))),
    );
    if (selecting.length === 0) continue;
    risks.push({
      repository,
      destinations: [...new Set(selecting.flatMap((rule) => rule.destinations))],
      deletions: selecting.some((rule) => rule.deletions === 'replicated') ? 'replicated' : 'unknown',
    });
  }
  return risks;
}

/**
 * How long a replicated-deletions warning about an unchanged set stays sent: 7 days. The risk is standing (a
 * replication rule changes rarely, and with the SDK unable to read `deleteReplication` every replicated repository
 * in use is named), so repeating it every run (4 times a day by default) only teaches on-call to ignore the guard's
 * email. Anything new (a repository, a destination, deletions now known to be replicated) is sent at once, so the
 * reminder carries no news: once a week keeps the risk in front of a weekly on-call rotation without the noise.
 */
export const REPLICATED_DELETIONS_REMINDER_MS = 7 * 24 * 3_600_000;

/** The warned set as stable, sorted pairs: the same risks give the same pairs whatever their order. */
export function replicationWarningPairs(risks: readonly ReplicatedDeletionRisk[]): string[] {
  const pairs = risks.flatMap((risk) =>
    risk.destinations.map((destination) => replicationWarningPair(risk, destination)),
  );
  return [...new Set(pairs)].sort();
}

/** One remembered pair: `<repository> → <destination>`, marked when deletions are known to be replicated. */
export function replicationWarningPair(risk: ReplicatedDeletionRisk, destination: string): string {
  return `${risk.repository} → ${destination}${risk.deletions === 'replicated' ? ' (deletions replicated)' : ''}`;
}

/**
 * Whether to send the warning now, and why: `first` (none remembered), `new` (a pair the last warning did not
 * name), `reminder` (the last one is `reminderMs` old or more); otherwise `already-sent`. A set that only shrank
 * is not news: its pairs were all named before.
 */
export function replicationWarningDue(
  pairs: readonly string[],
  last: { readonly pairs: readonly string[]; readonly sentAtMs: number } | undefined,
  nowMs: number,
  reminderMs: number = REPLICATED_DELETIONS_REMINDER_MS,
): { readonly send: 'first' | 'new' | 'reminder' | 'already-sent'; readonly added: readonly string[] } {
  if (!last) return { send: 'first', added: [] };
  const before = new Set(last.pairs);
  const added = pairs.filter((pair) => !before.has(pair));
  if (added.length > 0) return { send: 'new', added };
  if (nowMs - last.sentAtMs >= reminderMs) return { send: 'reminder', added: [] };
  return { send: 'already-sent', added: [] };
}
