/**
 * The CDK app as the CLI runs it (`npx tsx bin/app.ts` with context in CDK_CONTEXT_JSON, the way the CLI
 * passes `-c key=value`): bad context becomes error annotations on an empty stack, which the CLI refuses
 * to synthesize or deploy but lets `cdk destroy` and `cdk ls` select; good context gives a template that
 * cdk-nag let through. The last tests run the pinned CLI itself (offline: nothing reaches AWS).
 */
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = path.join(__dirname, '..', '..');
const outdirs: string[] = [];
/** Each run starts tsx and, for a valid configuration, bundles both functions: slow on a busy machine. */
const APP_RUN_TIMEOUT = 120_000;

/** The error annotations the CLI would report for the synthesized stack (manifest metadata `aws:cdk:error`). */
function errorAnnotations(outdir: string): string[] {
  const manifest = JSON.parse(fs.readFileSync(path.join(outdir, 'manifest.json'), 'utf8'));
  const artifact = manifest.artifacts.EcrDigestGuard;
  // The cloud assembly keeps a stack's metadata inline or, in newer versions, in a file of its own.
  const metadata: Record<string, { type: string; data: string }[]> = {
    ...(artifact.metadata ?? {}),
    ...(artifact.additionalMetadataFile
      ? JSON.parse(fs.readFileSync(path.join(outdir, artifact.additionalMetadataFile), 'utf8'))
      : {}),
  };
  return Object.values(metadata)
    .flat()
    .filter((entry) => entry.type === 'aws:cdk:error')
    .map((entry) => entry.data);
}

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
  it('given no alert address, when the app runs, then the stack carries the problem as an error and no resource', () => {
    const run = runApp({});

    expect(run.status).toBe(0);
    expect(errorAnnotations(run.outdir)).toEqual([
      'Invalid ecr-digest-guard configuration: alertEmail is required: pass -c alertEmail=ops@example.com (comma-separate several)',
    ]);
    const template = JSON.parse(fs.readFileSync(path.join(run.outdir, 'EcrDigestGuard.template.json'), 'utf8'));
    expect(template.Resources).toBeUndefined();
  }, APP_RUN_TIMEOUT);

  it('lists every bad context value at once', () => {
    const run = runApp({
      alertEmail: 'ops.example.com',
      tagPrefix: '-x',
      repositories: 'App',
      reconcileSchedule: 'hourly',
      releaseAfterDays: '-3',
      dryrun: 'true',
    });

    const errors = errorAnnotations(run.outdir).join('\n');
    expect(errors).toContain('dryrun is not a setting of this app; did you mean dryRun?');
    expect(errors).toContain('alertEmail: "ops.example.com" is not an email address');
    expect(errors).toContain('tagPrefix: "-x" must match');
    expect(errors).toContain('repositories: "App" is not a valid ECR repository name');
    expect(errors).toContain('reconcileSchedule: "hourly" is not a schedule expression');
    expect(errors).toContain('releaseAfterDays must be a whole number of days from 0 (never release) to 3650, got -3');
  }, APP_RUN_TIMEOUT);

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
  }, APP_RUN_TIMEOUT);

  it('synthesizes only the push path with -c reconcile=false', () => {
    const run = runApp({ alertEmail: 'ops@example.com', reconcile: 'false' });

    expect(run.status).toBe(0);
    const template = JSON.parse(fs.readFileSync(path.join(run.outdir, 'EcrDigestGuard.template.json'), 'utf8'));
    const types = (Object.values(template.Resources) as { Type: string }[]).map((r) => r.Type);
    expect(types.filter((t) => t === 'AWS::Lambda::Function')).toHaveLength(1);
    expect(types.filter((t) => t === 'AWS::Events::Rule')).toHaveLength(1);
  }, APP_RUN_TIMEOUT);
});

/** Runs the pinned CDK CLI (cdk.json's app) without AWS credentials and without a terminal. */
function runCli(args: string[]): Promise<{ status: number | null; output: string }> {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'digest-guard-cli-'));
  outdirs.push(outdir);
  const env: NodeJS.ProcessEnv = { ...process.env, AWS_EC2_METADATA_DISABLED: 'true', CI: 'true' };
  for (const key of Object.keys(env)) if (/^(AWS_(ACCESS|SECRET|SESSION|PROFILE)|CDK_CONTEXT_JSON|CDK_OUTDIR)/.test(key)) delete env[key];
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(ROOT, 'node_modules', 'aws-cdk', 'bin', 'cdk'), ...args, '-o', outdir], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.on('close', (status) => resolve({ status, output }));
  });
}

describe('the CDK CLI on the app without -c alertEmail', () => {
  it('given no configuration, when destroying, synthesizing and deploying, then only synth and deploy refuse', async () => {
    // Run together: each starts the CLI and the app (about 10 s each on an idle machine, minutes on a busy one).
    const [destroy, synth, deploy] = await Promise.all([
      runCli(['destroy', 'EcrDigestGuard']),
      runCli(['synth']),
      runCli(['deploy', 'EcrDigestGuard', '--require-approval', 'never']),
    ]);

    // destroy selected the stack without checking the configuration and stopped only at its confirmation,
    // which a run without a terminal cannot give (with --force it would go on to delete the stack).
    expect(destroy.output).toContain('Destroying stacks is an irreversible action');
    expect(destroy.output).not.toContain('alertEmail is required');
    expect(destroy.output).not.toContain('Synthesis finished with errors');
    for (const refused of [synth, deploy]) {
      expect(refused.status).not.toBe(0);
      expect(refused.output).toContain('alertEmail is required: pass -c alertEmail=ops@example.com');
      expect(refused.output).toContain('Synthesis finished with errors');
    }
  }, 240_000);
});
