/**
 * The simulated EventBridge buses pinned against the EventBridge guide (see sim/event-buses.ts for the sources):
 * pattern operators, who may forward to a bus in another account or region, and one hop only.
 */
import { describe, expect, it } from 'vitest';
import { busPolicyAdmits, eventBusArn, eventMatchesPattern, SimEventBuses } from '../../sim/event-buses';
import type { SimRole } from '../../sim/sts';

const A = '111111111111';
const B = '222222222222';
const C = '333333333333';
const GUARD_BUS = eventBusArn(A, 'eu-west-1', 'guard');
const QUEUE = 'arn:aws:sqs:eu-west-1:111111111111:watch';

function forwarderIn(account: string, resource = GUARD_BUS): SimRole {
  return {
    accountId: account,
    roleName: 'forwarder',
    arn: `arn:aws:iam::${account}:role/forwarder`,
    trustPolicy: {
      Statement: [
        { Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { Service: 'events.amazonaws.com' } as never },
      ],
    },
    permissions: { Statement: [{ Effect: 'Allow', Action: 'events:PutEvents', Resource: resource }] },
  };
}

function setUp(roles: SimRole[], organizationOf: Record<string, string> = {}) {
  const buses = new SimEventBuses({
    roleOf: (arn) => roles.find((r) => r.arn === arn),
    organizationIdOf: (account) => organizationOf[account],
  });
  buses.createBus(A, 'eu-west-1', 'guard');
  buses.createQueue(QUEUE);
  buses.putRule(GUARD_BUS, { name: 'watch', pattern: { source: ['aws.ecs'] }, targets: [{ arn: QUEUE }] });
  for (const role of roles) {
    for (const region of ['eu-west-1', 'us-east-1']) {
      buses.putRule(eventBusArn(role.accountId, region, 'default'), {
        name: 'forward',
        pattern: { source: ['aws.ecs'] },
        targets: [{ arn: GUARD_BUS, roleArn: role.arn }],
      });
    }
  }
  return buses;
}

const event = (account: string, region = 'eu-west-1') => ({
  id: `${account}-${region}`,
  account,
  region,
  source: 'aws.ecs',
});

describe('simulated event buses', () => {
  it('given the patterns the guard uses, when matched, then exact values, prefix, anything-but, exists, nesting and arrays behave as documented', () => {
    const e = { source: 'aws.lambda', detail: { eventName: 'UpdateFunctionCode20150331v2', tags: ['a', 'b'] } };

    expect(
      eventMatchesPattern({ source: ['aws.lambda'], detail: { eventName: [{ prefix: 'UpdateFunctionCode' }] } }, e),
    ).toBe(true);
    expect(eventMatchesPattern({ detail: { eventName: ['UpdateFunctionCode'] } }, e)).toBe(false);
    expect(eventMatchesPattern({ detail: { tags: ['b'] } }, e)).toBe(true);
    expect(eventMatchesPattern({ detail: { eventName: [{ 'anything-but': { prefix: 'Update' } }] } }, e)).toBe(false);
    expect(eventMatchesPattern({ detail: { missing: [{ exists: false }] } }, e)).toBe(true);
    expect(eventMatchesPattern({ detail: { missing: ['x'] } }, e)).toBe(false);
    expect(eventMatchesPattern({ $or: [{ source: ['aws.ecs'] }, { source: ['aws.lambda'] }] }, e)).toBe(true);
  });

  it('given a bus policy naming account B, when B and C forward, then B arrives with its own account and C is refused', () => {
    const buses = setUp([forwarderIn(B), forwarderIn(C)]);
    buses.putPolicy(GUARD_BUS, {
      Statement: [
        {
          Effect: 'Allow',
          Principal: { AWS: [`arn:aws:iam::${B}:root`] },
          Action: 'events:PutEvents',
          Resource: GUARD_BUS,
        },
      ],
    });

    buses.emit(event(B));
    buses.emit(event(C));

    expect(buses.messagesOf(QUEUE)).toEqual([event(B)]);
    expect(buses.refused.map((r) => r.reason)).toEqual([
      `the policy of ${GUARD_BUS} does not admit events:PutEvents from ${C}`,
    ]);
  });

  it('given an organization policy, when an account of it and one outside forward, then only the member arrives', () => {
    const buses = setUp([forwarderIn(B), forwarderIn(C)], { [B]: 'o-aaaaaaaaaa', [C]: 'o-bbbbbbbbbb' });
    buses.putPolicy(GUARD_BUS, {
      Statement: [
        {
          Effect: 'Allow',
          Principal: '*',
          Action: 'events:PutEvents',
          Resource: GUARD_BUS,
          Condition: { StringEquals: { 'aws:PrincipalOrgID': 'o-aaaaaaaaaa' } },
        },
      ],
    });

    buses.emit(event(B));
    buses.emit(event(C));

    expect(buses.messagesOf(QUEUE).map((e) => e.account)).toEqual([B]);
  });

  it("given the guard's own account in another region, when it forwards, then no bus policy is needed (the role suffices)", () => {
    const buses = setUp([forwarderIn(A)]);

    buses.emit(event(A, 'us-east-1'));

    expect(buses.messagesOf(QUEUE)).toEqual([event(A, 'us-east-1')]);
  });

  it('given a role that may not put events on the guard bus, or no role, when the rule fires, then nothing is forwarded', () => {
    const buses = setUp([forwarderIn(B, eventBusArn(A, 'eu-west-1', 'other'))]);
    buses.putPolicy(GUARD_BUS, { Statement: [{ Effect: 'Allow', Principal: { AWS: B }, Action: 'events:PutEvents' }] });
    buses.putRule(eventBusArn(B, 'eu-west-1', 'default'), {
      name: 'no-role',
      pattern: { source: ['aws.ecs'] },
      targets: [{ arn: GUARD_BUS }],
    });

    buses.emit(event(B));

    expect(buses.messagesOf(QUEUE)).toEqual([]);
    expect(buses.refused.map((r) => r.reason)).toEqual([
      `role arn:aws:iam::${B}:role/forwarder may not events:PutEvents on ${GUARD_BUS}`,
      'a rule whose target is an event bus needs a role',
    ]);
  });

  it("given a forwarder trust that names the sending account and its rules, when another account's rule uses a role so conditioned, then only the named account's rule may", () => {
    // EventBridge sets aws:SourceAccount and aws:SourceArn (the rule's ARN) when it assumes a rule's role:
    // https://docs.aws.amazon.com/eventbridge/latest/userguide/cross-service-confused-deputy-prevention.html
    const conditioned = (account: string, trustedAccount: string): SimRole => {
      const role = forwarderIn(account);
      return {
        ...role,
        trustPolicy: {
          Statement: [
            {
              Effect: 'Allow',
              Action: 'sts:AssumeRole',
              Principal: { Service: 'events.amazonaws.com' } as never,
              Condition: {
                StringEquals: { 'aws:SourceAccount': trustedAccount },
                ArnLike: { 'aws:SourceArn': `arn:aws:events:*:${trustedAccount}:rule/*` },
              },
            },
          ],
        },
      };
    };
    const buses = setUp([conditioned(B, B), conditioned(C, B)]);
    buses.putPolicy(GUARD_BUS, {
      Statement: [{ Effect: 'Allow', Principal: { AWS: [B, C] }, Action: 'events:PutEvents' }],
    });

    buses.emit(event(B));
    buses.emit(event(C));

    expect(buses.messagesOf(QUEUE).map((e) => e.account)).toEqual([B]);
    expect(buses.refused.map((r) => r.reason)).toEqual([
      `role arn:aws:iam::${C}:role/forwarder does not let the rule arn:aws:events:eu-west-1:${C}:rule/forward assume it`,
    ]);
  });

  it('given a rule on the receiving bus that targets another bus, when a forwarded event matches it, then it goes no further', () => {
    const buses = setUp([forwarderIn(B), forwarderIn(A, '*')]);
    buses.putPolicy(GUARD_BUS, { Statement: [{ Effect: 'Allow', Principal: { AWS: B }, Action: 'events:PutEvents' }] });
    buses.createBus(A, 'us-east-1', 'elsewhere');
    buses.putRule(GUARD_BUS, {
      name: 'onward',
      pattern: { source: ['aws.ecs'] },
      targets: [{ arn: eventBusArn(A, 'us-east-1', 'elsewhere'), roleArn: `arn:aws:iam::${A}:role/forwarder` }],
    });

    buses.emit(event(B));

    expect(buses.refused.map((r) => r.reason)).toEqual(['an event received from another bus is not forwarded again']);
  });

  it('given a Deny for an account, when its forwarder puts events, then the Deny wins over an organization Allow', () => {
    const policy = {
      Statement: [
        {
          Effect: 'Allow' as const,
          Principal: '*' as const,
          Action: 'events:PutEvents',
          Condition: { StringEquals: { 'aws:PrincipalOrgID': 'o-aaaaaaaaaa' } },
        },
        { Effect: 'Deny' as const, Principal: { AWS: C }, Action: 'events:PutEvents' },
      ],
    };
    const caller = (account: string) => ({
      account,
      principalArn: `arn:aws:iam::${account}:role/f`,
      organizationId: 'o-aaaaaaaaaa',
    });

    expect(busPolicyAdmits(policy, GUARD_BUS, caller(B))).toBe(true);
    expect(busPolicyAdmits(policy, GUARD_BUS, caller(C))).toBe(false);
  });
});
