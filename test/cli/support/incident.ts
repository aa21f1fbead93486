/**
 * The state `npm run demo` ends in without the guard, on a simulated account: service prod/web is pinned to
 * the digest of `app:prod` it was deployed with, its tasks stopped, and two pipelines moved `prod` twice, so
 * the pinned digest has no tag left (the same steps as `bin/demo.ts`).
 */
import { SimulatedAccount, type SimulatedAccountOptions } from '../../../sim/account';
import { dockerManifest } from '../../../sim/manifests';

export interface Incident {
  readonly account: SimulatedAccount;
  /** the digest the service is pinned to, with no tag left */
  readonly pinned: string;
  /** the digest `prod` names now */
  readonly current: string;
}

export function incidentAccount(options: SimulatedAccountOptions = {}): Incident {
  const account = new SimulatedAccount({ startAt: new Date('2025-03-03T09:00:00Z'), ...options });
  const host = account.ecr.registryHost;
  account.ecr.createRepository('app');
  account.ecs.createCluster('prod');
  const pinned = account.ecr.pushImage('app', { tag: 'prod', manifest: dockerManifest({ seed: 'build-41' }).text });
  const taskDefinition = account.ecs.registerTaskDefinition('web', [{ name: 'web', image: `${host}/app:prod` }]);
  account.ecs.createService('prod', 'web', taskDefinition, 2);
  account.clock.advance(3_600_000);
  account.ecs.stopAllTasks('prod', 'web');
  account.ecr.pushImage('app', { tag: 'prod', manifest: dockerManifest({ seed: 'build-42-pipeline-A' }).text });
  account.clock.advance(2_000);
  const current = account.ecr.pushImage('app', {
    tag: 'prod',
    manifest: dockerManifest({ seed: 'build-42-pipeline-B' }).text,
  });
  return { account, pinned, current };
}
