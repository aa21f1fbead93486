/**
 * The stack's outputs: what an operator or a script reads after a deploy to find the alert topic, the queues
 * to watch or redrive, the functions, the tag prefix and whether the guard only reports.
 */
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { type DigestGuardConfig, DigestGuardStack } from '../../lib/digest-guard-stack';
import { appLikeCli, logicalIdOf, SKIP_BUNDLING } from '../support/cdk-app';

const BASE: DigestGuardConfig = { alertEmails: ['ops@example.com'], repositories: [], dryRun: false };

function synthesize(config: DigestGuardConfig): { stack: DigestGuardStack; outputs: Record<string, any> } {
  const stack = new DigestGuardStack(appLikeCli(SKIP_BUNDLING), 'EcrDigestGuard', { config });
  return { stack, outputs: Template.fromStack(stack).toJSON().Outputs ?? {} };
}

describe('DigestGuardStack outputs', () => {
  let deployed: ReturnType<typeof synthesize>;
  beforeAll(() => {
    deployed = synthesize(BASE);
  });

  it('given the default deploy, then the topic, queues, functions, prefix and mode are outputs', () => {
    const { stack, outputs } = deployed;
    const { guard } = stack;
    expect(outputs.AlertTopicArn.Value).toEqual({ Ref: logicalIdOf(stack, guard.topic) });
    expect(outputs.BufferQueueName.Value).toEqual({ 'Fn::GetAtt': [logicalIdOf(stack, guard.queue), 'QueueName'] });
    expect(outputs.DeadLetterQueueName.Value).toEqual({
      'Fn::GetAtt': [logicalIdOf(stack, guard.deadLetterQueue), 'QueueName'],
    });
    expect(outputs.PushFunctionName.Value).toEqual({ Ref: logicalIdOf(stack, guard.function) });
    expect(outputs.ReconcileFunctionName.Value).toEqual({ Ref: logicalIdOf(stack, guard.reconcileFunction) });
    expect(outputs.ReconcileDeadLetterQueueName.Value).toEqual({
      'Fn::GetAtt': [logicalIdOf(stack, guard.reconcileDeadLetterQueue), 'QueueName'],
    });
    expect(outputs.TagPrefix.Value).toBe('digest-guard');
    expect(outputs.DryRun.Value).toBe('false');
    for (const output of Object.values(outputs)) expect(output.Description).toEqual(expect.any(String));
  });

  it('given dry run, a custom prefix and no reconcile, then the outputs say so and name no reconcile parts', () => {
    const { outputs } = synthesize({ ...BASE, dryRun: true, tagPrefix: 'keep', reconcile: false });
    expect(outputs.DryRun.Value).toBe('true');
    expect(outputs.TagPrefix.Value).toBe('keep');
    expect(outputs.ReconcileFunctionName).toBeUndefined();
    expect(outputs.ReconcileDeadLetterQueueName).toBeUndefined();
  });
});
