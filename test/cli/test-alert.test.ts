/** `ecr-digest-guard test-alert`: one clearly marked test alert through the deployed topic. */
import { describe, expect, it } from 'vitest';
import { SimulatedAccount } from '../../sim/account';
import { alertsOf } from '../support/sim-scenario';
import { runCliOnSim } from './support/cli-on-sim';

describe('test-alert', () => {
  it("given the stack's AlertTopicArn, when test-alert runs, then a [TEST] alert is published and its id printed", async () => {
    const account = new SimulatedAccount();
    const topicArn = account.sns.createTopic('guard-alerts');

    const run = await runCliOnSim(['test-alert'], [account], { stacks: { 'eu-west-1': { AlertTopicArn: topicArn } } });

    expect(run.code).toBe(0);
    const alerts = alertsOf(account, topicArn);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.subject).toMatch(/^\[TEST\] /);
    expect(alerts[0]!.email).toMatch(/This is a test/);
    expect(alerts[0]!.email).toMatch(/nothing is wrong/);
    expect(alerts[0]!.json).toMatchObject({ test: true });
    const messageId = account.sns.messagesTo(topicArn)[0]!.messageId;
    expect(run.stdout).toContain(messageId);
  });

  it('given --topic-arn, when test-alert runs, then it publishes there without reading the stack', async () => {
    const account = new SimulatedAccount();
    const topicArn = account.sns.createTopic('other');

    const run = await runCliOnSim(['test-alert', '--topic-arn', topicArn], [account]);

    expect(run.code).toBe(0);
    expect(account.sns.messagesTo(topicArn)).toHaveLength(1);
  });

  it('given no guard stack and no --topic-arn, when test-alert runs, then it exits 2 saying what to pass', async () => {
    const run = await runCliOnSim(['test-alert'], [new SimulatedAccount()]);

    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/no stack EcrDigestGuard.*--topic-arn/);
  });
});
