/**
 * The long run's options: without `--seed` it must still be reproducible (a fixed, printed seed), so that two runs
 * of `npm run properties:long` or of the script itself count the same.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_LONG_RUN_SEED, longRunOptions } from './long-run-options';

describe('the long run options', () => {
  it('given no --seed, when the options are read twice, then both use the same fixed default seed', () => {
    const first = longRunOptions(['node', 'long-run.ts']);
    const second = longRunOptions(['node', 'long-run.ts']);

    expect(first.seed).toBe(DEFAULT_LONG_RUN_SEED);
    expect(second.seed).toBe(first.seed);
    expect(first.runs).toBe(10_000);
  });

  it('given --seed and --runs, then they are used as given', () => {
    expect(longRunOptions(['node', 'x', '--seed', '7', '--runs', '12', '--path', '3:1'])).toEqual({
      seed: 7,
      runs: 12,
      path: '3:1',
    });
  });

  it('given --keep-going, then the run goes on past a failing run; without it, it stops at the first', () => {
    expect(longRunOptions(['node', 'x', '--keep-going', '--runs', '5'])).toEqual({
      seed: DEFAULT_LONG_RUN_SEED,
      runs: 5,
      keepGoing: true,
    });
    expect(longRunOptions(['node', 'x']).keepGoing).toBeUndefined();
  });

  it('given a seed that is not an integer, then it is refused with what was given', () => {
    expect(() => longRunOptions(['node', 'x', '--seed', 'soon'])).toThrow('--seed must be an integer, got soon');
  });
});
