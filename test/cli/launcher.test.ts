/** The package's `bin`: a plain Node launcher that runs the CLI from a checkout (through tsx) or a built package. */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(__dirname, '../..');

describe('the ecr-digest-guard launcher', () => {
  it('given a checkout, when `node bin/ecr-digest-guard.cjs audit --help` runs, then it prints usage and exits 0', () => {
    const run = spawnSync(process.execPath, [path.join(root, 'bin/ecr-digest-guard.cjs'), 'audit', '--help'], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
      timeout: 60_000,
    });

    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('Usage: ecr-digest-guard audit [options]');
  });
});
