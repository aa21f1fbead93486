/**
 * The names both stacks derive for forwarding without exchanging anything: the guard's event bus (its ARN is what
 * every workload rule targets) and the forwarder role, and which region of a workload account holds the roles.
 */
import { describe, expect, it } from 'vitest';
import { entriesOfTaskEvent, parseTaskStateChangeRecord } from '../../../lambda/core/watch';
import {
  forwardingHomeRegion,
  guardEventBusArn,
  guardEventBusName,
  workloadForwarderRoleArn,
  workloadForwarderRoleName,
} from '../../../lambda/core/workloads';
import { ecsTaskStateChangeFixture } from '../../support/fixtures';

describe('forwarding names', () => {
  it('given a guard region, when the bus is named, then the name and ARN follow from the guard account and region alone', () => {
    expect(guardEventBusName('eu-west-1')).toBe('ecr-digest-guard-eu-west-1');
    expect(guardEventBusArn('aws', '111122223333', 'eu-west-1')).toBe(
      'arn:aws:events:eu-west-1:111122223333:event-bus/ecr-digest-guard-eu-west-1',
    );
  });

  it('given a guard region, when the forwarder role is named, then each guard region has its own, like the reader', () => {
    expect(workloadForwarderRoleName('eu-west-1')).toBe('ecr-digest-guard-forwarder-eu-west-1');
    expect(workloadForwarderRoleArn('aws', '444455556666', 'us-east-1')).toBe(
      'arn:aws:iam::444455556666:role/ecr-digest-guard-forwarder-us-east-1',
    );
  });

  it('given the workload regions, when the home region is chosen, then it is the guard region if listed, else the first', () => {
    expect(forwardingHomeRegion('eu-west-1', ['us-east-1', 'eu-west-1'])).toBe('eu-west-1');
    expect(forwardingHomeRegion('eu-west-1', ['us-east-1', 'ap-south-1'])).toBe('us-east-1');
    expect(() => forwardingHomeRegion('eu-west-1', [])).toThrow(/at least one workload region/);
  });
});

describe('a task event forwarded from a workload account', () => {
  it("given EventBridge keeps the sender's account and region, when the watch reads it, then the consumer is the workload, the image the guard's registry", () => {
    // See: https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutPermission.html ("Rules with an account
    // field do not match any events sent from other accounts": a forwarded event names the sending account).
    const event = ecsTaskStateChangeFixture();
    event.account = '444455556666';
    event.region = 'us-east-1';
    event.detail.taskArn = 'arn:aws:ecs:us-east-1:444455556666:task/prod/0123456789abcdef';
    const parsed = parseTaskStateChangeRecord({ messageId: 'm-1', body: JSON.stringify(event) });
    if (!parsed.ok) throw new Error(parsed.reason);

    const [entry] = entriesOfTaskEvent(parsed.event);

    expect(entry).toMatchObject({
      registryAccount: '111122223333',
      registryRegion: 'us-west-2',
      consumerAccount: '444455556666',
      consumerRegion: 'us-east-1',
      name: 'arn:aws:ecs:us-east-1:444455556666:task/prod/0123456789abcdef',
    });
  });
});
