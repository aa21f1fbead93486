/** An alert's subject, made to fit SNS in one place. */
import { SERVICE_NAME } from './defaults';

/**
 * SNS: "Subjects must be text without line breaks or control characters, … and must be less than 100
 * characters long" (botocore/data/sns/2010-03-31/service-2.json, `PublishInput.Subject`; older documentation
 * says ASCII, so the guard sends ASCII only).
 */
export const MAX_SUBJECT_LENGTH = 99;
const ELLIPSIS = '...';
const FALLBACK_SUBJECT = `${SERVICE_NAME} alert`;
/** Below this many characters of a name, an elided middle tells nothing: the subject is cut at its end instead. */
const MIN_ELIDED_NAME_LENGTH = 16;

/**
 * The one place a subject is made to fit SNS: ASCII, one line, at most `MAX_SUBJECT_LENGTH` characters, never
 * empty. `name` (a repository) is appended to `lead`; when the whole is too long, the middle of the name gives
 * way, because both ends of a repository name tell repositories apart (`team/…/service`). Applying it to its
 * own result changes nothing.
 */
export function toAlertSubject(lead: string, name = ''): string {
  const head = toSubjectText(lead);
  const tail = toSubjectText(name);
  const whole = `${head}${tail}`.trim();
  if (whole.length === 0) return FALLBACK_SUBJECT;
  if (whole.length <= MAX_SUBJECT_LENGTH) return whole;
  const room = MAX_SUBJECT_LENGTH - head.length - ELLIPSIS.length;
  if (tail.length > 0 && room >= MIN_ELIDED_NAME_LENGTH) {
    const keepStart = Math.floor(room / 3);
    return `${head}${tail.slice(0, keepStart)}${ELLIPSIS}${tail.slice(tail.length - (room - keepStart))}`.trim();
  }
  return whole.slice(0, MAX_SUBJECT_LENGTH - ELLIPSIS.length).trimEnd() + ELLIPSIS;
}

function toSubjectText(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '') // accents left over from decomposition
    .replace(/[\r\n\t]+/g, ' ')
    .replace(/[^\x20-\x7e]/g, '?')
    .replace(/ {2,}/g, ' ')
    .replace(/^ /, '');
}
