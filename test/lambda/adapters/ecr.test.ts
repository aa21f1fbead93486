import {
  BatchGetImageCommand,
  DescribeImagesCommand,
  ECRClient,
  ImageAlreadyExistsException,
  ImageDigestDoesNotMatchException,
  ImageNotFoundException,
  ImageTagAlreadyExistsException,
  LayersNotFoundException,
  PutImageCommand,
  RepositoryNotFoundException,
  ServerException,
  type ImageDetail,
} from '@aws-sdk/client-ecr';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { describe, expect, it } from 'vitest';
import { ACCEPTED_MANIFEST_MEDIA_TYPES, EcrAdapter, UnexpectedEcrAnswerError } from '../../../lambda/adapters/ecr';
import { RepositoryNotFoundError } from '../../../lambda/core/errors';
import { resetBeforeEach } from '../../support/mocked-clients';

const ecr = mockClient(ECRClient);
const adapter = () => new EcrAdapter(new ECRClient({ region: 'eu-west-1' }));

const digest = (n: number): string => `sha256:${n.toString(16).padStart(64, '0')}`;
const REPO = 'team/app';
const TAG = 'digest-guard-0000000000000001';
const D1 = digest(1);
const D2 = digest(2);
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
// Odd spacing and key order on purpose: re-serialising it would change the digest.
const MANIFEST_TEXT =
  '{"schemaVersion":2,  "mediaType":"application/vnd.oci.image.manifest.v1+json","config":{},"layers":[]}\n';
const meta = { $metadata: {} };

const detail = (d: string, extra: Partial<ImageDetail> = {}): ImageDetail => ({
  repositoryName: REPO,
  imageDigest: d,
  imageTags: [],
  imageManifestMediaType: OCI_MANIFEST,
  ...extra,
});

resetBeforeEach(ecr);

describe('EcrAdapter.describeDigests', () => {
  it('reports tags, storage status, media type and push time of each requested digest, in request order', async () => {
    const pushedAt = new Date('2025-01-02T03:04:05Z');
    ecr.on(DescribeImagesCommand).resolves({
      imageDetails: [
        detail(D2, { imageTags: ['prod'], imageStatus: 'ARCHIVED', imagePushedAt: pushedAt }),
        detail(D1, { imageTags: [] }),
      ],
    });

    const states = await adapter().describeDigests(REPO, [D1, D2]);

    expect(states).toEqual([
      { digest: D1, present: true, tags: [], storageStatus: 'ACTIVE', manifestMediaType: OCI_MANIFEST },
      {
        digest: D2,
        present: true,
        tags: ['prod'],
        storageStatus: 'ARCHIVED',
        manifestMediaType: OCI_MANIFEST,
        pushedAt,
      },
    ]);
    expect(ecr).toHaveReceivedCommandWith(DescribeImagesCommand, {
      repositoryName: REPO,
      imageIds: [{ imageDigest: D1 }, { imageDigest: D2 }],
    });
  });

  it('asks for at most 100 image ids per DescribeImages call', async () => {
    // See: botocore/data/ecr/2015-09-21/service-2.json, ImageIdentifierList max 100
    const digests = Array.from({ length: 250 }, (_, i) => digest(i + 1));
    ecr.on(DescribeImagesCommand).callsFake((input: { imageIds: { imageDigest: string }[] }) => ({
      imageDetails: input.imageIds.map((id) => detail(id.imageDigest)),
    }));

    const states = await adapter().describeDigests(REPO, digests);

    expect(states.map((s) => s.digest)).toEqual(digests);
    expect(states.every((s) => s.present)).toBe(true);
    const sizes = ecr.commandCalls(DescribeImagesCommand).map((call) => call.args[0].input.imageIds?.length);
    expect(sizes).toEqual([100, 100, 50]);
  });

  it('reports a digest left out of the answer as not present', async () => {
    ecr.on(DescribeImagesCommand).resolves({ imageDetails: [detail(D1)] });

    const states = await adapter().describeDigests(REPO, [D1, D2]);

    expect(states[1]).toEqual({ digest: D2, present: false });
  });

  it('on ImageNotFoundException finds the missing digests with BatchGetImage and describes the rest', async () => {
    // The per-id failure code is in the model: botocore/data/ecr/2015-09-21/service-2.json, ImageFailureCode
    ecr
      .on(DescribeImagesCommand)
      .rejectsOnce(
        new ImageNotFoundException({ message: 'The image with imageId {imageDigest:…} does not exist', ...meta }),
      )
      .resolves({ imageDetails: [detail(D1, { imageTags: ['prod'] })] });
    ecr.on(BatchGetImageCommand).resolves({
      images: [{ imageId: { imageDigest: D1 }, imageManifest: MANIFEST_TEXT }],
      failures: [
        { imageId: { imageDigest: D2 }, failureCode: 'ImageNotFound', failureReason: 'Requested image not found' },
      ],
    });

    const states = await adapter().describeDigests(REPO, [D1, D2]);

    expect(states).toEqual([
      { digest: D1, present: true, tags: ['prod'], storageStatus: 'ACTIVE', manifestMediaType: OCI_MANIFEST },
      { digest: D2, present: false },
    ]);
    expect(ecr).toHaveReceivedNthCommandWith(DescribeImagesCommand, 2, { imageIds: [{ imageDigest: D1 }] });
  });

  it('needs no second DescribeImages when every requested digest is missing', async () => {
    ecr.on(DescribeImagesCommand).rejects(new ImageNotFoundException({ message: 'not found', ...meta }));
    ecr.on(BatchGetImageCommand).resolves({
      failures: [{ imageId: { imageDigest: D1 }, failureCode: 'ImageNotFound' }],
    });

    const states = await adapter().describeDigests(REPO, [D1]);

    expect(states).toEqual([{ digest: D1, present: false }]);
    expect(ecr).toHaveReceivedCommandTimes(DescribeImagesCommand, 1);
  });

  it('rethrows ImageNotFoundException when BatchGetImage finds nothing missing, instead of looping', async () => {
    ecr.on(DescribeImagesCommand).rejects(new ImageNotFoundException({ message: 'not found', ...meta }));
    ecr.on(BatchGetImageCommand).resolves({ images: [{ imageId: { imageDigest: D1 }, imageManifest: MANIFEST_TEXT }] });

    await expect(adapter().describeDigests(REPO, [D1])).rejects.toBeInstanceOf(ImageNotFoundException);
    expect(ecr).toHaveReceivedCommandTimes(DescribeImagesCommand, 1);
  });

  it('turns RepositoryNotFoundException into RepositoryNotFoundError that keeps the cause', async () => {
    const cause = new RepositoryNotFoundException({ message: 'repository does not exist', ...meta });
    ecr.on(DescribeImagesCommand).rejects(cause);

    const error = await adapter()
      .describeDigests(REPO, [D1])
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(RepositoryNotFoundError);
    expect((error as RepositoryNotFoundError).repository).toBe(REPO);
    expect((error as Error).cause).toBe(cause);
  });

  it('rethrows other errors unchanged', async () => {
    ecr.on(DescribeImagesCommand).rejects(new ServerException({ message: 'boom', ...meta }));

    await expect(adapter().describeDigests(REPO, [D1])).rejects.toBeInstanceOf(ServerException);
  });

  it('makes no call for an empty list', async () => {
    expect(await adapter().describeDigests(REPO, [])).toEqual([]);
    expect(ecr).not.toHaveReceivedAnyCommand();
  });
});

describe('EcrAdapter.addProtectiveTag', () => {
  const tagFree = {
    images: [{ imageId: { imageDigest: D1 }, imageManifest: MANIFEST_TEXT, imageManifestMediaType: OCI_MANIFEST }],
    failures: [
      { imageId: { imageTag: TAG }, failureCode: 'ImageNotFound' as const, failureReason: 'Requested image not found' },
    ],
  };

  it('reads the digest and the tag in one BatchGetImage that accepts every re-puttable media type', async () => {
    ecr.on(BatchGetImageCommand).resolves(tagFree);
    ecr.on(PutImageCommand).resolves({});

    await adapter().addProtectiveTag(REPO, D1, TAG);

    expect(ecr).toHaveReceivedCommandTimes(BatchGetImageCommand, 1);
    expect(ecr).toHaveReceivedCommandWith(BatchGetImageCommand, {
      repositoryName: REPO,
      imageIds: [{ imageDigest: D1 }, { imageTag: TAG }],
      acceptedMediaTypes: [
        'application/vnd.docker.distribution.manifest.v2+json',
        'application/vnd.docker.distribution.manifest.list.v2+json',
        'application/vnd.oci.image.manifest.v1+json',
        'application/vnd.oci.image.index.v1+json',
      ],
    });
    expect(ACCEPTED_MANIFEST_MEDIA_TYPES).toHaveLength(4);
  });

  it('puts the exact manifest bytes with media type, digest and tag when the tag is free', async () => {
    // Retag recipe: https://docs.aws.amazon.com/AmazonECR/latest/userguide/image-retag.html
    ecr.on(BatchGetImageCommand).resolves(tagFree);
    ecr.on(PutImageCommand).resolves({});

    const result = await adapter().addProtectiveTag(REPO, D1, TAG);

    expect(result).toEqual({ outcome: 'tagged' });
    expect(ecr).toHaveReceivedCommandExactlyOnceWith(PutImageCommand, {
      repositoryName: REPO,
      imageManifest: MANIFEST_TEXT,
      imageManifestMediaType: OCI_MANIFEST,
      imageDigest: D1,
      imageTag: TAG,
    });
    const sent = ecr.commandCalls(PutImageCommand)[0]!.args[0].input.imageManifest;
    expect(Buffer.from(sent ?? '').equals(Buffer.from(MANIFEST_TEXT))).toBe(true);
  });

  it('reports already-tagged without PutImage when the tag already names this digest', async () => {
    ecr.on(BatchGetImageCommand).resolves({
      images: [
        { imageId: { imageDigest: D1 }, imageManifest: MANIFEST_TEXT, imageManifestMediaType: OCI_MANIFEST },
        {
          imageId: { imageDigest: D1, imageTag: TAG },
          imageManifest: MANIFEST_TEXT,
          imageManifestMediaType: OCI_MANIFEST,
        },
      ],
    });

    expect(await adapter().addProtectiveTag(REPO, D1, TAG)).toEqual({ outcome: 'already-tagged' });
    expect(ecr).not.toHaveReceivedCommand(PutImageCommand);
  });

  it('reports tag-taken with the other digest and never calls PutImage, which would move the tag', async () => {
    ecr.on(BatchGetImageCommand).resolves({
      images: [
        { imageId: { imageDigest: D1 }, imageManifest: MANIFEST_TEXT, imageManifestMediaType: OCI_MANIFEST },
        { imageId: { imageDigest: D2, imageTag: TAG }, imageManifest: '{}', imageManifestMediaType: OCI_MANIFEST },
      ],
    });

    expect(await adapter().addProtectiveTag(REPO, D1, TAG)).toEqual({ outcome: 'tag-taken', otherDigest: D2 });
    expect(ecr).not.toHaveReceivedCommand(PutImageCommand);
  });

  it('reports image-missing when BatchGetImage says ImageNotFound for the digest', async () => {
    ecr.on(BatchGetImageCommand).resolves({
      failures: [
        { imageId: { imageDigest: D1 }, failureCode: 'ImageNotFound' },
        { imageId: { imageTag: TAG }, failureCode: 'ImageNotFound' },
      ],
    });

    expect(await adapter().addProtectiveTag(REPO, D1, TAG)).toEqual({ outcome: 'image-missing' });
    expect(ecr).not.toHaveReceivedCommand(PutImageCommand);
  });

  it('reports unsupported-media-type for a manifest it cannot re-put', async () => {
    const schema1 = 'application/vnd.docker.distribution.manifest.v1+prettyjws';
    ecr.on(BatchGetImageCommand).resolves({
      ...tagFree,
      images: [{ imageId: { imageDigest: D1 }, imageManifest: '{}', imageManifestMediaType: schema1 }],
    });

    expect(await adapter().addProtectiveTag(REPO, D1, TAG)).toEqual({
      outcome: 'unsupported-media-type',
      mediaType: schema1,
    });
    expect(ecr).not.toHaveReceivedCommand(PutImageCommand);
  });

  it('treats ImageAlreadyExistsException as already-tagged (a duplicate or concurrent run)', async () => {
    ecr.on(BatchGetImageCommand).resolves(tagFree);
    ecr.on(PutImageCommand).rejects(new ImageAlreadyExistsException({ message: 'exists', ...meta }));

    expect(await adapter().addProtectiveTag(REPO, D1, TAG)).toEqual({ outcome: 'already-tagged' });
  });

  it('treats ImageTagAlreadyExistsException (immutable repository) as tag-taken', async () => {
    ecr.on(BatchGetImageCommand).resolves(tagFree);
    ecr.on(PutImageCommand).rejects(new ImageTagAlreadyExistsException({ message: 'tag exists', ...meta }));

    expect(await adapter().addProtectiveTag(REPO, D1, TAG)).toEqual({ outcome: 'tag-taken' });
  });

  it.each([
    [
      'ImageDigestDoesNotMatchException',
      () => new ImageDigestDoesNotMatchException({ message: 'x', ...meta }),
      ImageDigestDoesNotMatchException,
    ],
    ['LayersNotFoundException', () => new LayersNotFoundException({ message: 'x', ...meta }), LayersNotFoundException],
    ['ServerException', () => new ServerException({ message: 'x', ...meta }), ServerException],
  ] as const)('rethrows %s from PutImage with its class, so retries and the DLQ see it', async (_name, make, type) => {
    ecr.on(BatchGetImageCommand).resolves(tagFree);
    ecr.on(PutImageCommand).rejects(make());

    await expect(adapter().addProtectiveTag(REPO, D1, TAG)).rejects.toBeInstanceOf(type);
  });

  it('turns RepositoryNotFoundException into RepositoryNotFoundError', async () => {
    ecr.on(BatchGetImageCommand).rejects(new RepositoryNotFoundException({ message: 'no repo', ...meta }));

    await expect(adapter().addProtectiveTag(REPO, D1, TAG)).rejects.toBeInstanceOf(RepositoryNotFoundError);
  });

  it('refuses to put a tag when ECR says nothing about it, because the tag might name another image', async () => {
    ecr.on(BatchGetImageCommand).resolves({ images: tagFree.images });

    await expect(adapter().addProtectiveTag(REPO, D1, TAG)).rejects.toBeInstanceOf(UnexpectedEcrAnswerError);
    expect(ecr).not.toHaveReceivedCommand(PutImageCommand);
  });

  it('rethrows a digest failure other than ImageNotFound (e.g. KMS) instead of guessing', async () => {
    ecr.on(BatchGetImageCommand).resolves({
      failures: [
        { imageId: { imageDigest: D1 }, failureCode: 'KmsError', failureReason: 'key disabled' },
        { imageId: { imageTag: TAG }, failureCode: 'ImageNotFound' },
      ],
    });

    await expect(adapter().addProtectiveTag(REPO, D1, TAG)).rejects.toThrow(/KmsError key disabled/);
    expect(ecr).not.toHaveReceivedCommand(PutImageCommand);
  });
});

describe('EcrAdapter.addProtectiveTags', () => {
  const tagOf = (d: string) => `digest-guard-${d.slice(-16)}`;
  const manifestOf = (d: string) =>
    `{"schemaVersion":2,"mediaType":"${OCI_MANIFEST}","config":{},"layers":[],"n":"${d}"}`;
  const found = (d: string) => ({
    imageId: { imageDigest: d },
    imageManifest: manifestOf(d),
    imageManifestMediaType: OCI_MANIFEST,
  });
  const tagFree = (d: string) => ({ imageId: { imageTag: tagOf(d) }, failureCode: 'ImageNotFound' as const });
  /** ECR's answer for `digests`, all present and with their protective tags free. */
  const allFree = (digests: string[]) => ({ images: digests.map(found), failures: digests.map(tagFree) });

  it('given 51 digests, reads 50 digests and their tags in one BatchGetImage (100 ids) and the last in a second', async () => {
    // BatchGetImage takes 1 to 100 image ids (botocore ecr/2015-09-21/service-2.json, ImageIdentifierList).
    const digests = Array.from({ length: 51 }, (_, i) => digest(100 + i));
    ecr
      .on(BatchGetImageCommand)
      .callsFake((input: { imageIds: { imageDigest?: string }[] }) =>
        allFree(input.imageIds.flatMap((id) => (id.imageDigest ? [id.imageDigest] : []))),
      );
    ecr.on(PutImageCommand).resolves({});

    const outcomes = await adapter().addProtectiveTags(
      REPO,
      digests.map((d) => ({ digest: d, tag: tagOf(d) })),
    );

    expect(outcomes).toEqual(digests.map(() => ({ outcome: 'tagged' })));
    const reads = ecr.commandCalls(BatchGetImageCommand).map((call) => call.args[0].input.imageIds ?? []);
    expect(reads.map((ids) => ids.length)).toEqual([100, 2]);
    expect(reads[0]!.slice(0, 2)).toEqual([{ imageDigest: digests[0] }, { imageTag: tagOf(digests[0]!) }]);
    expect(reads[1]).toEqual([{ imageDigest: digests[50] }, { imageTag: tagOf(digests[50]!) }]);
    expect(ecr).toHaveReceivedCommandTimes(PutImageCommand, 51);
  });

  it('decides each digest of one read on its own: tagged, already-tagged, tag-taken, image-missing', async () => {
    const [free, done, taken, gone] = [digest(11), digest(12), digest(13), digest(14)];
    ecr.on(BatchGetImageCommand).resolves({
      images: [
        found(free),
        found(done),
        { ...found(done), imageId: { imageDigest: done, imageTag: tagOf(done) } },
        found(taken),
        { ...found(D2), imageId: { imageDigest: D2, imageTag: tagOf(taken) } },
      ],
      failures: [tagFree(free), { imageId: { imageDigest: gone }, failureCode: 'ImageNotFound' }, tagFree(gone)],
    });
    ecr.on(PutImageCommand).resolves({});

    const outcomes = await adapter().addProtectiveTags(
      REPO,
      [free, done, taken, gone].map((d) => ({ digest: d, tag: tagOf(d) })),
    );

    expect(outcomes).toEqual([
      { outcome: 'tagged' },
      { outcome: 'already-tagged' },
      { outcome: 'tag-taken', otherDigest: D2 },
      { outcome: 'image-missing' },
    ]);
    expect(ecr).toHaveReceivedCommandTimes(BatchGetImageCommand, 1);
    expect(ecr).toHaveReceivedCommandExactlyOnceWith(PutImageCommand, { imageDigest: free, imageTag: tagOf(free) });
  });

  it('refuses at the first digest whose tag ECR does not prove free: puts the ones before it, none after', async () => {
    const [before, unproven, after] = [digest(21), digest(22), digest(23)];
    ecr.on(BatchGetImageCommand).resolves({
      images: [found(before), found(unproven), found(after)],
      failures: [
        tagFree(before),
        { imageId: { imageTag: tagOf(unproven) }, failureCode: 'KmsError', failureReason: 'key disabled' },
        tagFree(after),
      ],
    });
    ecr.on(PutImageCommand).resolves({});

    await expect(
      adapter().addProtectiveTags(
        REPO,
        [before, unproven, after].map((d) => ({ digest: d, tag: tagOf(d) })),
      ),
    ).rejects.toThrow(/could not tell whether .* is free: KmsError key disabled/);
    expect(ecr).toHaveReceivedCommandExactlyOnceWith(PutImageCommand, { imageDigest: before });
  });

  it('makes no call for no requests', async () => {
    expect(await adapter().addProtectiveTags(REPO, [])).toEqual([]);
    expect(ecr).not.toHaveReceivedAnyCommand();
  });
});
