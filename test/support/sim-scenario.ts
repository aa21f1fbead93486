/**
 * What every scenario on the simulated account asks of it: the tags of an image, the alerts published to the
 * guard's topic (as a mail reader and a machine subscriber see them), and the EventBridge scheduled event that
 * starts the reconcile. Each takes the account the scenario runs on, so scenarios keep their own fixtures.
 */
import type { ScheduledEvent } from 'aws-lambda';
import type { SimulatedAccount } from '../../sim/account';
import { scheduledEventFixture } from './fixtures';

/** The tags of `digest` in `repository`, or undefined when the image is gone. */
export function tagsOf(account: SimulatedAccount, repository: string, digest: string): readonly string[] | undefined {
  return account.ecr.imagesOf(repository).find((image) => image.digest === digest)?.tags;
}

/** The messages published to `topicArn`, with the SNS message-structure JSON body parsed. */
export function messagesOf(account: SimulatedAccount, topicArn: string) {
  return account.sns
    .messagesTo(topicArn)
    .map((m) => ({ ...m, body: JSON.parse(m.message) as { default: string; email: string } }));
}

/** The alerts published to `topicArn`: subject, severity attribute, the email text and the JSON for machines. */
export function alertsOf<Json = Record<string, unknown>>(account: SimulatedAccount, topicArn: string) {
  return messagesOf(account, topicArn).map((m) => ({
    subject: m.subject,
    severity: m.messageAttributes.severity?.stringValue,
    email: m.body.email,
    json: JSON.parse(m.body.default) as Json,
  }));
}

/** The scheduled event EventBridge sends the reconcile, at the account's current simulated time. */
export function scheduledEventOn(account: SimulatedAccount): ScheduledEvent {
  return scheduledEventFixture({
    account: account.accountId,
    region: account.region,
    // EventBridge writes whole seconds
    time: account.clock
      .now()
      .toISOString()
      .replace(/\.\d{3}Z$/, 'Z'),
    resources: [`arn:aws:events:${account.region}:${account.accountId}:rule/ecr-digest-guard-reconcile`],
  });
}
