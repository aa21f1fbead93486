/**
 * The options of the long-run scripts (`--runs`, `--seed`, `--path`, `--keep-going`). Without `--seed` the seed is fixed, not taken
 * from the clock: a long run must give the same counts every time it is run, and a failure must be rerunnable from
 * what was printed.
 */

/** The seed a long run uses unless `--seed` is given: the date the property's first long run passed. */
export const DEFAULT_LONG_RUN_SEED = 20261126;

export interface LongRunOptions {
  readonly runs: number;
  readonly seed: number;
  readonly path?: string;
  /**
   * Run every run even when some fail (each failure is reported by its index, to replay and shrink with `--path`),
   * instead of stopping at the first and shrinking it: how many of the runs fail, not only whether one does.
   */
  readonly keepGoing?: true;
}

export function longRunOptions(argv: readonly string[], defaultRuns = 10_000): LongRunOptions {
  const argument = (name: string): string | undefined => {
    const at = argv.indexOf(`--${name}`);
    return at >= 0 ? argv[at + 1] : undefined;
  };
  const runs = Number(argument('runs') ?? defaultRuns);
  const seed = Number(argument('seed') ?? DEFAULT_LONG_RUN_SEED);
  const path = argument('path');
  if (!Number.isInteger(runs) || runs < 1)
    throw new Error(`--runs must be a positive integer, got ${argument('runs')}`);
  if (!Number.isInteger(seed)) throw new Error(`--seed must be an integer, got ${argument('seed')}`);
  return { runs, seed, ...(path ? { path } : {}), ...(argv.includes('--keep-going') ? { keepGoing: true } : {}) };
}

/** How a long run ended, printed so that a failure can be rerun from the output; a failure sets the exit code. */
export function reportLongRun(
  details: {
    readonly failed: boolean;
    readonly counterexamplePath: string | null;
    readonly counterexample: unknown;
    readonly errorInstance: unknown;
  },
  seed: number,
): void {
  if (details.failed) {
    console.log(`FAILED: seed ${seed}, path ${details.counterexamplePath}`);
    console.log(`counterexample: ${JSON.stringify(details.counterexample)}`);
    console.log(String(details.errorInstance instanceof Error ? details.errorInstance.message : details.errorInstance));
    process.exitCode = 1;
    return;
  }
  console.log('PASSED: every invariant held');
}
