/**
 * SNS adapter: publishes one alert as a message that reads as an email for people, as JSON for machine
 * subscribers and as a chat notification for Slack or Teams, with message attributes for subscription filter
 * policies.
 */
import { PublishCommand, type MessageAttributeValue, type SNSClient } from '@aws-sdk/client-sns';
import { toChatNotification } from '../core/alert-chat';
import {
  countOf,
  cutTextToBytes,
  escapedBytes,
  fitAlertJson,
  MAX_SUBJECT_LENGTH,
  toAlertSubject,
} from '../core/alert-size';
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

/** SNS subjects are shorter than 100 characters; the one function that makes them fit is `toAlertSubject`. */
export const SNS_MAX_SUBJECT_LENGTH = MAX_SUBJECT_LENGTH;

export class SnsAlertAdapter implements AlertPort {
  constructor(
    private readonly topicArn: string,
    private readonly client: SNSClient = defaultSnsClient(),
  ) {}

  async publish(alert: Alert): Promise<void> {
    const attributes = messageAttributes(alert);
    const subject = toSnsSubject(alert.subject);
    const budget = SNS_MAX_MESSAGE_BYTES - SIZE_SAFETY_MARGIN_BYTES - attributesBytes(attributes) - utf8Bytes(subject);
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
 * The `MessageStructure: json` body: `default` carries the alert's JSON, `email` its text, `https` its chat
 * form. Other top-level keys "define the message you want to send to a specific transport protocol (e.g.,
 * "http")" and a protocol without a key of its own (`email-json`, `sqs`, `lambda`, …) receives `default`, so
 * the JSON is sent once: "Values have a maximum length bounded by the overall message size (so, including
 * multiple protocols may limit message sizes)" (botocore/data/sns/2010-03-31/service-2.json,
 * `PublishInput.MessageStructure`, `PublishInput.Message`).
 *
 * Why `https` is the chat form: Amazon Q Developer in chat applications (formerly AWS Chatbot) receives a topic's
 * messages through an SNS subscription of protocol `https` to `https://global.sns-api.chatbot.amazonaws.com`,
 * which the service creates for each topic a channel configuration names. *Inference*: no AWS page states that
 * protocol in a sentence; it is what the subscription shows in the SNS console and what infrastructure code that
 * subscribes the chat service by hand declares. The chat docs say custom notifications "use the same Amazon
 * SNS-based mechanisms" (https://docs.aws.amazon.com/chatbot/latest/adminguide/custom-notifs.html). So every
 * other HTTPS subscriber of the topic gets the chat form too: machine consumers subscribe through SQS or Lambda,
 * which get `default`.
 *
 * Size: the chat form is short and bounded by construction (alert-chat.ts), so it is sent whole and its bytes
 * come off the budget first. When the rest does not fit, the text keeps its whole lines up to the room the JSON
 * leaves (at least half), then the JSON keeps its fixed fields and as many entries of each section as fit, and
 * says what it left out (`complete: false`, `omitted`). All three say where every entry is logged
 * (`alert.fullList`).
 */
export function buildMessage(alert: Alert, budgetBytes: number): string {
  const chatText = JSON.stringify(toChatNotification(alert));
  const render = (jsonText: string, emailText: string): string =>
    JSON.stringify({ default: jsonText, email: emailText, https: chatText });
  const jsonText = JSON.stringify(alert.json ?? null);
  const full = render(jsonText, alert.text);
  if (utf8Bytes(full) <= budgetBytes) return full;

  // What the two strings may take once escaped inside the envelope (the chat form already counted).
  const room = budgetBytes - utf8Bytes(render('', ''));
  const textRoom = Math.max(room - escapedBytes(jsonText), Math.floor(room / 2));
  const text = cutTextToBytes(alert.text, textRoom, escapedBytes, (more) => textCutNote(more, alert));
  const json = fitAlertJson(alert.json ?? null, room - escapedBytes(text), escapedBytes);
  return render(JSON.stringify(json), text);
}

function textCutNote(linesLeftOut: number, alert: Alert): string {
  const where = alert.fullList
    ? ` Every entry is in CloudWatch Logs${alert.fullList.logGroup ? `, log group ${alert.fullList.logGroup}` : ''}` +
      `; CloudWatch Logs Insights query: ${alert.fullList.query}`
    : '';
  return `[${countOf(linesLeftOut, 'more line')} left out to fit the SNS message size limit.${where}]`;
}

/** An ASCII, single-line subject shorter than 100 characters; never empty. */
export function toSnsSubject(subject: string): string {
  return toAlertSubject(subject);
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
    (sum, [name, value]) =>
      sum + utf8Bytes(name) + utf8Bytes(value.DataType ?? '') + utf8Bytes(value.StringValue ?? ''),
    0,
  );
}

function utf8Bytes(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}
