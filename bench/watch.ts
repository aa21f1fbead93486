/**
 * The watch at the large account's scale, on a simulated organization: the guard in the registry account, the
 * large fleet (50 clusters, 2,000 services, 10,000 tasks over 300 repositories) in a workload account, and every
 * event that fleet's start emits (ECS Task State Change, ECS Deployment State Change) plus Lambda API calls
 * (UpdateFunctionCode, PublishVersion) of image functions there, delivered in SQS batches of the watch's size
 * through the watch as its function wires it (`watchOnOrganization`: watch role, reader role of the workload).
 * Measured from the simulated services' own call counts, not from what the watch reports: index write requests
 * per task event (bound 1), ECS calls in the workload per deployment event (bound 2: DescribeServices +
 * DescribeServiceRevisions), Lambda calls per Lambda API call (bound 1: GetFunction).
 */
import type { SQSRecord } from 'aws-lambda';
import { toLambdaApiCallEvent, toSqsEvent } from '../sim/events';
import { populateFleet } from '../sim/fleet';
import { createGuardResources, deployWorkloadStack, watchOnOrganization } from '../sim/guard-on-organization';
import { dockerManifest } from '../sim/manifests';
import { SimulatedOrganization } from '../sim/organization';
import { LARGE, repositoryName, type Shape } from './accounts';
import { fmt } from './stats';

const REGISTRY_ACCOUNT = '100000000000';
const WORKLOAD_ACCOUNT = '200000000000';
const REGION = 'eu-west-1';
/** The watch queue's batch size (lib/guard-functions.ts `WATCH_BATCH_SIZE`). */
const WATCH_BATCH_SIZE = 100;
/** Image functions in the workload account; each has one UpdateFunctionCode and one PublishVersion call. */
const FUNCTIONS = 500;

export interface WatchStreamPart {
  readonly events: number;
  /** requests to the measured service (index writes; ECS or Lambda calls in the workload) */
  readonly requests: number;
  readonly perEvent: number;
  readonly bound: number;
  /** perEvent / bound: at most 1 is within the bound */
  readonly ratioToBound: number;
  readonly failedRecords: number;
}

export interface WatchRun {
  readonly shape: string;
  readonly taskEvents: WatchStreamPart;
  readonly deploymentEvents: WatchStreamPart;
  readonly lambdaCalls: WatchStreamPart;
  /** distinct digests the watch checked at once as possibly new to the index (the index starts empty) */
  readonly firstSeen: number;
  /** checks made: a digest is checked again by each batch while its other users are younger than the settle time */
  readonly checks: number;
  /** ECR requests the checks cost (DescribeImages, batched per repository and batch) */
  readonly ecrRequests: number;
  /** distinct digests of the registry the task events name: what a fresh index should see for the first time */
  readonly distinctDigests: number;
}

export async function measureWatch(shape: Shape = LARGE): Promise<WatchRun> {
  // On the wall clock: the SDK judges the reader role's session expiry by it, as it does against AWS.
  const org = new SimulatedOrganization({
    accounts: [
      { accountId: REGISTRY_ACCOUNT, regions: [REGION] },
      { accountId: WORKLOAD_ACCOUNT, regions: [REGION] },
    ],
  });
  const registry = org.account(REGISTRY_ACCOUNT, REGION);
  const workload = org.account(WORKLOAD_ACCOUNT, REGION);
  await createGuardResources(org, registry);
  deployWorkloadStack(org, WORKLOAD_ACCOUNT, { accountId: REGISTRY_ACCOUNT, region: REGION });
  const repositories = Array.from({ length: shape.repositories }, (_, i) => repositoryName(i));
  const digests: string[] = [];
  const images = repositories.map((repository) => {
    registry.ecr.createRepository(repository);
    const manifest = dockerManifest({ seed: `${repository}@0` }).text;
    digests.push(
      `${registry.ecr.registryHost}/${repository}@${registry.ecr.pushImage(repository, { tag: 'prod', manifest })}`,
    );
    return `${registry.ecr.registryHost}/${repository}:prod`;
  });
  populateFleet(workload.ecs, registry.ecr, {
    clusters: shape.clusters,
    services: shape.services,
    tasks: shape.tasks,
    idleServices: shape.idleServices,
    images,
  });
  const functions = Array.from({ length: FUNCTIONS }, (_, i) => `fn-${String(i).padStart(3, '0')}`);
  const lambdaEvents = functions.flatMap((name, i) => {
    // By digest: the simulated Lambda resolves a tag only in its own account's registry.
    workload.lambda.createFunction(name, digests[i % digests.length]!);
    const version = workload.lambda.publishVersion(name);
    const call = { account: WORKLOAD_ACCOUNT, region: REGION, functionName: name, time: org.clock.now() };
    return [
      toLambdaApiCallEvent({ ...call, eventName: 'UpdateFunctionCode20150331v2' }),
      toLambdaApiCallEvent({ ...call, eventName: 'PublishVersion20150331', version }),
    ];
  });

  const watch = watchOnOrganization(org, registry, { workloadAccounts: [WORKLOAD_ACCOUNT] });
  const checked = new Set<string>();
  let checks = 0;
  const ecrBefore = registry.callCount('ecr');
  const deliver = async (
    events: readonly { readonly account: string; readonly region: string }[],
    requests: () => number,
    bound: number,
  ): Promise<WatchStreamPart> => {
    const before = requests();
    let failedRecords = 0;
    for (let at = 0; at < events.length; at += WATCH_BATCH_SIZE) {
      const records: SQSRecord[] = toSqsEvent(events.slice(at, at + WATCH_BATCH_SIZE)).Records;
      const outcome = await watch(records);
      failedRecords += outcome.failedMessageIds.length;
      checks += outcome.firstSeen.length;
      for (const seen of outcome.firstSeen) checked.add(`${seen.repository}@${seen.digest}`);
    }
    const count = requests() - before;
    const perEvent = events.length > 0 ? count / events.length : 0;
    return { events: events.length, requests: count, perEvent, bound, ratioToBound: perEvent / bound, failedRecords };
  };
  const indexWrites = () =>
    ['UpdateItem', 'TransactWriteItems', 'PutItem', 'DeleteItem'].reduce(
      (n, operation) => n + registry.callCount('dynamodb', operation),
      0,
    );
  const taskEvents = await deliver(workload.ecs.taskEvents, indexWrites, 1);
  const deploymentEvents = await deliver(workload.ecs.deploymentEvents, () => workload.callCount('ecs'), 2);
  const lambdaCalls = await deliver(lambdaEvents, () => workload.callCount('lambda'), 1);
  const distinctDigests = new Set(
    workload.ecs.taskEvents.flatMap((event) => event.detail.containers.map((c) => c.imageDigest)),
  ).size;
  const ecrRequests = registry.callCount('ecr') - ecrBefore;
  return {
    shape: shape.name,
    taskEvents,
    deploymentEvents,
    lambdaCalls,
    firstSeen: checked.size,
    checks,
    ecrRequests,
    distinctDigests,
  };
}

export function printWatch(run: WatchRun): void {
  const row = (label: string, part: WatchStreamPart, unit: string) =>
    console.log(
      `  ${label.padEnd(22)} ${String(part.events).padStart(6)} events  ${String(part.requests).padStart(6)} ${unit}` +
        `  ${fmt(part.perEvent, 3)} per event (bound ${part.bound}, ratio ${fmt(part.ratioToBound, 3)})` +
        (part.failedRecords > 0 ? `  ${part.failedRecords} records failed` : ''),
    );
  console.log(`${run.shape} fleet in a workload account, watched from the registry account:`);
  row('task state changes', run.taskEvents, 'index writes');
  row('deployment changes', run.deploymentEvents, 'ECS calls   ');
  row('Lambda API calls', run.lambdaCalls, 'Lambda calls');
  console.log(
    `  distinct digests checked at once: ${run.firstSeen} of ${run.distinctDigests} the task events name (the index ` +
      `starts empty); ${run.checks} checks, ${run.ecrRequests} ECR requests: every event falls within the settle ` +
      'time here, so each batch checks again (the most the settle rule can cost)',
  );
}
