/**
 * The simulated ECR behaviour the scheduled reconcile relies on, through the real `@aws-sdk/client-ecr`
 * client: pull times, releasing a tag, index children and restoring from the archive.
 */
import {
  BatchDeleteImageCommand,
  DescribeImagesCommand,
  ECRClient,
  UpdateImageStorageClassCommand,
} from '@aws-sdk/client-ecr';
import { beforeEach, describe, expect, it } from 'vitest';
import { SimulatedAccount } from '../../sim/account';
import { dockerManifest, ociIndex, ociManifest } from '../../sim/manifests';

let account: SimulatedAccount;
let ecr: ECRClient;

beforeEach(() => {
  account = new SimulatedAccount({ startAt: new Date('2026-11-26T10:00:00Z') });
  ecr = new ECRClient(account.clientConfig({ maxAttempts: 1 }));
  account.ecr.createRepository('app');
});

async function detailOf(digest: string) {
  const { imageDetails } = await ecr.send(
    new DescribeImagesCommand({ repositoryName: 'app', imageIds: [{ imageDigest: digest }] }),
  );
  return imageDetails![0]!;
}

describe('lastRecordedPullTime', () => {
  // ImageDetail.lastRecordedPullTime: "the date and time ... when Amazon ECR recorded the last image pull ...
  // Amazon ECR refreshes the last image pull timestamp at least once every 24 hours."
  // See: botocore/data/ecr/2015-09-21/service-2.json, shape ImageDetail
  it('is absent until the image is pulled, then answers the recorded pull time', async () => {
    const a = account.ecr.pushImage('app', { tag: 'prod', manifest: dockerManifest({ seed: 'a' }).text });
    expect((await detailOf(a)).lastRecordedPullTime).toBeUndefined();

    account.clock.advanceDays(3);
    const before = account.clock.now().getTime();
    account.ecr.recordPull('app', a);
    const recorded = (await detailOf(a)).lastRecordedPullTime!.getTime();
    expect(recorded).toBeGreaterThanOrEqual(before);
    expect(recorded).toBeLessThanOrEqual(account.clock.now().getTime());

    const lagging = new Date(account.clock.now().getTime() - 20 * 3_600_000);
    account.clock.advanceDays(1);
    account.ecr.recordPull('app', a, lagging);
    expect((await detailOf(a)).lastRecordedPullTime).toEqual(lagging);
  });

  it('refuses to record a pull of an archived image (archived images cannot be pulled)', () => {
    // See: https://docs.aws.amazon.com/AmazonECR/latest/userguide/archive-image.html
    const a = account.ecr.pushImage('app', { tag: 'prod', manifest: dockerManifest({ seed: 'a' }).text });
    account.ecr.archive('app', a);
    expect(() => account.ecr.recordPull('app', a)).toThrow(/ARCHIVED: it cannot be pulled/);
  });
});

describe('releasing a tag with BatchDeleteImage', () => {
  // "You can remove a tag from an image by specifying the image's tag in your request. When you remove the
  // last tag from an image, the image is deleted from your repository." (BatchDeleteImage, botocore model)
  it('removes only that tag from an image with other tags', async () => {
    const a = account.ecr.pushImage('app', { tag: 'prod', manifest: dockerManifest({ seed: 'a' }).text });
    account.ecr.pushImage('app', { tag: 'keep', manifest: dockerManifest({ seed: 'a' }).text });
    const answer = await ecr.send(
      new BatchDeleteImageCommand({ repositoryName: 'app', imageIds: [{ imageTag: 'prod' }] }),
    );
    expect(answer.failures).toEqual([]);
    expect((await detailOf(a)).imageTags).toEqual(['keep']);
  });

  it('deletes the image with its last tag', async () => {
    const a = account.ecr.pushImage('app', { tag: 'only', manifest: dockerManifest({ seed: 'a' }).text });
    await ecr.send(new BatchDeleteImageCommand({ repositoryName: 'app', imageIds: [{ imageTag: 'only' }] }));
    expect(account.ecr.imagesOf('app').map((i) => i.digest)).not.toContain(a);
  });

  it('refuses to delete a child manifest that an index still references (failure ImageReferencedByManifestList)', async () => {
    // ImageFailureCode ImageReferencedByManifestList (botocore/data/ecr/2015-09-21/service-2.json)
    const child = ociManifest({ seed: 'amd64' });
    account.ecr.pushImage('app', { tag: 'child', manifest: child.text, mediaType: child.mediaType });
    const index = ociIndex([{ manifest: child, platform: { architecture: 'amd64', os: 'linux' } }]);
    account.ecr.pushImage('app', { tag: 'prod', manifest: index.text, mediaType: index.mediaType });

    const answer = await ecr.send(
      new BatchDeleteImageCommand({ repositoryName: 'app', imageIds: [{ imageTag: 'child' }] }),
    );

    expect(answer.failures?.[0]?.failureCode).toBe('ImageReferencedByManifestList');
    expect((await detailOf(child.digest)).imageTags).toEqual(['child']);
  });
});

describe('UpdateImageStorageClass to STANDARD', () => {
  // "Transitions an image between storage classes ... or restore archived images back to Amazon ECR
  // standard." Response imageStatus: ACTIVE, ARCHIVED or ACTIVATING.
  // See: https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_UpdateImageStorageClass.html
  it('starts a restore (ACTIVATING) that a second call leaves as it is, and the image can be pulled once restored', async () => {
    const a = account.ecr.pushImage('app', { tag: 'prod', manifest: dockerManifest({ seed: 'a' }).text });
    account.ecr.archive('app', a);
    const request = { repositoryName: 'app', imageId: { imageDigest: a }, targetStorageClass: 'STANDARD' as const };

    expect((await ecr.send(new UpdateImageStorageClassCommand(request))).imageStatus).toBe('ACTIVATING');
    expect((await ecr.send(new UpdateImageStorageClassCommand(request))).imageStatus).toBe('ACTIVATING');
    account.ecr.completeRestore('app', a);
    account.ecr.recordPull('app', a);
    expect((await detailOf(a)).imageStatus).toBe('ACTIVE');
  });
});
