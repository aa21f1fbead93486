/**
 * cdk-nag's AWS Solutions pack finds nothing unacknowledged in the stack, in each shape it can take
 * (scoped or not, reconcile on or off, release on or off, with or without an explicit environment).
 * cdk-nag 3 runs as a policy validation plugin; `validateScope` is its documented entry point for tests
 * (node_modules/cdk-nag/lib/nag-pack.d.ts), and in the app a finding makes `app.synth()` fail.
 */
import { type Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import type { DigestGuardConfig } from '../../lib/config';
import { configureGuardApp, DigestGuardStack } from '../../lib/digest-guard-stack';
import { appLikeCli, SKIP_BUNDLING } from '../support/cdk-app';

const BASE: DigestGuardConfig = { alertEmails: ['ops@example.com'], repositories: [], dryRun: false };

function findings(stack: Stack): string[] {
  const report = new AwsSolutionsChecks().validateScope(stack);
  return report.violations.map(
    (v) => `${v.ruleName} at ${v.violatingResources.map((r) => r.resourceLogicalId).join(', ')}`,
  );
}

describe('cdk-nag AwsSolutions checks', () => {
  const NAMED = { ...BASE, repositories: ['app', 'team/api'], tagPrefix: 'keep' };
  it.each<[string, DigestGuardConfig, boolean]>([
    ['every repository, environment-agnostic', BASE, false],
    ['every repository, explicit account and region', BASE, true],
    ['named repositories, explicit account and region', NAMED, true],
    ['every repository, release on, environment-agnostic', { ...BASE, releaseAfterDays: 30 }, false],
    ['every repository, release on, explicit account and region', { ...BASE, releaseAfterDays: 30 }, true],
    ['named repositories, release on, explicit account and region', { ...NAMED, releaseAfterDays: 30 }, true],
    ['every repository, reconcile off', { ...BASE, reconcile: false }, true],
    ['named repositories, reconcile off', { ...NAMED, reconcile: false }, true],
    [
      'every repository, lifecycle watch and CloudTrail lookup on, environment-agnostic',
      { ...BASE, watchLifecycleExpiry: true, lookupPushers: true },
      false,
    ],
    [
      'named repositories, lifecycle watch and CloudTrail lookup on, explicit account and region',
      { ...NAMED, watchLifecycleExpiry: true, lookupPushers: true },
      true,
    ],
  ])('find nothing unacknowledged for %s', (_case, config, withEnv) => {
    // The checks read the template, not the code: skip bundling (the CDK's own switch) to keep this fast.
    const app = appLikeCli(SKIP_BUNDLING);
    const stack = new DigestGuardStack(app, 'EcrDigestGuard', {
      config,
      ...(withEnv ? { env: { account: '111122223333', region: 'eu-west-1' } } : {}),
    });

    expect(findings(stack)).toEqual([]);
  });

  it('lets the app synthesize with the checks registered as the app registers them', () => {
    // The one synth here that bundles both functions, as `cdk synth` does: the app's own wiring, end to end.
    const app = appLikeCli({ alertEmail: 'ops@example.com' });
    configureGuardApp(app);

    expect(() => app.synth()).not.toThrow();
    // Two esbuild bundles: seconds alone, but over vitest's 30 s default on a shared, loaded 2-core machine.
    // The timeout bounds a hang, it does not measure speed (the bench does that).
  }, 120_000);

  it('still reports a wildcard nobody acknowledged (the check can fail)', () => {
    const app = appLikeCli(SKIP_BUNDLING);
    const stack = new DigestGuardStack(app, 'EcrDigestGuard', { config: BASE });
    const stray = new iam.Role(stack, 'Stray', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    stray.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['ecr:*'], resources: ['*'] }));

    expect(findings(stack).some((f) => f.startsWith('AwsSolutions-IAM5'))).toBe(true);
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    expect(() => app.synth()).toThrow();
  });
});
