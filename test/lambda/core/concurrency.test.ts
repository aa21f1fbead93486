import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { chunks, createLimiter, mapWithConcurrency } from '../../../lambda/core/concurrency';

describe('chunks', () => {
  it('splits into consecutive batches of at most the given size, losing nothing', () => {
    fc.assert(
      fc.property(fc.array(fc.integer()), fc.integer({ min: 1, max: 30 }), (items, size) => {
        const batches = chunks(items, size);
        expect(batches.flat()).toEqual(items);
        expect(batches.every((b) => b.length >= 1 && b.length <= size)).toBe(true);
        expect(batches.length).toBe(Math.ceil(items.length / size));
      }),
    );
  });

  it('refuses a batch size that is not a positive integer', () => {
    expect(() => chunks([1], 0)).toThrow(/positive integer/);
  });
});

describe('createLimiter', () => {
  it('never runs more tasks at once than the limit, and fills every slot while work is waiting', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 5 }),
        fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 40 }),
        async (limit, delays) => {
          const run = createLimiter(limit);
          let active = 0;
          let peak = 0;
          const task = async (delay: number): Promise<number> => {
            active++;
            peak = Math.max(peak, active);
            await new Promise((resolve) => setTimeout(resolve, delay));
            active--;
            return delay;
          };
          // Half are queued at once, half a tick later, while the first ones run.
          const first = delays.slice(0, delays.length / 2).map((d) => run(() => task(d)));
          await Promise.resolve();
          const second = delays.slice(delays.length / 2).map((d) => run(() => task(d)));
          expect(await Promise.all([...first, ...second])).toEqual(delays);
          expect(peak).toBeLessThanOrEqual(limit);
          expect(peak).toBe(Math.min(limit, delays.length));
        },
      ),
      { numRuns: 30 },
    );
  });

  it('frees the slot of a task that fails', async () => {
    const run = createLimiter(1);
    await expect(run(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await run(() => Promise.resolve('next'))).toBe('next');
  });
});

describe('mapWithConcurrency', () => {
  it('keeps the input order and the bound', async () => {
    let active = 0;
    let peak = 0;
    const out = await mapWithConcurrency([5, 1, 3, 0, 2], 2, async (delay, index) => {
      active++;
      peak = Math.max(peak, active);
      await new Promise((resolve) => setTimeout(resolve, delay));
      active--;
      return index;
    });
    expect(out).toEqual([0, 1, 2, 3, 4]);
    expect(peak).toBe(2);
  });
});
