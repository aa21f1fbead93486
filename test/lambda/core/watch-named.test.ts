/**
 * The watch's events that name a workload without its digests (ECS deployment state changes, Lambda API calls
 * from CloudTrail): how they are read, which are read at all, and what happens when the workload cannot be read.
 * The reads through the SDK and the reader role run on the simulated organization in
 * test/scenarios/watch-workloads.test.ts.
 */
import { describe, expect, it } from 'vitest';
import type { InUseIndexWatchPort, WorkloadReadPort } from '../../../lambda/core/ports';
import type { Inventory } from '../../../lambda/core/types';
import { lambdaActionOf, parseWatchedRecord, watchTaskEvents } from '../../../lambda/core/watch';
import {
  ecsDaemonDeploymentStateChangeFixture,
  ecsDeploymentStateChangeFixture,
  lambdaUpdateFunctionCodeCallFixture,
} from '../../support/fixtures';

const record = (body: unknown, messageId = 'm-1') => ({
  messageId,
  body: typeof body === 'string' ? body : JSON.stringify(body),
});
const DIGEST = `sha256:${'c'.repeat(64)}`;
const REVISION = 'arn:aws:ecs:us-west-2:111122223333:service-revision/default/servicetest/4980306466373577095';

describe('reading the events that name a workload', () => {
  it("given AWS's documented deployment-in-progress sample, when read, then it names the service and its cluster", () => {
    const parsed = parseWatchedRecord(record(ecsDeploymentStateChangeFixture()));

    expect(parsed).toMatchObject({
      ok: true,
      kind: 'deployment',
      event: {
        eventName: 'SERVICE_DEPLOYMENT_IN_PROGRESS',
        serviceArn: 'arn:aws:ecs:us-west-2:111122223333:service/default/servicetest',
        clusterArn: 'arn:aws:ecs:us-west-2:111122223333:cluster/default',
        account: '111122223333',
        region: 'us-west-2',
        deploymentId: 'ecs-svc/123',
      },
    });
  });

  it('given an UpdateFunctionCode call under its versioned eventName, when read, then it names $LATEST of the function', () => {
    const parsed = parseWatchedRecord(record(lambdaUpdateFunctionCodeCallFixture()));

    expect(parsed).toMatchObject({
      ok: true,
      kind: 'lambda',
      event: { action: 'UpdateFunctionCode', target: { functionName: 'image-resizer' } },
    });
    expect(parsed.ok && parsed.kind === 'lambda' ? parsed.event.target : undefined).toEqual({
      functionName: 'image-resizer',
    });
  });

  it.each([
    ['CreateFunction20150331', 'CreateFunction'],
    ['UpdateFunctionCode20150331v2', 'UpdateFunctionCode'],
    ['PublishVersion20150331', 'PublishVersion'],
    ['UpdateAlias20150331', 'UpdateAlias'],
    ['CreateAlias20150331', 'CreateAlias'],
    ['UpdateAlias', 'UpdateAlias'],
    ['CreateFunctionUrlConfig20211031', undefined],
    ['UpdateFunctionConfiguration20150331v2', undefined],
    ['PublishLayerVersion20181031', undefined],
  ])('given the eventName %s, then the action is %s', (eventName, action) => {
    expect(lambdaActionOf(eventName)).toBe(action);
  });

  it('given PublishVersion and UpdateAlias calls, then they name the published version and the alias', () => {
    const publish = lambdaUpdateFunctionCodeCallFixture();
    publish.detail.eventName = 'PublishVersion20150331';
    publish.detail.responseElements.version = '7';
    const alias = lambdaUpdateFunctionCodeCallFixture() as { detail: Record<string, unknown> };
    alias.detail.eventName = 'UpdateAlias20150331';
    alias.detail.requestParameters = { functionName: 'image-resizer', name: 'live', functionVersion: '7' };

    const targets = [publish, alias].map((body) => {
      const parsed = parseWatchedRecord(record(body));
      return parsed.ok && parsed.kind === 'lambda' ? parsed.event.target : parsed;
    });

    expect(targets).toEqual([
      { functionName: 'image-resizer', version: '7' },
      { functionName: 'image-resizer', alias: 'live' },
    ]);
  });

  it('given a deployment event without the service in resources, then it is refused naming the field', () => {
    const event = ecsDeploymentStateChangeFixture() as { resources: string[] };
    event.resources = [];

    const parsed = parseWatchedRecord(record(event));

    expect(parsed.ok).toBe(false);
    expect(parsed.ok ? '' : parsed.reason).toMatch(/ECS Deployment State Change.*resources: must name the service/);
  });
});

describe('a batch with events that name a workload', () => {
  const inventoryOf = (kind: 'ecs-service' | 'lambda-function' | 'ecs-daemon', arn: string): Inventory => ({
    takenAt: new Date(0),
    byRepository: new Map([['app', new Map([[DIGEST, [{ kind, arn, image: 'x/app:prod' }]]])]]),
    gaps: [],
  });

  function harness(options: { reader?: Partial<WorkloadReadPort>; workloads?: { account: string; region: string }[] }) {
    const writes: { names: string[]; kinds: string[]; seenBy: string[]; version: number }[] = [];
    const reads: string[] = [];
    const logs: { level: string; message: string; extra: Record<string, unknown> }[] = [];
    const metrics: Record<string, number> = {};
    const index: InUseIndexWatchPort = {
      recordWatchedUse: async (entries, version) => {
        writes.push({
          names: entries.map((e) => e.name),
          kinds: entries.map((e) => e.kind),
          seenBy: entries.map((e) => e.seenBy),
          version,
        });
        return entries.map(() => 'refreshed' as const);
      },
      hasSettledOtherUsers: async () => true,
    };
    const reader: WorkloadReadPort = {
      takeServiceInventory: async (cluster, service) => {
        reads.push(`service ${cluster} ${service}`);
        return inventoryOf('ecs-service', REVISION);
      },
      takeFunctionInventory: async (target) => {
        reads.push(`function ${JSON.stringify(target)}`);
        return inventoryOf('lambda-function', 'arn:aws:lambda:us-west-2:111122223333:function:image-resizer');
      },
      takeDaemonRevisionInventory: async (arn) => {
        reads.push(`daemon revision ${arn}`);
        return inventoryOf('ecs-daemon', arn);
      },
      ...options.reader,
    };
    const log =
      (level: string) =>
      (message: string, extra: Record<string, unknown> = {}) =>
        void logs.push({ level, message, extra });
    const deps = {
      index,
      registry: { account: '111122223333', region: 'us-west-2' },
      ecr: {} as never,
      alerts: {} as never,
      logger: { info: log('info'), warn: log('warn'), error: log('error') },
      metrics: { count: (name: string, value: number) => void (metrics[name] = (metrics[name] ?? 0) + value) },
      readerFor: () => reader,
      ...(options.workloads ? { workloads: options.workloads } : {}),
    };
    return { writes, reads, logs, metrics, deps };
  }
  const settings = { tagPrefix: 'digest-guard', dryRun: false };

  it('given a deployment in progress in the own account, then the service is read once and its revision written as the list writes it', async () => {
    const h = harness({});

    const outcome = await watchTaskEvents([record(ecsDeploymentStateChangeFixture())], settings, h.deps);

    expect(outcome.failedMessageIds).toEqual([]);
    expect(h.reads).toEqual([
      'service arn:aws:ecs:us-west-2:111122223333:cluster/default arn:aws:ecs:us-west-2:111122223333:service/default/servicetest',
    ]);
    expect(h.writes).toEqual([{ names: [REVISION], kinds: ['ecs-service'], seenBy: ['watch'], version: 0 }]);
    expect(outcome.workloadReads).toBe(1);
  });

  it.each(['SERVICE_DEPLOYMENT_COMPLETED', 'SERVICE_DEPLOYMENT_FAILED'])(
    'given %s, then nothing is read or written and the record succeeds',
    async (eventName) => {
      const h = harness({});
      const event = ecsDeploymentStateChangeFixture();
      event.detail.eventName = eventName;

      const outcome = await watchTaskEvents([record(event)], settings, h.deps);

      expect(outcome.failedMessageIds).toEqual([]);
      expect(h.reads).toEqual([]);
      expect(h.writes).toEqual([]);
    },
  );

  it('given a daemon deployment in a listed workload, then its target revision is read once and written as the list writes it', async () => {
    const h = harness({ workloads: [{ account: '123456789012', region: 'us-west-2' }] });
    const event = ecsDaemonDeploymentStateChangeFixture();

    const outcome = await watchTaskEvents([record(event)], settings, h.deps);

    expect(outcome.failedMessageIds).toEqual([]);
    expect(h.reads).toEqual([`daemon revision ${event.detail.targetDaemonRevisionArn}`]);
    expect(h.writes).toEqual([
      { names: [event.detail.targetDaemonRevisionArn], kinds: ['ecs-daemon'], seenBy: ['watch'], version: 0 },
    ]);
    expect(outcome.workloadReads).toBe(1);
  });

  it('given a daemon deployment event without a target revision, then it is refused naming the field', async () => {
    const h = harness({});
    const event = ecsDaemonDeploymentStateChangeFixture() as { detail: Record<string, unknown> };
    delete event.detail.targetDaemonRevisionArn;

    const parsed = parseWatchedRecord(record(event));

    expect(parsed).toEqual({ ok: false, reason: expect.stringContaining('detail.targetDaemonRevisionArn') });
    expect(h.reads).toEqual([]);
  });

  it('given a Lambda call that failed (errorCode), then nothing is read', async () => {
    const h = harness({});
    const call = lambdaUpdateFunctionCodeCallFixture() as { detail: Record<string, unknown> };
    call.detail.errorCode = 'ResourceConflictException';

    const outcome = await watchTaskEvents([record(call)], settings, h.deps);

    expect(outcome.failedMessageIds).toEqual([]);
    expect(h.reads).toEqual([]);
  });

  it('given an UpdateFunctionCode call, then the function is read once and its entry written', async () => {
    const h = harness({});

    await watchTaskEvents([record(lambdaUpdateFunctionCodeCallFixture())], settings, h.deps);

    expect(h.reads).toEqual(['function {"functionName":"image-resizer"}']);
    expect(h.writes).toEqual([
      {
        names: ['arn:aws:lambda:us-west-2:111122223333:function:image-resizer'],
        kinds: ['lambda-function'],
        seenBy: ['watch'],
        version: 0,
      },
    ]);
  });

  it('given a deployment in an account that is neither the guard’s nor listed, then it is logged and counted, not failed and not read', async () => {
    const h = harness({ workloads: [{ account: '222222222222', region: 'us-west-2' }] });
    const event = ecsDeploymentStateChangeFixture();
    event.account = '999999999999';
    event.resources = ['arn:aws:ecs:us-west-2:999999999999:service/default/servicetest'];

    const outcome = await watchTaskEvents([record(event)], settings, h.deps);

    expect(outcome.failedMessageIds).toEqual([]);
    expect(h.reads).toEqual([]);
    expect(h.metrics.UnreadableWorkloadEvents).toBe(1);
    expect(h.logs.find((l) => l.level === 'warn')?.extra.whatToDo).toMatch(/add 999999999999 to workloadAccounts/);
  });

  it('given the read fails in a listed workload, then the record fails and the error names the reader role to check', async () => {
    const h = harness({
      workloads: [{ account: '222222222222', region: 'us-west-2' }],
      reader: {
        takeServiceInventory: async () => {
          throw Object.assign(new Error('not authorized to perform: sts:AssumeRole'), { name: 'AccessDenied' });
        },
      },
    });
    const event = ecsDeploymentStateChangeFixture();
    event.account = '222222222222';
    event.resources = ['arn:aws:ecs:us-west-2:222222222222:service/default/servicetest'];

    const outcome = await watchTaskEvents([record(event, 'dep-1')], settings, h.deps);

    expect(outcome.failedMessageIds).toEqual(['dep-1']);
    expect(h.writes).toEqual([]);
    expect(h.metrics.InventoryFailures).toBe(1);
    expect(h.logs.find((l) => l.level === 'error')?.extra.whatToDo).toMatch(
      /account 222222222222 deployed the workload stack in us-west-2 \(role ecr-digest-guard-reader-us-west-2\)/,
    );
  });
});
