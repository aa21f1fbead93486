/**
 * Which code a guard function deploys: the pre-bundled handler the package ships, the source in this
 * repository, and a clear refusal when a package lost its bundle (rather than a bundling error about paths).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { locateHandlerCode } from '../../lib/handler-code';

describe('locateHandlerCode', () => {
  let root: string;
  let roots: { bundled: string; source: string };
  beforeEach(() => {
    root = mkdtempSync(path.join(tmpdir(), 'handler-code-'));
    roots = { bundled: path.join(root, 'handlers'), source: path.join(root, 'lambda', 'handlers') };
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  const bundle = (name: string) => {
    mkdirSync(path.join(roots.bundled, name), { recursive: true });
    writeFileSync(path.join(roots.bundled, name, 'index.js'), 'exports.handler = async () => {};');
  };
  const source = (name: string) => {
    mkdirSync(roots.source, { recursive: true });
    writeFileSync(path.join(roots.source, `${name}.ts`), 'export const handler = async () => {};');
  };

  it('given an installed package with the handler bundled, then the function deploys that bundle', () => {
    bundle('push');
    source('push');
    expect(locateHandlerCode('push', roots)).toEqual({ kind: 'bundled', directory: path.join(roots.bundled, 'push') });
  });

  it('given this repository (sources, no bundle next to lib/), then the function is bundled from the source', () => {
    source('push');
    expect(locateHandlerCode('push', roots)).toEqual({ kind: 'source', entry: path.join(roots.source, 'push.ts') });
  });

  it('given a package without the bundle of one handler, then it refuses naming the missing file', () => {
    bundle('reconcile');
    expect(() => locateHandlerCode('push', roots)).toThrow(path.join(roots.bundled, 'push', 'index.js'));
  });

  it('given this repository as it is, then both handlers come from their sources', () => {
    expect(locateHandlerCode('push')).toMatchObject({ kind: 'source' });
    expect(locateHandlerCode('reconcile')).toMatchObject({ kind: 'source' });
  });
});
