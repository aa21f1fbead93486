/**
 * A simulated SNS that captures what is published, validating `Publish` like SNS does.
 * Input arrives as the awsQuery form fields the SDK sends (`MessageAttributes.entry.1.Name`, …).
 * See: https://docs.aws.amazon.com/sns/latest/api/API_Publish.html
 */
import { randomUUID } from 'node:crypto';
import { SimAwsError, type SimService } from './transport';

export interface PublishedMessage {
  readonly topicArn: string;
  readonly subject?: string;
  readonly message: string;
  readonly messageStructure?: string;
  readonly messageAttributes: Record<
    string,
    { readonly dataType: string; readonly stringValue?: string; readonly binaryValue?: string }
  >;
  readonly messageId: string;
}

// "Messages must be UTF-8 encoded strings and at most 256 KB in size (262,144 bytes, not 262,144 characters)."
const MAX_MESSAGE_BYTES = 262_144;
// "Number of message attributes: 10" (SNS message attributes quota, for Amazon SQS and HTTP/S endpoints)
const MAX_ATTRIBUTES = 10;
const ATTRIBUTE_TYPE = /^(String|Number|Binary|String\.Array)(\..+)?$/;

export interface SimSnsOptions {
  readonly accountId: string;
  readonly region: string;
}

export class SimSns implements SimService {
  readonly name = 'sns';
  readonly hostPrefix = 'sns';
  readonly published: PublishedMessage[] = [];
  private readonly topics = new Set<string>();

  constructor(private readonly options: SimSnsOptions) {}

  /** Creates a standard topic and returns its ARN. */
  createTopic(name: string): string {
    if (!/^[A-Za-z0-9_-]{1,256}$/.test(name)) throw new Error(`invalid topic name "${name}"`);
    const arn = `arn:aws:sns:${this.options.region}:${this.options.accountId}:${name}`;
    this.topics.add(arn);
    return arn;
  }

  /** The messages published to one topic. */
  messagesTo(topicArn: string): PublishedMessage[] {
    return this.published.filter((m) => m.topicArn === topicArn);
  }

  handle(operation: string, input: Record<string, string>): unknown {
    if (operation !== 'Publish')
      throw new SimAwsError('InvalidAction', `simulated SNS does not implement ${operation}`);
    return this.publish(input);
  }

  private publish(form: Record<string, string>): { MessageId: string } {
    const topicArn = form.TopicArn ?? form.TargetArn;
    if (!topicArn) throw invalid('Invalid parameter: TopicArn or TargetArn Reason: no value for required parameter');
    if (!/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]+(\.fifo)?$/.test(topicArn)) {
      throw invalid('Invalid parameter: TopicArn');
    }
    if (!this.topics.has(topicArn)) throw new SimAwsError('NotFound', 'Topic does not exist', 404);

    const message = form.Message;
    if (message === undefined || message.length === 0) throw invalid('Invalid parameter: Empty message');
    if (Buffer.byteLength(message, 'utf8') > MAX_MESSAGE_BYTES) throw invalid('Invalid parameter: Message too long');

    const subject = form.Subject;
    // "Subjects must be UTF-8 text with no line breaks or control characters, and less than 100 characters long."
    if (subject !== undefined) {
      if (subject.length === 0 || subject.length >= 100) throw invalid('Invalid parameter: Subject');
      // biome-ignore lint/suspicious/noControlCharactersInRegex: SNS refuses exactly these characters in a subject
      if (/[\u0000-\u001f\u007f]/.test(subject)) throw invalid('Invalid parameter: Subject');
    }

    const messageStructure = form.MessageStructure;
    if (messageStructure !== undefined) {
      if (messageStructure !== 'json') throw invalid('Invalid parameter: MessageStructure');
      // "If you set MessageStructure to json … the value of the Message parameter must: be a syntactically
      // valid JSON object; and contain at least a top-level JSON key of "default" with a value that is a string."
      let parsed: unknown;
      try {
        parsed = JSON.parse(message);
      } catch {
        throw invalid('Invalid parameter: Message Structure - JSON message body failed to parse');
      }
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
        throw invalid('Invalid parameter: Message Structure - JSON message body failed to parse');
      }
      if (typeof (parsed as Record<string, unknown>).default !== 'string') {
        throw invalid('Invalid parameter: Message Structure - No default entry in JSON message body');
      }
    }

    const messageAttributes = decodeAttributes(form);
    const messageId = randomUUID();
    this.published.push({
      topicArn,
      ...(subject !== undefined ? { subject } : {}),
      message,
      ...(messageStructure !== undefined ? { messageStructure } : {}),
      messageAttributes,
      messageId,
    });
    return { MessageId: messageId };
  }
}

function invalid(message: string): SimAwsError {
  return new SimAwsError('InvalidParameter', message);
}

/** `MessageAttributes.entry.N.{Name, Value.DataType, Value.StringValue, Value.BinaryValue}` → a record. */
function decodeAttributes(form: Record<string, string>): PublishedMessage['messageAttributes'] {
  const attributes: Record<string, { dataType: string; stringValue?: string; binaryValue?: string }> = {};
  for (let n = 1; form[`MessageAttributes.entry.${n}.Name`] !== undefined; n += 1) {
    const prefix = `MessageAttributes.entry.${n}`;
    const name = form[`${prefix}.Name`]!;
    const dataType = form[`${prefix}.Value.DataType`];
    const stringValue = form[`${prefix}.Value.StringValue`];
    const binaryValue = form[`${prefix}.Value.BinaryValue`];
    if (!dataType || !ATTRIBUTE_TYPE.test(dataType)) {
      throw invalid(
        `Invalid parameter: MessageAttributes Reason: The message attribute '${name}' has an invalid message attribute type`,
      );
    }
    if (stringValue === undefined && binaryValue === undefined) {
      throw invalid(
        `Invalid parameter: MessageAttributes Reason: The message attribute '${name}' must contain non-empty message attribute value`,
      );
    }
    if (dataType.startsWith('Number') && stringValue !== undefined && !Number.isFinite(Number(stringValue))) {
      throw invalid(
        `Invalid parameter: MessageAttributes Reason: The message attribute '${name}' has an invalid number value`,
      );
    }
    if (dataType.startsWith('String.Array') && stringValue !== undefined) {
      try {
        if (!Array.isArray(JSON.parse(stringValue))) throw new Error('not an array');
      } catch {
        throw invalid(
          `Invalid parameter: MessageAttributes Reason: The message attribute '${name}' has an invalid String.Array value`,
        );
      }
    }
    attributes[name] = {
      dataType,
      ...(stringValue !== undefined ? { stringValue } : {}),
      ...(binaryValue !== undefined ? { binaryValue } : {}),
    };
  }
  if (Object.keys(attributes).length > MAX_ATTRIBUTES) {
    throw invalid(`Invalid parameter: MessageAttributes Reason: at most ${MAX_ATTRIBUTES} message attributes`);
  }
  return attributes;
}
