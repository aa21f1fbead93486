/**
 * The EventBridge patterns that select the events the guard reacts to.
 *
 * Kept free of CDK types so that a contract test can feed exactly this JSON to an EventBridge emulator
 * (`PutRule` + `PutEvents`) and check which events it lets through.
 */
import {
  CLOUDTRAIL_DETAIL_TYPES,
  DAEMON_SERVICE_ACTION_DETAIL_TYPE,
  DAEMON_TASK_START_IMPAIRED,
  SERVICE_ACTION_DETAIL_TYPE,
  SERVICE_TASK_START_IMPAIRED,
} from '../lambda/core/push-event';
import { CLOUDTRAIL_API_CALL, LAMBDA_WATCHED_ACTIONS } from '../lambda/core/watch/named-events';

/** The EventBridge `anything-but` prefix operator. */
export interface AnythingButPrefix {
  readonly 'anything-but': { readonly prefix: string };
}

/** The pattern in EventBridge's own JSON shape (`detail-type`, not CDK's `detailType`). */
export interface PushEventPattern {
  readonly source: readonly ['aws.ecr'];
  readonly 'detail-type': readonly ['ECR Image Action'];
  readonly detail: {
    readonly result: readonly ['SUCCESS'];
    readonly 'repository-name'?: readonly string[];
    /** either branch matches: pushes of any tag but the guard's protective ones, or any deletion */
    readonly $or: readonly [
      { readonly 'action-type': readonly ['PUSH']; readonly 'image-tag': readonly [AnythingButPrefix] },
      { readonly 'action-type': readonly ['DELETE'] },
    ];
  };
}

export interface PushEventPatternOptions {
  /** Prefix of the guard's protective tags, e.g. `digest-guard`. */
  readonly tagPrefix: string;
  /** Repositories in scope; empty or undefined selects every repository. */
  readonly repositories?: readonly string[];
}

/**
 * The start of every protective tag: `<tagPrefix>-sha256-`. A protective tag is `<tagPrefix>-sha256-<64 hex>`;
 * excluding only this form keeps a user's `digest-guard-staging` (or, with the prefix `prod`, every `prod-*`
 * tag) in view. EventBridge matches no character class or length, so a user tag `<tagPrefix>-sha256-` plus
 * anything other than 64 hex is dropped too, although the handler's `isProtectiveTag` would treat it as a
 * user's tag; the reconcile still protects such a digest when its last other tag moves.
 */
export function protectiveTagStart(tagPrefix: string): string {
  return `${tagPrefix}-sha256-`;
}

/**
 * Successful ECR pushes and deletions, optionally of some repositories only:
 * - pushes minus those of the guard's own protective tags `<tagPrefix>-sha256-…` (adding a tag with
 *   `PutImage` emits its own PUSH event; reacting to it would be a loop). A push by digest alone carries no `image-tag` and moves
 *   no tag. EventBridge matches a pattern field only against a field the event has (only `exists: false`
 *   matches an absent one), so such pushes are not selected, which is what the guard wants;
 * - every deletion, by tag or by digest, of any tag: deleting an image that runs is what the guard pages
 *   about, and deleting a protective tag is one way to do it (removing an image's last tag deletes the
 *   image). The reconcile's release deletes protective tags only of digests nothing uses, so the guard
 *   finds nothing in use there and sends nothing.
 * The emulator contract test pins both branches.
 * See: https://docs.aws.amazon.com/AmazonECR/latest/userguide/ecr-eventbridge.html
 * See: https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html (`$or`, `anything-but`)
 */
export function buildPushEventPattern(options: PushEventPatternOptions): PushEventPattern {
  const repositories = options.repositories ?? [];
  return {
    source: ['aws.ecr'],
    'detail-type': ['ECR Image Action'],
    detail: {
      result: ['SUCCESS'],
      ...(repositories.length > 0 ? { 'repository-name': [...repositories] } : {}),
      $or: [
        {
          'action-type': ['PUSH'],
          'image-tag': [{ 'anything-but': { prefix: protectiveTagStart(options.tagPrefix) } }],
        },
        { 'action-type': ['DELETE'] },
      ],
    },
  };
}

export interface LifecycleExpiryEventPattern {
  readonly source: readonly ['aws.ecr'];
  readonly 'detail-type': readonly string[];
  readonly detail: {
    readonly eventSource: readonly ['ecr.amazonaws.com'];
    readonly eventName: readonly ['PolicyExecutionEvent'];
    readonly serviceEventDetails?: { readonly repositoryName: readonly string[] };
  };
}

/**
 * ECR lifecycle actions as CloudTrail logs them (`PolicyExecutionEvent`, one per up to 10 images). It is a
 * read-only management event, so only a rule in state `ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS`
 * receives it (the construct sets that state).
 * See: https://docs.aws.amazon.com/AmazonECR/latest/userguide/logging-using-cloudtrail.html
 * See: https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-service-event-cloudtrail-management.html
 */
export function buildLifecycleExpiryEventPattern(
  options: { readonly repositories?: readonly string[] } = {},
): LifecycleExpiryEventPattern {
  const repositories = options.repositories ?? [];
  return {
    source: ['aws.ecr'],
    // the detail-types the handler's parser accepts for it (see CLOUDTRAIL_DETAIL_TYPES there)
    'detail-type': [...CLOUDTRAIL_DETAIL_TYPES],
    detail: {
      eventSource: ['ecr.amazonaws.com'],
      eventName: ['PolicyExecutionEvent'],
      ...(repositories.length > 0 ? { serviceEventDetails: { repositoryName: [...repositories] } } : {}),
    },
  };
}

/** The start-impaired service and daemon actions of any account and region (what a workload forwards). */
export interface StartImpairedEventPattern {
  readonly source: readonly ['aws.ecs'];
  readonly 'detail-type': readonly [typeof SERVICE_ACTION_DETAIL_TYPE, typeof DAEMON_SERVICE_ACTION_DETAIL_TYPE];
  readonly detail: {
    readonly eventName: readonly [typeof SERVICE_TASK_START_IMPAIRED, typeof DAEMON_TASK_START_IMPAIRED];
  };
}

export interface ServiceImpairedEventPattern extends StartImpairedEventPattern {
  readonly account: readonly string[];
  readonly region: readonly string[];
}

/**
 * The detail filter of every start-impaired rule: the own account's (with its account and region added), the
 * workload stack's forwarding rule and the guard bus's rule into the watch select the same events.
 */
export function buildStartImpairedEventPattern(): StartImpairedEventPattern {
  return {
    source: ['aws.ecs'],
    'detail-type': [SERVICE_ACTION_DETAIL_TYPE, DAEMON_SERVICE_ACTION_DETAIL_TYPE],
    detail: { eventName: [SERVICE_TASK_START_IMPAIRED, DAEMON_TASK_START_IMPAIRED] },
  };
}

/**
 * ECS services of the guard's own account and region that cannot start tasks (`SERVICE_TASK_START_IMPAIRED`,
 * eventType WARN): the incident as it begins, when the pinned digest is gone or archived. Only that eventName:
 * the other Service Actions (steady state every few hours per service, among others) would fill the buffer
 * for nothing. Service Action events are delivered durably, unlike ECR's. The daemon equivalent
 * (`ECS Daemon Service Action` `DAEMON_TASK_START_IMPAIRED`, eventType WARNING) names the daemon revision: one
 * rule matches both, since each eventName occurs only with its own detail-type.
 * See: https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs_service_events.html
 * See: https://docs.aws.amazon.com/AmazonECS/latest/developerguide/managed-daemons-events.html
 * See: https://docs.aws.amazon.com/eventbridge/latest/ref/event-delivery-level.html
 */
export function buildServiceImpairedEventPattern(where: {
  readonly account: string;
  readonly region: string;
}): ServiceImpairedEventPattern {
  const { source, 'detail-type': detailType, detail } = buildStartImpairedEventPattern();
  return { source, 'detail-type': detailType, account: [where.account], region: [where.region], detail };
}

/** A pattern a forwarding rule (workload stack) or the guard bus's rule uses, in EventBridge's own JSON shape. */
export interface ForwardingEventPattern {
  readonly source: readonly string[];
  readonly 'detail-type': readonly string[];
  readonly detail?: Readonly<Record<string, readonly (string | { readonly prefix: string })[]>>;
}

/** One forwarding rule of the workload stack: its construct id, description and pattern. */
export interface ForwardingRuleSpec {
  readonly id: string;
  readonly description: string;
  readonly pattern: ForwardingEventPattern;
}

/** ECS task state changes: what the watch indexes today (the own-account watch rule selects the same). */
export const TASK_STATE_CHANGE_DETAIL_TYPE = 'ECS Task State Change';
const DEPLOYMENT_STATE_CHANGE_DETAIL_TYPE = 'ECS Deployment State Change';
const DAEMON_DEPLOYMENT_STATE_CHANGE_DETAIL_TYPE = 'ECS Daemon Deployment State Change';

/**
 * What every workload region forwards to the guard's event bus: three rules on the default bus.
 * - ECS task, service deployment and daemon deployment state changes (durable, versioned events). Daemon
 *   detail-types as documented: https://docs.aws.amazon.com/AmazonECS/latest/developerguide/managed-daemons-events.html
 * - The start-impaired service and daemon actions only (the other Service Actions, steady state every few hours per
 *   service among them, would cost a forwarded event each for nothing). One rule matches both: each eventName
 *   occurs only with its own detail-type.
 *   See: https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs_service_events.html
 * - Lambda's image-changing API calls as CloudTrail delivers them, where the account has a trail. CloudTrail
 *   records Lambda's eventNames with the API version appended (`CreateFunction20150331`,
 *   `UpdateFunctionCode20150331v2`, `PublishVersion20150331`, `CreateAlias20150331`, `UpdateAlias20150331`), so they
 *   are matched by prefix;
 *   the `CreateFunction` prefix also selects `CreateFunctionUrlConfig…`, which the watch can ignore.
 *   See: https://docs.aws.amazon.com/lambda/latest/dg/logging-using-cloudtrail.html
 *   See: https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html (prefix)
 * The guard bus routes all three into the watch: the state changes and Lambda calls with the own-account watch
 * rules' patterns (`buildWatchEventPatterns`), the start-impaired actions with the own push rule's detail filter
 * (`buildStartImpairedEventPattern`), which the watch pages on through the workload's reader role.
 */
export function buildForwardingEventPatterns(): ForwardingRuleSpec[] {
  return [
    {
      id: 'EcsStateChanges',
      description: 'Forwards ECS task, deployment and daemon deployment changes to the ECR digest guard',
      pattern: {
        source: ['aws.ecs'],
        'detail-type': [
          TASK_STATE_CHANGE_DETAIL_TYPE,
          DEPLOYMENT_STATE_CHANGE_DETAIL_TYPE,
          DAEMON_DEPLOYMENT_STATE_CHANGE_DETAIL_TYPE,
        ],
      },
    },
    {
      id: 'EcsStartImpaired',
      description: 'Forwards ECS services and daemons that cannot start tasks to the ECR digest guard',
      pattern: buildStartImpairedEventPattern(),
    },
    {
      id: 'LambdaImageChanges',
      description: 'Forwards Lambda function, version and alias changes (CloudTrail) to the ECR digest guard',
      pattern: lambdaImageCallsPattern(),
    },
  ];
}

/**
 * What the watch handles, one pattern per rule: ECS task, service deployment and daemon deployment state changes
 * (a daemon deployment names its target revision: the watch reads it), and Lambda's image-changing
 * API calls (CloudTrail, where a trail logs them). The own-account rules on the default bus and the guard bus's
 * rules for forwarded events select the same, so a workload's events reach the watch exactly as the guard's own.
 * A deployment event names the service, not its digests: the watch reads that service.
 * See: https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs_service_deployment_events.html
 * See: https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-service-event-cloudtrail.html
 */
export function buildWatchEventPatterns(): {
  readonly ecs: ForwardingEventPattern;
  readonly lambda: ForwardingEventPattern;
} {
  return {
    ecs: {
      source: ['aws.ecs'],
      'detail-type': [
        TASK_STATE_CHANGE_DETAIL_TYPE,
        DEPLOYMENT_STATE_CHANGE_DETAIL_TYPE,
        DAEMON_DEPLOYMENT_STATE_CHANGE_DETAIL_TYPE,
      ],
    },
    lambda: lambdaImageCallsPattern(),
  };
}

/** Lambda's image-changing calls, by prefix: CloudTrail appends the API version to the eventName. */
function lambdaImageCallsPattern(): ForwardingEventPattern {
  return {
    source: ['aws.lambda'],
    'detail-type': [CLOUDTRAIL_API_CALL],
    detail: {
      eventSource: ['lambda.amazonaws.com'],
      eventName: LAMBDA_WATCHED_ACTIONS.map((action) => ({ prefix: action })),
    },
  };
}
