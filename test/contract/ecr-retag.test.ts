/**
 * Contract: our ECR adapter adds a protective tag to an existing digest, byte for byte, against moto_server.
 *
 * moto is faithful for "BatchGetImage + PutImage retag of an existing digest with the exact bytes" and for
 * BatchDeleteImage (aws-notes.md, section "moto"). It is NOT faithful for digests (not the sha256 of the
 * manifest), acceptedMediaTypes, or the failure shape of a missing digest: those are pinned below as
 * canaries (they fail when moto changes, so nobody builds on them unknowingly) and tested elsewhere.
 *
 * Retag procedure: https://docs.aws.amazon.com/AmazonECR/latest/userguide/image-retag.html
 * BatchGetImage: https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_BatchGetImage.html
 */
import {
  BatchDeleteImageCommand,
  BatchGetImageCommand,
  CreateRepositoryCommand,
  DescribeImagesCommand,
  ECRClient,
  PutImageCommand,
} from '@aws-sdk/client-ecr';
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ACCEPTED_MANIFEST_MEDIA_TYPES, EcrAdapter, UnexpectedEcrAnswerError } from '../../lambda/adapters/ecr';
import { shouldSkipMotoTests, useMotoServer } from '../support/moto';

const sha256Hex = (text: string): string => createHash('sha256').update(text).digest('hex');

const DOCKER_V2 = 'application/vnd.docker.distribution.manifest.v2+json';

/**
 * A Docker image manifest as `docker push` stores it: 3-space indentation, a config and gzip layers.
 * The text is kept verbatim; any re-serialisation would change a real digest.
 * See: https://distribution.github.io/distribution/spec/manifest-v2-2/
 */
function dockerV2Manifest(seed: string): string {
  // Each seed gets its own config and top layer, so two seeds are two different images (moto derives its
  // digests from the layer digests, real ECR from the whole text).
  return [
    '{',
    '   "schemaVersion": 2,',
    `   "mediaType": "${DOCKER_V2}",`,
    '   "config": {',
    '      "mediaType": "application/vnd.docker.container.image.v1+json",',
    '      "size": 7023,',
    `      "digest": "sha256:${sha256Hex(`config of ${seed}`)}"`,
    '   },',
    '   "layers": [',
    '      {',
    '         "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",',
    '         "size": 32654,',
    '         "digest": "sha256:e692418e4cbaf90ca69d05a66403747baa33ee08806650b51fab815ad7fc331f"',
    '      },',
    '      {',
    '         "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",',
    '         "size": 16724,',
    `         "digest": "sha256:${sha256Hex(`layer of ${seed}`)}"`,
    '      }',
    '   ]',
    '}',
  ].join('\n');
}

describe.skipIf(shouldSkipMotoTests())('ECR retag with our adapter, against moto_server', () => {
  const moto = useMotoServer();
  let repoCounter = 0;

  /** Given a fresh repository holding one image pushed as `prod`; returns the digest moto assigned. */
  async function givenPushedImage(
    seed = 'a',
  ): Promise<{ ecr: ECRClient; repository: string; digest: string; manifest: string }> {
    const ecr = new ECRClient(moto().clientConfig);
    repoCounter += 1;
    const repository = `team/app-${repoCounter}`;
    await ecr.send(new CreateRepositoryCommand({ repositoryName: repository }));
    const manifest = dockerV2Manifest(seed);
    const pushed = await ecr.send(
      new PutImageCommand({
        repositoryName: repository,
        imageManifest: manifest,
        imageManifestMediaType: DOCKER_V2,
        imageTag: 'prod',
      }),
    );
    // moto's digests are not the sha256 of the manifest (aws-notes.md "moto"): take the one it assigned.
    const digest = pushed.image?.imageId?.imageDigest;
    expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    return { ecr, repository, digest: digest!, manifest };
  }

  async function imageByTag(ecr: ECRClient, repository: string, tag: string) {
    const answer = await ecr.send(
      new BatchGetImageCommand({
        repositoryName: repository,
        imageIds: [{ imageTag: tag }],
        acceptedMediaTypes: [...ACCEPTED_MANIFEST_MEDIA_TYPES],
      }),
    );
    return answer.images?.[0];
  }

  it('given an in-use digest, addProtectiveTag makes the tag name that digest with the exact manifest bytes', async () => {
    const { ecr, repository, digest, manifest } = await givenPushedImage();
    const tag = `digest-guard-${digest.slice('sha256:'.length, 'sha256:'.length + 32)}`;

    const outcome = await new EcrAdapter(ecr).addProtectiveTag(repository, digest, tag);

    expect(outcome).toEqual({ outcome: 'tagged' });
    const protectedImage = await imageByTag(ecr, repository, tag);
    expect(protectedImage?.imageId?.imageDigest).toBe(digest);
    expect(protectedImage?.imageManifest).toBe(manifest);
    expect(protectedImage?.imageManifestMediaType).toBe(DOCKER_V2);
    // The push tag is untouched: the guard adds a tag, it never moves or removes one.
    expect((await imageByTag(ecr, repository, 'prod'))?.imageId?.imageDigest).toBe(digest);
  });

  it('a second protection of the same digest is a no-op that reports already-tagged (duplicate events are harmless)', async () => {
    const { ecr, repository, digest } = await givenPushedImage();
    const adapter = new EcrAdapter(ecr);
    const tag = 'digest-guard-duplicate-delivery';

    expect(await adapter.addProtectiveTag(repository, digest, tag)).toEqual({ outcome: 'tagged' });
    expect(await adapter.addProtectiveTag(repository, digest, tag)).toEqual({ outcome: 'already-tagged' });

    const described = await ecr.send(
      new DescribeImagesCommand({ repositoryName: repository, imageIds: [{ imageDigest: digest }] }),
    );
    expect(described.imageDetails?.[0]?.imageTags?.slice().sort()).toEqual([tag, 'prod'].sort());
  });

  it('when the protective tag already names another digest, reports tag-taken and leaves the tag where it is', async () => {
    const { ecr, repository, digest } = await givenPushedImage('a');
    const other = await ecr.send(
      new PutImageCommand({
        repositoryName: repository,
        imageManifest: dockerV2Manifest('b'),
        imageManifestMediaType: DOCKER_V2,
        imageTag: 'digest-guard-occupied',
      }),
    );
    const otherDigest = other.image?.imageId?.imageDigest;
    expect(otherDigest).not.toBe(digest);

    const outcome = await new EcrAdapter(ecr).addProtectiveTag(repository, digest, 'digest-guard-occupied');

    expect(outcome).toEqual({ outcome: 'tag-taken', otherDigest });
    expect((await imageByTag(ecr, repository, 'digest-guard-occupied'))?.imageId?.imageDigest).toBe(otherDigest);
  });

  it('the protected digest survives removal of its push tag (BatchDeleteImage by tag removes only that tag)', async () => {
    // The incident: `prod` leaves digest A. With the protective tag in place, A keeps a tag and stays.
    // BatchDeleteImage: "When you remove the last tag from an image, the image is deleted"
    // (https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_BatchDeleteImage.html)
    const { ecr, repository, digest, manifest } = await givenPushedImage();
    await new EcrAdapter(ecr).addProtectiveTag(repository, digest, 'digest-guard-keep');

    const deleted = await ecr.send(
      new BatchDeleteImageCommand({ repositoryName: repository, imageIds: [{ imageTag: 'prod' }] }),
    );

    expect(deleted.failures ?? []).toEqual([]);
    const kept = await imageByTag(ecr, repository, 'digest-guard-keep');
    expect(kept?.imageId?.imageDigest).toBe(digest);
    expect(kept?.imageManifest).toBe(manifest);
    const described = await ecr.send(
      new DescribeImagesCommand({ repositoryName: repository, imageIds: [{ imageDigest: digest }] }),
    );
    expect(described.imageDetails?.[0]?.imageTags).toEqual(['digest-guard-keep']);
  });

  it('removing the last tag of an unprotected image deletes it (what the guard exists to prevent)', async () => {
    const { ecr, repository, digest } = await givenPushedImage();

    await ecr.send(new BatchDeleteImageCommand({ repositoryName: repository, imageIds: [{ imageTag: 'prod' }] }));

    const answer = await ecr.send(
      new BatchGetImageCommand({ repositoryName: repository, imageIds: [{ imageDigest: digest }] }),
    );
    expect(answer.images ?? []).toEqual([]);
    expect(answer.failures?.[0]?.failureCode).toBe('ImageNotFound');
  });

  it('for a digest that is not in the repository, never reports tagged and creates no image', async () => {
    // Real ECR echoes the requested imageId in the failure, and the adapter answers `image-missing`;
    // moto answers `imageId: {imageTag: "null"}` (canary below), and the adapter refuses loudly instead.
    // Either way nothing may be put. The `image-missing` path is pinned against the simulated account.
    const { ecr, repository } = await givenPushedImage();
    const absent = `sha256:${'0'.repeat(64)}`;

    let outcome: unknown;
    try {
      outcome = await new EcrAdapter(ecr).addProtectiveTag(repository, absent, 'digest-guard-absent');
    } catch (error) {
      expect(error).toBeInstanceOf(UnexpectedEcrAnswerError);
      outcome = 'refused';
    }

    expect(['refused', { outcome: 'image-missing' }]).toContainEqual(outcome);
    expect(await imageByTag(ecr, repository, 'digest-guard-absent')).toBeUndefined();
  });

  describe('what moto does with the calls the adapter makes', () => {
    it('BatchGetImage answers a missing tag with failureCode ImageNotFound naming the tag (the adapter reads it as "the tag is free")', async () => {
      // ImageFailureCode enum: botocore/data/ecr/2015-09-21/service-2.json, shape `ImageFailureCode`.
      const { ecr, repository, digest } = await givenPushedImage();

      const answer = await ecr.send(
        new BatchGetImageCommand({
          repositoryName: repository,
          imageIds: [{ imageDigest: digest }, { imageTag: 'digest-guard-free' }],
          acceptedMediaTypes: [...ACCEPTED_MANIFEST_MEDIA_TYPES],
        }),
      );

      expect(answer.images?.map((image) => image.imageId?.imageDigest)).toEqual([digest]);
      expect(answer.failures).toEqual([
        { imageId: { imageTag: 'digest-guard-free' }, failureCode: 'ImageNotFound', failureReason: expect.any(String) },
      ]);
    });

    it('PutImage of the same manifest with a tag the digest already carries fails with ImageAlreadyExistsException', async () => {
      const { ecr, repository, digest, manifest } = await givenPushedImage();

      await expect(
        ecr.send(
          new PutImageCommand({
            repositoryName: repository,
            imageManifest: manifest,
            imageManifestMediaType: DOCKER_V2,
            imageDigest: digest,
            imageTag: 'prod',
          }),
        ),
      ).rejects.toMatchObject({ name: 'ImageAlreadyExistsException' });
    });

    it('canary: moto ignores acceptedMediaTypes (returns a Docker v2 manifest when only OCI is accepted), so media-type refusal is not testable here', async () => {
      const { ecr, repository, digest } = await givenPushedImage();

      const answer = await ecr.send(
        new BatchGetImageCommand({
          repositoryName: repository,
          imageIds: [{ imageDigest: digest }],
          acceptedMediaTypes: ['application/vnd.oci.image.manifest.v1+json'],
        }),
      );

      expect(answer.images?.[0]?.imageManifestMediaType).toBe(DOCKER_V2);
    });

    it('canary: moto reports a missing digest as imageId {imageTag: "null"} instead of echoing the digest', async () => {
      const { ecr, repository } = await givenPushedImage();

      const answer = await ecr.send(
        new BatchGetImageCommand({
          repositoryName: repository,
          imageIds: [{ imageDigest: `sha256:${'0'.repeat(64)}` }],
        }),
      );

      expect(answer.failures).toEqual([
        { imageId: { imageTag: 'null' }, failureCode: 'ImageNotFound', failureReason: expect.any(String) },
      ]);
    });

    it('canary: moto accepts a PutImage whose manifest does not match imageDigest (real ECR: ImageDigestDoesNotMatchException)', async () => {
      const { ecr, repository, digest, manifest } = await givenPushedImage();

      const put = await ecr.send(
        new PutImageCommand({
          repositoryName: repository,
          imageManifest: `${manifest}\n`,
          imageManifestMediaType: DOCKER_V2,
          imageDigest: digest,
          imageTag: 'reserialised',
        }),
      );

      expect(put.image?.imageId?.imageDigest).toBe(digest);
    });
  });
});
