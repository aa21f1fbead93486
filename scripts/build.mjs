/**
 * `npm run build`: what the package ships, in dist/ (ignored by git, rebuilt from scratch each time).
 * - dist/lib/index.js: the construct, bundled: what lib/ imports from lambda/core (the push event's schema, with
 *   zod and Powertools' parser) is inside, so aws-cdk-lib and constructs, the app's own, are all it requires;
 * - dist/lib/*.d.ts (and dist/lambda/core/*.d.ts they name): its type declarations, from tsc (tsconfig.build.json);
 * - dist/handlers/<name>/index.js (+ .map): each Lambda handler bundled the way the construct bundles it from
 *   source in this repository, so that an app installing the package needs neither esbuild nor tsx and the
 *   functions it deploys run the same code (the way aws-cdk-lib ships its custom-resource handlers);
 * - dist/bin/cli.js: the CLI, bundled, when bin/cli.ts exists.
 * Adding a handler or an executable is one line in HANDLERS or EXECUTABLES.
 */
import { execFile } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DIST = path.join(ROOT, 'dist');

/** Directory name under dist/handlers (what lib/handler-code.ts looks for) → source entry. */
const HANDLERS = {
  push: 'lambda/handlers/push.ts',
  reconcile: 'lambda/handlers/reconcile.ts',
  watch: 'lambda/handlers/watch.ts',
};

/** Output under dist/ → source entry; built only when the source exists. */
const EXECUTABLES = {
  'bin/cli.js': 'bin/cli.ts',
};

/**
 * The options NodejsFunction passes to esbuild for the guard's functions (lib/guard-functions.ts: runtime
 * Node.js 24, `minify`, `sourceMap` without `sourcesContent`, `bundleAwsSDK`, so no externals, no metafile).
 * The source map ships because the functions run with `--enable-source-maps`: stack traces in the logs then
 * name the source files and lines; without the sources inside it, it stays small. The pack test checks that
 * a consumer deploys these bytes and the same function properties as this repository does.
 */
const HANDLER_OPTIONS = {
  bundle: true,
  platform: 'node',
  target: 'node24',
  format: 'cjs',
  minify: true,
  sourcemap: true,
  sourcesContent: false,
  logLevel: 'warning',
};

/** The construct runs at synth in the app that installs it, on that app's Node and aws-cdk-lib. */
const LIBRARY_OPTIONS = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  external: ['aws-cdk-lib', 'aws-cdk-lib/*', 'constructs'],
  logLevel: 'warning',
};

/**
 * The CLI runs on the user's Node (engines: >=20) and carries its dependencies inside, so installing the
 * package adds no runtime dependency; aws-cdk-lib and constructs are the app's own (peer dependencies).
 */
const EXECUTABLE_OPTIONS = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: true,
  sourcesContent: false,
  external: ['aws-cdk-lib', 'aws-cdk-lib/*', 'constructs'],
  logLevel: 'warning',
};

async function buildLibrary() {
  await build({
    ...LIBRARY_OPTIONS,
    entryPoints: [path.join(ROOT, 'lib', 'index.ts')],
    outfile: path.join(DIST, 'lib', 'index.js'),
  });
}

/** tsc reads all of aws-cdk-lib's declarations, the slow part: it runs while esbuild bundles. */
async function declareLibraryTypes() {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  try {
    await promisify(execFile)(process.execPath, [tsc, '-p', path.join(ROOT, 'tsconfig.build.json')]);
  } catch (error) {
    // tsc reports type errors on stdout.
    throw new Error(`tsc -p tsconfig.build.json failed:\n${error.stdout ?? ''}${error.stderr ?? ''}`);
  }
}

async function bundleHandlers() {
  await Promise.all(
    Object.entries(HANDLERS).map(([name, entry]) =>
      build({
        ...HANDLER_OPTIONS,
        entryPoints: [path.join(ROOT, entry)],
        outfile: path.join(DIST, 'handlers', name, 'index.js'),
      }),
    ),
  );
}

async function bundleExecutables() {
  const present = Object.entries(EXECUTABLES).filter(([, entry]) => existsSync(path.join(ROOT, entry)));
  await Promise.all(
    present.map(([out, entry]) =>
      build({ ...EXECUTABLE_OPTIONS, entryPoints: [path.join(ROOT, entry)], outfile: path.join(DIST, out) }),
    ),
  );
}

const started = performance.now();
rmSync(DIST, { recursive: true, force: true });
await Promise.all([declareLibraryTypes(), buildLibrary(), bundleHandlers(), bundleExecutables()]);
console.error(`built dist/ in ${((performance.now() - started) / 1000).toFixed(1)} s`);
