/**
 * The operator's dashboard: protected, gone, alerts, failures, inventory and function duration, queue age and the
 * reconcile's outcome, from metrics the functions and AWS already emit.
 */
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { METRICS_NAMESPACE } from '../../lib/defaults';
import { type DigestGuardConfig, DigestGuardStack } from '../../lib/digest-guard-stack';
import { appLikeCli, logicalIdOf, SKIP_BUNDLING, synthesizeGuard } from '../support/cdk-app';

const BASE: DigestGuardConfig = { alertEmails: ['ops@example.com'], repositories: [], dryRun: false };

/** The dashboard body as CloudFormation will join it, with every token replaced by a readable placeholder. */
function dashboardBody(template: Template): string {
  const dashboards = Object.values(template.findResources('AWS::CloudWatch::Dashboard')) as {
    Properties: { DashboardBody: unknown };
  }[];
  expect(dashboards).toHaveLength(1);
  const body = dashboards[0]!.Properties.DashboardBody as { 'Fn::Join': [string, unknown[]] } | string;
  if (typeof body === 'string') return body;
  return body['Fn::Join'][1].map((part) => (typeof part === 'string' ? part : `<${JSON.stringify(part)}>`)).join('');
}

/** Every metric name a handler or the core passes to `count(…)`, or names as a `…_METRIC` constant it emits. */
function emittedMetricNames(): Set<string> {
  const root = path.join(__dirname, '..', '..', 'lambda');
  const files = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? files(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : [],
    );
  const names = new Set<string>();
  for (const file of files(root)) {
    for (const match of readFileSync(file, 'utf8').matchAll(/\.count\('([A-Za-z]+)'|_METRIC = '([A-Za-z]+)'/g)) {
      names.add((match[1] ?? match[2])!);
    }
  }
  return names;
}

describe('the operator dashboard', () => {
  let template: Template;
  let stack: DigestGuardStack;
  beforeAll(() => {
    stack = new DigestGuardStack(appLikeCli(SKIP_BUNDLING), 'EcrDigestGuard', { config: BASE });
    template = Template.fromStack(stack);
  });

  it('given the default deploy, when it is synthesized, then one dashboard shows protected, gone, alerts, failures, durations, queue age and the reconcile', () => {
    const body = dashboardBody(template);

    for (const metric of [
      'ProtectedDigests',
      'GoneDigests',
      'AlertsPublished',
      'AlertPublishFailures',
      'InventoryFailures',
      'RepositoryFailures',
      'InventoryDuration',
      'ReleasedProtections',
      'RepositoriesNotReached',
      'LifecycleRiskRepositories',
      'RestoresStarted',
    ]) {
      expect(body).toContain(`"${METRICS_NAMESPACE}","${metric}"`);
    }
    expect(body).toContain('"AWS/Lambda","Errors"');
    expect(body).toContain('"AWS/Lambda","Duration"');
    expect(body).toContain('"AWS/SQS","ApproximateAgeOfOldestMessage"');
    expect(body).toContain('"AWS/SQS","ApproximateNumberOfMessagesVisible"');
    expect(body).toContain(`{"Ref":"${logicalIdOf(stack, stack.guard.function)}"}`);
  });

  it('given the dashboard, when its metrics of the guard are read, then each is one the functions emit', () => {
    const body = dashboardBody(template);
    const shown = [...body.matchAll(new RegExp(`"${METRICS_NAMESPACE}","([A-Za-z]+)"`, 'g'))].map((m) => m[1]!);
    expect(shown.length).toBeGreaterThan(5);

    const emitted = emittedMetricNames();
    expect(shown.filter((name) => !emitted.has(name))).toEqual([]);
  });

  it('given the default deploy, then the dashboard name and its console address are stack outputs', () => {
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    const dashboardId = Object.keys(template.findResources('AWS::CloudWatch::Dashboard'))[0]!;

    expect(outputs.DashboardName!.Value).toEqual({ Ref: dashboardId });
    expect(JSON.stringify(outputs.DashboardUrl!.Value)).toContain('#dashboards/dashboard/');
  });

  it('given dashboard: false, when the guard is synthesized, then there is no dashboard', () => {
    const { template: without } = synthesizeGuard(
      { alertEmails: ['ops@example.com'], dashboard: false },
      { bundle: false, stackId: 'NoDashboard' },
    );

    without.resourceCountIs('AWS::CloudWatch::Dashboard', 0);
  });
});
