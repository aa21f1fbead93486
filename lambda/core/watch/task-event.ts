/**
 * Validates one queue record carrying an EventBridge `ECS Task State Change` event. Only the fields the watch
 * reads are checked; ECS may add others ("make sure that your application is prepared to handle unknown
 * properties"), so they are let through.
 * - `detail.version` increments with each change of one task, and a duplicate delivery carries the same version:
 *   it orders the events of one task.
 *   See: https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs_cwe_events.html
 * - `containers[].imageDigest` is returned "if your containers are using an image hosted with Amazon ECR".
 *   See: https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs_task_events.html
 * A record that fails gets a reason a person can act on; it never throws.
 */
import * as v from 'valibot';
import { issuesOf, readRecordJson } from '../push-event';
import type { Digest } from '../types';

const ACCOUNT = v.pipe(v.string(), v.regex(/^\d{12}$/, 'must be a 12-digit account id'));
const TIME = v.pipe(
  v.string(),
  v.check((text) => /^\d{4}-\d{2}-\d{2}T/.test(text) && !Number.isNaN(Date.parse(text)), 'must be an ISO 8601 time'),
);
const TASK_ARN = v.pipe(v.string(), v.regex(/^arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:task\/\S+$/, 'must be a task ARN'));

const Container = v.object({
  name: v.optional(v.string()),
  image: v.optional(v.string()),
  // not checked as a digest here: a container of another registry may report another form, and is skipped later
  imageDigest: v.optional(v.string()),
});

const TaskStateChangeEvent = v.object({
  id: v.string(),
  source: v.literal('aws.ecs'),
  'detail-type': v.literal('ECS Task State Change'),
  account: ACCOUNT,
  region: v.string(),
  time: TIME,
  detail: v.object({
    taskArn: TASK_ARN,
    clusterArn: v.optional(v.string()),
    lastStatus: v.string(),
    desiredStatus: v.optional(v.string()),
    group: v.optional(v.string()),
    version: v.pipe(v.number(), v.integer('must be a whole number'), v.minValue(0, 'must be 0 or more')),
    containers: v.optional(v.pipe(v.array(Container), v.maxLength(100, 'must list at most 100 containers'))),
  }),
});

/** One validated task state change: what the watch needs of it. */
export interface TaskStateChange {
  /** the id of the queue message that carried it, for partial batch responses */
  readonly messageId: string;
  readonly eventId: string;
  readonly time: Date;
  /** where the task runs */
  readonly account: string;
  readonly region: string;
  readonly taskArn: string;
  readonly clusterArn?: string;
  readonly group?: string;
  readonly lastStatus: string;
  readonly desiredStatus?: string;
  /** `detail.version`: orders the events of one task; a duplicate has the same */
  readonly version: number;
  readonly containers: readonly { readonly name?: string; readonly image?: string; readonly imageDigest?: Digest }[];
  /** SQS `ApproximateReceiveCount`; 1 = first try */
  readonly attempt: number;
}

export type ParsedTaskRecord =
  | { readonly ok: true; readonly event: TaskStateChange }
  | { readonly ok: false; readonly reason: string };

export function parseTaskStateChangeRecord(record: {
  readonly messageId: string;
  readonly body: string;
  readonly attributes?: { readonly ApproximateReceiveCount?: string };
}): ParsedTaskRecord {
  const read = readRecordJson(record);
  if (!read.ok) return read;
  const parsed = v.safeParse(TaskStateChangeEvent, read.json);
  if (!parsed.success) return { ok: false, reason: `not an ECS Task State Change event: ${issuesOf(parsed.issues)}` };
  const { detail, ...envelope } = parsed.output;
  const attempt = Number(record.attributes?.ApproximateReceiveCount ?? '1');
  return {
    ok: true,
    event: {
      messageId: record.messageId,
      eventId: envelope.id,
      time: new Date(envelope.time),
      account: envelope.account,
      region: envelope.region,
      taskArn: detail.taskArn,
      ...(detail.clusterArn ? { clusterArn: detail.clusterArn } : {}),
      ...(detail.group ? { group: detail.group } : {}),
      lastStatus: detail.lastStatus,
      ...(detail.desiredStatus ? { desiredStatus: detail.desiredStatus } : {}),
      version: detail.version,
      containers: (detail.containers ?? []).map((c) => ({
        ...(c.name !== undefined ? { name: c.name } : {}),
        ...(c.image !== undefined ? { image: c.image } : {}),
        ...(c.imageDigest !== undefined ? { imageDigest: c.imageDigest } : {}),
      })),
      attempt: Number.isFinite(attempt) && attempt >= 1 ? attempt : 1,
    },
  };
}
