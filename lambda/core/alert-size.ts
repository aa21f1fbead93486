/**
 * Alerts designed for size, whatever the count: a subject SNS accepts that still names the repository, a text
 * that states every count and lists the first entries of each kind ("... and N more"), a JSON that keeps its
 * schema, its counts and as many entries as fit, and the complete list logged in parts that each fit one
 * CloudWatch Logs event, found again with the Logs Insights query the alert gives.
 *
 * A "section" is any array reached from the alert's JSON through objects only (`protected`, `pushes`,
 * `pushers.callers`, `reconcile.releases`, …): a new kind of entry needs no change here to be counted, cut to fit
 * and logged in full. Arrays inside an entry (its consumers) stay with their entry.
 */
import { createHash } from 'node:crypto';
import type { Alert, AlertFullList } from './ports';

export { MAX_SUBJECT_LENGTH, toAlertSubject } from './alert-subject';

/** How many entries of each kind (images, releases, coverage notes, …) the text lists before "... and N more". */
export const ENTRIES_LISTED_PER_KIND = 10;
/** How many workloads the text lists under one image. */
export const CONSUMERS_LISTED_PER_IMAGE = 10;

/**
 * Lists the first entries of each kind and says how many more there are. It remembers whether it left
 * anything out, so the alert says where the full list is only when the text is not it.
 */
export class EntryLister {
  private leftOutCount = 0;

  get leftOut(): number {
    return this.leftOutCount;
  }

  list<T>(
    items: readonly T[],
    render: (item: T) => readonly string[],
    more: (count: number) => string,
    limit = ENTRIES_LISTED_PER_KIND,
  ): string[] {
    const lines = items.slice(0, limit).flatMap(render);
    const count = items.length - Math.min(items.length, limit);
    if (count > 0) {
      this.leftOutCount += count;
      lines.push(more(count));
    }
    return lines;
  }
}

/** `2 in-use images`, `1 push`: a count with its noun, for the text. */
export function countOf(count: number, singular: string, plural = `${singular}s`): string {
  return `${count} ${count === 1 ? singular : plural}`;
}

/** One array of entries in the alert's JSON, by its dotted path. */
export interface AlertSection {
  readonly path: string;
  readonly entries: readonly unknown[];
}

/** Top-level arrays that are not entries: `events` is the alert's kind, mirrored in a message attribute. */
const NOT_SECTIONS = new Set(['events']);

export function sectionsOf(json: unknown): AlertSection[] {
  const sections: AlertSection[] = [];
  const walk = (value: unknown, path: string): void => {
    if (Array.isArray(value)) {
      sections.push({ path, entries: value });
      return;
    }
    if (!isPlainObject(value)) return;
    for (const [key, child] of Object.entries(value)) {
      const childPath = path ? `${path}.${key}` : key;
      if (!NOT_SECTIONS.has(childPath)) walk(child, childPath);
    }
  };
  walk(json, '');
  return sections;
}

/** The JSON with each section's array replaced: `keep(path, entries)` says what stays. */
function mapSections(json: unknown, keep: (path: string, entries: readonly unknown[]) => readonly unknown[]): unknown {
  const walk = (value: unknown, path: string): unknown => {
    if (Array.isArray(value)) return keep(path, value);
    if (!isPlainObject(value)) return value;
    return Object.fromEntries(
      Object.entries(value).map(([key, child]) => {
        const childPath = path ? `${path}.${key}` : key;
        return [key, NOT_SECTIONS.has(childPath) ? child : walk(child, childPath)];
      }),
    );
  };
  return walk(json, '');
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

/** `{ protected: 300, pushes: 300, 'pushers.callers': 2, … }`: every section's length. */
export function countsOf(json: unknown): Record<string, number> {
  return Object.fromEntries(sectionsOf(json).map((s) => [s.path, s.entries.length]));
}

/**
 * Names one alert's content, so its logged parts can be found: the same content always gets the same id, so
 * parts logged twice for one alert (a retried batch) are the same parts, and the query dedups them.
 */
export function alertIdOf(alert: Pick<Alert, 'repository' | 'json' | 'text'>): string {
  const content = alert.json === undefined || alert.json === null ? alert.text : JSON.stringify(alert.json);
  return createHash('sha256').update(alert.repository).update('\n').update(content).digest('hex').slice(0, 16);
}

/**
 * CloudWatch Logs Insights over the function's log group. `entries` is a JSON text, not nested JSON:
 * Logs Insights extracts at most 200 fields from a JSON event and flattens arrays into one field per value
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/CWL_AnalyzeLogData-discoverable-fields.html), so
 * nested entries could crowd out `alertId` and `alertPart`. `dedup` keeps one event per part
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/CWL_QuerySyntax-Dedup.html); a query returns
 * at most 10,000 rows.
 */
export function fullListQuery(alertId: string): string {
  return (
    `fields @timestamp, alertPart, section, first, entries | filter alertId = "${alertId}" ` +
    '| sort alertPart asc | dedup alertPart | limit 10000'
  );
}

/**
 * The alert as it is delivered: its JSON with `counts` (every section's length) and `fullList` (where every
 * entry is logged), and, when the text lists only the first entries of some kind, a closing section that
 * gives the log group and the query.
 */
export function withFullList(alert: Alert, logGroup: string | undefined): Alert & { readonly fullList: AlertFullList } {
  const alertId = alertIdOf(alert);
  const fullList: AlertFullList = { alertId, ...(logGroup ? { logGroup } : {}), query: fullListQuery(alertId) };
  const json = isPlainObject(alert.json) ? { ...alert.json, counts: countsOf(alert.json), fullList } : alert.json;
  const where = logGroup ? `log group ${logGroup}` : 'the log group of the function that sent this alert';
  const text = alert.abridged
    ? [
        alert.text,
        '',
        'FULL LIST',
        `  The lists above show the first ${ENTRIES_LISTED_PER_KIND} of each kind. Every entry is in CloudWatch Logs,`,
        `  ${where}, as alert ${alertId}. CloudWatch Logs Insights query for that log group:`,
        `    ${fullList.query}`,
      ].join('\n')
    : alert.text;
  return { ...alert, text, json, fullList };
}

/**
 * CloudWatch Logs: "Each log event can be no larger than 256 KB", 26 bytes of which are per-event overhead
 * (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutLogEvents.html; newer
 * documentation allows 1 MB, the guard stays under the lower limit).
 */
export const LOG_EVENT_MAX_BYTES = 262_144 - 26;
/** The entries of one logged part, as escaped inside the log line: well under one event with the Logger's keys. */
export const ALERT_LOG_PART_BYTES = 64 * 1024;

/** One log line of an alert's full list. Part 1 is the alert without its entries; the others hold entries. */
export interface AlertLogPart {
  readonly alertId: string;
  /** 1-based; the query sorts on it */
  readonly alertPart: number;
  readonly alertParts: number;
  readonly repository: string;
  /** the section's path (`protected`, `reconcile.releases`), or `alert` for part 1 */
  readonly section: string;
  /** index of the first entry of this part in its section */
  readonly first: number;
  /** entries in the section */
  readonly total: number;
  /** a JSON array of entries (part 1: the alert's JSON with every section empty) */
  readonly entries: string;
  /** an entry too large for one part is logged as consecutive pieces of its JSON text: "2/3" */
  readonly piece?: string;
}

/** Bytes a string takes inside a JSON string: UTF-8, with quotes, backslashes and control characters escaped. */
export function escapedBytes(text: string): number {
  return Buffer.byteLength(JSON.stringify(text), 'utf8') - 2;
}

/** Every entry of the alert, in parts whose `entries` each take at most `partBytes` once escaped in a log line. */
export function alertLogParts(
  alert: Alert & { readonly fullList: AlertFullList },
  partBytes = ALERT_LOG_PART_BYTES,
): AlertLogPart[] {
  type Draft = Omit<AlertLogPart, 'alertId' | 'alertPart' | 'alertParts' | 'repository'>;
  const drafts: Draft[] = [
    {
      section: 'alert',
      first: 0,
      total: 1,
      entries: JSON.stringify({
        subject: alert.subject,
        severity: alert.severity,
        json: mapSections(alert.json, () => []),
      }),
    },
  ];
  for (const { path, entries } of sectionsOf(alert.json)) {
    let batch: string[] = [];
    let batchBytes = 2;
    let first = 0;
    const flush = (next: number): void => {
      if (batch.length) drafts.push({ section: path, first, total: entries.length, entries: `[${batch.join(',')}]` });
      batch = [];
      batchBytes = 2;
      first = next;
    };
    entries.forEach((entry, index) => {
      const text = JSON.stringify(entry) ?? 'null';
      const bytes = escapedBytes(text) + 1;
      if (bytes + 2 > partBytes) {
        flush(index);
        const pieces = splitByBytes(text, partBytes);
        pieces.forEach((piece, p) => {
          const of = `${p + 1}/${pieces.length}`;
          drafts.push({ section: path, first: index, total: entries.length, entries: piece, piece: of });
        });
        first = index + 1;
        return;
      }
      if (batchBytes + bytes > partBytes) flush(index);
      batch.push(text);
      batchBytes += bytes;
    });
    flush(entries.length);
  }
  return drafts.map((draft, i) => ({
    alertId: alert.fullList.alertId,
    alertPart: i + 1,
    alertParts: drafts.length,
    repository: alert.repository,
    ...draft,
  }));
}

/** Consecutive pieces of `text`, each at most `maxBytes` once escaped, never splitting a code point. */
function splitByBytes(text: string, maxBytes: number): string[] {
  const pieces: string[] = [];
  let piece = '';
  let bytes = 0;
  for (const char of text) {
    const size = escapedBytes(char);
    if (bytes + size > maxBytes && piece) {
      pieces.push(piece);
      piece = '';
      bytes = 0;
    }
    piece += char;
    bytes += size;
  }
  if (piece) pieces.push(piece);
  return pieces;
}

/**
 * The longest run of whole lines from the start of `text` that, with the note about the rest, takes at most
 * `maxBytes` by `measure`; the note is given how many lines were left out. `measure` must be additive over
 * concatenation (UTF-8 bytes, or bytes escaped in a JSON string, are).
 */
export function cutTextToBytes(
  text: string,
  maxBytes: number,
  measure: (text: string) => number,
  note: (linesLeftOut: number) => string,
): string {
  if (measure(text) <= maxBytes) return text;
  const lines = text.split('\n');
  let used = 0;
  let kept = 0;
  while (kept < lines.length) {
    const cost = measure(`${lines[kept]}\n`);
    if (used + cost + measure(`\n${note(lines.length - kept - 1)}`) > maxBytes) break;
    used += cost;
    kept += 1;
  }
  const ending = `\n${note(lines.length - kept)}`;
  if (kept === 0) {
    // Not even the first line fits: as much of it as does, on a code point boundary.
    const room = maxBytes - measure(ending);
    let head = '';
    let bytes = 0;
    for (const char of lines[0] ?? '') {
      const size = measure(char);
      if (bytes + size > room) break;
      head += char;
      bytes += size;
    }
    return `${head}${ending}`;
  }
  return `${lines.slice(0, kept).join('\n')}\n${ending}`;
}

/**
 * The alert's JSON cut to at most `maxBytes` by `measure` (how a JSON text counts where it is sent, additive
 * over concatenation): every field that is not a section stays; each section keeps its first entries, whole,
 * as many as fit (an equal share first, then the room left, section by section); `complete: false` and
 * `omitted` (entries left out, by section) say what was cut. The full list is where `fullList` says.
 */
export function fitAlertJson(json: unknown, maxBytes: number, measure: (jsonText: string) => number): unknown {
  if (measure(JSON.stringify(json) ?? 'null') <= maxBytes) return json;
  const sections = sectionsOf(json);
  const keptOf = new Map(sections.map((s) => [s.path, 0]));
  const render = (): unknown => {
    const omitted = Object.fromEntries(
      sections
        .filter((s) => keptOf.get(s.path)! < s.entries.length)
        .map((s) => [s.path, s.entries.length - keptOf.get(s.path)!]),
    );
    const cut = mapSections(json, (path, entries) => entries.slice(0, keptOf.get(path) ?? entries.length));
    return isPlainObject(cut) ? { ...cut, complete: false, omitted } : cut;
  };
  // Every section empty and every count omitted at its largest: what the fixed fields cost at most.
  const fixed = measure(JSON.stringify(render()));
  if (fixed > maxBytes) return summaryOnly(json, sections, maxBytes, measure);

  const costs = sections.map((s) => s.entries.map((entry) => measure(JSON.stringify(entry) ?? 'null') + 1));
  let room = maxBytes - fixed;
  const kept = sections.map(() => 0);
  // An equal share: the first k of every section, k as large as fits.
  for (let k = 0; ; k += 1) {
    const step = costs.reduce((sum, c) => sum + (c[k] ?? 0), 0);
    if (!costs.some((c) => k < c.length) || step > room) break;
    room -= step;
    costs.forEach((c, s) => {
      kept[s] = Math.min(c.length, k + 1);
    });
  }
  // Then what is left, section by section in the JSON's order.
  costs.forEach((c, s) => {
    while (kept[s]! < c.length && c[kept[s]!]! <= room) {
      room -= c[kept[s]!]!;
      kept[s]! += 1;
    }
  });
  sections.forEach((s, i) => {
    keptOf.set(s.path, kept[i]!);
  });
  let fitted = render();
  // The estimate is an upper bound; this only guards against a measure that is not additive.
  while (measure(JSON.stringify(fitted)) > maxBytes) {
    const largest = sections.reduce((a, b) => (keptOf.get(a.path)! >= keptOf.get(b.path)! ? a : b));
    if (keptOf.get(largest.path)! === 0) return summaryOnly(json, sections, maxBytes, measure);
    keptOf.set(largest.path, keptOf.get(largest.path)! - 1);
    fitted = render();
  }
  return fitted;
}

/** When even the fixed fields do not fit: the fields that say what the alert is and where its details are. */
function summaryOnly(
  json: unknown,
  sections: readonly AlertSection[],
  maxBytes: number,
  measure: (jsonText: string) => number,
): unknown {
  const source = isPlainObject(json) ? json : {};
  const keys = ['schema', 'severity', 'events', 'account', 'region', 'repository', 'dryRun', 'counts', 'fullList'];
  const summary = {
    ...Object.fromEntries(keys.filter((key) => key in source).map((key) => [key, source[key]])),
    complete: false,
    omitted: Object.fromEntries(sections.map((s) => [s.path, s.entries.length])),
  };
  return measure(JSON.stringify(summary)) <= maxBytes ? summary : { complete: false };
}
