/**
 * `npm run bench` writes its figures to the tracked bench/results/latest.json only when asked (`--record`):
 * a run to look at the figures must leave the working tree as it was.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(__dirname, '..', '..');
const figures = path.join(root, 'bench', 'results', 'latest.json');

function bench(...args: string[]): string {
  const tsx = path.join(root, 'node_modules', '.bin', 'tsx');
  return execFileSync(tsx, ['bench/run.ts', '--part=requests', '--small', ...args], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  });
}

describe('npm run bench and the tracked figures file', () => {
  it('given no --record, when the bench runs, then bench/results/latest.json is left as it was', () => {
    const before = readFileSync(figures, 'utf8');
    try {
      const output = bench();
      expect(readFileSync(figures, 'utf8')).toBe(before);
      expect(output).toContain('figures not written');
    } finally {
      writeFileSync(figures, before);
    }
  }, 60_000);
});
