/**
 * The simulated ECS control plane under the real `@aws-sdk/client-ecs`: what a guard reading it sees.
 * Shapes and limits: botocore `botocore/data/ecs/2014-11-13/service-2.json` (mirrored by the SDK's
 * `dist-types/models`), cited next to each behaviour.
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
  ECSClient,
  InvalidParameterException,
  ListClustersCommand,
  ListDaemonsCommand,
  ListServiceDeploymentsCommand,
  ListServicesCommand,
  ListTasksCommand,
  paginateListClusters,
  paginateListServices,
  paginateListTasks,
  type Task,
} from '@aws-sdk/client-ecs';
import { beforeEach, describe, expect, it } from 'vitest';
import { FAKE_ACCOUNT, FAKE_REGION, FAKE_REGISTRY_HOST, FakeRegistry } from './fake-registry';
import { SimEcs } from '../../sim/ecs';
import { populateFleet } from '../../sim/fleet';
import { createEcsThrottle } from '../../sim/throttling';
import { SimTransport } from '../../sim/transport';

const ACCOUNT = FAKE_ACCOUNT;
const REGION = FAKE_REGION;
const HOST = FAKE_REGISTRY_HOST;
const DIGEST_A = `sha256:${'a'.repeat(64)}`;
const DIGEST_B = `sha256:${'b'.repeat(64)}`;
const DIGEST_C = `sha256:${'c'.repeat(64)}`;

let registry: FakeRegistry;
let ecs: SimEcs;
let transport: SimTransport;
let client: ECSClient;

function newClient(maxAttempts = 3): ECSClient {
  return new ECSClient({
    region: REGION,
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    requestHandler: transport.requestHandler,
    maxAttempts,
  });
}

beforeEach(() => {
  registry = new FakeRegistry().push('app', 'prod', DIGEST_A);
  ecs = new SimEcs({ accountId: ACCOUNT, region: REGION, ecr: registry });
  transport = new SimTransport();
  transport.register(ecs);
  client = newClient();
  ecs.createCluster('prod');
});

async function describeOnlyService(cluster: string, service: string) {
  const out = await client.send(new DescribeServicesCommand({ cluster, services: [service] }));
  expect(out.failures).toEqual([]);
  return out.services![0]!;
}

async function runningTasks(cluster: string, serviceName: string): Promise<Task[]> {
  const { taskArns } = await client.send(new ListTasksCommand({ cluster, serviceName }));
  if (!taskArns || taskArns.length === 0) return [];
  const { tasks } = await client.send(new DescribeTasksCommand({ cluster, tasks: taskArns }));
  return tasks ?? [];
}

describe('software version consistency', () => {
  // "Amazon ECS will resolve the container image tag provided in the container definition to an image
  // digest. By default, the value is enabled." (ContainerDefinition.versionConsistency)
  // See: https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-type-ecs.html#deployment-container-image-stability
  it('pins the digest the tag named at deploy time and keeps launching it after the tag moves', async () => {
    const taskDefinition = ecs.registerTaskDefinition('web', [{ name: 'app', image: `${HOST}/app:prod` }]);
    ecs.createService('prod', 'web', taskDefinition, 2);

    registry.push('app', 'prod', DIGEST_B); // another pipeline pushes prod
    const replacement = ecs.launchReplacementTask('prod', 'web');

    expect(replacement.ok).toBe(true);
    const tasks = await runningTasks('prod', 'web');
    expect(tasks).toHaveLength(3);
    for (const task of tasks) {
      // DescribeTasks → containers[].image is the image as written, containers[].imageDigest the pinned digest.
      expect(task.containers![0]!.image).toBe(`${HOST}/app:prod`);
      expect(task.containers![0]!.imageDigest).toBe(DIGEST_A);
      expect(task.group).toBe('service:web');
      expect(task.lastStatus).toBe('RUNNING');
    }
  });

  it('records the pinned digest in the service revision that DescribeServices points to', async () => {
    const taskDefinition = ecs.registerTaskDefinition('web', [{ name: 'app', image: `${HOST}/app:prod` }]);
    ecs.createService('prod', 'web', taskDefinition, 1);
    registry.push('app', 'prod', DIGEST_B);

    const service = await describeOnlyService('prod', 'web');
    expect(service.taskDefinition).toBe(taskDefinition);
    expect(service.currentServiceRevisions).toHaveLength(1);
    const revisionArn = service.currentServiceRevisions![0]!.arn!;
    expect(revisionArn).toMatch(new RegExp(`^arn:aws:ecs:${REGION}:${ACCOUNT}:service-revision/prod/web/\\d+$`));

    const { serviceRevisions, failures } = await client.send(
      new DescribeServiceRevisionsCommand({ serviceRevisionArns: [revisionArn] }),
    );
    expect(failures).toEqual([]);
    expect(serviceRevisions![0]!.containerImages).toEqual([
      { containerName: 'app', image: `${HOST}/app:prod`, imageDigest: DIGEST_A },
    ]);
    expect(serviceRevisions![0]!.createdAt).toBeInstanceOf(Date);
  });

  it('does not pin a container whose versionConsistency is disabled: each new task pulls what the tag names then', async () => {
    const taskDefinition = ecs.registerTaskDefinition('worker', [
      { name: 'app', image: `${HOST}/app:prod`, versionConsistency: 'disabled' },
    ]);
    ecs.createService('prod', 'worker', taskDefinition, 1);
    registry.push('app', 'prod', DIGEST_B);
    ecs.launchReplacementTask('prod', 'worker');

    const service = await describeOnlyService('prod', 'worker');
    const { serviceRevisions } = await client.send(
      new DescribeServiceRevisionsCommand({ serviceRevisionArns: [service.currentServiceRevisions![0]!.arn!] }),
    );
    expect(serviceRevisions![0]!.containerImages![0]!.imageDigest).toBeUndefined();
    const digests = (await runningTasks('prod', 'worker')).map((t) => t.containers![0]!.imageDigest).sort();
    expect(digests).toEqual([DIGEST_A, DIGEST_B]);

    const { taskDefinition: described } = await client.send(
      new DescribeTaskDefinitionCommand({ taskDefinition: 'worker' }),
    );
    expect(described!.containerDefinitions![0]!.versionConsistency).toBe('disabled');
  });

  it('keeps a digest the task definition pins itself, whatever the tag says', async () => {
    const pinned = `${HOST}/app:prod@${DIGEST_C}`;
    registry.push('app', 'old', DIGEST_C);
    const taskDefinition = ecs.registerTaskDefinition('batch', [{ name: 'app', image: pinned }]);
    ecs.createService('prod', 'batch', taskDefinition, 1);

    const [task] = await runningTasks('prod', 'batch');
    expect(task!.containers![0]!.image).toBe(pinned);
    expect(task!.containers![0]!.imageDigest).toBe(DIGEST_C);
  });
});

describe('the incident: a service with no running task', () => {
  beforeEach(() => {
    const taskDefinition = ecs.registerTaskDefinition('web', [{ name: 'app', image: `${HOST}/app:prod` }]);
    ecs.createService('prod', 'web', taskDefinition, 2);
    registry.push('app', 'prod', DIGEST_B);
    ecs.stopAllTasks('prod', 'web');
  });

  it('lists no running task, yet its current revision still shows the pinned digest', async () => {
    expect(await runningTasks('prod', 'web')).toEqual([]);

    const service = await describeOnlyService('prod', 'web');
    expect(service.runningCount).toBe(0);
    expect(service.desiredCount).toBe(2);
    // DescribeServices → currentServiceRevisions[] (ServiceCurrentRevisionSummary: arn and task counts)
    expect(service.currentServiceRevisions).toEqual([
      {
        arn: expect.stringContaining(':service-revision/prod/web/'),
        requestedTaskCount: 2,
        runningTaskCount: 0,
        pendingTaskCount: 0,
      },
    ]);
    const { serviceRevisions } = await client.send(
      new DescribeServiceRevisionsCommand({ serviceRevisionArns: [service.currentServiceRevisions![0]!.arn!] }),
    );
    expect(serviceRevisions![0]!.containerImages![0]!.imageDigest).toBe(DIGEST_A);
  });

  it('still lists the stopped tasks when asked for desiredStatus STOPPED', async () => {
    const { taskArns } = await client.send(
      new ListTasksCommand({ cluster: 'prod', serviceName: 'web', desiredStatus: 'STOPPED' }),
    );
    expect(taskArns).toHaveLength(2);
    const { tasks } = await client.send(new DescribeTasksCommand({ cluster: 'prod', tasks: taskArns }));
    expect(tasks!.every((t) => t.lastStatus === 'STOPPED' && t.containers![0]!.imageDigest === DIGEST_A)).toBe(true);
  });

  it('fails the replacement task with CannotPullContainerError once the pinned digest is gone from ECR', async () => {
    registry.expire('app', DIGEST_A);

    const outcome = ecs.launchReplacementTask('prod', 'web');

    // The stopped reason as quoted in the incident; see
    // https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_cannot_pull_image.html
    expect(outcome).toEqual({
      ok: false,
      taskArn: expect.any(String),
      stoppedReason: `CannotPullContainerError: pull image manifest has been retried 1 time(s): failed to resolve ref ${HOST}/app@${DIGEST_A}: not found`,
    });
    expect(await runningTasks('prod', 'web')).toEqual([]);
    const { tasks } = await client.send(new DescribeTasksCommand({ cluster: 'prod', tasks: [outcome.taskArn] }));
    expect(tasks![0]!.stopCode).toBe('TaskFailedToStart');
    expect(tasks![0]!.stoppedReason).toContain('CannotPullContainerError');
  });

  it('launches the replacement from the pinned digest while it is still in ECR, even though the tag moved', () => {
    expect(ecs.launchReplacementTask('prod', 'web')).toEqual({ ok: true, taskArn: expect.any(String) });
  });
});

describe('deployments', () => {
  let oldRevision: string;

  beforeEach(async () => {
    const taskDefinition = ecs.registerTaskDefinition('web', [{ name: 'app', image: `${HOST}/app:prod` }]);
    ecs.createService('prod', 'web', taskDefinition, 1);
    oldRevision = (await describeOnlyService('prod', 'web')).currentServiceRevisions![0]!.arn!;
    registry.push('app', 'prod', DIGEST_B);
  });

  it('emits an ECS Deployment State Change naming the service when a deployment starts and when it completes', () => {
    const serviceArn = `arn:aws:ecs:${REGION}:${ACCOUNT}:service/prod/web`;
    ecs.updateService('prod', 'web', { forceNewDeployment: true });
    ecs.completeDeployment('prod', 'web');

    // createService's initial deployment (in progress, completed), then the update's
    expect(ecs.deploymentEvents.map((e) => [e.detail.eventName, e.resources])).toEqual([
      ['SERVICE_DEPLOYMENT_IN_PROGRESS', [serviceArn]],
      ['SERVICE_DEPLOYMENT_COMPLETED', [serviceArn]],
      ['SERVICE_DEPLOYMENT_IN_PROGRESS', [serviceArn]],
      ['SERVICE_DEPLOYMENT_COMPLETED', [serviceArn]],
    ]);
    expect(ecs.deploymentEvents[2]).toMatchObject({
      'detail-type': 'ECS Deployment State Change',
      source: 'aws.ecs',
      account: ACCOUNT,
      region: REGION,
      detail: { eventType: 'INFO', deploymentId: expect.stringMatching(/^ecs-svc\/\d+$/) },
    });
  });

  it('shows an in-progress deployment with the old revision as its source and the new one as its target', async () => {
    const newRevision = ecs.updateService('prod', 'web', { forceNewDeployment: true });

    const service = await describeOnlyService('prod', 'web');
    expect(service.currentServiceRevisions!.map((r) => r.arn)).toEqual([oldRevision, newRevision]);
    expect(service.deployments!.map((d) => [d.status, d.rolloutState])).toEqual([
      ['PRIMARY', 'IN_PROGRESS'],
      ['ACTIVE', 'COMPLETED'],
    ]);

    // ListServiceDeployments filters by status (ListServiceDeploymentsRequest.status)
    const { serviceDeployments } = await client.send(
      new ListServiceDeploymentsCommand({ cluster: 'prod', service: 'web', status: ['IN_PROGRESS'] }),
    );
    expect(serviceDeployments).toHaveLength(1);
    expect(serviceDeployments![0]!.targetServiceRevisionArn).toBe(newRevision);
    expect(service.currentServiceDeployment).toBe(serviceDeployments![0]!.serviceDeploymentArn);

    const described = await client.send(
      new DescribeServiceDeploymentsCommand({ serviceDeploymentArns: [serviceDeployments![0]!.serviceDeploymentArn!] }),
    );
    const deployment = described.serviceDeployments![0]!;
    expect(deployment.status).toBe('IN_PROGRESS');
    expect(deployment.sourceServiceRevisions!.map((r) => r.arn)).toEqual([oldRevision]);
    expect(deployment.targetServiceRevision!.arn).toBe(newRevision);

    const { serviceRevisions } = await client.send(
      new DescribeServiceRevisionsCommand({ serviceRevisionArns: [oldRevision, newRevision] }),
    );
    expect(serviceRevisions!.map((r) => r.containerImages![0]!.imageDigest)).toEqual([DIGEST_A, DIGEST_B]);
    // During the rollout both revisions run tasks.
    expect((await runningTasks('prod', 'web')).map((t) => t.containers![0]!.imageDigest).sort()).toEqual([
      DIGEST_A,
      DIGEST_B,
    ]);
  });

  it('leaves only the target revision current once the deployment completes', async () => {
    const newRevision = ecs.updateService('prod', 'web', { forceNewDeployment: true });
    ecs.completeDeployment('prod', 'web');

    const service = await describeOnlyService('prod', 'web');
    expect(service.currentServiceRevisions!.map((r) => r.arn)).toEqual([newRevision]);
    const { serviceDeployments } = await client.send(
      new ListServiceDeploymentsCommand({ cluster: 'prod', service: 'web' }),
    );
    expect(serviceDeployments!.map((d) => d.status)).toEqual(['SUCCESSFUL', 'SUCCESSFUL']);
    expect((await runningTasks('prod', 'web')).map((t) => t.containers![0]!.imageDigest)).toEqual([DIGEST_B]);
  });

  // "You can't describe a service revision that was created before October 25, 2024." (DescribeServiceRevisions);
  // "If you describe a deployment with a service revision created before October 25, 2024, the call fails.
  // The failure includes the service revision ARN and the reason set to MISSING." (DescribeServiceDeploymentsResponse.failures)
  it('answers revisions created before 2024-10-25 as failures with reason MISSING', async () => {
    ecs.markServiceAsPreRevisions('prod', 'web');

    const revisions = await client.send(new DescribeServiceRevisionsCommand({ serviceRevisionArns: [oldRevision] }));
    expect(revisions.serviceRevisions).toEqual([]);
    expect(revisions.failures).toEqual([{ arn: oldRevision, reason: 'MISSING' }]);

    const { serviceDeployments } = await client.send(
      new ListServiceDeploymentsCommand({ cluster: 'prod', service: 'web' }),
    );
    const deployments = await client.send(
      new DescribeServiceDeploymentsCommand({ serviceDeploymentArns: [serviceDeployments![0]!.serviceDeploymentArn!] }),
    );
    expect(deployments.failures).toEqual([{ arn: oldRevision, reason: 'MISSING' }]);
  });
});

describe('lookups that miss', () => {
  it('reports an unknown service as a failure, not an error', async () => {
    const out = await client.send(new DescribeServicesCommand({ cluster: 'prod', services: ['nope'] }));
    expect(out.services).toEqual([]);
    expect(out.failures).toEqual([{ arn: `arn:aws:ecs:${REGION}:${ACCOUNT}:service/prod/nope`, reason: 'MISSING' }]);
  });

  it('raises ClusterNotFoundException for an unknown cluster', async () => {
    await expect(client.send(new ListServicesCommand({ cluster: 'staging' }))).rejects.toBeInstanceOf(
      ClusterNotFoundException,
    );
    await expect(client.send(new ListTasksCommand({ cluster: 'staging' }))).rejects.toBeInstanceOf(
      ClusterNotFoundException,
    );
  });

  it('accepts cluster and service ARNs wherever names are accepted', async () => {
    const taskDefinition = ecs.registerTaskDefinition('web', [{ name: 'app', image: `${HOST}/app:prod` }]);
    const serviceArn = ecs.createService('prod', 'web', taskDefinition, 1);
    const clusterArn = `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/prod`;
    const out = await client.send(new DescribeServicesCommand({ cluster: clusterArn, services: [serviceArn] }));
    expect(out.services![0]!.serviceName).toBe('web');
  });

  it('filters tasks by family, and tells standalone tasks apart by their group', async () => {
    const taskDefinition = ecs.registerTaskDefinition('migrate', [{ name: 'app', image: `${HOST}/app:prod` }]);
    const run = ecs.runTask('prod', taskDefinition);
    const { taskArns } = await client.send(new ListTasksCommand({ cluster: 'prod', family: 'migrate' }));
    expect(taskArns).toEqual([run.taskArn]);
    const { tasks } = await client.send(new DescribeTasksCommand({ cluster: 'prod', tasks: taskArns }));
    expect(tasks![0]!.group).toBe('family:migrate');
    expect(tasks![0]!.containers![0]!.imageDigest).toBe(DIGEST_A);
  });
});

// ECS Managed Daemons: ListDaemons → DescribeDaemon (currentRevisions) → DescribeDaemonRevisions
// (containerImages[].imageDigest). Shapes: @aws-sdk/client-ecs 3.1164.0 dist-types/models/models_0.d.ts
// (ListDaemonsRequest, DaemonDetail, DaemonRevision), the SDK's mirror of botocore ecs/2014-11-13 service-2.json.
describe('managed daemons: revisions pin digests', () => {
  const daemonImage = `${HOST}/app:prod`;

  it('given a daemon deployed from a tag, when the tag moves, then its revision still shows the digest it pinned', async () => {
    const daemonArn = ecs.createDaemon('prod', 'log-router', [{ name: 'router', image: daemonImage }]);
    registry.push('app', 'prod', DIGEST_B);

    const listed = await client.send(new ListDaemonsCommand({ clusterArn: 'prod' }));
    expect(listed.daemonSummariesList?.map((d) => d.daemonArn)).toEqual([daemonArn]);
    const described = await client.send(new DescribeDaemonCommand({ daemonArn }));
    const revisionArns = described.daemon?.currentRevisions?.map((r) => r.arn!) ?? [];
    expect(revisionArns).toHaveLength(1);
    expect(revisionArns[0]).toMatch(new RegExp(`^arn:aws:ecs:${REGION}:${ACCOUNT}:daemon-revision/prod/log-router/`));
    const revisions = await client.send(new DescribeDaemonRevisionsCommand({ daemonRevisionArns: revisionArns }));
    expect(revisions.daemonRevisions?.[0]?.containerImages).toEqual([
      { containerName: 'router', image: daemonImage, imageDigest: DIGEST_A },
    ]);
    expect(revisions.failures).toEqual([]);
  });

  it('given a daemon deployment in progress, then both the source and the target revision are current', async () => {
    ecs.createDaemon('prod', 'agent', [{ name: 'agent', image: daemonImage }]);
    registry.push('app', 'prod', DIGEST_B);
    const target = ecs.updateDaemon('prod', 'agent', [{ name: 'agent', image: daemonImage }]);
    const daemonArn = `arn:aws:ecs:${REGION}:${ACCOUNT}:daemon/prod/agent`;

    const during = await client.send(new DescribeDaemonCommand({ daemonArn }));
    expect(during.daemon?.currentRevisions?.map((r) => r.arn)).toHaveLength(2);
    ecs.completeDaemonDeployment('prod', 'agent');
    const after = await client.send(new DescribeDaemonCommand({ daemonArn }));
    expect(after.daemon?.currentRevisions?.map((r) => r.arn)).toEqual([target]);
  });

  it('given the pinned digest is gone from ECR, when a daemon task starts, then it fails with CannotPullContainerError', () => {
    ecs.createDaemon('prod', 'agent', [{ name: 'agent', image: daemonImage }]);
    registry.push('app', 'prod', DIGEST_B);
    registry.expire('app', DIGEST_A);

    const outcome = ecs.launchDaemonTask('prod', 'agent');

    expect(outcome.ok).toBe(false);
    expect(!outcome.ok && outcome.reason).toMatch(/^CannotPullContainerError: .*app@sha256:a{64}: not found$/);
  });

  // The pinned SDK has no paginator for ListDaemons: the inventory follows nextToken itself, as here.
  it('lists daemons 100 a page by default, per cluster, and nextToken leads through them all', async () => {
    for (let i = 0; i < 105; i += 1) ecs.createDaemon('prod', `d${i}`, [{ name: 'c', image: daemonImage }]);
    ecs.createCluster('other');
    ecs.createDaemon('other', 'elsewhere', [{ name: 'c', image: daemonImage }]);

    const first = await client.send(new ListDaemonsCommand({ clusterArn: 'prod' }));
    expect(first.daemonSummariesList).toHaveLength(100);
    const all: string[] = [];
    let nextToken: string | undefined;
    do {
      const page = await client.send(new ListDaemonsCommand({ clusterArn: 'prod', maxResults: 40, nextToken }));
      all.push(...(page.daemonSummariesList ?? []).map((d) => d.daemonArn!));
      nextToken = page.nextToken;
    } while (nextToken);
    expect(new Set(all).size).toBe(105);
    expect(all.some((arn) => arn.endsWith('/elsewhere'))).toBe(false);
  });

  it('refuses more than 20 revision ARNs, answers an unknown one as a failure and an unknown daemon as DaemonNotFoundException', async () => {
    const arns = Array.from({ length: 21 }, (_, i) => `arn:aws:ecs:${REGION}:${ACCOUNT}:daemon-revision/prod/x/${i}`);
    await expect(client.send(new DescribeDaemonRevisionsCommand({ daemonRevisionArns: arns }))).rejects.toBeInstanceOf(
      InvalidParameterException,
    );
    const one = await client.send(new DescribeDaemonRevisionsCommand({ daemonRevisionArns: arns.slice(0, 1) }));
    expect(one.failures).toEqual([{ arn: arns[0], reason: 'MISSING' }]);
    await expect(
      client.send(new DescribeDaemonCommand({ daemonArn: `arn:aws:ecs:${REGION}:${ACCOUNT}:daemon/prod/none` })),
    ).rejects.toBeInstanceOf(DaemonNotFoundException);
  });
});

describe('paging: every list operation returns more than one page', () => {
  it('ListClusters pages at maxResults and the SDK paginator collects every cluster', async () => {
    for (let i = 0; i < 6; i += 1) ecs.createCluster(`c${i}`);
    const first = await client.send(new ListClustersCommand({ maxResults: 4 }));
    expect(first.clusterArns).toHaveLength(4);
    expect(first.nextToken).toBeDefined();
    const all: string[] = [];
    for await (const page of paginateListClusters({ client, pageSize: 4 }, {})) all.push(...page.clusterArns!);
    expect(all).toHaveLength(7);
    expect(new Set(all).size).toBe(7);
  });

  // "If this parameter isn't used, then ListServices returns up to 10 results" (ListServicesRequest.maxResults)
  it('ListServices returns 10 by default and pages through all services', async () => {
    const taskDefinition = ecs.registerTaskDefinition('svc', [{ name: 'app', image: `${HOST}/app:prod` }]);
    for (let i = 0; i < 25; i += 1) ecs.createService('prod', `svc-${i}`, taskDefinition, 0);
    const first = await client.send(new ListServicesCommand({ cluster: 'prod' }));
    expect(first.serviceArns).toHaveLength(10);
    let pages = 0;
    const all: string[] = [];
    for await (const page of paginateListServices({ client }, { cluster: 'prod' })) {
      pages += 1;
      all.push(...page.serviceArns!);
    }
    expect(pages).toBe(3);
    expect(new Set(all).size).toBe(25);
  });

  // "If this parameter isn't used, then ListTasks returns up to 100 results" (ListTasksRequest.maxResults)
  it('ListTasks returns 100 by default and pages through all tasks', async () => {
    const taskDefinition = ecs.registerTaskDefinition('web', [{ name: 'app', image: `${HOST}/app:prod` }]);
    ecs.createService('prod', 'web', taskDefinition, 250);
    const first = await client.send(new ListTasksCommand({ cluster: 'prod' }));
    expect(first.taskArns).toHaveLength(100);
    const all: string[] = [];
    for await (const page of paginateListTasks({ client }, { cluster: 'prod', serviceName: 'web' }))
      all.push(...page.taskArns!);
    expect(new Set(all).size).toBe(250);
  });

  // "If this parameter isn't used, then ListServiceDeployments returns up to 20 results" (ListServiceDeploymentsRequest.maxResults)
  it('ListServiceDeployments returns 20 by default and pages through all deployments', async () => {
    const taskDefinition = ecs.registerTaskDefinition('web', [{ name: 'app', image: `${HOST}/app:prod` }]);
    ecs.createService('prod', 'web', taskDefinition, 0);
    for (let i = 0; i < 24; i += 1) {
      ecs.updateService('prod', 'web', { forceNewDeployment: true });
      ecs.completeDeployment('prod', 'web');
    }
    const first = await client.send(new ListServiceDeploymentsCommand({ cluster: 'prod', service: 'web' }));
    expect(first.serviceDeployments).toHaveLength(20);
    // The SDK ships no paginator for ListServiceDeployments: callers follow nextToken themselves.
    const all: string[] = [];
    let nextToken: string | undefined;
    let pages = 0;
    do {
      const page = await client.send(new ListServiceDeploymentsCommand({ cluster: 'prod', service: 'web', nextToken }));
      all.push(...page.serviceDeployments!.map((d) => d.serviceDeploymentArn!));
      nextToken = page.nextToken;
      pages += 1;
    } while (nextToken);
    expect(pages).toBe(2);
    expect(new Set(all).size).toBe(25);
  });

  it('refuses a page token that came from another listing', async () => {
    ecs.createCluster('other');
    const taskDefinition = ecs.registerTaskDefinition('svc', [{ name: 'app', image: `${HOST}/app:prod` }]);
    for (let i = 0; i < 3; i += 1) ecs.createService('prod', `svc-${i}`, taskDefinition, 0);
    const { nextToken } = await client.send(new ListServicesCommand({ cluster: 'prod', maxResults: 1 }));
    await expect(client.send(new ListServicesCommand({ cluster: 'other', nextToken }))).rejects.toBeInstanceOf(
      InvalidParameterException,
    );
  });
});

describe('limits from the ECS model: asking for more fails', () => {
  const manyArns = (n: number, kind: string) =>
    Array.from({ length: n }, (_, i) => `arn:aws:ecs:${REGION}:${ACCOUNT}:${kind}/prod/x/${i}`);

  it.each([
    // "You may specify up to 10 services to describe in a single operation." (DescribeServicesRequest.services)
    [
      'DescribeServices with 11 services',
      () => new DescribeServicesCommand({ cluster: 'prod', services: Array.from({ length: 11 }, (_, i) => `s${i}`) }),
    ],
    // "A list of up to 100 task IDs or full ARN entries." (DescribeTasksRequest.tasks)
    [
      'DescribeTasks with 101 tasks',
      () => new DescribeTasksCommand({ cluster: 'prod', tasks: Array.from({ length: 101 }, (_, i) => `t${i}`) }),
    ],
    // "You can specify a maximum of 20 ARNs." (DescribeServiceRevisionsRequest.serviceRevisionArns)
    [
      'DescribeServiceRevisions with 21 ARNs',
      () => new DescribeServiceRevisionsCommand({ serviceRevisionArns: manyArns(21, 'service-revision') }),
    ],
    // "You can specify a maximum of 20 ARNs." (DescribeServiceDeploymentsRequest.serviceDeploymentArns)
    [
      'DescribeServiceDeployments with 21 ARNs',
      () => new DescribeServiceDeploymentsCommand({ serviceDeploymentArns: manyArns(21, 'service-deployment') }),
    ],
    // maxResults "can be between 1 and 100" (ListClusters/ListServices/ListTasks/ListServiceDeployments requests)
    ['ListClusters with maxResults 101', () => new ListClustersCommand({ maxResults: 101 })],
    ['ListServices with maxResults 101', () => new ListServicesCommand({ cluster: 'prod', maxResults: 101 })],
    ['ListTasks with maxResults 101', () => new ListTasksCommand({ cluster: 'prod', maxResults: 101 })],
    ['ListTasks with maxResults 0', () => new ListTasksCommand({ cluster: 'prod', maxResults: 0 })],
  ] as const)('%s → InvalidParameterException', async (_name, command) => {
    await expect(client.send(command() as never)).rejects.toBeInstanceOf(InvalidParameterException);
  });

  it('accepts exactly the limit', async () => {
    const out = await client.send(
      new DescribeServicesCommand({ cluster: 'prod', services: Array.from({ length: 10 }, (_, i) => `s${i}`) }),
    );
    expect(out.failures).toHaveLength(10);
  });
});

describe('throttling: the documented ECS token buckets', () => {
  // See: https://docs.aws.amazon.com/AmazonECS/latest/APIReference/request-throttling.html
  // "Service read actions: DescribeServices, ListServices — bucket maximum capacity 100, refill rate 20";
  // "Cluster resource read actions: … DescribeTasks … ListTasks — 100, 20". Error code ThrottlingException,
  // message "Rate exceeded".
  let clock: number;

  beforeEach(() => {
    clock = 1_000_000;
    const throttle = createEcsThrottle({ now: () => clock });
    transport.beforeCall = throttle.check;
    client = newClient(1); // no SDK retries: each send is one request
  });

  const listServices = () => client.send(new ListServicesCommand({ cluster: 'prod' }));

  it('serves a burst of 100 service reads, refuses the 101st with ThrottlingException "Rate exceeded"', async () => {
    for (let i = 0; i < 100; i += 1) await listServices();
    const refused = await listServices().catch(
      (error: unknown) => error as Error & { $metadata: { httpStatusCode?: number } },
    );
    expect(refused).toBeInstanceOf(Error);
    expect((refused as Error).name).toBe('ThrottlingException');
    expect((refused as Error).message).toBe('Rate exceeded');
    expect((refused as { $metadata: { httpStatusCode?: number } }).$metadata.httpStatusCode).toBe(400);
  });

  it('shares one bucket among the actions of a category and none with other categories', async () => {
    for (let i = 0; i < 50; i += 1) await listServices();
    for (let i = 0; i < 50; i += 1)
      await client.send(new DescribeServicesCommand({ cluster: 'prod', services: ['x'] }));
    await expect(listServices()).rejects.toMatchObject({ name: 'ThrottlingException' });
    // ListTasks is a "Cluster resource read action": its own bucket is still full.
    await expect(client.send(new ListTasksCommand({ cluster: 'prod' }))).resolves.toBeDefined();
  });

  it('refills at 20 tokens a second on the injected clock and never beyond capacity', async () => {
    for (let i = 0; i < 100; i += 1) await listServices();
    await expect(listServices()).rejects.toMatchObject({ name: 'ThrottlingException' });

    clock += 50; // 20 tokens/s → one token every 50 ms
    await expect(listServices()).resolves.toBeDefined();
    await expect(listServices()).rejects.toMatchObject({ name: 'ThrottlingException' });

    clock += 60_000; // a minute later the bucket is full again, and holds no more than its capacity
    let served = 0;
    for (let i = 0; i < 120; i += 1) {
      try {
        await listServices();
        served += 1;
      } catch {
        break;
      }
    }
    expect(served).toBe(100);
  });
});

describe('fleet builder', () => {
  it('builds 50 clusters, 2,000 services and 10,000 tasks that read back through the API', async () => {
    const registryWithImages = new FakeRegistry()
      .push('app', 'prod', DIGEST_A)
      .push('api', 'v1', DIGEST_B)
      .push('worker', 'main', DIGEST_C);
    const big = new SimEcs({ accountId: ACCOUNT, region: REGION, ecr: registryWithImages });
    const wire = new SimTransport();
    wire.register(big);
    const reader = new ECSClient({
      region: REGION,
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
      requestHandler: wire.requestHandler,
    });

    const started = performance.now();
    const fleet = populateFleet(big, registryWithImages, {
      clusters: 50,
      services: 2_000,
      tasks: 10_000,
      images: ['app:prod', 'api:v1', 'worker:main'],
      idleServices: 20,
    });
    const builtInMs = performance.now() - started;

    expect(fleet.taskCount).toBe(10_000);
    expect(builtInMs).toBeLessThan(5_000);
    const clusters: string[] = [];
    for await (const page of paginateListClusters({ client: reader }, {})) clusters.push(...page.clusterArns!);
    expect(clusters).toHaveLength(50);
    let services = 0;
    let tasks = 0;
    for (const cluster of clusters) {
      for await (const page of paginateListServices({ client: reader, pageSize: 100 }, { cluster, maxResults: 100 }))
        services += page.serviceArns!.length;
      for await (const page of paginateListTasks({ client: reader }, { cluster })) tasks += page.taskArns!.length;
    }
    expect(services).toBe(2_000);
    expect(tasks).toBe(10_000);
    const idle = fleet.services[fleet.services.length - 1]!;
    expect(idle.tasks).toBe(0);
    expect(big.taskArnsOf(idle.cluster, idle.service)).toEqual([]);
  });
});
