/**
 * Validates one queue record carrying an EventBridge `ECR Image Action` event.
 * See: https://docs.aws.amazon.com/AmazonECR/latest/userguide/ecr-eventbridge.html
 * A record that fails gets a reason a person can act on; it never throws.
 */
import { EventBridgeSchema } from '@aws-lambda-powertools/parser/schemas';
import { z } from 'zod';
import type { PushEvent } from './types';

const MAX_BODY_CHARACTERS = 256 * 1024; // SQS message size limit: anything larger is not from EventBridge

const EcrImageActionDetail = z.object({
  'action-type': z.string(),
  result: z.string(),
  'repository-name': z.string().min(2).max(256),
  'image-digest': z.string().regex(/^sha256:[a-f0-9]{64}$/, 'must be sha256:<64 lowercase hex>'),
  'image-tag': z.string().max(300).optional(),
  'manifest-media-type': z.string().optional(),
  'artifact-media-type': z.string().optional(),
});

const EcrImageActionEvent = EventBridgeSchema.extend({
  source: z.literal('aws.ecr'),
  'detail-type': z.literal('ECR Image Action'),
  account: z.string().regex(/^\d{12}$/, 'must be a 12-digit account id'),
  detail: EcrImageActionDetail,
});

/** The fields of an SQS record this parser reads (a subset of `SQSRecord`). */
export interface QueueRecord {
  readonly messageId: string;
  readonly body: string;
  readonly attributes?: { readonly ApproximateReceiveCount?: string };
}

export type ParsedRecord =
  | { readonly ok: true; readonly event: PushEvent }
  /** a valid ECR event that the guard has no reason to act on (a DELETE, a failed push) */
  | { readonly ok: true; readonly ignored: string; readonly event?: undefined }
  | { readonly ok: false; readonly reason: string };

export function parsePushRecord(record: QueueRecord): ParsedRecord {
  if (record === null || typeof record !== 'object' || typeof record.body !== 'string') return { ok: false, reason: 'record has no body' };
  if (record.body.length > MAX_BODY_CHARACTERS) {
    return { ok: false, reason: `body is ${record.body.length} characters, larger than any EventBridge event` };
  }
  let json: unknown;
  try {
    json = JSON.parse(record.body);
  } catch (error) {
    return { ok: false, reason: `body is not JSON (${(error as Error).message})` };
  }
  const parsed = EcrImageActionEvent.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues
      .slice(0, 5)
      .map((issue) => `${issue.path.join('.') || '(event)'}: ${issue.message}`)
      .join('; ');
    return { ok: false, reason: `not an ECR Image Action event: ${issues}` };
  }
  const event = parsed.data;
  const detail = event.detail;
  if (detail['action-type'] !== 'PUSH' || detail.result !== 'SUCCESS') {
    return { ok: true, ignored: `${detail['action-type']} ${detail.result} events cannot untag an in-use digest` };
  }
  const attempt = Number(record.attributes?.ApproximateReceiveCount ?? '1');
  const tag = detail['image-tag'];
  return {
    ok: true,
    event: {
      messageId: record.messageId,
      eventId: event.id,
      time: new Date(event.time),
      account: event.account,
      region: event.region,
      repository: detail['repository-name'],
      digest: detail['image-digest'],
      ...(tag ? { tag } : {}),
      ...(detail['manifest-media-type'] ? { manifestMediaType: detail['manifest-media-type'] } : {}),
      attempt: Number.isFinite(attempt) && attempt >= 1 ? attempt : 1,
    },
  };
}
