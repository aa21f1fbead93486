/**
 * The long run of the property in guard-under-faults.ts: the same property, many more runs.
 *   tsx test/properties/long-run.ts [--runs 10000] [--seed <int>] [--path <path>]
 * Without --seed the seed is fixed (DEFAULT_LONG_RUN_SEED), so two runs count the same.
 * Every invariant is checked, (d) and (e) included.
 * Prints the seed, the runs done, the time, and what the runs exercised; exits 1 with the shrunk
 * counterexample when an invariant fails. Rerun a failure with the printed seed (and path).
 */
import fc from 'fast-check';
import { runScenario, scenarioArb } from './guard-under-faults';
import { longRunOptions, reportLongRun } from './long-run-options';

async function main(): Promise<void> {
  const { runs, seed, path } = longRunOptions(process.argv);
  console.log(`property: guard under faults; seed ${seed}; runs ${runs}${path ? `; path ${path}` : ''}`);
  const totals = { runs: 0, invocations: 0, deadLettered: 0, protections: 0, lifecycleDeletes: 0 };
  const started = Date.now();
  const property = fc.asyncProperty(scenarioArb, async (scenario) => {
    const { violations, stats } = await runScenario(scenario);
    totals.runs += 1;
    totals.invocations += stats.invocations;
    totals.deadLettered += stats.deadLettered;
    totals.protections += stats.protections;
    totals.lifecycleDeletes += stats.lifecycleDeletes;
    if (totals.runs % 1000 === 0) console.log(`  ${totals.runs} runs, ${((Date.now() - started) / 1000).toFixed(1)} s`);
    if (violations.length > 0) throw new Error(`invariants violated:\n- ${violations.join('\n- ')}`);
  });
  const details = await fc.check(property, { seed, numRuns: runs, ...(path ? { path } : {}) });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  console.log(
    `runs executed: ${details.numRuns} (+${details.numShrinks} shrinks) in ${seconds} s; seed ${seed}; ` +
      `invocations ${totals.invocations}, protective tags put ${totals.protections}, lifecycle deletions ${totals.lifecycleDeletes}, dead-lettered ${totals.deadLettered}`,
  );
  reportLongRun(details, seed);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
