/**
 * What an EventBridge cron expression means in time: when it fires next and how close two firings come.
 * The reconcile refuses a cron that fires more often than a rate it would refuse, and one that never fires
 * again, so both forms are held to the same rules.
 *
 * Fields (all UTC): minutes 0-59, hours 0-23, day-of-month 1-31, month 1-12 or JAN-DEC, day-of-week 1-7 or
 * SUN-SAT (1 = Sunday), year 1970-2199; `,` lists, `-` ranges, `/` steps, `*` any, `?` in one day field;
 * `L` (last day of the month, or with a weekday, its last one in the month), `W` (the weekday nearest a day
 * of the month, not crossing into another month), `#` (the nth weekday of the month).
 * See: https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-scheduled-rule-pattern.html
 */

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const WEEKDAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];
const LAST_YEAR = 2199;
const MINUTES_PER_DAY = 1440;
const DAY_MS = 86_400_000;
/** Long enough to hold every pattern of days-of-month, weekdays and months, leap years included. */
const GAP_WINDOW_DAYS = 8 * 366;

/** A cron expression's fields, or why they cannot be read. */
export interface CronTiming {
  /** The first firing strictly after `after`, or undefined when it never fires again. */
  readonly nextAfter: (after: Date) => Date | undefined;
  /** The shortest time, in minutes, between two consecutive firings from `from` on; undefined for one firing. */
  readonly shortestGapMinutes: (from: Date) => number | undefined;
}

class CronFieldError extends Error {}

/** Values of a plain field (minutes, hours, month, year): lists of values, ranges and steps. */
function plainValues(field: string, min: number, max: number, names: readonly string[] = []): Set<number> {
  const values = new Set<number>();
  const value = (text: string): number => {
    const named = names.indexOf(text.toUpperCase());
    // Names count from 1 in both named fields: JAN = 1, SUN = 1.
    const number = named >= 0 ? named + 1 : /^\d+$/.test(text) ? Number(text) : NaN;
    if (!Number.isInteger(number) || number < min || number > max) {
      throw new CronFieldError(`"${text}" is not a value from ${min} to ${max}`);
    }
    return number;
  };
  for (const item of field.split(',')) {
    const [range, stepText] = item.split('/') as [string, string | undefined];
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!Number.isInteger(step) || step < 1) throw new CronFieldError(`"${item}" has no valid step`);
    let from: number;
    let to: number;
    if (range === '*') {
      [from, to] = [min, max];
    } else if (range.includes('-')) {
      const [a, b] = range.split('-') as [string, string];
      [from, to] = [value(a), value(b)];
      if (from > to) throw new CronFieldError(`"${item}" is a range that runs backwards`);
    } else {
      from = value(range);
      to = stepText === undefined ? from : max;
    }
    for (let v = from; v <= to; v += step) values.add(v);
  }
  return values;
}

type DayTest = (year: number, month: number, day: number) => boolean;

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

function weekdayOf(year: number, month: number, day: number): number {
  return new Date(Date.UTC(year, month - 1, day)).getUTCDay() + 1;
}

/** The weekday nearest to `target` within its month (Monday to Friday). */
function nearestWeekday(year: number, month: number, target: number): number {
  const last = daysInMonth(year, month);
  const day = Math.min(target, last);
  const weekday = weekdayOf(year, month, day);
  if (weekday === 7) return day === 1 ? 3 : day - 1; // Saturday: Friday before, or Monday after the 1st
  if (weekday === 1) return day === last ? day - 2 : day + 1; // Sunday: Monday after, or Friday before the last
  return day;
}

function dayOfMonthTest(field: string): DayTest {
  if (field === '?') return () => true;
  const tests = field.split(',').map((item): DayTest => {
    if (item === 'L') return (y, m, d) => d === daysInMonth(y, m);
    if (item === 'LW') {
      return (y, m, d) => d === nearestWeekday(y, m, daysInMonth(y, m));
    }
    const weekday = /^(\d+)W$/.exec(item);
    if (weekday) {
      const target = Number(weekday[1]);
      if (target < 1 || target > 31) throw new CronFieldError(`"${item}" is not a day from 1 to 31`);
      return (y, m, d) => target <= daysInMonth(y, m) && d === nearestWeekday(y, m, target);
    }
    const days = plainValues(item, 1, 31);
    return (_y, _m, d) => days.has(d);
  });
  return (y, m, d) => tests.some((test) => test(y, m, d));
}

function dayOfWeekTest(field: string): DayTest {
  if (field === '?') return () => true;
  const weekday = (text: string): number => [...plainValues(text, 1, 7, WEEKDAYS)][0]!;
  const tests = field.split(',').map((item): DayTest => {
    if (item === 'L') return (y, m, d) => weekdayOf(y, m, d) === 7;
    const last = /^([^#L]+)L$/.exec(item);
    if (last) {
      const w = weekday(last[1]!);
      return (y, m, d) => weekdayOf(y, m, d) === w && d + 7 > daysInMonth(y, m);
    }
    const nth = /^([^#L]+)#([1-5])$/.exec(item);
    if (nth) {
      const [w, n] = [weekday(nth[1]!), Number(nth[2])];
      return (y, m, d) => weekdayOf(y, m, d) === w && Math.ceil(d / 7) === n;
    }
    const days = plainValues(item, 1, 7, WEEKDAYS);
    return (y, m, d) => days.has(weekdayOf(y, m, d));
  });
  return (y, m, d) => tests.some((test) => test(y, m, d));
}

/**
 * Reads the six fields of a cron expression (the part between the parentheses).
 * @returns the timing, or a description of the field it cannot read
 */
export function cronTiming(fields: readonly string[]): CronTiming | string {
  try {
    const [minutesField, hoursField, domField, monthField, dowField, yearField] = fields as [
      string,
      string,
      string,
      string,
      string,
      string,
    ];
    const minutes = [...plainValues(minutesField, 0, 59)].sort((a, b) => a - b);
    const hours = [...plainValues(hoursField, 0, 23)].sort((a, b) => a - b);
    const months = plainValues(monthField, 1, 12, MONTHS);
    const years = plainValues(yearField, 1970, LAST_YEAR);
    const dom = dayOfMonthTest(domField);
    const dow = dayOfWeekTest(dowField);
    const timesOfDay = hours.flatMap((h) => minutes.map((m) => h * 60 + m));
    const firesOn = (dayStart: number): boolean => {
      const date = new Date(dayStart);
      const [y, m, d] = [date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate()];
      return years.has(y) && months.has(m) && dom(y, m, d) && dow(y, m, d);
    };
    const startOfDay = (time: Date): number => Math.floor(time.getTime() / DAY_MS) * DAY_MS;
    const endOfRange = Date.UTC(LAST_YEAR + 1, 0, 1);

    const nextAfter = (after: Date): Date | undefined => {
      for (let day = startOfDay(after); day < endOfRange; day += DAY_MS) {
        if (!firesOn(day)) continue;
        const time = timesOfDay.map((t) => day + t * 60_000).find((t) => t > after.getTime());
        if (time !== undefined) return new Date(time);
      }
      return undefined;
    };

    const shortestGapMinutes = (from: Date): number | undefined => {
      const first = nextAfter(new Date(from.getTime() - 1));
      if (!first) return undefined;
      let shortest = Infinity;
      for (let i = 1; i < timesOfDay.length; i += 1) shortest = Math.min(shortest, timesOfDay[i]! - timesOfDay[i - 1]!);
      // Across midnight: from the last firing of one firing day to the first of the next one.
      let previousDay: number | undefined;
      const last = Math.min(endOfRange, startOfDay(first) + GAP_WINDOW_DAYS * DAY_MS);
      for (let day = startOfDay(first); day < last; day += DAY_MS) {
        if (!firesOn(day)) continue;
        if (previousDay !== undefined) {
          const days = (day - previousDay) / DAY_MS;
          shortest = Math.min(shortest, days * MINUTES_PER_DAY - timesOfDay.at(-1)! + timesOfDay[0]!);
        }
        previousDay = day;
      }
      return Number.isFinite(shortest) ? shortest : undefined;
    };
    return { nextAfter, shortestGapMinutes };
  } catch (error) {
    if (error instanceof CronFieldError) return error.message;
    throw error;
  }
}
