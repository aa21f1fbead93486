/**
 * The watch pages at the onset in other accounts: a forwarded `SERVICE_TASK_START_IMPAIRED` (or
 * `DAEMON_TASK_START_IMPAIRED`) of a workload is read through that workload's reader and checked with the push
 * path's impairment step (lambda/core/service-impairment.ts). The same flow through the SDK, the reader role and
 * the simulated buses runs in test/scenarios/forwarding.test.ts.
 * Events: the "Service task start impaired" example of
 * https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs_service_events.html and the daemon one of
 * https://docs.aws.amazon.com/AmazonECS/latest/developerguide/managed-daemons-events.html (test/fixtures).
 */
import { describe, expect, it } from 'vitest';
import type { Alert, EcrPort, InUseIndexWatchPort, WorkloadReadPort } from '../../../lambda/core/ports';
import type { Inventory } from '../../../lambda/core/types';
import { parseWatchedRecord, watchTaskEvents } from '../../../lambda/core/watch';
import { daemonTaskStartImpairedEventFixture, serviceTaskStartImpairedEventFixture } from '../../support/fixtures';

const REGISTRY = { account: '999988887777', region: 'us-west-2' };
const HOST = `${REGISTRY.account}.dkr.ecr.${REGISTRY.region}.amazonaws.com`;
// the fixtures' accounts: a workload B (the service sample) and a workload D (the daemon sample)
const B = { account: '111122223333', region: 'us-west-2' };
const D = { account: '123456789012', region: 'us-west-2' };
const SERVICE = 'arn:aws:ecs:us-west-2:111122223333:service/default/servicetest';
const CLUSTER = 'arn:aws:ecs:us-west-2:111122223333:cluster/default';
const PINNED = `sha256:${'a'.repeat(64)}`;

const record = (body: unknown, messageId = 'm-1') => ({ messageId, body: JSON.stringify(body) });

function pinning(kind: 'ecs-service' | 'ecs-daemon', arn: string, repository = 'shop'): Inventory {
  return {
    takenAt: new Date(0),
    byRepository: new Map([[repository, new Map([[PINNED, [{ kind, arn, image: `${HOST}/${repository}:prod` }]]])]]),
    gaps: [],
  };
}

function harness(options: { reader?: Partial<WorkloadReadPort>; workloads?: (typeof B)[] } = {}) {
  const reads: string[] = [];
  const readersAsked: string[] = [];
  const alerts: Alert[] = [];
  const logs: { level: string; message: string; extra: Record<string, unknown> }[] = [];
  const metrics: Record<string, number> = {};
  const index: InUseIndexWatchPort = {
    recordWatchedUse: async () => {
      throw new Error('an impairment writes nothing to the index');
    },
    hasSettledOtherUsers: async () => true,
  };
  // The registry no longer has the pinned digest.
  const ecr: EcrPort = {
    describeDigests: async (_repository, digests) => digests.map((digest) => ({ digest, present: false as const })),
    addProtectiveTags: async (_repository, requests) => requests.map(() => ({ outcome: 'image-missing' as const })),
    referencedManifests: async () => new Map(),
    restoreArchivedImage: async () => ({ outcome: 'image-missing' as const }),
  } as EcrPort;
  const reader: WorkloadReadPort = {
    takeServiceInventory: async (cluster, service) => {
      reads.push(`service ${cluster} ${service}`);
      return pinning('ecs-service', `${service.replace(':service/', ':service-revision/')}/1`);
    },
    takeDaemonRevisionInventory: async (arn) => {
      reads.push(`daemon revision ${arn}`);
      return pinning('ecs-daemon', arn);
    },
    takeFunctionInventory: async () => {
      throw new Error('no function here');
    },
    ...options.reader,
  };
  const log =
    (level: string) =>
    (message: string, extra: Record<string, unknown> = {}) =>
      void logs.push({ level, message, extra });
  const deps = {
    index,
    registry: REGISTRY,
    ecr,
    alerts: { publish: async (alert: Alert) => void alerts.push(alert) },
    logger: { info: log('info'), warn: log('warn'), error: log('error') },
    metrics: { count: (name: string, value: number) => void (metrics[name] = (metrics[name] ?? 0) + value) },
    readerFor: (workload: typeof B) => {
      readersAsked.push(`${workload.account}/${workload.region}`);
      return reader;
    },
    workloads: options.workloads ?? [B, D],
  };
  return { reads, readersAsked, alerts, logs, metrics, deps };
}
const settings = { tagPrefix: 'digest-guard', dryRun: false };

describe('forwarded start-impaired actions in the watch', () => {
  it("given AWS's documented service sample, when the watch reads the record, then it is an impairment of that service", () => {
    const parsed = parseWatchedRecord(record(serviceTaskStartImpairedEventFixture()));

    expect(parsed).toMatchObject({
      ok: true,
      kind: 'impairment',
      impairments: [{ account: B.account, region: B.region, serviceArn: SERVICE, clusterArn: CLUSTER }],
    });
  });

  it("given workload B's service pins a digest gone from the registry, when B's impairment is watched, then B's reader reads that service once and one CRITICAL alert names B, the service and the digest", async () => {
    const h = harness();

    const outcome = await watchTaskEvents(
      [record(serviceTaskStartImpairedEventFixture(), 'm-1'), record(serviceTaskStartImpairedEventFixture(), 'm-2')],
      settings,
      h.deps,
    );

    expect(outcome.failedMessageIds).toEqual([]);
    expect(h.readersAsked).toEqual([`${B.account}/${B.region}`]);
    expect(h.reads).toEqual([`service ${CLUSTER} ${SERVICE}`]);
    expect(outcome.workloadReads).toBe(1);
    expect(h.alerts).toHaveLength(1);
    const [alert] = h.alerts;
    expect(alert!.severity).toBe('CRITICAL');
    expect(alert!.subject).toContain('ECS service servicetest cannot start');
    // the repository is the guard's registry; the service is B's, named with its account and region
    expect(alert!.text).toContain(`repository shop (account ${REGISTRY.account}, ${REGISTRY.region})`);
    expect(alert!.text).toContain(
      `ECS service default/servicetest in account ${B.account} (${B.region}) cannot start tasks (SERVICE_TASK_START_IMPAIRED`,
    );
    expect(alert!.text).toContain(PINNED);
    expect(alert!.text).toMatch(/WHAT TO DO/);
    expect(outcome.reports.map((r) => [r.account, r.region, r.repository, r.gone.map((g) => g.digest)])).toEqual([
      [REGISTRY.account, REGISTRY.region, 'shop', [PINNED]],
    ]);
  });

  it("given a workload's daemon pins a digest gone from the registry, when its DAEMON_TASK_START_IMPAIRED is watched, then the revision is read once and one CRITICAL alert names the daemon and the digest", async () => {
    const h = harness();
    const event = daemonTaskStartImpairedEventFixture();

    const outcome = await watchTaskEvents([record(event)], settings, h.deps);

    expect(outcome.failedMessageIds).toEqual([]);
    expect(h.reads).toEqual([`daemon revision ${event.detail.daemonRevisionArn}`]);
    expect(h.alerts.map((a) => a.severity)).toEqual(['CRITICAL']);
    expect(h.alerts[0]!.subject).toContain('ECS daemon my-daemon cannot start');
    expect(h.alerts[0]!.text).toContain(`ECS daemon my-cluster/my-daemon in account ${D.account} (${D.region})`);
    expect(h.alerts[0]!.text).toContain(PINNED);
  });

  it('given an impairment in an account the guard does not list, then it is logged and counted, not read, not paged, not failed', async () => {
    const h = harness({ workloads: [D] });

    const outcome = await watchTaskEvents([record(serviceTaskStartImpairedEventFixture())], settings, h.deps);

    expect(outcome.failedMessageIds).toEqual([]);
    expect(h.reads).toEqual([]);
    expect(h.alerts).toEqual([]);
    expect(h.metrics.UnreadableWorkloadEvents).toBe(1);
    const warning = h.logs.find((l) => l.level === 'warn');
    expect(warning?.extra).toMatchObject({ account: B.account, region: B.region, service: SERVICE });
    expect(warning?.extra.whatToDo).toMatch(new RegExp(`add ${B.account} to workloadAccounts`));
  });

  it("given B's reader cannot be assumed, when B's impairment is watched, then the record fails and the log names the reader role to check", async () => {
    const h = harness({
      reader: {
        takeServiceInventory: async () => {
          throw Object.assign(new Error('not authorized to perform: sts:AssumeRole'), { name: 'AccessDenied' });
        },
      },
    });

    const outcome = await watchTaskEvents([record(serviceTaskStartImpairedEventFixture(), 'imp-1')], settings, h.deps);

    expect(outcome.failedMessageIds).toEqual(['imp-1']);
    expect(h.alerts).toEqual([]);
    expect(h.logs.find((l) => l.level === 'error')?.extra.whatToDo).toMatch(
      new RegExp(
        `account ${B.account} deployed the workload stack in ${B.region} \\(role ecr-digest-guard-reader-us-west-2\\)`,
      ),
    );
  });

  it('given the impaired service pins only images of another registry, then nothing is checked and the log says so', async () => {
    // The reader keeps only this registry's images (lambda/adapters/inventory.ts): another registry's are not in it.
    const h = harness({
      reader: { takeServiceInventory: async () => ({ takenAt: new Date(0), byRepository: new Map(), gaps: [] }) },
    });

    const outcome = await watchTaskEvents([record(serviceTaskStartImpairedEventFixture())], settings, h.deps);

    expect(outcome.failedMessageIds).toEqual([]);
    expect(h.alerts).toEqual([]);
    expect(h.logs.map((l) => l.message)).toContain(
      'impaired service pins no image of this registry in scope: nothing to check',
    );
  });
});
