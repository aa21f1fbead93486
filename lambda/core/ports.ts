/**
 * What the core needs from AWS, as interfaces. Adapters in `lambda/adapters/` implement them with the
 * AWS SDK v3; tests implement them with the simulated account or plain fakes.
 */
import type { AccountRegion, IndexedEntry, InUseEntry, WorkloadListStatus } from './in-use-index/types';
import type { RuleAction } from './lifecycle/parse';
import type { Digest, ImageState, Inventory, PusherFindings } from './types';

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

/** One protective tag to add: the in-use digest and the tag derived from it. */
export interface ProtectiveTagRequest {
  readonly digest: Digest;
  readonly tag: string;
}

export interface EcrPort {
  /**
   * The state of each digest of one repository: tags, storage status, media type; digests that do not
   * exist come back as `present: false`. One entry per requested digest, in request order.
   * @throws RepositoryNotFoundError when the repository does not exist
   */
  describeDigests(repository: string, digests: readonly Digest[]): Promise<ImageState[]>;
  /**
   * Adds each request's `tag` to its `digest` with the exact manifest bytes (`BatchGetImage` for up to 50
   * digests and their tags at a time, then one `PutImage` with `imageManifestMediaType` and `imageDigest` per
   * digest that needs it). Never moves a tag that names another digest. One outcome per request, in order.
   * @throws RepositoryNotFoundError when the repository does not exist
   * @throws when ECR's answer does not prove a tag free; the requests before it are done, those after are not
   */
  addProtectiveTags(repository: string, requests: readonly ProtectiveTagRequest[]): Promise<ProtectOutcome[]>;
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
  /**
   * One complete, fresh inventory of the digests in use in this account and region. `repositories` names the
   * ones the caller decides about: an inventory read per repository (the in-use index) reads only those; one
   * that lists the account ignores it.
   */
  takeInventory(repositories?: readonly string[]): Promise<Inventory>;
}

/**
 * The organization's tree, read from the management account or a delegated administrator (Organizations
 * `ListChildren` and `ListAccountsForParent`); each call returns every page.
 */
export interface OrganizationPort {
  /** the organizational units directly under `parentId` */
  childOrganizationalUnits(parentId: string): Promise<string[]>;
  /** the accounts directly under `parentId`, and whether each is ACTIVE */
  accountsOf(parentId: string): Promise<{ readonly id: string; readonly active: boolean }[]>;
}

/** What one ECS service uses, read without listing the account (an impaired service's pinned digests). */
export interface ServiceInventoryPort {
  /**
   * The digests the service's current revisions pin (one DescribeServices, one DescribeServiceRevisions), as an
   * inventory of that service alone; what could not be read is a gap.
   */
  takeServiceInventory(clusterArn: string, serviceArn: string): Promise<Inventory>;
}

/**
 * The one service or function a watched event names, read in its workload (account, region): through the watch's
 * own clients in the guard's own account and region, through the workload's reader role elsewhere. Both answer
 * an inventory of that workload alone, with the consumers the list writes (kind and ARN), so the list refreshes
 * what the watch wrote instead of adding a second entry.
 */
export interface WorkloadReadPort extends ServiceInventoryPort {
  /**
   * The digest one Lambda function version runs (one `GetFunction`): `$LATEST`, a published version, or an
   * alias's version. A function that is gone, or not packaged as an image, uses nothing: an empty inventory.
   */
  takeFunctionInventory(target: {
    readonly functionName: string;
    readonly version?: string;
    readonly alias?: string;
  }): Promise<Inventory>;
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

// ---------------------------------------------------------------------------------------------------------
// Logging, metrics and who pushed: what both handlers hand the core

export interface GuardLogger {
  info(message: string, ...extra: Record<string, unknown>[]): void;
  warn(message: string, ...extra: Record<string, unknown>[]): void;
  error(message: string, ...extra: Record<string, unknown>[]): void;
}

export interface GuardMetrics {
  count(name: string, value: number): void;
}

/**
 * Who pushed some tags, from CloudTrail: best effort, bounded, and it never throws (a lookup that fails
 * comes back incomplete with a note). Used only when an alert is being sent anyway.
 */
export interface PusherLookup {
  findPutImageCallers(
    repository: string,
    pushes: readonly { tag: string; digest: Digest; time: Date }[],
  ): Promise<PusherFindings>;
}

// ---------------------------------------------------------------------------------------------------------
// The scheduled reconcile: listing repositories and protective tags, releasing a protective tag; the ECR
// adapter implements them next to the push path's calls.
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

/** One replication rule of the registry (DescribeRegistry `replicationConfiguration.rules[]`). */
export interface RegistryReplicationRule {
  /** `registryId/region` of each destination */
  readonly destinations: readonly string[];
  /** the `PREFIX_MATCH` repository filters; none: the rule replicates every repository */
  readonly prefixes: readonly string[];
  /**
   * `deleteReplication.enabled` when ECR's answer carried it through the SDK: `unknown` when it did not (the SDK
   * this project pins, @aws-sdk/client-ecr 3.1169.0, the newest published, does not model the member and drops it)
   */
  readonly deletions: 'replicated' | 'not-replicated' | 'unknown';
}

/** The registry's replication configuration, for the reconcile's replicated-deletions warning. */
export interface RegistryReplicationPort {
  /** The registry's replication rules (one DescribeRegistry). */
  readReplicationRules(): Promise<RegistryReplicationRule[]>;
}

/**
 * Where a reconcile that ran out of time records how far it got (the last repository it reached, in the
 * stable order), so the next run starts after it. `undefined` means: start from the beginning.
 */
export interface ReconcileCheckpoint {
  load(): Promise<string | undefined>;
  save(cursor: string | undefined): Promise<void>;
}

// ---------------------------------------------------------------------------------------------------------
// Lifecycle policies: read, preview and (on request only) put; the ECR lifecycle adapter implements them

/** One image of a lifecycle policy preview: what the policy would do to it at its next run. */
export interface PreviewedImage {
  readonly digest: Digest;
  readonly tags: readonly string[];
  readonly action: RuleAction;
  readonly appliedRulePriority?: number;
}

export type LivePolicy = { readonly found: true; readonly text: string } | { readonly found: false };

export type PreviewOutcome =
  /** the preview of `policyText` completed; `images` is every image it would expire or transition */
  | { readonly outcome: 'complete'; readonly policyText: string; readonly images: readonly PreviewedImage[] }
  /** no preview could be had (no policy any more, still in progress after the bounded polls, failed, expired) */
  | { readonly outcome: 'unavailable'; readonly reason: string };

export interface LifecyclePolicyPort {
  /** The repository's lifecycle policy text, or `found: false` when it has none. */
  getLifecyclePolicy(repository: string): Promise<LivePolicy>;
  /** Runs a preview of the live policy (bounded wait) and returns every image it would act on. */
  previewLifecyclePolicy(repository: string): Promise<PreviewOutcome>;
  /** Replaces the repository's lifecycle policy. Only `installShieldRule` calls it, and only on request. */
  putLifecyclePolicy(repository: string, policyText: string): Promise<PutPolicyOutcome>;
}

export type PutPolicyOutcome = { readonly outcome: 'put' } | { readonly outcome: 'rejected'; readonly reason: string };

// ---------------------------------------------------------------------------------------------------------
// The in-use index (DynamoDB): who uses which digest, kept by the list; the in-use index adapter implements it

/** What the in-use index needs from DynamoDB (`lambda/adapters/in-use-index.ts`) or from a fake. */
export interface InUseIndexPort {
  /** Every image-user entry of the workload, all pages. */
  entriesOfWorkload(workload: AccountRegion): Promise<IndexedEntry[]>;
  /** Writes the entry unless one with its keys exists (then `already-there`, left as it is). */
  addEntry(entry: InUseEntry): Promise<'added' | 'already-there'>;
  /** Removes the entry unless it was seen at or after `sinceMs` (then `seen-since`, kept). */
  removeEntryNotSeenSince(key: { pk: string; sk: string }, sinceMs: number): Promise<'removed' | 'seen-since'>;
  /** Records the list's outcome unless a list that started later already recorded its own. */
  recordListStatus(workload: AccountRegion, status: WorkloadListStatus): Promise<'recorded' | 'newer-recorded'>;
}

/**
 * What one watched write did to one entry: `created` (it was not there), `refreshed` (an older sighting was
 * replaced), `written` (one of the two; a multi-item write cannot tell which), `not-newer` (the index already
 * held this sighting or a later one: nothing changed).
 */
export type WatchedWrite = 'created' | 'refreshed' | 'written' | 'not-newer';

/** What the watch needs from the in-use index. */
export interface InUseIndexWatchPort {
  /**
   * Writes the entries of one task event in one request, each only if it is newer than what the index holds
   * (`lastSeen`, then `version`): a duplicate or an older event changes nothing. One outcome per entry, in order.
   */
  recordWatchedUse(entries: readonly InUseEntry[], version: number): Promise<WatchedWrite[]>;
  /**
   * Whether the index holds a user of the entry's digest other than the entry itself and `sameBatch` (entries the
   * caller is writing at the same time, which are no older user) — one small Query.
   */
  hasOtherUsers(entry: InUseEntry, sameBatch?: readonly InUseEntry[]): Promise<boolean>;
}

/** What the push path reads from the in-use index. */
export interface InUseIndexReadPort {
  /** Every user of every indexed digest of one repository of one registry (one Query and its pages). */
  usersOfRepository(registry: AccountRegion, repository: string): Promise<InUseEntry[]>;
  /** The last list recorded for the workload, or undefined when none ever was. */
  listStatus(workload: AccountRegion): Promise<RecordedListStatus | undefined>;
}

/** A workload's status item as read back: the last list, and when the last complete one started. */
export interface RecordedListStatus {
  readonly lastListStartedAt?: number;
  readonly lastListOutcome?: string;
  /** epoch ms; absent until a complete list was recorded */
  readonly lastCompleteListStartedAt?: number;
}
