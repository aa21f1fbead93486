/**
 * The watched events that name a workload without its digests, so the watch reads that one workload:
 * - `ECS Service Action` `SERVICE_TASK_START_IMPAIRED` and `ECS Daemon Service Action` `DAEMON_TASK_START_IMPAIRED`
 *   forwarded by a workload: read by the push path's parser (lambda/core/push-event.ts), paged on by
 *   `watchStartImpaired` (start-impaired.ts).
 * - `ECS Deployment State Change`: `resources` = [the service ARN], `detail.eventName`
 *   SERVICE_DEPLOYMENT_IN_PROGRESS / COMPLETED / FAILED; no digest, no revision ARN, no `detail.version`.
 *   See: https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs_service_deployment_events.html
 * - `ECS Daemon Deployment State Change`: `detail.clusterArn`, `detail.daemonArn` and the revision the deployment
 *   rolls out, `detail.targetDaemonRevisionArn`; no digest. The revision is read, whatever the eventName.
 *   See: https://docs.aws.amazon.com/AmazonECS/latest/developerguide/managed-daemons-events.html
 * - Lambda API calls as EventBridge receives them from CloudTrail (`AWS API Call via CloudTrail`, only where a
 *   trail exists). Lambda's `eventName` "might include date and version information, but it is still referring
 *   to the same public API" (`UpdateFunctionCode20150331v2`), so the action is matched by its name followed by
 *   such a suffix, never by the bare prefix: `CreateFunction` is also the start of `CreateFunctionUrlConfig…`.
 *   See: https://docs.aws.amazon.com/lambda/latest/dg/logging-using-cloudtrail.html
 *   See: https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-service-event-cloudtrail.html
 * Like the task events, only the fields read are checked; a record that fails gets a reason a person can act on.
 */
import * as v from 'valibot';
import {
  DAEMON_SERVICE_ACTION_DETAIL_TYPE,
  issuesOf,
  parsePushRecord,
  readRecordJson,
  SERVICE_ACTION_DETAIL_TYPE,
} from '../push-event';
import type { ServiceImpairment } from '../types';
import { parseTaskStateChangeRecord, type TaskStateChange } from './task-event';

export const DEPLOYMENT_STATE_CHANGE = 'ECS Deployment State Change';
export const DAEMON_DEPLOYMENT_STATE_CHANGE = 'ECS Daemon Deployment State Change';
export const CLOUDTRAIL_API_CALL = 'AWS API Call via CloudTrail';
/** The one deployment event that is read: see `watchTaskEvents` for why the others are not. */
export const DEPLOYMENT_IN_PROGRESS = 'SERVICE_DEPLOYMENT_IN_PROGRESS';

/** The Lambda API calls that change which image a function, version or alias runs. */
export const LAMBDA_WATCHED_ACTIONS = [
  'CreateFunction',
  'UpdateFunctionCode',
  'PublishVersion',
  'CreateAlias',
  'UpdateAlias',
] as const;
export type LambdaWatchedAction = (typeof LAMBDA_WATCHED_ACTIONS)[number];

/** `UpdateFunctionCode`, `UpdateFunctionCode20150331`, `UpdateFunctionCode20150331v2`: the action, else undefined. */
export function lambdaActionOf(eventName: string): LambdaWatchedAction | undefined {
  const match = /^([A-Za-z]+?)(\d{8}(v\d+)?)?$/.exec(eventName);
  const action = match?.[1];
  return (LAMBDA_WATCHED_ACTIONS as readonly string[]).includes(action ?? '')
    ? (action as LambdaWatchedAction)
    : undefined;
}

const ACCOUNT = v.pipe(v.string(), v.regex(/^\d{12}$/, 'must be a 12-digit account id'));
const TIME = v.pipe(
  v.string(),
  v.check((text) => /^\d{4}-\d{2}-\d{2}T/.test(text) && !Number.isNaN(Date.parse(text)), 'must be an ISO 8601 time'),
);
const SERVICE_ARN = v.pipe(
  v.string(),
  v.regex(/^arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:service\/\S+$/, 'must be a service ARN'),
);

const DeploymentStateChangeEvent = v.object({
  id: v.string(),
  source: v.literal('aws.ecs'),
  'detail-type': v.literal(DEPLOYMENT_STATE_CHANGE),
  account: ACCOUNT,
  region: v.string(),
  time: TIME,
  resources: v.pipe(v.array(SERVICE_ARN), v.minLength(1, 'must name the service')),
  detail: v.object({ eventName: v.string(), deploymentId: v.optional(v.string()) }),
});

const DAEMON_REVISION_ARN = v.pipe(
  v.string(),
  v.regex(/^arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:daemon-revision\/\S+$/, 'must be a daemon revision ARN'),
);

const DaemonDeploymentStateChangeEvent = v.object({
  id: v.string(),
  source: v.literal('aws.ecs'),
  'detail-type': v.literal(DAEMON_DEPLOYMENT_STATE_CHANGE),
  account: ACCOUNT,
  region: v.string(),
  time: TIME,
  detail: v.object({
    eventName: v.string(),
    clusterArn: v.optional(v.string()),
    daemonArn: v.optional(v.string()),
    targetDaemonRevisionArn: DAEMON_REVISION_ARN,
  }),
});

const LambdaApiCallEvent = v.object({
  id: v.string(),
  source: v.literal('aws.lambda'),
  'detail-type': v.literal(CLOUDTRAIL_API_CALL),
  account: ACCOUNT,
  region: v.string(),
  time: TIME,
  detail: v.object({
    eventSource: v.literal('lambda.amazonaws.com'),
    eventName: v.string(),
    errorCode: v.optional(v.string()),
    requestParameters: v.optional(
      v.nullable(v.object({ functionName: v.optional(v.string()), name: v.optional(v.string()) })),
    ),
    responseElements: v.optional(
      v.nullable(
        v.object({
          functionArn: v.optional(v.string()),
          version: v.optional(v.string()),
          aliasArn: v.optional(v.string()),
        }),
      ),
    ),
  }),
});

interface WatchedEnvelope {
  /** the id of the queue message that carried it, for partial batch responses */
  readonly messageId: string;
  readonly eventId: string;
  readonly time: Date;
  /** the workload's account and region: where the service or function is */
  readonly account: string;
  readonly region: string;
  /** SQS `ApproximateReceiveCount`; 1 = first try */
  readonly attempt: number;
}

export interface DeploymentStateChange extends WatchedEnvelope {
  readonly eventName: string;
  readonly serviceArn: string;
  /** the cluster, from the service ARN (`service/<cluster>/<name>`; the old form `service/<name>` is `default`) */
  readonly clusterArn: string;
  readonly deploymentId?: string;
}

export interface DaemonDeploymentStateChange extends WatchedEnvelope {
  readonly eventName: string;
  /** the revision the deployment rolls out: what the daemon's next tasks start from */
  readonly targetDaemonRevisionArn: string;
  readonly daemonArn?: string;
}

/** Which function version a Lambda call changed: `$LATEST`, a published version, or an alias. */
export type LambdaTarget =
  | { readonly functionName: string }
  | { readonly functionName: string; readonly version: string }
  | { readonly functionName: string; readonly alias: string };

export interface LambdaApiCall extends WatchedEnvelope {
  readonly eventName: string;
  readonly action: LambdaWatchedAction;
  /** absent when the call failed (`errorCode`): nothing changed, nothing to read */
  readonly target?: LambdaTarget;
  readonly errorCode?: string;
}

type Parsed<T> = { readonly ok: true; readonly event: T } | { readonly ok: false; readonly reason: string };

interface RecordMeta {
  readonly messageId: string;
  readonly attributes?: { readonly ApproximateReceiveCount?: string };
}

function attemptOf(record: RecordMeta): number {
  const attempt = Number(record.attributes?.ApproximateReceiveCount ?? '1');
  return Number.isFinite(attempt) && attempt >= 1 ? attempt : 1;
}

/** What every watched event carries, from its EventBridge envelope and its queue record. */
function envelopeOf(
  event: { readonly id: string; readonly time: string; readonly account: string; readonly region: string },
  record: RecordMeta,
) {
  return {
    messageId: record.messageId,
    eventId: event.id,
    time: new Date(event.time),
    account: event.account,
    region: event.region,
    attempt: attemptOf(record),
  };
}

export function parseDeploymentStateChange(json: unknown, record: RecordMeta): Parsed<DeploymentStateChange> {
  const parsed = v.safeParse(DeploymentStateChangeEvent, json);
  if (!parsed.success) {
    return { ok: false, reason: `not an ECS Deployment State Change event: ${issuesOf(parsed.issues)}` };
  }
  const event = parsed.output;
  const serviceArn = event.resources[0]!;
  const [prefix, path] = [serviceArn.slice(0, serviceArn.indexOf(':service/')), serviceArn.split(':service/')[1]!];
  const parts = path.split('/');
  const cluster = parts.length > 1 ? parts[0]! : 'default';
  return {
    ok: true,
    event: {
      ...envelopeOf(event, record),
      eventName: event.detail.eventName,
      serviceArn,
      clusterArn: `${prefix}:cluster/${cluster}`,
      ...(event.detail.deploymentId ? { deploymentId: event.detail.deploymentId } : {}),
    },
  };
}

export function parseDaemonDeploymentStateChange(
  json: unknown,
  record: RecordMeta,
): Parsed<DaemonDeploymentStateChange> {
  const parsed = v.safeParse(DaemonDeploymentStateChangeEvent, json);
  if (!parsed.success) {
    return { ok: false, reason: `not an ECS Daemon Deployment State Change event: ${issuesOf(parsed.issues)}` };
  }
  const event = parsed.output;
  return {
    ok: true,
    event: {
      ...envelopeOf(event, record),
      eventName: event.detail.eventName,
      targetDaemonRevisionArn: event.detail.targetDaemonRevisionArn,
      ...(event.detail.daemonArn ? { daemonArn: event.detail.daemonArn } : {}),
    },
  };
}

/**
 * A Lambda API call; `undefined` action means a Lambda call the watch does not follow (the rule's prefix
 * matching lets e.g. `CreateFunctionUrlConfig20211031` through), which is not an error.
 */
export function parseLambdaApiCall(
  json: unknown,
  record: RecordMeta,
): Parsed<LambdaApiCall> | { readonly ok: true; readonly ignored: string } {
  const parsed = v.safeParse(LambdaApiCallEvent, json);
  if (!parsed.success) {
    return { ok: false, reason: `not a Lambda API call from CloudTrail: ${issuesOf(parsed.issues)}` };
  }
  const event = parsed.output;
  const { detail } = event;
  const action = lambdaActionOf(detail.eventName);
  if (!action) return { ok: true, ignored: detail.eventName };
  const envelope = {
    ...envelopeOf(event, record),
    eventName: detail.eventName,
    action,
  };
  if (detail.errorCode) return { ok: true, event: { ...envelope, errorCode: detail.errorCode } };
  const functionName = detail.requestParameters?.functionName;
  if (!functionName) {
    return { ok: false, reason: `${detail.eventName}: detail.requestParameters.functionName: is missing` };
  }
  let target: LambdaTarget;
  if (action === 'PublishVersion') {
    // The version is only known from the answer (PublishVersion's FunctionConfiguration.Version).
    const version = detail.responseElements?.version;
    if (!version) return { ok: false, reason: `${detail.eventName}: detail.responseElements.version: is missing` };
    target = { functionName, version };
  } else if (action === 'CreateAlias' || action === 'UpdateAlias') {
    const alias = detail.requestParameters?.name;
    if (!alias) return { ok: false, reason: `${detail.eventName}: detail.requestParameters.name: is missing` };
    target = { functionName, alias };
  } else {
    target = { functionName };
  }
  return { ok: true, event: { ...envelope, target } };
}

/** One record of the watch queue, by what it carries. */
export type WatchedRecord =
  | { readonly ok: true; readonly kind: 'task'; readonly event: TaskStateChange }
  | { readonly ok: true; readonly kind: 'deployment'; readonly event: DeploymentStateChange }
  | { readonly ok: true; readonly kind: 'lambda'; readonly event: LambdaApiCall }
  | { readonly ok: true; readonly kind: 'daemon-deployment'; readonly event: DaemonDeploymentStateChange }
  /**
   * a start-impaired service or daemon action forwarded by a workload (the guard bus routes only those): read as
   * the push path reads its own account's
   */
  | { readonly ok: true; readonly kind: 'impairment'; readonly impairments: readonly ServiceImpairment[] }
  /** a Lambda call (or another Service Action) the watch does not follow: acknowledged, nothing to do */
  | { readonly ok: true; readonly kind: 'ignored'; readonly messageId: string; readonly eventName: string }
  | { readonly ok: false; readonly reason: string };

/** Reads one queue record by its `detail-type`; anything else is read as a task event and refused as one. */
export function parseWatchedRecord(record: {
  readonly messageId: string;
  readonly body: string;
  readonly attributes?: { readonly ApproximateReceiveCount?: string };
}): WatchedRecord {
  const read = readRecordJson(record);
  if (!read.ok) return read;
  const json = read.json as Record<string, unknown> | null;
  const detailType = typeof json === 'object' && json !== null ? json['detail-type'] : undefined;
  if (detailType === DEPLOYMENT_STATE_CHANGE) {
    const parsed = parseDeploymentStateChange(json, record);
    return parsed.ok ? { ok: true, kind: 'deployment', event: parsed.event } : parsed;
  }
  if (detailType === DAEMON_DEPLOYMENT_STATE_CHANGE) {
    const parsed = parseDaemonDeploymentStateChange(json, record);
    return parsed.ok ? { ok: true, kind: 'daemon-deployment', event: parsed.event } : parsed;
  }
  if (detailType === SERVICE_ACTION_DETAIL_TYPE || detailType === DAEMON_SERVICE_ACTION_DETAIL_TYPE) {
    // One reading of a start-impaired action for both paths: the push path's parser, by the same detail-type.
    const parsed = parsePushRecord(record);
    if (!parsed.ok) return parsed;
    if (parsed.impairments) return { ok: true, kind: 'impairment', impairments: parsed.impairments };
    const detail = (json as { detail?: { eventName?: unknown } }).detail;
    const eventName = typeof detail?.eventName === 'string' ? detail.eventName : String(detailType);
    return { ok: true, kind: 'ignored', messageId: record.messageId, eventName };
  }
  if (detailType === CLOUDTRAIL_API_CALL) {
    const parsed = parseLambdaApiCall(json, record);
    if (!parsed.ok) return parsed;
    if ('ignored' in parsed) {
      return { ok: true, kind: 'ignored', messageId: record.messageId, eventName: parsed.ignored };
    }
    return { ok: true, kind: 'lambda', event: parsed.event };
  }
  const task = parseTaskStateChangeRecord(record);
  return task.ok ? { ok: true, kind: 'task', event: task.event } : task;
}
