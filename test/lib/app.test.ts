/**
 * The CDK app as the CLI runs it (`npx tsx bin/app.ts` with context in CDK_CONTEXT_JSON, the way the CLI
 * passes `-c key=value`): it fails fast on bad context and otherwise writes a template that cdk-nag let through.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = path.join(__dirname, '..', '..');
const outdirs: string[] = [];

function runApp(context: Record<string, unknown>): { status: number | null; stderr: string; outdir: string } {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'digest-guard-app-'));
  outdirs.push(outdir);
  const result = spawnSync(process.execPath, [path.join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'), 'bin/app.ts'], {
    cwd: ROOT,
    env: { ...process.env, CDK_CONTEXT_JSON: JSON.stringify(context), CDK_OUTDIR: outdir },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: result.status, stderr: result.stderr, outdir };
}

afterAll(() => {
  for (const dir of outdirs) fs.rmSync(dir, { recursive: true, force: true });
});

describe('bin/app.ts', () => {
  it('stops before synthesizing when no alert address is given, and says which context key is missing', () => {
    const run = runApp({});

    expect(run.status).toBe(1);
    expect(run.stderr).toContain('alertEmail is required: pass -c alertEmail=ops@example.com');
    expect(fs.readdirSync(run.outdir)).toEqual([]);
  });

  it('lists every bad context value at once', () => {
    const run = runApp({
      alertEmail: 'ops.example.com',
      tagPrefix: '-x',
      repositories: 'App',
      reconcileSchedule: 'hourly',
      releaseAfterDays: '-3',
    });

    expect(run.status).toBe(1);
    expect(run.stderr).toContain('alertEmail: "ops.example.com" is not an email address');
    expect(run.stderr).toContain('tagPrefix: "-x" must match');
    expect(run.stderr).toContain('repositories: "App" is not a valid ECR repository name');
    expect(run.stderr).toContain('reconcileSchedule: "hourly" is not a schedule expression');
    expect(run.stderr).toContain('releaseAfterDays must be a whole number of days from 0 (never release) to 3650, got -3');
  });

  it('synthesizes the guard stack from command-line context, scoped as asked, with cdk-nag passing', () => {
    const run = runApp({
      alertEmail: 'ops@example.com,sre@example.com',
      repositories: 'app',
      dryRun: 'true',
      reconcileSchedule: 'cron(30 */3 * * ? *)',
      releaseAfterDays: '45',
    });

    expect(run.stderr).not.toMatch(/AwsSolutions-/);
    expect(run.status).toBe(0);
    const template = JSON.parse(fs.readFileSync(path.join(run.outdir, 'EcrDigestGuard.template.json'), 'utf8'));
    const resources = Object.values(template.Resources) as { Type: string; Properties: Record<string, any> }[];
    const functions = resources.filter((r) => r.Type === 'AWS::Lambda::Function' && r.Properties.Runtime === 'nodejs24.x');
    expect(functions).toHaveLength(2);
    for (const fn of functions) {
      expect(fn.Properties.Environment.Variables).toMatchObject({ DRY_RUN: 'true', REPOSITORIES: 'app' });
    }
    expect(functions.map((fn) => fn.Properties.Environment.Variables.RELEASE_AFTER_DAYS).sort()).toEqual(['45', undefined]);
    expect(resources.filter((r) => r.Type === 'AWS::Events::Rule').map((r) => r.Properties.ScheduleExpression)).toContain(
      'cron(30 */3 * * ? *)',
    );
    expect(resources.filter((r) => r.Type === 'AWS::SNS::Subscription')).toHaveLength(2);
  });

  it('synthesizes only the push path with -c reconcile=false', () => {
    const run = runApp({ alertEmail: 'ops@example.com', reconcile: 'false' });

    expect(run.status).toBe(0);
    const template = JSON.parse(fs.readFileSync(path.join(run.outdir, 'EcrDigestGuard.template.json'), 'utf8'));
    const types = (Object.values(template.Resources) as { Type: string }[]).map((r) => r.Type);
    expect(types.filter((t) => t === 'AWS::Lambda::Function')).toHaveLength(1);
    expect(types.filter((t) => t === 'AWS::Events::Rule')).toHaveLength(1);
  });
});
