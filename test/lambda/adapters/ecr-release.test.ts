/**
 * The ECR adapter's reconcile calls, against aws-sdk-client-mock: listing, index children, releasing a
 * protective tag and restoring an archived image. Each test pins the request shape and how every documented
 * answer is read.
 */
import {
  BatchDeleteImageCommand,
  BatchGetImageCommand,
  DescribeImagesCommand,
  DescribeRepositoriesCommand,
  ECRClient,
  ImageNotFoundException,
  ImageStorageClassUpdateNotSupportedException,
  UpdateImageStorageClassCommand,
} from '@aws-sdk/client-ecr';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { describe, expect, it } from 'vitest';
import { EcrAdapter, UnexpectedEcrAnswerError } from '../../../lambda/adapters/ecr';
import { resetBeforeEach } from '../../support/mocked-clients';

const ecr = mockClient(ECRClient);
const adapter = () => new EcrAdapter(new ECRClient({ region: 'eu-west-1' }));
const digest = (n: number): string => `sha256:${n.toString(16).padStart(64, '0')}`;
const REPO = 'team/app';
const D1 = digest(1);
const D2 = digest(2);
const TAG = `digest-guard-sha256-${D1.slice(7)}`;
const meta = { $metadata: {} };

resetBeforeEach(ecr);

describe('listRepositories', () => {
  it('reads every page of DescribeRepositories at the largest page size', async () => {
    ecr
      .on(DescribeRepositoriesCommand, { maxResults: 1000 })
      .resolvesOnce({ repositories: [{ repositoryName: 'a' }], nextToken: 't1' })
      .resolvesOnce({ repositories: [{ repositoryName: 'b' }] });
    expect(await adapter().listRepositories()).toEqual(['a', 'b']);
    expect(ecr).toHaveReceivedNthCommandWith(DescribeRepositoriesCommand, 2, { maxResults: 1000, nextToken: 't1' });
  });
});

describe('listProtectedImages', () => {
  it('pages DescribeImages with tagStatus TAGGED and keeps images with a protective tag, with pull and push times', async () => {
    const pushedAt = new Date('2026-01-01T00:00:00Z');
    const pulledAt = new Date('2026-02-01T00:00:00Z');
    ecr
      .on(DescribeImagesCommand)
      .resolvesOnce({
        imageDetails: [
          { imageDigest: D1, imageTags: [TAG, 'v1'], imagePushedAt: pushedAt, lastRecordedPullTime: pulledAt },
        ],
        nextToken: 'n',
      })
      .resolvesOnce({ imageDetails: [{ imageDigest: D2, imageTags: ['prod'], imagePushedAt: pushedAt }] });

    const images = await adapter().listProtectedImages(REPO, (tag) => tag.startsWith('digest-guard-sha256-'));

    expect(images).toEqual([{ digest: D1, tags: [TAG, 'v1'], pushedAt, lastPulledAt: pulledAt }]);
    expect(ecr).toHaveReceivedNthCommandWith(DescribeImagesCommand, 1, {
      repositoryName: REPO,
      filter: { tagStatus: 'TAGGED' },
      maxResults: 1000,
    });
    expect(ecr).toHaveReceivedNthCommandWith(DescribeImagesCommand, 2, {
      repositoryName: REPO,
      filter: { tagStatus: 'TAGGED' },
      maxResults: 1000,
      nextToken: 'n',
    });
  });
});

describe('referencedManifests', () => {
  it('returns the children of index manifests only', async () => {
    const index = JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [{ digest: D2 }, { digest: 'not-a-digest' }],
    });
    ecr.on(BatchGetImageCommand).resolves({
      images: [
        {
          imageId: { imageDigest: D1 },
          imageManifest: index,
          imageManifestMediaType: 'application/vnd.oci.image.index.v1+json',
        },
        {
          imageId: { imageDigest: D2 },
          imageManifest: '{"layers":[]}',
          imageManifestMediaType: 'application/vnd.oci.image.manifest.v1+json',
        },
      ],
    });
    expect(await adapter().referencedManifests(REPO, [D1, D2])).toEqual(new Map([[D1, [D2]]]));
  });
});

describe('releaseProtectiveTag', () => {
  it('checks whom the tag names, then removes it by tag only; the last tag deletes the image', async () => {
    ecr.on(DescribeImagesCommand).resolves({ imageDetails: [{ imageDigest: D1, imageTags: [TAG] }] });
    ecr.on(BatchDeleteImageCommand).resolves({ imageIds: [{ imageDigest: D1, imageTag: TAG }], failures: [] });

    expect(await adapter().releaseProtectiveTag(REPO, D1, TAG)).toEqual({ outcome: 'released', imageDeleted: true });
    expect(ecr).toHaveReceivedCommandWith(DescribeImagesCommand, {
      repositoryName: REPO,
      imageIds: [{ imageTag: TAG }],
    });
    // By tag only: with a digest, BatchDeleteImage deletes the image and all of its tags.
    expect(ecr).toHaveReceivedCommandWith(BatchDeleteImageCommand, {
      repositoryName: REPO,
      imageIds: [{ imageTag: TAG }],
    });
  });

  it('reports that other tags stay when the image has them', async () => {
    ecr.on(DescribeImagesCommand).resolves({ imageDetails: [{ imageDigest: D1, imageTags: [TAG, 'release-7'] }] });
    ecr.on(BatchDeleteImageCommand).resolves({ imageIds: [{ imageDigest: D1, imageTag: TAG }], failures: [] });
    expect(await adapter().releaseProtectiveTag(REPO, D1, TAG)).toEqual({ outcome: 'released', imageDeleted: false });
  });

  it('never removes the tag when it names another digest', async () => {
    ecr.on(DescribeImagesCommand).resolves({ imageDetails: [{ imageDigest: D2, imageTags: [TAG] }] });
    expect(await adapter().releaseProtectiveTag(REPO, D1, TAG)).toEqual({ outcome: 'tag-moved', otherDigest: D2 });
    expect(ecr).not.toHaveReceivedCommand(BatchDeleteImageCommand);
  });

  it('reads a missing tag as already released', async () => {
    ecr.on(DescribeImagesCommand).rejects(new ImageNotFoundException({ message: 'not found', ...meta }));
    expect(await adapter().releaseProtectiveTag(REPO, D1, TAG)).toEqual({ outcome: 'tag-gone' });
    expect(ecr).not.toHaveReceivedCommand(BatchDeleteImageCommand);
  });

  it('keeps a child an index still references (failure ImageReferencedByManifestList), and throws on other failures', async () => {
    ecr.on(DescribeImagesCommand).resolves({ imageDetails: [{ imageDigest: D1, imageTags: [TAG] }] });
    ecr
      .on(BatchDeleteImageCommand)
      .resolvesOnce({
        failures: [
          {
            imageId: { imageTag: TAG },
            failureCode: 'ImageReferencedByManifestList',
            failureReason: `referenced by ${D2}`,
          },
        ],
      })
      .resolvesOnce({ failures: [{ imageId: { imageTag: TAG }, failureCode: 'KmsError', failureReason: 'kms' }] });

    expect(await adapter().releaseProtectiveTag(REPO, D1, TAG)).toEqual({
      outcome: 'referenced-by-index',
      reason: `referenced by ${D2}`,
    });
    await expect(adapter().releaseProtectiveTag(REPO, D1, TAG)).rejects.toBeInstanceOf(UnexpectedEcrAnswerError);
  });
});

describe('restoreArchivedImage', () => {
  // See: https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_UpdateImageStorageClass.html
  it('asks UpdateImageStorageClass for STANDARD and reports the answered status', async () => {
    ecr.on(UpdateImageStorageClassCommand).resolves({ imageStatus: 'ACTIVATING' });
    expect(await adapter().restoreArchivedImage(REPO, D1)).toEqual({ outcome: 'restoring', status: 'ACTIVATING' });
    expect(ecr).toHaveReceivedCommandWith(UpdateImageStorageClassCommand, {
      repositoryName: REPO,
      imageId: { imageDigest: D1 },
      targetStorageClass: 'STANDARD',
    });
  });

  it('reads its documented errors: image missing, transition not supported', async () => {
    ecr
      .on(UpdateImageStorageClassCommand)
      .rejectsOnce(new ImageNotFoundException({ message: 'gone', ...meta }))
      .rejectsOnce(new ImageStorageClassUpdateNotSupportedException({ message: 'no', ...meta }));
    expect(await adapter().restoreArchivedImage(REPO, D1)).toEqual({ outcome: 'image-missing' });
    expect(await adapter().restoreArchivedImage(REPO, D1)).toEqual({ outcome: 'not-supported', reason: 'no' });
  });
});
