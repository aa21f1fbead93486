/**
 * Scenario tests: the push path reads the in-use index instead of taking the account's inventory, on the
 * simulated account, through the real push and reconcile handlers, adapters and SDK clients.
 * - a fresh install (no list recorded yet): the direct inventory, and the alert says the index was not used;
 * - after a list: a push batch makes no ECS call and at most one index Query per pushed repository;
 * - the incident (a service pins a digest, two pushes move its tag) is protected through the index;
 * - a service in a workload account pinning a digest of this registry is protected at push time through the
 *   index (the registry-account layout, where the direct inventory sees no consumer at all);
 * - an index read that fails: the direct inventory, an error log that says what to do, and the alert says so;
 * - on one state after a list, every user the direct inventory finds (service revisions, rollback sources,
 *   tasks, Lambda functions, versions and aliases) is one the index finds: the index path is never a subset.
 */
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ECRClient } from '@aws-sdk/client-ecr';
import { ECSClient } from '@aws-sdk/client-ecs';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SNSClient } from '@aws-sdk/client-sns';
import { beforeEach, describe, expect, it } from 'vitest';
import { EcrAdapter } from '../../lambda/adapters/ecr';
import { DynamoDbInUseIndex, inUseIndexCreateTableInput } from '../../lambda/adapters/in-use-index';
import { inventoryFor } from '../../lambda/adapters/inventory';
import { inventoryFromIndexOrDirect } from '../../lambda/core/index-inventory';
import { consumerName } from '../../lambda/core/in-use-index';
import type { Inventory } from '../../lambda/core/types';
import { SnsAlertAdapter } from '../../lambda/adapters/sns';
import { workloadInventoryFor } from '../../lambda/adapters/workload-inventory';
import { guardReconcileRoleName, workloadReaderRoleName } from '../../lambda/core/workloads';
import { runReconcile } from '../../lambda/handlers/reconcile';
import { SimulatedAccount } from '../../sim/account';
import { type GuardOnSim, guardOnSim } from '../../sim/guard-on-sim';
import { dockerManifest } from '../../sim/manifests';
import { SimulatedOrganization } from '../../sim/organization';
import { alertsOf, scheduledEventOn, tagsOf } from '../support/sim-scenario';

const TABLE = 'ecr-digest-guard-in-use-index';
let account: SimulatedAccount;
let host: string;
let guard: GuardOnSim;
let deployed: string;

function push(repository: string, tag: string, seed: string): string {
  const manifest = dockerManifest({ seed });
  return account.ecr.pushImage(repository, { tag, manifest: manifest.text, mediaType: manifest.mediaType });
}

/** One reconcile run (the list of this account and region), wired as the scheduled function wires it. */
async function list(): Promise<void> {
  const config = account.clientConfig({ maxAttempts: 2 });
  const noop = () => undefined;
  const outcome = await runReconcile(
    { tagPrefix: 'digest-guard', dryRun: false, region: account.region },
    {
      ecr: new EcrAdapter(new ECRClient(config)),
      inventoryFor: (accountId, region) =>
        inventoryFor(accountId, region, { ecs: new ECSClient(config), lambda: new LambdaClient(config) }),
      alerts: new SnsAlertAdapter(account.sns.createTopic('reconcile-alerts'), new SNSClient(config)),
      inUseIndex: new DynamoDbInUseIndex(TABLE, new DynamoDBClient(config)),
      logger: { info: noop, warn: noop, error: noop },
      now: () => account.clock.now(),
      event: scheduledEventOn(account),
    },
  );
  expect(outcome.inUseIndex).toMatchObject({ outcome: 'complete' });
}

const isProtected = (repository: string, digest: string) =>
  (tagsOf(account, repository, digest) ?? []).some((tag) => tag.startsWith('digest-guard-'));

/** ECS, index Query and status GetItem calls made by `run`. */
async function callsOf(run: () => Promise<unknown>) {
  const before = {
    ecs: account.callCount('ecs'),
    query: account.callCount('dynamodb', 'Query'),
    get: account.callCount('dynamodb', 'GetItem') + account.callCount('dynamodb', 'BatchGetItem'),
  };
  await run();
  return {
    ecs: account.callCount('ecs') - before.ecs,
    query: account.callCount('dynamodb', 'Query') - before.query,
    get: account.callCount('dynamodb', 'GetItem') + account.callCount('dynamodb', 'BatchGetItem') - before.get,
  };
}

beforeEach(async () => {
  account = new SimulatedAccount({ startAt: new Date('2026-11-26T10:00:00Z') });
  host = account.ecr.registryHost;
  await new DynamoDBClient(account.clientConfig()).send(new CreateTableCommand(inUseIndexCreateTableInput(TABLE)));
  account.ecr.createRepository('app');
  account.ecr.createRepository('worker');
  account.ecs.createCluster('prod');
  deployed = push('app', 'prod', 'build-1');
  push('worker', 'prod', 'worker-1');
  const web = account.ecs.registerTaskDefinition('web', [{ name: 'web', image: `${host}/app:prod` }]);
  account.ecs.createService('prod', 'web', web, 2);
  guard = guardOnSim(account, { inventory: { kind: 'index', tableName: TABLE } });
  await guard.deliverNewEvents();
});

describe('the push path reads the in-use index', () => {
  it('given no list recorded yet, when a push moves a deployed tag, then the direct inventory protects it and the alert says the index was not used', async () => {
    push('app', 'prod', 'build-2');

    const calls = await callsOf(() => guard.deliverNewEvents());

    expect(isProtected('app', deployed)).toBe(true);
    expect(calls.ecs).toBeGreaterThan(0);
    const [alert] = alertsOf(account, guard.topicArn);
    expect(alert?.email).toContain('The in-use index was not used');
    expect(alert?.email).toContain(`no complete list is recorded yet for ${account.accountId} ${account.region}`);
  });

  it('given a complete list, when a batch pushes to two repositories, then it makes no ECS call and one index Query per repository', async () => {
    await list();
    push('app', 'prod', 'build-2');
    push('worker', 'prod', 'worker-2');

    const calls = await callsOf(() => guard.deliverNewEvents());

    expect(calls).toEqual({ ecs: 0, query: 2, get: 1 });
    expect(isProtected('app', deployed)).toBe(true);
  });

  it('given a service pinned to a digest and a complete list, when two pushes move its tag in one batch, then the index protects the digest and the alert names the service', async () => {
    await list();
    push('app', 'prod', 'build-2');
    push('app', 'prod', 'build-3');

    const calls = await callsOf(() => guard.deliverNewEvents());

    expect(calls.ecs).toBe(0);
    expect(isProtected('app', deployed)).toBe(true);
    const [alert] = alertsOf(account, guard.topicArn);
    expect(alert?.email).toContain('ECS service prod/web');
    expect(alert?.email).not.toContain('The in-use index was not used');
  });

  it('given a complete list, when reading the index fails, then the direct inventory protects the digest, the error says what to do and the alert says so', async () => {
    await list();
    account.transport.injectFault({ service: 'dynamodb', operation: 'Query', code: 'InternalServerError', times: 10 });
    push('app', 'prod', 'build-2');

    const calls = await callsOf(() => guard.deliverNewEvents());

    expect(calls.ecs).toBeGreaterThan(0);
    expect(isProtected('app', deployed)).toBe(true);
    const logged = guard.logs.find((line) => line.level === 'error' && /in-use index/.test(line.message));
    expect(logged?.extra.whatToDo).toEqual(expect.stringContaining('dynamodb:Query'));
    const [alert] = alertsOf(account, guard.topicArn);
    expect(alert?.email).toContain('The in-use index was not used: it could not be read');
  });
});

/** Every (repository, digest, kind, user) of an inventory, as the index keys a user. */
function usersOf(inventory: Inventory): string[] {
  return [...inventory.byRepository].flatMap(([repository, digests]) =>
    [...digests].flatMap(([digest, consumers]) =>
      consumers.map((c) => `${repository} ${digest.slice(7, 15)} ${c.kind} ${consumerName(c)}`),
    ),
  );
}

describe('the index and the direct inventory on the same state', () => {
  it('given every kind of user and a complete list, when both are read, then the index holds every user the direct inventory finds', async () => {
    const v2 = push('app', 'v2', 'build-v2');
    const next = account.ecs.registerTaskDefinition('web', [{ name: 'web', image: `${host}/app:v2` }]);
    account.ecs.updateService('prod', 'web', { taskDefinitionArn: next }); // in progress: a rollback source
    const job = account.ecs.registerTaskDefinition('job', [{ name: 'job', image: `${host}/worker:prod` }]);
    if (!account.ecs.runTask('prod', job).ok) throw new Error('the standalone task did not start');
    account.lambda.createFunction('resize', `${host}/app:v2`);
    account.lambda.publishVersion('resize');
    account.lambda.createAlias('resize', 'live', '1');
    await list();

    const config = account.clientConfig({ maxAttempts: 1 });
    const direct = inventoryFor(account.accountId, account.region, {
      ecs: new ECSClient(config),
      lambda: new LambdaClient(config),
    });
    const fromDirect = await direct.takeInventory();
    const fromIndex = await inventoryFromIndexOrDirect({
      index: new DynamoDbInUseIndex(TABLE, new DynamoDBClient(config)),
      direct: {
        takeInventory: () => Promise.reject(new Error('the index path must not fall back here')),
      },
      registry: { account: account.accountId, region: account.region },
      workloads: [{ account: account.accountId, region: account.region }],
      logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
      now: () => account.clock.now(),
    }).takeInventory(['app', 'worker']);

    const kinds = new Set(usersOf(fromDirect).map((user) => user.split(' ')[2]));
    expect([...kinds].sort()).toEqual(['ecs-rollback', 'ecs-service', 'ecs-task', 'lambda-function']);
    expect(usersOf(fromDirect).length).toBeGreaterThanOrEqual(8);
    expect(usersOf(fromIndex).sort()).toEqual(expect.arrayContaining(usersOf(fromDirect)));
    expect(fromIndex.byRepository.get('app')?.has(v2)).toBe(true);
    expect(fromIndex.notes).toBeUndefined();
  });
});

describe('a registry-account guard at push time', () => {
  const REGISTRY = '111111111111';
  const WORKLOAD = '222222222222';

  it('given a service in a workload account pinned to a digest of the registry and a complete list of both, when two pushes move its tag, then the index protects it with no ECS call in either account', async () => {
    const org = new SimulatedOrganization({
      accounts: [
        { accountId: REGISTRY, regions: ['eu-west-1'] },
        { accountId: WORKLOAD, regions: ['eu-west-1'] },
      ],
    });
    const registry = org.account(REGISTRY, 'eu-west-1');
    const workload = org.account(WORKLOAD, 'eu-west-1');
    const guardRole = guardReconcileRoleName('eu-west-1');
    org.putRole(REGISTRY, guardRole, { Statement: [] });
    // The reader the workload stack creates (test/scenarios/accounts.test.ts checks its trust in detail).
    org.putRole(
      WORKLOAD,
      workloadReaderRoleName('eu-west-1'),
      {
        Statement: [
          {
            Effect: 'Allow',
            Action: 'sts:AssumeRole',
            Principal: { AWS: `arn:aws:iam::${REGISTRY}:root` },
            Condition: { ArnEquals: { 'aws:PrincipalArn': `arn:aws:iam::${REGISTRY}:role/${guardRole}` } },
          },
        ],
      },
      { Statement: [{ Effect: 'Allow', Action: ['ecs:List*', 'ecs:Describe*', 'lambda:*'], Resource: '*' }] },
    );
    const guardConfig = org.clientConfig({ accountId: REGISTRY, region: 'eu-west-1', roleName: guardRole });
    await new DynamoDBClient(guardConfig).send(new CreateTableCommand(inUseIndexCreateTableInput(TABLE)));
    registry.ecr.createRepository('shop');
    const manifest = (seed: string) => dockerManifest({ seed });
    const pushShop = (seed: string) =>
      registry.ecr.pushImage('shop', {
        tag: 'prod',
        manifest: manifest(seed).text,
        mediaType: manifest(seed).mediaType,
      });
    const pinned = pushShop('build-1');
    workload.ecs.createCluster('prod');
    const web = workload.ecs.registerTaskDefinition('web', [
      { name: 'web', image: `${registry.ecr.registryHost}/shop:prod` },
    ]);
    workload.ecs.createService('prod', 'web', web, 2);
    const onRegistry = guardOnSim(registry, {
      inventory: { kind: 'index', tableName: TABLE, workloadAccounts: [WORKLOAD] },
    });
    await onRegistry.deliverNewEvents();
    const noop = () => undefined;
    const listed = await runReconcile(
      { tagPrefix: 'digest-guard', dryRun: false, region: 'eu-west-1', workloadAccounts: [WORKLOAD] },
      {
        ecr: new EcrAdapter(new ECRClient(guardConfig)),
        inventoryFor: (accountId, region) =>
          inventoryFor(accountId, region, { ecs: new ECSClient(guardConfig), lambda: new LambdaClient(guardConfig) }),
        workloadInventoryFor: (w, r) =>
          workloadInventoryFor(w, {
            registry: r,
            partition: 'aws',
            guardCredentials: guardConfig.credentials,
            clientConfig: { requestHandler: org.requestHandler, maxAttempts: 2 },
          }),
        alerts: new SnsAlertAdapter(onRegistry.topicArn, new SNSClient(guardConfig)),
        inUseIndex: new DynamoDbInUseIndex(TABLE, new DynamoDBClient(guardConfig)),
        logger: { info: noop, warn: noop, error: noop },
        now: () => org.clock.now(),
        event: scheduledEventOn(registry),
      },
    );
    expect(listed.workloadsNotListed).toBeUndefined();
    pushShop('build-2');
    pushShop('build-3');
    const ecsBefore = registry.callCount('ecs') + workload.callCount('ecs');

    await onRegistry.deliverNewEvents();

    expect(registry.callCount('ecs') + workload.callCount('ecs')).toBe(ecsBefore);
    expect(registry.ecr.imagesOf('shop').find((image) => image.digest === pinned)?.tags).toEqual([
      `digest-guard-${pinned.replace(':', '-')}`,
    ]);
    const alert = alertsOf(registry, onRegistry.topicArn).find((a) => a.email.includes('ECS service prod/web'));
    expect(alert?.email).not.toContain('The in-use index was not used');
  });
});
