import {
  AccessDeniedException,
  ClusterNotFoundException,
  DaemonNotFoundException,
  type DaemonDetail,
  type DaemonRevision,
  DescribeDaemonCommand,
  DescribeDaemonRevisionsCommand,
  DescribeServiceDeploymentsCommand,
  DescribeServiceRevisionsCommand,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  ECSClient,
  InvalidParameterException,
  ListClustersCommand,
  ListDaemonsCommand,
  ListServicesCommand,
  ListTasksCommand,
  type ContainerDefinition,
  type Service,
  type ServiceDeployment,
  type ServiceRevision,
  type Task,
} from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-vitest/extend';
import { describe, expect, it } from 'vitest';
import { inFlightCounter, type InFlightStats } from '../../support/in-flight';
import { EcsInventoryAdapter } from '../../../lambda/adapters/ecs-inventory';
import { countInventoryLowerBound } from '../../../bench/lower-bound';
import type { Inventory } from '../../../lambda/core/types';
import { resetBeforeEach } from '../../support/mocked-clients';

const ecs = mockClient(ECSClient);
const ACCOUNT = '111122223333';
const REGION = 'eu-west-1';
const HOST = `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com`;
const meta = { $metadata: {} };
const digest = (n: number): string => `sha256:${n.toString(16).padStart(64, '0')}`;

// ---------------------------------------------------------------------------------------------------------
// A small fake ECS account behind the mocked client. It enforces the API's batch and page limits (so a
// request over a limit fails the test), pages with opaque tokens, and counts requests in flight.
// Limits: botocore/data/ecs/2014-11-13/service-2.json and the ECS API reference (ListServices/ListTasks
// maxResults 1–100, DescribeServices ≤10, DescribeTasks ≤100, DescribeServiceRevisions/Deployments ≤20).
// ---------------------------------------------------------------------------------------------------------
interface FakeCluster {
  readonly arn: string;
  services: Service[];
  tasks: Task[];
  daemons: DaemonDetail[];
}
interface FakeAccount {
  clusters: FakeCluster[];
  revisions: Map<string, ServiceRevision>;
  daemonRevisions: Map<string, DaemonRevision>;
  deployments: Map<string, ServiceDeployment>;
  taskDefinitions: Map<string, ContainerDefinition[]>;
}

const clusterArn = (name: string) => `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/${name}`;
const emptyAccount = (): FakeAccount => ({
  clusters: [],
  revisions: new Map(),
  daemonRevisions: new Map(),
  deployments: new Map(),
  taskDefinitions: new Map(),
});

function addCluster(account: FakeAccount, name: string): FakeCluster {
  const cluster: FakeCluster = { arn: clusterArn(name), services: [], tasks: [], daemons: [] };
  account.clusters.push(cluster);
  return cluster;
}

/** A service whose current revision pins `image` to `imageDigest`. */
function addService(
  account: FakeAccount,
  cluster: FakeCluster,
  name: string,
  image: string,
  imageDigest: string | undefined,
  extra: Partial<Service> = {},
): Service {
  const clusterName = cluster.arn.split('/').pop()!;
  const revisionArn = `arn:aws:ecs:${REGION}:${ACCOUNT}:service-revision/${clusterName}/${name}/1`;
  const service: Service = {
    serviceName: name,
    serviceArn: `arn:aws:ecs:${REGION}:${ACCOUNT}:service/${clusterName}/${name}`,
    clusterArn: cluster.arn,
    taskDefinition: `arn:aws:ecs:${REGION}:${ACCOUNT}:task-definition/${name}:1`,
    currentServiceRevisions: [{ arn: revisionArn }],
    deployments: [{ rolloutState: 'COMPLETED' }],
    ...extra,
  };
  cluster.services.push(service);
  account.revisions.set(revisionArn, {
    serviceRevisionArn: revisionArn,
    serviceArn: service.serviceArn,
    clusterArn: cluster.arn,
    containerImages: [{ containerName: 'app', image, ...(imageDigest ? { imageDigest } : {}) }],
  });
  return service;
}

/** An ECS Managed Daemon whose current revisions pin `images` (one revision per image: more than one while it deploys). */
function addDaemon(
  account: FakeAccount,
  cluster: FakeCluster,
  name: string,
  images: readonly { image: string; imageDigest?: string }[],
): DaemonDetail {
  const clusterName = cluster.arn.split('/').pop()!;
  const daemonArn = `arn:aws:ecs:${REGION}:${ACCOUNT}:daemon/${clusterName}/${name}`;
  const revisionArns = images.map((image, i) => {
    const arn = `arn:aws:ecs:${REGION}:${ACCOUNT}:daemon-revision/${clusterName}/${name}/rev-${i}`;
    account.daemonRevisions.set(arn, {
      daemonRevisionArn: arn,
      daemonArn,
      clusterArn: cluster.arn,
      containerImages: [
        {
          containerName: 'agent',
          image: image.image,
          ...(image.imageDigest ? { imageDigest: image.imageDigest } : {}),
        },
      ],
    });
    return arn;
  });
  const daemon: DaemonDetail = {
    daemonArn,
    clusterArn: cluster.arn,
    status: 'ACTIVE',
    currentRevisions: revisionArns.map((arn) => ({ arn })),
  };
  cluster.daemons.push(daemon);
  return daemon;
}

function addTask(
  cluster: FakeCluster,
  id: string,
  image: string,
  imageDigest: string | undefined,
  group?: string,
): Task {
  const task: Task = {
    taskArn: `${cluster.arn.replace(':cluster/', ':task/')}/${id}`,
    clusterArn: cluster.arn,
    ...(group ? { group } : {}),
    containers: [{ name: 'app', image, ...(imageDigest ? { imageDigest } : {}) }],
  };
  cluster.tasks.push(task);
  return task;
}

function page<T>(items: readonly T[], input: { nextToken?: string; maxResults?: number }, defaultSize: number) {
  if (input.maxResults !== undefined && (input.maxResults < 1 || input.maxResults > 100)) {
    throw new InvalidParameterException({ message: 'maxResults must be 1..100', ...meta });
  }
  const start = input.nextToken ? Number(input.nextToken.replace('token-', '')) : 0;
  const size = input.maxResults ?? defaultSize;
  const end = start + size;
  return { items: items.slice(start, end), nextToken: end < items.length ? `token-${end}` : undefined };
}

function limit(ids: readonly unknown[] | undefined, max: number, call: string): void {
  if (!ids || ids.length === 0 || ids.length > max) {
    throw new InvalidParameterException({ message: `${call} takes 1..${max} ids, got ${ids?.length}`, ...meta });
  }
}

/** Answers the mocked client from `account`; each answer arrives after `delayMs`. */
function serve(account: FakeAccount, delayMs = 0): InFlightStats {
  const { stats, answer } = inFlightCounter(delayMs);
  const cluster = (ref: string | undefined): FakeCluster => {
    const found = account.clusters.find((c) => c.arn === ref || c.arn.endsWith(`/${ref}`));
    if (!found) throw new ClusterNotFoundException({ message: 'Cluster not found.', ...meta });
    return found;
  };

  ecs.on(ListClustersCommand).callsFake(
    answer((input: { nextToken?: string; maxResults?: number }) => {
      const p = page(
        account.clusters.map((c) => c.arn),
        input,
        100,
      );
      return { clusterArns: p.items, nextToken: p.nextToken };
    }),
  );
  ecs.on(ListServicesCommand).callsFake(
    answer((input: { cluster?: string; nextToken?: string; maxResults?: number }) => {
      const p = page(
        cluster(input.cluster).services.map((s) => s.serviceArn!),
        input,
        10,
      );
      return { serviceArns: p.items, nextToken: p.nextToken };
    }),
  );
  ecs.on(ListTasksCommand).callsFake(
    answer((input: { cluster?: string; nextToken?: string; maxResults?: number }) => {
      const p = page(
        cluster(input.cluster).tasks.map((t) => t.taskArn!),
        input,
        100,
      );
      return { taskArns: p.items, nextToken: p.nextToken };
    }),
  );
  ecs.on(DescribeServicesCommand).callsFake(
    answer((input: { cluster?: string; services?: string[] }) => {
      limit(input.services, 10, 'DescribeServices');
      const c = cluster(input.cluster);
      const services = input.services!.map((arn) => c.services.find((s) => s.serviceArn === arn));
      return {
        services: services.filter((s): s is Service => s !== undefined),
        failures: input.services!.filter((_, i) => !services[i]).map((arn) => ({ arn, reason: 'MISSING' })),
      };
    }),
  );
  ecs.on(DescribeTasksCommand).callsFake(
    answer((input: { cluster?: string; tasks?: string[] }) => {
      limit(input.tasks, 100, 'DescribeTasks');
      const c = cluster(input.cluster);
      const tasks = input.tasks!.map((arn) => c.tasks.find((t) => t.taskArn === arn));
      return {
        tasks: tasks.filter((t): t is Task => t !== undefined),
        failures: input.tasks!.filter((_, i) => !tasks[i]).map((arn) => ({ arn, reason: 'MISSING' })),
      };
    }),
  );
  ecs.on(DescribeServiceRevisionsCommand).callsFake(
    answer((input: { serviceRevisionArns?: string[] }) => {
      limit(input.serviceRevisionArns, 20, 'DescribeServiceRevisions');
      const arns = input.serviceRevisionArns!;
      return {
        serviceRevisions: arns.flatMap((arn) => account.revisions.get(arn) ?? []),
        failures: arns.filter((arn) => !account.revisions.has(arn)).map((arn) => ({ arn, reason: 'MISSING' })),
      };
    }),
  );
  ecs.on(DescribeServiceDeploymentsCommand).callsFake(
    answer((input: { serviceDeploymentArns?: string[] }) => {
      limit(input.serviceDeploymentArns, 20, 'DescribeServiceDeployments');
      return { serviceDeployments: input.serviceDeploymentArns!.flatMap((arn) => account.deployments.get(arn) ?? []) };
    }),
  );
  // ListDaemons maxResults 1–100 (default 100), DescribeDaemon one daemon, DescribeDaemonRevisions ≤ 20 ARNs:
  // @aws-sdk/client-ecs 3.1164.0 dist-types/models/models_0.d.ts (ListDaemonsRequest, DescribeDaemonRevisionsRequest).
  ecs.on(ListDaemonsCommand).callsFake(
    answer((input: { clusterArn?: string; nextToken?: string; maxResults?: number }) => {
      const p = page(
        cluster(input.clusterArn).daemons.map((d) => ({ daemonArn: d.daemonArn!, status: d.status })),
        input,
        100,
      );
      return { daemonSummariesList: p.items, nextToken: p.nextToken };
    }),
  );
  ecs.on(DescribeDaemonCommand).callsFake(
    answer((input: { daemonArn?: string }) => {
      const daemon = account.clusters.flatMap((c) => c.daemons).find((d) => d.daemonArn === input.daemonArn);
      if (!daemon) throw new DaemonNotFoundException({ message: 'The specified daemon was not found.', ...meta });
      return { daemon };
    }),
  );
  ecs.on(DescribeDaemonRevisionsCommand).callsFake(
    answer((input: { daemonRevisionArns?: string[] }) => {
      limit(input.daemonRevisionArns, 20, 'DescribeDaemonRevisions');
      const arns = input.daemonRevisionArns!;
      return {
        daemonRevisions: arns.flatMap((arn) => account.daemonRevisions.get(arn) ?? []),
        failures: arns.filter((arn) => !account.daemonRevisions.has(arn)).map((arn) => ({ arn, reason: 'MISSING' })),
      };
    }),
  );
  ecs.on(DescribeTaskDefinitionCommand).callsFake(
    answer((input: { taskDefinition?: string }) => ({
      taskDefinition: {
        taskDefinitionArn: input.taskDefinition,
        containerDefinitions: account.taskDefinitions.get(input.taskDefinition!) ?? [],
      },
    })),
  );
  return stats;
}

/** An account of the given shape: every service runs `app-<cluster>:prod` pinned to its own digest. */
function shapedAccount(shape: readonly { services: number; tasks: number }[]): FakeAccount {
  const account = emptyAccount();
  let n = 0;
  shape.forEach(({ services, tasks }, c) => {
    const cluster = addCluster(account, `cluster-${c}`);
    for (let s = 0; s < services; s++) addService(account, cluster, `svc-${s}`, `${HOST}/app-${c}:prod`, digest(++n));
    for (let t = 0; t < tasks; t++) {
      addTask(
        cluster,
        `task-${t}`,
        `${HOST}/app-${c}:prod`,
        digest(++n),
        services > 0 ? `service:svc-${t % services}` : 'family:batch',
      );
    }
  });
  return account;
}

const adapter = (concurrency?: number, cache = new Map<string, Promise<readonly ContainerDefinition[]>>()) =>
  new EcsInventoryAdapter(
    { accountId: ACCOUNT, region: REGION, ...(concurrency ? { concurrency } : {}), taskDefinitionCache: cache },
    new ECSClient({ region: REGION }),
  );

const consumersOf = (inventory: Inventory, repository: string, d: string) =>
  inventory.byRepository.get(repository)?.get(d) ?? [];
const totalCalls = () => ecs.calls().length;

resetBeforeEach(ecs);

describe('EcsInventoryAdapter: request count', () => {
  it('takes a 3-cluster account with several pages in exactly the lower-bound number of requests', async () => {
    // Shape: cluster-0 has 3 ListServices pages, 23 DescribeServices, 3 ListTasks pages and 3 DescribeTasks;
    // cluster-1 one of each; cluster-2 runs 100 tasks and no service.
    const shape = [
      { services: 230, tasks: 250 },
      { services: 5, tasks: 7 },
      { services: 0, tasks: 100 },
    ];
    serve(shapedAccount(shape));

    const inventory = await adapter().takeInventory();

    // 1 ListClusters + (3+3+23+3) + (1+1+1+1) + (1+1+0+1) + ⌈235/20⌉=12 DescribeServiceRevisions
    // + 3 ListDaemons (one per cluster, even with no daemon)
    expect(totalCalls()).toBe(55);
    expect(countInventoryLowerBound({ servicesPerCluster: [230, 5, 0], tasksPerCluster: [250, 7, 100] })).toBe(55);
    expect(ecs).toHaveReceivedCommandTimes(ListDaemonsCommand, 3);
    expect(ecs).not.toHaveReceivedCommand(DescribeDaemonCommand);
    expect(ecs).not.toHaveReceivedCommand(DescribeDaemonRevisionsCommand);
    expect(ecs).toHaveReceivedCommandTimes(DescribeServiceRevisionsCommand, 12);
    expect(ecs).not.toHaveReceivedCommand(DescribeServiceDeploymentsCommand);
    expect(ecs).not.toHaveReceivedCommand(DescribeTaskDefinitionCommand);
    expect(inventory.gaps).toEqual([]);
    // every service digest and every task digest is in the inventory
    const digestsInUse = [...inventory.byRepository.values()].reduce((sum, digests) => sum + digests.size, 0);
    expect(digestsInUse).toBe(235 + 357);
  });

  it('batches service revisions across clusters, 20 ARNs a call at most', async () => {
    // DescribeServiceRevisions takes no cluster parameter:
    // https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DescribeServiceRevisions.html
    serve(
      shapedAccount([
        { services: 15, tasks: 0 },
        { services: 15, tasks: 0 },
      ]),
    );

    await adapter().takeInventory();

    const batches = ecs
      .commandCalls(DescribeServiceRevisionsCommand)
      .map((call) => call.args[0].input.serviceRevisionArns!);
    expect(batches.map((b) => b.length).sort()).toEqual([10, 20]);
    const clustersInBatch = (b: string[]) => new Set(b.map((arn) => arn.split('/')[1])).size;
    expect(batches.some((b) => clustersInBatch(b) === 2)).toBe(true);
  });

  it('asks for 100 per list page, 10 services and 100 tasks per Describe call', async () => {
    serve(shapedAccount([{ services: 25, tasks: 201 }]));

    await adapter().takeInventory();

    for (const call of [...ecs.commandCalls(ListServicesCommand), ...ecs.commandCalls(ListTasksCommand)]) {
      expect(call.args[0].input.maxResults).toBe(100);
    }
    expect(ecs).toHaveReceivedCommandWith(ListTasksCommand, { desiredStatus: 'RUNNING' });
    expect(ecs.commandCalls(DescribeServicesCommand).map((c) => c.args[0].input.services!.length)).toEqual([10, 10, 5]);
    expect(
      ecs
        .commandCalls(DescribeTasksCommand)
        .map((c) => c.args[0].input.tasks!.length)
        .sort(),
    ).toEqual([1, 100, 100]);
  });

  it('follows ListClusters pages', async () => {
    const account = shapedAccount([
      { services: 1, tasks: 0 },
      { services: 1, tasks: 0 },
    ]);
    serve(account);
    ecs
      .on(ListClustersCommand)
      .resolvesOnce({ clusterArns: [account.clusters[0]!.arn], nextToken: 'more' })
      .resolvesOnce({ clusterArns: [account.clusters[1]!.arn] });

    const inventory = await adapter().takeInventory();

    expect(ecs).toHaveReceivedNthCommandWith(ListClustersCommand, 2, { nextToken: 'more' });
    expect(inventory.byRepository.has('app-0')).toBe(true);
    expect(inventory.byRepository.has('app-1')).toBe(true);
  });

  it('matches the design reference account (50 clusters, 2,000 services, 10,000 tasks) with even spread', () => {
    // 1 + 50 × (1 + 2 + 4 + 2) + 100 = 551 before daemons; + 50 ListDaemons (one per cluster) = 601.
    // The design's "about 616" assumes an uneven spread.
    expect(
      countInventoryLowerBound({ servicesPerCluster: Array(50).fill(40), tasksPerCluster: Array(50).fill(200) }),
    ).toBe(601);
  });
});

describe('EcsInventoryAdapter: concurrency', () => {
  it.each([1, 3, 4])('never has more than %i requests in flight, and uses them', async (concurrency) => {
    const stats = serve(
      shapedAccount([
        { services: 45, tasks: 150 },
        { services: 30, tasks: 20 },
        { services: 12, tasks: 300 },
      ]),
      2,
    );

    await adapter(concurrency).takeInventory();

    expect(stats.maxInFlight).toBeLessThanOrEqual(concurrency);
    expect(stats.maxInFlight).toBe(concurrency);
  });

  it('defaults to 4 requests in flight', async () => {
    const stats = serve(
      shapedAccount([
        { services: 45, tasks: 150 },
        { services: 30, tasks: 220 },
      ]),
      2,
    );

    await adapter().takeInventory();

    expect(stats.maxInFlight).toBe(4);
  });

  it('rejects a concurrency that is not a positive integer, naming the option', () => {
    expect(() => adapter(0.5)).toThrow(/concurrency must be a positive integer/);
  });
});

describe('EcsInventoryAdapter: what counts as in use', () => {
  it('records service revisions and running tasks with kind, cluster, service, arn, container and image', async () => {
    const account = emptyAccount();
    const cluster = addCluster(account, 'prod');
    const image = `${HOST}/team/web:prod`;
    addService(account, cluster, 'web', image, digest(1));
    const task = addTask(cluster, 't1', image, digest(2), 'service:web');
    serve(account);

    const inventory = await adapter().takeInventory();

    expect(consumersOf(inventory, 'team/web', digest(1))).toEqual([
      {
        kind: 'ecs-service',
        cluster: 'prod',
        service: 'web',
        arn: `arn:aws:ecs:${REGION}:${ACCOUNT}:service-revision/prod/web/1`,
        container: 'app',
        image,
      },
    ]);
    expect(consumersOf(inventory, 'team/web', digest(2))).toEqual([
      { kind: 'ecs-task', cluster: 'prod', service: 'web', arn: task.taskArn, container: 'app', image },
    ]);
  });

  it('keeps only images of this account and region', async () => {
    const account = emptyAccount();
    const cluster = addCluster(account, 'prod');
    addService(account, cluster, 'other-account', `444455556666.dkr.ecr.${REGION}.amazonaws.com/web:1`, digest(1));
    addService(account, cluster, 'other-region', `${ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/web:1`, digest(2));
    addService(account, cluster, 'docker-hub', 'nginx:1.27', digest(3));
    addService(account, cluster, 'dual-stack', `${ACCOUNT}.dkr-ecr.${REGION}.on.aws/web:1`, digest(4));
    serve(account);

    const inventory = await adapter().takeInventory();

    expect([...inventory.byRepository.keys()]).toEqual(['web']);
    expect([...inventory.byRepository.get('web')!.keys()]).toEqual([digest(4)]);
  });

  it('lists a task once when list pages overlap and describe it twice', async () => {
    const account = emptyAccount();
    const cluster = addCluster(account, 'prod');
    const task = addTask(cluster, 't1', `${HOST}/web:prod`, digest(1));
    serve(account);
    ecs
      .on(ListTasksCommand)
      .resolvesOnce({ taskArns: [task.taskArn!], nextToken: 'n' })
      .resolvesOnce({ taskArns: [task.taskArn!] });

    const inventory = await adapter().takeInventory();

    expect(consumersOf(inventory, 'web', digest(1))).toHaveLength(1);
  });

  it('adds what a rollback would relaunch only for services with a deployment in progress', async () => {
    // sourceServiceRevisions: https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ServiceDeployment.html
    const account = emptyAccount();
    const cluster = addCluster(account, 'prod');
    const deploymentArn = `arn:aws:ecs:${REGION}:${ACCOUNT}:service-deployment/prod/web/d1`;
    const oldRevisionArn = `arn:aws:ecs:${REGION}:${ACCOUNT}:service-revision/prod/web/0`;
    addService(account, cluster, 'web', `${HOST}/web:prod`, digest(2), {
      currentServiceDeployment: deploymentArn,
      deployments: [{ rolloutState: 'IN_PROGRESS' }, { rolloutState: 'COMPLETED' }],
    });
    addService(account, cluster, 'api', `${HOST}/api:prod`, digest(3), {
      currentServiceDeployment: `arn:aws:ecs:${REGION}:${ACCOUNT}:service-deployment/prod/api/d9`,
    });
    account.deployments.set(deploymentArn, {
      serviceDeploymentArn: deploymentArn,
      clusterArn: cluster.arn,
      sourceServiceRevisions: [{ arn: oldRevisionArn }],
    });
    account.revisions.set(oldRevisionArn, {
      serviceRevisionArn: oldRevisionArn,
      containerImages: [{ containerName: 'app', image: `${HOST}/web:prod`, imageDigest: digest(1) }],
    });
    serve(account);

    const inventory = await adapter().takeInventory();

    expect(ecs).toHaveReceivedCommandExactlyOnceWith(DescribeServiceDeploymentsCommand, {
      serviceDeploymentArns: [deploymentArn],
    });
    expect(consumersOf(inventory, 'web', digest(1))).toEqual([
      {
        kind: 'ecs-rollback',
        cluster: 'prod',
        service: 'web',
        arn: oldRevisionArn,
        container: 'app',
        image: `${HOST}/web:prod`,
      },
    ]);
    expect(ecs).toHaveReceivedNthCommandWith(DescribeServiceRevisionsCommand, 2, {
      serviceRevisionArns: [oldRevisionArn],
    });
  });
  it('records a gap when a revision names an image without a digest and no running task shows one', async () => {
    // versionConsistency "disabled": ECS does not resolve that container's tag to a digest.
    // https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ContainerDefinition.html
    const account = emptyAccount();
    const cluster = addCluster(account, 'prod');
    addService(account, cluster, 'web', `${HOST}/web:latest`, undefined);
    serve(account);

    const inventory = await adapter().takeInventory();

    expect(inventory.byRepository.size).toBe(0);
    expect(inventory.gaps).toEqual([
      {
        reason: expect.stringMatching(/prod\/web: revision .* names .*web:latest without a digest/),
        repositories: ['web'],
      },
    ]);
  });
});

describe('EcsInventoryAdapter: services whose revision cannot be described', () => {
  // "You can't describe a service revision that was created before October 25, 2024."
  // https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DescribeServiceRevisions.html
  function legacyService(
    account: FakeAccount,
    cluster: FakeCluster,
    name: string,
    taskDefinition: string,
    how: 'no-revision' | 'failure',
  ) {
    const service = addService(account, cluster, name, 'unused', undefined, { taskDefinition });
    if (how === 'no-revision') service.currentServiceRevisions = [];
    else account.revisions.delete(service.currentServiceRevisions![0]!.arn!);
    return service;
  }

  it.each(['no-revision', 'failure'] as const)(
    'reads a task definition pinned to @sha256 once per ARN, and not again on a warm run (%s)',
    async (how) => {
      const account = emptyAccount();
      const cluster = addCluster(account, 'prod');
      const td = `arn:aws:ecs:${REGION}:${ACCOUNT}:task-definition/web:7`;
      const pinned = `${HOST}/web@${digest(9)}`;
      account.taskDefinitions.set(td, [{ name: 'app', image: pinned }]);
      legacyService(account, cluster, 'web-a', td, how);
      legacyService(account, cluster, 'web-b', td, how);
      serve(account);
      const cache = new Map<string, Promise<readonly ContainerDefinition[]>>();

      const inventory = await adapter(undefined, cache).takeInventory();
      await adapter(undefined, cache).takeInventory();

      expect(ecs).toHaveReceivedCommandTimes(DescribeTaskDefinitionCommand, 1);
      expect(consumersOf(inventory, 'web', digest(9)).map((c) => [c.kind, c.service, c.arn])).toEqual([
        ['ecs-task-definition', 'web-a', td],
        ['ecs-task-definition', 'web-b', td],
      ]);
      expect(inventory.gaps).toEqual([]);
    },
  );

  it('records a gap for a tag-only service with no describable revision and no running task', async () => {
    const account = emptyAccount();
    const cluster = addCluster(account, 'prod');
    const td = `arn:aws:ecs:${REGION}:${ACCOUNT}:task-definition/web:3`;
    account.taskDefinitions.set(td, [{ name: 'app', image: `${HOST}/web:prod` }]);
    legacyService(account, cluster, 'web', td, 'failure');
    serve(account);

    const inventory = await adapter().takeInventory();

    // The image names its repository: the gap concerns only `web`, so releases elsewhere go on.
    expect(inventory.gaps).toEqual([
      { reason: expect.stringMatching(/prod\/web.*web:prod.*unknown/), repositories: ['web'] },
    ]);
  });

  it('needs no gap when a running task of that service shows the digest', async () => {
    const account = emptyAccount();
    const cluster = addCluster(account, 'prod');
    const td = `arn:aws:ecs:${REGION}:${ACCOUNT}:task-definition/web:3`;
    account.taskDefinitions.set(td, [{ name: 'app', image: `${HOST}/web:prod` }]);
    legacyService(account, cluster, 'web', td, 'no-revision');
    addTask(cluster, 't1', `${HOST}/web:prod`, digest(5), 'service:web');
    serve(account);

    const inventory = await adapter().takeInventory();

    expect(inventory.gaps).toEqual([]);
    expect(consumersOf(inventory, 'web', digest(5))[0]?.kind).toBe('ecs-task');
  });
});

describe('EcsInventoryAdapter: failures', () => {
  it('records Describe failures as gaps instead of failing', async () => {
    const account = shapedAccount([{ services: 1, tasks: 1 }]);
    serve(account);
    ecs
      .on(DescribeTasksCommand)
      .resolves({ tasks: [], failures: [{ arn: 'arn:…:task/prod/gone', reason: 'MISSING' }] });

    const inventory = await adapter().takeInventory();

    // A task that could not be described could run any image: the gap names no repository (concerns all).
    expect(inventory.gaps).toEqual([{ reason: 'DescribeTasks in cluster cluster-0: arn:…:task/prod/gone MISSING' }]);
  });

  it('skips a cluster deleted during the inventory and records a gap; other clusters still count', async () => {
    const account = shapedAccount([
      { services: 2, tasks: 2 },
      { services: 2, tasks: 2 },
    ]);
    serve(account);
    const gone = account.clusters[0]!;
    account.clusters = account.clusters.slice(1); // listed by ListClusters below, then gone
    ecs.on(ListClustersCommand).resolves({ clusterArns: [gone.arn, account.clusters[0]!.arn] });

    const inventory = await adapter().takeInventory();

    expect(inventory.gaps).toEqual([
      { reason: 'cluster cluster-0 was deleted while the inventory was taken; skipped' },
    ]);
    expect(inventory.byRepository.has('app-0')).toBe(false);
    expect(inventory.byRepository.get('app-1')?.size).toBe(4);
  });

  it('describes revisions one by one when a batch fails because a cluster vanished', async () => {
    const account = shapedAccount([{ services: 3, tasks: 0 }]);
    serve(account);
    const revisionArns = account.clusters[0]!.services.map((s) => s.currentServiceRevisions![0]!.arn!);
    ecs
      .on(DescribeServiceRevisionsCommand)
      .rejectsOnce(new ClusterNotFoundException({ message: 'Cluster not found.', ...meta }))
      .callsFake((input: { serviceRevisionArns: string[] }) => ({
        serviceRevisions: input.serviceRevisionArns.flatMap((arn) => account.revisions.get(arn) ?? []),
      }));

    const inventory = await adapter().takeInventory();

    expect(ecs).toHaveReceivedCommandTimes(DescribeServiceRevisionsCommand, 1 + revisionArns.length);
    expect(inventory.byRepository.get('app-0')?.size).toBe(3);
  });

  it('rethrows anything else with its class', async () => {
    serve(shapedAccount([{ services: 1, tasks: 1 }]));
    ecs.on(ListTasksCommand).rejects(new AccessDeniedException({ message: 'no', ...meta }));

    await expect(adapter().takeInventory()).rejects.toBeInstanceOf(AccessDeniedException);
  });
});

describe('EcsInventoryAdapter: ECS Managed Daemons', () => {
  const daemonConsumer = (cluster: string, name: string, rev: number, image: string) => ({
    kind: 'ecs-daemon',
    cluster,
    arn: `arn:aws:ecs:${REGION}:${ACCOUNT}:daemon-revision/${cluster}/${name}/rev-${rev}`,
    container: 'agent',
    image,
  });

  it('given daemons in two clusters, when the inventory is taken, then every current daemon revision pins its digest as ecs-daemon, in exactly the lower-bound number of requests', async () => {
    const account = shapedAccount([
      { services: 2, tasks: 3 },
      { services: 0, tasks: 0 },
    ]);
    const [first, second] = account.clusters as [FakeCluster, FakeCluster];
    // 105 daemons in cluster-1: two ListDaemons pages; one of them deploying (source and target revisions)
    for (let d = 0; d < 104; d++)
      addDaemon(account, second, `d-${d}`, [{ image: `${HOST}/agent:prod`, imageDigest: digest(1000 + d) }]);
    addDaemon(account, second, 'deploying', [
      { image: `${HOST}/agent:prod`, imageDigest: digest(2000) },
      { image: `${HOST}/agent:prod`, imageDigest: digest(2001) },
    ]);
    addDaemon(account, first, 'log-router', [{ image: `${HOST}/team/router:v1`, imageDigest: digest(3000) }]);
    serve(account);

    const inventory = await adapter().takeInventory();

    // 107 daemon revisions → ⌈107/20⌉ = 6 DescribeDaemonRevisions, batched across clusters
    const bound = countInventoryLowerBound({
      servicesPerCluster: [2, 0],
      tasksPerCluster: [3, 0],
      daemonsPerCluster: [1, 105],
      currentDaemonRevisions: 107,
    });
    expect(bound).toBe(1 + (1 + 1 + 1 + 1) + (1 + 1) + 1 + (1 + 2) + 106 + 6);
    expect(totalCalls()).toBe(bound);
    expect(ecs).toHaveReceivedCommandTimes(DescribeDaemonCommand, 106);
    expect(ecs).toHaveReceivedCommandTimes(DescribeDaemonRevisionsCommand, 6);
    for (const call of ecs.commandCalls(ListDaemonsCommand)) {
      expect(call.args[0].input.clusterArn).toMatch(/:cluster\/cluster-[01]$/);
      expect(call.args[0].input.maxResults).toBe(100);
    }
    expect(inventory.gaps).toEqual([]);
    expect(consumersOf(inventory, 'team/router', digest(3000))).toEqual([
      daemonConsumer('cluster-0', 'log-router', 0, `${HOST}/team/router:v1`),
    ]);
    expect(consumersOf(inventory, 'agent', digest(2000))).toEqual([
      daemonConsumer('cluster-1', 'deploying', 0, `${HOST}/agent:prod`),
    ]);
    expect(consumersOf(inventory, 'agent', digest(2001))).toEqual([
      daemonConsumer('cluster-1', 'deploying', 1, `${HOST}/agent:prod`),
    ]);
    expect(inventory.byRepository.get('agent')?.size).toBe(106);
  });

  it.each([
    [
      'AccessDeniedException (an old workload stack lacks the permission)',
      () => new AccessDeniedException({ message: 'not authorized to perform: ecs:ListDaemons', ...meta }),
    ],
    [
      'a service error (daemons not available in this region)',
      () => Object.assign(new Error('Unknown operation ListDaemons'), { name: 'UnknownOperationException' }),
    ],
  ])(
    'given ListDaemons fails with %s, when the inventory is taken, then a gap names the cluster and the error and services still count',
    async (_why, failure) => {
      serve(shapedAccount([{ services: 1, tasks: 1 }]));
      const error = failure();
      ecs.on(ListDaemonsCommand).rejects(error);

      const inventory = await adapter().takeInventory();

      expect(inventory.gaps).toEqual([
        {
          reason:
            `ECS daemons of cluster cluster-0 could not be listed (ListDaemons: ${error.name}: ${error.message}); ` +
            'a daemon revision may pin digests not listed',
        },
      ]);
      expect(inventory.byRepository.get('app-0')?.size).toBe(2);
    },
  );

  it('given DescribeDaemon or DescribeDaemonRevisions fails, then each failure is a gap naming the daemon or revision', async () => {
    const account = emptyAccount();
    const cluster = addCluster(account, 'prod');
    const broken = addDaemon(account, cluster, 'broken', [{ image: `${HOST}/agent:prod`, imageDigest: digest(1) }]);
    const gone = addDaemon(account, cluster, 'revision-gone', [
      { image: `${HOST}/agent:prod`, imageDigest: digest(2) },
    ]);
    addDaemon(account, cluster, 'fine', [{ image: `${HOST}/agent:prod`, imageDigest: digest(3) }]);
    account.daemonRevisions.delete(gone.currentRevisions![0]!.arn!);
    serve(account);
    ecs
      .on(DescribeDaemonCommand, { daemonArn: broken.daemonArn })
      .rejects(new AccessDeniedException({ message: 'denied', ...meta }));

    const inventory = await adapter().takeInventory();

    expect(inventory.gaps).toEqual([
      {
        reason:
          `ECS daemon ${broken.daemonArn} could not be described (DescribeDaemon: AccessDeniedException: denied); ` +
          'its revisions may pin digests not listed',
      },
      { reason: `DescribeDaemonRevisions: ${gone.currentRevisions![0]!.arn} MISSING` },
    ]);
    expect([...(inventory.byRepository.get('agent')?.keys() ?? [])]).toEqual([digest(3)]);
  });

  it('given a daemon deleted between ListDaemons and DescribeDaemon, then it is skipped without a gap: nothing of it can run', async () => {
    const account = emptyAccount();
    const cluster = addCluster(account, 'prod');
    addDaemon(account, cluster, 'fine', [{ image: `${HOST}/agent:prod`, imageDigest: digest(3) }]);
    serve(account);
    ecs.on(ListDaemonsCommand).resolves({
      daemonSummariesList: [
        { daemonArn: `arn:aws:ecs:${REGION}:${ACCOUNT}:daemon/prod/deleted` },
        { daemonArn: `arn:aws:ecs:${REGION}:${ACCOUNT}:daemon/prod/fine` },
      ],
    });

    const inventory = await adapter().takeInventory();

    expect(inventory.gaps).toEqual([]);
    expect([...(inventory.byRepository.get('agent')?.keys() ?? [])]).toEqual([digest(3)]);
  });

  it('given a daemon revision that names its image by tag without a digest, then it is a gap of that repository', async () => {
    const account = emptyAccount();
    const cluster = addCluster(account, 'prod');
    const daemon = addDaemon(account, cluster, 'agent', [{ image: `${HOST}/agent:prod` }]);
    serve(account);

    const inventory = await adapter().takeInventory();

    expect(inventory.gaps).toEqual([
      {
        reason: `daemon prod/agent: revision ${daemon.currentRevisions![0]!.arn} names ${HOST}/agent:prod without a digest`,
        repositories: ['agent'],
      },
    ]);
  });
});

describe('EcsInventoryAdapter: one impaired service', () => {
  it('given a service pinned to a digest, when its inventory is taken, then one DescribeServices and one DescribeServiceRevisions name that digest and nothing else is listed', async () => {
    const account = emptyAccount();
    const cluster = addCluster(account, 'prod');
    const image = `${HOST}/team/web:prod`;
    const web = addService(account, cluster, 'web', image, digest(1));
    addService(account, cluster, 'other', image, digest(2));
    addTask(cluster, 't1', image, digest(3), 'service:web');
    serve(account);

    const inventory = await adapter().takeServiceInventory(cluster.arn, web.serviceArn!);

    expect([...inventory.byRepository.get('team/web')!.keys()]).toEqual([digest(1)]);
    expect(consumersOf(inventory, 'team/web', digest(1))).toEqual([
      {
        kind: 'ecs-service',
        cluster: 'prod',
        service: 'web',
        arn: `arn:aws:ecs:${REGION}:${ACCOUNT}:service-revision/prod/web/1`,
        container: 'app',
        image,
      },
    ]);
    expect(inventory.gaps).toEqual([]);
    expect(ecs).toHaveReceivedCommandTimes(DescribeServicesCommand, 1);
    expect(ecs).toHaveReceivedCommandWith(DescribeServicesCommand, {
      cluster: cluster.arn,
      services: [web.serviceArn!],
    });
    expect(ecs).toHaveReceivedCommandTimes(DescribeServiceRevisionsCommand, 1);
    expect(totalCalls()).toBe(2);
  });

  it('given a service ECS cannot describe (deleted meanwhile), when its inventory is taken, then it is empty with a gap that says so', async () => {
    const account = emptyAccount();
    const cluster = addCluster(account, 'prod');
    serve(account);
    const gone = `arn:aws:ecs:${REGION}:${ACCOUNT}:service/prod/gone`;

    const inventory = await adapter().takeServiceInventory(cluster.arn, gone);

    expect(inventory.byRepository.size).toBe(0);
    expect(inventory.gaps).toEqual([{ reason: `DescribeServices in cluster prod: ${gone} MISSING` }]);
  });
});
