/**
 * How the simulated services see each other. ECS and Lambda resolve image references against the
 * simulated ECR registry (ECS pins a tag to its digest at deploy time), and ask it whether a digest
 * can still be pulled when they launch a task.
 */
export interface EcrLookup {
  /** `<account>.dkr.ecr.<region>.amazonaws.com` */
  readonly registryHost: string;
  /** the digest a tag or digest reference names now, or undefined when nothing matches */
  resolve(repository: string, reference: { readonly tag?: string; readonly digest?: string }): string | undefined;
  /** true when the digest exists and can be pulled (present and not archived) */
  canPull(repository: string, digest: string): boolean;
}
