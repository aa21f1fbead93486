/**
 * A simulated ECS control plane for one account and region: clusters, task definitions, services with
 * service revisions and service deployments, tasks, and ECS Managed Daemons with their revisions, answering the real `@aws-sdk/client-ecs` through
 * `SimTransport` (awsJson1_1, shapes as in botocore `botocore/data/ecs/2014-11-13/service-2.json`).
 *
 * What it models because the guard depends on it:
 * - Software version consistency: when a service deploys, ECS resolves each container's tag to the digest
 *   it names at that moment and launches every task of that deployment from the digest, even after the
 *   tag moves. `versionConsistency: disabled` turns this off per container (each task pulls the tag).
 *   See: https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-type-ecs.html#deployment-container-image-stability
 * - A service keeps its revision's digest when it has zero running tasks; a replacement task then fails
 *   with `CannotPullContainerError` if that digest is gone from ECR (the incident in the project notes).
 * - The documented page and batch limits: asking for more fails with `InvalidParameterException`, so an
 *   adapter that asks for too much fails in tests instead of in production.
 *
 * Control-plane methods (createService, updateService, stopTask, …) are plain methods for test setup;
 * the guard only reaches this class through the API operations in `handle`.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { parseImageUri } from '../lambda/core/image-uri';
import type { EcrLookup } from './contracts';
import {
  type EcsDeploymentStateChangeEvent,
  type EcsTaskStateChangeEvent,
  eventEnvelope,
  eventTime,
  toDeploymentStateChangeEvent,
} from './events';
import { pageByOffset } from './paging';
import { SimAwsError, type SimService } from './transport';

export interface SimEcsOptions {
  readonly accountId: string;
  readonly region: string;
  readonly ecr: EcrLookup;
  /** the clock for createdAt/startedAt stamps (default: the wall clock) */
  readonly now?: () => Date;
  /**
   * Registries of other accounts or regions that tasks here may pull from (a simulated organization); images of
   * registries it does not know stay out of scope. Repository policies are not modelled: every pull is allowed.
   */
  readonly otherRegistries?: (registryId: string, region: string) => EcrLookup | undefined;
}

export interface ContainerSpec {
  readonly name: string;
  /** the image as written in the task definition, e.g. `<host>/app:prod` or `<host>/app@sha256:…` */
  readonly image: string;
  /** `disabled`: ECS does not pin this container's tag to a digest (default `enabled`) */
  readonly versionConsistency?: 'enabled' | 'disabled';
}

/** The outcome of launching one task. */
export type LaunchOutcome =
  | { readonly ok: true; readonly taskArn: string }
  | { readonly ok: false; readonly taskArn: string; readonly stoppedReason: string };

export interface UpdateServiceOptions {
  readonly taskDefinitionArn?: string;
  readonly forceNewDeployment?: boolean;
  readonly desiredCount?: number;
}

interface TaskDefinitionRecord {
  readonly arn: string;
  readonly family: string;
  readonly revision: number;
  readonly containers: readonly ContainerSpec[];
  readonly registeredAt: Date;
}

interface RevisionImage {
  readonly containerName: string;
  readonly image: string;
  /** absent when version consistency is disabled for the container */
  readonly imageDigest?: string;
}

interface RevisionRecord {
  readonly arn: string;
  readonly serviceArn: string;
  readonly clusterArn: string;
  readonly taskDefinition: string;
  readonly containerImages: readonly RevisionImage[];
  createdAt: Date;
  /** false for revisions created before 2024-10-25, which DescribeServiceRevisions cannot describe */
  describable: boolean;
}

interface DeploymentRecord {
  readonly arn: string;
  /** the id of the matching entry in `DescribeServices` → `deployments[]` */
  readonly legacyId: string;
  readonly serviceArn: string;
  readonly clusterArn: string;
  readonly createdAt: Date;
  readonly startedAt: Date;
  finishedAt?: Date;
  readonly sourceRevisionArns: readonly string[];
  readonly targetRevisionArn: string;
  status: 'IN_PROGRESS' | 'SUCCESSFUL' | 'STOPPED';
}

interface TaskContainerRecord {
  readonly name: string;
  readonly image: string;
  readonly imageDigest?: string;
}

interface TaskRecord {
  readonly arn: string;
  readonly clusterArn: string;
  readonly taskDefinitionArn: string;
  readonly family: string;
  readonly group: string;
  readonly startedBy?: string;
  readonly serviceName?: string;
  readonly revisionArn?: string;
  readonly containers: readonly TaskContainerRecord[];
  readonly createdAt: Date;
  lastStatus: 'PENDING' | 'RUNNING' | 'STOPPED';
  desiredStatus: 'RUNNING' | 'STOPPED';
  startedAt?: Date;
  stoppedAt?: Date;
  stoppedReason?: string;
  stopCode?: string;
  /** `detail.version` of its last task state change event */
  version: number;
}

interface ServiceRecord {
  readonly name: string;
  readonly arn: string;
  readonly clusterName: string;
  readonly clusterArn: string;
  readonly createdAt: Date;
  taskDefinitionArn: string;
  desiredCount: number;
  /** the revisions that currently have (or should have) tasks; the last one is the deployment target */
  currentRevisionArns: string[];
  /** all deployments, oldest first */
  readonly deploymentArns: string[];
  readonly tasks: TaskRecord[];
}

interface ClusterRecord {
  readonly name: string;
  readonly arn: string;
  readonly services: Map<string, ServiceRecord>;
  readonly tasks: Map<string, TaskRecord>;
}

/**
 * A daemon revision: ECS Managed Daemons pin each container's digest when a deployment starts, as services do.
 * See: DescribeDaemonRevisions, DaemonRevision.containerImages (botocore ecs/2014-11-13 service-2.json;
 * `@aws-sdk/client-ecs` dist-types/models/models_0.d.ts `DaemonContainerImage.imageDigest`).
 */
interface DaemonRevisionRecord {
  readonly arn: string;
  readonly daemonArn: string;
  readonly clusterArn: string;
  readonly daemonTaskDefinitionArn: string;
  readonly containerImages: readonly RevisionImage[];
  readonly createdAt: Date;
}

interface DaemonRecord {
  readonly name: string;
  readonly arn: string;
  readonly clusterArn: string;
  readonly createdAt: Date;
  updatedAt: Date;
  status: 'ACTIVE' | 'DELETE_IN_PROGRESS';
  /** the revisions with daemon tasks: during a deployment the source and the target, else the target only */
  currentRevisionArns: string[];
  deploymentArn: string;
}

/** Service revisions and deployments from before this date cannot be described. */
// See: DescribeServiceRevisions, "You can't describe a service revision that was created before October 25, 2024."
// (botocore ecs/2014-11-13 service-2.json, operation documentation)
export const SERVICE_REVISIONS_AVAILABLE_FROM = new Date('2024-10-25T00:00:00Z');

export class SimEcs implements SimService {
  readonly name = 'ecs';
  readonly hostPrefix = 'ecs';
  readonly accountId: string;
  readonly region: string;
  private readonly ecr: EcrLookup;
  private readonly otherRegistries: SimEcsOptions['otherRegistries'];
  private readonly now: () => Date;
  private readonly clusters = new Map<string, ClusterRecord>();
  private readonly taskDefinitions = new Map<string, TaskDefinitionRecord>();
  private readonly familyRevisions = new Map<string, number>();
  private readonly revisions = new Map<string, RevisionRecord>();
  private readonly deployments = new Map<string, DeploymentRecord>();
  /** daemons by cluster name, then daemon name */
  private readonly daemons = new Map<string, Map<string, DaemonRecord>>();
  private readonly daemonRevisions = new Map<string, DaemonRevisionRecord>();
  private sequence = 0;
  /** The `ECS Task State Change` events ECS emitted, in order (what an EventBridge rule would route). */
  readonly taskEvents: EcsTaskStateChangeEvent[] = [];
  /**
   * The `ECS Deployment State Change` events ECS emitted, in order: IN_PROGRESS when a deployment starts (the initial
   * one of a service too), COMPLETED when it finishes. No FAILED: the sim has no circuit breaker.
   */
  readonly deploymentEvents: EcsDeploymentStateChangeEvent[] = [];

  constructor(options: SimEcsOptions) {
    this.accountId = options.accountId;
    this.region = options.region;
    this.ecr = options.ecr;
    this.otherRegistries = options.otherRegistries;
    this.now = options.now ?? (() => new Date());
  }

  // ───────────────────────────── control plane (test setup) ─────────────────────────────

  createCluster(name: string): string {
    const existing = this.clusters.get(name);
    if (existing) return existing.arn;
    const arn = this.arn(`cluster/${name}`);
    this.clusters.set(name, { name, arn, services: new Map(), tasks: new Map() });
    return arn;
  }

  registerTaskDefinition(family: string, containers: readonly ContainerSpec[]): string {
    if (containers.length === 0) throw new Error(`sim ecs: task definition ${family} needs at least one container`);
    const revision = (this.familyRevisions.get(family) ?? 0) + 1;
    this.familyRevisions.set(family, revision);
    const arn = this.arn(`task-definition/${family}:${revision}`);
    this.taskDefinitions.set(arn, {
      arn,
      family,
      revision,
      containers: containers.map((c) => ({ ...c })),
      registeredAt: this.now(),
    });
    return arn;
  }

  /**
   * Creates a service, pins its images (version consistency) into its first revision and starts
   * `desiredCount` tasks from those digests. Returns the service ARN.
   */
  createService(cluster: string, name: string, taskDefinitionArn: string, desiredCount: number): string {
    const clusterRecord = this.requireCluster(cluster);
    if (clusterRecord.services.has(name)) throw new Error(`sim ecs: service ${name} already exists in ${cluster}`);
    const taskDefinition = this.requireTaskDefinition(taskDefinitionArn);
    const service: ServiceRecord = {
      name,
      arn: this.arn(`service/${clusterRecord.name}/${name}`),
      clusterName: clusterRecord.name,
      clusterArn: clusterRecord.arn,
      createdAt: this.now(),
      taskDefinitionArn: taskDefinition.arn,
      desiredCount,
      currentRevisionArns: [],
      deploymentArns: [],
      tasks: [],
    };
    clusterRecord.services.set(name, service);
    this.deploy(clusterRecord, service, taskDefinition, { completed: true });
    return service.arn;
  }

  /**
   * Starts a new deployment: a new revision (tags resolved now) and its tasks, while the old revision's
   * tasks keep running, as during a rolling update. `completeDeployment` finishes it.
   * Returns the new service revision's ARN.
   */
  updateService(cluster: string, name: string, options: UpdateServiceOptions = {}): string {
    const clusterRecord = this.requireCluster(cluster);
    const service = this.requireService(clusterRecord, name);
    if (options.desiredCount !== undefined) service.desiredCount = options.desiredCount;
    if (!options.taskDefinitionArn && !options.forceNewDeployment) {
      throw new Error('sim ecs: updateService without taskDefinitionArn or forceNewDeployment starts no deployment');
    }
    const taskDefinition = this.requireTaskDefinition(options.taskDefinitionArn ?? service.taskDefinitionArn);
    service.taskDefinitionArn = taskDefinition.arn;
    return this.deploy(clusterRecord, service, taskDefinition, { completed: false }).arn;
  }

  /** Finishes the in-progress deployment: old revisions' tasks stop, only the target revision stays current. */
  completeDeployment(cluster: string, name: string): void {
    const clusterRecord = this.requireCluster(cluster);
    const service = this.requireService(clusterRecord, name);
    const deployment = this.latestDeployment(service);
    if (deployment?.status !== 'IN_PROGRESS') return;
    deployment.status = 'SUCCESSFUL';
    deployment.finishedAt = this.now();
    for (const task of service.tasks) {
      if (task.desiredStatus === 'RUNNING' && task.revisionArn !== deployment.targetRevisionArn) {
        this.markStopped(
          task,
          'ECS Deployment Controller: replaced by a newer deployment',
          'ServiceSchedulerInitiated',
        );
      }
    }
    service.currentRevisionArns = [deployment.targetRevisionArn];
    this.emitDeploymentEvent(deployment, 'SERVICE_DEPLOYMENT_COMPLETED');
  }

  stopTask(taskArn: string, reason = 'Task stopped by user'): void {
    const task = this.findTask(taskArn);
    if (!task) throw new Error(`sim ecs: no task ${taskArn}`);
    if (task.desiredStatus !== 'STOPPED') this.markStopped(task, reason, 'UserInitiated');
  }

  /** Stops every task of a service: the state in which the pinned digest is only visible in the revision. */
  stopAllTasks(cluster: string, service: string): void {
    const record = this.requireService(this.requireCluster(cluster), service);
    for (const task of record.tasks)
      if (task.desiredStatus !== 'STOPPED') this.markStopped(task, 'Task stopped by user', 'UserInitiated');
  }

  /**
   * What the service scheduler does after a task stops (health check, scale-out, host retirement): launch
   * one task of the deployment's target revision from its pinned digests.
   */
  launchReplacementTask(cluster: string, service: string): LaunchOutcome {
    const clusterRecord = this.requireCluster(cluster);
    const record = this.requireService(clusterRecord, service);
    const revisionArn = record.currentRevisionArns[record.currentRevisionArns.length - 1]!;
    return this.launchTask(clusterRecord, this.revisions.get(revisionArn)!, record);
  }

  /** A standalone task (RunTask), not part of any service: its tags are resolved when it starts. */
  runTask(cluster: string, taskDefinitionArn: string, startedBy?: string): LaunchOutcome {
    const clusterRecord = this.requireCluster(cluster);
    const taskDefinition = this.requireTaskDefinition(taskDefinitionArn);
    const images = taskDefinition.containers.map((container) => ({
      containerName: container.name,
      image: container.image,
      imageDigest: this.resolveDigest(container.image),
    }));
    return this.startTask(clusterRecord, taskDefinition, images, {
      group: `family:${taskDefinition.family}`,
      ...(startedBy ? { startedBy } : {}),
    });
  }

  /**
   * Marks every revision (and deployment) of a service as created before 2024-10-25, so that
   * DescribeServiceRevisions and DescribeServiceDeployments answer it as a failure with reason `MISSING`.
   */
  markServiceAsPreRevisions(cluster: string, service: string): void {
    const record = this.requireService(this.requireCluster(cluster), service);
    const before = new Date('2024-09-10T16:49:26.390Z');
    for (const revision of this.revisions.values()) {
      if (revision.serviceArn === record.arn) {
        revision.createdAt = before;
        revision.describable = false;
      }
    }
  }

  /**
   * Creates an ECS Managed Daemon whose first revision pins the digests its images name now (completed at once).
   * Daemon tasks are not modelled as tasks: the guard reads daemons through their revisions.
   * Returns the daemon ARN.
   */
  createDaemon(cluster: string, name: string, containers: readonly ContainerSpec[]): string {
    const clusterRecord = this.requireCluster(cluster);
    let byName = this.daemons.get(clusterRecord.name);
    if (!byName) this.daemons.set(clusterRecord.name, (byName = new Map()));
    if (byName.has(name)) throw new Error(`sim ecs: daemon ${name} already exists in ${cluster}`);
    const now = this.now();
    const daemon: DaemonRecord = {
      name,
      arn: this.arn(`daemon/${clusterRecord.name}/${name}`),
      clusterArn: clusterRecord.arn,
      createdAt: now,
      updatedAt: now,
      status: 'ACTIVE',
      currentRevisionArns: [],
      deploymentArn: '',
    };
    byName.set(name, daemon);
    this.deployDaemon(clusterRecord, daemon, containers, { completed: true });
    return daemon.arn;
  }

  /**
   * Starts a daemon deployment to `containers` (tags resolved now); the old revision stays current until
   * `completeDaemonDeployment`. Returns the new daemon revision's ARN.
   */
  updateDaemon(cluster: string, name: string, containers: readonly ContainerSpec[]): string {
    const clusterRecord = this.requireCluster(cluster);
    return this.deployDaemon(clusterRecord, this.requireDaemon(clusterRecord, name), containers, { completed: false })
      .arn;
  }

  /** Finishes a daemon deployment: only the target revision stays current. */
  completeDaemonDeployment(cluster: string, name: string): void {
    const daemon = this.requireDaemon(this.requireCluster(cluster), name);
    daemon.currentRevisionArns = daemon.currentRevisionArns.slice(-1);
  }

  /** The revision a daemon's new tasks start from (its deployment target). */
  currentDaemonRevisionArn(cluster: string, name: string): string {
    const daemon = this.requireDaemon(this.requireCluster(cluster), name);
    return daemon.currentRevisionArns[daemon.currentRevisionArns.length - 1]!;
  }

  /**
   * What ECS does when a container instance registers (or replaces a drained one): start the daemon's task from
   * its target revision's pinned digests. Returns the pull failure, if any, as a stopped task would report it.
   */
  launchDaemonTask(cluster: string, name: string): { readonly ok: true } | { readonly ok: false; reason: string } {
    const revision = this.daemonRevisions.get(this.currentDaemonRevisionArn(cluster, name))!;
    for (const image of revision.containerImages) {
      const failure = this.pullFailure(image.image, image.imageDigest);
      if (failure) return { ok: false, reason: failure };
    }
    return { ok: true };
  }

  /** The ARNs of a service's tasks, running ones first, for assertions in tests. */
  taskArnsOf(cluster: string, service: string, status: 'RUNNING' | 'STOPPED' = 'RUNNING'): string[] {
    const record = this.requireService(this.requireCluster(cluster), service);
    return record.tasks.filter((t) => t.desiredStatus === status).map((t) => t.arn);
  }

  // ───────────────────────────── API operations ─────────────────────────────

  handle(operation: string, input: any): unknown {
    switch (operation) {
      case 'ListClusters':
        return this.listClusters(input);
      case 'ListServices':
        return this.listServices(input);
      case 'DescribeServices':
        return this.describeServices(input);
      case 'ListTasks':
        return this.listTasks(input);
      case 'DescribeTasks':
        return this.describeTasks(input);
      case 'DescribeServiceRevisions':
        return this.describeServiceRevisions(input);
      case 'ListServiceDeployments':
        return this.listServiceDeployments(input);
      case 'DescribeServiceDeployments':
        return this.describeServiceDeployments(input);
      case 'DescribeTaskDefinition':
        return this.describeTaskDefinition(input);
      case 'ListDaemons':
        return this.listDaemons(input);
      case 'DescribeDaemon':
        return this.describeDaemon(input);
      case 'DescribeDaemonRevisions':
        return this.describeDaemonRevisions(input);
      default:
        throw new SimAwsError('UnknownOperationException', `simulated ECS does not implement ${operation}`);
    }
  }

  // Limits: ListDaemons maxResults 1–100, default 100 (ListDaemonsRequest.maxResults). Without clusterArn the
  // pinned model (@aws-sdk/client-ecs 3.1164.0) says "the default cluster is assumed" while the current API
  // reference says "daemons from all clusters are returned"; the sim follows the pinned model, and the guard
  // always names the cluster, which is right under both readings.
  // See: https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ListDaemons.html
  private listDaemons(input: { clusterArn?: string; nextToken?: string; maxResults?: number }): unknown {
    const cluster = this.clusterFor(input.clusterArn);
    const daemons = [...(this.daemons.get(cluster.name)?.values() ?? [])];
    const page = paginate(
      `ListDaemons/${cluster.name}`,
      daemons,
      input.nextToken,
      pageSize(input.maxResults, 100, 100),
    );
    return {
      daemonSummariesList: page.items.map((d) => ({
        daemonArn: d.arn,
        status: d.status,
        createdAt: d.createdAt,
        updatedAt: d.updatedAt,
      })),
      ...(page.next ? { nextToken: page.next } : {}),
    };
  }

  // One daemon a call (DescribeDaemonRequest.daemonArn); DaemonNotFoundException when it does not exist
  // ("Amazon ECS daemons are cluster specific and Region specific", errors.d.ts DaemonNotFoundException).
  private describeDaemon(input: { daemonArn?: string }): unknown {
    const daemon = this.daemonByArn(input.daemonArn ?? '');
    if (!daemon) throw new SimAwsError('DaemonNotFoundException', 'The specified daemon was not found.');
    return {
      daemon: {
        daemonArn: daemon.arn,
        clusterArn: daemon.clusterArn,
        status: daemon.status,
        currentRevisions: daemon.currentRevisionArns.map((arn) => ({ arn, totalRunningCount: 1 })),
        deploymentArn: daemon.deploymentArn,
        createdAt: daemon.createdAt,
        updatedAt: daemon.updatedAt,
      },
    };
  }

  // Limits: "You can specify up to 20 ARNs." (DescribeDaemonRevisionsRequest.daemonRevisionArns); an unknown ARN
  // comes back as a failure, as DescribeServiceRevisions answers the sim's undescribable revisions (inference).
  private describeDaemonRevisions(input: { daemonRevisionArns?: string[] }): unknown {
    const arns = requireList('daemonRevisionArns', input.daemonRevisionArns, 20);
    const daemonRevisions: unknown[] = [];
    const failures: unknown[] = [];
    for (const arn of arns) {
      const revision = this.daemonRevisions.get(arn);
      if (!revision) {
        failures.push({ arn, reason: 'MISSING' });
        continue;
      }
      daemonRevisions.push({
        daemonRevisionArn: revision.arn,
        clusterArn: revision.clusterArn,
        daemonArn: revision.daemonArn,
        daemonTaskDefinitionArn: revision.daemonTaskDefinitionArn,
        createdAt: revision.createdAt,
        containerImages: revision.containerImages.map((image) => ({ ...image })),
      });
    }
    return { daemonRevisions, failures };
  }

  // Limits: ListClusters maxResults 1–100, default 100 (ListClustersRequest.maxResults).
  private listClusters(input: { nextToken?: string; maxResults?: number }): unknown {
    const arns = [...this.clusters.values()].map((c) => c.arn);
    const page = paginate('ListClusters', arns, input.nextToken, pageSize(input.maxResults, 100, 100));
    return { clusterArns: page.items, ...(page.next ? { nextToken: page.next } : {}) };
  }

  // Limits: ListServices maxResults 1–100, default 10 (ListServicesRequest.maxResults).
  private listServices(input: { cluster?: string; nextToken?: string; maxResults?: number }): unknown {
    const cluster = this.clusterFor(input.cluster);
    const arns = [...cluster.services.values()].map((s) => s.arn);
    const page = paginate(`ListServices/${cluster.name}`, arns, input.nextToken, pageSize(input.maxResults, 10, 100));
    return { serviceArns: page.items, ...(page.next ? { nextToken: page.next } : {}) };
  }

  // Limits: "You may specify up to 10 services to describe in a single operation." (DescribeServicesRequest.services)
  private describeServices(input: { cluster?: string; services?: string[] }): unknown {
    const cluster = this.clusterFor(input.cluster);
    const names = requireList('services', input.services, 10);
    const services: unknown[] = [];
    const failures: unknown[] = [];
    for (const identifier of names) {
      const name = lastSegment(identifier);
      const service = cluster.services.get(name);
      if (!service) {
        failures.push({
          arn: identifier.startsWith('arn:') ? identifier : this.arn(`service/${cluster.name}/${name}`),
          reason: 'MISSING',
        });
        continue;
      }
      services.push(this.serviceShape(service));
    }
    return { services, failures };
  }

  // Limits: ListTasks maxResults 1–100, default 100; desiredStatus defaults to RUNNING and `PENDING` returns
  // nothing ("Amazon ECS never sets the desired status of a task to that value") (ListTasksRequest).
  private listTasks(input: {
    cluster?: string;
    serviceName?: string;
    family?: string;
    startedBy?: string;
    desiredStatus?: string;
    nextToken?: string;
    maxResults?: number;
  }): unknown {
    const cluster = this.clusterFor(input.cluster);
    const size = pageSize(input.maxResults, 100, 100);
    if (input.serviceName && input.family) {
      throw new SimAwsError('InvalidParameterException', 'family and serviceName cannot both be specified.');
    }
    const desiredStatus = input.desiredStatus ?? 'RUNNING';
    let tasks: Iterable<TaskRecord> = cluster.tasks.values();
    if (input.serviceName) {
      const service = cluster.services.get(lastSegment(input.serviceName));
      if (!service) throw new SimAwsError('ServiceNotFoundException', 'Service not found.');
      tasks = service.tasks;
    }
    const arns: string[] = [];
    for (const task of tasks) {
      if (task.desiredStatus !== desiredStatus) continue;
      if (input.family && task.family !== input.family) continue;
      if (input.startedBy && task.startedBy !== input.startedBy) continue;
      arns.push(task.arn);
    }
    const key = `ListTasks/${cluster.name}/${input.serviceName ?? ''}/${input.family ?? ''}/${desiredStatus}`;
    const page = paginate(key, arns, input.nextToken, size);
    return { taskArns: page.items, ...(page.next ? { nextToken: page.next } : {}) };
  }

  // Limits: "A list of up to 100 task IDs or full ARN entries." (DescribeTasksRequest.tasks)
  private describeTasks(input: { cluster?: string; tasks?: string[] }): unknown {
    const cluster = this.clusterFor(input.cluster);
    const ids = requireList('tasks', input.tasks, 100);
    const tasks: unknown[] = [];
    const failures: unknown[] = [];
    for (const identifier of ids) {
      const task = cluster.tasks.get(
        identifier.startsWith('arn:') ? identifier : this.arn(`task/${cluster.name}/${identifier}`),
      );
      if (task) tasks.push(this.taskShape(task));
      else failures.push({ arn: identifier, reason: 'MISSING' });
    }
    return { tasks, failures };
  }

  // Limits: "You can specify a maximum of 20 ARNs." (DescribeServiceRevisionsRequest.serviceRevisionArns)
  // Revisions created before 2024-10-25 cannot be described (operation documentation). The model does not
  // say how; DescribeServiceDeployments documents a failure with the ARN and reason `MISSING`
  // (DescribeServiceDeploymentsResponse.failures), and the sim answers the same way here (inference).
  private describeServiceRevisions(input: { serviceRevisionArns?: string[] }): unknown {
    const arns = requireList('serviceRevisionArns', input.serviceRevisionArns, 20);
    const serviceRevisions: unknown[] = [];
    const failures: unknown[] = [];
    for (const arn of arns) {
      const revision = this.revisions.get(arn);
      if (!revision?.describable) {
        failures.push({ arn, reason: 'MISSING' });
        continue;
      }
      serviceRevisions.push({
        serviceRevisionArn: revision.arn,
        serviceArn: revision.serviceArn,
        clusterArn: revision.clusterArn,
        taskDefinition: revision.taskDefinition,
        launchType: 'FARGATE',
        platformVersion: '1.4.0',
        platformFamily: 'Linux',
        containerImages: revision.containerImages.map((image) => ({ ...image })),
        guardDutyEnabled: false,
        createdAt: revision.createdAt,
      });
    }
    return { serviceRevisions, failures };
  }

  // Limits: ListServiceDeployments maxResults 1–100, default 20 (ListServiceDeploymentsRequest.maxResults).
  // Newest first: the sim's choice, no document states the order.
  private listServiceDeployments(input: {
    service?: string;
    cluster?: string;
    status?: string[];
    nextToken?: string;
    maxResults?: number;
  }): unknown {
    const cluster = this.clusterFor(input.cluster);
    if (!input.service) throw new SimAwsError('InvalidParameterException', 'service must be specified.');
    const service = cluster.services.get(lastSegment(input.service));
    if (!service) throw new SimAwsError('ServiceNotFoundException', 'Service not found.');
    const size = pageSize(input.maxResults, 20, 100);
    const wanted = input.status && input.status.length > 0 ? new Set(input.status) : undefined;
    const briefs = [...service.deploymentArns]
      .reverse()
      .map((arn) => this.deployments.get(arn)!)
      .filter((d) => !wanted || wanted.has(d.status));
    const key = `ListServiceDeployments/${service.arn}/${[...(wanted ?? [])].sort().join(',')}`;
    const page = paginate(key, briefs, input.nextToken, size);
    return {
      serviceDeployments: page.items.map((d) => ({
        serviceDeploymentArn: d.arn,
        serviceArn: d.serviceArn,
        clusterArn: d.clusterArn,
        startedAt: d.startedAt,
        createdAt: d.createdAt,
        ...(d.finishedAt ? { finishedAt: d.finishedAt } : {}),
        targetServiceRevisionArn: d.targetRevisionArn,
        status: d.status,
      })),
      ...(page.next ? { nextToken: page.next } : {}),
    };
  }

  // Limits: "You can specify a maximum of 20 ARNs." (DescribeServiceDeploymentsRequest.serviceDeploymentArns)
  // "If you describe a deployment with a service revision created before October 25, 2024, the call fails.
  // The failure includes the service revision ARN and the reason set to MISSING." (…Response.failures)
  private describeServiceDeployments(input: { serviceDeploymentArns?: string[] }): unknown {
    const arns = requireList('serviceDeploymentArns', input.serviceDeploymentArns, 20);
    const serviceDeployments: unknown[] = [];
    const failures: unknown[] = [];
    for (const arn of arns) {
      const deployment = this.deployments.get(arn);
      if (!deployment) {
        failures.push({ arn, reason: 'MISSING' });
        continue;
      }
      const legacy = [...deployment.sourceRevisionArns, deployment.targetRevisionArn].find(
        (r) => !this.revisions.get(r)?.describable,
      );
      if (legacy) {
        failures.push({ arn: legacy, reason: 'MISSING' });
        continue;
      }
      serviceDeployments.push({
        serviceDeploymentArn: deployment.arn,
        serviceArn: deployment.serviceArn,
        clusterArn: deployment.clusterArn,
        createdAt: deployment.createdAt,
        startedAt: deployment.startedAt,
        ...(deployment.finishedAt ? { finishedAt: deployment.finishedAt } : {}),
        updatedAt: deployment.finishedAt ?? deployment.startedAt,
        sourceServiceRevisions: deployment.sourceRevisionArns.map((r) => this.revisionSummary(r)),
        targetServiceRevision: this.revisionSummary(deployment.targetRevisionArn),
        status: deployment.status,
      });
    }
    return { serviceDeployments, failures };
  }

  private describeTaskDefinition(input: { taskDefinition?: string }): unknown {
    const taskDefinition = this.lookupTaskDefinition(input.taskDefinition ?? '');
    // ECS answers an unknown task definition with ClientException "Unable to describe task definition."
    if (!taskDefinition) throw new SimAwsError('ClientException', 'Unable to describe task definition.');
    return {
      taskDefinition: {
        taskDefinitionArn: taskDefinition.arn,
        family: taskDefinition.family,
        revision: taskDefinition.revision,
        status: 'ACTIVE',
        containerDefinitions: taskDefinition.containers.map((c) => ({
          name: c.name,
          image: c.image,
          essential: true,
          ...(c.versionConsistency ? { versionConsistency: c.versionConsistency } : {}),
        })),
        requiresCompatibilities: ['FARGATE'],
        networkMode: 'awsvpc',
        cpu: '256',
        memory: '512',
        registeredAt: taskDefinition.registeredAt,
      },
      tags: [],
    };
  }

  // ───────────────────────────── shapes ─────────────────────────────

  private serviceShape(service: ServiceRecord): unknown {
    const running = service.tasks.filter((t) => t.desiredStatus === 'RUNNING' && t.lastStatus === 'RUNNING').length;
    const pending = service.tasks.filter((t) => t.desiredStatus === 'RUNNING' && t.lastStatus === 'PENDING').length;
    const latest = this.latestDeployment(service);
    // DescribeServices → deployments[] (Deployment shape): PRIMARY is the newest, ACTIVE the ones it replaces.
    const activeRevisions = new Set(service.currentRevisionArns);
    const legacyDeployments = [...service.deploymentArns]
      .reverse()
      .map((arn) => this.deployments.get(arn)!)
      .filter((d) => activeRevisions.has(d.targetRevisionArn));
    return {
      serviceArn: service.arn,
      serviceName: service.name,
      clusterArn: service.clusterArn,
      status: 'ACTIVE',
      desiredCount: service.desiredCount,
      runningCount: running,
      pendingCount: pending,
      launchType: 'FARGATE',
      platformVersion: '1.4.0',
      platformFamily: 'Linux',
      taskDefinition: service.taskDefinitionArn,
      deployments: legacyDeployments.map((d, index) => {
        const revision = this.revisions.get(d.targetRevisionArn)!;
        const counts = this.countsOf(service, revision.arn);
        return {
          id: d.legacyId,
          status: index === 0 ? 'PRIMARY' : 'ACTIVE',
          taskDefinition: revision.taskDefinition,
          desiredCount: index === 0 ? service.desiredCount : counts.running + counts.pending,
          pendingCount: counts.pending,
          runningCount: counts.running,
          failedTasks: counts.failed,
          createdAt: d.createdAt,
          updatedAt: d.finishedAt ?? d.startedAt,
          launchType: 'FARGATE',
          rolloutState: d.status === 'IN_PROGRESS' ? 'IN_PROGRESS' : 'COMPLETED',
        };
      }),
      createdAt: service.createdAt,
      ...(latest ? { currentServiceDeployment: latest.arn } : {}),
      currentServiceRevisions: service.currentRevisionArns.map((arn) => this.revisionSummary(arn)),
      schedulingStrategy: 'REPLICA',
      deploymentController: { type: 'ECS' },
    };
  }

  /** `ServiceCurrentRevisionSummary` / `ServiceRevisionSummary`: arn and task counts. */
  private revisionSummary(revisionArn: string): unknown {
    const revision = this.revisions.get(revisionArn)!;
    const service = this.serviceByArn(revision.serviceArn);
    const counts = service ? this.countsOf(service, revisionArn) : { running: 0, pending: 0, failed: 0 };
    return {
      arn: revisionArn,
      requestedTaskCount:
        service && service.currentRevisionArns[service.currentRevisionArns.length - 1] === revisionArn
          ? service.desiredCount
          : counts.running + counts.pending,
      runningTaskCount: counts.running,
      pendingTaskCount: counts.pending,
    };
  }

  private taskShape(task: TaskRecord): unknown {
    return {
      taskArn: task.arn,
      clusterArn: task.clusterArn,
      taskDefinitionArn: task.taskDefinitionArn,
      group: task.group,
      ...(task.startedBy ? { startedBy: task.startedBy } : {}),
      lastStatus: task.lastStatus,
      desiredStatus: task.desiredStatus,
      launchType: 'FARGATE',
      platformVersion: '1.4.0',
      platformFamily: 'Linux',
      cpu: '256',
      memory: '512',
      createdAt: task.createdAt,
      ...(task.startedAt ? { startedAt: task.startedAt } : {}),
      ...(task.stoppedAt ? { stoppedAt: task.stoppedAt, stoppingAt: task.stoppedAt } : {}),
      ...(task.stoppedReason ? { stoppedReason: task.stoppedReason } : {}),
      ...(task.stopCode ? { stopCode: task.stopCode } : {}),
      containers: task.containers.map((c, index) => ({
        containerArn: this.arn(`container/${lastSegment(task.clusterArn)}/${lastSegment(task.arn)}/${index}`),
        taskArn: task.arn,
        name: c.name,
        image: c.image,
        ...(c.imageDigest ? { imageDigest: c.imageDigest } : {}),
        lastStatus: task.lastStatus,
        ...(task.lastStatus === 'STOPPED' && task.stopCode === 'TaskFailedToStart'
          ? { reason: task.stoppedReason }
          : {}),
      })),
      version: task.lastStatus === 'STOPPED' ? 3 : 2,
    };
  }

  // ───────────────────────────── internals ─────────────────────────────

  private deploy(
    cluster: ClusterRecord,
    service: ServiceRecord,
    taskDefinition: TaskDefinitionRecord,
    options: { completed: boolean },
  ): RevisionRecord {
    const now = this.now();
    // Version consistency: each container's tag is resolved to the digest it names now.
    const containerImages: RevisionImage[] = taskDefinition.containers.map((container) => {
      if (container.versionConsistency === 'disabled') return { containerName: container.name, image: container.image };
      const digest = this.resolveDigest(container.image);
      if (!digest)
        throw new Error(
          `sim ecs: cannot resolve ${container.image} to a digest: nothing in the simulated ECR matches it`,
        );
      return { containerName: container.name, image: container.image, imageDigest: digest };
    });
    const revision: RevisionRecord = {
      arn: this.arn(`service-revision/${cluster.name}/${service.name}/${this.numericId()}`),
      serviceArn: service.arn,
      clusterArn: cluster.arn,
      taskDefinition: taskDefinition.arn,
      containerImages,
      createdAt: now,
      describable: true,
    };
    this.revisions.set(revision.arn, revision);
    const sources = [...service.currentRevisionArns];
    const deployment: DeploymentRecord = {
      arn: this.arn(`service-deployment/${cluster.name}/${service.name}/${this.deploymentId()}`),
      legacyId: `ecs-svc/${this.numericId()}`,
      serviceArn: service.arn,
      clusterArn: cluster.arn,
      createdAt: now,
      startedAt: now,
      sourceRevisionArns: sources,
      targetRevisionArn: revision.arn,
      status: 'IN_PROGRESS',
    };
    this.deployments.set(deployment.arn, deployment);
    service.deploymentArns.push(deployment.arn);
    // A newer deployment supersedes one still in progress.
    for (const arn of service.deploymentArns) {
      const older = this.deployments.get(arn)!;
      if (older !== deployment && older.status === 'IN_PROGRESS') {
        older.status = 'STOPPED';
        older.finishedAt = now;
      }
    }
    service.currentRevisionArns = [...sources, revision.arn];
    this.emitDeploymentEvent(deployment, 'SERVICE_DEPLOYMENT_IN_PROGRESS');
    for (let i = 0; i < service.desiredCount; i += 1) this.launchTask(cluster, revision, service);
    if (options.completed) {
      deployment.status = 'SUCCESSFUL';
      deployment.finishedAt = now;
      service.currentRevisionArns = [revision.arn];
      this.emitDeploymentEvent(deployment, 'SERVICE_DEPLOYMENT_COMPLETED');
    }
    return revision;
  }

  private deployDaemon(
    cluster: ClusterRecord,
    daemon: DaemonRecord,
    containers: readonly ContainerSpec[],
    options: { completed: boolean },
  ): DaemonRevisionRecord {
    if (containers.length === 0) throw new Error(`sim ecs: daemon ${daemon.name} needs at least one container`);
    const now = this.now();
    const family = `${daemon.name}-td`;
    const revisionNumber = (this.familyRevisions.get(`daemon:${family}`) ?? 0) + 1;
    this.familyRevisions.set(`daemon:${family}`, revisionNumber);
    const revision: DaemonRevisionRecord = {
      arn: this.arn(`daemon-revision/${cluster.name}/${daemon.name}/${randomUUID()}`),
      daemonArn: daemon.arn,
      clusterArn: cluster.arn,
      daemonTaskDefinitionArn: this.arn(`daemon-task-definition/${family}:${revisionNumber}`),
      containerImages: containers.map((container) => {
        const digest = this.resolveDigest(container.image);
        if (!digest) throw new Error(`sim ecs: cannot resolve ${container.image} to a digest`);
        return { containerName: container.name, image: container.image, imageDigest: digest };
      }),
      createdAt: now,
    };
    this.daemonRevisions.set(revision.arn, revision);
    daemon.currentRevisionArns = options.completed ? [revision.arn] : [...daemon.currentRevisionArns, revision.arn];
    daemon.deploymentArn = this.arn(`daemon-deployment/${cluster.name}/${daemon.name}/${this.deploymentId()}`);
    daemon.updatedAt = now;
    return revision;
  }

  private daemonByArn(daemonArn: string): DaemonRecord | undefined {
    const [clusterName, daemonName] = daemonArn.split(':').slice(5).join(':').split('/').slice(1);
    return this.daemons.get(clusterName ?? '')?.get(daemonName ?? '');
  }

  private requireDaemon(cluster: ClusterRecord, name: string): DaemonRecord {
    const daemon = this.daemons.get(cluster.name)?.get(lastSegment(name));
    if (!daemon) throw new Error(`sim ecs: no daemon ${name} in ${cluster.name}`);
    return daemon;
  }

  private launchTask(cluster: ClusterRecord, revision: RevisionRecord, service: ServiceRecord): LaunchOutcome {
    const taskDefinition = this.requireTaskDefinition(revision.taskDefinition);
    const images = revision.containerImages.map((image) =>
      image.imageDigest ? image : { ...image, imageDigest: this.resolveDigest(image.image) },
    );
    return this.startTask(cluster, taskDefinition, images, {
      group: `service:${service.name}`,
      startedBy:
        service.deploymentArns.length > 0
          ? this.deployments.get(service.deploymentArns[service.deploymentArns.length - 1]!)!.legacyId
          : 'ecs-svc',
      service,
      revisionArn: revision.arn,
    });
  }

  private startTask(
    cluster: ClusterRecord,
    taskDefinition: TaskDefinitionRecord,
    images: readonly { containerName: string; image: string; imageDigest?: string | undefined }[],
    placement: { group: string; startedBy?: string; service?: ServiceRecord; revisionArn?: string },
  ): LaunchOutcome {
    const now = this.now();
    const arn = this.arn(`task/${cluster.name}/${randomBytes(16).toString('hex')}`);
    let failure: string | undefined;
    for (const image of images) {
      failure = this.pullFailure(image.image, image.imageDigest);
      if (failure) break;
    }
    const task: TaskRecord = {
      arn,
      clusterArn: cluster.arn,
      taskDefinitionArn: taskDefinition.arn,
      family: taskDefinition.family,
      group: placement.group,
      ...(placement.startedBy ? { startedBy: placement.startedBy } : {}),
      ...(placement.service ? { serviceName: placement.service.name } : {}),
      ...(placement.revisionArn ? { revisionArn: placement.revisionArn } : {}),
      containers: images.map((i) => ({
        name: i.containerName,
        image: i.image,
        ...(i.imageDigest ? { imageDigest: i.imageDigest } : {}),
      })),
      createdAt: now,
      lastStatus: failure ? 'STOPPED' : 'RUNNING',
      desiredStatus: failure ? 'STOPPED' : 'RUNNING',
      ...(failure ? { stoppedAt: now, stoppedReason: failure, stopCode: 'TaskFailedToStart' } : { startedAt: now }),
      version: 0,
    };
    this.emitTaskEvent(task);
    cluster.tasks.set(arn, task);
    placement.service?.tasks.push(task);
    return failure ? { ok: false, taskArn: arn, stoppedReason: failure } : { ok: true, taskArn: arn };
  }

  /**
   * The stopped reason ECS reports when the pinned digest cannot be pulled, as quoted in the incident
   * (`CannotPullContainerError: pull image manifest has been retried 1 time(s): failed to resolve ref …: not found`).
   * See: https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_cannot_pull_image.html
   */
  private pullFailure(image: string, digest: string | undefined): string | undefined {
    const ref = parseImageUri(image);
    const registry = ref ? this.registryOf(ref.registryId, ref.region) : undefined;
    if (!ref || !registry) return undefined; // registries the simulation does not hold: out of scope
    const host = image.slice(0, image.indexOf('/'));
    if (!digest) {
      return `CannotPullContainerError: pull image manifest has been retried 1 time(s): failed to resolve ref ${host}/${ref.repository}:${ref.tag ?? 'latest'}: not found`;
    }
    if (registry.canPull(ref.repository, digest)) return undefined;
    return `CannotPullContainerError: pull image manifest has been retried 1 time(s): failed to resolve ref ${host}/${ref.repository}@${digest}: not found`;
  }

  /** The digest an image reference names now (a pinned `@sha256:` wins over the tag, as ECS does). */
  private resolveDigest(image: string): string | undefined {
    const ref = parseImageUri(image);
    if (!ref) return undefined;
    if (ref.digest) return ref.digest;
    return this.registryOf(ref.registryId, ref.region)?.resolve(ref.repository, { tag: ref.tag ?? 'latest' });
  }

  private registryOf(registryId: string, region: string): EcrLookup | undefined {
    if (this.isOurRegistry(registryId, region)) return this.ecr;
    return this.otherRegistries?.(registryId, region);
  }

  private isOurRegistry(registryId: string, region: string): boolean {
    const own = parseImageUri(`${this.ecr.registryHost}/x`);
    return own !== undefined && own.registryId === registryId && own.region === region;
  }

  private markStopped(task: TaskRecord, reason: string, stopCode: string): void {
    task.desiredStatus = 'STOPPED';
    task.lastStatus = 'STOPPED';
    task.stoppedAt = this.now();
    task.stoppedReason = reason;
    task.stopCode = stopCode;
    this.emitTaskEvent(task);
  }

  /**
   * One task state change as EventBridge carries it: the shape of the documented example (only the fields the
   * guard reads and a few more), `detail.version` one higher than the task's last event, `imageDigest` for
   * ECR images only. A task that failed to pull reports no digest.
   * See: https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs_task_events.html
   */
  private emitTaskEvent(task: TaskRecord): void {
    task.version += 1;
    const now = this.now();
    this.taskEvents.push({
      ...eventEnvelope(
        'aws.ecs',
        'ECS Task State Change',
        { account: this.accountId, region: this.region, time: eventTime(now) },
        [task.arn],
      ),
      detail: {
        clusterArn: task.clusterArn,
        containers: task.containers.map((c) => ({
          name: c.name,
          image: c.image,
          ...(c.imageDigest && task.stopCode !== 'TaskFailedToStart' && parseImageUri(c.image) !== undefined
            ? { imageDigest: c.imageDigest }
            : {}),
          lastStatus: task.lastStatus,
          taskArn: task.arn,
        })),
        createdAt: task.createdAt.toISOString(),
        desiredStatus: task.desiredStatus,
        group: task.group,
        lastStatus: task.lastStatus,
        taskArn: task.arn,
        taskDefinitionArn: task.taskDefinitionArn,
        updatedAt: now.toISOString(),
        version: task.version,
        ...(task.stoppedReason ? { stoppedReason: task.stoppedReason } : {}),
      },
    });
  }

  private emitDeploymentEvent(
    deployment: DeploymentRecord,
    eventName: 'SERVICE_DEPLOYMENT_IN_PROGRESS' | 'SERVICE_DEPLOYMENT_COMPLETED',
  ): void {
    this.deploymentEvents.push(
      toDeploymentStateChangeEvent({
        account: this.accountId,
        region: this.region,
        serviceArn: deployment.serviceArn,
        eventName,
        deploymentId: deployment.legacyId,
        time: this.now(),
      }),
    );
  }

  private countsOf(service: ServiceRecord, revisionArn: string): { running: number; pending: number; failed: number } {
    let running = 0;
    let pending = 0;
    let failed = 0;
    for (const task of service.tasks) {
      if (task.revisionArn !== revisionArn) continue;
      if (task.desiredStatus === 'RUNNING' && task.lastStatus === 'RUNNING') running += 1;
      else if (task.desiredStatus === 'RUNNING' && task.lastStatus === 'PENDING') pending += 1;
      else if (task.stopCode === 'TaskFailedToStart') failed += 1;
    }
    return { running, pending, failed };
  }

  private latestDeployment(service: ServiceRecord): DeploymentRecord | undefined {
    const arn = service.deploymentArns[service.deploymentArns.length - 1];
    return arn ? this.deployments.get(arn) : undefined;
  }

  private serviceByArn(serviceArn: string): ServiceRecord | undefined {
    const [clusterName, serviceName] = serviceArn.split(':').slice(5).join(':').split('/').slice(1);
    return this.clusters.get(clusterName ?? '')?.services.get(serviceName ?? '');
  }

  private findTask(taskArn: string): TaskRecord | undefined {
    for (const cluster of this.clusters.values()) {
      const task = cluster.tasks.get(taskArn);
      if (task) return task;
    }
    return undefined;
  }

  /** API side: a cluster by name or ARN, `default` when omitted. */
  private clusterFor(identifier: string | undefined): ClusterRecord {
    const cluster = this.clusters.get(lastSegment(identifier ?? 'default'));
    if (!cluster) throw new SimAwsError('ClusterNotFoundException', 'Cluster not found.');
    return cluster;
  }

  private requireCluster(identifier: string): ClusterRecord {
    const cluster = this.clusters.get(lastSegment(identifier));
    if (!cluster) throw new Error(`sim ecs: no cluster ${identifier}`);
    return cluster;
  }

  private requireService(cluster: ClusterRecord, name: string): ServiceRecord {
    const service = cluster.services.get(lastSegment(name));
    if (!service) throw new Error(`sim ecs: no service ${name} in ${cluster.name}`);
    return service;
  }

  private requireTaskDefinition(identifier: string): TaskDefinitionRecord {
    const taskDefinition = this.lookupTaskDefinition(identifier);
    if (!taskDefinition) throw new Error(`sim ecs: no task definition ${identifier}`);
    return taskDefinition;
  }

  /** A task definition by ARN, `family:revision` or `family` (the latest revision). */
  private lookupTaskDefinition(identifier: string): TaskDefinitionRecord | undefined {
    if (identifier.startsWith('arn:')) return this.taskDefinitions.get(identifier);
    const [family, revision] = identifier.split(':');
    const number = revision ? Number(revision) : this.familyRevisions.get(family ?? '');
    return number ? this.taskDefinitions.get(this.arn(`task-definition/${family}:${number}`)) : undefined;
  }

  private arn(resource: string): string {
    return `arn:aws:ecs:${this.region}:${this.accountId}:${resource}`;
  }

  /** Revision and legacy deployment ids are long decimal numbers in real ARNs. */
  private numericId(): string {
    this.sequence += 1;
    return `${4_000_000_000_000_000_000n + BigInt(this.sequence) * 7_919n}`;
  }

  /** Service deployment ids look like `NCWGC2ZR-taA4wHbjM2Ikx` in the API reference examples. */
  private deploymentId(): string {
    return randomBytes(15).toString('base64url').slice(0, 21);
  }
}

// ───────────────────────────── paging and limits ─────────────────────────────

/** `maxResults` within 1…max (else InvalidParameterException), `fallback` when absent. */
function pageSize(maxResults: number | undefined, fallback: number, max: number): number {
  if (maxResults === undefined || maxResults === null) return fallback;
  if (!Number.isInteger(maxResults) || maxResults < 1 || maxResults > max) {
    throw new SimAwsError('InvalidParameterException', `maxResults must be between 1 and ${max}.`);
  }
  return maxResults;
}

function requireList(field: string, values: string[] | undefined, max: number): string[] {
  if (!values || values.length === 0) throw new SimAwsError('InvalidParameterException', `${field} can not be empty.`);
  if (values.length > max)
    throw new SimAwsError('InvalidParameterException', `${field} can have at most ${max} items.`);
  return values;
}

/** ECS lists page with `nextToken`; a token from another listing is refused as ECS refuses it. */
function paginate<T>(key: string, items: readonly T[], nextToken: string | undefined, size: number) {
  return pageByOffset(key, items, nextToken, size, () => new SimAwsError('InvalidParameterException', 'Invalid token'));
}

/** The name at the end of an ARN (`…:cluster/name`, `…:service/cluster/name`) or the name itself. */
function lastSegment(identifier: string): string {
  if (!identifier.startsWith('arn:')) return identifier;
  const resource = identifier.split(':').slice(5).join(':');
  return resource.slice(resource.lastIndexOf('/') + 1);
}
