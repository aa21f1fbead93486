/**
 * The long run of the property in organization-under-faults.ts (several accounts, the watch, lists that fail
 * part-way, pushes racing deployments): the same property, many more runs.
 *   tsx test/properties/organization-long-run.ts [--runs 10000] [--seed <int>] [--path <path>] [--keep-going]
 * Without --seed the seed is fixed (DEFAULT_LONG_RUN_SEED), so two runs count the same. Prints the seed, the runs
 * done, the time and what the runs exercised; exits 1 with the shrunk counterexample when the invariant fails.
 * With --keep-going every run runs (the same scenarios: a run's scenario depends on the seed and its index only),
 * each failing run is listed by its index with the command that replays and shrinks it (`--path <index>`), and the
 * exit code is 1 if any failed.
 */
import fc from 'fast-check';
import { longRunOptions, reportLongRun } from './long-run-options';
import { noStats, runOrganizationScenario, scenarioArb } from './organization-under-faults';

async function main(): Promise<void> {
  const { runs, seed, path, keepGoing } = longRunOptions(process.argv);
  console.log(
    `property: guard under faults across accounts; seed ${seed}; runs ${runs}${path ? `; path ${path}` : ''}`,
  );
  const totals = { runs: 0, ...noStats() };
  const started = Date.now();
  const failedRuns: { readonly index: number; readonly violations: readonly string[] }[] = [];
  const property = fc.asyncProperty(scenarioArb, async (scenario) => {
    const { violations, stats } = await runOrganizationScenario(scenario);
    totals.runs += 1;
    for (const key of Object.keys(stats) as (keyof typeof stats)[]) totals[key] += stats[key];
    if (totals.runs % 500 === 0) console.log(`  ${totals.runs} runs, ${((Date.now() - started) / 1000).toFixed(1)} s`);
    if (violations.length > 0 && keepGoing) failedRuns.push({ index: totals.runs - 1, violations });
    else if (violations.length > 0) throw new Error(`invariants violated:\n- ${violations.join('\n- ')}`);
  });
  const details = await fc.check(property, { seed, numRuns: runs, ...(path ? { path } : {}) });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  console.log(
    `runs executed: ${details.numRuns} (+${details.numShrinks} shrinks) in ${seconds} s; seed ${seed}; ` +
      `watch deliveries ${totals.watchDeliveries}, push deliveries ${totals.pushDeliveries}, lists ${totals.lists} ` +
      `(${totals.partialLists} workload lists partial, ${totals.failedLists} runs failed and retried), ` +
      `protective tags put ${totals.protections}, lifecycle deletions ${totals.lifecycleDeletes}, ` +
      `in-use digests untagged within the delivery delay at a pass ${totals.inDeliveryDelay}; ` +
      `push path direct+index in ${totals.directAndIndexRuns} runs, index alone in the others`,
  );
  if (keepGoing) {
    reportFailedRuns(failedRuns, details.numRuns, seed);
    return;
  }
  reportLongRun(details, seed);
}

function reportFailedRuns(
  failedRuns: readonly { readonly index: number; readonly violations: readonly string[] }[],
  runs: number,
  seed: number,
): void {
  if (failedRuns.length === 0) {
    console.log('PASSED: every invariant held');
    return;
  }
  console.log(`FAILED: ${failedRuns.length} of ${runs} runs violated an invariant (seed ${seed})`);
  for (const { index, violations } of failedRuns) {
    console.log(`run ${index}: ${violations.join('; ')}`);
    console.log(`  replay and shrink: npx tsx test/properties/organization-long-run.ts --seed ${seed} --path ${index}`);
  }
  process.exitCode = 1;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
