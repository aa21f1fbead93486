/**
 * The simulated ECR registry, exercised through the real `@aws-sdk/client-ecr` client: each test pins one
 * ECR behaviour the guard depends on, with its source next to it. Where no document states the behaviour,
 * the test says *inference*.
 */
import { createHash } from 'node:crypto';
import {
  BatchDeleteImageCommand,
  BatchGetImageCommand,
  DescribeImagesCommand,
  DescribeRegistryCommand,
  DescribeRepositoriesCommand,
  ECRClient,
  ImageAlreadyExistsException,
  ImageDigestDoesNotMatchException,
  ImageNotFoundException,
  ImageTagAlreadyExistsException,
  InvalidParameterException,
  LayersNotFoundException,
  ListImagesCommand,
  PutImageCommand,
  ReferencedImagesNotFoundException,
  RepositoryNotFoundException,
  UpdateImageStorageClassCommand,
  paginateDescribeImages,
  paginateListImages,
} from '@aws-sdk/client-ecr';
import { beforeEach, describe, expect, it } from 'vitest';
import { SimulatedAccount } from '../../sim/account';
import { MediaType, digestOf, dockerManifest, dockerManifestList, ociIndex, ociManifest } from '../../sim/manifests';

const ALL_MANIFEST_TYPES = [
  MediaType.dockerManifest,
  MediaType.dockerManifestList,
  MediaType.ociManifest,
  MediaType.ociIndex,
];

let account: SimulatedAccount;
let ecr: ECRClient;

beforeEach(() => {
  account = new SimulatedAccount({ startAt: new Date('2025-06-01T12:00:00Z') });
  ecr = new ECRClient(account.clientConfig({ maxAttempts: 1 }));
  account.ecr.createRepository('app');
});

async function describeAll(repositoryName: string, tagStatus?: 'TAGGED' | 'UNTAGGED' | 'ANY') {
  const details = [];
  for await (const page of paginateDescribeImages(
    { client: ecr, pageSize: 100 },
    { repositoryName, ...(tagStatus ? { filter: { tagStatus } } : {}) },
  )) {
    details.push(...(page.imageDetails ?? []));
  }
  return details;
}

describe('digests', () => {
  // See: https://github.com/opencontainers/image-spec/blob/main/descriptor.md#digests and
  // https://docs.aws.amazon.com/AmazonECR/latest/userguide/image-retag.html (retag must keep the exact bytes)
  it('names an image by the sha256 of its exact manifest bytes, so re-serialised JSON is another image', async () => {
    const manifest = dockerManifest({ seed: 'build-1' });
    account.ecr.pushImage('app', { tag: 'v1', manifest: manifest.text });
    const compact = JSON.stringify(JSON.parse(manifest.text));
    account.ecr.pushImage('app', { tag: 'v1-compact', manifest: compact });

    const { imageDetails } = await ecr.send(
      new DescribeImagesCommand({ repositoryName: 'app', imageIds: [{ imageTag: 'v1' }, { imageTag: 'v1-compact' }] }),
    );

    const expected = `sha256:${createHash('sha256').update(Buffer.from(manifest.text, 'utf8')).digest('hex')}`;
    expect(imageDetails?.[0]?.imageDigest).toBe(expected);
    expect(imageDetails?.[1]?.imageDigest).toBe(digestOf(compact));
    expect(digestOf(compact)).not.toBe(expected);
  });
});

describe('tag moves', () => {
  // Pushing a tag that names another image moves it; the other image stays, untagged (inference: Docker
  // registry semantics, no AWS sentence states it outright). BatchDeleteImage docs: "When you remove the
  // last tag from an image, the image is deleted" — a move is not a removal.
  it('leaves the image the tag moved away from in the repository, untagged and still pullable', async () => {
    const a = account.ecr.pushImage('app', { tag: 'prod', manifest: dockerManifest({ seed: 'a' }).text });
    const b = account.ecr.pushImage('app', { tag: 'prod', manifest: dockerManifest({ seed: 'b' }).text });

    const untagged = await ecr.send(
      new ListImagesCommand({ repositoryName: 'app', filter: { tagStatus: 'UNTAGGED' } }),
    );
    const tagged = await ecr.send(new ListImagesCommand({ repositoryName: 'app', filter: { tagStatus: 'TAGGED' } }));

    expect(untagged.imageIds).toEqual([{ imageDigest: a }]);
    expect(tagged.imageIds).toEqual([{ imageDigest: b, imageTag: 'prod' }]);
    expect(account.ecr.resolve('app', { tag: 'prod' })).toBe(b);
    expect(account.ecr.canPull('app', a)).toBe(true);
    const [detailA] =
      (await ecr.send(new DescribeImagesCommand({ repositoryName: 'app', imageIds: [{ imageDigest: a }] })))
        .imageDetails ?? [];
    expect(detailA?.imageTags).toBeUndefined();
  });

  it('keeps the other tags of the image a tag moved away from', () => {
    const a = account.ecr.pushImage('app', { tag: 'prod', manifest: dockerManifest({ seed: 'a' }).text });
    account.ecr.pushImage('app', { tag: 'v1.4.2', manifest: dockerManifest({ seed: 'a' }).text });
    account.ecr.pushImage('app', { tag: 'prod', manifest: dockerManifest({ seed: 'b' }).text });

    expect(account.ecr.imagesOf('app').find((i) => i.digest === a)?.tags).toEqual(['v1.4.2']);
  });
});

describe('listing: tagStatus filters and paging', () => {
  // See botocore ecr/2015-09-21 DescribeImagesRequest/ListImagesRequest: maxResults 1..1000, default 100,
  // nextToken; DescribeImagesFilter/ListImagesFilter.tagStatus TAGGED|UNTAGGED|ANY.
  beforeEach(() => {
    // 130 images: 80 keep a tag, 50 lose theirs to a later push; the last one carries two tags
    for (let i = 0; i < 130; i += 1)
      account.ecr.pushImage('app', {
        tag: i < 50 ? 'nightly' : `v${i}`,
        manifest: ociManifest({ seed: `img-${i}` }).text,
      });
    account.ecr.pushImage('app', { tag: 'latest', manifest: ociManifest({ seed: 'img-129' }).text });
  });

  it('pages DescribeImages across more than one page and filters by tagStatus', async () => {
    const before = account.callCount('ecr', 'DescribeImages');
    const any = await describeAll('app');
    const pages = account.callCount('ecr', 'DescribeImages') - before;
    const tagged = await describeAll('app', 'TAGGED');
    const untagged = await describeAll('app', 'UNTAGGED');

    expect(any).toHaveLength(130);
    expect(pages).toBe(2);
    expect(new Set(any.map((d) => d.imageDigest)).size).toBe(130);
    expect(tagged).toHaveLength(81); // 80 versions + the image `nightly` ends on
    expect(untagged).toHaveLength(49);
    expect(untagged.every((d) => d.imageTags === undefined)).toBe(true);
    expect(any[0]).toMatchObject({
      imageManifestMediaType: MediaType.ociManifest,
      imageStatus: 'ACTIVE',
      registryId: '111122223333',
    });
    expect(any[0]?.imagePushedAt).toBeInstanceOf(Date);
    expect(any[0]?.imageSizeInBytes).toBeGreaterThan(0);
  });

  it('uses 100 results a page when maxResults is left out', async () => {
    const first = await ecr.send(new DescribeImagesCommand({ repositoryName: 'app' }));
    expect(first.imageDetails).toHaveLength(100);
    expect(first.nextToken).toBeTypeOf('string');
  });

  it('lists one entry per tag and an untagged image by digest only', async () => {
    const ids = [];
    for await (const page of paginateListImages({ client: ecr, pageSize: 40 }, { repositoryName: 'app' }))
      ids.push(...(page.imageIds ?? []));

    expect(ids).toHaveLength(49 + 81 + 1); // the last image has two tags
    expect(ids.filter((id) => id.imageTag === undefined)).toHaveLength(49);
    expect(
      ids.filter((id) => id.imageDigest === digestOf(ociManifest({ seed: 'img-129' }).text)).map((id) => id.imageTag),
    ).toEqual(['v129', 'latest']);
  });

  it('refuses maxResults above 1000 and a nextToken issued for another query', async () => {
    await expect(
      ecr.send(new DescribeImagesCommand({ repositoryName: 'app', maxResults: 1001 })),
    ).rejects.toBeInstanceOf(InvalidParameterException);
    const { nextToken } = await ecr.send(new DescribeImagesCommand({ repositoryName: 'app', maxResults: 10 }));
    await expect(
      ecr.send(
        new DescribeImagesCommand({
          repositoryName: 'app',
          maxResults: 10,
          nextToken,
          filter: { tagStatus: 'UNTAGGED' },
        }),
      ),
    ).rejects.toBeInstanceOf(InvalidParameterException);
  });
});

describe('describing by id', () => {
  // *Inference*: DescribeImages lists ImageNotFoundException among its errors (botocore model); we assume
  // one missing id fails the whole call rather than being left out.
  it('fails the whole call with ImageNotFoundException when one requested id is missing', async () => {
    const a = account.ecr.pushImage('app', { tag: 'prod', manifest: dockerManifest({ seed: 'a' }).text });
    await expect(
      ecr.send(
        new DescribeImagesCommand({
          repositoryName: 'app',
          imageIds: [{ imageDigest: a }, { imageDigest: digestOf('gone') }],
        }),
      ),
    ).rejects.toBeInstanceOf(ImageNotFoundException);
  });

  it('refuses more than 100 image ids (botocore ImageIdentifierList max 100)', async () => {
    const imageIds = Array.from({ length: 101 }, (_, i) => ({ imageDigest: digestOf(`x${i}`) }));
    await expect(ecr.send(new DescribeImagesCommand({ repositoryName: 'app', imageIds }))).rejects.toBeInstanceOf(
      InvalidParameterException,
    );
    await expect(ecr.send(new BatchGetImageCommand({ repositoryName: 'app', imageIds }))).rejects.toBeInstanceOf(
      InvalidParameterException,
    );
  });

  it('answers RepositoryNotFoundException for a repository that does not exist', async () => {
    await expect(ecr.send(new DescribeImagesCommand({ repositoryName: 'nope' }))).rejects.toBeInstanceOf(
      RepositoryNotFoundException,
    );
    await expect(
      ecr.send(new DescribeRepositoriesCommand({ repositoryNames: ['app', 'nope'] })),
    ).rejects.toBeInstanceOf(RepositoryNotFoundException);
  });

  it('pages DescribeRepositories', async () => {
    for (let i = 0; i < 4; i += 1) account.ecr.createRepository(`team/svc-${i}`);
    const first = await ecr.send(new DescribeRepositoriesCommand({ maxResults: 3 }));
    const second = await ecr.send(new DescribeRepositoriesCommand({ maxResults: 3, nextToken: first.nextToken }));

    expect(first.repositories?.map((r) => r.repositoryName)).toEqual(['app', 'team/svc-0', 'team/svc-1']);
    expect(second.repositories?.map((r) => r.repositoryName)).toEqual(['team/svc-2', 'team/svc-3']);
    expect(second.nextToken).toBeUndefined();
    expect(first.repositories?.[0]?.repositoryUri).toBe('111122223333.dkr.ecr.eu-west-1.amazonaws.com/app');
  });
});

describe('tag mutability', () => {
  // See: https://docs.aws.amazon.com/AmazonECR/latest/userguide/image-tag-mutability.html
  // PutImage error ImageTagAlreadyExistsException: "The specified image is tagged with a tag that already exists.
  // The repository is configured for tag immutability."
  it('refuses to move a tag in an immutable repository', async () => {
    account.ecr.createRepository('locked', { imageTagMutability: 'IMMUTABLE' });
    const a = account.ecr.pushImage('locked', { tag: 'v1', manifest: dockerManifest({ seed: 'a' }).text });

    expect(() => account.ecr.pushImage('locked', { tag: 'v1', manifest: dockerManifest({ seed: 'b' }).text })).toThrow(
      /ImageTagAlreadyExists|already exists/,
    );
    expect(account.ecr.resolve('locked', { tag: 'v1' })).toBe(a);
    // a new tag on an existing image is fine in an immutable repository
    const manifest = dockerManifest({ seed: 'a' });
    await expect(
      ecr.send(new PutImageCommand({ repositoryName: 'locked', imageManifest: manifest.text, imageTag: 'v1-copy' })),
    ).resolves.toBeDefined();
  });

  it('lets tags matched by an exclusion filter move in an IMMUTABLE_WITH_EXCLUSION repository, and no others', async () => {
    account.ecr.createRepository('mixed', {
      imageTagMutability: 'IMMUTABLE_WITH_EXCLUSION',
      exclusionFilters: ['latest*', '*-dev'],
    });
    const a = dockerManifest({ seed: 'a' });
    const b = dockerManifest({ seed: 'b' });
    for (const tag of ['latest', 'latest-arm', 'feature-dev', 'v1'])
      account.ecr.pushImage('mixed', { tag, manifest: a.text });
    account.ecr.pushImage('mixed', { manifest: b.text });

    for (const tag of ['latest', 'latest-arm', 'feature-dev']) {
      await ecr.send(new PutImageCommand({ repositoryName: 'mixed', imageManifest: b.text, imageTag: tag }));
      expect(account.ecr.resolve('mixed', { tag })).toBe(b.digest);
    }
    await expect(
      ecr.send(new PutImageCommand({ repositoryName: 'mixed', imageManifest: b.text, imageTag: 'v1' })),
    ).rejects.toBeInstanceOf(ImageTagAlreadyExistsException);
  });

  it('pins only the tags matched by an exclusion filter in a MUTABLE_WITH_EXCLUSION repository', async () => {
    account.ecr.createRepository('releases', {
      imageTagMutability: 'MUTABLE_WITH_EXCLUSION',
      exclusionFilters: ['release-*'],
    });
    const a = dockerManifest({ seed: 'a' });
    const b = dockerManifest({ seed: 'b' });
    account.ecr.pushImage('releases', { tag: 'release-1', manifest: a.text });
    account.ecr.pushImage('releases', { tag: 'dev', manifest: a.text });
    account.ecr.pushImage('releases', { manifest: b.text });

    await ecr.send(new PutImageCommand({ repositoryName: 'releases', imageManifest: b.text, imageTag: 'dev' }));
    await expect(
      ecr.send(new PutImageCommand({ repositoryName: 'releases', imageManifest: b.text, imageTag: 'release-1' })),
    ).rejects.toBeInstanceOf(ImageTagAlreadyExistsException);
    expect(account.ecr.resolve('releases', { tag: 'dev' })).toBe(b.digest);
  });
});

describe('retag: BatchGetImage then PutImage', () => {
  // See: https://docs.aws.amazon.com/AmazonECR/latest/userguide/image-retag.html
  it('round-trips the exact manifest bytes, adds the tag to the same digest, and refuses the repeat with ImageAlreadyExistsException', async () => {
    const children = [
      { manifest: ociManifest({ seed: 'amd64' }), platform: { architecture: 'amd64', os: 'linux' } },
      { manifest: ociManifest({ seed: 'arm64' }), platform: { architecture: 'arm64', os: 'linux', variant: 'v8' } },
    ];
    for (const c of children) account.ecr.pushImage('app', { manifest: c.manifest.text });
    const index = ociIndex(children);
    account.ecr.pushImage('app', { tag: 'prod', manifest: index.text });

    const got = await ecr.send(
      new BatchGetImageCommand({
        repositoryName: 'app',
        imageIds: [{ imageDigest: index.digest }],
        acceptedMediaTypes: ALL_MANIFEST_TYPES,
      }),
    );
    const image = got.images?.[0];
    expect(image?.imageManifest).toBe(index.text);
    expect(image?.imageManifestMediaType).toBe(MediaType.ociIndex);

    const put = {
      repositoryName: 'app',
      imageManifest: image!.imageManifest!,
      imageManifestMediaType: image!.imageManifestMediaType!,
      imageDigest: index.digest,
      imageTag: 'keep-me',
    };
    const answer = await ecr.send(new PutImageCommand(put));
    expect(answer.image?.imageId).toEqual({ imageDigest: index.digest, imageTag: 'keep-me' });
    expect(account.ecr.imagesOf('app').find((i) => i.digest === index.digest)?.tags).toEqual(['prod', 'keep-me']);

    await expect(ecr.send(new PutImageCommand(put))).rejects.toBeInstanceOf(ImageAlreadyExistsException);
  });

  it('refuses a manifest that does not hash to the given imageDigest (ImageDigestDoesNotMatchException)', async () => {
    const manifest = dockerManifest({ seed: 'a' });
    account.ecr.pushImage('app', { tag: 'prod', manifest: manifest.text });
    const reformatted = JSON.stringify(JSON.parse(manifest.text));

    await expect(
      ecr.send(
        new PutImageCommand({
          repositoryName: 'app',
          imageManifest: reformatted,
          imageDigest: manifest.digest,
          imageTag: 'keep-me',
        }),
      ),
    ).rejects.toBeInstanceOf(ImageDigestDoesNotMatchException);
    expect(account.ecr.resolve('app', { tag: 'keep-me' })).toBeUndefined();
  });

  it("refuses a media type that contradicts the manifest's own mediaType field (InvalidParameterException)", async () => {
    const manifest = dockerManifest({ seed: 'a' });
    account.ecr.pushImage('app', { tag: 'prod', manifest: manifest.text });
    await expect(
      ecr.send(
        new PutImageCommand({
          repositoryName: 'app',
          imageManifest: manifest.text,
          imageManifestMediaType: MediaType.ociManifest,
          imageTag: 'x',
        }),
      ),
    ).rejects.toBeInstanceOf(InvalidParameterException);
  });

  it('refuses a manifest whose layers were never uploaded, and an index whose children are missing', async () => {
    await expect(
      ecr.send(
        new PutImageCommand({
          repositoryName: 'app',
          imageManifest: dockerManifest({ seed: 'never-uploaded' }).text,
          imageTag: 'x',
        }),
      ),
    ).rejects.toBeInstanceOf(LayersNotFoundException);
    const orphanIndex = dockerManifestList([
      { manifest: dockerManifest({ seed: 'not-pushed' }), platform: { architecture: 'amd64', os: 'linux' } },
    ]);
    await expect(
      ecr.send(new PutImageCommand({ repositoryName: 'app', imageManifest: orphanIndex.text, imageTag: 'x' })),
    ).rejects.toBeInstanceOf(ReferencedImagesNotFoundException);
  });

  it("reports per-id failures with the model's failure codes", async () => {
    const a = account.ecr.pushImage('app', { tag: 'prod', manifest: dockerManifest({ seed: 'a' }).text });
    const b = account.ecr.pushImage('app', { tag: 'staging', manifest: dockerManifest({ seed: 'b' }).text });

    const { images, failures } = await ecr.send(
      new BatchGetImageCommand({
        repositoryName: 'app',
        imageIds: [{ imageTag: 'prod' }, {}, { imageDigest: digestOf('gone') }, { imageDigest: b, imageTag: 'prod' }],
        acceptedMediaTypes: ALL_MANIFEST_TYPES,
      }),
    );

    expect(images?.map((i) => i.imageId)).toEqual([{ imageDigest: a, imageTag: 'prod' }]);
    expect(failures?.map((f) => f.failureCode)).toEqual([
      'MissingDigestAndTag',
      'ImageNotFound',
      'ImageTagDoesNotMatchDigest',
    ]);
  });
});

describe('deleting images', () => {
  // See BatchDeleteImage API reference: "You can remove a tag from an image by specifying the image's tag
  // in your request. When you remove the last tag from an image, the image is deleted from your repository."
  it('removes only the named tag while others remain, and the image with its last tag', async () => {
    const a = account.ecr.pushImage('app', { tag: 'prod', manifest: dockerManifest({ seed: 'a' }).text });
    account.ecr.pushImage('app', { tag: 'v1', manifest: dockerManifest({ seed: 'a' }).text });

    await ecr.send(new BatchDeleteImageCommand({ repositoryName: 'app', imageIds: [{ imageTag: 'prod' }] }));
    expect(account.ecr.imagesOf('app')).toMatchObject([{ digest: a, tags: ['v1'] }]);

    const answer = await ecr.send(
      new BatchDeleteImageCommand({ repositoryName: 'app', imageIds: [{ imageTag: 'v1' }] }),
    );
    expect(answer.imageIds).toEqual([{ imageDigest: a, imageTag: 'v1' }]);
    expect(account.ecr.imagesOf('app')).toEqual([]);
    expect(
      account.events.filter((e) => e.detail['action-type'] === 'DELETE').map((e) => e.detail['image-tag']),
    ).toEqual(['prod', 'v1']);
  });

  // A manifest list references its children by digest; ECR refuses to delete a child while the list stays.
  // (ImageFailureCode ImageReferencedByManifestList, botocore model)
  it('refuses to delete a child manifest an index still references', async () => {
    const child = dockerManifest({ seed: 'amd64' });
    account.ecr.pushImage('app', { manifest: child.text });
    account.ecr.pushImage('app', {
      tag: 'prod',
      manifest: dockerManifestList([{ manifest: child, platform: { architecture: 'amd64', os: 'linux' } }]).text,
    });

    const { failures } = await ecr.send(
      new BatchDeleteImageCommand({ repositoryName: 'app', imageIds: [{ imageDigest: child.digest }] }),
    );
    expect(failures?.[0]?.failureCode).toBe('ImageReferencedByManifestList');
    expect(account.ecr.canPull('app', child.digest)).toBe(true);
  });
});

describe('lifecycle: expire untagged', () => {
  // See: https://docs.aws.amazon.com/AmazonECR/latest/userguide/LifecyclePolicies.html (sinceImagePushed)
  it('expires untagged images older than the rule, never tagged or recent ones, and logs one PolicyExecutionEvent per 10 images', () => {
    const old = new Date('2025-01-01T00:00:00Z');
    const expiring = Array.from({ length: 12 }, (_, i) =>
      account.ecr.pushImage('app', { manifest: dockerManifest({ seed: `old-${i}` }).text, pushedAt: old }),
    );
    const taggedOld = account.ecr.pushImage('app', {
      tag: 'v1',
      manifest: dockerManifest({ seed: 'tagged' }).text,
      pushedAt: old,
    });
    const recent = account.ecr.pushImage('app', { manifest: dockerManifest({ seed: 'recent' }).text });

    const runs = account.ecr.runLifecycleExpireUntagged('app', { olderThanDays: 14 });

    expect(runs.map((r) => r.images.length)).toEqual([10, 2]);
    expect(runs.flatMap((r) => r.images.map((i) => i.digest)).sort()).toEqual([...expiring].sort());
    expect(
      account.ecr
        .imagesOf('app')
        .map((i) => i.digest)
        .sort(),
    ).toEqual([taggedOld, recent].sort());
    expect(account.ecr.policyExecutions).toHaveLength(2);
  });

  it('expires the digest a tag moved away from: the incident this project prevents', () => {
    const a = account.ecr.pushImage('app', {
      tag: 'prod',
      manifest: dockerManifest({ seed: 'a' }).text,
      pushedAt: new Date('2024-03-01T00:00:00Z'),
    });
    account.ecr.pushImage('app', { tag: 'prod', manifest: dockerManifest({ seed: 'b' }).text });

    account.ecr.runLifecycleExpireUntagged('app', { olderThanDays: 30 });

    expect(account.ecr.canPull('app', a)).toBe(false);
    expect(account.ecr.resolve('app', { digest: a })).toBeUndefined();
  });

  it('keeps the untagged children of an index that stays, and frees them once the index itself expires', () => {
    const children = ['amd64', 'arm64'].map((architecture) => ({
      manifest: dockerManifest({ seed: architecture }),
      platform: { architecture, os: 'linux' },
    }));
    for (const c of children) account.ecr.pushImage('app', { manifest: c.manifest.text });
    const index = dockerManifestList(children);
    account.ecr.pushImage('app', { tag: 'prod', manifest: index.text });

    expect(account.ecr.runLifecycleExpireUntagged('app')).toEqual([]);
    expect(account.ecr.imagesOf('app')).toHaveLength(3);

    account.ecr.pushImage('app', { tag: 'prod', manifest: dockerManifest({ seed: 'single-arch' }).text });
    const [run] = account.ecr.runLifecycleExpireUntagged('app');
    expect(run?.images.map((i) => i.digest).sort()).toEqual(
      [index.digest, ...children.map((c) => c.manifest.digest)].sort(),
    );
  });
});

describe('archive', () => {
  // DescribeImagesFilter.imageStatus: "If not specified, only images with ACTIVE status are returned."
  // Archived images cannot be pulled; restore with UpdateImageStorageClass takes up to ~20 minutes.
  // See: https://docs.aws.amazon.com/AmazonECR/latest/userguide/archive-images.html
  it('hides archived images from default listings, shows them by id, and cannot pull them until restored', async () => {
    const a = account.ecr.pushImage('app', { tag: 'prod', manifest: dockerManifest({ seed: 'a' }).text });
    account.ecr.archive('app', a);

    expect(await describeAll('app')).toEqual([]);
    const { imageDetails } = await ecr.send(
      new DescribeImagesCommand({ repositoryName: 'app', imageIds: [{ imageDigest: a }] }),
    );
    expect(imageDetails?.[0]?.imageStatus).toBe('ARCHIVED');
    expect(account.ecr.canPull('app', a)).toBe(false);

    const restore = await ecr.send(
      new UpdateImageStorageClassCommand({
        repositoryName: 'app',
        imageId: { imageDigest: a },
        targetStorageClass: 'STANDARD',
      }),
    );
    expect(restore.imageStatus).toBe('ACTIVATING');
    expect(account.ecr.canPull('app', a)).toBe(false);
    account.ecr.completeRestore('app', a);
    expect(account.ecr.canPull('app', a)).toBe(true);
  });
});

describe('ECR Image Action events', () => {
  // See: https://docs.aws.amazon.com/AmazonECR/latest/userguide/ecr-eventbridge.html
  it('records one PUSH event per push, the API retag included, in the EventBridge shape', async () => {
    const manifest = dockerManifest({ seed: 'a' });
    account.ecr.pushImage('app', { tag: 'prod', manifest: manifest.text });
    await ecr.send(new PutImageCommand({ repositoryName: 'app', imageManifest: manifest.text, imageTag: 'keep-me' }));

    expect(account.events).toHaveLength(2);
    expect(account.events[1]).toEqual({
      version: '0',
      id: expect.any(String),
      'detail-type': 'ECR Image Action',
      source: 'aws.ecr',
      account: '111122223333',
      time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
      region: 'eu-west-1',
      resources: [],
      detail: {
        'action-type': 'PUSH',
        result: 'SUCCESS',
        'repository-name': 'app',
        'image-digest': manifest.digest,
        'image-tag': 'keep-me',
        'manifest-media-type': MediaType.dockerManifest,
        'artifact-media-type': MediaType.dockerConfig,
      },
    });
  });

  // *Inference*: the documented examples only show tagged pushes; an untagged push's event has no image-tag key.
  it('records an untagged push (e.g. the child of a multi-platform image) without an image-tag', () => {
    account.ecr.pushImage('app', { manifest: ociManifest({ seed: 'child' }).text });
    expect(account.events[0]?.detail).not.toHaveProperty('image-tag');
    // stamped with the account's clock, which this suite starts at 2025-06-01T12:00:00Z
    expect(account.events[0]?.time).toMatch(/^2025-06-01T12:00:0\dZ$/);
  });
});

describe('registry replication (DescribeRegistry)', () => {
  // DeleteReplication: "If set to true, the service replicates image deletions and image tag removals"
  // (https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_DeleteReplication.html).
  it('answers the rules; the pinned SDK drops deleteReplication, a member its ReplicationRule does not model', async () => {
    account.ecr.setReplicationConfiguration([
      {
        destinations: [{ region: 'us-east-1', registryId: account.accountId }],
        repositoryPrefixes: ['app'],
        deleteReplication: true,
      },
    ]);

    const answer = await ecr.send(new DescribeRegistryCommand({}));

    expect(answer.registryId).toBe(account.accountId);
    expect(answer.replicationConfiguration?.rules).toEqual([
      {
        destinations: [{ region: 'us-east-1', registryId: account.accountId }],
        repositoryFilters: [{ filter: 'app', filterType: 'PREFIX_MATCH' }],
      },
    ]);
  });

  it('answers no rules for a registry that replicates nothing', async () => {
    const answer = await ecr.send(new DescribeRegistryCommand({}));
    expect(answer.replicationConfiguration?.rules).toEqual([]);
  });
});
