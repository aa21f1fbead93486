/**
 * Every delivery the stack sets up would be allowed by AWS: each alarm action -> topic -> topic policy ->
 * key policy, each EventBridge rule -> target (and its dead-letter queue) -> queue or function policy, each
 * on-failure destination and each function role publishing alerts. The senders come from the template
 * (test/lib/policy-walk.ts), and the walk is shown to refuse when a statement it relies on is removed.
 *
 * Why it matters: a CloudFormation topic policy replaces the one SNS creates, so with only the TLS Deny no
 * resource policy lets CloudWatch publish, and every alarm fails with "… is not authorized to perform:
 * SNS:Publish … because no resource-based policy allows the SNS:Publish action"
 * (aws-solutions/automated-security-response-on-aws#43;
 * https://repost.aws/knowledge-center/cloudwatch-receive-sns-for-alarm-trigger). On an encrypted topic the
 * key policy must also let CloudWatch use the key: kms:Decrypt and kms:GenerateDataKey* (aws/aws-cdk#11121;
 * https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services).
 */
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { DigestGuard, type DigestGuardProps } from '../../lib/digest-guard';
import { appLikeCli } from '../support/cdk-app';
import { deliveryRequests, refusalOf, TemplateModel, walkDeliveries, type WalkEnvironment } from './policy-walk';

const ENV = { account: '111122223333', region: 'eu-west-1' };
const WALK_ENV: WalkEnvironment = { ...ENV, partition: 'aws' };

function templateOf(props: DigestGuardProps): any {
  const app = appLikeCli({ 'aws:cdk:bundling-stacks': [] });
  const stack = new Stack(app, 'DeliveryTest', { env: ENV });
  new DigestGuard(stack, 'Guard', props);
  return Template.fromStack(stack).toJSON();
}

/** A deep copy with the statements `drop` selects removed from every resource policy and key policy. */
function withoutStatements(template: any, drop: (statement: any) => boolean): any {
  const copy = structuredClone(template);
  for (const resource of Object.values(copy.Resources) as any[]) {
    const document = resource.Properties?.PolicyDocument ?? resource.Properties?.KeyPolicy;
    if (document && resource.Type !== 'AWS::IAM::Policy') {
      document.Statement = document.Statement.filter((s: any) => !drop(s));
    }
  }
  return copy;
}

const allowsService = (s: any, service: string): boolean =>
  s.Effect === 'Allow' && JSON.stringify(s.Principal ?? {}).includes(service);
const isCloudWatchAllow = (s: any): boolean => allowsService(s, 'cloudwatch.amazonaws.com');

describe('deliveries of the guard with every sender (reconcile, release, lifecycle watch)', () => {
  let template: any;
  beforeAll(() => {
    template = templateOf({
      alertEmails: ['ops@example.com'],
      releaseAfterDays: 30,
      watchLifecycleExpiry: true,
    });
  });

  it('given every alarm, rule, destination and publishing role, when each link is walked, then AWS allows all', () => {
    const walk = walkDeliveries(template, WALK_ENV);

    expect(walk.refusals).toEqual([]);
    // Enumerated from the template: 9 alarms (topic + 2 key actions each), 7 rules (push, service impaired,
    // lifecycle, schedule, catch-up, the watch's ECS events, the watch's Lambda calls), the DLQ of the schedule and of
    // the catch-up, the reconcile on-failure destination, 3 roles publishing (topic + key each).
    const links = new Set(walk.requests.map((r) => r.link.split(' ')[0]));
    expect([...links].sort()).toEqual(['alarm', 'role', 'rule', expect.stringMatching(/EventInvokeConfig/)].sort());
    expect(walk.requests.filter((r) => r.link.startsWith('alarm') && r.action === 'sns:Publish')).toHaveLength(9);
    expect(walk.requests.filter((r) => r.link.startsWith('alarm') && r.action.startsWith('kms:'))).toHaveLength(18);
    const fromEventBridge = walk.requests.filter((r) => JSON.stringify(r.principal).includes('events.amazonaws.com'));
    expect(fromEventBridge.map((r) => r.action).sort()).toEqual([
      'lambda:InvokeFunction',
      'lambda:InvokeFunction',
      'sqs:SendMessage',
      'sqs:SendMessage',
      'sqs:SendMessage',
      'sqs:SendMessage',
      'sqs:SendMessage',
      'sqs:SendMessage',
      'sqs:SendMessage',
    ]);
    expect(fromEventBridge.filter((r) => r.link.includes('WatchRule')).map((r) => r.action)).toEqual([
      'sqs:SendMessage',
    ]);
  });

  it('given no CloudWatch Allow in the topic policy, when the alarms are walked, then every alarm is refused', () => {
    const withoutPublish = withoutStatements(template, (s) => isCloudWatchAllow(s) && `${s.Action}`.includes('sns:'));
    const walk = walkDeliveries(withoutPublish, WALK_ENV);

    const refused = walk.refusals.filter((r) => r.action === 'sns:Publish');
    expect(refused).toHaveLength(9);
    for (const refusal of refused) expect(refusal.reason).toBe('no resource-based policy allows it');
    expect(walk.refusals.filter((r) => r.action.startsWith('kms:'))).toEqual([]);
  });

  it('given no CloudWatch statement in the key policy, when the alarms are walked, then each is refused', () => {
    const withoutKey = withoutStatements(template, (s) => isCloudWatchAllow(s) && `${s.Action}`.includes('kms:'));
    const walk = walkDeliveries(withoutKey, WALK_ENV);

    expect(walk.refusals).toHaveLength(18);
    expect(new Set(walk.refusals.map((r) => r.action))).toEqual(new Set(['kms:GenerateDataKey', 'kms:Decrypt']));
  });

  it('given an alarm of another account as the source, when it is walked, then the scoped statements refuse it', () => {
    // Confused deputy: CloudWatch must not publish, or use the key, for someone else's alarm.
    const model = new TemplateModel(template, WALK_ENV);
    const foreignAlarm = 'arn:aws:cloudwatch:eu-west-1:444455556666:alarm:not-ours';
    const fromAnotherAccount = deliveryRequests(model, WALK_ENV)
      .filter((r) => r.link.startsWith('alarm'))
      .map((r) => ({
        ...r,
        context: { ...r.context, 'aws:SourceAccount': '444455556666', 'aws:SourceArn': foreignAlarm },
      }));

    expect(fromAnotherAccount).toHaveLength(27);
    for (const request of fromAnotherAccount) expect(refusalOf(model, WALK_ENV, request)).toBeDefined();
  });

  it('given no EventBridge Allow in the queue policies, when the rules are walked, then each is refused', () => {
    // the push, service-impaired and lifecycle rules to the buffer, the two watch rules to its queue, the
    // undeliverable events of the schedule and of the catch-up to their DLQ
    const walk = walkDeliveries(
      withoutStatements(template, (s) => allowsService(s, 'events.amazonaws.com')),
      WALK_ENV,
    );

    expect(walk.refusals.map((r) => r.action)).toEqual([
      'sqs:SendMessage',
      'sqs:SendMessage',
      'sqs:SendMessage',
      'sqs:SendMessage',
      'sqs:SendMessage',
      'sqs:SendMessage',
      'sqs:SendMessage',
    ]);
  });

  it('given no Lambda permission for the schedule and the catch-up, when the rules are walked, then both invokes are refused', () => {
    const copy = structuredClone(template);
    for (const [id, resource] of Object.entries(copy.Resources) as [string, any][]) {
      if (resource.Type === 'AWS::Lambda::Permission') delete copy.Resources[id];
    }

    const walk = walkDeliveries(copy, WALK_ENV);

    expect(walk.refusals).toEqual([
      expect.objectContaining({ action: 'lambda:InvokeFunction', link: expect.stringMatching(/ReconcileSchedule/) }),
      expect.objectContaining({ action: 'lambda:InvokeFunction', link: expect.stringMatching(/CatchUpSchedule/) }),
    ]);
  });
});
