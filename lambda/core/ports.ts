/**
 * What the core needs from AWS, as interfaces. Adapters in `lambda/adapters/` implement them with the
 * AWS SDK v3; tests implement them with the simulated account or plain fakes.
 */
import type { Digest, ImageState, Inventory } from './types';

/** The outcome of adding a protective tag to one digest. */
export type ProtectOutcome =
  /** `PutImage` added the tag */
  | { readonly outcome: 'tagged' }
  /** the digest already carries the tag (`ImageAlreadyExistsException`, or seen before putting) */
  | { readonly outcome: 'already-tagged' }
  /** the digest is gone from the repository (`BatchGetImage` failure `ImageNotFound`) */
  | { readonly outcome: 'image-missing' }
  /** the tag already names another digest (someone moved it, or an immutable repository refuses it): never moved */
  | { readonly outcome: 'tag-taken'; readonly otherDigest?: Digest }
  /** ECR returned a manifest media type that cannot be re-put */
  | { readonly outcome: 'unsupported-media-type'; readonly mediaType?: string };

export interface EcrPort {
  /**
   * The state of each digest of one repository: tags, storage status, media type; digests that do not
   * exist come back as `present: false`. One entry per requested digest, in request order.
   * @throws RepositoryNotFoundError when the repository does not exist
   */
  describeDigests(repository: string, digests: readonly Digest[]): Promise<ImageState[]>;
  /**
   * Adds `tag` to `digest` with the exact manifest bytes (`BatchGetImage` then `PutImage` with
   * `imageManifestMediaType` and `imageDigest`). Never moves a tag that names another digest.
   * @throws RepositoryNotFoundError when the repository does not exist
   */
  addProtectiveTag(repository: string, digest: Digest, tag: string): Promise<ProtectOutcome>;
  /**
   * For each of `digests` that is an image index or manifest list: the digests it references. Single
   * manifests and missing digests are left out.
   */
  referencedManifests(repository: string, digests: readonly Digest[]): Promise<Map<Digest, Digest[]>>;
  /** Starts restoring an archived image to the standard storage class (`UpdateImageStorageClass`). */
  restoreArchivedImage(repository: string, digest: Digest): Promise<RestoreOutcome>;
}

export type RestoreOutcome =
  /** `UpdateImageStorageClass` to STANDARD accepted; the image is ACTIVATING (or already ACTIVE) */
  | { readonly outcome: 'restoring'; readonly status: string }
  | { readonly outcome: 'image-missing' }
  /** `ImageStorageClassUpdateNotSupportedException`: ECR refuses this transition */
  | { readonly outcome: 'not-supported'; readonly reason: string };

export interface InventoryPort {
  /** One complete, fresh inventory of the digests in use in this account and region. */
  takeInventory(): Promise<Inventory>;
}

/** One alert, ready to publish: a subject, a plain-text body for people, JSON for machines. */
export interface Alert {
  readonly subject: string;
  readonly text: string;
  readonly json: unknown;
  readonly severity: 'CRITICAL' | 'WARNING' | 'INFO';
  readonly repository: string;
  /** what happened, for subscription filter policies: e.g. `protected`, `digest-gone` */
  readonly events: readonly string[];
  /** the text lists only the first entries of some kind ("... and N more"): it says where the full list is */
  readonly abridged?: boolean;
  /** where every entry of this alert is logged; set when they were logged, just before publishing */
  readonly fullList?: AlertFullList;
}

/** Where the complete entries of one alert are: logged in parts, found with a CloudWatch Logs Insights query. */
export interface AlertFullList {
  /** names this alert's logged parts (`alertId` in each log line) */
  readonly alertId: string;
  /** the function's log group (`AWS_LAMBDA_LOG_GROUP_NAME`), when known */
  readonly logGroup?: string;
  readonly query: string;
}

export interface AlertPort {
  publish(alert: Alert): Promise<void>;
}
