/**
 * Parses ECR image references as ECS and Lambda report them:
 * `<account>.dkr.ecr.<region>.amazonaws.com/<repo>[:tag][@sha256:…]`, plus the FIPS
 * (`dkr.ecr-fips`) and dual-stack (`<account>.dkr-ecr.<region>.on.aws`) host forms.
 * See: https://docs.aws.amazon.com/AmazonECR/latest/userguide/Registries.html
 * Anything else (Docker Hub, ECR Public, other registries) returns undefined: out of scope.
 */
import type { EcrImageRef } from './types';

const HOST_FORMS: readonly RegExp[] = [
  // 111122223333.dkr.ecr.eu-west-1.amazonaws.com, .amazonaws.com.cn, dkr.ecr-fips.us-gov-west-1
  /^(?<account>\d{12})\.dkr\.ecr(?:-fips)?\.(?<region>[a-z]{2}(?:-[a-z]+)+-\d)\.amazonaws\.com(?:\.cn)?$/,
  // dual-stack: 111122223333.dkr-ecr.eu-west-1.on.aws (and dkr-ecr-fips)
  /^(?<account>\d{12})\.dkr-ecr(?:-fips)?\.(?<region>[a-z]{2}(?:-[a-z]+)+-\d)\.on\.aws$/,
];

// Repository names: https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_CreateRepository.html
export const ECR_REPOSITORY_NAME = /^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,299}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;

export function parseImageUri(uri: string): EcrImageRef | undefined {
  const slash = uri.indexOf('/');
  if (slash <= 0) return undefined;
  const host = uri.slice(0, slash).toLowerCase();
  let rest = uri.slice(slash + 1);
  const match = HOST_FORMS.map((form) => form.exec(host)).find((m) => m !== null);
  if (!match?.groups) return undefined;

  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) return undefined;
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon >= 0) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) return undefined;
  }
  if (!ECR_REPOSITORY_NAME.test(rest)) return undefined;
  return {
    registryId: match.groups.account!,
    region: match.groups.region!,
    repository: rest,
    ...(tag !== undefined ? { tag } : {}),
    ...(digest !== undefined ? { digest } : {}),
  };
}
