/**
 * The simulated ECR lifecycle policy API, exercised through the real `@aws-sdk/client-ecr` client:
 * GetLifecyclePolicy answers LifecyclePolicyNotFoundException until a policy is set; PutLifecyclePolicy stores
 * the text as given and refuses a text that is not a policy (InvalidParameterException). Shapes and errors per
 * botocore/data/ecr/2015-09-21/service-2.json (GetLifecyclePolicy, PutLifecyclePolicy).
 */
import {
  ECRClient,
  GetLifecyclePolicyCommand,
  InvalidParameterException,
  LifecyclePolicyNotFoundException,
  PutLifecyclePolicyCommand,
  RepositoryNotFoundException,
} from '@aws-sdk/client-ecr';
import { beforeEach, describe, expect, it } from 'vitest';
import { SimulatedAccount } from '../../sim/account';

const POLICY = JSON.stringify({
  rules: [
    {
      rulePriority: 1,
      description: 'expire untagged images older than 14 days',
      selection: { tagStatus: 'untagged', countType: 'sinceImagePushed', countUnit: 'days', countNumber: 14 },
      action: { type: 'expire' },
    },
  ],
});

let account: SimulatedAccount;
let ecr: ECRClient;

beforeEach(() => {
  account = new SimulatedAccount({ startAt: new Date('2026-11-26T10:00:00Z') });
  ecr = new ECRClient(account.clientConfig({ maxAttempts: 1 }));
  account.ecr.createRepository('app');
});

describe('GetLifecyclePolicy', () => {
  it('answers LifecyclePolicyNotFoundException for a repository without a policy', async () => {
    await expect(ecr.send(new GetLifecyclePolicyCommand({ repositoryName: 'app' }))).rejects.toBeInstanceOf(
      LifecyclePolicyNotFoundException,
    );
  });

  it('answers RepositoryNotFoundException for a repository that does not exist', async () => {
    await expect(ecr.send(new GetLifecyclePolicyCommand({ repositoryName: 'nope' }))).rejects.toBeInstanceOf(
      RepositoryNotFoundException,
    );
  });

  it('answers a policy set through the control plane, with the registry, the repository and a timestamp', async () => {
    // The account's clock is the wall clock shifted, so it moves while the test runs: bracket the stamp.
    const before = account.clock.now().getTime();
    account.ecr.setLifecyclePolicy('app', POLICY);
    const after = account.clock.now().getTime();
    const answer = await ecr.send(new GetLifecyclePolicyCommand({ repositoryName: 'app' }));
    expect(answer).toMatchObject({ registryId: account.accountId, repositoryName: 'app', lifecyclePolicyText: POLICY });
    // Epoch seconds on the wire: millisecond precision survives only to the second's fraction the SDK parses.
    expect(answer.lastEvaluatedAt!.getTime()).toBeGreaterThanOrEqual(before - 1);
    expect(answer.lastEvaluatedAt!.getTime()).toBeLessThanOrEqual(after + 1);
  });
});

describe('PutLifecyclePolicy', () => {
  it('stores the text: a get after the put returns the same text', async () => {
    const put = await ecr.send(new PutLifecyclePolicyCommand({ repositoryName: 'app', lifecyclePolicyText: POLICY }));
    expect(put).toMatchObject({ registryId: account.accountId, repositoryName: 'app', lifecyclePolicyText: POLICY });
    const got = await ecr.send(new GetLifecyclePolicyCommand({ repositoryName: 'app' }));
    expect(got.lifecyclePolicyText).toBe(POLICY);
  });

  it('replaces the previous policy', async () => {
    account.ecr.setLifecyclePolicy('app', POLICY);
    const other = POLICY.replace('"countNumber":14', '"countNumber":30');
    await ecr.send(new PutLifecyclePolicyCommand({ repositoryName: 'app', lifecyclePolicyText: other }));
    expect((await ecr.send(new GetLifecyclePolicyCommand({ repositoryName: 'app' }))).lifecyclePolicyText).toBe(other);
  });

  it.each([
    ['not JSON', `this is not a lifecycle policy ${'.'.repeat(100)}`],
    ['JSON without a rules array', JSON.stringify({ rulez: [], description: 'x'.repeat(100) })],
    ['rules that is not an array', JSON.stringify({ rules: { rulePriority: 1 }, description: 'x'.repeat(100) })],
    ['too short', '{"rules":[]}'],
  ])('refuses %s with InvalidParameterException and keeps the stored policy', async (_what, text) => {
    account.ecr.setLifecyclePolicy('app', POLICY);
    await expect(
      ecr.send(new PutLifecyclePolicyCommand({ repositoryName: 'app', lifecyclePolicyText: text })),
    ).rejects.toBeInstanceOf(InvalidParameterException);
    expect((await ecr.send(new GetLifecyclePolicyCommand({ repositoryName: 'app' }))).lifecyclePolicyText).toBe(POLICY);
  });

  it('refuses a bad text without storing anything when there was no policy', async () => {
    await expect(
      ecr.send(new PutLifecyclePolicyCommand({ repositoryName: 'app', lifecyclePolicyText: 'x'.repeat(120) })),
    ).rejects.toBeInstanceOf(InvalidParameterException);
    await expect(ecr.send(new GetLifecyclePolicyCommand({ repositoryName: 'app' }))).rejects.toBeInstanceOf(
      LifecyclePolicyNotFoundException,
    );
  });

  it('answers RepositoryNotFoundException for a repository that does not exist', async () => {
    await expect(
      ecr.send(new PutLifecyclePolicyCommand({ repositoryName: 'nope', lifecyclePolicyText: POLICY })),
    ).rejects.toBeInstanceOf(RepositoryNotFoundException);
  });
});
