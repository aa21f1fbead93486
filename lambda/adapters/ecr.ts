/**
 * ECR adapter: every ECR call the guard makes. Reads the state of digests and adds protective tags with
 * the exact manifest bytes, never moving a tag that names another digest. For the scheduled reconcile it
 * also lists repositories and protective tags, reads what an index references, releases a protective tag
 * (by tag only, after checking the digest it names) and restores archived images.
 */
import {
  BatchDeleteImageCommand,
  BatchGetImageCommand,
  DescribeImagesCommand,
  DescribeRegistryCommand,
  DescribeRepositoriesCommand,
  ImageAlreadyExistsException,
  ImageNotFoundException,
  ImageStorageClassUpdateNotSupportedException,
  ImageTagAlreadyExistsException,
  PutImageCommand,
  RepositoryNotFoundException,
  UpdateImageStorageClassCommand,
  type BatchDeleteImageCommandOutput,
  type BatchGetImageCommandOutput,
  type DescribeImagesCommandOutput,
  type ECRClient,
  type Image,
  type ImageDetail,
  type ImageFailure,
} from '@aws-sdk/client-ecr';
import { RepositoryNotFoundError } from '../core/errors';
import type { ProtectiveTagRequest, ProtectOutcome, RestoreOutcome } from '../core/ports';
import type { ProtectedImage, ReconcileEcrPort, RegistryReplicationPort, ReleaseOutcome } from '../core/ports';
import type { RegistryReplicationRule } from '../core/ports';
import type { Digest, ImageState } from '../core/types';
import { defaultEcrClient } from './clients';
import { chunks } from '../core/concurrency';
import { ACCEPTED_MANIFEST_MEDIA_TYPES, INDEX_MANIFEST_MEDIA_TYPES } from '../core/manifest-media-types';

export { ACCEPTED_MANIFEST_MEDIA_TYPES, INDEX_MANIFEST_MEDIA_TYPES } from '../core/manifest-media-types';

/** `DescribeImages` and `BatchGetImage` take at most 100 image ids per call
 * (botocore/data/ecr/2015-09-21/service-2.json, shape `ImageIdentifierList`, max 100). */
export const ECR_IMAGE_IDS_PER_CALL = 100;

/** Protective tags read per BatchGetImage: each takes two image ids, the digest and the tag. */
export const PROTECTIVE_TAGS_PER_READ = ECR_IMAGE_IDS_PER_CALL / 2;

/** `failureCode` of a BatchGetImage failure for an id that does not exist (shape `ImageFailureCode`). */
const IMAGE_NOT_FOUND = 'ImageNotFound';
/** `failureCode` of a BatchDeleteImage failure for a child manifest that an index still references. */
const REFERENCED_BY_INDEX = 'ImageReferencedByManifestList';

/** `DescribeImages`/`DescribeRepositories` page size: the model's maximum (`MaxResults` 1..1000). */
export const ECR_MAX_PAGE_SIZE = 1000;

/** How often `describeDigests` re-asks after `ImageNotFoundException` (an image can vanish in between). */
const DESCRIBE_ATTEMPTS = 3;

/** ECR answered in a way the guard cannot act on safely; thrown so retries and the DLQ see it. */
export class UnexpectedEcrAnswerError extends Error {
  override readonly name = 'UnexpectedEcrAnswerError';
  constructor(
    message: string,
    readonly failures: readonly ImageFailure[] = [],
  ) {
    super(message);
  }
}

export class EcrAdapter implements ReconcileEcrPort, RegistryReplicationPort {
  constructor(private readonly client: ECRClient = defaultEcrClient()) {}

  async describeDigests(repository: string, digests: readonly Digest[]): Promise<ImageState[]> {
    const unique = [...new Set(digests)];
    const details = new Map<Digest, ImageDetail>();
    for (const chunk of chunks(unique, ECR_IMAGE_IDS_PER_CALL)) {
      for (const detail of await this.describeChunk(repository, chunk)) {
        if (detail.imageDigest) details.set(detail.imageDigest, detail);
      }
    }
    return digests.map((digest): ImageState => {
      const detail = details.get(digest);
      if (!detail) return { digest, present: false };
      return {
        digest,
        present: true,
        tags: detail.imageTags ?? [],
        // Absent on answers from before archiving existed: ACTIVE is the only state then.
        storageStatus: detail.imageStatus ?? 'ACTIVE',
        ...(detail.imageManifestMediaType ? { manifestMediaType: detail.imageManifestMediaType } : {}),
        ...(detail.imagePushedAt ? { pushedAt: detail.imagePushedAt } : {}),
      };
    });
  }

  /**
   * Describes up to 100 digests. Whether DescribeImages fails the whole call with ImageNotFoundException
   * when one of several digests is missing, or leaves it out of the answer, is not documented: both are
   * handled. On the exception, BatchGetImage (whose per-id failures say `ImageNotFound`) tells which are
   * missing, and the rest are described again. Digests left out of an answer are simply absent.
   */
  private async describeChunk(repository: string, digests: readonly Digest[]): Promise<ImageDetail[]> {
    let remaining = [...digests];
    for (let attempt = 1; remaining.length > 0; attempt++) {
      try {
        const answer = await this.client.send(
          new DescribeImagesCommand({
            repositoryName: repository,
            imageIds: remaining.map((imageDigest) => ({ imageDigest })),
          }),
        );
        return answer.imageDetails ?? [];
      } catch (error) {
        if (error instanceof RepositoryNotFoundException)
          throw new RepositoryNotFoundError(repository, { cause: error });
        if (!(error instanceof ImageNotFoundException) || attempt >= DESCRIBE_ATTEMPTS) throw error;
        const missing = await this.findMissingDigests(repository, remaining);
        // Nothing found missing, yet DescribeImages says an image is not found: do not loop on it.
        if (missing.size === 0) throw error;
        remaining = remaining.filter((digest) => !missing.has(digest));
      }
    }
    return [];
  }

  private async findMissingDigests(repository: string, digests: readonly Digest[]): Promise<Set<Digest>> {
    const answer = await this.batchGetImage(
      repository,
      digests.map((imageDigest) => ({ imageDigest })),
    );
    return new Set(
      (answer.failures ?? [])
        .filter((failure) => failure.failureCode === IMAGE_NOT_FOUND && failure.imageId?.imageDigest)
        .map((failure) => failure.imageId!.imageDigest!),
    );
  }

  /** One protective tag: `addProtectiveTags` with a single request. */
  async addProtectiveTag(repository: string, digest: Digest, tag: string): Promise<ProtectOutcome> {
    const [outcome] = await this.addProtectiveTags(repository, [{ digest, tag }]);
    return outcome!;
  }

  /**
   * One BatchGetImage per 50 requests tells, for each, what the digest's manifest is and whom the tag names
   * now; then each digest is decided on its own and put if its tag is proven free. The window between the read
   * and a put (there was one per digest before) now spans up to 49 earlier puts. A tag that appears meanwhile on
   * the same digest makes the put ImageAlreadyExistsException, on another digest of an immutable repository
   * ImageTagAlreadyExistsException (both handled in `putTag`); on another digest of a mutable repository the put
   * would move it, which takes someone writing the guard's own tag name, derived from this digest, in that window.
   */
  async addProtectiveTags(repository: string, requests: readonly ProtectiveTagRequest[]): Promise<ProtectOutcome[]> {
    const outcomes: ProtectOutcome[] = [];
    for (const chunk of chunks([...requests], PROTECTIVE_TAGS_PER_READ)) {
      const answer = await this.batchGetImage(
        repository,
        chunk.flatMap(({ digest, tag }) => [{ imageDigest: digest }, { imageTag: tag }]),
      );
      // In request order, and a refusal stops the rest: as many puts as one digest at a time would have made.
      for (const { digest, tag } of chunk) outcomes.push(await this.protectFromAnswer(repository, digest, tag, answer));
    }
    return outcomes;
  }

  private async protectFromAnswer(
    repository: string,
    digest: Digest,
    tag: string,
    answer: BatchGetImageCommandOutput,
  ): Promise<ProtectOutcome> {
    const images = answer.images ?? [];
    const failures = answer.failures ?? [];

    const digestFailure = failures.find((f) => f.imageId?.imageDigest === digest && f.imageId?.imageTag === undefined);
    if (digestFailure?.failureCode === IMAGE_NOT_FOUND) return { outcome: 'image-missing' };
    if (digestFailure) {
      throw new UnexpectedEcrAnswerError(
        `BatchGetImage could not read ${repository}@${digest}: ${digestFailure.failureCode} ${digestFailure.failureReason ?? ''}`.trim(),
        [digestFailure],
      );
    }

    const tagged = images.find((image) => image.imageId?.imageTag === tag);
    if (tagged) {
      const otherDigest = tagged.imageId?.imageDigest;
      if (otherDigest === digest) return { outcome: 'already-tagged' };
      // The tag names another image: putting it here would MOVE it. Never.
      return { outcome: 'tag-taken', ...(otherDigest ? { otherDigest } : {}) };
    }
    const tagFailure = failures.find((f) => f.imageId?.imageTag === tag);
    if (tagFailure?.failureCode !== IMAGE_NOT_FOUND) {
      // Without proof that the tag is free, a PutImage could move it.
      throw new UnexpectedEcrAnswerError(
        tagFailure
          ? `BatchGetImage could not tell whether ${repository}:${tag} is free: ${tagFailure.failureCode} ${tagFailure.failureReason ?? ''}`.trim()
          : `BatchGetImage said nothing about ${repository}:${tag}; refusing to put a tag that may name another image`,
        tagFailure ? [tagFailure] : [],
      );
    }

    const image = images.find((candidate) => candidate.imageId?.imageDigest === digest);
    if (!image?.imageManifest) {
      throw new UnexpectedEcrAnswerError(`BatchGetImage returned no manifest for ${repository}@${digest}`);
    }
    const mediaType = image.imageManifestMediaType;
    if (!mediaType || !ACCEPTED_MANIFEST_MEDIA_TYPES.includes(mediaType)) {
      return { outcome: 'unsupported-media-type', ...(mediaType ? { mediaType } : {}) };
    }
    return this.putTag(repository, digest, tag, image, mediaType);
  }

  private async putTag(
    repository: string,
    digest: Digest,
    tag: string,
    image: Image,
    mediaType: string,
  ): Promise<ProtectOutcome> {
    try {
      await this.client.send(
        new PutImageCommand({
          repositoryName: repository,
          // The exact bytes: a digest is the sha256 of the manifest text, and ECR refuses a manifest that
          // does not hash to `imageDigest` (ImageDigestDoesNotMatchException) instead of creating an image.
          imageManifest: image.imageManifest,
          // Without it, OCI indexes failed to re-put: https://github.com/aws/containers-roadmap/issues/1873
          imageManifestMediaType: mediaType,
          imageDigest: digest,
          imageTag: tag,
        }),
      );
      return { outcome: 'tagged' };
    } catch (error) {
      // Same manifest, same tag: done already. On the first attempt that was a duplicate event or a
      // concurrent invocation (which alerts). On a retry it was most likely OUR earlier attempt, whose answer
      // was lost: report it as tagged, so the protection is alerted (a rare duplicate beats a silent one).
      if (error instanceof ImageAlreadyExistsException) {
        return (error.$metadata?.attempts ?? 1) > 1 ? { outcome: 'tagged' } : { outcome: 'already-tagged' };
      }
      // Immutable repository where the tag exists (it appeared between our read and our put).
      if (error instanceof ImageTagAlreadyExistsException) return { outcome: 'tag-taken' };
      if (error instanceof RepositoryNotFoundException) throw new RepositoryNotFoundError(repository, { cause: error });
      throw error;
    }
  }

  async listRepositories(): Promise<string[]> {
    const names: string[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.client.send(
        new DescribeRepositoriesCommand({ maxResults: ECR_MAX_PAGE_SIZE, ...(nextToken ? { nextToken } : {}) }),
      );
      for (const repository of page.repositories ?? [])
        if (repository.repositoryName) names.push(repository.repositoryName);
      nextToken = page.nextToken;
    } while (nextToken);
    return names;
  }

  /**
   * One BatchGetImage per 100 digests; only index manifests are parsed. A digest ECR cannot serve (missing,
   * or a media type outside the accepted list) is left out: `describeDigests` reports missing ones.
   */
  async referencedManifests(repository: string, digests: readonly Digest[]): Promise<Map<Digest, Digest[]>> {
    const children = new Map<Digest, Digest[]>();
    for (const chunk of chunks([...new Set(digests)], ECR_IMAGE_IDS_PER_CALL)) {
      const answer = await this.batchGetImage(
        repository,
        chunk.map((imageDigest) => ({ imageDigest })),
      );
      for (const image of answer.images ?? []) {
        const digest = image.imageId?.imageDigest;
        if (!digest || !image.imageManifest || !INDEX_MANIFEST_MEDIA_TYPES.includes(image.imageManifestMediaType ?? ''))
          continue;
        children.set(digest, manifestDigestsOf(image.imageManifest, `${repository}@${digest}`));
      }
    }
    return children;
  }

  /**
   * DescribeImages with `tagStatus: TAGGED`, every page of up to 1000 images. Chosen over ListImages
   * because one pass returns each image's tags together with `imagePushedAt` and `lastRecordedPullTime`,
   * which release needs; ListImages would need a DescribeImages per 100 candidates on top, and its pages
   * hold one entry per tag, so never fewer calls.
   * Only ACTIVE images are listed (the filter's default, DescribeImagesFilter.imageStatus): an archived
   * image keeps its protective tag.
   */
  async listProtectedImages(repository: string, isProtective: (tag: string) => boolean): Promise<ProtectedImage[]> {
    const images: ProtectedImage[] = [];
    let nextToken: string | undefined;
    do {
      let page: DescribeImagesCommandOutput;
      try {
        page = await this.client.send(
          new DescribeImagesCommand({
            repositoryName: repository,
            filter: { tagStatus: 'TAGGED' },
            maxResults: ECR_MAX_PAGE_SIZE,
            ...(nextToken ? { nextToken } : {}),
          }),
        );
      } catch (error) {
        if (error instanceof RepositoryNotFoundException)
          throw new RepositoryNotFoundError(repository, { cause: error });
        throw error;
      }
      for (const detail of page.imageDetails ?? []) {
        const tags = detail.imageTags ?? [];
        if (!detail.imageDigest || !tags.some(isProtective)) continue;
        images.push({
          digest: detail.imageDigest,
          tags,
          ...(detail.imagePushedAt ? { pushedAt: detail.imagePushedAt } : {}),
          ...(detail.lastRecordedPullTime ? { lastPulledAt: detail.lastRecordedPullTime } : {}),
        });
      }
      nextToken = page.nextToken;
    } while (nextToken);
    return images;
  }

  /**
   * Reads whom the tag names right before removing it, then removes it by tag only. By tag only, because
   * BatchDeleteImage with a digest "completely deletes an image (and all of its tags)" (BatchDeleteImage,
   * botocore/data/ecr/2015-09-21/service-2.json); by tag, it removes that tag, and the image with its last tag.
   */
  async releaseProtectiveTag(repository: string, digest: Digest, tag: string): Promise<ReleaseOutcome> {
    let current: ImageDetail | undefined;
    try {
      const answer = await this.client.send(
        new DescribeImagesCommand({ repositoryName: repository, imageIds: [{ imageTag: tag }] }),
      );
      current = answer.imageDetails?.[0];
    } catch (error) {
      if (error instanceof ImageNotFoundException || error instanceof RepositoryNotFoundException)
        return { outcome: 'tag-gone' };
      throw error;
    }
    if (!current?.imageDigest) return { outcome: 'tag-gone' };
    if (current.imageDigest !== digest) return { outcome: 'tag-moved', otherDigest: current.imageDigest };

    let answer: BatchDeleteImageCommandOutput;
    try {
      answer = await this.client.send(
        new BatchDeleteImageCommand({ repositoryName: repository, imageIds: [{ imageTag: tag }] }),
      );
    } catch (error) {
      if (error instanceof RepositoryNotFoundException) return { outcome: 'tag-gone' };
      throw error;
    }
    const failure = answer.failures?.[0];
    if (failure?.failureCode === IMAGE_NOT_FOUND) return { outcome: 'tag-gone' };
    if (failure?.failureCode === REFERENCED_BY_INDEX)
      return { outcome: 'referenced-by-index', reason: failure.failureReason ?? REFERENCED_BY_INDEX };
    if (failure) {
      throw new UnexpectedEcrAnswerError(
        `BatchDeleteImage could not remove ${repository}:${tag}: ${failure.failureCode} ${failure.failureReason ?? ''}`.trim(),
        [failure],
      );
    }
    return { outcome: 'released', imageDeleted: (current.imageTags ?? []).length <= 1 };
  }

  /**
   * `UpdateImageStorageClass` with `targetStorageClass: STANDARD` restores an archived image; it is
   * ACTIVATING until the restore completes (up to about 20 minutes).
   * See: https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_UpdateImageStorageClass.html
   */
  async restoreArchivedImage(repository: string, digest: Digest): Promise<RestoreOutcome> {
    try {
      const answer = await this.client.send(
        new UpdateImageStorageClassCommand({
          repositoryName: repository,
          imageId: { imageDigest: digest },
          targetStorageClass: 'STANDARD',
        }),
      );
      return { outcome: 'restoring', status: answer.imageStatus ?? 'ACTIVATING' };
    } catch (error) {
      if (error instanceof ImageNotFoundException) return { outcome: 'image-missing' };
      if (error instanceof ImageStorageClassUpdateNotSupportedException)
        return { outcome: 'not-supported', reason: error.message };
      if (error instanceof RepositoryNotFoundException) throw new RepositoryNotFoundError(repository, { cause: error });
      throw error;
    }
  }

  /**
   * DescribeRegistry's replication rules. A rule's `deleteReplication` (API_DeleteReplication: `enabled`, "the
   * service replicates image deletions and image tag removals") is read when the answer carries it; the pinned
   * SDK (@aws-sdk/client-ecr 3.1169.0, and botocore 1.43's ecr/2015-09-21 model) has no such member in
   * `ReplicationRule`, and its deserializer drops members it does not model, so today it is always `unknown`.
   * See: https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_DeleteReplication.html
   */
  async readReplicationRules(): Promise<RegistryReplicationRule[]> {
    const { replicationConfiguration } = await this.client.send(new DescribeRegistryCommand({}));
    return (replicationConfiguration?.rules ?? []).map((rule): RegistryReplicationRule => {
      const enabled = (rule as { deleteReplication?: { enabled?: unknown } }).deleteReplication?.enabled;
      return {
        destinations: (rule.destinations ?? []).map((d) => `${d.registryId ?? '?'}/${d.region ?? '?'}`),
        prefixes: (rule.repositoryFilters ?? []).flatMap((f) => (f.filter ? [f.filter] : [])),
        deletions: enabled === true ? 'replicated' : enabled === false ? 'not-replicated' : 'unknown',
      };
    });
  }

  private async batchGetImage(repository: string, imageIds: { imageDigest?: string; imageTag?: string }[]) {
    try {
      return await this.client.send(
        new BatchGetImageCommand({
          repositoryName: repository,
          imageIds,
          acceptedMediaTypes: [...ACCEPTED_MANIFEST_MEDIA_TYPES],
        }),
      );
    } catch (error) {
      if (error instanceof RepositoryNotFoundException) throw new RepositoryNotFoundError(repository, { cause: error });
      throw error;
    }
  }
}

/** The digests an index or manifest list references (`manifests[].digest`). */
function manifestDigestsOf(manifest: string, where: string): Digest[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(manifest);
  } catch (error) {
    throw new UnexpectedEcrAnswerError(`the index ${where} is not JSON: ${(error as Error).message}`);
  }
  const manifests = (parsed as { manifests?: unknown }).manifests;
  if (!Array.isArray(manifests)) return [];
  return manifests
    .map((entry) => (entry as { digest?: unknown }).digest)
    .filter((d): d is string => typeof d === 'string' && /^sha256:[a-f0-9]{64}$/.test(d));
}
