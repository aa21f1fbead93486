/**
 * The guard's event bus, which workload accounts and regions forward their ECS events to, as synthesized: only with
 * workload accounts; a policy that admits `events:PutEvents` from the listed accounts (or the organization) and
 * nothing else; a rule on it that feeds the same watch queue the own-account rule feeds.
 * Receiving side of cross-account delivery: the receiving bus's resource-based policy names the sending account
 * (or `Principal: "*"` with `aws:PrincipalOrgID`); the sender's rule target uses a role in the sender's account.
 * See: https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-cross-account.html
 * See: https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-bus-perms.html
 * See: https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutPermission.html
 */
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { DigestGuard, type DigestGuardProps } from '../../lib/digest-guard';
import { appLikeCli, problemsOf, resolveIntrinsics, SKIP_BUNDLING } from '../support/cdk-app';
import { walkDeliveries, type WalkEnvironment } from './policy-walk';

const ENV = { account: '111122223333', region: 'eu-west-1' };
const WALK_ENV: WalkEnvironment = { ...ENV, partition: 'aws' };
const WORKLOAD_A = '444455556666';
const WORKLOAD_B = '777788889999';
const BUS_ARN = 'arn:aws:events:eu-west-1:111122223333:event-bus/ecr-digest-guard-eu-west-1';

function templateOf(props: DigestGuardProps): any {
  const stack = new Stack(appLikeCli(SKIP_BUNDLING), 'BusTest', { env: ENV });
  new DigestGuard(stack, 'Guard', { alertEmails: ['ops@example.com'], ...props });
  return Template.fromStack(stack).toJSON();
}

const ofType = (template: any, type: string): [string, any][] =>
  Object.entries(template.Resources).filter(([, r]: [string, any]) => r.Type === type) as [string, any][];

describe('the guard event bus', () => {
  let withWorkloads: any;
  beforeAll(() => {
    withWorkloads = templateOf({ workloadAccounts: [WORKLOAD_A, WORKLOAD_B] });
  });

  it('given a single account, when synthesized, then there is no bus, no bus policy and no rule on another bus', () => {
    const single = templateOf({});

    expect(ofType(single, 'AWS::Events::EventBus')).toEqual([]);
    expect(ofType(single, 'AWS::Events::EventBusPolicy')).toEqual([]);
    expect(ofType(single, 'AWS::Events::Rule').filter(([, r]) => r.Properties.EventBusName !== undefined)).toEqual([]);
  });

  it('given workload accounts, when synthesized, then one bus carries the name workloads derive from the guard region', () => {
    const buses = ofType(withWorkloads, 'AWS::Events::EventBus');

    expect(buses.map(([, r]) => r.Properties.Name)).toEqual(['ecr-digest-guard-eu-west-1']);
  });

  it('given workload accounts, when synthesized, then the bus policy admits PutEvents from exactly those accounts', () => {
    const policies = ofType(withWorkloads, 'AWS::Events::EventBusPolicy').map(([, r]) =>
      resolveIntrinsics(r.Properties.Statement),
    );

    expect(policies).toEqual([
      {
        Sid: 'WorkloadAccountsForwardEvents',
        Effect: 'Allow',
        Principal: { AWS: [`arn:aws:iam::${WORKLOAD_A}:root`, `arn:aws:iam::${WORKLOAD_B}:root`] },
        Action: 'events:PutEvents',
        Resource: BUS_ARN,
      },
    ]);
  });

  it('given an organization id, when synthesized, then the bus policy admits the organization by aws:PrincipalOrgID instead', () => {
    const template = templateOf({ workloadAccounts: [WORKLOAD_A], workloadOrganizationId: 'o-a1b2c3d4e5' });
    const policies = ofType(template, 'AWS::Events::EventBusPolicy').map(([, r]) =>
      resolveIntrinsics(r.Properties.Statement),
    );

    expect(policies).toEqual([
      {
        Sid: 'OrganizationForwardsEvents',
        Effect: 'Allow',
        Principal: '*',
        Action: 'events:PutEvents',
        Resource: BUS_ARN,
        Condition: { StringEquals: { 'aws:PrincipalOrgID': 'o-a1b2c3d4e5' } },
      },
    ]);
  });

  it('given a malformed organization id or one without workloads, when the construct is built, then it names the prop', () => {
    expect(problemsOf({ workloadAccounts: [WORKLOAD_A], workloadOrganizationId: 'org-1' })).toEqual([
      'workloadOrganizationId: "org-1" is not an AWS Organizations id (o- and 10 to 32 lowercase letters or digits)',
    ]);
  });

  it('given workload accounts, when synthesized, then rules on the guard bus feed the watch queue what the own-account rules select', () => {
    const rules = ofType(withWorkloads, 'AWS::Events::Rule');
    const onBus = rules.filter(
      ([, r]) =>
        r.Properties.EventBusName !== undefined &&
        !r.Properties.EventPattern['detail-type'].includes('ECS Service Action'),
    );
    const own = rules.filter(
      ([id, r]) => id.includes('Watch') && !id.includes('Forwarded') && r.Properties.EventBusName === undefined,
    );

    expect(onBus).toHaveLength(2);
    expect(own).toHaveLength(2);
    // task and deployment changes, and Lambda's image API calls: the same patterns, the same queue
    expect(onBus.map(([, r]) => r.Properties.EventPattern)).toEqual(own.map(([, r]) => r.Properties.EventPattern));
    expect(onBus.map(([, r]) => r.Properties.EventPattern['detail-type'])).toEqual([
      ['ECS Task State Change', 'ECS Deployment State Change', 'ECS Daemon Deployment State Change'],
      ['AWS API Call via CloudTrail'],
    ]);
    for (const [, forwarded] of onBus) {
      expect(forwarded.Properties.Targets.map((t: any) => t.Arn)).toEqual(
        own[0]![1].Properties.Targets.map((t: any) => t.Arn),
      );
      expect(JSON.stringify(forwarded.Properties.Targets)).not.toContain('event-bus');
    }
  });

  it('given workload accounts, when synthesized, then a guard bus rule feeds forwarded start-impaired actions to the watch queue', () => {
    // The own-account rule's detail filter without its account and region: only forwarded events reach this bus
    // (the workload stack does not forward from the guard's own account and region), so nothing is paged twice.
    const rules = ofType(withWorkloads, 'AWS::Events::Rule');
    const onBus = rules.filter(([, r]) => r.Properties.EventBusName !== undefined);
    const [, own] = rules.find(([id]) => id.includes('ServiceImpairedRule'))!;
    const [, watchRule] = rules.find(([id]) => id.includes('Watch') && !id.includes('Forwarded'))!;
    const impaired = onBus.filter(([, r]) => r.Properties.EventPattern['detail-type'].includes('ECS Service Action'));

    expect(impaired).toHaveLength(1);
    const [, forwarded] = impaired[0]!;
    const { account, region, ...ownDetailFilter } = own.Properties.EventPattern;
    expect(forwarded.Properties.EventPattern).toEqual(ownDetailFilter);
    expect(forwarded.Properties.EventPattern).toEqual({
      source: ['aws.ecs'],
      'detail-type': ['ECS Service Action', 'ECS Daemon Service Action'],
      detail: { eventName: ['SERVICE_TASK_START_IMPAIRED', 'DAEMON_TASK_START_IMPAIRED'] },
    });
    expect(forwarded.Properties.Targets.map((t: any) => t.Arn)).toEqual(
      watchRule.Properties.Targets.map((t: any) => t.Arn),
    );
    // the own account's start-impaired actions stay on the default bus, the push path's: account and region pinned
    expect(own.Properties.EventBusName).toBeUndefined();
    expect(resolveIntrinsics({ account, region })).toEqual({ account: [ENV.account], region: [ENV.region] });
    expect(own.Properties.Targets.map((t: any) => t.Arn)).not.toEqual(
      watchRule.Properties.Targets.map((t: any) => t.Arn),
    );
  });

  it('given workload accounts, when every delivery is walked, then the guard bus rules may send to the watch queue', () => {
    const walk = walkDeliveries(withWorkloads, WALK_ENV);
    const forwarded = walk.requests.filter((r) => r.link.includes('ForwardedWatch'));

    expect(walk.refusals).toEqual([]);
    expect(forwarded.map((r) => r.action)).toEqual(['sqs:SendMessage', 'sqs:SendMessage', 'sqs:SendMessage']);
  });

  it('given the queue policy without the guard bus rule, when walked, then that delivery is refused', () => {
    const copy = structuredClone(withWorkloads);
    const [ruleId] = ofType(copy, 'AWS::Events::Rule').find(([, r]) => r.Properties.EventBusName !== undefined)!;
    for (const [, policy] of ofType(copy, 'AWS::SQS::QueuePolicy')) {
      const document = policy.Properties.PolicyDocument;
      document.Statement = document.Statement.filter((s: any) => !JSON.stringify(s.Condition ?? {}).includes(ruleId));
    }

    const walk = walkDeliveries(copy, WALK_ENV);

    expect(walk.refusals.map((r) => r.link)).toEqual([expect.stringContaining(ruleId)]);
  });
});
