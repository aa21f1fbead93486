/**
 * Checks shared by the construct (props) and the app (context), so both fail with the same words.
 * Each returns a problem description, or `undefined` when the value is fine; callers prefix the name of
 * the prop or context key the value came from.
 */
import { ECR_REPOSITORY_NAME } from '../lambda/core/image-uri';

export { MAX_TAG_PREFIX_LENGTH, tagPrefixProblem } from '../lambda/core/protective-tag';

/** ECR repository names: lowercase path components separated by `/`, 2 to 256 characters.
 * See: https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_CreateRepository.html */
const ECR_REPOSITORY_NAME_MIN = 2;
const ECR_REPOSITORY_NAME_MAX = 256;

/** Deliberately loose: SNS confirms the address by mail; this only catches typos such as a missing `@`. */
const EMAIL = /^[^\s@,;]+@[^\s@,;]+\.[^\s@,;]+$/;

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
