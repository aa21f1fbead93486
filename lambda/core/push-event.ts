/**
 * Validates one queue record carrying an EventBridge event the guard listens to:
 * - `ECR Image Action` (PUSH and DELETE, `result: SUCCESS`), the native ECR event;
 *   See: https://docs.aws.amazon.com/AmazonECR/latest/userguide/ecr-eventbridge.html
 * - the lifecycle `PolicyExecutionEvent` that CloudTrail logs (one event per up to 10 images) and that
 *   EventBridge delivers only to a rule in state `ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS` (it is a
 *   read-only management event). Its shape is the "Image lifecycle policy action" example of
 *   https://docs.aws.amazon.com/AmazonECR/latest/userguide/logging-using-cloudtrail.html
 *   See: https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-service-event-cloudtrail-management.html
 * - `ECS Service Action` with eventName `SERVICE_TASK_START_IMPAIRED`: a service that cannot start tasks, whose
 *   pinned digest may be gone or archived (the incident as it begins); other Service Actions are ignored.
 *   See: https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs_service_events.html
 * A record that fails gets a reason a person can act on; it never throws.
 */
import * as v from 'valibot';
import type { ImageEvent, ServiceImpairment } from './types';

// valibot rather than zod: the handler's module start is paid on every cold start, and zod (with the
// Powertools EventBridge schema, which imports all of zod) was 79 % of the handler's own code. valibot's
// functions are separate exports that esbuild drops when unused: about 6 KB bundled instead of about 470 KB
// (`npm run bench -- --part=bundle` measures both).
const MAX_BODY_CHARACTERS = 256 * 1024; // SQS message size limit: anything larger is not from EventBridge
const DIGEST = v.pipe(v.string(), v.regex(/^sha256:[a-f0-9]{64}$/, 'must be sha256:<64 lowercase hex>'));
const ACCOUNT = v.pipe(v.string(), v.regex(/^\d{12}$/, 'must be a 12-digit account id'));
const REPOSITORY = v.pipe(
  v.string(),
  v.minLength(2, 'must be 2 to 256 characters'),
  v.maxLength(256, 'must be 2 to 256 characters'),
);
const TAG = v.pipe(v.string(), v.maxLength(300, 'must be at most 300 characters'));
// The EventBridge envelope as the Powertools EventBridgeSchema checked it (`time` an ISO date-time in UTC).
// See: https://docs.aws.amazon.com/eventbridge/latest/ref/events-structure.html
const UTC_DATE_TIME = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d+)?Z$/;
const TIME = v.pipe(
  v.string(),
  // The round trip refuses a day the month does not have (2026-02-30), which the pattern lets through.
  v.check(
    (text) => UTC_DATE_TIME.test(text) && new Date(text).toISOString().slice(0, 19) === text.slice(0, 19),
    'must be an ISO 8601 date and time in UTC (2019-11-16T01:54:34Z)',
  ),
);
const ENVELOPE = {
  version: v.string(),
  id: v.string(),
  time: TIME,
  region: v.string(),
  resources: v.array(v.string()),
  'replay-name': v.optional(v.string()),
};

const EcrImageActionDetail = v.object({
  'action-type': v.string(),
  result: v.string(),
  'repository-name': REPOSITORY,
  'image-digest': DIGEST,
  'image-tag': v.optional(TAG),
  'manifest-media-type': v.optional(v.string()),
  'artifact-media-type': v.optional(v.string()),
});

const EcrImageActionEvent = v.object({
  ...ENVELOPE,
  source: v.literal('aws.ecr'),
  'detail-type': v.literal('ECR Image Action'),
  account: ACCOUNT,
  detail: EcrImageActionDetail,
});

/**
 * CloudTrail sends a non-API service event (`eventType: AwsServiceEvent`, which `PolicyExecutionEvent` is)
 * with detail-type `AWS Service Event via CloudTrail`; `AWS API Call via CloudTrail` is accepted too, in
 * case it arrives as that (*inference*: no ECR page shows the EventBridge envelope of this event).
 * See: https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-service-event-cloudtrail.html
 */
export const CLOUDTRAIL_DETAIL_TYPES = ['AWS Service Event via CloudTrail', 'AWS API Call via CloudTrail'] as const;

const LifecycleImageAction = v.object({
  lifecycleEventImage: v.object({
    digest: DIGEST,
    tagStatus: v.optional(v.string()),
    tagList: v.optional(v.pipe(v.array(TAG), v.maxLength(100, 'must list at most 100 tags'))),
    // epoch milliseconds in the documented example (`1584042813000`)
    pushedAt: v.optional(v.number()),
  }),
  rulePriority: v.optional(v.number()),
});

const PolicyExecutionEvent = v.object({
  ...ENVELOPE,
  source: v.literal('aws.ecr'),
  'detail-type': v.picklist(CLOUDTRAIL_DETAIL_TYPES),
  account: ACCOUNT,
  detail: v.object({
    eventSource: v.literal('ecr.amazonaws.com'),
    eventName: v.literal('PolicyExecutionEvent'),
    eventTime: v.optional(
      v.pipe(
        v.string(),
        v.check((text) => !Number.isNaN(Date.parse(text)), 'must be a date and time'),
      ),
    ),
    serviceEventDetails: v.object({
      repositoryName: REPOSITORY,
      lifecycleEventPolicy: v.optional(
        v.object({
          lifecycleEventRules: v.optional(
            v.array(v.object({ rulePriority: v.optional(v.number()), action: v.optional(v.string()) })),
          ),
        }),
      ),
      // "for lifecycle policy actions where 10 or more images are expired Amazon ECR sends multiple events"
      lifecycleEventImageActions: v.pipe(
        v.array(LifecycleImageAction),
        v.maxLength(100, 'must list at most 100 images'),
      ),
    }),
  }),
});

/** The eventName of the Service Action the guard acts on (eventType `WARN`). */
export const SERVICE_TASK_START_IMPAIRED = 'SERVICE_TASK_START_IMPAIRED';
export const SERVICE_ACTION_DETAIL_TYPE = 'ECS Service Action';
export const DAEMON_TASK_START_IMPAIRED = 'DAEMON_TASK_START_IMPAIRED';
const CLUSTER_ARN_FOR_DAEMON = /^arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:cluster\/[A-Za-z0-9_-]{1,255}$/;
export const DAEMON_SERVICE_ACTION_DETAIL_TYPE = 'ECS Daemon Service Action';
const DAEMON_ARN = /^arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:daemon\/([A-Za-z0-9_-]{1,255})\/([A-Za-z0-9_-]{1,255})$/;
const DAEMON_REVISION_ARN = /^arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:daemon-revision\/\S+$/;

/**
 * `DAEMON_TASK_START_IMPAIRED` (eventType `WARNING`): the detail names the cluster, the daemon and the revision
 * the task starts from; `resources` names the task, and is empty for `TASK_CREATION_FAILED`, so it is not read.
 * See: https://docs.aws.amazon.com/AmazonECS/latest/developerguide/managed-daemons-events.html
 */
const DaemonServiceActionEvent = v.object({
  ...ENVELOPE,
  source: v.literal('aws.ecs'),
  'detail-type': v.literal(DAEMON_SERVICE_ACTION_DETAIL_TYPE),
  account: ACCOUNT,
  detail: v.object({
    eventName: v.string(),
    clusterArn: v.pipe(v.string(), v.regex(CLUSTER_ARN_FOR_DAEMON, 'must be an ECS cluster ARN')),
    daemonArn: v.pipe(v.string(), v.regex(DAEMON_ARN, 'must be an ECS daemon ARN')),
    daemonRevisionArn: v.pipe(v.string(), v.regex(DAEMON_REVISION_ARN, 'must be an ECS daemon revision ARN')),
    failureType: v.optional(v.string()),
  }),
});

// `arn:aws:ecs:<region>:<account>:service/<cluster>/<name>`; the old format `service/<name>` names no cluster.
// See: https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs-account-settings.html #ecs-resource-ids
const SERVICE_ARN =
  /^arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:service\/(?:([A-Za-z0-9_-]{1,255})\/)?([A-Za-z0-9_-]{1,255})$/;
const CLUSTER_ARN = /^arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:cluster\/[A-Za-z0-9_-]{1,255}$/;

/** The documented "Service task start impaired" example: no version in its detail, unlike task events. */
const ServiceActionEvent = v.object({
  ...ENVELOPE,
  source: v.literal('aws.ecs'),
  'detail-type': v.literal(SERVICE_ACTION_DETAIL_TYPE),
  account: ACCOUNT,
  detail: v.object({
    eventType: v.optional(v.string()),
    eventName: v.string(),
    clusterArn: v.optional(v.pipe(v.string(), v.regex(CLUSTER_ARN, 'must be an ECS cluster ARN'))),
  }),
});

/** The fields of an SQS record this parser reads (a subset of `SQSRecord`). */
export interface QueueRecord {
  readonly messageId: string;
  readonly body: string;
  readonly attributes?: { readonly ApproximateReceiveCount?: string };
}

export type ParsedRecord =
  /** one `ECR Image Action` PUSH or DELETE */
  | { readonly ok: true; readonly event: ImageEvent; readonly lifecycle?: undefined; readonly impairments?: undefined }
  /** the images one lifecycle `PolicyExecutionEvent` expired or archived */
  | {
      readonly ok: true;
      readonly lifecycle: readonly ImageEvent[];
      readonly event?: undefined;
      readonly impairments?: undefined;
    }
  /** the services one `SERVICE_TASK_START_IMPAIRED` event names */
  | {
      readonly ok: true;
      readonly impairments: readonly ServiceImpairment[];
      readonly event?: undefined;
      readonly lifecycle?: undefined;
      readonly ignored?: undefined;
    }
  /** a valid event that the guard has no reason to act on (a failed push or deletion) */
  | {
      readonly ok: true;
      readonly ignored: string;
      readonly event?: undefined;
      readonly lifecycle?: undefined;
      readonly impairments?: undefined;
    }
  | { readonly ok: false; readonly reason: string };

/**
 * The JSON an SQS record carries, or why there is none: the first step of every queue the guard reads (the
 * push buffer, the watch), so each reports a missing, oversized or non-JSON body in the same words.
 */
export function readRecordJson(
  record: { readonly body: string } | null | undefined,
): { readonly ok: true; readonly json: unknown } | { readonly ok: false; readonly reason: string } {
  if (record === null || typeof record !== 'object' || typeof record.body !== 'string')
    return { ok: false, reason: 'record has no body' };
  if (record.body.length > MAX_BODY_CHARACTERS) {
    return { ok: false, reason: `body is ${record.body.length} characters, larger than any EventBridge event` };
  }
  try {
    return { ok: true, json: JSON.parse(record.body) };
  } catch (error) {
    return { ok: false, reason: `body is not JSON (${(error as Error).message})` };
  }
}

export function parsePushRecord(record: QueueRecord): ParsedRecord {
  const read = readRecordJson(record);
  if (!read.ok) return read;
  const { json } = read;
  const attempt = attemptOf(record);
  const detailType =
    typeof json === 'object' && json !== null ? (json as Record<string, unknown>)['detail-type'] : undefined;
  if (typeof detailType === 'string' && (CLOUDTRAIL_DETAIL_TYPES as readonly string[]).includes(detailType)) {
    return parsePolicyExecutionEvent(json, record.messageId, attempt);
  }
  if (detailType === SERVICE_ACTION_DETAIL_TYPE) return parseServiceActionEvent(json, record.messageId, attempt);
  if (detailType === DAEMON_SERVICE_ACTION_DETAIL_TYPE) {
    return parseDaemonServiceActionEvent(json, record.messageId, attempt);
  }

  const parsed = v.safeParse(EcrImageActionEvent, json);
  if (!parsed.success) return { ok: false, reason: `not an ECR Image Action event: ${issuesOf(parsed.issues)}` };
  const event = parsed.output;
  const detail = event.detail;
  const action = detail['action-type'];
  if ((action !== 'PUSH' && action !== 'DELETE') || detail.result !== 'SUCCESS') {
    return { ok: true, ignored: `${action} ${detail.result} events change no image` };
  }
  const tag = detail['image-tag'];
  return {
    ok: true,
    event: {
      action,
      messageId: record.messageId,
      eventId: event.id,
      time: new Date(event.time),
      account: event.account,
      region: event.region,
      repository: detail['repository-name'],
      digest: detail['image-digest'],
      ...(tag ? { tag } : {}),
      ...(detail['manifest-media-type'] ? { manifestMediaType: detail['manifest-media-type'] } : {}),
      attempt,
    },
  };
}

function parsePolicyExecutionEvent(json: unknown, messageId: string, attempt: number): ParsedRecord {
  const parsed = v.safeParse(PolicyExecutionEvent, json);
  if (!parsed.success)
    return { ok: false, reason: `not an ECR lifecycle PolicyExecutionEvent: ${issuesOf(parsed.issues)}` };
  const event = parsed.output;
  const details = event.detail.serviceEventDetails;
  const actionOfRule = new Map(
    (details.lifecycleEventPolicy?.lifecycleEventRules ?? []).map((rule) => [
      rule.rulePriority,
      (rule.action ?? '').toLowerCase(),
    ]),
  );
  const time = new Date(event.detail.eventTime ?? event.time);
  const images = details.lifecycleEventImageActions.map((item, index): ImageEvent => {
    const image = item.lifecycleEventImage;
    return {
      // `transition` moves the image to the archive; anything else (the documented `expire`) deletes it
      action: actionOfRule.get(item.rulePriority) === 'transition' ? 'ARCHIVE' : 'EXPIRE',
      messageId,
      eventId: `${event.id}#${index}`,
      time,
      account: event.account,
      region: event.region,
      repository: details.repositoryName,
      digest: image.digest,
      tags: image.tagList ?? [],
      attempt,
    };
  });
  if (images.length === 0) return { ok: true, ignored: 'a PolicyExecutionEvent that names no image' };
  return { ok: true, lifecycle: images };
}

function parseServiceActionEvent(json: unknown, messageId: string, attempt: number): ParsedRecord {
  const fail = (problem: string): ParsedRecord => ({
    ok: false,
    reason: `not an ECS Service Action event: ${problem}`,
  });
  const parsed = v.safeParse(ServiceActionEvent, json);
  if (!parsed.success) return fail(issuesOf(parsed.issues));
  const event = parsed.output;
  const eventName = event.detail.eventName;
  if (eventName !== SERVICE_TASK_START_IMPAIRED)
    return { ok: true, ignored: `ECS Service Action ${eventName} needs no action` };
  const services = event.resources.flatMap((arn) => {
    const match = SERVICE_ARN.exec(arn);
    return match ? [{ arn, cluster: match[1], name: match[2]! }] : [];
  });
  if (services.length === 0) {
    return fail('resources: must name the impaired service (arn:aws:ecs:<region>:<account>:service/<cluster>/<name>)');
  }
  const impairments: ServiceImpairment[] = [];
  for (const service of services) {
    const clusterArn =
      event.detail.clusterArn ??
      (service.cluster
        ? `${service.arn.slice(0, service.arn.indexOf(':service/'))}:cluster/${service.cluster}`
        : undefined);
    if (!clusterArn) return fail('detail.clusterArn: is missing, and the service ARN does not name its cluster');
    impairments.push({
      messageId,
      eventId: event.id,
      time: new Date(event.time),
      account: event.account,
      region: event.region,
      clusterArn,
      serviceArn: service.arn,
      service: service.name,
      attempt,
    });
  }
  return { ok: true, impairments };
}

function parseDaemonServiceActionEvent(json: unknown, messageId: string, attempt: number): ParsedRecord {
  const parsed = v.safeParse(DaemonServiceActionEvent, json);
  if (!parsed.success)
    return { ok: false, reason: `not an ECS Daemon Service Action event: ${issuesOf(parsed.issues)}` };
  const event = parsed.output;
  const { detail } = event;
  if (detail.eventName !== DAEMON_TASK_START_IMPAIRED) {
    return { ok: true, ignored: `ECS Daemon Service Action ${detail.eventName} needs no action` };
  }
  const name = DAEMON_ARN.exec(detail.daemonArn)![2]!;
  return {
    ok: true,
    impairments: [
      {
        messageId,
        eventId: event.id,
        time: new Date(event.time),
        account: event.account,
        region: event.region,
        clusterArn: detail.clusterArn,
        serviceArn: detail.daemonArn,
        service: name,
        daemonRevisionArn: detail.daemonRevisionArn,
        attempt,
      },
    ],
  };
}

function attemptOf(record: QueueRecord): number {
  const attempt = Number(record.attributes?.ApproximateReceiveCount ?? '1');
  return Number.isFinite(attempt) && attempt >= 1 ? attempt : 1;
}

const RECEIVED_CHARACTERS = 40;

/**
 * `field: what was wrong` for the first issues. A type or literal mismatch says what arrived, cut short: the
 * reason is logged, and a body can carry a field of 256 KB.
 */
export function issuesOf(issues: readonly v.BaseIssue<unknown>[]): string {
  return issues
    .slice(0, 5)
    .map((issue) => `${v.getDotPath(issue) || '(event)'}: ${problemOf(issue)}`)
    .join('; ');
}

function problemOf(issue: v.BaseIssue<unknown>): string {
  // Checks (pattern, length, date) carry the messages written above; schema issues get the same form everywhere.
  if (issue.kind !== 'schema') return issue.message;
  if (issue.received === 'undefined') return 'is missing';
  // valibot names a type by its constructor (`Object`, `Array`); JSON calls them object and array
  const expected =
    issue.expected && /^[A-Z][a-z]+$/.test(issue.expected) ? issue.expected.toLowerCase() : issue.expected;
  const received =
    typeof issue.input === 'string' && issue.input.length > RECEIVED_CHARACTERS
      ? `"${issue.input.slice(0, RECEIVED_CHARACTERS)}…"`
      : issue.received;
  return `expected ${expected ?? 'something else'}, got ${received}`;
}
