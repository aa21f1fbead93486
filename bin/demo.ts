/**
 * `npm run demo`: replays the incident on a simulated AWS account, twice: without the guard (the digest is
 * deleted and the replacement task cannot start) and with it (the digest is protected, the lifecycle pass
 * spares it, the task starts, and the alert arrives). Every line is read back from the simulated account's
 * state or from what the guard returned: nothing is narrated that did not happen.
 */
import { DescribeServiceRevisionsCommand, DescribeServicesCommand, ECSClient } from '@aws-sdk/client-ecs';
import { SimulatedAccount } from '../sim/account';
import { dockerManifest } from '../sim/manifests';
import { guardOnSim } from '../sim/guard-on-sim';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const short = (digest: string | undefined) => (digest ? `${digest.slice(0, 19)}…` : '(none)');

async function replay(withGuard: boolean): Promise<void> {
  const account = new SimulatedAccount({ startAt: new Date('2025-03-03T09:00:00Z') });
  const start = account.clock.now().getTime();
  const say = (text: string) => {
    const seconds = Math.round((account.clock.now().getTime() - start) / 1000);
    const stamp =
      seconds >= 86_400
        ? `T+${Math.floor(seconds / 86_400)}d`
        : seconds >= 3_600
          ? `T+${Math.floor(seconds / 3_600)}h${seconds % 3_600 ? `+${seconds % 3_600}s` : ''}`
          : `T+${seconds}s`;
    console.log(`  ${stamp.padEnd(9)} ${text}`);
  };
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

async function main(): Promise<void> {
  console.log(
    'ecr-digest-guard: the incident, replayed on a simulated AWS account (no AWS calls leave this process)\n',
  );
  console.log('WITHOUT THE GUARD');
  await replay(false);
  console.log('\nWITH THE GUARD');
  await replay(true);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
