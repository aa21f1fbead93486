/**
 * ECS inventory adapter: one complete, fresh list of the image digests that ECS in this account and region
 * uses or would relaunch, with the fewest requests that can see them all, and never more than
 * `concurrency` requests in flight (ECS throttling is a token bucket shared with every other caller in the
 * account: https://docs.aws.amazon.com/AmazonECS/latest/APIReference/request-throttling.html).
 *
 * Requests, steady state (no deployment in progress, every service revision describable):
 *
 *   ⌈C/100⌉ ListClusters                                       (at least 1)
 *   + Σ over clusters c of
 *       max(1, ⌈s_c/100⌉) ListServices + max(1, ⌈t_c/100⌉) ListTasks      (pages of 100)
 *       + ⌈s_c/10⌉ DescribeServices + ⌈t_c/100⌉ DescribeTasks            (one cluster per call)
 *   + ⌈R/20⌉ DescribeServiceRevisions                           (no cluster parameter: batched across
 *                                                                 services AND clusters)
 *   + Σ over clusters c of max(1, ⌈d_c/100⌉) ListDaemons        (ECS Managed Daemons: one page even with none)
 *   + D DescribeDaemon + ⌈R_d/20⌉ DescribeDaemonRevisions        (one daemon a call; revisions across clusters)
 *
 * with C clusters, s_c services, t_c RUNNING-desired tasks and d_c daemons of cluster c, R distinct current
 * service revisions (= services in steady state), D daemons and R_d distinct current daemon revisions (= D
 * unless a daemon is deploying). An account with no daemon pays one ListDaemons per cluster: the call is per
 * cluster, because the pinned SDK model says a request without `clusterArn` reads "the default cluster" (the
 * current API reference says "all clusters"; asking per cluster is right under both). This is the lower bound of the design's performance reference;
 * `countInventoryLowerBound` in `bench/lower-bound.ts` computes it. Extra requests are only spent where there
 * is something to see:
 * ⌈D/20⌉ DescribeServiceDeployments + ⌈rollback revisions not already described/20⌉ DescribeServiceRevisions
 * for the D services with a deployment in progress, and one DescribeTaskDefinition per task definition ARN
 * (cached: immutable by ARN) of services whose revision cannot be described.
 */
import {
  ClusterNotFoundException,
  DaemonNotFoundException,
  DescribeDaemonCommand,
  DescribeDaemonRevisionsCommand,
  DescribeServiceDeploymentsCommand,
  DescribeServiceRevisionsCommand,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  ListClustersCommand,
  ListDaemonsCommand,
  ListServicesCommand,
  ListTasksCommand,
  ServiceNotFoundException,
  type ContainerDefinition,
  type DaemonDetail,
  type ECSClient,
  type Failure,
  type Service,
  type ServiceRevision,
  type Task,
} from '@aws-sdk/client-ecs';
import { parseImageUri } from '../core/image-uri';
import {
  clusterName,
  daemonRevisionDigests,
  failureGaps,
  revisionDigests,
  taskDefinitionDigests,
  taskDigests,
  tasksOfService,
  type EcsDigests,
} from '../core/ecs-digests';
import type { InventoryPort, ServiceInventoryPort } from '../core/ports';
import type { Consumer, Digest, Inventory, InventoryGap } from '../core/types';
import { defaultEcsClient } from './clients';
import { chunks, createLimiter, type Limiter } from '../core/concurrency';
import { InventoryCollector } from '../core/inventory';

// Batch limits, from the ECS API reference and botocore/data/ecs/2014-11-13/service-2.json.
/** ListClusters, ListServices and ListTasks return at most 100 ARNs a page (ListServices defaults to 10). */
export const ECS_LIST_PAGE_SIZE = 100;
/** DescribeServices: "You may specify up to 10 services to describe." */
export const DESCRIBE_SERVICES_BATCH = 10;
/** DescribeTasks: "A list of up to 100 task IDs or full ARN entries." */
export const DESCRIBE_TASKS_BATCH = 100;
/** DescribeServiceRevisions and DescribeServiceDeployments: "You can specify a maximum of 20 ARNs." */
export const DESCRIBE_REVISIONS_BATCH = 20;
export const DESCRIBE_DEPLOYMENTS_BATCH = 20;
/**
 * ListDaemons returns at most 100 a page; DescribeDaemonRevisions: "You can specify up to 20 ARNs."
 * (@aws-sdk/client-ecs 3.1164.0 dist-types/models/models_0.d.ts, ListDaemonsRequest and
 * DescribeDaemonRevisionsRequest, generated from botocore/data/ecs/2014-11-13/service-2.json). The pinned SDK
 * has no ListDaemons paginator, so pages are followed here.
 */
export const DESCRIBE_DAEMON_REVISIONS_BATCH = 20;

export const DEFAULT_INVENTORY_CONCURRENCY = 4;

/** Task definitions never change once registered (a new revision gets a new ARN): cache them for as long
 * as the execution environment lives. Holds the container images of each task definition ARN. */
const TASK_DEFINITION_IMAGES = new Map<string, Promise<readonly ContainerDefinition[]>>();

export interface EcsInventoryOptions {
  /** the account whose registry counts; images of other registries are out of scope */
  readonly accountId: string;
  readonly region: string;
  /** most ECS requests in flight at any moment, across the whole inventory
   * @default 4 */
  readonly concurrency?: number;
  /** container definitions by task definition ARN
   * @default - one cache per module, shared by warm invocations */
  readonly taskDefinitionCache?: Map<string, Promise<readonly ContainerDefinition[]>>;
}

interface ClusterScan {
  readonly clusterArn: string;
  readonly services: Service[];
  readonly tasks: Task[];
}

export class EcsInventoryAdapter implements InventoryPort, ServiceInventoryPort {
  private readonly accountId: string;
  private readonly region: string;
  private readonly concurrency: number;
  private readonly taskDefinitions: Map<string, Promise<readonly ContainerDefinition[]>>;

  constructor(
    options: EcsInventoryOptions,
    private readonly client: ECSClient = defaultEcsClient(),
  ) {
    const concurrency = options.concurrency ?? DEFAULT_INVENTORY_CONCURRENCY;
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      throw new RangeError(`EcsInventoryAdapter: concurrency must be a positive integer, got ${concurrency}`);
    }
    if (!/^\d{12}$/.test(options.accountId)) {
      throw new RangeError(`EcsInventoryAdapter: accountId must be 12 digits, got "${options.accountId}"`);
    }
    this.accountId = options.accountId;
    this.region = options.region;
    this.concurrency = concurrency;
    this.taskDefinitions = options.taskDefinitionCache ?? TASK_DEFINITION_IMAGES;
  }

  async takeInventory(): Promise<Inventory> {
    const takenAt = new Date();
    const run = new InventoryRun(this.client, createLimiter(this.concurrency), this.taskDefinitions, (image) =>
      this.repositoryOf(image),
    );
    await run.collect();
    return { takenAt, byRepository: run.byRepository(), gaps: run.gaps };
  }

  async takeServiceInventory(clusterArn: string, serviceArn: string): Promise<Inventory> {
    const takenAt = new Date();
    const run = new InventoryRun(this.client, createLimiter(this.concurrency), this.taskDefinitions, (image) =>
      this.repositoryOf(image),
    );
    await run.collectService(clusterArn, serviceArn);
    return { takenAt, byRepository: run.byRepository(), gaps: run.gaps };
  }

  /**
   * One daemon revision alone, for a daemon deployment event that names it: one DescribeDaemonRevisions.
   * See: https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DescribeDaemonRevisions.html
   */
  async takeDaemonRevisionInventory(daemonRevisionArn: string): Promise<Inventory> {
    const takenAt = new Date();
    const run = new InventoryRun(this.client, createLimiter(this.concurrency), this.taskDefinitions, (image) =>
      this.repositoryOf(image),
    );
    await run.describeDaemonRevisions([daemonRevisionArn]);
    return { takenAt, byRepository: run.byRepository(), gaps: run.gaps };
  }

  /** The repository of an image of this account and region; images of other registries are out of scope. */
  private repositoryOf(image: string): string | undefined {
    const ref = parseImageUri(image);
    return ref && ref.registryId === this.accountId && ref.region === this.region ? ref.repository : undefined;
  }
}

/** The state of one inventory: what was seen so far and what could not be seen. */
class InventoryRun {
  /** Only a gap whose image is known names its repository; any other could hide a digest of any repository. */
  readonly gaps: InventoryGap[] = [];
  private readonly collector = new InventoryCollector();

  constructor(
    private readonly client: ECSClient,
    private readonly limit: Limiter,
    private readonly taskDefinitions: Map<string, Promise<readonly ContainerDefinition[]>>,
    /** the repository of an image of this account and region, or undefined when out of scope */
    private readonly repositoryOf: (image: string) => string | undefined,
  ) {}

  async collect(): Promise<void> {
    const clusterArns = await this.listAll((nextToken) =>
      this.limit(() => this.client.send(new ListClustersCommand({ maxResults: ECS_LIST_PAGE_SIZE, nextToken }))).then(
        (page) => ({
          items: page.clusterArns,
          nextToken: page.nextToken,
        }),
      ),
    );
    const [scanned, daemons] = await Promise.all([
      Promise.all(clusterArns.map((arn) => this.scanCluster(arn))),
      Promise.all(clusterArns.map((arn) => this.daemonsOf(arn))),
    ]);
    const scans = scanned.filter((scan): scan is ClusterScan => scan !== undefined);

    for (const scan of scans) for (const task of scan.tasks) this.recordTask(scan.clusterArn, task);

    const services = scans.flatMap((scan) => scan.services.map((service) => ({ scan, service })));
    const revisionArns = unique(
      services.flatMap(({ service }) => (service.currentServiceRevisions ?? []).map((r) => r.arn)),
    );
    const revisions = await this.describeRevisions(revisionArns);

    // Every request goes through `this.limit`: the concurrency bound holds across the whole inventory.
    await Promise.all(services.map(({ scan, service }) => this.recordCurrentRevisions(scan, service, revisions)));

    await this.recordRollbackRevisions(
      services.map(({ service }) => service),
      revisions,
    );
    await this.recordDaemonRevisions(daemons.flat());
  }

  /**
   * The ECS Managed Daemons of one cluster, described. A call that fails (AccessDenied because a workload's role
   * predates the daemon permissions, daemons not offered in the region, throttling after the SDK's retries) is a
   * gap, never an empty list: releases pause and the list removes nothing.
   * See: https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ListDaemons.html
   * See: https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DescribeDaemon.html
   */
  private async daemonsOf(clusterArn: string): Promise<DaemonDetail[]> {
    let arns: string[];
    try {
      arns = await this.listAll((nextToken) =>
        this.limit(() =>
          this.client.send(new ListDaemonsCommand({ clusterArn, maxResults: ECS_LIST_PAGE_SIZE, nextToken })),
        ).then((page) => ({
          items: (page.daemonSummariesList ?? []).flatMap((daemon) => (daemon.daemonArn ? [daemon.daemonArn] : [])),
          nextToken: page.nextToken,
        })),
      );
    } catch (error) {
      // A cluster deleted meanwhile runs no daemon; its services and tasks report the deletion (scanCluster).
      if (error instanceof ClusterNotFoundException) return [];
      this.gaps.push({
        reason:
          `ECS daemons of cluster ${clusterName(clusterArn)} could not be listed (ListDaemons: ${errorText(error)}); ` +
          'a daemon revision may pin digests not listed',
      });
      return [];
    }
    const described = await Promise.all(arns.map((arn) => this.describeDaemon(arn)));
    return described.filter((daemon): daemon is DaemonDetail => daemon !== undefined);
  }

  private async describeDaemon(daemonArn: string): Promise<DaemonDetail | undefined> {
    try {
      const answer = await this.limit(() => this.client.send(new DescribeDaemonCommand({ daemonArn })));
      return answer.daemon;
    } catch (error) {
      // Deleted since it was listed: no task of it can start any more, so there is nothing to see.
      if (error instanceof DaemonNotFoundException) return undefined;
      this.gaps.push({
        reason:
          `ECS daemon ${daemonArn} could not be described (DescribeDaemon: ${errorText(error)}); ` +
          'its revisions may pin digests not listed',
      });
      return undefined;
    }
  }

  /**
   * The current revisions of every daemon, 20 at a time across daemons and clusters. Every current revision
   * counts: during a daemon deployment the source revisions (what a rollback returns to) are current too.
   * See: https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DescribeDaemonRevisions.html
   */
  private async recordDaemonRevisions(daemons: readonly DaemonDetail[]): Promise<void> {
    const arns = unique(daemons.flatMap((daemon) => (daemon.currentRevisions ?? []).map((revision) => revision.arn)));
    await this.describeDaemonRevisions(arns);
  }

  /** Records the digests of these daemon revisions, 20 a call; what could not be described is a gap. */
  async describeDaemonRevisions(arns: readonly string[]): Promise<void> {
    await Promise.all(
      chunks(arns, DESCRIBE_DAEMON_REVISIONS_BATCH).map(async (batch) => {
        try {
          const answer = await this.limit(() =>
            this.client.send(new DescribeDaemonRevisionsCommand({ daemonRevisionArns: batch })),
          );
          this.recordFailures('DescribeDaemonRevisions', undefined, answer.failures);
          const seen = new Set([
            ...(answer.failures ?? []).map((failure) => failure.arn),
            ...(answer.daemonRevisions ?? []).map((revision) => revision.daemonRevisionArn),
          ]);
          for (const revision of answer.daemonRevisions ?? [])
            this.record(daemonRevisionDigests(revision, this.repositoryOf));
          for (const arn of batch.filter((arn) => !seen.has(arn))) {
            this.gaps.push({ reason: `daemon revision ${arn} was neither described nor reported as a failure` });
          }
        } catch (error) {
          this.gaps.push({
            reason:
              `daemon revisions ${batch.join(', ')} could not be described ` +
              `(DescribeDaemonRevisions: ${errorText(error)}); they may pin digests not listed`,
          });
        }
      }),
    );
  }

  /**
   * One service alone, for an event that names it: one DescribeServices and one DescribeServiceRevisions, the
   * same rules as the full inventory. No task is listed (the service is read because it cannot start tasks), so
   * a revision that pins no digest is a gap rather than answered by a running task.
   */
  async collectService(clusterArn: string, serviceArn: string): Promise<void> {
    const answer = await this.limit(() =>
      this.client.send(new DescribeServicesCommand({ cluster: clusterArn, services: [serviceArn] })),
    );
    this.recordFailures('DescribeServices', clusterArn, answer.failures);
    const scan: ClusterScan = { clusterArn, services: answer.services ?? [], tasks: [] };
    const revisions = await this.describeRevisions(
      unique(scan.services.flatMap((service) => (service.currentServiceRevisions ?? []).map((r) => r.arn))),
    );
    await Promise.all(scan.services.map((service) => this.recordCurrentRevisions(scan, service, revisions)));
  }

  private async recordCurrentRevisions(
    scan: ClusterScan,
    service: Service,
    revisions: ReadonlyMap<string, ServiceRevision>,
  ): Promise<void> {
    const summaries = service.currentServiceRevisions ?? [];
    const described = summaries
      .map((summary) => (summary.arn ? revisions.get(summary.arn) : undefined))
      .filter((revision): revision is ServiceRevision => revision !== undefined);
    for (const revision of described)
      this.recordRevision('ecs-service', scan.clusterArn, service, revision, scan.tasks);
    if (summaries.length === 0 || described.length < summaries.length)
      await this.recordUndescribableService(scan, service);
  }

  /** The services and tasks of one cluster, or undefined (and a gap) when the cluster vanished meanwhile. */
  private async scanCluster(clusterArn: string): Promise<ClusterScan | undefined> {
    const [services, tasks] = await Promise.allSettled([this.servicesOf(clusterArn), this.tasksOf(clusterArn)]);
    for (const result of [services, tasks]) {
      if (result.status === 'rejected') {
        if (result.reason instanceof ClusterNotFoundException) {
          const reason = `cluster ${clusterName(clusterArn)} was deleted while the inventory was taken; skipped`;
          this.gaps.push({ reason });
          return undefined;
        }
        throw result.reason;
      }
    }
    return {
      clusterArn,
      services: (services as PromiseFulfilledResult<Service[]>).value,
      tasks: (tasks as PromiseFulfilledResult<Task[]>).value,
    };
  }

  private async servicesOf(cluster: string): Promise<Service[]> {
    const arns = await this.listAll((nextToken) =>
      this.limit(() =>
        this.client.send(new ListServicesCommand({ cluster, maxResults: ECS_LIST_PAGE_SIZE, nextToken })),
      ).then((page) => ({
        items: page.serviceArns,
        nextToken: page.nextToken,
      })),
    );
    const batches = await Promise.all(
      chunks(arns, DESCRIBE_SERVICES_BATCH).map(async (batch) => {
        const answer = await this.limit(() =>
          this.client.send(new DescribeServicesCommand({ cluster, services: batch })),
        );
        this.recordFailures('DescribeServices', cluster, answer.failures);
        return answer.services ?? [];
      }),
    );
    return batches.flat();
  }

  private async tasksOf(cluster: string): Promise<Task[]> {
    // desiredStatus RUNNING includes PENDING tasks: ECS never sets a desired status of PENDING.
    // See: https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ListTasks.html
    const arns = await this.listAll((nextToken) =>
      this.limit(() =>
        this.client.send(
          new ListTasksCommand({ cluster, desiredStatus: 'RUNNING', maxResults: ECS_LIST_PAGE_SIZE, nextToken }),
        ),
      ).then((page) => ({ items: page.taskArns, nextToken: page.nextToken })),
    );
    const batches = await Promise.all(
      chunks(arns, DESCRIBE_TASKS_BATCH).map(async (batch) => {
        const answer = await this.limit(() => this.client.send(new DescribeTasksCommand({ cluster, tasks: batch })));
        this.recordFailures('DescribeTasks', cluster, answer.failures);
        return answer.tasks ?? [];
      }),
    );
    return batches.flat();
  }

  /**
   * Describes service revisions 20 at a time, across services and clusters (the call takes no cluster).
   * Revisions created before 2024-10-25 cannot be described; how the API says so is not documented, so a
   * revision that comes back neither described nor as a failure is treated the same as a failure.
   * See: https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DescribeServiceRevisions.html
   */
  private async describeRevisions(arns: readonly string[]): Promise<Map<string, ServiceRevision>> {
    const described = new Map<string, ServiceRevision>();
    await Promise.all(
      chunks(arns, DESCRIBE_REVISIONS_BATCH).map(async (batch) => {
        for (const revision of await this.describeRevisionBatch(batch)) {
          if (revision.serviceRevisionArn) described.set(revision.serviceRevisionArn, revision);
        }
      }),
    );
    return described;
  }

  private async describeRevisionBatch(batch: readonly string[]): Promise<ServiceRevision[]> {
    try {
      const answer = await this.limit(() =>
        this.client.send(new DescribeServiceRevisionsCommand({ serviceRevisionArns: [...batch] })),
      );
      // Undescribable revisions are reported by their service (see recordUndescribableService), where
      // the gap can say what is unknown; only unexpected failures are worth a line of their own.
      return answer.serviceRevisions ?? [];
    } catch (error) {
      // A service or cluster deleted meanwhile may fail the whole batch: ask one by one so the others count.
      if (!(error instanceof ClusterNotFoundException || error instanceof ServiceNotFoundException)) throw error;
      if (batch.length === 1) {
        this.gaps.push({ reason: `service revision ${batch[0]} could not be described: ${error.name}` });
        return [];
      }
      const singles = await Promise.all(batch.map((arn) => this.describeRevisionBatch([arn])));
      return singles.flat();
    }
  }

  /**
   * A service whose revision cannot be described (older than revisions, or gone): its running tasks show
   * the digests; a task definition that pins `@sha256:` shows it too; otherwise the digest is unknown.
   */
  private async recordUndescribableService(scan: ClusterScan, service: Service): Promise<void> {
    const taskDefinitionArns = unique([
      service.taskDefinition,
      ...(service.deployments ?? []).map((d) => d.taskDefinition),
    ]);
    const running = tasksOfService(scan.tasks, service);
    for (const taskDefinitionArn of taskDefinitionArns) {
      const containers = await this.containersOf(taskDefinitionArn);
      this.record(
        taskDefinitionDigests(scan.clusterArn, service, taskDefinitionArn, containers, running, this.repositoryOf),
      );
    }
  }

  private async containersOf(taskDefinitionArn: string): Promise<readonly ContainerDefinition[]> {
    let cached = this.taskDefinitions.get(taskDefinitionArn);
    if (!cached) {
      cached = this.limit(() =>
        this.client.send(new DescribeTaskDefinitionCommand({ taskDefinition: taskDefinitionArn })),
      ).then((answer) => answer.taskDefinition?.containerDefinitions ?? []);
      this.taskDefinitions.set(taskDefinitionArn, cached);
      // A failed lookup must not poison the cache for later invocations.
      cached.catch(() => this.taskDefinitions.delete(taskDefinitionArn));
    }
    return cached;
  }

  /**
   * What a rollback would relaunch: the source revisions of deployments in progress. Only services with a
   * rollout IN_PROGRESS cost requests, so the steady state pays nothing for this.
   */
  private async recordRollbackRevisions(
    services: readonly Service[],
    known: Map<string, ServiceRevision>,
  ): Promise<void> {
    const deploying = services.filter(
      (service) =>
        service.currentServiceDeployment && (service.deployments ?? []).some((d) => d.rolloutState === 'IN_PROGRESS'),
    );
    if (deploying.length === 0) return;
    const byArn = new Map(deploying.map((service) => [service.currentServiceDeployment!, service]));
    const deployments = (
      await Promise.all(
        chunks([...byArn.keys()], DESCRIBE_DEPLOYMENTS_BATCH).map(async (batch) => {
          const answer = await this.limit(() =>
            this.client.send(new DescribeServiceDeploymentsCommand({ serviceDeploymentArns: batch })),
          );
          this.recordFailures('DescribeServiceDeployments', undefined, answer.failures);
          return answer.serviceDeployments ?? [];
        }),
      )
    ).flat();

    const sources = deployments.flatMap((deployment) =>
      (deployment.sourceServiceRevisions ?? []).flatMap((source) =>
        source.arn ? [{ deployment, arn: source.arn }] : [],
      ),
    );
    const fetched = await this.describeRevisions(unique(sources.map((s) => s.arn).filter((arn) => !known.has(arn))));
    for (const { deployment, arn } of sources) {
      const revision = known.get(arn) ?? fetched.get(arn);
      const service = deployment.serviceDeploymentArn ? byArn.get(deployment.serviceDeploymentArn) : undefined;
      if (!revision || !service) {
        const reason = `rollback revision ${arn} could not be described; a rollback may relaunch digests not listed`;
        this.gaps.push({ reason });
        continue;
      }
      this.recordRevision('ecs-rollback', deployment.clusterArn ?? revision.clusterArn ?? '', service, revision, []);
    }
  }

  private recordRevision(
    kind: 'ecs-service' | 'ecs-rollback',
    clusterArn: string,
    service: Service,
    revision: ServiceRevision,
    tasks: readonly Task[],
  ): void {
    this.record(revisionDigests(kind, clusterArn, service, revision, tasks, this.repositoryOf));
  }

  private recordTask(clusterArn: string, task: Task): void {
    for (const { repository, digest, consumer } of taskDigests(clusterArn, task, this.repositoryOf)) {
      this.collector.add(repository, digest, consumer);
    }
  }

  private recordFailures(call: string, cluster: string | undefined, failures: readonly Failure[] | undefined): void {
    this.gaps.push(...failureGaps(call, cluster, failures));
  }

  private record(found: EcsDigests): void {
    for (const { repository, digest, consumer } of found.inUse) this.collector.add(repository, digest, consumer);
    this.gaps.push(...found.gaps);
  }

  byRepository(): Map<string, Map<Digest, Consumer[]>> {
    return this.collector.byRepository();
  }

  private async listAll(
    page: (nextToken: string | undefined) => Promise<{ items?: string[] | undefined; nextToken?: string | undefined }>,
  ): Promise<string[]> {
    const items: string[] = [];
    let nextToken: string | undefined;
    do {
      const answer = await page(nextToken);
      items.push(...(answer.items ?? []));
      nextToken = answer.nextToken;
    } while (nextToken);
    return items;
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

function unique(values: readonly (string | undefined)[]): string[] {
  return [...new Set(values.filter((value): value is string => typeof value === 'string' && value.length > 0))];
}
