/**
 * Scenario tests: ECS Managed Daemons pin digests in their revisions (DescribeDaemonRevisions →
 * containerImages[].imageDigest), through the real reconcile handler, adapters and SDK clients on the simulated
 * account and organization.
 * - a daemon whose revision pins a digest whose tag moved: the reconcile protects it, the lifecycle pass spares it
 *   and the daemon's next task (a new container instance) still pulls;
 * - a workload whose reader role predates the daemon permissions: ListDaemons is denied, the list is partial (a gap
 *   naming the call and the cluster), nothing of the workload is removed from the index.
 * See: https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DescribeDaemonRevisions.html
 */
import { ECRClient } from '@aws-sdk/client-ecr';
import { ECSClient } from '@aws-sdk/client-ecs';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SNSClient } from '@aws-sdk/client-sns';
import { describe, expect, it } from 'vitest';
import { EcrAdapter } from '../../lambda/adapters/ecr';
import { inventoryFor } from '../../lambda/adapters/inventory';
import { SnsAlertAdapter } from '../../lambda/adapters/sns';
import { protectiveTagFor } from '../../lambda/core/protective-tag';
import { guardReconcileRoleName } from '../../lambda/core/workloads';
import { runReconcile } from '../../lambda/handlers/reconcile';
import { SimulatedAccount } from '../../sim/account';
import {
  createGuardResources,
  deployWorkloadStack,
  IN_USE_INDEX_TABLE as TABLE,
  reconcileOnOrganization,
} from '../../sim/guard-on-organization';
import { dockerManifest } from '../../sim/manifests';
import { SimulatedOrganization } from '../../sim/organization';
import { alertsOf, scheduledEventOn, tagsOf } from '../support/sim-scenario';

const PREFIX = 'digest-guard';

function push(account: SimulatedAccount, repository: string, tag: string, seed: string): string {
  const manifest = dockerManifest({ seed });
  return account.ecr.pushImage(repository, { tag, manifest: manifest.text, mediaType: manifest.mediaType });
}

describe('a daemon revision pins a digest whose tag moved', () => {
  it('given a daemon deployed from agent:prod and two pushes moving prod, when the guard reconciles, then the pinned digest is protected, survives the lifecycle pass and the daemon still starts', async () => {
    const account = new SimulatedAccount({ startAt: new Date('2026-11-26T10:00:00Z') });
    const topicArn = account.sns.createTopic('ecr-digest-guard-alerts');
    account.ecr.createRepository('agent');
    account.ecs.createCluster('prod');
    const pinned = push(account, 'agent', 'prod', 'agent-1');
    account.ecs.createDaemon('prod', 'log-router', [
      { name: 'router', image: `${account.ecr.registryHost}/agent:prod` },
    ]);
    push(account, 'agent', 'prod', 'agent-2');
    push(account, 'agent', 'prod', 'agent-3');
    expect(tagsOf(account, 'agent', pinned)).toEqual([]);

    const config = account.clientConfig({ maxAttempts: 3 });
    const ecs = new ECSClient(config);
    const lambda = new LambdaClient(config);
    const noop = () => undefined;
    const outcome = await runReconcile(
      { tagPrefix: PREFIX, dryRun: false, region: account.region },
      {
        ecr: new EcrAdapter(new ECRClient(config)),
        inventoryFor: (accountId, region) => inventoryFor(accountId, region, { ecs, lambda }),
        alerts: new SnsAlertAdapter(topicArn, new SNSClient(config)),
        logger: { info: noop, warn: noop, error: noop },
        now: () => account.clock.now(),
        event: scheduledEventOn(account),
      },
    );
    account.ecr.runLifecycleExpireUntagged('agent');

    expect(outcome.failed).toEqual([]);
    expect(tagsOf(account, 'agent', pinned)).toEqual([protectiveTagFor(pinned, PREFIX)]);
    expect(account.ecs.launchDaemonTask('prod', 'log-router')).toEqual({ ok: true });
    const [alert] = alertsOf(account, topicArn);
    expect(alert!.subject).toBe('ECR digest guard: Protected 1 in-use image in agent');
    expect(alert!.email).toContain('ECS daemon prod/log-router (container router');
    expect(account.callCount('ecs', 'DescribeDaemonRevisions')).toBe(1);
  });
});

describe('a workload reader role from before the daemon permissions', () => {
  it('given B runs a daemon and its reader role lacks ecs:ListDaemons, when A reconciles, then the list of B is partial with a gap naming ListDaemons and nothing of B is removed', async () => {
    const REGISTRY = '111111111111';
    const WORKLOAD_B = '222222222222';
    const org = new SimulatedOrganization({
      accounts: [
        { accountId: REGISTRY, regions: ['eu-west-1'] },
        { accountId: WORKLOAD_B, regions: ['eu-west-1'] },
      ],
    });
    org.putRole(REGISTRY, guardReconcileRoleName('eu-west-1'), { Statement: [] });
    const registry = org.account(REGISTRY, 'eu-west-1');
    const workload = org.account(WORKLOAD_B, 'eu-west-1');
    await createGuardResources(org, registry);
    registry.ecr.createRepository('agent');
    const pinned = push(registry, 'agent', 'prod', 'agent-1');
    workload.ecs.createCluster('prod');
    workload.ecs.createDaemon('prod', 'log-router', [
      { name: 'router', image: `${registry.ecr.registryHost}/agent:prod` },
    ]);
    deployWorkloadStack(org, WORKLOAD_B, { accountId: REGISTRY, region: 'eu-west-1' });
    const noop = () => undefined;
    const logger = { info: noop, warn: noop, error: noop };
    await reconcileOnOrganization(org, registry, { workloadAccounts: [WORKLOAD_B], logger });
    const entriesOfB = () =>
      registry.dynamodb
        .itemsOf(TABLE)
        .filter((item) => item.sk?.S !== 'status' && item.consumerAccount?.S === WORKLOAD_B)
        .map((item) => `${item.kind?.S} ${item.name?.S}`);
    expect(entriesOfB()).toEqual([
      expect.stringMatching(/^ecs-daemon arn:aws:ecs:eu-west-1:222222222222:daemon-revision\/prod\/log-router\//),
    ]);

    // B's stack is replaced by one of an older release, without the daemon reads.
    deployWorkloadStack(
      org,
      WORKLOAD_B,
      { accountId: REGISTRY, region: 'eu-west-1' },
      { withoutActions: ['ecs:ListDaemons', 'ecs:DescribeDaemon', 'ecs:DescribeDaemonRevisions'] },
    );
    registry.clock.advanceDays(1);
    await reconcileOnOrganization(org, registry, { workloadAccounts: [WORKLOAD_B], logger });

    const status = registry.dynamodb
      .itemsOf(TABLE)
      .find((item) => item.sk?.S === 'status' && JSON.stringify(item).includes(WORKLOAD_B));
    expect(status).toMatchObject({ lastListOutcome: { S: 'partial' } });
    expect(JSON.stringify(status)).toContain(
      'ECS daemons of cluster prod could not be listed (ListDaemons: AccessDeniedException',
    );
    expect(entriesOfB()).toHaveLength(1);
    expect(tagsOf(registry, 'agent', pinned)).toEqual(['prod']);
  });
});
