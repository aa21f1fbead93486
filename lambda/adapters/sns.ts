/**
 * SNS adapter: publishes one alert as a message that reads as an email for people and as JSON for
 * machine subscribers, with message attributes for subscription filter policies.
 */
import { PublishCommand, type MessageAttributeValue, type SNSClient } from '@aws-sdk/client-sns';
import type { Alert, AlertPort } from '../core/ports';
import { defaultSnsClient } from './clients';

/**
 * The default (and smallest allowed) maximum size of a published message: 256 KiB in UTF-8 bytes, message
 * body and message attributes together. A topic can raise it (`MaximumMessageSize`); the guard stays
 * under the default so it fits every topic.
 * See: botocore/data/sns/2010-03-31/service-2.json, `PublishInput.Message`
 */
export const SNS_MAX_MESSAGE_BYTES = 262_144;

/** Room kept for how SNS counts attribute names, types and the subject, which is not documented byte by byte. */
const SIZE_SAFETY_MARGIN_BYTES = 1_024;

/**
 * Subjects must be text without line breaks or control characters and shorter than 100 characters
 * (botocore/data/sns/2010-03-31/service-2.json, `PublishInput.Subject`; older documentation says ASCII,
 * so the guard sends ASCII only).
 */
export const SNS_MAX_SUBJECT_LENGTH = 99;

const ELLIPSIS = '...';

export class SnsAlertAdapter implements AlertPort {
  constructor(
    private readonly topicArn: string,
    private readonly client: SNSClient = defaultSnsClient(),
  ) {}

  async publish(alert: Alert): Promise<void> {
    const attributes = messageAttributes(alert);
    const subject = toSnsSubject(alert.subject);
    const budget =
      SNS_MAX_MESSAGE_BYTES - SIZE_SAFETY_MARGIN_BYTES - attributesBytes(attributes) - utf8Bytes(subject);
    await this.client.send(
      new PublishCommand({
        TopicArn: this.topicArn,
        MessageStructure: 'json',
        Message: buildMessage(alert, budget),
        Subject: subject,
        MessageAttributes: attributes,
      }),
    );
  }
}

/**
 * The `MessageStructure: json` body: `default` and `email-json` carry the alert's JSON, `email` its text.
 * When the whole does not fit in `budgetBytes`, the email text is cut (on a code point boundary) and says
 * so; if even an empty text does not fit, the JSON is replaced by a summary that says it was too large.
 */
export function buildMessage(alert: Alert, budgetBytes: number): string {
  const json = JSON.stringify(alert.json ?? null);
  const render = (jsonText: string, emailText: string): string =>
    JSON.stringify({ default: jsonText, email: emailText, 'email-json': jsonText });

  const full = render(json, alert.text);
  if (utf8Bytes(full) <= budgetBytes) return full;

  const fittedJson =
    utf8Bytes(render(json, truncationNotice(0, alert.text.length))) <= budgetBytes
      ? json
      : JSON.stringify({
          truncated: true,
          reason: 'the alert details exceeded the SNS message size limit',
          subject: alert.subject,
          severity: alert.severity,
          repository: alert.repository,
          events: alert.events,
        });

  const codePoints = Array.from(alert.text);
  const candidate = (kept: number): string =>
    render(fittedJson, codePoints.slice(0, kept).join('') + truncationNotice(kept, codePoints.length));
  // The longest prefix of the text that fits, found by bisection (size grows with the prefix).
  let low = 0;
  let high = codePoints.length;
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    if (utf8Bytes(candidate(mid)) <= budgetBytes) low = mid;
    else high = mid - 1;
  }
  return candidate(low);
}

function truncationNotice(kept: number, total: number): string {
  return (
    `\n\n[Truncated: this message exceeded the SNS size limit; ${kept} of ${total} characters shown. ` +
    'The JSON form of this alert (email-json subscribers) carries the details.]'
  );
}

/** An ASCII, single-line subject shorter than 100 characters; never empty. */
export function toSnsSubject(subject: string): string {
  const ascii = subject
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '') // accents left over from decomposition
    .replace(/[\r\n\t]+/g, ' ')
    .replace(/[^\x20-\x7e]/g, '?')
    .replace(/ {2,}/g, ' ')
    .trim();
  const text = ascii.length > 0 ? ascii : 'ecr-digest-guard alert';
  return text.length <= SNS_MAX_SUBJECT_LENGTH
    ? text
    : text.slice(0, SNS_MAX_SUBJECT_LENGTH - ELLIPSIS.length).trimEnd() + ELLIPSIS;
}

function messageAttributes(alert: Alert): Record<string, MessageAttributeValue> {
  const attributes: Record<string, MessageAttributeValue> = {
    severity: { DataType: 'String', StringValue: alert.severity },
    // String.Array: a JSON array, matched element by element by filter policies.
    // See: https://docs.aws.amazon.com/sns/latest/dg/sns-message-attributes.html
    events: { DataType: 'String.Array', StringValue: JSON.stringify(alert.events) },
  };
  // SNS rejects attributes with an empty value.
  if (alert.repository.length > 0) attributes.repository = { DataType: 'String', StringValue: alert.repository };
  return attributes;
}

function attributesBytes(attributes: Record<string, MessageAttributeValue>): number {
  return Object.entries(attributes).reduce(
    (sum, [name, value]) => sum + utf8Bytes(name) + utf8Bytes(value.DataType ?? '') + utf8Bytes(value.StringValue ?? ''),
    0,
  );
}

function utf8Bytes(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}
