/**
 * The guard's event bus: where the workload stacks of other accounts and regions forward their ECS events (rule on
 * their default bus → this bus, through a forwarder role in their account), and the rules that route what the watch
 * handles (state changes, Lambda calls, start-impaired actions) into the same watch queue the own-account rules
 * feed. Created only with workload accounts and the watch.
 *
 * How cross-account delivery authenticates: the sender's rule targets this bus's ARN with a role in the sender's
 * account that may `events:PutEvents` on it; EventBridge puts the event as that role, so this bus's resource-based
 * policy must admit the sender's account (`arn:aws:iam::<account>:root`), or every account of an organization with
 * `Principal: "*"` and `aws:PrincipalOrgID` (then the sender must use a role, which the workload stack does). Within
 * one account (the guard account's other regions), the role's identity policy suffices.
 * See: https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-cross-account.html
 * See: https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-cross-region.html
 * See: https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutPermission.html
 *
 * The forwarded event keeps the sender's `account` and `region` (PutPermission: "Rules with an account field do not
 * match any events sent from other accounts" — the field names the sending account), so the watch keys each
 * consumer by where its task runs. No loop: the rule here targets a queue, never a bus, and EventBridge does not pass
 * an event received from another account on to a third ("these events are not sent to the third account",
 * eb-cross-account above).
 */
import { Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { guardEventBusName } from '../lambda/core/workloads';
import { buildStartImpairedEventPattern, buildWatchEventPatterns, type ForwardingEventPattern } from './event-pattern';

export interface GuardEventBusOptions {
  /** the workload accounts admitted to put events on the bus */
  readonly accounts: readonly string[];
  /** admit every account of this organization instead (`aws:PrincipalOrgID`) */
  readonly organizationId?: string;
}

export interface GuardEventBus {
  readonly bus: events.EventBus;
  readonly policy: events.CfnEventBusPolicy;
  /** forwarded events the watch handles → the watch queue */
  readonly watchRule: events.Rule;
  /** forwarded Lambda image API calls → the watch queue */
  readonly watchLambdaRule: events.Rule;
  /** forwarded start-impaired service and daemon actions → the watch queue, which pages at the onset */
  readonly watchStartImpairedRule: events.Rule;
}

const ORGANIZATION_ID = /^o-[a-z0-9]{10,32}$/;

/** The problems of the organization prop, worded like the other settings' problems. */
export function workloadOrganizationIdProblems(
  organizationId: string | undefined,
  workloadAccounts: readonly string[] | undefined,
  organizationUnits: readonly string[] = [],
): string[] {
  if (organizationId === undefined) return [];
  if (!ORGANIZATION_ID.test(organizationId)) {
    return [
      `workloadOrganizationId: "${organizationId}" is not an AWS Organizations id (o- and 10 to 32 lowercase letters or digits)`,
    ];
  }
  if (!workloadAccounts?.length && organizationUnits.length === 0) {
    return [
      'workloadOrganizationId is set but neither workloadAccounts nor organizationUnits is; name the accounts or ' +
        'organizational units the reconcile lists too',
    ];
  }
  return [];
}

/** The bus, its policy and its watch rule, in `scope`, feeding `watchQueue`. */
export function createGuardEventBus(
  scope: Construct,
  options: GuardEventBusOptions,
  watchQueue: sqs.IQueue,
): GuardEventBus {
  const stack = Stack.of(scope);
  const name = guardEventBusName(stack.region);
  const bus = new events.EventBus(scope, 'GuardEventBus', {
    eventBusName: name,
    description: 'ECS events that workload accounts and regions forward to the ECR digest guard',
  });
  // The ARN workloads compute (lambda/core/workloads.ts), not the attribute: one spelling on both sides.
  const busArn = stack.formatArn({ service: 'events', resource: 'event-bus', resourceName: name });
  const statement = options.organizationId
    ? {
        Sid: 'OrganizationForwardsEvents',
        Effect: 'Allow',
        Principal: '*',
        Action: 'events:PutEvents',
        Resource: busArn,
        Condition: { StringEquals: { 'aws:PrincipalOrgID': options.organizationId } },
      }
    : {
        Sid: 'WorkloadAccountsForwardEvents',
        Effect: 'Allow',
        Principal: { AWS: options.accounts.map((account) => `arn:${stack.partition}:iam::${account}:root`) },
        Action: 'events:PutEvents',
        Resource: busArn,
      };
  const policy = new events.CfnEventBusPolicy(scope, 'GuardEventBusPolicy', {
    eventBusName: bus.eventBusName,
    statementId: statement.Sid,
    statement,
  });

  // The same selection as the own-account watch rules (lib/guard-functions.ts), one rule each.
  const patterns = buildWatchEventPatterns();
  const rule = (id: string, description: string, pattern: ForwardingEventPattern): events.Rule => {
    const created = new events.Rule(scope, id, {
      eventBus: bus,
      description,
      eventPattern: {
        source: [...pattern.source],
        detailType: [...pattern['detail-type']],
        ...(pattern.detail ? { detail: pattern.detail } : {}),
      },
    });
    // The target adds a queue policy that lets events.amazonaws.com send only for this rule's ARN.
    created.addTarget(new targets.SqsQueue(watchQueue));
    return created;
  };
  const watchRule = rule(
    'ForwardedWatchRule',
    'ECS task and deployment state changes forwarded by workload accounts and regions, for the in-use index',
    patterns.ecs,
  );
  const watchLambdaRule = rule(
    'ForwardedWatchLambdaRule',
    'Lambda image API calls forwarded by workload accounts and regions: the watch reads that function',
    patterns.lambda,
  );
  // The watch, not the push function: only the watch role may assume the workloads' reader roles, and an impaired
  // service of another account can only be read there. The own account's impairments stay on the default bus's
  // push rule; the workload stack does not forward the guard's own account and region, so none is paged twice.
  const watchStartImpairedRule = rule(
    'ForwardedWatchStartImpairedRule',
    'ECS services and daemons of workload accounts and regions that cannot start tasks: the watch pages at the onset',
    buildStartImpairedEventPattern(),
  );
  return { bus, policy, watchRule, watchLambdaRule, watchStartImpairedRule };
}
