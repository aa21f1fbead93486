/**
 * `ecr-digest-guard test-alert`: publishes one clearly marked test alert to the deployed guard's topic, through
 * the guard's own SNS adapter (the same message structure, attributes and size rules as a real alert), so a
 * team sees it arrive in every subscribed inbox and channel.
 */
import { SnsAlertAdapter } from '../../lambda/adapters/sns';
import type { Alert } from '../../lambda/core/ports';
import type { CliDependencies } from '../io';
import { resolveScopes, UsageError } from '../options';
import { readGuardStack } from '../stack';

export interface TestAlertOptions {
  readonly region?: readonly string[];
  readonly profile?: string;
  readonly stackName: string;
  readonly topicArn?: string;
}

export async function runTestAlert(options: TestAlertOptions, deps: CliDependencies): Promise<number> {
  if ((options.region?.length ?? 0) > 1) throw new UsageError('test-alert publishes in one region: give --region once');
  const [scope] = await resolveScopes(options, deps.aws);
  const clients = await deps.aws.clientsFor(scope!);
  let topicArn = options.topicArn;
  if (!topicArn) {
    const stack = await readGuardStack(clients.cloudformation, options.stackName);
    topicArn = stack.found ? stack.outputs.AlertTopicArn : undefined;
    if (!topicArn)
      throw new UsageError(
        `no stack ${options.stackName} with an AlertTopicArn output in ${clients.region}: ` +
          'pass --stack-name, --region, or --topic-arn',
      );
  }
  let messageId: string | undefined;
  // The adapter returns nothing; the id SNS gave the message is read off the client's answer.
  clients.sns.middlewareStack.add(
    (next) => async (args) => {
      const result = await next(args);
      messageId = (result.output as { MessageId?: string }).MessageId;
      return result;
    },
    { step: 'initialize' },
  );
  await new SnsAlertAdapter(topicArn, clients.sns).publish(testAlert(clients.account, clients.region));
  deps.io.out(`Published a test alert to ${topicArn}: MessageId ${messageId ?? '(not returned)'}\n`);
  return 0;
}

export function testAlert(account: string, region: string): Alert {
  const text = [
    `TEST: ECR digest guard, account ${account}, ${region}`,
    '',
    'This is a test alert, sent with `ecr-digest-guard test-alert`: nothing is wrong and nothing was changed.',
    'If you read this, alerts of the guard reach you here. Real alerts name a repository, its in-use images and',
    'what the guard did.',
  ].join('\n');
  return {
    subject: `[TEST] ECR digest guard: test alert for ${account} ${region}`,
    text,
    json: { schema: 'ecr-digest-guard/alert@1', test: true, account, region, message: text },
    severity: 'INFO',
    repository: '',
    events: ['test'],
  };
}
