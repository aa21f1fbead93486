/**
 * Production entry points (the CDK app, the handlers, the demo, the benchmarks and the simulated account they
 * run on) must not depend on test code: test/ can then change freely, and nothing shipped or run outside
 * `npm test` breaks when it does.
 */
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(__dirname, '..');
const PRODUCTION_DIRS = ['bin', 'cli', 'lib', 'lambda', 'bench', 'sim', 'scripts'];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : sourceFiles(full);
    return /\.(ts|mts|js|mjs)$/.test(entry.name) ? [full] : [];
  });
}

/** Every module specifier in `import … from`, `export … from`, `import(…)` and `require(…)`. */
function specifiers(text: string): string[] {
  const found: string[] = [];
  const pattern = /(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|^\s*import\s+)(['"])([^'"]+)\1/gm;
  for (const match of text.matchAll(pattern)) found.push(match[2]!);
  return found;
}

describe('the layout', () => {
  it('given the production directories, when their imports are resolved, then none points into test/', () => {
    const testDir = path.join(root, 'test') + path.sep;
    const offending: string[] = [];
    let checked = 0;
    for (const dir of PRODUCTION_DIRS) {
      for (const file of sourceFiles(path.join(root, dir))) {
        checked++;
        for (const specifier of specifiers(readFileSync(file, 'utf8'))) {
          if (!specifier.startsWith('.')) continue;
          const target = path.resolve(path.dirname(file), specifier);
          if ((target + path.sep).startsWith(testDir)) offending.push(`${path.relative(root, file)} → ${specifier}`);
        }
      }
    }
    expect(checked).toBeGreaterThan(20);
    expect(offending).toEqual([]);
  });
});
