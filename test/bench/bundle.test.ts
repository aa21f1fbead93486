/**
 * The push handler's module start grows with the code node has to parse and run before the first event. The
 * SDK clients are the floor every handler of this shape pays (bench/fixtures/minimal-handler.ts); what the guard
 * adds on top of them is held to a budget here, so that a heavy dependency cannot slip back in unnoticed.
 */
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { bundle } from '../../bench/bundle';

const PUSH_ENTRY = path.resolve(__dirname, '..', '..', 'lambda', 'handlers', 'push.ts');

describe('the push handler bundle', () => {
  it('given the SDK left out, when esbuild bundles the handler, then it stays within 150 KB and holds no zod', async () => {
    const built = await bundle('budget-sdk-external', PUSH_ENTRY, ['@aws-sdk/*']);
    const modules = built.contributors.map((c) => c.module);
    expect(modules).not.toContain('zod');
    expect(built.bytes).toBeLessThan(150 * 1024);
  }, 60_000);
});
