/**
 * Combining inventories taken by different adapters (ECS, Lambda) into the one inventory a batch decides on.
 * Pure: no SDK, no clock.
 */
import type { Consumer, Digest, Inventory, InventoryGap } from './types';

/** Two consumers with the same key are the same workload seen twice (e.g. by two adapters or two pages). */
export function consumerKey(consumer: Consumer): string {
  return JSON.stringify([
    consumer.kind,
    consumer.cluster,
    consumer.service,
    consumer.arn,
    consumer.container,
    consumer.image,
  ]);
}

/**
 * Collects consumers per repository and digest, each consumer once, in first-seen order. One collector per
 * inventory; adapters `add` what they see and hand `byRepository()` to the `Inventory` they return.
 */
export class InventoryCollector {
  private readonly consumers = new Map<string, Map<Digest, Map<string, Consumer>>>();

  add(repository: string, digest: Digest, consumer: Consumer): void {
    let byDigest = this.consumers.get(repository);
    if (!byDigest) this.consumers.set(repository, (byDigest = new Map()));
    let byKey = byDigest.get(digest);
    if (!byKey) byDigest.set(digest, (byKey = new Map()));
    const key = consumerKey(consumer);
    if (!byKey.has(key)) byKey.set(key, consumer);
  }

  byRepository(): Map<string, Map<Digest, Consumer[]>> {
    return new Map(
      [...this.consumers].map(([repository, byDigest]) => [
        repository,
        new Map([...byDigest].map(([digest, byKey]) => [digest, [...byKey.values()]])),
      ]),
    );
  }
}

/**
 * The union of `inventories`: every repository and digest any of them saw, each consumer once (first-seen
 * order), every gap of each, and the EARLIEST `takenAt`. The earliest is the honest one: a merged inventory
 * is only as fresh as its oldest part, and the guard relies on "taken after the events arrived".
 * A digest listed with no consumer is dropped: "in use" means some workload uses it, and an alert must be
 * able to name one.
 * @throws RangeError when given no inventory (there is no `takenAt` to report)
 */
export function mergeInventories(inventories: readonly Inventory[]): Inventory {
  if (inventories.length === 0) throw new RangeError('mergeInventories: at least one inventory is needed');
  const collector = new InventoryCollector();
  for (const inventory of inventories) {
    for (const [repository, digests] of inventory.byRepository) {
      for (const [digest, consumers] of digests) {
        for (const consumer of consumers) collector.add(repository, digest, consumer);
      }
    }
  }
  return {
    takenAt: new Date(Math.min(...inventories.map((inventory) => inventory.takenAt.getTime()))),
    byRepository: collector.byRepository(),
    gaps: inventories.flatMap((inventory) => inventory.gaps),
  };
}

/** True when the gap may hide an in-use digest of `repository`: it names it, or names no repository at all. */
export function gapConcerns(gap: InventoryGap, repository: string): boolean {
  return gap.repositories === undefined || gap.repositories.includes(repository);
}

/** The gaps of an inventory that may hide an in-use digest of `repository`. */
export function gapsConcerning(gaps: readonly InventoryGap[], repository: string): InventoryGap[] {
  return gaps.filter((gap) => gapConcerns(gap, repository));
}
