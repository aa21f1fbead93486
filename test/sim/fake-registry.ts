/**
 * A registry small enough to read in a test, for the simulated ECS and Lambda's own tests: tags that can
 * move, digests that can disappear. The scenario tests use the real simulated ECR instead.
 */
import type { EcrLookup } from '../../sim/contracts';

export const FAKE_ACCOUNT = '111122223333';
export const FAKE_REGION = 'eu-west-1';
export const FAKE_REGISTRY_HOST = `${FAKE_ACCOUNT}.dkr.ecr.${FAKE_REGION}.amazonaws.com`;

export class FakeRegistry implements EcrLookup {
  readonly registryHost = FAKE_REGISTRY_HOST;
  private readonly tags = new Map<string, string>();
  private readonly present = new Set<string>();

  push(repository: string, tag: string, digest: string): this {
    this.tags.set(`${repository}:${tag}`, digest);
    this.present.add(`${repository}@${digest}`);
    return this;
  }

  /** What a lifecycle rule that expires untagged images does. */
  expire(repository: string, digest: string): void {
    this.present.delete(`${repository}@${digest}`);
  }

  resolve(repository: string, reference: { tag?: string; digest?: string }): string | undefined {
    if (reference.digest) return this.present.has(`${repository}@${reference.digest}`) ? reference.digest : undefined;
    return this.tags.get(`${repository}:${reference.tag}`);
  }

  canPull(repository: string, digest: string): boolean {
    return this.present.has(`${repository}@${digest}`);
  }
}
