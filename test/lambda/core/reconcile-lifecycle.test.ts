/**
 * The reconcile's lifecycle check over fakes: a rule that claims a protected in-use image now pages every
 * run; a rule that could claim protective tags but claims nothing yet only rides along; the opt-in shield
 * install is alerted once and never happens in dry run; a failing check never stops protection.
 */
import { describe, expect, it } from 'vitest';
import type { LifecyclePolicyPort } from '../../../lambda/core/ports';
import type { Alert } from '../../../lambda/core/ports';
import { protectiveTagFor } from '../../../lambda/core/protective-tag';
import { reconcileAccount, type ReconcileDependencies, type ReconcileSettings } from '../../../lambda/core/reconcile';
import type { ReconcileEcrPort } from '../../../lambda/core/ports';
import type { Digest, ImageState } from '../../../lambda/core/types';

const A: Digest = `sha256:${'a'.repeat(64)}`;
const PREFIX = 'digest-guard';
const run = { account: '111122223333', region: 'eu-west-1' };
const policy = (rules: object[]) => JSON.stringify({ rules });
const ANY_RULE = {
  rulePriority: 1,
  description: 'keep 5',
  selection: { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 5 },
  action: { type: 'expire' },
};
const WIDE_TAGGED_RULE = {
  rulePriority: 1,
  description: 'old digest-guard',
  selection: {
    tagStatus: 'tagged',
    tagPatternList: ['digest-guard-*'],
    countType: 'sinceImagePushed',
    countUnit: 'days',
    countNumber: 30,
  },
  action: { type: 'expire' },
};

function ecrWith(tags: string[]): ReconcileEcrPort {
  return {
    describeDigests: async (_r, digests): Promise<ImageState[]> =>
      digests.map((digest) => ({ digest, present: true, tags, storageStatus: 'ACTIVE' })),
    addProtectiveTags: async (_r, requests) => requests.map(() => ({ outcome: 'tagged' })),
    listRepositories: async () => [],
    referencedManifests: async () => new Map(),
    listProtectedImages: async () => [],
    releaseProtectiveTag: async () => ({ outcome: 'tag-gone' }),
    restoreArchivedImage: async () => ({ outcome: 'image-missing' }),
  };
}

function lifecycleWith(text: string | undefined, puts: string[], fail = false): LifecyclePolicyPort {
  return {
    getLifecyclePolicy: async () => {
      if (fail) throw new Error('AccessDenied');
      return text === undefined ? { found: false } : { found: true, text };
    },
    previewLifecyclePolicy: async () => ({ outcome: 'unavailable', reason: 'not in this test' }),
    putLifecyclePolicy: async (_r, t) => {
      puts.push(t);
      return { outcome: 'put' };
    },
  };
}

async function reconcileOnce(
  tags: string[],
  lifecycle: LifecyclePolicyPort,
  settings: Partial<ReconcileSettings> = {},
) {
  const published: Alert[] = [];
  const errors: string[] = [];
  const deps: ReconcileDependencies = {
    ecr: ecrWith(tags),
    inventory: {
      takeInventory: async () => ({
        takenAt: new Date(),
        gaps: [],
        byRepository: new Map([
          ['app', new Map([[A, [{ kind: 'ecs-service', cluster: 'prod', service: 'web', image: 'x/app:prod' }]]])],
        ]),
      }),
    },
    alerts: { publish: async (alert) => void published.push(alert) },
    logger: { info: () => undefined, warn: () => undefined, error: (message) => void errors.push(message) },
    lifecycle,
  };
  const outcome = await reconcileAccount(run, { tagPrefix: PREFIX, dryRun: false, ...settings }, deps);
  return { outcome, published, errors };
}

describe('reconcile lifecycle check', () => {
  it('pages CRITICAL, with the shield rule to paste, when a rule claims a protected in-use image now', async () => {
    const { published } = await reconcileOnce([protectiveTagFor(A, PREFIX)], lifecycleWith(policy([ANY_RULE]), []));
    expect(published).toHaveLength(1);
    expect(published[0]).toMatchObject({ severity: 'CRITICAL', events: ['lifecycle-risk'] });
    expect(published[0]!.subject).toBe(
      'ECR digest guard: CRITICAL: lifecycle policy would expire in-use images in app',
    );
    expect(published[0]!.text).toMatch(/Lifecycle rule 1 \("keep 5"\) can expire a protected image/);
    expect(published[0]!.text).toContain(
      '"tagPatternList":["digest-guard-sha256-*"],"countType":"imageCountMoreThan","countNumber":9999',
    );
  });

  it('sends nothing for a safe policy, or for no policy at all', async () => {
    const untaggedOnly = {
      rulePriority: 1,
      selection: { tagStatus: 'untagged', countType: 'sinceImagePushed', countUnit: 'days', countNumber: 1 },
      action: { type: 'expire' },
    };
    expect(
      (await reconcileOnce([protectiveTagFor(A, PREFIX)], lifecycleWith(policy([untaggedOnly]), []))).published,
    ).toEqual([]);
    expect((await reconcileOnce([protectiveTagFor(A, PREFIX)], lifecycleWith(undefined, []))).published).toEqual([]);
  });

  it('installs the shield only when asked, alerts the install, and never in dry run', async () => {
    const puts: string[] = [];
    const installed = await reconcileOnce(
      [protectiveTagFor(A, PREFIX)],
      lifecycleWith(policy([WIDE_TAGGED_RULE]), puts),
      { installLifecycleShield: true },
    );
    expect(puts).toHaveLength(1);
    expect(JSON.parse(puts[0]!).rules.map((r: { rulePriority: number }) => r.rulePriority)).toEqual([1, 2]);
    expect(installed.published[0]!.events).toContain('lifecycle-shield-installed');

    const dry: string[] = [];
    await reconcileOnce([protectiveTagFor(A, PREFIX)], lifecycleWith(policy([WIDE_TAGGED_RULE]), dry), {
      installLifecycleShield: true,
      dryRun: true,
    });
    expect(dry).toEqual([]);
    const notAsked: string[] = [];
    await reconcileOnce([protectiveTagFor(A, PREFIX)], lifecycleWith(policy([WIDE_TAGGED_RULE]), notAsked));
    expect(notAsked).toEqual([]);
  });

  it('keeps reconciling when the lifecycle check fails, and logs it', async () => {
    const { outcome, errors } = await reconcileOnce([], lifecycleWith(policy([ANY_RULE]), [], true));
    expect(outcome.failed).toEqual([]);
    expect(outcome.reports[0]!.protection.protected).toHaveLength(1);
    expect(errors).toContain('could not check the lifecycle policy; protection is unaffected');
  });

  it('skips the check when it is off', async () => {
    const { published } = await reconcileOnce([protectiveTagFor(A, PREFIX)], lifecycleWith(policy([ANY_RULE]), []), {
      lifecycleCheck: 'off',
    });
    expect(published).toEqual([]);
  });
});
