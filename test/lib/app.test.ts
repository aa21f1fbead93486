/**
 * The CDK app as the CLI runs it: bad context becomes error annotations on an empty stack, which the CLI refuses
 * to synthesize or deploy but lets `cdk destroy` and `cdk ls` select; good context gives a template that cdk-nag
 * let through. The app's own wiring (`configureGuardApp`, all bin/app.ts runs) is synthesized in process with
 * the context the CLI would pass; the last test runs the pinned CLI itself once (offline: nothing reaches AWS).
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import type { CloudFormationStackArtifact } from 'aws-cdk-lib/cx-api';
import { afterAll, describe, expect, it } from 'vitest';
import { configureGuardApp, GUARD_STACK_ID } from '../../lib/digest-guard-stack';
import { SKIP_BUNDLING } from '../support/cdk-app';

const ROOT = path.join(__dirname, '..', '..');
const outdirs: string[] = [];

afterAll(() => {
  for (const dir of outdirs) fs.rmSync(dir, { recursive: true, force: true });
});

/**
 * The guard stack as `cdk synth` gets it from `npx tsx bin/app.ts`: the CLI hands the app only the context it
 * was given (CDK_CONTEXT_JSON). Bundling is skipped: these tests read the template and the annotations; the
 * bundled synth of the same wiring is in cdk-nag.test.ts.
 */
function synthesizeApp(context: Record<string, unknown>): CloudFormationStackArtifact {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'digest-guard-app-'));
  outdirs.push(outdir);
  const app = new App({ context: { ...context, ...SKIP_BUNDLING }, outdir });
  configureGuardApp(app);
  return app.synth().getStackArtifact(GUARD_STACK_ID);
}

/**
 * The messages that make the CLI refuse a stack: its `validateStacks` (run by synth, deploy and diff, not by
 * destroy or ls) fails on any error-level message of the stacks it selected
 * (aws-cdk 2.1148, node_modules/aws-cdk/lib/index.js: `validateMetadata(failAt = "error")`).
 */
function errorAnnotations(stack: CloudFormationStackArtifact): string[] {
  return stack.messages.filter((message) => message.level === 'error').map((message) => String(message.entry.data));
}

describe('bin/app.ts', () => {
  it('given no alert address, when the app runs, then the stack carries the problem as an error and no resource', () => {
    const stack = synthesizeApp({});

    expect(errorAnnotations(stack)).toEqual([
      'Invalid ecr-digest-guard configuration: alertEmail is required: pass -c alertEmail=ops@example.com (comma-separate several)',
    ]);
    expect(stack.template.Resources).toBeUndefined();
  });

  it('lists every bad context value at once', () => {
    const stack = synthesizeApp({
      alertEmail: 'ops.example.com',
      tagPrefix: '-x',
      repositories: 'App',
      reconcileSchedule: 'hourly',
      releaseAfterDays: '-3',
      dryrun: 'true',
    });

    const errors = errorAnnotations(stack).join('\n');
    expect(errors).toContain('dryrun is not a setting of this app; did you mean dryRun?');
    expect(errors).toContain('alertEmail: "ops.example.com" is not an email address');
    expect(errors).toContain('tagPrefix: "-x" must match');
    expect(errors).toContain('repositories: "App" is not a valid ECR repository name');
    expect(errors).toContain('reconcileSchedule: "hourly" is not a schedule expression');
    expect(errors).toContain('releaseAfterDays must be a whole number of days from 0 (never release) to 3650, got -3');
  });

  it('synthesizes the guard stack from command-line context, scoped as asked, with cdk-nag passing', () => {
    // cdk-nag is registered as a validation plugin: a finding would make the synth throw.
    const stack = synthesizeApp({
      alertEmail: 'ops@example.com,sre@example.com',
      repositories: 'app',
      dryRun: 'true',
      reconcileSchedule: 'cron(30 */3 * * ? *)',
      releaseAfterDays: '45',
    });

    expect(errorAnnotations(stack)).toEqual([]);
    const template = stack.template;
    const resources = Object.values(template.Resources) as { Type: string; Properties: Record<string, any> }[];
    const functions = resources.filter(
      (r) => r.Type === 'AWS::Lambda::Function' && r.Properties.Runtime === 'nodejs24.x',
    );
    expect(functions).toHaveLength(3); // push, reconcile, watch
    for (const fn of functions) {
      expect(fn.Properties.Environment.Variables).toMatchObject({ DRY_RUN: 'true', REPOSITORIES: 'app' });
    }
    expect(functions.map((fn) => fn.Properties.Environment.Variables.RELEASE_AFTER_DAYS).sort()).toEqual([
      '45',
      undefined,
      undefined,
    ]);
    expect(
      resources.filter((r) => r.Type === 'AWS::Events::Rule').map((r) => r.Properties.ScheduleExpression),
    ).toContain('cron(30 */3 * * ? *)');
    expect(resources.filter((r) => r.Type === 'AWS::SNS::Subscription')).toHaveLength(2);
  });

  it('synthesizes only the push path with -c reconcile=false', () => {
    const stack = synthesizeApp({ alertEmail: 'ops@example.com', reconcile: 'false' });

    expect(errorAnnotations(stack)).toEqual([]);
    const types = (Object.values(stack.template.Resources) as { Type: string }[]).map((r) => r.Type);
    expect(types.filter((t) => t === 'AWS::Lambda::Function')).toHaveLength(1);
    expect(types.filter((t) => t === 'AWS::Events::Rule')).toHaveLength(2); // ECR events, ECS service impaired
  });
});

/** Runs the pinned CDK CLI (cdk.json's app) without AWS credentials and without a terminal. */
function runCli(args: string[]): Promise<{ status: number | null; output: string }> {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'digest-guard-cli-'));
  outdirs.push(outdir);
  const env: NodeJS.ProcessEnv = { ...process.env, AWS_EC2_METADATA_DISABLED: 'true', CI: 'true' };
  for (const key of Object.keys(env))
    if (/^(AWS_(ACCESS|SECRET|SESSION|PROFILE)|CDK_CONTEXT_JSON|CDK_OUTDIR)/.test(key)) delete env[key];
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [path.join(ROOT, 'node_modules', 'aws-cdk', 'bin', 'cdk'), ...args, '-o', outdir],
      {
        cwd: ROOT,
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.on('close', (status) => resolve({ status, output }));
  });
}

describe('the CDK CLI on the app without -c alertEmail', () => {
  it('given no configuration, when destroying, synthesizing and deploying, then only synth and deploy refuse', async () => {
    // The one real CLI run of the test suite (it starts the CLI and the app: seconds when idle, a minute or
    // more on a busy machine): destroy must get past stack selection although the configuration is missing.
    const destroy = await runCli(['destroy', GUARD_STACK_ID]);

    // destroy selected the stack without checking the configuration and stopped only at its confirmation,
    // which a run without a terminal cannot give (with --force it would go on to delete the stack).
    expect(destroy.output).toContain('Destroying stacks is an irreversible action');
    expect(destroy.output).not.toContain('alertEmail is required');
    expect(destroy.output).not.toContain('Synthesis finished with errors');
    // synth and deploy run the CLI's stack validation on the same assembly, which refuses a stack with an
    // error annotation: the app gives exactly that, in process.
    const refused = synthesizeApp({});
    expect(errorAnnotations(refused)).toContainEqual(
      expect.stringContaining('alertEmail is required: pass -c alertEmail=ops@example.com'),
    );
    expect(refused.template.Resources).toBeUndefined();
  }, 240_000);
});
