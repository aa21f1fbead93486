/**
 * The pure heart of the guard: given what is in use and what ECR holds, decide what to protect and what
 * to report. No I/O, no SDK: every input is data, so every rule is table-tested.
 */
import { isProtectiveTag, protectiveTagFor } from './protective-tag';
import type { Consumer, Digest, ImageState, PushEvent } from './types';

export interface RepositoryFindings {
  readonly repository: string;
  /** in use, present, no tag at all: protect these */
  readonly toProtect: readonly { digest: Digest; tag: string; consumers: readonly Consumer[] }[];
  /** in use, and only the guard's own tags keep them: already protected */
  readonly alreadyProtected: readonly { digest: Digest; tag: string; consumers: readonly Consumer[] }[];
  /** in use, and no longer in the repository: the next launch of these workloads fails */
  readonly gone: readonly { digest: Digest; consumers: readonly Consumer[] }[];
  /** in use, and archived: cannot be pulled until restored */
  readonly archived: readonly { digest: Digest; consumers: readonly Consumer[] }[];
  /** in use and tagged by someone else: nothing to do */
  readonly tagged: number;
}

export function findUntaggedInUseDigests(
  repository: string,
  inUse: ReadonlyMap<Digest, readonly Consumer[]>,
  states: readonly ImageState[],
  tagPrefix: string,
): RepositoryFindings {
  const toProtect: { digest: Digest; tag: string; consumers: readonly Consumer[] }[] = [];
  const alreadyProtected: { digest: Digest; tag: string; consumers: readonly Consumer[] }[] = [];
  const gone: { digest: Digest; consumers: readonly Consumer[] }[] = [];
  const archived: { digest: Digest; consumers: readonly Consumer[] }[] = [];
  let tagged = 0;
  const stateOf = new Map(states.map((state) => [state.digest, state]));

  for (const [digest, consumers] of inUse) {
    const state = stateOf.get(digest);
    if (!state)
      throw new Error(
        `no image state for in-use digest ${digest} of ${repository}: the ECR adapter must answer every digest`,
      );
    if (!state.present) {
      gone.push({ digest, consumers });
      continue;
    }
    if (state.storageStatus === 'ARCHIVED' || state.storageStatus === 'ACTIVATING')
      archived.push({ digest, consumers });
    const tag = protectiveTagFor(digest, tagPrefix);
    const otherTags = state.tags.filter((t) => !isProtectiveTag(t, tagPrefix));
    if (otherTags.length > 0) tagged += 1;
    else if (state.tags.includes(tag)) alreadyProtected.push({ digest, tag, consumers });
    else toProtect.push({ digest, tag, consumers });
  }
  return { repository, toProtect, alreadyProtected, gone, archived, tagged };
}

/** One tag that was pushed to more than one digest within the batch: two writers raced on one tag. */
export interface TagRace {
  readonly tag: string;
  readonly digests: readonly Digest[];
  readonly firstAt: Date;
  readonly lastAt: Date;
}

/** Tags pushed with different digests in this batch (the incident's root cause: concurrent pipelines). */
export function findTagRaces(pushes: readonly PushEvent[]): TagRace[] {
  const byTag = new Map<string, PushEvent[]>();
  for (const push of pushes) {
    if (!push.tag) continue;
    byTag.set(push.tag, [...(byTag.get(push.tag) ?? []), push]);
  }
  const races: TagRace[] = [];
  for (const [tag, events] of byTag) {
    const ordered = [...events].sort((a, b) => a.time.getTime() - b.time.getTime());
    const digests = [...new Set(ordered.map((e) => e.digest))];
    if (digests.length < 2) continue;
    races.push({ tag, digests, firstAt: ordered[0]!.time, lastAt: ordered[ordered.length - 1]!.time });
  }
  return races;
}

/** Tags the workload was deployed with (`repo:prod` → `prod`), read from the image references. */
export function tagsNamedBy(consumers: readonly Consumer[]): string[] {
  const tags = new Set<string>();
  for (const consumer of consumers) {
    const withoutDigest = consumer.image.split('@')[0]!;
    const lastSlash = withoutDigest.lastIndexOf('/');
    const colon = withoutDigest.indexOf(':', lastSlash + 1);
    if (colon > 0) tags.add(withoutDigest.slice(colon + 1));
  }
  return [...tags];
}

/**
 * A tag that moved from an in-use digest to another one soon after the in-use digest was pushed: the
 * cross-batch form of a tag race. Derived from the digest's `imagePushedAt` (DescribeImages) and the time
 * of the push event that moved the tag; `imagePushedAt` is when the digest was first pushed, so an image
 * re-tagged long after its push never looks like a race (*inference*: adding a tag keeps `imagePushedAt`).
 */
export interface QuickTagMove {
  readonly tag: string;
  readonly from: Digest;
  readonly fromPushedAt: Date;
  readonly to: Digest;
  readonly movedAt: Date;
}

/** How soon after a digest's push a move of its tag counts as a likely race of two writers. */
export const QUICK_TAG_MOVE_WINDOW_MS = 10 * 60_000;

/**
 * For each in-use digest that lost its tag: the first push of a tag its workloads name, to another digest,
 * at or after the digest's own push, when that came within `windowMs`.
 */
export function findQuickTagMoves(
  pushes: readonly PushEvent[],
  lostTags: readonly { digest: Digest; consumers: readonly Consumer[] }[],
  pushedAt: ReadonlyMap<Digest, Date>,
  windowMs = QUICK_TAG_MOVE_WINDOW_MS,
): QuickTagMove[] {
  const moves: QuickTagMove[] = [];
  const ordered = [...pushes].sort((a, b) => a.time.getTime() - b.time.getTime());
  for (const item of lostTags) {
    const fromPushedAt = pushedAt.get(item.digest);
    if (!fromPushedAt) continue;
    for (const tag of tagsNamedBy(item.consumers)) {
      const move = ordered.find(
        (p) => p.tag === tag && p.digest !== item.digest && p.time.getTime() >= fromPushedAt.getTime() - 1000,
      );
      if (!move || move.time.getTime() - fromPushedAt.getTime() > windowMs) continue;
      moves.push({ tag, from: item.digest, fromPushedAt, to: move.digest, movedAt: move.time });
    }
  }
  return moves;
}
