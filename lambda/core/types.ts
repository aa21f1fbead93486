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
  /**
   * a current revision of an ECS Managed Daemon (`DescribeDaemonRevisions` → `containerImages[].imageDigest`):
   * what the daemon's next task on a new or replaced container instance starts from
   */
  | 'ecs-daemon'
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
 * Something the inventory could not see, so a digest of the repositories it names may be in use without
 * being listed. Releases pause where a gap could apply, and alerts say where coverage is partial.
 */
export interface InventoryGap {
  /** what could not be seen and why, for people */
  readonly reason: string;
  /**
   * the repositories whose in-use digests it may hide, when the adapter knows them (e.g. the repository of
   * an image a workload names by tag); absent: it could concern any repository
   */
  readonly repositories?: readonly string[];
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
  readonly gaps: readonly InventoryGap[];
  /**
   * When the inventory spans several workloads (accounts and regions): each one's own list, so that each is applied
   * to the in-use index separately; absent for the inventory of one account and region.
   */
  readonly workloads?: readonly WorkloadListed[];
  /** how the inventory was taken, when people should know (e.g. the in-use index was not used, and why) */
  readonly notes?: readonly string[];
  /**
   * Why the batch must be retried although what this inventory saw was protected: it missed workloads a later try
   * may see (the in-use index could not be read). The batch's messages are then reported failed, so the queue
   * redelivers them and, after its last try, the dead-letter queue's alarm pages.
   */
  readonly retryBatch?: string;
  /** the accounts of these organizational units could not be discovered this run: only known accounts were listed */
  readonly accountsNotDiscovered?: { readonly organizationUnits: readonly string[]; readonly reason: string };
}

/** One workload's part of an inventory across workloads: its list, or why it could not be listed. */
export type WorkloadListed =
  | {
      readonly workload: { readonly account: string; readonly region: string };
      /** epoch ms, before this workload's list started */
      readonly startedAtMs: number;
      readonly inventory: Inventory;
    }
  | {
      readonly workload: { readonly account: string; readonly region: string };
      readonly startedAtMs: number;
      /** why it could not be listed (role missing, access denied, throttled), for people */
      readonly failure: string;
    };

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

/**
 * What happened to an image, as the event that named it says:
 * - `PUSH`, `DELETE`: an `ECR Image Action` event with `result: SUCCESS`
 *   (https://docs.aws.amazon.com/AmazonECR/latest/userguide/ecr-eventbridge.html);
 * - `EXPIRE`, `ARCHIVE`: one image of a lifecycle `PolicyExecutionEvent` that CloudTrail logged and
 *   EventBridge delivered, by the action of the rule that selected it (`expire` or `transition`)
 *   (https://docs.aws.amazon.com/AmazonECR/latest/userguide/logging-using-cloudtrail.html).
 */
export type ImageAction = 'PUSH' | 'DELETE' | 'EXPIRE' | 'ARCHIVE';

/** One validated event about one image of one repository, whichever way it arrived. */
export interface ImageEvent {
  readonly action: ImageAction;
  /** the id of the queue message that carried it, for partial batch responses */
  readonly messageId: string;
  /** EventBridge event id (with `#<n>` for the n-th image of a lifecycle event) */
  readonly eventId: string;
  readonly time: Date;
  readonly account: string;
  readonly region: string;
  readonly repository: string;
  readonly digest: Digest;
  /** the tag the push or deletion named; absent for a push or deletion by digest and for lifecycle events */
  readonly tag?: string;
  /** the tags a lifecycle rule's image had when it acted (`tagList`), if any */
  readonly tags?: readonly string[];
  readonly manifestMediaType?: string;
  /** how many times the queue has delivered this message (SQS `ApproximateReceiveCount`); 1 = first try */
  readonly attempt: number;
}

/** One validated `ECR Image Action` PUSH event. */
export type PushEvent = ImageEvent & { readonly action: 'PUSH' };

export function isPush(event: ImageEvent): event is PushEvent {
  return event.action === 'PUSH';
}

/**
 * One `PutImage` call CloudTrail recorded: who moved a tag. `principal` is `userIdentity.arn`;
 * `sessionIssuer` is `userIdentity.sessionContext.sessionIssuer.arn` (the role behind an assumed-role session).
 * See: https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-user-identity.html
 */
export interface PutImageCaller {
  readonly tag: string;
  readonly digest?: Digest;
  readonly time: Date;
  readonly principal: string;
  readonly sessionIssuer?: string;
}

/** What a best-effort CloudTrail lookup found about who pushed some tags, and whether it looked everywhere. */
export interface PusherFindings {
  readonly callers: readonly PutImageCaller[];
  /** false when it stopped early (page or call budget, throttling, an error) before finding every push */
  readonly complete: boolean;
  /** why it stopped early, for the alert */
  readonly note?: string;
  /** the time window it searched */
  readonly from: Date;
  readonly to: Date;
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

/**
 * One ECS service that cannot start tasks, as an `ECS Service Action` event with eventName
 * `SERVICE_TASK_START_IMPAIRED` names it: the onset of the incident when its pinned digest is gone.
 * See: https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs_service_events.html
 */
export interface ServiceImpairment {
  /** the id of the queue message that carried it, for partial batch responses */
  readonly messageId: string;
  /** EventBridge event id */
  readonly eventId: string;
  readonly time: Date;
  readonly account: string;
  readonly region: string;
  readonly clusterArn: string;
  readonly serviceArn: string;
  /** the service name, the last part of its ARN (for a daemon: the daemon's name) */
  readonly service: string;
  /**
   * Set for an ECS Managed Daemon (`DAEMON_TASK_START_IMPAIRED`): the revision its tasks start from, read instead
   * of a service; `serviceArn` is then the daemon's ARN.
   */
  readonly daemonRevisionArn?: string;
  /** how many times the queue has delivered this message (SQS `ApproximateReceiveCount`); 1 = first try */
  readonly attempt: number;
}
