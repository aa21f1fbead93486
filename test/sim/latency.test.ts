/**
 * The virtual clock the benchmarks and the property harness run on: real async code, simulated time. What
 * is pinned here is what makes a run reproducible on a busy machine: real I/O (the SDK reads its shared
 * config files on a client's first call) takes no simulated time, however long the machine makes it wait.
 */
import { pbkdf2 } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../sim/latency';

const START = new Date('2026-11-26T10:00:00Z');

/**
 * A busy machine: every thread of libuv's pool (where file reads run) is taken by other work for a while,
 * so a file read started now waits far longer than a few turns of the event loop.
 */
function occupyThreadPool(): Promise<void> {
  const threads = Number(process.env.UV_THREADPOOL_SIZE ?? 4);
  const jobs = Array.from(
    { length: threads },
    () =>
      new Promise<void>((resolve, reject) => {
        pbkdf2('busy', 'machine', 150_000, 64, 'sha512', (error) => (error ? reject(error) : resolve()));
      }),
  );
  return Promise.all(jobs).then(() => undefined);
}

describe('VirtualClock.run on a busy machine', () => {
  it('given work waiting on a file read a busy thread pool delays, when the clock runs it, it waits for the read', async () => {
    const busy = occupyThreadPool();
    const clock = new VirtualClock(START);
    const text = await clock.run(async () => {
      const source = await readFile(__filename, 'utf8');
      await clock.sleep(10);
      return source;
    });
    await busy;
    expect(text).toContain('VirtualClock.run on a busy machine');
    expect(clock.now()).toBe(START.getTime() + 10);
  });

  it('given a timer and a delayed real read both pending, simulated time stands still until the read is back', async () => {
    const busy = occupyThreadPool();
    const clock = new VirtualClock(START);
    const finished: { what: string; atMs: number }[] = [];
    await clock.run(() =>
      Promise.all([
        readFile(__filename).then(() => void finished.push({ what: 'read', atMs: clock.now() - START.getTime() })),
        clock.sleep(5).then(() => void finished.push({ what: 'timer', atMs: clock.now() - START.getTime() })),
      ]),
    );
    await busy;
    expect(finished).toEqual([
      { what: 'read', atMs: 0 },
      { what: 'timer', atMs: 5 },
    ]);
  });

  it('still fails, naming the cause, when the work waits on nothing the clock or the machine will answer', async () => {
    const clock = new VirtualClock(START);
    await expect(clock.run(() => new Promise<never>(() => undefined))).rejects.toThrow(/no timer is left/);
  });
});
