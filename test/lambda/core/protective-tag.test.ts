import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  MAX_TAG_PREFIX_LENGTH,
  isProtectiveTag,
  protectiveTagFor,
  tagPrefixProblem,
} from '../../../lambda/core/protective-tag';

const OCI_TAG = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;
const hex64 = fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 64, maxLength: 64 });

describe('protective tags', () => {
  it('derive from the full digest, so two digests never share a tag', () => {
    fc.assert(
      fc.property(hex64, hex64, (a, b) => {
        fc.pre(a !== b);
        expect(protectiveTagFor(`sha256:${a}`, 'digest-guard')).not.toBe(
          protectiveTagFor(`sha256:${b}`, 'digest-guard'),
        );
      }),
    );
  });

  it('stay within the OCI tag grammar for the longest allowed prefix', () => {
    const prefix = 'p'.repeat(MAX_TAG_PREFIX_LENGTH);
    expect(tagPrefixProblem(prefix)).toBeUndefined();
    fc.assert(fc.property(hex64, (hex) => OCI_TAG.test(protectiveTagFor(`sha256:${hex}`, prefix))));
  });

  it("are recognised as the guard's own, and other tags are not", () => {
    const tag = protectiveTagFor(`sha256:${'b'.repeat(64)}`, 'digest-guard');
    expect(tag).toBe(`digest-guard-sha256-${'b'.repeat(64)}`);
    expect(isProtectiveTag(tag, 'digest-guard')).toBe(true);
    expect(isProtectiveTag('prod', 'digest-guard')).toBe(false);
    expect(isProtectiveTag('digest-guard-sha256-short', 'digest-guard')).toBe(false);
    expect(isProtectiveTag(tag, 'other')).toBe(false);
  });

  it('refuse something that is not a sha256 digest', () => {
    expect(() => protectiveTagFor('sha512:abc', 'digest-guard')).toThrow(/not a sha256 digest/);
  });

  it.each([
    ['', /must not be empty/],
    ['-leading-dash', /OCI tag grammar/],
    ['has space', /OCI tag grammar/],
    ['x'.repeat(MAX_TAG_PREFIX_LENGTH + 1), /is 57 characters; at most 56 keep/],
  ])('reject the prefix %j with a reason', (prefix, reason) => {
    expect(tagPrefixProblem(prefix)).toMatch(reason);
  });
});
