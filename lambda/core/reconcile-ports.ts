/**
 * What the scheduled reconcile needs from AWS beyond the push path's ports: listing repositories and
 * protective tags, and releasing a protective tag. The ECR adapter implements them next to the push
 * path's calls.
 */
import type { EcrPort } from './ports';
import type { Digest } from './types';

/** An image that carries at least one protective tag of this guard's prefix, as ECR describes it. */
export interface ProtectedImage {
  readonly digest: Digest;
  /** every tag of the image: protective ones and any other */
  readonly tags: readonly string[];
  readonly pushedAt?: Date;
  /** `lastRecordedPullTime`: absent when ECR never recorded a pull */
  readonly lastPulledAt?: Date;
}

export type ReleaseOutcome =
  /** the tag is gone; `imageDeleted` when it was the image's last tag (ECR then deletes the image) */
  | { readonly outcome: 'released'; readonly imageDeleted: boolean }
  /** the tag names another digest now: not removed */
  | { readonly outcome: 'tag-moved'; readonly otherDigest?: Digest }
  /** the tag (or the image) is already gone */
  | { readonly outcome: 'tag-gone' }
  /** ECR refused: the image is a child of an index that stays (`ImageReferencedByManifestList`) */
  | { readonly outcome: 'referenced-by-index'; readonly reason: string };

export interface ReconcileEcrPort extends EcrPort {
  /** Every repository of the registry (all pages). */
  listRepositories(): Promise<string[]>;
  /** Images of the repository with a tag for which `isProtective` is true (all pages). */
  listProtectedImages(repository: string, isProtective: (tag: string) => boolean): Promise<ProtectedImage[]>;
  /**
   * Removes `tag` from `digest` (by tag only), after checking that the tag still names that digest.
   * Removing an image's last tag deletes the image.
   */
  releaseProtectiveTag(repository: string, digest: Digest, tag: string): Promise<ReleaseOutcome>;
}

/**
 * Where a reconcile that ran out of time records how far it got (the last repository it reached, in the
 * stable order), so the next run starts after it. `undefined` means: start from the beginning.
 */
export interface ReconcileCheckpoint {
  load(): Promise<string | undefined>;
  save(cursor: string | undefined): Promise<void>;
}
