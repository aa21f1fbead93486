/**
 * The EventBridge pattern that selects the ECR pushes the guard reacts to.
 *
 * Kept free of CDK types so that a contract test can feed exactly this JSON to an EventBridge emulator
 * (`PutRule` + `PutEvents`) and check which events it lets through.
 */

/** The EventBridge `anything-but` prefix operator. */
export interface AnythingButPrefix {
  readonly 'anything-but': { readonly prefix: string };
}

/** The pattern in EventBridge's own JSON shape (`detail-type`, not CDK's `detailType`). */
export interface PushEventPattern {
  readonly source: readonly ['aws.ecr'];
  readonly 'detail-type': readonly ['ECR Image Action'];
  readonly detail: {
    readonly 'action-type': readonly ['PUSH'];
    readonly result: readonly ['SUCCESS'];
    readonly 'repository-name'?: readonly string[];
    readonly 'image-tag': readonly [AnythingButPrefix];
  };
}

export interface PushEventPatternOptions {
  /** Prefix of the guard's protective tags, e.g. `digest-guard`. */
  readonly tagPrefix: string;
  /** Repositories in scope; empty or undefined selects every repository. */
  readonly repositories?: readonly string[];
}

/**
 * The start of every protective tag: `<tagPrefix>-`. A protective tag is `<tagPrefix>-sha256-<64 hex>`;
 * the trailing dash keeps a prefix such as `guard` from also hiding a user's tag `guardian-1`.
 */
export function protectiveTagStart(tagPrefix: string): string {
  return `${tagPrefix}-`;
}

/**
 * Successful ECR pushes, optionally of some repositories only, minus the pushes of the guard's own
 * protective tags (adding a tag with `PutImage` emits its own PUSH event; reacting to it would be a loop).
 *
 * A push by digest alone carries no `image-tag` and moves no tag. EventBridge matches a pattern field
 * only against a field the event has (only `exists: false` matches an absent one), so such pushes are
 * not selected, which is what the guard wants; the emulator contract test pins this.
 * See: https://docs.aws.amazon.com/AmazonECR/latest/userguide/ecr-eventbridge.html
 * See: https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html
 */
export function buildPushEventPattern(options: PushEventPatternOptions): PushEventPattern {
  const repositories = options.repositories ?? [];
  return {
    source: ['aws.ecr'],
    'detail-type': ['ECR Image Action'],
    detail: {
      'action-type': ['PUSH'],
      result: ['SUCCESS'],
      ...(repositories.length > 0 ? { 'repository-name': [...repositories] } : {}),
      'image-tag': [{ 'anything-but': { prefix: protectiveTagStart(options.tagPrefix) } }],
    },
  };
}
