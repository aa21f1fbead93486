/** Typed errors that keep their `cause`, so logs show what AWS said. */

export class RepositoryNotFoundError extends Error {
  override readonly name = 'RepositoryNotFoundError';
  constructor(
    readonly repository: string,
    options?: { cause?: unknown },
  ) {
    super(`ECR repository "${repository}" does not exist in this account and region`, options);
  }
}

/** An event that cannot be processed as it is; retrying it will not help. */
export class MalformedEventError extends Error {
  override readonly name = 'MalformedEventError';
  constructor(
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`malformed ECR push event: ${reason}`, options);
  }
}
