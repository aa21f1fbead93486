/**
 * The ECR lifecycle adapter against aws-sdk-client-mock: reading the policy, previewing the live policy with a
 * bounded number of polls, and the opt-in put. Request shapes and errors per operation come from
 * botocore/data/ecr/2015-09-21/service-2.json (GetLifecyclePolicy, StartLifecyclePolicyPreview,
 * GetLifecyclePolicyPreview, PutLifecyclePolicy).
 */
import {
  ECRClient,
  GetLifecyclePolicyCommand,
  GetLifecyclePolicyPreviewCommand,
  InvalidParameterException,
  LifecyclePolicyNotFoundException,
  LifecyclePolicyPreviewInProgressException,
  LifecyclePolicyPreviewNotFoundException,
  PutLifecyclePolicyCommand,
  RepositoryNotFoundException,
  ServerException,
  StartLifecyclePolicyPreviewCommand,
} from '@aws-sdk/client-ecr';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { beforeEach, describe, expect, it } from 'vitest';
import { EcrLifecycleAdapter } from '../../../lambda/adapters/ecr-lifecycle';
import { RepositoryNotFoundError } from '../../../lambda/core/errors';
import { shieldRuleFor } from '../../../lambda/core/lifecycle';
import { assessLifecycleRisk, installShieldRule } from '../../../lambda/core/reconcile';
import { resetBeforeEach } from '../../support/mocked-clients';

const ecr = mockClient(ECRClient);
const meta = { $metadata: {} };
const REPO = 'team/app';
const D1 = `sha256:${'1'.repeat(64)}`;
const D2 = `sha256:${'2'.repeat(64)}`;
const POLICY = JSON.stringify({
  rules: [
    {
      rulePriority: 1,
      selection: { tagStatus: 'any', countType: 'sinceImagePushed', countUnit: 'days', countNumber: 30 },
      action: { type: 'expire' },
    },
  ],
});
let sleeps: number[] = [];
const adapter = (options: { maxPolls?: number; maxPages?: number } = {}) =>
  new EcrLifecycleAdapter(new ECRClient({ region: 'eu-west-1' }), {
    pollIntervalMs: 50,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    ...options,
  });

resetBeforeEach(ecr);
beforeEach(() => {
  sleeps = [];
});

describe('getLifecyclePolicy', () => {
  it('returns the policy text of the repository', async () => {
    ecr.on(GetLifecyclePolicyCommand, { repositoryName: REPO }).resolves({ lifecyclePolicyText: POLICY });
    expect(await adapter().getLifecyclePolicy(REPO)).toEqual({ found: true, text: POLICY });
  });

  it('reads LifecyclePolicyNotFoundException as "no policy" (no risk)', async () => {
    ecr
      .on(GetLifecyclePolicyCommand)
      .rejects(new LifecyclePolicyNotFoundException({ message: 'Lifecycle policy does not exist', ...meta }));
    expect(await adapter().getLifecyclePolicy(REPO)).toEqual({ found: false });
  });

  it('turns RepositoryNotFoundException into the typed error and rethrows anything else', async () => {
    ecr
      .on(GetLifecyclePolicyCommand)
      .rejectsOnce(new RepositoryNotFoundException({ message: 'gone', ...meta }))
      .rejectsOnce(new ServerException({ message: 'boom', ...meta }));
    await expect(adapter().getLifecyclePolicy(REPO)).rejects.toBeInstanceOf(RepositoryNotFoundError);
    await expect(adapter().getLifecyclePolicy(REPO)).rejects.toBeInstanceOf(ServerException);
  });
});

describe('previewLifecyclePolicy', () => {
  const result = (digest: string, type: 'EXPIRE' | 'TRANSITION', appliedRulePriority = 1) => ({
    imageDigest: digest,
    imageTags: ['t'],
    action: { type, ...(type === 'TRANSITION' ? { targetStorageClass: 'ARCHIVE' as const } : {}) },
    appliedRulePriority,
  });

  it('starts a preview of the live policy (no text), polls while IN_PROGRESS, and reads every page', async () => {
    ecr.on(StartLifecyclePolicyPreviewCommand).resolves({ status: 'IN_PROGRESS' });
    ecr
      .on(GetLifecyclePolicyPreviewCommand)
      .resolvesOnce({ status: 'IN_PROGRESS' })
      .resolvesOnce({
        status: 'COMPLETE',
        lifecyclePolicyText: POLICY,
        previewResults: [result(D1, 'EXPIRE')],
        nextToken: 'n1',
      })
      .resolvesOnce({ status: 'COMPLETE', lifecyclePolicyText: POLICY, previewResults: [result(D2, 'TRANSITION', 3)] });

    const outcome = await adapter().previewLifecyclePolicy(REPO);

    expect(outcome).toEqual({
      outcome: 'complete',
      policyText: POLICY,
      images: [
        { digest: D1, tags: ['t'], action: 'expire', appliedRulePriority: 1 },
        { digest: D2, tags: ['t'], action: 'transition', appliedRulePriority: 3 },
      ],
    });
    // StartLifecyclePolicyPreviewRequest: "If you do not specify a policy, the current policy for the repository is used."
    expect(ecr).toHaveReceivedCommandWith(StartLifecyclePolicyPreviewCommand, { repositoryName: REPO });
    expect(ecr.commandCalls(StartLifecyclePolicyPreviewCommand)[0]!.args[0].input).not.toHaveProperty(
      'lifecyclePolicyText',
    );
    // maxResults: "This value can be between 1 and 100"
    expect(ecr).toHaveReceivedNthCommandWith(GetLifecyclePolicyPreviewCommand, 1, {
      repositoryName: REPO,
      maxResults: 100,
      filter: { tagStatus: 'TAGGED' },
    });
    expect(ecr).toHaveReceivedNthCommandWith(GetLifecyclePolicyPreviewCommand, 3, {
      repositoryName: REPO,
      maxResults: 100,
      filter: { tagStatus: 'TAGGED' },
      nextToken: 'n1',
    });
    expect(sleeps).toEqual([50]);
  });

  it('gives up after the bounded number of polls when the preview stays IN_PROGRESS', async () => {
    ecr.on(StartLifecyclePolicyPreviewCommand).resolves({ status: 'IN_PROGRESS' });
    ecr.on(GetLifecyclePolicyPreviewCommand).resolves({ status: 'IN_PROGRESS' });
    expect(await adapter({ maxPolls: 3 }).previewLifecyclePolicy(REPO)).toEqual({
      outcome: 'unavailable',
      reason: 'the preview was still IN_PROGRESS after 3 polls',
    });
    expect(ecr).toHaveReceivedCommandTimes(GetLifecyclePolicyPreviewCommand, 3);
    expect(sleeps).toEqual([50, 50]);
  });

  it('waits for a preview already in progress (LifecyclePolicyPreviewInProgressException) instead of failing', async () => {
    ecr
      .on(StartLifecyclePolicyPreviewCommand)
      .rejects(new LifecyclePolicyPreviewInProgressException({ message: 'busy', ...meta }));
    ecr
      .on(GetLifecyclePolicyPreviewCommand)
      .resolves({ status: 'COMPLETE', lifecyclePolicyText: 'other', previewResults: [] });
    expect(await adapter().previewLifecyclePolicy(REPO)).toEqual({
      outcome: 'complete',
      policyText: 'other',
      images: [],
    });
  });

  it.each<[string, () => void, RegExp]>([
    [
      'no policy to preview (LifecyclePolicyNotFoundException)',
      () => {
        ecr
          .on(StartLifecyclePolicyPreviewCommand)
          .rejects(new LifecyclePolicyNotFoundException({ message: 'none', ...meta }));
      },
      /no lifecycle policy/,
    ],
    [
      'the preview FAILED',
      () => {
        ecr.on(StartLifecyclePolicyPreviewCommand).resolves({ status: 'IN_PROGRESS' });
        ecr.on(GetLifecyclePolicyPreviewCommand).resolves({ status: 'FAILED' });
      },
      /ended FAILED/,
    ],
    [
      'the preview EXPIRED',
      () => {
        ecr.on(StartLifecyclePolicyPreviewCommand).resolves({ status: 'IN_PROGRESS' });
        ecr.on(GetLifecyclePolicyPreviewCommand).resolves({ status: 'EXPIRED' });
      },
      /ended EXPIRED/,
    ],
    [
      'no preview found (LifecyclePolicyPreviewNotFoundException)',
      () => {
        ecr.on(StartLifecyclePolicyPreviewCommand).resolves({ status: 'IN_PROGRESS' });
        ecr
          .on(GetLifecyclePolicyPreviewCommand)
          .rejects(new LifecyclePolicyPreviewNotFoundException({ message: 'none', ...meta }));
      },
      /no preview/,
    ],
  ])('is unavailable when %s', async (_name, arrange, reason) => {
    arrange();
    const outcome = await adapter().previewLifecyclePolicy(REPO);
    expect(outcome.outcome).toBe('unavailable');
    if (outcome.outcome === 'unavailable') expect(outcome.reason).toMatch(reason);
  });

  it('stops reading pages at the bound', async () => {
    ecr.on(StartLifecyclePolicyPreviewCommand).resolves({ status: 'IN_PROGRESS' });
    ecr.on(GetLifecyclePolicyPreviewCommand).resolves({
      status: 'COMPLETE',
      lifecyclePolicyText: POLICY,
      previewResults: [result(D1, 'EXPIRE')],
      nextToken: 'again',
    });
    expect(await adapter({ maxPages: 2 }).previewLifecyclePolicy(REPO)).toEqual({
      outcome: 'unavailable',
      reason: 'the preview lists more than 200 tagged images',
    });
    expect(ecr).toHaveReceivedCommandTimes(GetLifecyclePolicyPreviewCommand, 2);
  });

  it('rethrows what it does not expect', async () => {
    ecr.on(StartLifecyclePolicyPreviewCommand).rejects(new ServerException({ message: 'boom', ...meta }));
    await expect(adapter().previewLifecyclePolicy(REPO)).rejects.toBeInstanceOf(ServerException);
    ecr.reset();
    ecr.on(StartLifecyclePolicyPreviewCommand).rejects(new RepositoryNotFoundException({ message: 'gone', ...meta }));
    await expect(adapter().previewLifecyclePolicy(REPO)).rejects.toBeInstanceOf(RepositoryNotFoundError);
  });
});

describe('putLifecyclePolicy', () => {
  it('puts the given text for the repository', async () => {
    ecr.on(PutLifecyclePolicyCommand).resolves({ repositoryName: REPO, lifecyclePolicyText: POLICY });
    expect(await adapter().putLifecyclePolicy(REPO, POLICY)).toEqual({ outcome: 'put' });
    expect(ecr).toHaveReceivedCommandWith(PutLifecyclePolicyCommand, {
      repositoryName: REPO,
      lifecyclePolicyText: POLICY,
    });
  });

  it('reports ECR refusing the text (InvalidParameterException) as rejected, with its message', async () => {
    ecr
      .on(PutLifecyclePolicyCommand)
      .rejects(new InvalidParameterException({ message: 'Invalid parameter at LifecyclePolicyText', ...meta }));
    expect(await adapter().putLifecyclePolicy(REPO, POLICY)).toEqual({
      outcome: 'rejected',
      reason: 'Invalid parameter at LifecyclePolicyText',
    });
  });
});

describe('through the core', () => {
  it('assessing reads and previews, but never puts', async () => {
    ecr.on(GetLifecyclePolicyCommand).resolves({ lifecyclePolicyText: POLICY });
    ecr.on(StartLifecyclePolicyPreviewCommand).resolves({ status: 'IN_PROGRESS' });
    ecr
      .on(GetLifecyclePolicyPreviewCommand)
      .resolves({ status: 'COMPLETE', lifecyclePolicyText: POLICY, previewResults: [result(D1)] });
    const findings = await assessLifecycleRisk(
      adapter(),
      REPO,
      [{ digest: D1, tags: [`digest-guard-sha256-${'1'.repeat(64)}`] }],
      'digest-guard',
      { usePreview: true },
    );
    expect(findings).toMatchObject({
      preview: 'confirmed',
      shielded: false,
      risks: [{ rulePriority: 1, digests: [D1], evidence: 'preview' }],
    });
    expect(ecr).toHaveReceivedCommandTimes(PutLifecyclePolicyCommand, 0);

    function result(digest: string) {
      return { imageDigest: digest, imageTags: [], action: { type: 'EXPIRE' as const }, appliedRulePriority: 1 };
    }
  });

  it('installing puts the policy with the shield on top and the existing rule after it', async () => {
    ecr.on(GetLifecyclePolicyCommand).resolves({ lifecyclePolicyText: POLICY });
    ecr.on(PutLifecyclePolicyCommand).resolves({});
    expect(await installShieldRule(adapter(), REPO, 'digest-guard')).toMatchObject({
      outcome: 'installed',
      renumbered: true,
    });
    const put = ecr.commandCalls(PutLifecyclePolicyCommand)[0]!.args[0].input;
    const rules = (JSON.parse(put.lifecyclePolicyText!) as { rules: { rulePriority: number }[] }).rules;
    expect(rules[0]).toEqual(shieldRuleFor('digest-guard', 1));
    expect(rules[1]).toMatchObject({ rulePriority: 2, selection: { tagStatus: 'any' } });
  });
});
