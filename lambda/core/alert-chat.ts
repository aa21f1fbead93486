/**
 * The chat form of an alert: a custom notification that Amazon Q Developer in chat applications (formerly AWS
 * Chatbot) renders in Slack or Microsoft Teams. Made from the alert as it is delivered (its JSON with `counts`
 * and `fullList`, its subject, its text's "WHAT TO DO"), so chat says nothing the email and JSON do not.
 *
 * Schema: `version` "1.0" and `source` "custom" are required; `content` {textType "client-markdown", title,
 * description, nextSteps, keywords} and `metadata` {threadId, summary, eventType, relatedResources,
 * additionalContext (string values)} are optional.
 * See: https://docs.aws.amazon.com/chatbot/latest/adminguide/custom-notifs.html
 *
 * Size: that page gives no length limits. The chat message is kept short on purpose (a headline, the counts,
 * the first few images, where the full list is), and bounded whatever the alert's size, so it costs the SNS
 * message a known, small part of its 256 KB.
 */
import { describeConsumer } from './alert-parts';
import { countOf, MAX_SUBJECT_LENGTH } from './alert-size';
import type { Alert } from './ports';
import type { Consumer } from './types';

export interface ChatNotification {
  readonly version: '1.0';
  readonly source: 'custom';
  /** "Unique event identifier": the alert's id, the one its logged full list carries */
  readonly id?: string;
  readonly content: {
    readonly textType: 'client-markdown';
    readonly title: string;
    readonly description: string;
    readonly nextSteps: readonly string[];
    readonly keywords: readonly string[];
  };
  readonly metadata: {
    /** one thread per repository: `<account>/<region>/<repository>` */
    readonly threadId: string;
    readonly summary: string;
    readonly eventType: string;
    readonly additionalContext: Readonly<Record<string, string>>;
  };
}

/** Images the chat message names; the rest are counted, and the full list is where the description says. */
export const CHAT_IMAGES_LISTED = 5;
/** Steps from the alert's "WHAT TO DO" the chat message repeats. */
export const CHAT_NEXT_STEPS = 4;
const SEVERITY_EMOJI: Record<Alert['severity'], string> = {
  CRITICAL: ':rotating_light:',
  WARNING: ':warning:',
  INFO: ':information_source:',
};
/**
 * No documented limit: the title is the email subject (already made to fit, keeping both ends of the repository
 * name) after the severity's emoji, so chat and email read alike.
 */
export const CHAT_TITLE_MAX_CHARS =
  Math.max(...Object.values(SEVERITY_EMOJI).map((emoji) => emoji.length)) + 1 + MAX_SUBJECT_LENGTH;
/** No documented limit: well under what Slack and Teams show without "see more", whatever the alert's size. */
export const CHAT_DESCRIPTION_MAX_CHARS = 3_000;
const CHAT_STEP_MAX_CHARS = 400;
const CHAT_CONTEXT_VALUE_MAX_CHARS = 500;

/** The sections that name images, most urgent first, and what the chat message calls each. */
const IMAGE_SECTIONS: readonly (readonly [path: string, what: string])[] = [
  ['gone', 'gone'],
  ['archived', 'archived'],
  ['refused', 'could not be protected'],
  ['possiblyInUse', 'possibly in use'],
  ['protected', 'protected'],
];

/** The event the chat service files the message under: the most urgent of the alert's events. */
const EVENT_URGENCY = [
  'digest-gone',
  'digest-archived',
  'protection-refused',
  'lifecycle-risk',
  'possibly-in-use',
  'restore-failed',
  'restore-started',
  'restore-in-progress',
  'protected',
  'would-restore',
  'would-protect',
];

export function toChatNotification(alert: Alert): ChatNotification {
  const json = isRecord(alert.json) ? alert.json : {};
  const account = stringOr(json.account, '');
  const region = stringOr(json.region, '');
  const repository = alert.repository;
  const fullList = alert.fullList;
  const eventType = [...alert.events].sort(byUrgency)[0] ?? 'alert';
  return {
    version: '1.0',
    source: 'custom',
    ...(fullList ? { id: fullList.alertId } : {}),
    content: {
      textType: 'client-markdown',
      title: cut(`${SEVERITY_EMOJI[alert.severity]} ${alert.subject}`, CHAT_TITLE_MAX_CHARS),
      description: cut(descriptionOf(alert, json, account, region), CHAT_DESCRIPTION_MAX_CHARS),
      nextSteps: nextStepsOf(alert.text),
      keywords: [alert.severity, ...(repository ? [repository] : [])],
    },
    metadata: {
      threadId: [account, region, repository || 'account'].join('/'),
      summary: alert.subject,
      eventType,
      additionalContext: Object.fromEntries(
        Object.entries({
          severity: alert.severity,
          events: alert.events.join(','),
          account,
          region,
          repository,
          alertId: fullList?.alertId ?? '',
          logGroup: fullList?.logGroup ?? '',
        })
          .filter(([, value]) => value.length > 0)
          .map(([key, value]) => [key, cut(value, CHAT_CONTEXT_VALUE_MAX_CHARS)]),
      ),
    },
  };
}

/**
 * A headline, the counts, the first images and where the full list is. The full-list pointer and the counts are
 * never cut: images are listed only while the whole stays within `CHAT_DESCRIPTION_MAX_CHARS`.
 */
function descriptionOf(alert: Alert, json: Record<string, unknown>, account: string, region: string): string {
  const head: string[] = [];
  const where = [
    alert.repository ? `Repository \`${alert.repository}\`` : 'Scheduled reconcile',
    account ? `account ${account}` : '',
    region,
  ].filter((part) => part.length > 0);
  head.push(`*${alert.severity}*: ${where.join(', ')}${json.dryRun === true ? ' (dry run: nothing was changed)' : ''}`);

  const counts = isRecord(json.counts) ? json.counts : {};
  const counted = Object.entries(counts)
    .filter(([, n]) => typeof n === 'number' && n > 0)
    .map(([path, n]) => `${n} ${path.split('.').at(-1)}`);
  if (counted.length) head.push(`In this alert: ${counted.join(', ')}.`);

  const tail: string[] = [];
  const fullList = alert.fullList;
  if (fullList) {
    const logGroup = fullList.logGroup ? `log group \`${fullList.logGroup}\`` : 'the log group of the function';
    tail.push(
      '',
      `Full alert: the email, and every entry in CloudWatch Logs, ${logGroup}, alert \`${fullList.alertId}\` ` +
        `(Logs Insights: \`${fullList.query}\`).`,
    );
  }

  const images = IMAGE_SECTIONS.flatMap(([path, what]) =>
    (Array.isArray(json[path]) ? (json[path] as unknown[]) : []).map((entry) => ({ entry, what })),
  );
  const total = IMAGE_SECTIONS.reduce((sum, [path]) => sum + imagesIn(path, counts, json), 0);
  const more = (listed: number) => (total > listed ? [`- ... and ${countOf(total - listed, 'more image')}`] : []);
  const render = (listed: readonly string[]) =>
    [...head, ...(total ? ['', ...listed, ...more(listed.length)] : []), ...tail].join('\n');
  const listed: string[] = [];
  for (const { entry, what } of images.slice(0, CHAT_IMAGES_LISTED)) {
    const line = imageLine(entry, what);
    if (line === undefined || render([...listed, line]).length > CHAT_DESCRIPTION_MAX_CHARS) break;
    listed.push(line);
  }
  return render(listed);
}

/** How many images a section holds: its count when the JSON was cut to fit, else its entries. */
function imagesIn(path: string, counts: Record<string, unknown>, json: Record<string, unknown>): number {
  const counted = counts[path];
  if (typeof counted === 'number') return counted;
  const entries = json[path];
  return Array.isArray(entries) ? entries.length : 0;
}

function imageLine(entry: unknown, what: string): string | undefined {
  if (!isRecord(entry) || typeof entry.digest !== 'string') return undefined;
  const consumers = Array.isArray(entry.consumers) ? (entry.consumers as Consumer[]) : [];
  const first = consumers[0];
  const others = consumers.length > 1 ? ` and ${countOf(consumers.length - 1, 'more workload')}` : '';
  const usedBy = first ? `: ${describeConsumer(first)}${others}` : '';
  return `- \`${entry.digest}\` ${what}${usedBy}`;
}

/** The bullets of the text's "WHAT TO DO" section, each on one line. */
function nextStepsOf(text: string): string[] {
  const lines = text.split('\n');
  const start = lines.indexOf('WHAT TO DO');
  if (start < 0) return [];
  const steps: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (line.trim() === '' || !line.startsWith('  ')) break;
    if (line.startsWith('  - ')) steps.push(line.slice(4).trim());
    else if (steps.length) steps[steps.length - 1] = `${steps.at(-1)} ${line.trim()}`;
  }
  return steps.slice(0, CHAT_NEXT_STEPS).map((step) => cut(step, CHAT_STEP_MAX_CHARS));
}

function byUrgency(a: string, b: string): number {
  const rank = (event: string) => (EVENT_URGENCY.includes(event) ? EVENT_URGENCY.indexOf(event) : EVENT_URGENCY.length);
  return rank(a) - rank(b);
}

/** At most `max` characters (code points), never splitting one. */
function cut(text: string, max: number): string {
  const chars = Array.from(text);
  return chars.length <= max ? text : `${chars.slice(0, max - 3).join('')}...`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function stringOr(value: unknown, fallback: string): string {
  return typeof value === 'string' ? value : fallback;
}
