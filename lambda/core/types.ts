/**
 * The vocabulary shared by the pure core, the adapters and the handlers.
 * Nothing here imports an SDK: adapters translate AWS shapes into these types.
 */

/** A `sha256:<64 hex>` image digest. */
export type Digest = string;

/** Where a workload's use of an image digest was seen. */
export type ConsumerKind =
  /** a running or pending ECS task (`DescribeTasks` → `containers[].imageDigest`) */
  | 'ecs-task'
  /** a current revision of an ECS service (`DescribeServiceRevisions` → `containerImages[].imageDigest`) */
  | 'ecs-service'
  /** the source revision of an in-progress deployment: what a rollback relaunches */
  | 'ecs-rollback'
  /** a task definition that pins `repo@sha256:…` itself */
  | 'ecs-task-definition'
  /** a Lambda function packaged as an image (`GetFunction` → `Code.ResolvedImageUri`) */
  | 'lambda-function';

/** One workload that uses a digest, as an operator would look it up. */
export interface Consumer {
  readonly kind: ConsumerKind;
  /** cluster name (ECS) */
  readonly cluster?: string;
  /** service name (ECS services, revisions, rollbacks) */
  readonly service?: string;
  /** the ARN of the task, service revision, task definition or function */
  readonly arn?: string;
  /** container name inside the task or revision */
  readonly container?: string;
  /** the image reference as the workload wrote it, e.g. `…/app:prod` */
  readonly image: string;
}

/** The parsed form of an ECR image URI. */
export interface EcrImageRef {
  readonly registryId: string;
  readonly region: string;
  readonly repository: string;
  readonly tag?: string;
  readonly digest?: Digest;
}

/**
 * The digests in use, per repository of this account and region, taken at `takenAt`.
 * `gaps` lists what could not be read (e.g. a service revision that predates revisions),
 * so an alert can say where coverage is partial instead of pretending it is complete.
 */
export interface Inventory {
  readonly takenAt: Date;
  /** repository name → digest → consumers */
  readonly byRepository: ReadonlyMap<string, ReadonlyMap<Digest, readonly Consumer[]>>;
  readonly gaps: readonly string[];
}

/** What ECR says about one digest of a repository right now. */
export type ImageState =
  | {
      readonly digest: Digest;
      readonly present: true;
      readonly tags: readonly string[];
      /** `ACTIVE`, `ARCHIVED` or `ACTIVATING` (absent on older API answers: treat as ACTIVE) */
      readonly storageStatus: string;
      readonly manifestMediaType?: string;
      readonly pushedAt?: Date;
    }
  | { readonly digest: Digest; readonly present: false };

/** One validated `ECR Image Action` PUSH event. */
export interface PushEvent {
  /** the id of the queue message that carried it, for partial batch responses */
  readonly messageId: string;
  /** EventBridge event id */
  readonly eventId: string;
  readonly time: Date;
  readonly account: string;
  readonly region: string;
  readonly repository: string;
  readonly digest: Digest;
  readonly tag?: string;
  readonly manifestMediaType?: string;
  /** how many times the queue has delivered this message (SQS `ApproximateReceiveCount`); 1 = first try */
  readonly attempt: number;
}

/** The settings that change what the guard decides and does. */
export interface GuardSettings {
  /** prefix of the protective tags, e.g. `digest-guard` */
  readonly tagPrefix: string;
  /** detect and alert, change nothing */
  readonly dryRun: boolean;
  /** repositories in scope; empty or undefined = all */
  readonly repositories?: readonly string[];
}
