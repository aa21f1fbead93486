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
