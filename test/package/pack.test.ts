/**
 * The package as another CDK app meets it: `npm pack` (which builds through `prepack`), the tarball installed
 * into a scratch app that has only aws-cdk-lib, constructs and cdk-nag, and that app synthesized with
 * `app.synth()` in its own node process, with cdk-nag's AWS Solutions checks registered (a finding fails it).
 * Slow on purpose (a pack, an install from the npm cache, two synths): it prints its timings.
 */
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DigestGuard } from '../../lib/digest-guard';
import { TEST_ENV } from '../support/cdk-app';

const ROOT = path.resolve(__dirname, '..', '..');
/** What a team's CDK app already has; nothing of this project's toolchain (esbuild, tsx, typescript). */
const CONSUMER_DEPENDENCIES = { 'aws-cdk-lib': '2.276.0', constructs: '10.8.1', 'cdk-nag': '3.0.2' };
const PROPS = { alertEmails: ['ops@example.com'] };
/** The handlers the construct deploys by default, by the directory name they are bundled under. */
const HANDLERS = ['push', 'reconcile', 'watch'];

/** The consumer's app, in plain JavaScript: `package` is the module name it requires the construct by. */
function consumerApp(packageName: string): string {
  return `
const { App, Stack, Validations } = require('aws-cdk-lib');
const { AwsSolutionsChecks } = require('cdk-nag');
const { DigestGuard } = require(${JSON.stringify(packageName)});

const app = new App({ outdir: process.argv[2], context: { 'aws:cdk:enable-asset-metadata': true } });
const stack = new Stack(app, 'Consumer', { env: ${JSON.stringify(TEST_ENV)} });
new DigestGuard(stack, 'Guard', ${JSON.stringify(PROPS)});
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
app.synth();
`;
}

interface Run {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly seconds: number;
}

function run(command: string, args: string[], cwd: string): Run {
  const started = performance.now();
  const child = spawnSync(command, args, { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const seconds = (performance.now() - started) / 1000;
  return { status: child.status, stdout: child.stdout, stderr: child.stderr, seconds };
}

/** `run`, without blocking: the in-repository synth goes on meanwhile. */
function runInBackground(command: string, args: string[], cwd: string): Promise<Run> {
  const started = performance.now();
  const child = spawn(command, args, { cwd });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr, seconds: (performance.now() - started) / 1000 }));
  });
}

function mustSucceed(what: string, result: Run): Run {
  if (result.status !== 0) throw new Error(`${what} exited ${result.status}:\n${result.stderr}\n${result.stdout}`);
  return result;
}

type Resource = { Type: string; Properties: Record<string, unknown>; Metadata?: Record<string, unknown> };
type TemplateJson = { Resources: Record<string, Resource> };

/** The same guard built from this repository's sources (NodejsFunction bundles them), and where its assets went. */
function synthesizeInRepository(outdir: string): { template: TemplateJson; outdir: string } {
  const app = new App({ outdir, context: { 'aws:cdk:enable-asset-metadata': true } });
  const stack = new Stack(app, 'Consumer', { env: TEST_ENV });
  new DigestGuard(stack, 'Guard', PROPS);
  return { template: Template.fromStack(stack).toJSON() as TemplateJson, outdir: app.outdir };
}

/** Each function's code (its asset's index.js) by logical id. */
function codeOf(template: TemplateJson, outdir: string): Record<string, Buffer> {
  return Object.fromEntries(
    Object.entries(functionsOf(template)).map(([id, fn]) => [
      id,
      readFileSync(path.join(outdir, fn.Metadata?.['aws:asset:path'] as string, 'index.js')),
    ]),
  );
}

function functionsOf(template: TemplateJson): Record<string, Resource> {
  return Object.fromEntries(Object.entries(template.Resources).filter(([, r]) => r.Type === 'AWS::Lambda::Function'));
}

describe('[pack-and-consume, slow] the packed package in a fresh CDK app', () => {
  let work: string;
  let consumer: string;
  let installed: string;
  let synth: Run;
  let template: TemplateJson;
  let inRepository: { template: TemplateJson; outdir: string };
  const timings: string[] = [];

  beforeAll(async () => {
    work = mkdtempSync(path.join(tmpdir(), 'ecr-digest-guard-pack-'));
    const packed = mustSucceed('npm pack', run('npm', ['pack', '--pack-destination', work], ROOT));
    // The build's output shares stdout with npm's report; the tarball is the one file in the fresh directory.
    const [filename] = readdirSync(work).filter((f) => f.endsWith('.tgz'));
    if (!filename) throw new Error(`npm pack made no tarball:\n${packed.stdout}`);
    timings.push(`npm pack (with the build) ${packed.seconds.toFixed(1)} s`);

    consumer = path.join(work, 'consumer');
    mkdirSync(consumer);
    writeFileSync(
      path.join(consumer, 'package.json'),
      JSON.stringify({
        name: 'consumer',
        private: true,
        dependencies: { ...CONSUMER_DEPENDENCIES, 'ecr-digest-guard': `file:../${filename}` },
      }),
    );
    const installing = runInBackground('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund'], consumer);
    const started = performance.now();
    inRepository = synthesizeInRepository(path.join(work, 'in-repository.out'));
    timings.push(
      `synth in this repository (bundling from source) ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
    const install = mustSucceed('npm install', await installing);
    timings.push(`npm install ${install.seconds.toFixed(1)} s`);
    installed = path.join(consumer, 'node_modules', 'ecr-digest-guard');

    writeFileSync(path.join(consumer, 'app.js'), consumerApp('ecr-digest-guard'));
    synth = run(process.execPath, ['app.js', 'cdk.out'], consumer);
    timings.push(`synth with cdk-nag ${synth.seconds.toFixed(1)} s`);
    if (synth.status === 0) {
      template = JSON.parse(readFileSync(path.join(consumer, 'cdk.out', 'Consumer.template.json'), 'utf8'));
    }
  }, 300_000);

  afterAll(() => {
    console.log(`[pack-and-consume] ${timings.join(', ')}`);
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('given the tarball in an app with only aws-cdk-lib, constructs and cdk-nag, when it synthesizes, then it succeeds', () => {
    expect(synth.stderr).not.toContain('PathNotUnderRoot');
    expect(synth.status, synth.stderr).toBe(0);
    expect(Object.keys(functionsOf(template))).toHaveLength(HANDLERS.length);
  });

  it('given the synthesized app, then every function runs a handler the tarball ships pre-bundled, byte for byte', () => {
    const shipped = HANDLERS.map((name) => readFileSync(path.join(installed, 'dist', 'handlers', name, 'index.js')));
    for (const fn of Object.values(functionsOf(template))) expect(fn.Properties.Handler).toBe('index.handler');
    const deployed = Object.values(codeOf(template, path.join(consumer, 'cdk.out')));
    expect(deployed.map((code) => shipped.findIndex((s) => s.equals(code))).sort()).toEqual(HANDLERS.map((_, i) => i));
  });

  it('given the installed tarball, then the app needs no bundler or TypeScript runner', () => {
    const lock = JSON.parse(readFileSync(path.join(consumer, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, unknown>;
    };
    const toolchain = Object.keys(lock.packages).filter((p) =>
      /node_modules\/(esbuild|@esbuild\/[^/]+|tsx|typescript|ts-node)$/.test(p),
    );
    expect(toolchain).toEqual([]);
    expect(existsSync(path.join(installed, 'lambda'))).toBe(false);
  });

  it('given the installed tarball, when its CLI runs, then it answers from the bundled build alone', () => {
    // npm links the package's `bin` into the app's node_modules/.bin; the launcher finds no TypeScript source in
    // the package and runs dist/bin/cli.js, which must carry everything it needs but the CDK peers.
    const cli = path.join(consumer, 'node_modules', '.bin', 'ecr-digest-guard');
    const help = run(cli, ['audit', '--help'], consumer);

    expect(help.status, help.stderr).toBe(0);
    expect(help.stdout).toContain('Usage: ecr-digest-guard audit');
    expect(existsSync(path.join(installed, 'bin', 'cli.ts'))).toBe(false);
  });

  it('given the same props in this repository, then the functions have the same properties and the same code', () => {
    const withoutCodeLocation = (t: TemplateJson) =>
      Object.fromEntries(Object.entries(functionsOf(t)).map(([id, fn]) => [id, { ...fn.Properties, Code: undefined }]));

    expect(withoutCodeLocation(template)).toEqual(withoutCodeLocation(inRepository.template));
    const consumerCode = codeOf(template, path.join(consumer, 'cdk.out'));
    const repositoryCode = codeOf(inRepository.template, inRepository.outdir);
    expect(Object.keys(consumerCode).sort()).toEqual(Object.keys(repositoryCode).sort());
    for (const [id, code] of Object.entries(consumerCode)) expect(code.equals(repositoryCode[id]!), id).toBe(true);
  });

  it('given the installed package without its push handler bundle, when the app synthesizes, then it fails naming it', () => {
    const broken = path.join(consumer, 'node_modules', 'ecr-digest-guard-without-push');
    cpSync(installed, broken, { recursive: true });
    rmSync(path.join(broken, 'dist', 'handlers', 'push'), { recursive: true });
    writeFileSync(path.join(consumer, 'broken.js'), consumerApp('ecr-digest-guard-without-push'));

    const result = run(process.execPath, ['broken.js', 'cdk.out.broken'], consumer);

    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain(path.join('handlers', 'push', 'index.js'));
    expect(result.stderr).not.toContain('PathNotUnderRoot');
  }, 120_000);
});
