/**
 * Validates one queue record carrying an EventBridge event the guard listens to:
 * - `ECR Image Action` (PUSH and DELETE, `result: SUCCESS`), the native ECR event;
 *   See: https://docs.aws.amazon.com/AmazonECR/latest/userguide/ecr-eventbridge.html
 * - the lifecycle `PolicyExecutionEvent` that CloudTrail logs (one event per up to 10 images) and that
 *   EventBridge delivers only to a rule in state `ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS` (it is a
 *   read-only management event). Its shape is the "Image lifecycle policy action" example of
 *   https://docs.aws.amazon.com/AmazonECR/latest/userguide/logging-using-cloudtrail.html
 *   See: https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-service-event-cloudtrail-management.html
 * A record that fails gets a reason a person can act on; it never throws.
 */
import { EventBridgeSchema } from '@aws-lambda-powertools/parser/schemas';
import { z } from 'zod';
import type { ImageEvent } from './types';

const MAX_BODY_CHARACTERS = 256 * 1024; // SQS message size limit: anything larger is not from EventBridge
const DIGEST = z.string().regex(/^sha256:[a-f0-9]{64}$/, 'must be sha256:<64 lowercase hex>');
const ACCOUNT = z.string().regex(/^\d{12}$/, 'must be a 12-digit account id');
const REPOSITORY = z.string().min(2).max(256);

const EcrImageActionDetail = z.object({
  'action-type': z.string(),
  result: z.string(),
  'repository-name': REPOSITORY,
  'image-digest': DIGEST,
  'image-tag': z.string().max(300).optional(),
  'manifest-media-type': z.string().optional(),
  'artifact-media-type': z.string().optional(),
});

const EcrImageActionEvent = EventBridgeSchema.extend({
  source: z.literal('aws.ecr'),
  'detail-type': z.literal('ECR Image Action'),
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

const LifecycleImageAction = z.object({
  lifecycleEventImage: z.object({
    digest: DIGEST,
    tagStatus: z.string().optional(),
    tagList: z.array(z.string().max(300)).max(100).optional(),
    // epoch milliseconds in the documented example (`1584042813000`)
    pushedAt: z.number().optional(),
  }),
  rulePriority: z.number().optional(),
});

const PolicyExecutionEvent = EventBridgeSchema.extend({
  source: z.literal('aws.ecr'),
  'detail-type': z.enum(CLOUDTRAIL_DETAIL_TYPES),
  account: ACCOUNT,
  detail: z.object({
    eventSource: z.literal('ecr.amazonaws.com'),
    eventName: z.literal('PolicyExecutionEvent'),
    eventTime: z
      .string()
      .refine((text) => !Number.isNaN(Date.parse(text)), 'must be a date and time')
      .optional(),
    serviceEventDetails: z.object({
      repositoryName: REPOSITORY,
      lifecycleEventPolicy: z
        .object({
          lifecycleEventRules: z
            .array(z.object({ rulePriority: z.number().optional(), action: z.string().optional() }))
            .optional(),
        })
        .optional(),
      // "for lifecycle policy actions where 10 or more images are expired Amazon ECR sends multiple events"
      lifecycleEventImageActions: z.array(LifecycleImageAction).max(100),
    }),
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
  | { readonly ok: true; readonly event: ImageEvent; readonly lifecycle?: undefined }
  /** the images one lifecycle `PolicyExecutionEvent` expired or archived */
  | { readonly ok: true; readonly lifecycle: readonly ImageEvent[]; readonly event?: undefined }
  /** a valid event that the guard has no reason to act on (a failed push or deletion) */
  | { readonly ok: true; readonly ignored: string; readonly event?: undefined; readonly lifecycle?: undefined }
  | { readonly ok: false; readonly reason: string };

export function parsePushRecord(record: QueueRecord): ParsedRecord {
  if (record === null || typeof record !== 'object' || typeof record.body !== 'string')
    return { ok: false, reason: 'record has no body' };
  if (record.body.length > MAX_BODY_CHARACTERS) {
    return { ok: false, reason: `body is ${record.body.length} characters, larger than any EventBridge event` };
  }
  let json: unknown;
  try {
    json = JSON.parse(record.body);
  } catch (error) {
    return { ok: false, reason: `body is not JSON (${(error as Error).message})` };
  }
  const attempt = attemptOf(record);
  const detailType =
    typeof json === 'object' && json !== null ? (json as Record<string, unknown>)['detail-type'] : undefined;
  if (typeof detailType === 'string' && (CLOUDTRAIL_DETAIL_TYPES as readonly string[]).includes(detailType)) {
    return parsePolicyExecutionEvent(json, record.messageId, attempt);
  }

  const parsed = EcrImageActionEvent.safeParse(json);
  if (!parsed.success) return { ok: false, reason: `not an ECR Image Action event: ${issuesOf(parsed.error)}` };
  const event = parsed.data;
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
  const parsed = PolicyExecutionEvent.safeParse(json);
  if (!parsed.success)
    return { ok: false, reason: `not an ECR lifecycle PolicyExecutionEvent: ${issuesOf(parsed.error)}` };
  const event = parsed.data;
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

function attemptOf(record: QueueRecord): number {
  const attempt = Number(record.attributes?.ApproximateReceiveCount ?? '1');
  return Number.isFinite(attempt) && attempt >= 1 ? attempt : 1;
}

function issuesOf(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.join('.') || '(event)'}: ${issue.message}`)
    .join('; ');
}
