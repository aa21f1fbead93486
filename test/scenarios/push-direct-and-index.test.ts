/**
 * Scenario tests: a registry-account guard wired the DEFAULT multi-account way (the push function's environment
 * as the construct synthesizes it for `workloadAccounts`, read by the push handler's own config reader), on the
 * simulated organization, through the real push and reconcile handlers, adapters and SDK clients:
 * - a service in a workload account pins a digest of the registry, two pushes move its tag: the digest is
 *   protected at push time, before any later reconcile, from the index; the own account's from its direct
 *   inventory;
 * - a workload with no complete list yet: what can be seen is protected, and the alert names the workload;
 * - an index read that fails: the own account is still protected from its direct inventory, the error log says
 *   what to do, and every record of the batch is reported failed so the queue redelivers it, then dead-letters it.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { readPushHandlerConfig } from '../../lambda/handlers/config';
import { type GuardOnSim, guardOnSim } from '../../sim/guard-on-sim';
import {
  createGuardResources,
  deployWorkloadStack,
  IN_USE_INDEX_TABLE,
  reconcileOnOrganization,
} from '../../sim/guard-on-organization';
import { dockerManifest } from '../../sim/manifests';
import { SimulatedOrganization } from '../../sim/organization';
import type { SimulatedAccount } from '../../sim/account';
import { logicalIdOf, synthesizeGuard, TEST_ENV } from '../support/cdk-app';
import { alertsOf } from '../support/sim-scenario';

const REGISTRY = TEST_ENV.account;
const REGION = TEST_ENV.region;
const WORKLOAD_B = '222222222222';
const WORKLOAD_C = '333333333333';

/**
 * The push function's environment as the construct synthesizes it for these props, with the two values only
 * known at deploy time (the table and topic references) resolved to the simulated ones.
 */
function pushEnvironment(workloadAccounts: string[], pushReadsIndex?: boolean): NodeJS.ProcessEnv {
  const { template, stack, guard } = synthesizeGuard(
    { alertEmails: ['ops@example.com'], workloadAccounts, ...(pushReadsIndex !== undefined ? { pushReadsIndex } : {}) },
    { bundle: false, stackId: `Union${workloadAccounts.length}${pushReadsIndex ?? ''}` },
  );
  const fn = template.findResources('AWS::Lambda::Function')[logicalIdOf(stack, guard.function)];
  const variables = (fn?.Properties.Environment?.Variables ?? {}) as Record<string, unknown>;
  const deployTime: Record<string, string> = {
    IN_USE_INDEX_TABLE_NAME: IN_USE_INDEX_TABLE,
    TOPIC_ARN: `arn:aws:sns:${REGION}:${REGISTRY}:ecr-digest-guard-alerts`,
  };
  const env: NodeJS.ProcessEnv = { AWS_REGION: REGION };
  for (const [name, value] of Object.entries(variables)) {
    if (typeof value === 'string') env[name] = value;
    else if (deployTime[name]) env[name] = deployTime[name];
  }
  return env;
}

/** The push handler on the registry, wired from that environment as the function wires itself. */
function defaultGuard(registry: SimulatedAccount, workloadAccounts: string[], pushReadsIndex?: boolean): GuardOnSim {
  const config = readPushHandlerConfig(pushEnvironment(workloadAccounts, pushReadsIndex));
  const index = config.inUseIndex;
  return guardOnSim(registry, {
    inventory: index
      ? {
          kind: index.mode ?? 'index',
          tableName: index.tableName,
          ...(index.workloadAccounts ? { workloadAccounts: index.workloadAccounts } : {}),
          ...(index.workloadRegions ? { workloadRegions: index.workloadRegions } : {}),
        }
      : { kind: 'direct' },
  });
}

let org: SimulatedOrganization;
let registry: SimulatedAccount;
let workloadB: SimulatedAccount;
let workloadC: SimulatedAccount;

function pushShop(tag: string, seed: string): string {
  const manifest = dockerManifest({ seed });
  return registry.ecr.pushImage('shop', { tag, manifest: manifest.text, mediaType: manifest.mediaType });
}

function runService(on: SimulatedAccount, service: string, tag: string): void {
  on.ecs.createCluster('prod');
  const definition = on.ecs.registerTaskDefinition(service, [
    { name: service, image: `${registry.ecr.registryHost}/shop:${tag}` },
  ]);
  on.ecs.createService('prod', service, definition, 1);
}

const protectiveTagOf = (digest: string) => `digest-guard-${digest.replace(':', '-')}`;
const tagsOfDigest = (digest: string) => registry.ecr.imagesOf('shop').find((image) => image.digest === digest)?.tags;

beforeEach(async () => {
  org = new SimulatedOrganization({
    accounts: [REGISTRY, WORKLOAD_B, WORKLOAD_C].map((accountId) => ({ accountId, regions: [REGION] })),
  });
  registry = org.account(REGISTRY, REGION);
  workloadB = org.account(WORKLOAD_B, REGION);
  workloadC = org.account(WORKLOAD_C, REGION);
  await createGuardResources(org, registry);
  registry.ecr.createRepository('shop');
});

describe('a registry-account guard wired the default multi-account way, at push time', () => {
  it('given complete lists and a service in workload B pinned to digest D, when two pushes move its tag, then D is protected at push time, before any reconcile', async () => {
    deployWorkloadStack(org, WORKLOAD_B, registry);
    const pinned = pushShop('prod', 'build-1');
    const ownPinned = pushShop('own', 'own-1');
    runService(workloadB, 'web', 'prod');
    runService(registry, 'api', 'own');
    const guard = defaultGuard(registry, [WORKLOAD_B]);
    await guard.deliverNewEvents();
    const listed = await reconcileOnOrganization(org, registry, { workloadAccounts: [WORKLOAD_B] });
    expect(listed.workloadsNotListed).toBeUndefined();
    pushShop('prod', 'build-2');
    pushShop('prod', 'build-3');
    pushShop('own', 'own-2');

    const response = await guard.deliverNewEvents();

    expect(response.batchItemFailures).toEqual([]);
    expect(tagsOfDigest(pinned)).toEqual([protectiveTagOf(pinned)]);
    expect(tagsOfDigest(ownPinned)).toEqual([protectiveTagOf(ownPinned)]);
    const emails = alertsOf(registry, guard.topicArn).map((alert) => alert.email);
    expect(emails.some((email) => email.includes('ECS service prod/web'))).toBe(true);
    expect(emails.join('\n')).not.toContain('not seen at push time');
  });

  it('given workload C has no complete list yet, when a push moves tags pinned in B and C, then B is protected and the alert names C as not seen at push time', async () => {
    deployWorkloadStack(org, WORKLOAD_B, registry); // C has not deployed its workload stack: it cannot be listed
    const pinnedInB = pushShop('prod', 'build-1');
    const pinnedInC = pushShop('batch', 'batch-1');
    runService(workloadB, 'web', 'prod');
    runService(workloadC, 'jobs', 'batch');
    const guard = defaultGuard(registry, [WORKLOAD_B, WORKLOAD_C]);
    await guard.deliverNewEvents();
    const listed = await reconcileOnOrganization(org, registry, { workloadAccounts: [WORKLOAD_B, WORKLOAD_C] });
    expect(listed.workloadsNotListed).toBeDefined();
    pushShop('prod', 'build-2');
    pushShop('batch', 'batch-2');

    const response = await guard.deliverNewEvents();

    expect(response.batchItemFailures).toEqual([]);
    expect(tagsOfDigest(pinnedInB)).toEqual([protectiveTagOf(pinnedInB)]);
    // C's pin is not known at push time; the alert says so and the catch-up list covers it.
    expect(tagsOfDigest(pinnedInC)).toEqual([]);
    const emails = alertsOf(registry, guard.topicArn).map((alert) => alert.email);
    expect(emails.join('\n')).toContain(`${WORKLOAD_C} ${REGION}`);
    expect(emails.join('\n')).toContain('Workloads with no complete list yet');
  });

  it('given the index cannot be read, when a push moves a tag pinned in the own account, then it is protected, the error says what to do and every record is reported failed', async () => {
    deployWorkloadStack(org, WORKLOAD_B, registry);
    const ownPinned = pushShop('own', 'own-1');
    runService(registry, 'api', 'own');
    const guard = defaultGuard(registry, [WORKLOAD_B]);
    await guard.deliverNewEvents();
    await reconcileOnOrganization(org, registry, { workloadAccounts: [WORKLOAD_B] });
    registry.transport.injectFault({ service: 'dynamodb', operation: 'Query', code: 'InternalServerError', times: 10 });
    pushShop('own', 'own-2');
    pushShop('own', 'own-3');
    const ecsBefore = registry.callCount('ecs');

    const response = await guard.deliverNewEvents();

    expect(registry.callCount('ecs')).toBeGreaterThan(ecsBefore);
    expect(tagsOfDigest(ownPinned)).toEqual([protectiveTagOf(ownPinned)]);
    expect(response.batchItemFailures).toHaveLength(2);
    const logged = guard.logs.find((line) => line.level === 'error' && /in-use index/.test(line.message));
    expect(logged?.extra.whatToDo).toEqual(expect.stringContaining('dynamodb:Query'));
    const emails = alertsOf(registry, guard.topicArn).map((alert) => alert.email);
    expect(emails.join('\n')).toContain('could not be read');
  });

  it('given pushReadsIndex and the index cannot be read, when a push moves a tag pinned in the own account, then the direct fallback protects it and every record is reported failed: it missed workload B', async () => {
    deployWorkloadStack(org, WORKLOAD_B, registry);
    const ownPinned = pushShop('own', 'own-1');
    runService(registry, 'api', 'own');
    const guard = defaultGuard(registry, [WORKLOAD_B], true);
    await guard.deliverNewEvents();
    await reconcileOnOrganization(org, registry, { workloadAccounts: [WORKLOAD_B] });
    registry.transport.injectFault({
      service: 'dynamodb',
      operation: 'GetItem',
      code: 'InternalServerError',
      times: 10,
    });
    pushShop('own', 'own-2');

    const response = await guard.deliverNewEvents();

    expect(tagsOfDigest(ownPinned)).toEqual([protectiveTagOf(ownPinned)]);
    expect(response.batchItemFailures).toHaveLength(1);
    const emails = alertsOf(registry, guard.topicArn).map((alert) => alert.email);
    expect(emails.join('\n')).toContain('The in-use index was not used: it could not be read');
  });
});
