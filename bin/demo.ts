/**
 * `npm run demo`: replays the incident on a simulated AWS account, twice: without the guard (the digest is
 * deleted and the replacement task cannot start) and with it (the digest is protected, the lifecycle pass
 * spares it, the task starts, and the alert arrives). Then the multi-account story on a simulated organization:
 * the registry in one account, the service that pins the digest in another, first with a guard that does not
 * see that account and then with one that lists it through the workload stack's reader role. Every line is read
 * back from the simulated state or from what the guard returned: nothing is narrated that did not happen.
 */
import { DescribeServiceRevisionsCommand, DescribeServicesCommand, ECSClient } from '@aws-sdk/client-ecs';
import { SimulatedAccount } from '../sim/account';
import { dockerManifest } from '../sim/manifests';
import { guardOnSim } from '../sim/guard-on-sim';
import {
  catchUpOnOrganization,
  createGuardResources,
  deployWorkloadStack,
  guardTopicArn,
  IN_USE_INDEX_TABLE,
  reconcileOnOrganization,
} from '../sim/guard-on-organization';
import { SimulatedOrganization } from '../sim/organization';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const short = (digest: string | undefined) => (digest ? `${digest.slice(0, 19)}…` : '(none)');

/** `T+…` since `start`, in the largest unit that keeps the story readable. */
function stampSince(start: number, now: Date): string {
  const seconds = Math.round((now.getTime() - start) / 1000);
  return seconds >= 86_400
    ? `T+${Math.floor(seconds / 86_400)}d`
    : seconds >= 3_600
      ? `T+${Math.floor(seconds / 3_600)}h${seconds % 3_600 ? `+${seconds % 3_600}s` : ''}`
      : `T+${seconds}s`;
}

async function replay(withGuard: boolean): Promise<void> {
  const account = new SimulatedAccount({ startAt: new Date('2025-03-03T09:00:00Z') });
  const start = account.clock.now().getTime();
  const say = (text: string) => console.log(`  ${stampSince(start, account.clock.now()).padEnd(9)} ${text}`);
  const tagsOf = (digest: string) => account.ecr.imagesOf('app').find((i) => i.digest === digest)?.tags;
  const describeTags = (digest: string) => {
    const tags = tagsOf(digest);
    return tags === undefined ? 'not in the repository' : tags.length ? `tags [${tags.join(', ')}]` : 'NO TAG';
  };
  const host = account.ecr.registryHost;
  const guard = withGuard ? guardOnSim(account) : undefined;
  account.ecr.createRepository('app');
  account.ecs.createCluster('prod');

  const build = (seed: string) => dockerManifest({ seed });
  const a = account.ecr.pushImage('app', { tag: 'prod', manifest: build('build-41').text });
  say(`pipeline pushes app:prod -> ${short(a)}`);
  const taskDefinition = account.ecs.registerTaskDefinition('web', [{ name: 'web', image: `${host}/app:prod` }]);
  account.ecs.createService('prod', 'web', taskDefinition, 2);
  const ecs = new ECSClient(account.clientConfig());
  const { services } = await ecs.send(new DescribeServicesCommand({ cluster: 'prod', services: ['web'] }));
  const revisionArn = services?.[0]?.currentServiceRevisions?.[0]?.arn;
  const { serviceRevisions } = await ecs.send(
    new DescribeServiceRevisionsCommand({ serviceRevisionArns: revisionArn ? [revisionArn] : [] }),
  );
  const pinned = serviceRevisions?.[0]?.containerImages?.[0]?.imageDigest;
  say(`ECS deploys service prod/web from app:prod; its revision pins ${short(pinned)} (DescribeServiceRevisions)`);
  if (guard) await guard.deliverNewEvents();

  account.clock.advance(3_600_000);
  account.ecs.stopAllTasks('prod', 'web');
  say('both tasks of prod/web stop (failed health check); ECS will start replacements from the pinned digest');
  const b1 = account.ecr.pushImage('app', { tag: 'prod', manifest: build('build-42-pipeline-A').text });
  say(`pipeline A pushes app:prod -> ${short(b1)}`);
  account.clock.advance(2_000);
  const b2 = account.ecr.pushImage('app', { tag: 'prod', manifest: build('build-42-pipeline-B').text });
  say(`pipeline B pushes app:prod -> ${short(b2)} (the tag moves again)`);
  say(`pinned image ${short(a)} now has ${describeTags(a)}`);

  if (guard) {
    account.clock.advance(20_000);
    const [ecsBefore, lambdaBefore, ecrBefore] = [
      account.callCount('ecs'),
      account.callCount('lambda'),
      account.callCount('ecr'),
    ];
    const response = await guard.deliverNewEvents();
    say(
      `guard handles the 2 push events as one batch: ${response.batchItemFailures.length} failed; ` +
        `one inventory took ${account.callCount('ecs') - ecsBefore} ECS and ${account.callCount('lambda') - lambdaBefore} Lambda calls; ` +
        `then ${account.callCount('ecr') - ecrBefore} ECR calls`,
    );
    say(`pinned image ${short(a)} now has ${describeTags(a)}`);
  }

  account.clock.advanceDays(2);
  const expired = account.ecr.runLifecycleExpireUntagged('app').flatMap((event) => event.images.map((i) => i.digest));
  say(`lifecycle rule "expire untagged" runs: expired ${expired.length ? expired.map(short).join(', ') : 'nothing'}`);
  say(`pinned image ${short(a)} is ${tagsOf(a) === undefined ? 'DELETED' : 'still there'}`);

  const launch = account.ecs.launchReplacementTask('prod', 'web');
  say(
    launch.ok
      ? `ECS starts a replacement task of prod/web: RUNNING (${launch.taskArn.split('/').pop()})`
      : `ECS starts a replacement task of prod/web: STOPPED\n          ${launch.stoppedReason}`,
  );

  if (guard) {
    const messages = account.sns.messagesTo(guard.topicArn);
    console.log(`\n  Alerts published to the SNS topic: ${messages.length}`);
    for (const message of messages) {
      const body = JSON.parse(message.message) as { email: string };
      const attributes = Object.entries(message.messageAttributes)
        .map(([k, v]) => `${k}=${v.stringValue}`)
        .join(', ');
      console.log('  ---------------------------------------------------------------- email as delivered');
      console.log(`  Subject: ${message.subject}`);
      console.log(`  (message attributes: ${attributes})\n`);
      console.log(
        body.email
          .split('\n')
          .map((line) => `  ${line}`)
          .join('\n'),
      );
      console.log('  ----------------------------------------------------------------');
    }
  }
}

const REGISTRY_ACCOUNT = '111111111111';
const WORKLOAD_ACCOUNT = '222222222222';
const REGION = 'eu-west-1';

/** What the multi-account story ended in, read back from the simulated organization. */
export interface MultiAccountOutcome {
  readonly pinnedDigest: string;
  /** the pinned digest's tags in the registry after the guard ran (undefined: the image is gone) */
  readonly tagsBeforeLifecycle: readonly string[] | undefined;
  readonly expired: readonly string[];
  readonly replacement:
    | { readonly ok: true; readonly taskArn: string }
    | { readonly ok: false; readonly reason: string };
  readonly assumeRoleCalls: number;
  readonly alerts: readonly { readonly subject: string | undefined; readonly email: string }[];
}

/**
 * Registry account A holds `app`; workload account B runs prod/web pinned to `app:prod`'s digest; two pipelines
 * push `prod` in A; a day later A's lifecycle pass runs and B replaces a task. Either the guard in A does not have
 * B among its workloads (its push path and its scheduled reconcile see only A, where nothing uses the digest), or
 * it has workloadAccounts=[B], wired as the construct wires it by default: its catch-up list (every 15 minutes)
 * finds no complete list of B yet and lists it through B's reader role, and its push path reads that in-use index
 * beside its own inventory, so the pushes that untag the digest protect it at once.
 */
export async function multiAccountStory(
  guardSeesWorkload: boolean,
  print: (line: string) => void = console.log,
): Promise<MultiAccountOutcome> {
  // On the wall clock: the SDK judges an assumed role's session expiry by it, as it does against AWS.
  const org = new SimulatedOrganization({
    accounts: [
      { accountId: REGISTRY_ACCOUNT, regions: [REGION] },
      { accountId: WORKLOAD_ACCOUNT, regions: [REGION] },
    ],
  });
  const registry = org.account(REGISTRY_ACCOUNT, REGION);
  const workload = org.account(WORKLOAD_ACCOUNT, REGION);
  const start = org.clock.now().getTime();
  const say = (text: string) => print(`  ${stampSince(start, org.clock.now()).padEnd(9)} ${text}`);
  const tagsOf = (digest: string) => registry.ecr.imagesOf('app').find((i) => i.digest === digest)?.tags;
  const describeTags = (digest: string) => {
    const tags = tagsOf(digest);
    return tags === undefined ? 'not in the repository' : tags.length ? `tags [${tags.join(', ')}]` : 'NO TAG';
  };

  await createGuardResources(org, registry);
  deployWorkloadStack(org, WORKLOAD_ACCOUNT, registry);
  registry.ecr.createRepository('app');
  workload.ecs.createCluster('prod');
  const build = (seed: string) => dockerManifest({ seed }).text;

  const pinned = registry.ecr.pushImage('app', { tag: 'prod', manifest: build('build-41') });
  say(`pipeline pushes app:prod in registry account A (${REGISTRY_ACCOUNT}) -> ${short(pinned)}`);
  const taskDefinition = workload.ecs.registerTaskDefinition('web', [
    { name: 'web', image: `${registry.ecr.registryHost}/app:prod` },
  ]);
  workload.ecs.createService('prod', 'web', taskDefinition, 2);
  const ecs = new ECSClient(org.clientConfig({ accountId: WORKLOAD_ACCOUNT, region: REGION }));
  const { services } = await ecs.send(new DescribeServicesCommand({ cluster: 'prod', services: ['web'] }));
  const revisionArn = services?.[0]?.currentServiceRevisions?.[0]?.arn;
  const { serviceRevisions } = await ecs.send(
    new DescribeServiceRevisionsCommand({ serviceRevisionArns: revisionArn ? [revisionArn] : [] }),
  );
  say(
    `workload account B (${WORKLOAD_ACCOUNT}) deploys prod/web from A's app:prod; its revision pins ` +
      `${short(serviceRevisions?.[0]?.containerImages?.[0]?.imageDigest)} (DescribeServiceRevisions in B)`,
  );

  const workloadAccounts = guardSeesWorkload ? [WORKLOAD_ACCOUNT] : [];
  const assumeRoleBefore = org.stsTransport.callCount('sts', 'AssumeRole');
  if (guardSeesWorkload) {
    org.clock.advance(15 * 60_000);
    const ecsInBBefore = workload.callCount('ecs');
    const caughtUp = await catchUpOnOrganization(org, registry, { workloadAccounts, listBoundMinutes: 375 });
    say(
      `the guard in A (workloadAccounts=[${WORKLOAD_ACCOUNT}]) runs its catch-up list: no complete list yet of ` +
        `${caughtUp.overdue.map((w) => w.account).join(' and ')}, so it lists them, ` +
        `${org.stsTransport.callCount('sts', 'AssumeRole') - assumeRoleBefore} AssumeRole of B's reader role and ` +
        `${workload.callCount('ecs') - ecsInBBefore} ECS calls in B; its in-use index now knows B's pinned digest`,
    );
  }
  // The push path as the construct wires it: a guard that lists other accounts reads the index beside its own
  // inventory (PUSH_INVENTORY=direct+index); a single-account guard takes its own inventory only.
  const guard = guardOnSim(registry, {
    inventory: guardSeesWorkload
      ? { kind: 'direct+index', tableName: IN_USE_INDEX_TABLE, workloadAccounts }
      : { kind: 'direct' },
  });
  await guard.deliverNewEvents();

  org.clock.advance(3_600_000);
  workload.ecs.stopAllTasks('prod', 'web');
  say('both tasks of prod/web in B stop; ECS will start replacements from the pinned digest');
  const b1 = registry.ecr.pushImage('app', { tag: 'prod', manifest: build('build-42-pipeline-A') });
  say(`pipeline A pushes app:prod -> ${short(b1)}`);
  org.clock.advance(2_000);
  const b2 = registry.ecr.pushImage('app', { tag: 'prod', manifest: build('build-42-pipeline-B') });
  say(`pipeline B pushes app:prod -> ${short(b2)} (the tag moves again)`);
  say(`pinned image ${short(pinned)} now has ${describeTags(pinned)}`);

  org.clock.advance(5_000);
  const ecsInBAtPush = workload.callCount('ecs');
  await guard.deliverNewEvents();
  say(
    `the guard's push path in A handles both pushes (${
      guardSeesWorkload ? 'its own inventory and the in-use index' : 'its own inventory only'
    }): ${workload.callCount('ecs') - ecsInBAtPush} ECS calls in B; pinned image ${short(pinned)} now has ` +
      describeTags(pinned),
  );

  if (!guardSeesWorkload) {
    org.clock.advance(60_000);
    const ecsInBBefore = workload.callCount('ecs');
    const outcome = await reconcileOnOrganization(org, registry, { workloadAccounts });
    say(
      `the guard in A runs its scheduled reconcile, listing A only (no workloadAccounts): ` +
        `${org.stsTransport.callCount('sts', 'AssumeRole') - assumeRoleBefore} AssumeRole of B's reader role, ` +
        `${workload.callCount('ecs') - ecsInBBefore} ECS calls in B, ` +
        `${outcome.workloadsNotListed?.length ?? 0} workloads not listed`,
    );
    say(`pinned image ${short(pinned)} now has ${describeTags(pinned)}`);
  }
  const assumeRoleCalls = org.stsTransport.callCount('sts', 'AssumeRole') - assumeRoleBefore;
  const tagsBeforeLifecycle = tagsOf(pinned);

  org.clock.advanceDays(1);
  const expired = registry.ecr.runLifecycleExpireUntagged('app').flatMap((event) => event.images.map((i) => i.digest));
  say(
    `A's lifecycle rule "expire untagged" runs: expired ${expired.length ? expired.map(short).join(', ') : 'nothing'}`,
  );
  say(`pinned image ${short(pinned)} is ${tagsOf(pinned) === undefined ? 'DELETED' : 'still there'}`);

  const launch = workload.ecs.launchReplacementTask('prod', 'web');
  say(
    launch.ok
      ? `ECS in B starts a replacement task of prod/web: RUNNING (${launch.taskArn.split('/').pop()})`
      : `ECS in B starts a replacement task of prod/web: STOPPED\n          ${launch.stoppedReason}`,
  );

  const alerts = registry.sns.messagesTo(guardTopicArn(registry)).map((message) => ({
    subject: message.subject,
    email: (JSON.parse(message.message) as { email: string }).email,
  }));
  print(`\n  Alerts published to the guard's SNS topic in A: ${alerts.length}`);
  for (const alert of alerts) {
    print('  ---------------------------------------------------------------- email as delivered');
    print(`  Subject: ${alert.subject}\n`);
    print(
      alert.email
        .split('\n')
        .map((line) => `  ${line}`)
        .join('\n'),
    );
    print('  ----------------------------------------------------------------');
  }
  return {
    pinnedDigest: pinned,
    tagsBeforeLifecycle,
    expired,
    replacement: launch.ok ? { ok: true, taskArn: launch.taskArn } : { ok: false, reason: launch.stoppedReason },
    assumeRoleCalls,
    alerts,
  };
}

async function main(): Promise<void> {
  console.log(
    'ecr-digest-guard: the incident, replayed on a simulated AWS account (no AWS calls leave this process)\n',
  );
  console.log('WITHOUT THE GUARD');
  await replay(false);
  console.log('\nWITH THE GUARD');
  await replay(true);
  console.log(
    '\n\nThe same incident across accounts: the registry in account A, the service in workload account B ' +
      '(a simulated organization; roles assumed through STS)\n',
  );
  console.log('WITH A GUARD IN A THAT DOES NOT SEE B');
  await multiAccountStory(false);
  console.log('\nWITH THE GUARD IN A LISTING B THROUGH ITS READER ROLE (workloadAccounts, default wiring)');
  await multiAccountStory(true);
}

// Only when run as `npm run demo`: the test imports the stories without printing the whole demo.
if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
