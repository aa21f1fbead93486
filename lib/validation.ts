/**
 * Checks shared by the construct (props) and the app (context), so both fail with the same words.
 * Each returns a problem description, or `undefined` when the value is fine; callers prefix the name of
 * the prop or context key the value came from.
 */

/** The OCI distribution spec's tag grammar: `[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}`.
 * See: https://github.com/opencontainers/distribution-spec/blob/main/spec.md#pulling-manifests */
const OCI_TAG_START = /^[a-zA-Z0-9_][a-zA-Z0-9._-]*$/;
const OCI_TAG_MAX_LENGTH = 128;

/** What a protective tag adds after the prefix: `-sha256-` and 64 hex digits. */
const PROTECTIVE_TAG_SUFFIX_LENGTH = '-sha256-'.length + 64;

/** The longest prefix whose protective tags `<prefix>-sha256-<64 hex>` stay within the OCI limit (56). */
export const MAX_TAG_PREFIX_LENGTH = OCI_TAG_MAX_LENGTH - PROTECTIVE_TAG_SUFFIX_LENGTH;

/** ECR repository names: lowercase path components separated by `/`, 2 to 256 characters.
 * See: https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_CreateRepository.html */
const ECR_REPOSITORY_NAME = /^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$/;
const ECR_REPOSITORY_NAME_MIN = 2;
const ECR_REPOSITORY_NAME_MAX = 256;

/** Deliberately loose: SNS confirms the address by mail; this only catches typos such as a missing `@`. */
const EMAIL = /^[^\s@,;]+@[^\s@,;]+\.[^\s@,;]+$/;

export function tagPrefixProblem(prefix: string): string | undefined {
  if (prefix.length === 0) {
    return 'must not be empty';
  }
  if (!OCI_TAG_START.test(prefix)) {
    return `"${prefix}" must match [a-zA-Z0-9_][a-zA-Z0-9._-]* (the OCI tag grammar)`;
  }
  if (prefix.length > MAX_TAG_PREFIX_LENGTH) {
    return (
      `"${prefix}" is ${prefix.length} characters; at most ${MAX_TAG_PREFIX_LENGTH} keep ` +
      `"<prefix>-sha256-<64 hex>" within the ${OCI_TAG_MAX_LENGTH}-character tag limit`
    );
  }
  return undefined;
}

export function repositoryNameProblem(name: string): string | undefined {
  if (name.length < ECR_REPOSITORY_NAME_MIN || name.length > ECR_REPOSITORY_NAME_MAX) {
    return `"${name}" must be ${ECR_REPOSITORY_NAME_MIN} to ${ECR_REPOSITORY_NAME_MAX} characters long`;
  }
  if (!ECR_REPOSITORY_NAME.test(name)) {
    return `"${name}" is not a valid ECR repository name (lowercase letters, digits, . _ - separated, / between path parts)`;
  }
  return undefined;
}

export function emailProblem(address: string): string | undefined {
  return EMAIL.test(address) ? undefined : `"${address}" is not an email address`;
}

/** Splits a comma-separated context value, trimming blanks and dropping empty items. */
export function splitList(value: string): string[] {
  return value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
}
