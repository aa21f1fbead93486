/**
 * A stateful simulated ECR registry (one account, one region), answering the real SDK v3 ECR client
 * through `SimTransport` with the request and response shapes of the botocore model
 * (`botocore/data/ecr/2015-09-21/service-2.json`).
 *
 * What it is faithful to, and where it guesses (marked *inference*):
 * - an image is keyed by its digest, the sha256 of the exact manifest bytes;
 * - pushing a tag that names another image moves the tag; the other image stays, untagged if that was
 *   its last tag (*no AWS sentence states it outright*; Docker registry semantics);
 * - tag mutability with wildcard exclusion filters; PutImage's documented errors;
 * - `BatchDeleteImage` by tag removes the tag, and the image with its last tag;
 * - a child manifest referenced by an index cannot be deleted while the index stays;
 * - `DescribeImages`/`ListImages` filters and paging, `imageStatus` ACTIVE|ARCHIVED|ACTIVATING;
 * - `lastRecordedPullTime`, set by `recordPull` (ECR refreshes it at least once every 24 hours, so a test
 *   can record a pull at an earlier time than the clock's to model that lag);
 * - `UpdateImageStorageClass`: ARCHIVE, and STANDARD which leaves the image ACTIVATING until `completeRestore`;
 * - `GetLifecyclePolicy`/`PutLifecyclePolicy`: one policy text per repository, stored as given. Put checks
 *   only the length (100..30720, botocore `LifecyclePolicyText`) and that the text is JSON with a `rules`
 *   array, not every rule property as ECR does. `lastEvaluatedAt` is the time the policy was last set
 *   (*inference*: the simulation runs no policy). The lifecycle policy preview is not implemented.
 * - `DescribeRegistry`: the registry's replication rules as set by `setReplicationConfiguration`, with each rule's
 *   `deleteReplication` (https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_DeleteReplication.html).
 *   The SDK this project pins does not model that member and drops it from the answer; `registryId` is the
 *   account. No replication happens: the rules are only read.
 */
import type { EcrLookup } from './contracts';
import { type EcrImageActionEvent, eventEnvelope, eventTime } from './events';
import { INDEX_MEDIA_TYPES, digestOf, type ParsedManifest, parseManifest } from './manifests';
import { SimAwsError, type SimService } from './transport';

export type TagMutability = 'MUTABLE' | 'IMMUTABLE' | 'IMMUTABLE_WITH_EXCLUSION' | 'MUTABLE_WITH_EXCLUSION';
export type ImageStatus = 'ACTIVE' | 'ARCHIVED' | 'ACTIVATING';

export interface RepositoryOptions {
  readonly imageTagMutability?: TagMutability;
  /** wildcard filters (`*` matches any run of characters); at most 5 */
  readonly exclusionFilters?: readonly string[];
  readonly createdAt?: Date;
}

/** One rule of a registry's replication configuration (botocore `ReplicationRule`, plus `deleteReplication`). */
export interface SimReplicationRule {
  readonly destinations: readonly { readonly region: string; readonly registryId: string }[];
  /** `PREFIX_MATCH` filters; none: every repository */
  readonly repositoryPrefixes?: readonly string[];
  /** the rule replicates image deletions and tag removals too */
  readonly deleteReplication?: boolean;
}

export interface PushOptions {
  /** the tag to push; none (or `undefined`) pushes the manifest by digest only */
  readonly tag?: string | undefined;
  /** exact manifest text */
  readonly manifest: string;
  /** the manifest media type, when the manifest has no `mediaType` field or to pass it like a client does */
  readonly mediaType?: string;
  /** backdate the push (e.g. to make an image old enough for a lifecycle rule); default: the clock's now */
  readonly pushedAt?: Date;
}

/** A snapshot of one image, for assertions. */
export interface ImageSnapshot {
  readonly digest: string;
  readonly tags: readonly string[];
  readonly mediaType: string;
  readonly status: ImageStatus;
  readonly pushedAt: Date;
  readonly children: readonly string[];
}

/**
 * What one lifecycle run expired, shaped after CloudTrail's `PolicyExecutionEvent` (one event per up to
 * 10 images). The field names are simplified: this is a record for assertions, not the CloudTrail shape.
 * See: https://docs.aws.amazon.com/AmazonECR/latest/userguide/logging-using-cloudtrail.html
 */
export interface PolicyExecutionEvent {
  readonly eventName: 'PolicyExecutionEvent';
  readonly eventSource: 'ecr.amazonaws.com';
  readonly readOnly: true;
  readonly eventTime: string;
  readonly repositoryName: string;
  readonly images: readonly {
    readonly digest: string;
    readonly tags: readonly string[];
    readonly pushedAt: Date;
    readonly actionType: 'EXPIRE';
  }[];
}

interface StoredImage {
  readonly digest: string;
  readonly manifest: string;
  readonly mediaType: string;
  readonly artifactMediaType?: string | undefined;
  readonly children: readonly string[];
  readonly sizeInBytes: number;
  readonly pushedAt: Date;
  tags: string[];
  status: ImageStatus;
  lastArchivedAt?: Date;
  lastActivatedAt?: Date;
  /** what `DescribeImages` answers as `lastRecordedPullTime`; absent until the image is first pulled */
  lastRecordedPullTime?: Date;
}

interface StoredRepository {
  readonly name: string;
  readonly createdAt: Date;
  readonly mutability: TagMutability;
  readonly exclusionFilters: readonly string[];
  /** insertion order = push order, which is also the listing order */
  readonly images: Map<string, StoredImage>;
  readonly tags: Map<string, string>;
  readonly blobs: Map<string, number>;
  /** the repository's lifecycle policy, absent until one is set */
  lifecyclePolicy?: { readonly text: string; readonly lastEvaluatedAt: Date };
}

interface ImageId {
  imageDigest?: string;
  imageTag?: string;
}

interface ImageFailure {
  imageId: ImageId;
  failureCode: string;
  failureReason: string;
}

// See botocore model: ImageIdentifierList max 100; MaxResults 1..1000 (default 100 per the API docs);
// ImageTag 1..300 characters; ImageManifest at most 4 MiB.
const MAX_IMAGE_IDS = 100;
const MAX_RESULTS = 1000;
const DEFAULT_RESULTS = 100;
const MAX_TAG_LENGTH = 300;
const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
const DIGEST_PATTERN = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-fA-F0-9]+$/;
// See botocore model: LifecyclePolicyText min 100, max 30720 characters.
const MIN_LIFECYCLE_POLICY_LENGTH = 100;
const MAX_LIFECYCLE_POLICY_LENGTH = 30_720;
const REPOSITORY_NAME = /^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$/;

export interface SimEcrOptions {
  readonly accountId: string;
  readonly region: string;
  /** the registry's clock (default: the wall clock); tests can pass a settable one */
  readonly now?: () => Date;
}

export class SimEcr implements SimService, EcrLookup {
  readonly name = 'ecr';
  readonly hostPrefix = 'api.ecr';
  readonly registryHost: string;
  /** every `ECR Image Action` event, in the order the registry emitted them */
  readonly events: EcrImageActionEvent[] = [];
  /** every lifecycle expiry, as CloudTrail would log it */
  readonly policyExecutions: PolicyExecutionEvent[] = [];
  private readonly repositories = new Map<string, StoredRepository>();
  private replicationRules: readonly SimReplicationRule[] = [];
  private readonly accountId: string;
  private readonly region: string;
  private readonly now: () => Date;

  constructor(options: SimEcrOptions) {
    this.accountId = options.accountId;
    this.region = options.region;
    this.now = options.now ?? (() => new Date());
    this.registryHost = `${this.accountId}.dkr.ecr.${this.region}.amazonaws.com`;
  }

  // ───────────────────────────── control plane (tests, demo) ─────────────────────────────

  createRepository(name: string, options: RepositoryOptions = {}): void {
    if (!REPOSITORY_NAME.test(name) || name.length < 2 || name.length > 256) {
      throw new Error(`invalid repository name "${name}"`);
    }
    if (this.repositories.has(name)) throw new Error(`repository "${name}" already exists`);
    const exclusionFilters = options.exclusionFilters ?? [];
    const mutability = options.imageTagMutability ?? 'MUTABLE';
    if (exclusionFilters.length > 5) throw new Error('at most 5 tag mutability exclusion filters');
    if (exclusionFilters.length > 0 && !mutability.endsWith('_WITH_EXCLUSION')) {
      throw new Error(`exclusion filters need IMMUTABLE_WITH_EXCLUSION or MUTABLE_WITH_EXCLUSION, not ${mutability}`);
    }
    this.repositories.set(name, {
      name,
      createdAt: options.createdAt ?? this.now(),
      mutability,
      exclusionFilters,
      images: new Map(),
      tags: new Map(),
      blobs: new Map(),
    });
  }

  /**
   * Pushes an image as `docker push` does: uploads the blobs the manifest references, then calls PutImage
   * (so a tag that names another image moves). An index's children must be pushed first, as clients do.
   * Returns the digest; throws `SimAwsError` where PutImage would fail.
   */
  pushImage(repository: string, push: PushOptions): string {
    const repo = this.repo(repository);
    let parsed: ParsedManifest;
    try {
      parsed = parseManifest(push.manifest);
    } catch {
      throw new SimAwsError('InvalidParameterException', "Invalid parameter at 'imageManifest': not a JSON manifest");
    }
    for (const blob of parsed.blobs) repo.blobs.set(blob.digest, blob.size);
    const { image } = this.putImage(
      {
        repositoryName: repository,
        imageManifest: push.manifest,
        imageManifestMediaType: push.mediaType,
        imageTag: push.tag,
      },
      push.pushedAt,
    );
    return image.imageId.imageDigest;
  }

  /** Transitions an image to the archive storage class (as a lifecycle `transition` rule would). */
  archive(repository: string, digest: string): void {
    const image = this.image(repository, digest);
    image.status = 'ARCHIVED';
    image.lastArchivedAt = this.now();
  }

  /** Completes a restore that `UpdateImageStorageClass` to STANDARD started (takes up to ~20 minutes in AWS). */
  completeRestore(repository: string, digest: string): void {
    const image = this.image(repository, digest);
    if (image.status !== 'ACTIVATING') throw new Error(`${digest} is ${image.status}, not ACTIVATING`);
    image.status = 'ACTIVE';
    image.lastActivatedAt = this.now();
  }

  /**
   * Records a pull of an image (by a task launch, a Lambda function update, `docker pull`): sets what
   * `DescribeImages` answers as `lastRecordedPullTime`. `at` defaults to the clock's now; pass an earlier
   * time to model ECR's refresh lag ("refreshes the last image pull timestamp at least once every 24 hours",
   * botocore/data/ecr/2015-09-21/service-2.json, `ImageDetail.lastRecordedPullTime`).
   * Throws for an image that cannot be pulled (archived or activating images answer 404).
   */
  recordPull(repository: string, digest: string, at?: Date): void {
    const image = this.image(repository, digest);
    if (image.status !== 'ACTIVE') throw new Error(`${digest} is ${image.status}: it cannot be pulled`);
    image.lastRecordedPullTime = at ?? this.now();
  }

  /** Deletes an image and its tags as `BatchDeleteImage` by digest does; throws on its failures. */
  deleteImage(repository: string, digest: string): void {
    const { failures } = this.batchDeleteImage({ repositoryName: repository, imageIds: [{ imageDigest: digest }] });
    if (failures.length > 0) throw new SimAwsError(failures[0]!.failureCode, failures[0]!.failureReason);
  }

  /**
   * Runs a lifecycle rule `tagStatus: untagged, countType: sinceImagePushed, countNumber: olderThanDays`
   * (or every untagged image when `olderThanDays` is left out) with action `expire`.
   * An image still referenced by an index that stays is never expired (deleting it would break the index).
   * Records and returns the `PolicyExecutionEvent`s (one per up to 10 images). It emits no
   * `ECR Image Action` DELETE: no document says lifecycle expiry does.
   * See: https://docs.aws.amazon.com/AmazonECR/latest/userguide/LifecyclePolicies.html
   */
  runLifecycleExpireUntagged(repository: string, options: { olderThanDays?: number } = {}): PolicyExecutionEvent[] {
    const repo = this.repo(repository);
    const cutoff =
      options.olderThanDays === undefined ? Infinity : this.now().getTime() - options.olderThanDays * 86_400_000;
    const candidates = new Set(
      [...repo.images.values()]
        .filter((i) => i.tags.length === 0 && i.status === 'ACTIVE' && i.pushedAt.getTime() <= cutoff)
        .map((i) => i.digest),
    );
    // Drop candidates referenced by an index that stays, until nothing changes (an index that stays
    // keeps its children; an index that goes frees them).
    for (let changed = true; changed; ) {
      changed = false;
      for (const image of repo.images.values()) {
        if (candidates.has(image.digest)) continue;
        for (const child of image.children) if (candidates.delete(child)) changed = true;
      }
    }
    const expired = [...candidates].map((d) => repo.images.get(d)!);
    for (const image of expired) repo.images.delete(image.digest);
    const executions: PolicyExecutionEvent[] = [];
    for (let i = 0; i < expired.length; i += 10) {
      executions.push({
        eventName: 'PolicyExecutionEvent',
        eventSource: 'ecr.amazonaws.com',
        readOnly: true,
        eventTime: eventTime(this.now()),
        repositoryName: repository,
        images: expired
          .slice(i, i + 10)
          .map((e) => ({ digest: e.digest, tags: [...e.tags], pushedAt: e.pushedAt, actionType: 'EXPIRE' as const })),
      });
    }
    this.policyExecutions.push(...executions);
    return executions;
  }

  /**
   * Sets a repository's lifecycle policy text as it is, without the checks `PutLifecyclePolicy` makes (so a
   * test can also store a policy the guard must report as unreadable).
   */
  setLifecyclePolicy(repository: string, text: string): void {
    this.repo(repository).lifecyclePolicy = { text, lastEvaluatedAt: this.now() };
  }

  /** Every image of a repository, in push order. */
  /** Replaces the registry's replication rules (PutReplicationConfiguration, as an operator would). */
  setReplicationConfiguration(rules: readonly SimReplicationRule[]): void {
    if (rules.length > 10) throw new Error('a replication configuration holds at most 10 rules (ReplicationRuleList)');
    this.replicationRules = rules;
  }

  imagesOf(repository: string): ImageSnapshot[] {
    return [...this.repo(repository).images.values()].map((i) => ({
      digest: i.digest,
      tags: [...i.tags],
      mediaType: i.mediaType,
      status: i.status,
      pushedAt: i.pushedAt,
      children: [...i.children],
    }));
  }

  repositoryNames(): string[] {
    return [...this.repositories.keys()];
  }

  // ───────────────────────────── EcrLookup ─────────────────────────────

  resolve(
    repository: string,
    reference: { readonly tag?: string | undefined; readonly digest?: string },
  ): string | undefined {
    const repo = this.repositories.get(repository);
    if (!repo) return undefined;
    if (reference.digest) return repo.images.has(reference.digest) ? reference.digest : undefined;
    return reference.tag ? repo.tags.get(reference.tag) : undefined;
  }

  canPull(repository: string, digest: string): boolean {
    return this.repositories.get(repository)?.images.get(digest)?.status === 'ACTIVE';
  }

  // ───────────────────────────── API ─────────────────────────────

  handle(operation: string, input: any): unknown {
    return toEpochSeconds(this.answer(operation, input));
  }

  private answer(operation: string, input: any): unknown {
    switch (operation) {
      case 'DescribeRepositories':
        return this.describeRepositories(input);
      case 'DescribeImages':
        return this.describeImages(input);
      case 'ListImages':
        return this.listImages(input);
      case 'BatchGetImage':
        return this.batchGetImage(input);
      case 'PutImage':
        return this.putImage(input);
      case 'BatchDeleteImage':
        return this.batchDeleteImage(input);
      case 'UpdateImageStorageClass':
        return this.updateImageStorageClass(input);
      case 'GetLifecyclePolicy':
        return this.getLifecyclePolicy(input);
      case 'PutLifecyclePolicy':
        return this.putLifecyclePolicy(input);
      case 'DescribeRegistry':
        return this.describeRegistry();
      default:
        throw new SimAwsError('UnknownOperationException', `simulated ECR does not implement ${operation}`);
    }
  }

  private describeRegistry() {
    return {
      registryId: this.accountId,
      replicationConfiguration: {
        rules: this.replicationRules.map((rule) => ({
          destinations: rule.destinations.map((d) => ({ region: d.region, registryId: d.registryId })),
          ...(rule.repositoryPrefixes?.length
            ? { repositoryFilters: rule.repositoryPrefixes.map((filter) => ({ filter, filterType: 'PREFIX_MATCH' })) }
            : {}),
          ...(rule.deleteReplication !== undefined ? { deleteReplication: { enabled: rule.deleteReplication } } : {}),
        })),
      },
    };
  }

  private describeRepositories(input: { repositoryNames?: string[]; maxResults?: number; nextToken?: string }) {
    if (input.repositoryNames && (input.maxResults !== undefined || input.nextToken !== undefined)) {
      throw invalid('maxResults and nextToken cannot be used with repositoryNames');
    }
    let repos: StoredRepository[];
    if (input.repositoryNames) {
      if (input.repositoryNames.length < 1 || input.repositoryNames.length > 100)
        throw invalid('repositoryNames must hold 1 to 100 names');
      repos = input.repositoryNames.map((n) => this.repo(n));
    } else {
      repos = [...this.repositories.values()];
    }
    const page = paginate(repos, input, 'DescribeRepositories');
    return { repositories: page.items.map((r) => this.repositoryShape(r)), nextToken: page.nextToken };
  }

  private describeImages(input: {
    repositoryName: string;
    imageIds?: ImageId[];
    maxResults?: number;
    nextToken?: string;
    filter?: { tagStatus?: string; imageStatus?: string };
  }) {
    const repo = this.repo(input.repositoryName);
    if (input.imageIds) {
      if (input.maxResults !== undefined || input.nextToken !== undefined) {
        throw invalid('maxResults and nextToken cannot be used with imageIds');
      }
      checkIdCount(input.imageIds);
      // *Inference*: DescribeImages lists ImageNotFoundException; we assume any missing id fails the call.
      // Images asked for by id are returned whatever their storage status (so an archived digest shows as ARCHIVED).
      const found = new Map<string, StoredImage>();
      for (const id of input.imageIds) {
        const image = this.lookup(repo, id);
        if (!image) {
          throw new SimAwsError(
            'ImageNotFoundException',
            `The image with imageId {imageDigest:'${id.imageDigest ?? 'null'}', imageTag:'${id.imageTag ?? 'null'}'} does not exist within the repository with name '${repo.name}' in the registry with id '${this.accountId}'`,
          );
        }
        found.set(image.digest, image);
      }
      return { imageDetails: [...found.values()].map((i) => this.imageDetail(repo, i)) };
    }
    const images = [...repo.images.values()].filter(
      (i) => matchesTagStatus(i, input.filter?.tagStatus) && matchesImageStatus(i, input.filter?.imageStatus),
    );
    const page = paginate(images, input, `DescribeImages/${repo.name}/${JSON.stringify(input.filter ?? {})}`);
    return { imageDetails: page.items.map((i) => this.imageDetail(repo, i)), nextToken: page.nextToken };
  }

  private listImages(input: {
    repositoryName: string;
    maxResults?: number;
    nextToken?: string;
    filter?: { tagStatus?: string; imageStatus?: string };
  }) {
    const repo = this.repo(input.repositoryName);
    // One entry per tag; an untagged image appears once, by digest only.
    const ids: ImageId[] = [];
    for (const image of repo.images.values()) {
      if (!matchesImageStatus(image, input.filter?.imageStatus)) continue;
      if (image.tags.length === 0) {
        if (matchesTagStatus(image, input.filter?.tagStatus)) ids.push({ imageDigest: image.digest });
      } else if (matchesTagStatus(image, input.filter?.tagStatus)) {
        for (const tag of image.tags) ids.push({ imageDigest: image.digest, imageTag: tag });
      }
    }
    const page = paginate(ids, input, `ListImages/${repo.name}/${JSON.stringify(input.filter ?? {})}`);
    return { imageIds: page.items, nextToken: page.nextToken };
  }

  private batchGetImage(input: { repositoryName: string; imageIds: ImageId[]; acceptedMediaTypes?: string[] }) {
    const repo = this.repo(input.repositoryName);
    checkIdCount(input.imageIds);
    if (input.acceptedMediaTypes && (input.acceptedMediaTypes.length < 1 || input.acceptedMediaTypes.length > 100)) {
      throw invalid('acceptedMediaTypes must hold 1 to 100 media types');
    }
    const images: unknown[] = [];
    const failures: ImageFailure[] = [];
    for (const id of input.imageIds) {
      const failure = this.checkId(repo, id);
      if (failure) {
        failures.push(failure);
        continue;
      }
      const image = this.lookup(repo, id)!;
      if (input.acceptedMediaTypes && !input.acceptedMediaTypes.includes(image.mediaType)) {
        // *Inference*: ECR cannot serve the stored manifest in an accepted type (it does not convert
        // manifests here); no document names the failure code, ImageNotFound is the closest in the model.
        failures.push({
          imageId: id,
          failureCode: 'ImageNotFound',
          failureReason: 'Requested image not found in the accepted media types',
        });
        continue;
      }
      images.push({
        registryId: this.accountId,
        repositoryName: repo.name,
        imageId: { imageDigest: image.digest, ...(id.imageTag ? { imageTag: id.imageTag } : {}) },
        imageManifest: image.manifest,
        imageManifestMediaType: image.mediaType,
      });
    }
    return { images, failures };
  }

  private putImage(
    input: {
      repositoryName: string;
      imageManifest: string;
      imageManifestMediaType?: string | undefined;
      imageTag?: string | undefined;
      imageDigest?: string;
    },
    pushedAt?: Date,
  ) {
    const repo = this.repo(input.repositoryName);
    const manifest = input.imageManifest;
    if (typeof manifest !== 'string' || manifest.length === 0) throw invalid('imageManifest is required');
    if (Buffer.byteLength(manifest, 'utf8') > MAX_MANIFEST_BYTES) throw invalid('imageManifest exceeds 4 MiB');
    const tag = input.imageTag;
    if (tag !== undefined && (tag.length < 1 || tag.length > MAX_TAG_LENGTH)) {
      throw invalid(`imageTag must be 1 to ${MAX_TAG_LENGTH} characters`);
    }
    let parsed: ParsedManifest;
    try {
      parsed = parseManifest(manifest);
    } catch {
      throw invalid("Invalid parameter at 'ImageManifest' failed to satisfy constraint: 'Invalid JSON syntax'");
    }
    // "If you push an image manifest that does not contain the mediaType field, you must specify the
    // imageManifestMediaType in the request." (PutImage API reference); a given type must agree with the field.
    if (parsed.mediaType && input.imageManifestMediaType && parsed.mediaType !== input.imageManifestMediaType) {
      throw invalid(
        `imageManifestMediaType ${input.imageManifestMediaType} does not match the manifest's mediaType ${parsed.mediaType}`,
      );
    }
    const mediaType = parsed.mediaType ?? input.imageManifestMediaType;
    if (!mediaType) throw invalid('imageManifestMediaType is required for a manifest without a mediaType field');

    const digest = digestOf(manifest);
    if (input.imageDigest !== undefined && input.imageDigest !== digest) {
      throw new SimAwsError(
        'ImageDigestDoesNotMatchException',
        `Provided image digest '${input.imageDigest}' does not match the calculated digest '${digest}'`,
      );
    }

    const existing = repo.images.get(digest);
    const taggedDigest = tag === undefined ? undefined : repo.tags.get(tag);
    if (existing && (tag === undefined || taggedDigest === digest)) {
      // Same manifest and same tag (or no tag at all: *inference*, nothing would change): already done.
      throw new SimAwsError(
        'ImageAlreadyExistsException',
        `Image with digest '${digest}'${tag ? ` and tag '${tag}'` : ''} already exists in the repository with name '${repo.name}' in registry with id '${this.accountId}'`,
      );
    }
    if (tag !== undefined && taggedDigest !== undefined && taggedDigest !== digest && this.isImmutable(repo, tag)) {
      throw new SimAwsError(
        'ImageTagAlreadyExistsException',
        `The image tag '${tag}' already exists in the '${repo.name}' repository and cannot be overwritten because the repository is immutable.`,
      );
    }
    if (!existing) {
      const missingBlobs = parsed.blobs.filter((b) => !repo.blobs.has(b.digest));
      if (missingBlobs.length > 0) {
        throw new SimAwsError(
          'LayersNotFoundException',
          `Layers with digests '[${missingBlobs.map((b) => b.digest).join(', ')}]' required for pushing image into repository with name '${repo.name}' in registry with id '${this.accountId}' do not exist`,
        );
      }
      const missingChildren = parsed.children.filter((c) => !repo.images.has(c));
      if (missingChildren.length > 0) {
        throw new SimAwsError(
          'ReferencedImagesNotFoundException',
          `Manifests with digests '[${missingChildren.join(', ')}]' required for pushing image into repository with name '${repo.name}' in registry with id '${this.accountId}' do not exist`,
        );
      }
    }

    // Move the tag: the image it named keeps its other tags and stays, untagged if that was the last one.
    if (tag !== undefined && taggedDigest !== undefined && taggedDigest !== digest) {
      const previous = repo.images.get(taggedDigest);
      if (previous) previous.tags = previous.tags.filter((t) => t !== tag);
    }
    const image: StoredImage = existing ?? {
      digest,
      manifest,
      mediaType,
      // an image's artifact media type is its config's (or the OCI `artifactType`); an index has none
      artifactMediaType: parsed.artifactType ?? configMediaType(manifest),
      children: parsed.children,
      sizeInBytes: INDEX_MEDIA_TYPES.includes(mediaType)
        ? Math.max(0, ...parsed.children.map((c) => repo.images.get(c)?.sizeInBytes ?? 0))
        : parsed.blobs.reduce((sum, b) => sum + b.size, 0),
      // *Inference*: adding a tag to an existing image keeps its original imagePushedAt.
      pushedAt: pushedAt ?? this.now(),
      tags: [],
      status: 'ACTIVE',
    };
    if (!existing) repo.images.set(digest, image);
    if (tag !== undefined) {
      image.tags.push(tag);
      repo.tags.set(tag, digest);
    }
    this.emit('PUSH', repo.name, image, tag);
    return {
      image: {
        registryId: this.accountId,
        repositoryName: repo.name,
        imageId: { imageDigest: digest, ...(tag !== undefined ? { imageTag: tag } : {}) },
        imageManifest: manifest,
        imageManifestMediaType: mediaType,
      },
    };
  }

  private batchDeleteImage(input: { repositoryName: string; imageIds: ImageId[] }) {
    const repo = this.repo(input.repositoryName);
    checkIdCount(input.imageIds);
    const imageIds: ImageId[] = [];
    const failures: ImageFailure[] = [];
    for (const id of input.imageIds) {
      const failure = this.checkId(repo, id);
      if (failure) {
        failures.push(failure);
        continue;
      }
      const image = this.lookup(repo, id)!;
      const removesImage = id.imageDigest !== undefined || image.tags.length <= 1;
      if (removesImage) {
        const referencedBy = [...repo.images.values()].find((i) => i.children.includes(image.digest));
        if (referencedBy) {
          failures.push({
            imageId: id,
            failureCode: 'ImageReferencedByManifestList',
            failureReason: `Requested image is referenced by manifest list ${referencedBy.digest}`,
          });
          continue;
        }
        repo.images.delete(image.digest);
        for (const tag of image.tags) repo.tags.delete(tag);
        // *Inference*: the answer lists one id per tag the image had (digest only when it had none),
        // and one DELETE event goes out per listed id.
        const removed: ImageId[] =
          image.tags.length > 0
            ? image.tags.map((t) => ({ imageDigest: image.digest, imageTag: t }))
            : [{ imageDigest: image.digest }];
        imageIds.push(...removed);
        for (const r of removed) this.emit('DELETE', repo.name, image, r.imageTag);
      } else {
        const tag = id.imageTag!;
        image.tags = image.tags.filter((t) => t !== tag);
        repo.tags.delete(tag);
        imageIds.push({ imageDigest: image.digest, imageTag: tag });
        this.emit('DELETE', repo.name, image, tag);
      }
    }
    return { imageIds, failures };
  }

  private updateImageStorageClass(input: { repositoryName: string; imageId: ImageId; targetStorageClass: string }) {
    const repo = this.repo(input.repositoryName);
    const failure = this.checkId(repo, input.imageId ?? {});
    if (failure) throw new SimAwsError('ImageNotFoundException', failure.failureReason);
    const image = this.lookup(repo, input.imageId)!;
    if (input.targetStorageClass === 'ARCHIVE') {
      if (image.status === 'ACTIVE') {
        image.status = 'ARCHIVED';
        image.lastArchivedAt = this.now();
      }
    } else if (input.targetStorageClass === 'STANDARD') {
      // A restore takes up to ~20 minutes: the image is ACTIVATING until `completeRestore`.
      if (image.status === 'ARCHIVED') image.status = 'ACTIVATING';
    } else {
      throw invalid(`targetStorageClass must be ARCHIVE or STANDARD, not ${input.targetStorageClass}`);
    }
    return {
      registryId: this.accountId,
      repositoryName: repo.name,
      imageId: { imageDigest: image.digest },
      imageStatus: image.status,
    };
  }

  private getLifecyclePolicy(input: { repositoryName: string }) {
    const repo = this.repo(input.repositoryName);
    const policy = repo.lifecyclePolicy;
    if (!policy) {
      throw new SimAwsError(
        'LifecyclePolicyNotFoundException',
        `Lifecycle policy does not exist for the repository with name '${repo.name}' in the registry with id '${this.accountId}'`,
      );
    }
    return {
      registryId: this.accountId,
      repositoryName: repo.name,
      lifecyclePolicyText: policy.text,
      lastEvaluatedAt: policy.lastEvaluatedAt,
    };
  }

  private putLifecyclePolicy(input: { repositoryName: string; lifecyclePolicyText?: string }) {
    const repo = this.repo(input.repositoryName);
    const text = input.lifecyclePolicyText;
    if (
      typeof text !== 'string' ||
      text.length < MIN_LIFECYCLE_POLICY_LENGTH ||
      text.length > MAX_LIFECYCLE_POLICY_LENGTH
    ) {
      throw invalid(
        `Invalid parameter at 'LifecyclePolicyText' failed to satisfy constraint: 'length must be between ${MIN_LIFECYCLE_POLICY_LENGTH} and ${MAX_LIFECYCLE_POLICY_LENGTH}'`,
      );
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw invalid(
        "Invalid parameter at 'LifecyclePolicyText' failed to satisfy constraint: 'Lifecycle policy validation failure: the text is not JSON'",
      );
    }
    if (typeof parsed !== 'object' || parsed === null || !Array.isArray((parsed as { rules?: unknown }).rules)) {
      throw invalid(
        "Invalid parameter at 'LifecyclePolicyText' failed to satisfy constraint: 'Lifecycle policy validation failure: no rules array'",
      );
    }
    repo.lifecyclePolicy = { text, lastEvaluatedAt: this.now() };
    return { registryId: this.accountId, repositoryName: repo.name, lifecyclePolicyText: text };
  }

  // ───────────────────────────── helpers ─────────────────────────────

  private repo(name: string): StoredRepository {
    const repo = this.repositories.get(name);
    if (!repo) {
      throw new SimAwsError(
        'RepositoryNotFoundException',
        `The repository with name '${name}' does not exist in the registry with id '${this.accountId}'`,
      );
    }
    return repo;
  }

  private image(repository: string, digest: string): StoredImage {
    const image = this.repo(repository).images.get(digest);
    if (!image) throw new Error(`no image ${digest} in ${repository}`);
    return image;
  }

  private lookup(repo: StoredRepository, id: ImageId): StoredImage | undefined {
    const digest = id.imageDigest ?? (id.imageTag !== undefined ? repo.tags.get(id.imageTag) : undefined);
    if (!digest) return undefined;
    if (id.imageDigest && id.imageTag !== undefined && repo.tags.get(id.imageTag) !== id.imageDigest) return undefined;
    return repo.images.get(digest);
  }

  /** The per-id failure of the Batch* operations, with the model's `ImageFailureCode`s. */
  private checkId(repo: StoredRepository, id: ImageId): ImageFailure | undefined {
    if (!id.imageDigest && id.imageTag === undefined) {
      return { imageId: id, failureCode: 'MissingDigestAndTag', failureReason: 'Missing image digest and image tag' };
    }
    if (id.imageDigest && !DIGEST_PATTERN.test(id.imageDigest)) {
      return {
        imageId: id,
        failureCode: 'InvalidImageDigest',
        failureReason: 'Invalid request parameters: image digest should satisfy the regex',
      };
    }
    if (id.imageTag !== undefined && (id.imageTag.length < 1 || id.imageTag.length > MAX_TAG_LENGTH)) {
      return {
        imageId: id,
        failureCode: 'InvalidImageTag',
        failureReason: 'Invalid request parameters: image tag length',
      };
    }
    if (id.imageDigest && id.imageTag !== undefined) {
      const tagged = repo.tags.get(id.imageTag);
      if (tagged !== undefined && tagged !== id.imageDigest && repo.images.has(id.imageDigest)) {
        return { imageId: id, failureCode: 'ImageTagDoesNotMatchDigest', failureReason: 'Invalid image digest or tag' };
      }
    }
    if (!this.lookup(repo, id))
      return { imageId: id, failureCode: 'ImageNotFound', failureReason: 'Requested image not found' };
    return undefined;
  }

  private isImmutable(repo: StoredRepository, tag: string): boolean {
    const excluded = repo.exclusionFilters.some((f) => wildcard(f).test(tag));
    switch (repo.mutability) {
      case 'MUTABLE':
        return false;
      case 'IMMUTABLE':
        return true;
      // the tags an exclusion filter matches behave the other way round
      case 'IMMUTABLE_WITH_EXCLUSION':
        return !excluded;
      case 'MUTABLE_WITH_EXCLUSION':
        return excluded;
    }
  }

  private repositoryShape(r: StoredRepository) {
    return {
      repositoryArn: `arn:aws:ecr:${this.region}:${this.accountId}:repository/${r.name}`,
      registryId: this.accountId,
      repositoryName: r.name,
      repositoryUri: `${this.registryHost}/${r.name}`,
      createdAt: r.createdAt,
      imageTagMutability: r.mutability,
      ...(r.exclusionFilters.length > 0
        ? {
            imageTagMutabilityExclusionFilters: r.exclusionFilters.map((filter) => ({
              filterType: 'WILDCARD',
              filter,
            })),
          }
        : {}),
      imageScanningConfiguration: { scanOnPush: false },
      encryptionConfiguration: { encryptionType: 'AES256' },
    };
  }

  private imageDetail(repo: StoredRepository, i: StoredImage) {
    return {
      registryId: this.accountId,
      repositoryName: repo.name,
      imageDigest: i.digest,
      // an untagged image has no imageTags member at all
      ...(i.tags.length > 0 ? { imageTags: [...i.tags] } : {}),
      imageSizeInBytes: i.sizeInBytes,
      imagePushedAt: i.pushedAt,
      imageManifestMediaType: i.mediaType,
      ...(i.artifactMediaType ? { artifactMediaType: i.artifactMediaType } : {}),
      imageStatus: i.status,
      ...(i.lastArchivedAt ? { lastArchivedAt: i.lastArchivedAt } : {}),
      ...(i.lastActivatedAt ? { lastActivatedAt: i.lastActivatedAt } : {}),
      ...(i.lastRecordedPullTime ? { lastRecordedPullTime: i.lastRecordedPullTime } : {}),
    };
  }

  /**
   * Records an `ECR Image Action` event. For a push without a tag the event carries no `image-tag` key:
   * the documented examples only show tagged pushes, so this is an *inference* (consumers must accept a
   * PUSH event without a tag, e.g. the child manifests of a multi-platform push).
   */
  private emit(action: 'PUSH' | 'DELETE', repository: string, image: StoredImage, tag: string | undefined): void {
    this.events.push({
      ...eventEnvelope(
        'aws.ecr',
        'ECR Image Action',
        { account: this.accountId, region: this.region, time: eventTime(this.now()) },
        [],
      ),
      detail: {
        'action-type': action,
        result: 'SUCCESS',
        'repository-name': repository,
        'image-digest': image.digest,
        ...(tag !== undefined ? { 'image-tag': tag } : {}),
        'manifest-media-type': image.mediaType,
        ...(image.artifactMediaType ? { 'artifact-media-type': image.artifactMediaType } : {}),
      },
    });
  }
}

/**
 * awsJson1_1 carries timestamps as epoch seconds. Converted here rather than left to the wire, because
 * `JSON.stringify` calls `Date.prototype.toJSON` before any replacer sees the value.
 */
function toEpochSeconds(value: unknown): unknown {
  if (value instanceof Date) return value.getTime() / 1000;
  if (Array.isArray(value)) return value.map(toEpochSeconds);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toEpochSeconds(v)]));
  }
  return value;
}

function invalid(message: string): SimAwsError {
  return new SimAwsError('InvalidParameterException', message);
}

function checkIdCount(ids: ImageId[] | undefined): void {
  // See botocore model: ImageIdentifierList min 1, max 100.
  if (!Array.isArray(ids) || ids.length < 1 || ids.length > MAX_IMAGE_IDS) {
    throw invalid(`imageIds must hold 1 to ${MAX_IMAGE_IDS} image ids`);
  }
}

function matchesTagStatus(image: StoredImage, tagStatus: string | undefined): boolean {
  if (tagStatus === undefined || tagStatus === 'ANY') return true;
  if (tagStatus === 'TAGGED') return image.tags.length > 0;
  if (tagStatus === 'UNTAGGED') return image.tags.length === 0;
  throw invalid(`tagStatus must be TAGGED, UNTAGGED or ANY, not ${tagStatus}`);
}

/** "If not specified, only images with ACTIVE status are returned." (ListImagesFilter / DescribeImagesFilter) */
function matchesImageStatus(image: StoredImage, imageStatus: string | undefined): boolean {
  if (imageStatus === 'ANY') return true;
  const wanted = imageStatus ?? 'ACTIVE';
  if (!['ACTIVE', 'ARCHIVED', 'ACTIVATING'].includes(wanted)) throw invalid(`imageStatus ${wanted} is not valid`);
  return image.status === wanted;
}

function wildcard(filter: string): RegExp {
  return new RegExp(
    `^${filter
      .split('*')
      .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  );
}

function configMediaType(manifest: string): string | undefined {
  const config = (JSON.parse(manifest) as { config?: { mediaType?: unknown } }).config;
  return typeof config?.mediaType === 'string' ? config.mediaType : undefined;
}

/**
 * Pages a list: `maxResults` 1..1000 (default 100), an opaque `nextToken` bound to the query it came from.
 * A token from another query is refused, as ECR refuses a token it did not issue.
 */
function paginate<T>(
  items: readonly T[],
  input: { maxResults?: number; nextToken?: string },
  query: string,
): { items: T[]; nextToken?: string } {
  const max = input.maxResults ?? DEFAULT_RESULTS;
  if (!Number.isInteger(max) || max < 1 || max > MAX_RESULTS)
    throw invalid(`maxResults must be between 1 and ${MAX_RESULTS}`);
  let offset = 0;
  if (input.nextToken !== undefined) {
    try {
      const token = JSON.parse(Buffer.from(input.nextToken, 'base64url').toString('utf8')) as { q: string; o: number };
      if (token.q !== query || !Number.isInteger(token.o) || token.o < 0) throw new Error('foreign token');
      offset = token.o;
    } catch {
      throw invalid("Invalid parameter at 'nextToken': the token is not valid for this request");
    }
  }
  const page = items.slice(offset, offset + max);
  const next =
    offset + max < items.length
      ? Buffer.from(JSON.stringify({ q: query, o: offset + max }), 'utf8').toString('base64url')
      : undefined;
  return next ? { items: page, nextToken: next } : { items: page };
}
