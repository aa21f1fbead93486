/**
 * Which digest of an ECS workload counts, and as which consumer: the rules the ECS inventory adapter applies
 * to what ECS describes. Pure: the shapes below are the fields of the ECS API answers these rules read
 * (botocore/data/ecs/2014-11-13/service-2.json: Task, Container, Service, ServiceRevision, ContainerImage,
 * ContainerDefinition, Failure, DaemonRevision, DaemonContainerImage), so the adapter passes the SDK's objects
 * as they are.
 */
import { parseImageUri } from './image-uri';
import type { Consumer, Digest, InventoryGap } from './types';

export interface EcsTaskView {
  /** `service:<name>` for a task a service started */
  readonly group?: string | undefined;
  readonly taskArn?: string | undefined;
  readonly containers?:
    | readonly { name?: string | undefined; image?: string | undefined; imageDigest?: string | undefined }[]
    | undefined;
}

export interface EcsServiceView {
  readonly serviceName?: string | undefined;
  readonly serviceArn?: string | undefined;
}

export interface EcsRevisionView {
  readonly serviceRevisionArn?: string | undefined;
  readonly containerImages?:
    | readonly { containerName?: string | undefined; image?: string | undefined; imageDigest?: string | undefined }[]
    | undefined;
}

export interface EcsDaemonRevisionView {
  readonly daemonRevisionArn?: string | undefined;
  readonly daemonArn?: string | undefined;
  readonly clusterArn?: string | undefined;
  readonly containerImages?:
    | readonly { containerName?: string | undefined; image?: string | undefined; imageDigest?: string | undefined }[]
    | undefined;
}

export interface EcsContainerDefinitionView {
  readonly name?: string | undefined;
  readonly image?: string | undefined;
}

export interface EcsFailureView {
  readonly arn?: string | undefined;
  readonly reason?: string | undefined;
  readonly detail?: string | undefined;
}

/** One digest in use, with the repository it is in and the workload that uses it. */
export interface DigestInUse {
  readonly repository: string;
  readonly digest: Digest;
  readonly consumer: Consumer;
}

/** What one ECS object says: the digests it uses, and what it leaves unknown. */
export interface EcsDigests {
  readonly inUse: DigestInUse[];
  readonly gaps: InventoryGap[];
}

/** The repository of an image of this account and region, or undefined when out of scope. */
export type RepositoryOf = (image: string) => string | undefined;

/** A running task's containers: only a resolved `imageDigest` counts (a pending container may not have one yet). */
export function taskDigests(clusterArn: string, task: EcsTaskView, repositoryOf: RepositoryOf): DigestInUse[] {
  const service = task.group?.startsWith('service:') ? task.group.slice('service:'.length) : undefined;
  const found: DigestInUse[] = [];
  for (const container of task.containers ?? []) {
    const image = container.image;
    if (!image || !container.imageDigest) continue; // a pending container may not have resolved yet
    const repository = repositoryOf(image);
    if (!repository) continue;
    found.push({
      repository,
      digest: container.imageDigest,
      consumer: {
        kind: 'ecs-task',
        cluster: clusterName(clusterArn),
        ...(service ? { service } : {}),
        ...(task.taskArn ? { arn: task.taskArn } : {}),
        ...(container.name ? { container: container.name } : {}),
        image,
      },
    });
  }
  return found;
}

/**
 * A service revision's images: the digest ECS pinned, or the one the image names. A current revision whose
 * image has neither, and that no running task of the service shows, is a gap (e.g. versionConsistency
 * disabled); a rollback revision has no tasks to show it.
 */
export function revisionDigests(
  kind: 'ecs-service' | 'ecs-rollback',
  clusterArn: string,
  service: EcsServiceView,
  revision: EcsRevisionView,
  tasks: readonly EcsTaskView[],
  repositoryOf: RepositoryOf,
): EcsDigests {
  const result: EcsDigests = { inUse: [], gaps: [] };
  for (const container of revision.containerImages ?? []) {
    const image = container.image;
    if (!image) continue;
    const repository = repositoryOf(image);
    if (!repository) continue;
    const digest = container.imageDigest ?? parseImageUri(image)?.digest;
    const consumer: Consumer = {
      kind,
      cluster: clusterName(clusterArn),
      ...(service.serviceName ? { service: service.serviceName } : {}),
      ...(revision.serviceRevisionArn ? { arn: revision.serviceRevisionArn } : {}),
      ...(container.containerName ? { container: container.containerName } : {}),
      image,
    };
    if (digest) result.inUse.push({ repository, digest, consumer });
    else if (
      kind === 'ecs-service' &&
      !tasksOfService(tasks, service).some((task) =>
        (task.containers ?? []).some((c) => c.name === container.containerName && c.imageDigest),
      )
    ) {
      // e.g. versionConsistency disabled: ECS did not pin the tag, and no running task shows a digest.
      result.gaps.push({
        reason:
          `service ${clusterName(clusterArn)}/${service.serviceName ?? service.serviceArn}: revision ` +
          `${revision.serviceRevisionArn} names ${image} without a digest and no running task shows it`,
        repositories: [repository],
      });
    }
  }
  return result;
}

/**
 * A current daemon revision's images: the digest ECS pinned, or the one the image names. One without either is a
 * gap of its repository: the daemon's tasks are not tied to it here (ListTasks would need a call per daemon).
 */
export function daemonRevisionDigests(revision: EcsDaemonRevisionView, repositoryOf: RepositoryOf): EcsDigests {
  const result: EcsDigests = { inUse: [], gaps: [] };
  const cluster = revision.clusterArn ? clusterName(revision.clusterArn) : undefined;
  for (const container of revision.containerImages ?? []) {
    const image = container.image;
    if (!image) continue;
    const repository = repositoryOf(image);
    if (!repository) continue;
    const digest = container.imageDigest ?? parseImageUri(image)?.digest;
    if (!digest) {
      result.gaps.push({
        reason:
          `daemon ${cluster ?? '?'}/${daemonName(revision.daemonArn ?? revision.daemonRevisionArn)}: revision ` +
          `${revision.daemonRevisionArn} names ${image} without a digest`,
        repositories: [repository],
      });
      continue;
    }
    result.inUse.push({
      repository,
      digest,
      consumer: {
        kind: 'ecs-daemon',
        ...(cluster ? { cluster } : {}),
        ...(revision.daemonRevisionArn ? { arn: revision.daemonRevisionArn } : {}),
        ...(container.containerName ? { container: container.containerName } : {}),
        image,
      },
    });
  }
  return result;
}

/**
 * The daemon's name in `…:daemon/<cluster>/<name>` or `…:daemon-revision/<cluster>/<name>/<id>` (the formats of
 * the Service Authorization Reference's `daemon` and `daemon-revision` resource types); `?` otherwise.
 * See: https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonelasticcontainerservice.html
 */
export function daemonName(arn: string | undefined): string {
  const resource = arn?.split(':').slice(5).join(':').split('/') ?? [];
  return (resource[0] === 'daemon' || resource[0] === 'daemon-revision') && resource[2] ? resource[2] : '?';
}

/**
 * A task definition of a service whose revision cannot be described: a container image pinned by `@sha256:`
 * counts; one by tag is a gap unless a running task of the service shows its digest.
 */
export function taskDefinitionDigests(
  clusterArn: string,
  service: EcsServiceView,
  taskDefinitionArn: string,
  containers: readonly EcsContainerDefinitionView[],
  running: readonly EcsTaskView[],
  repositoryOf: RepositoryOf,
): EcsDigests {
  const result: EcsDigests = { inUse: [], gaps: [] };
  for (const container of containers) {
    const image = container.image;
    if (!image) continue;
    const repository = repositoryOf(image);
    if (!repository) continue;
    const pinned = parseImageUri(image)?.digest;
    if (pinned) {
      result.inUse.push({
        repository,
        digest: pinned,
        consumer: {
          kind: 'ecs-task-definition',
          cluster: clusterName(clusterArn),
          ...(service.serviceName ? { service: service.serviceName } : {}),
          arn: taskDefinitionArn,
          ...(container.name ? { container: container.name } : {}),
          image,
        },
      });
    } else if (
      !running.some((task) => (task.containers ?? []).some((c) => c.name === container.name && c.imageDigest))
    ) {
      result.gaps.push({
        reason:
          `service ${clusterName(clusterArn)}/${service.serviceName ?? service.serviceArn}: the digest ` +
          `behind ${image} (container ${container.name ?? '?'}) is unknown: its service revision cannot be ` +
          'described (revisions created before 2024-10-25 cannot) and no running task shows it',
        repositories: [repository],
      });
    }
  }
  return result;
}

/** The per-item failures of an ECS Describe call: each one hides what it names, so each is a gap. */
export function failureGaps(
  call: string,
  cluster: string | undefined,
  failures: readonly EcsFailureView[] | undefined,
): InventoryGap[] {
  return (failures ?? []).map((failure) => {
    const where = cluster ? ` in cluster ${clusterName(cluster)}` : '';
    return {
      reason:
        `${call}${where}: ${failure.arn ?? '?'} ${failure.reason ?? 'failed'}` +
        `${failure.detail ? ` (${failure.detail})` : ''}`,
    };
  });
}

/** The tasks a service started (ECS sets their `group` to `service:<name>`). */
export function tasksOfService<T extends EcsTaskView>(tasks: readonly T[], service: EcsServiceView): T[] {
  return tasks.filter((task) => task.group === `service:${service.serviceName}`);
}

/** `arn:aws:ecs:<region>:<account>:cluster/<name>` → `<name>` (anything else is returned as is). */
export function clusterName(clusterArn: string): string {
  const marker = ':cluster/';
  const at = clusterArn.indexOf(marker);
  return at >= 0 ? clusterArn.slice(at + marker.length) : clusterArn;
}
