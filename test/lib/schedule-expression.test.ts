/**
 * When an EventBridge cron expression fires, read from its fields, on a fixed date (the checks look ahead
 * from "now", which is a parameter). Field syntax and the L, W and # wildcards:
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-scheduled-rule-pattern.html
 */
import { describe, expect, it } from 'vitest';
import { cronTiming, type CronTiming } from '../../lib/schedule-expression';

const NOW = new Date('2026-11-30T09:00:00Z'); // a Monday

function timing(expression: string): CronTiming {
  const result = cronTiming(expression.trim().split(/\s+/));
  if (typeof result === 'string') throw new Error(result);
  return result;
}

function nextFirings(expression: string, count: number, from = NOW): string[] {
  const t = timing(expression);
  const firings: string[] = [];
  let after = from;
  for (let i = 0; i < count; i += 1) {
    const next = t.nextAfter(after);
    if (!next) break;
    firings.push(next.toISOString());
    after = next;
  }
  return firings;
}

describe('cronTiming', () => {
  it('given steps and lists, when asked for the next firings, then it walks them in UTC', () => {
    expect(nextFirings('0 */6 * * ? *', 3)).toEqual([
      '2026-11-30T12:00:00.000Z',
      '2026-11-30T18:00:00.000Z',
      '2026-12-01T00:00:00.000Z',
    ]);
    expect(timing('0 */6 * * ? *').shortestGapMinutes(NOW)).toBe(360);
  });

  it('given weekday names and ranges (1 = SUN), when asked, then weekends are skipped', () => {
    expect(nextFirings('0 12 ? * MON-FRI *', 6).map((d) => d.slice(0, 10))).toEqual([
      '2026-11-30',
      '2026-12-01',
      '2026-12-02',
      '2026-12-03',
      '2026-12-04',
      '2026-12-07',
    ]);
    expect(nextFirings('0 12 ? * 2-6 *', 6)).toEqual(nextFirings('0 12 ? * MON-FRI *', 6));
  });

  it('given L, W and #, when asked, then it finds the last day, the nearest weekday and the nth weekday', () => {
    expect(nextFirings('0 12 L * ? *', 3)).toEqual([
      '2026-11-30T12:00:00.000Z',
      '2026-12-31T12:00:00.000Z',
      '2027-01-31T12:00:00.000Z',
    ]);
    // 2027-02-28 is a Sunday: the last Friday of February 2027 is the 26th
    expect(nextFirings('0 12 ? * 6L *', 3)).toEqual([
      '2026-12-25T12:00:00.000Z',
      '2027-01-29T12:00:00.000Z',
      '2027-02-26T12:00:00.000Z',
    ]);
    // 2026-12-05 is a Saturday: the nearest weekday is Friday the 4th; 2027-01-01 is a Friday
    expect(nextFirings('0 12 5W * ? *', 2)).toEqual(['2026-12-04T12:00:00.000Z', '2027-01-05T12:00:00.000Z']);
    // the second Tuesday (3#2) of December 2026 and January 2027
    expect(nextFirings('0 12 ? * 3#2 *', 2)).toEqual(['2026-12-08T12:00:00.000Z', '2027-01-12T12:00:00.000Z']);
  });

  it('given firings that close in across midnight only, when asked for the shortest gap, then it finds it', () => {
    expect(timing('5,55 0,23 * * ? *').shortestGapMinutes(NOW)).toBe(10);
    expect(timing('0/15 * * * ? *').shortestGapMinutes(NOW)).toBe(15);
  });

  it('given a year that is over, or a last firing before now, when asked, then it never fires again', () => {
    expect(timing('0 6 * * ? 2025').nextAfter(NOW)).toBeUndefined();
    expect(timing('0 6 1 11 ? 2026').nextAfter(NOW)).toBeUndefined();
    expect(timing('0 6 1 12 ? 2026').nextAfter(NOW)?.toISOString()).toBe('2026-12-01T06:00:00.000Z');
  });

  it('given a field it cannot read, when read, then it says which value', () => {
    expect(cronTiming(['61', '*', '*', '*', '?', '*'])).toBe('"61" is not a value from 0 to 59');
    expect(cronTiming(['0', '5-1', '*', '*', '?', '*'])).toBe('"5-1" is a range that runs backwards');
    expect(cronTiming(['0', '0', '?', 'FOO', 'MON', '*'])).toBe('"FOO" is not a value from 1 to 12');
  });
});
