/**
 * EventBridge buses across a simulated organization: rules with event patterns on each (account, region)'s buses,
 * targets that are a queue (recorded) or another bus, and the checks AWS makes when a rule forwards to a bus:
 * - the target role: it must exist in the rule's account, trust `events.amazonaws.com` under the conditions its
 *   trust states for `aws:SourceAccount` (the rule's account) and `aws:SourceArn` (the rule's ARN), and allow
 *   `events:PutEvents` on the target bus ("We recommend always using IAM roles when the target of a rule is an
 *   event bus"; an organization-wide receiving policy requires one),
 *   https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-bus-perms.html;
 * - the receiving bus's resource-based policy, for a bus in another account: an Allow for `events:PutEvents` on the
 *   bus whose principal is the sending account (`<account>` or `arn:aws:iam::<account>:root`), or `*` with
 *   `StringEquals` on `aws:PrincipalOrgID` / `aws:PrincipalAccount`; a matching Deny wins. Within one account no
 *   policy is needed (cross-Region delivery of the same account),
 *   https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-cross-account.html;
 * - one hop only: "If a receiver account sets up a rule that sends events received from a sender account on to a
 *   third account, these events are not sent to the third account" (same page);
 * - the event keeps the sender's `account` and `region`
 *   (https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutPermission.html: "Rules with an account field
 *   do not match any events sent from other accounts").
 * Patterns: exact values, `prefix`, `anything-but` (values or `prefix`), `exists`, nested fields, `$or`; an array
 * in the event matches when any element does.
 * See: https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns.html
 * Not modelled: queue policies (a queue target always receives), delivery retries, destination-Region support,
 * input transformers, and every other target type.
 */
import type { SimPolicyDocument, SimPolicyStatement, SimRole } from './sts';
import { policyAllows, trustAdmitsService } from './sts';

/** An EventBridge event as buses carry it. */
export interface SimBusEvent {
  readonly account: string;
  readonly region: string;
  readonly id?: unknown;
}

export interface SimRuleTarget {
  /** a queue ARN (`arn:aws:sqs:…`) or an event bus ARN */
  readonly arn: string;
  readonly roleArn?: string;
}

export interface SimEventRule {
  readonly name: string;
  readonly pattern: unknown;
  readonly targets: readonly SimRuleTarget[];
}

/** A forward EventBridge did not make, and why (what a failed invocation metric would show). */
export interface SimRefusedDelivery {
  readonly rule: string;
  readonly target: string;
  readonly eventId: unknown;
  readonly reason: string;
}

export interface SimEventBusesOptions {
  readonly roleOf: (roleArn: string) => SimRole | undefined;
  /** the organization an account belongs to, for `aws:PrincipalOrgID` */
  readonly organizationIdOf?: (accountId: string) => string | undefined;
}

interface Bus {
  readonly account: string;
  readonly region: string;
  policy?: SimPolicyDocument;
  readonly rules: SimEventRule[];
}

export function eventBusArn(account: string, region: string, name: string): string {
  return `arn:aws:events:${region}:${account}:event-bus/${name}`;
}

export class SimEventBuses {
  readonly refused: SimRefusedDelivery[] = [];
  private readonly buses = new Map<string, Bus>();
  private readonly queues = new Map<string, SimBusEvent[]>();

  constructor(private readonly options: SimEventBusesOptions) {}

  /** Creates a custom bus (every account and region has `default` already); returns its ARN. */
  createBus(account: string, region: string, name: string): string {
    const arn = eventBusArn(account, region, name);
    if (this.buses.has(arn)) throw new Error(`sim events: bus ${arn} already exists`);
    this.buses.set(arn, { account, region, rules: [] });
    return arn;
  }

  putPolicy(busArn: string, policy: SimPolicyDocument): void {
    this.bus(busArn).policy = policy;
  }

  putRule(busArn: string, rule: SimEventRule): void {
    this.bus(busArn).rules.push(rule);
  }

  /** A queue a rule may target; what it received is `messagesOf`. */
  createQueue(queueArn: string): void {
    this.queues.set(queueArn, []);
  }

  messagesOf(queueArn: string): readonly SimBusEvent[] {
    const messages = this.queues.get(queueArn);
    if (!messages) throw new Error(`sim events: no queue ${queueArn}`);
    return messages;
  }

  /** An event an AWS service emits on the default bus of its (account, region). */
  emit(event: SimBusEvent): void {
    this.deliver(eventBusArn(event.account, event.region, 'default'), event, false);
  }

  private deliver(busArn: string, event: SimBusEvent, forwarded: boolean): void {
    const bus = this.bus(busArn);
    for (const rule of bus.rules) {
      if (!eventMatchesPattern(rule.pattern, event)) continue;
      for (const target of rule.targets) {
        const refuse = (reason: string) =>
          void this.refused.push({ rule: `${busArn}/${rule.name}`, target: target.arn, eventId: event.id, reason });
        if (target.arn.startsWith('arn:aws:sqs:')) {
          const queue = this.queues.get(target.arn);
          if (!queue) refuse('no such queue');
          else queue.push(structuredClone(event));
          continue;
        }
        if (forwarded) {
          refuse('an event received from another bus is not forwarded again');
          continue;
        }
        const problem = this.forwardingProblem(bus, ruleArnOf(busArn, bus, rule.name), target);
        if (problem) refuse(problem);
        else this.deliver(target.arn, structuredClone(event), true);
      }
    }
  }

  private forwardingProblem(sender: Bus, ruleArn: string, target: SimRuleTarget): string | undefined {
    const receiver = this.buses.get(target.arn);
    if (!receiver) return `no event bus ${target.arn}`;
    if (!target.roleArn) return 'a rule whose target is an event bus needs a role';
    const role = this.options.roleOf(target.roleArn);
    if (!role || role.accountId !== sender.account) return `no role ${target.roleArn} in ${sender.account}`;
    if (!trustAdmitsService(role.trustPolicy, 'events.amazonaws.com', { account: sender.account, arn: ruleArn })) {
      return `role ${target.roleArn} does not let the rule ${ruleArn} assume it`;
    }
    if (role.permissions && !policyAllows(role.permissions, 'events:PutEvents', target.arn)) {
      return `role ${target.roleArn} may not events:PutEvents on ${target.arn}`;
    }
    if (receiver.account === sender.account) return undefined;
    const caller = {
      account: sender.account,
      principalArn: role.arn,
      organizationId: this.options.organizationIdOf?.(sender.account),
    };
    if (!receiver.policy || !busPolicyAdmits(receiver.policy, target.arn, caller)) {
      return `the policy of ${target.arn} does not admit events:PutEvents from ${sender.account}`;
    }
    return undefined;
  }

  private bus(busArn: string): Bus {
    let bus = this.buses.get(busArn);
    const match = /^arn:aws:events:([^:]+):(\d{12}):event-bus\/default$/.exec(busArn);
    if (!bus && match) {
      bus = { account: match[2]!, region: match[1]!, rules: [] };
      this.buses.set(busArn, bus);
    }
    if (!bus) throw new Error(`sim events: no bus ${busArn}`);
    return bus;
  }
}

/** A rule's ARN: `rule/<name>` on the default bus, `rule/<bus>/<name>` on a custom one (EventBridge's ARN format). */
function ruleArnOf(busArn: string, bus: Bus, name: string): string {
  const busName = busArn.split('/').slice(1).join('/');
  const path = busName === 'default' ? name : `${busName}/${name}`;
  return `arn:aws:events:${bus.region}:${bus.account}:rule/${path}`;
}

const listOf = (value: string | readonly string[] | undefined): readonly string[] =>
  value === undefined ? [] : typeof value === 'string' ? [value] : value;

const statementsOf = (document: SimPolicyDocument): readonly SimPolicyStatement[] =>
  Array.isArray(document.Statement) ? document.Statement : [document.Statement as SimPolicyStatement];

/** Whether a bus policy lets `caller` put events on `busArn`. */
export function busPolicyAdmits(
  policy: SimPolicyDocument,
  busArn: string,
  caller: { readonly account: string; readonly principalArn: string; readonly organizationId?: string | undefined },
): boolean {
  const principalMatches = (principal: SimPolicyStatement['Principal']): boolean => {
    if (principal === '*') return true;
    return listOf(principal?.AWS).some(
      (entry) =>
        entry === '*' ||
        entry === caller.account ||
        entry === `arn:aws:iam::${caller.account}:root` ||
        entry === caller.principalArn,
    );
  };
  const conditionHolds = (condition: SimPolicyStatement['Condition']): boolean =>
    Object.entries(condition ?? {}).every(([operator, keys]) => {
      if (operator !== 'StringEquals') throw new Error(`sim events: condition operator ${operator} is not modelled`);
      return Object.entries(keys).every(([key, expected]) => {
        const actual =
          key.toLowerCase() === 'aws:principalorgid'
            ? caller.organizationId
            : key.toLowerCase() === 'aws:principalaccount'
              ? caller.account
              : undefined;
        if (actual === undefined && !['aws:principalorgid', 'aws:principalaccount'].includes(key.toLowerCase())) {
          throw new Error(`sim events: condition key ${key} is not modelled`);
        }
        return actual !== undefined && listOf(expected).includes(actual);
      });
    });
  const applies = (s: SimPolicyStatement): boolean =>
    listOf(s.Action).some((action) => action === 'events:PutEvents' || action === 'events:*') &&
    (s.Resource === undefined || listOf(s.Resource).includes(busArn)) &&
    principalMatches(s.Principal) &&
    conditionHolds(s.Condition);
  const statements = statementsOf(policy);
  if (statements.some((s) => s.Effect === 'Deny' && applies(s))) return false;
  return statements.some((s) => s.Effect === 'Allow' && applies(s));
}

/** EventBridge pattern matching for the operators the guard's patterns use (see the header). */
export function eventMatchesPattern(pattern: unknown, event: unknown): boolean {
  if (typeof pattern !== 'object' || pattern === null || Array.isArray(pattern)) {
    throw new Error(`sim events: a pattern must be an object, got ${JSON.stringify(pattern)}`);
  }
  return Object.entries(pattern).every(([key, expected]) => {
    if (key === '$or') return (expected as unknown[]).some((branch) => eventMatchesPattern(branch, event));
    const actual = typeof event === 'object' && event !== null ? (event as Record<string, unknown>)[key] : undefined;
    if (Array.isArray(expected)) return expected.some((filter) => valueMatches(filter, actual));
    // A nested pattern: the field must be an object (or an array of objects, any of which matches).
    const candidates = Array.isArray(actual) ? actual : [actual];
    return candidates.some((candidate) => candidate !== undefined && eventMatchesPattern(expected, candidate));
  });
}

function valueMatches(filter: unknown, actual: unknown): boolean {
  if (filter !== null && typeof filter === 'object') {
    const [operator, operand] = Object.entries(filter)[0] ?? [];
    if (operator === 'exists') return (actual !== undefined) === operand;
    if (actual === undefined) return false;
    if (Array.isArray(actual)) return actual.some((element) => valueMatches(filter, element));
    if (operator === 'prefix') return typeof actual === 'string' && actual.startsWith(String(operand));
    if (operator === 'anything-but') {
      if (operand !== null && typeof operand === 'object' && !Array.isArray(operand)) {
        return !valueMatches(operand, actual);
      }
      return !(Array.isArray(operand) ? operand : [operand]).includes(actual);
    }
    throw new Error(`sim events: pattern operator ${String(operator)} is not modelled`);
  }
  if (Array.isArray(actual)) return actual.includes(filter);
  return actual === filter;
}
