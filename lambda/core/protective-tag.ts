/**
 * Protective tags are derived from the digest alone: `<prefix>-sha256-<64 hex>`. Applying one twice is a
 * no-op, and it can never name another image, because no other manifest hashes to that digest.
 * The result stays within the OCI tag grammar `[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}`.
 * See: https://github.com/opencontainers/distribution-spec/blob/main/spec.md#pulling-manifests
 */
import type { Digest } from './types';

export { DEFAULT_TAG_PREFIX } from './defaults';
const DIGEST = /^sha256:([a-f0-9]{64})$/;
const PREFIX = /^[a-zA-Z0-9_][a-zA-Z0-9._-]*$/;
/** 128 (OCI maximum) − `-sha256-` (8) − 64 hex characters */
export const MAX_TAG_PREFIX_LENGTH = 128 - 8 - 64;

/** Why a prefix cannot be used, or undefined when it can. Shared by the construct, the app and the handlers. */
export function tagPrefixProblem(prefix: string): string | undefined {
  if (prefix.length === 0) return 'must not be empty';
  if (!PREFIX.test(prefix)) return `"${prefix}" must match [a-zA-Z0-9_][a-zA-Z0-9._-]* (the OCI tag grammar)`;
  if (prefix.length > MAX_TAG_PREFIX_LENGTH) {
    return `"${prefix}" is ${prefix.length} characters; at most ${MAX_TAG_PREFIX_LENGTH} keep "<prefix>-sha256-<64 hex>" within the 128-character tag limit`;
  }
  return undefined;
}

export function protectiveTagFor(digest: Digest, prefix: string): string {
  const match = DIGEST.exec(digest);
  if (!match) throw new Error(`cannot derive a protective tag from "${digest}": not a sha256 digest`);
  return `${prefix}-sha256-${match[1]}`;
}

/** True for any tag this guard creates with this prefix (whatever digest it names). */
export function isProtectiveTag(tag: string, prefix: string): boolean {
  return tag.startsWith(`${prefix}-sha256-`) && DIGEST.test(`sha256:${tag.slice(prefix.length + 8)}`);
}

/** A short, readable form of a digest for subjects and logs: `sha256:1234abcd…` (12 hex). */
export function shortDigest(digest: Digest): string {
  return digest.length > 19 ? `${digest.slice(0, 19)}…` : digest;
}
