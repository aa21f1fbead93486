/**
 * Page at the onset: ECS reports `SERVICE_TASK_START_IMPAIRED` for a service whose pinned digest is gone or
 * archived; the real push handler, adapters and SDK clients on the simulated account.
 * Event shape: the "Service task start impaired" example of
 * https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs_service_events.html (`sim/events.ts`).
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { protectiveTagFor } from '../../lambda/core/protective-tag';
import { SimulatedAccount } from '../../sim/account';
import {
  type EcrImageActionEvent,
  toDaemonTaskStartImpairedEvent,
  toServiceTaskStartImpairedEvent,
} from '../../sim/events';
import { guardOnSim, type GuardOnSim } from '../../sim/guard-on-sim';
import { dockerManifest } from '../../sim/manifests';
import { alertsOf, tagsOf } from '../support/sim-scenario';

let account: SimulatedAccount;
let clusterArn: string;

function pushBuild(repository: string, tag: string, seed: string): string {
  const manifest = dockerManifest({ seed });
  return account.ecr.pushImage(repository, { tag, manifest: manifest.text, mediaType: manifest.mediaType });
}

/** A service deployed from repo:tag, pinned to the digest the tag had then (software version consistency). */
function deployService(name: string, repository: string, tag: string): string {
  const image = `${account.ecr.registryHost}/${repository}:${tag}`;
  const taskDefinition = account.ecs.registerTaskDefinition(name, [{ name, image }]);
  return account.ecs.createService('prod', name, taskDefinition, 1);
}

/** What ECS sends once the service's replacement tasks keep failing to start. */
function impairedEvent(serviceArn: string): EcrImageActionEvent {
  // guardOnSim types a batch as ECR Image Action events; the handler takes any EventBridge event body.
  return toServiceTaskStartImpairedEvent({
    account: account.accountId,
    region: account.region,
    clusterArn,
    serviceArn,
    time: account.clock.now(),
  }) as unknown as EcrImageActionEvent;
}

/** The seed incident without the guard: the tag moves on, the pinned digest is left untagged, then deleted. */
function incidentWithoutTheGuard(): { pinned: string; serviceArn: string } {
  const pinned = pushBuild('app', 'prod', 'build-1');
  const serviceArn = deployService('web', 'app', 'prod');
  account.ecs.stopAllTasks('prod', 'web');
  pushBuild('app', 'prod', 'build-2');
  account.clock.advanceDays(2);
  account.ecr.runLifecycleExpireUntagged('app');
  expect(tagsOf(account, 'app', pinned)).toBeUndefined();
  return { pinned, serviceArn };
}

let guard: GuardOnSim;

beforeEach(() => {
  account = new SimulatedAccount({ startAt: new Date('2026-11-26T10:00:00Z') });
  account.ecr.createRepository('app');
  clusterArn = account.ecs.createCluster('prod');
  guard = guardOnSim(account);
});

describe('page at the onset: SERVICE_TASK_START_IMPAIRED', () => {
  it('given the pinned digest was deleted and a replacement task cannot pull it, when ECS reports the service impaired, then one CRITICAL alert names the service, the digest, that it is gone and the fix', async () => {
    const { pinned, serviceArn } = incidentWithoutTheGuard();
    const launch = account.ecs.launchReplacementTask('prod', 'web');
    expect(!launch.ok && launch.stoppedReason).toMatch(/^CannotPullContainerError: /);

    const response = await guard.deliver([impairedEvent(serviceArn), impairedEvent(serviceArn)]);

    expect(response.batchItemFailures).toEqual([]);
    const alerts = alertsOf(account, guard.topicArn);
    expect(alerts).toHaveLength(1); // ECS repeated the event: one page per batch
    const [alert] = alerts;
    expect(alert!.severity).toBe('CRITICAL');
    expect(alert!.subject).toBe(
      'ECR digest guard: CRITICAL: ECS service web cannot start: 1 in-use image gone from app',
    );
    expect(alert!.email).toContain('ECS service prod/web cannot start tasks (SERVICE_TASK_START_IMPAIRED at ');
    expect(alert!.email).toContain(`Image ${pinned} is gone from the repository: the service cannot pull it.`);
    expect(alert!.email).toContain('NOW: redeploy the workloads above to an image that exists');
    expect(alert!.email).toMatch(/AttributeValue=PolicyExecutionEvent/);
    expect(alert!.email).toMatch(/AttributeValue=BatchDeleteImage/);
    expect(alert!.json).toMatchObject({
      severity: 'CRITICAL',
      events: ['service-start-impaired', 'digest-gone'],
      repository: 'app',
      gone: [{ digest: pinned, consumers: [{ kind: 'ecs-service', cluster: 'prod', service: 'web' }] }],
      impairedServices: [{ cluster: 'prod', service: 'web', serviceArn }],
    });
    expect(account.callCount('ecs', 'DescribeServices')).toBe(1);
    expect(account.callCount('ecs', 'DescribeServiceRevisions')).toBe(1);
    expect(account.callCount('ecs', 'ListClusters')).toBe(0); // no inventory of the whole account
  });

  it('given the pinned digest was archived, when ECS reports the service impaired, then it pages CRITICAL and starts the restore', async () => {
    const pinned = pushBuild('app', 'prod', 'build-1');
    const serviceArn = deployService('web', 'app', 'prod');
    account.ecr.archive('app', pinned);

    const response = await guard.deliver([impairedEvent(serviceArn)]);

    expect(response.batchItemFailures).toEqual([]);
    expect(account.ecr.imagesOf('app').find((i) => i.digest === pinned)?.status).toBe('ACTIVATING');
    const [alert, ...more] = alertsOf(account, guard.topicArn);
    expect(more).toEqual([]);
    expect(alert!.severity).toBe('CRITICAL');
    expect(alert!.subject).toBe(
      'ECR digest guard: CRITICAL: ECS service web cannot start: 1 in-use image archived in app',
    );
    expect(alert!.json).toMatchObject({
      events: ['service-start-impaired', 'digest-archived', 'restore-started'],
      restores: [{ digest: pinned, how: 'restore-started' }],
    });
  });

  it('given the pinned digest is present and tagged, when ECS reports the service impaired, then nothing is paged and the other cause is logged at INFO', async () => {
    const pinned = pushBuild('app', 'prod', 'build-1');
    const serviceArn = deployService('web', 'app', 'prod');

    const response = await guard.deliver([impairedEvent(serviceArn)]);

    expect(response.batchItemFailures).toEqual([]);
    expect(alertsOf(account, guard.topicArn)).toEqual([]);
    expect(guard.logs).toContainEqual(
      expect.objectContaining({
        level: 'info',
        message: 'impaired service: every image it pins is present and tagged; the impairment has another cause',
        extra: expect.objectContaining({ repository: 'app', digests: [pinned] }),
      }),
    );
    expect(account.callCount('ecr', 'PutImage')).toBe(0);
  });

  it('given the pinned digest is present but untagged, when ECS reports the service impaired, then it is protected and a WARNING is sent', async () => {
    const pinned = pushBuild('app', 'prod', 'build-1');
    const serviceArn = deployService('web', 'app', 'prod');
    pushBuild('app', 'prod', 'build-2');

    const response = await guard.deliver([impairedEvent(serviceArn)]);

    expect(response.batchItemFailures).toEqual([]);
    expect(tagsOf(account, 'app', pinned)).toEqual([protectiveTagFor(pinned, 'digest-guard')]);
    const [alert, ...more] = alertsOf(account, guard.topicArn);
    expect(more).toEqual([]);
    expect(alert!.severity).toBe('WARNING');
    expect(alert!.json).toMatchObject({ events: ['service-start-impaired', 'protected'] });
  });

  it('given a malformed Service Action event beside a good one, when delivered, then only the malformed record fails, with a reason', async () => {
    const { serviceArn } = incidentWithoutTheGuard();
    const bad = impairedEvent(serviceArn) as unknown as { resources: string[] };
    bad.resources = [];

    const batch = [bad as unknown as EcrImageActionEvent, impairedEvent(serviceArn)];
    const response = await guard.deliver(batch);

    expect(response.batchItemFailures).toHaveLength(1);
    expect(guard.logs).toContainEqual(
      expect.objectContaining({
        level: 'error',
        extra: expect.objectContaining({
          reason:
            'not an ECS Service Action event: resources: must name the impaired service ' +
            '(arn:aws:ecs:<region>:<account>:service/<cluster>/<name>)',
        }),
      }),
    );
    expect(alertsOf(account, guard.topicArn)).toHaveLength(1);
  });
});

describe('page at the onset: DAEMON_TASK_START_IMPAIRED', () => {
  /** A daemon deployed from agent:prod; the tag moves on, the pinned digest is left untagged, then expired. */
  function daemonIncidentWithoutTheGuard() {
    account.ecr.createRepository('agent');
    const pinned = pushBuild('agent', 'prod', 'agent-1');
    const daemonArn = account.ecs.createDaemon('prod', 'log-router', [
      { name: 'router', image: `${account.ecr.registryHost}/agent:prod` },
    ]);
    pushBuild('agent', 'prod', 'agent-2');
    account.clock.advanceDays(2);
    account.ecr.runLifecycleExpireUntagged('agent');
    expect(tagsOf(account, 'agent', pinned)).toBeUndefined();
    const launch = account.ecs.launchDaemonTask('prod', 'log-router');
    expect(launch.ok).toBe(false);
    return { pinned, daemonArn, revisionArn: account.ecs.currentDaemonRevisionArn('prod', 'log-router') };
  }

  function daemonImpairedEvent(
    daemon: { daemonArn: string; revisionArn: string },
    failureType: 'TASK_FAILED_TO_RUN' | 'TASK_CREATION_FAILED' = 'TASK_FAILED_TO_RUN',
  ): EcrImageActionEvent {
    return toDaemonTaskStartImpairedEvent({
      account: account.accountId,
      region: account.region,
      clusterArn,
      daemonArn: daemon.daemonArn,
      daemonRevisionArn: daemon.revisionArn,
      failureType,
      reason: 'CannotPullContainerError: pull image manifest has been retried 5 time(s)',
      time: account.clock.now(),
    }) as unknown as EcrImageActionEvent;
  }

  it('given the digest a daemon revision pins expired and its task cannot pull it, when ECS reports the daemon impaired, then one DescribeDaemonRevisions and one CRITICAL alert name the daemon and the digest', async () => {
    const daemon = daemonIncidentWithoutTheGuard();
    const before = account.callCount('ecs');

    const response = await guard.deliver([daemonImpairedEvent(daemon), daemonImpairedEvent(daemon)]);

    expect(response.batchItemFailures).toEqual([]);
    expect(account.callCount('ecs') - before).toBe(1);
    expect(account.callCount('ecs', 'DescribeDaemonRevisions')).toBe(1);
    const alerts = alertsOf(account, guard.topicArn);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.severity).toBe('CRITICAL');
    expect(alerts[0]!.subject).toBe(
      'ECR digest guard: CRITICAL: ECS daemon log-router cannot start: 1 in-use image gone from agent',
    );
    expect(alerts[0]!.email).toContain('ECS daemon prod/log-router cannot start tasks (DAEMON_TASK_START_IMPAIRED at ');
    expect(alerts[0]!.email).toContain(daemon.pinned);
  });

  it('given TASK_CREATION_FAILED names no task in resources, when the revision pins a gone digest, then it pages the same', async () => {
    const daemon = daemonIncidentWithoutTheGuard();

    const response = await guard.deliver([daemonImpairedEvent(daemon, 'TASK_CREATION_FAILED')]);

    expect(response.batchItemFailures).toEqual([]);
    const alerts = alertsOf(account, guard.topicArn);
    expect(alerts.map((a) => a.severity)).toEqual(['CRITICAL']);
    expect(alerts[0]!.email).toContain(daemon.pinned);
  });
});
