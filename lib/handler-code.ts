/**
 * Where a guard function's code comes from. Installed from the package, each handler is already bundled
 * (`dist/handlers/<name>/index.js`, next to this file's `dist/lib/`), so the app that installs it needs no
 * bundler and never bundles a file outside its own project (NodejsFunction's `PathNotUnderRoot`). In this
 * repository there is no such directory next to `lib/`: NodejsFunction bundles `lambda/handlers/<name>.ts`
 * at synth, so tests, the demo and the benchmarks need no build step. `scripts/build.mjs` bundles with the
 * options the construct gives NodejsFunction, so both ways deploy the same code.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';

export type HandlerCode =
  | { readonly kind: 'bundled'; readonly directory: string }
  | { readonly kind: 'source'; readonly entry: string };

export interface HandlerRoots {
  /** holds `<name>/index.js` in the package */
  readonly bundled: string;
  /** holds `<name>.ts` in this repository */
  readonly source: string;
}

const ROOTS: HandlerRoots = {
  bundled: path.join(__dirname, '..', 'handlers'),
  source: path.join(__dirname, '..', 'lambda', 'handlers'),
};

/** The pre-bundled handler when there is one, else its source; neither is a broken package, said so. */
export function locateHandlerCode(name: string, roots: HandlerRoots = ROOTS): HandlerCode {
  const directory = path.join(roots.bundled, name);
  if (existsSync(path.join(directory, 'index.js'))) return { kind: 'bundled', directory };
  const entry = path.join(roots.source, `${name}.ts`);
  if (existsSync(entry)) return { kind: 'source', entry };
  throw new Error(
    `ecr-digest-guard: the pre-bundled ${name} handler is missing (${path.join(directory, 'index.js')}); ` +
      'the package was packed without `npm run build`. Reinstall a package built by `npm pack`.',
  );
}
