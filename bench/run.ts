/**
 * `npm run bench`: evidence at scale, on simulated accounts (no AWS). Every figure is measured on each run;
 * counts (requests, simulated milliseconds) do not depend on how busy the machine is, wall times do and are
 * only compared side by side (alternating runs, medians).
 *
 *   npm run bench                                  # everything (a few minutes on 2 cores)
 *   npm run bench -- --part=requests,memory        # parts: requests, memory, burst, bundle, index, organization, push-index,
 *                                                  #   watch
 *   npm run bench -- --small | --large             # only one account shape (requests, memory)
 *   npm run bench -- --burst=all                   # every burst setting (adds batch 100 with 10 s / 60 s windows)
 *   npm run bench -- --runs=15                     # fresh-process runs per bundle variant (default 15)
 *   npm run bench:record                           # the same, and write the figures to bench/results/latest.json
 *
 * The figures file is tracked: a run writes it only when asked (`--record`), so that a run to look at the
 * figures leaves the working tree as it was.
 *
 * 1. requests: one batch (10 / 100 pushes) on the small and large account: requests vs the computed lower
 *    bound (design.md, "Performance reference"), and simulated time (per-call latency, 4 in flight, ECS
 *    token buckets off and on) vs the shortest time those calls allow.
 * 1b. memory: peak RSS of the deployed bundle handling that batch in its own process, the account behind a
 *    loopback server.
 * 2. burst: 1,000 pushes in a minute over 100 repositories of the large account, through a model of the
 *    SQS event source as deployed: ECS calls and inventories per minute, push-to-protected latency.
 * 3. bundle: sizes and module initialisation time of the handler bundle as deployed vs SDK-external ones, and
 *    as deployed before the parser moved from zod to valibot.
 * 4. cost (with requests): a month per account shape at us-east-1 list prices, from the batch's measured
 *    duration and stated assumptions (bench/cost.ts).
 * 5. index: the in-use index requests of a list of the account, first on an empty index, then with no change.
 * 7. push-index: the push batch of part 1 reading the in-use index after a complete list: ECS calls (0), index
 *    reads vs one per pushed repository, simulated time.
 * 8. watch: the large fleet's task and deployment events and Lambda API calls of a workload account through the
 *    watch: index writes per task event (≤ 1), ECS calls per deployment event (≤ 2), Lambda calls per Lambda
 *    API call (≤ 1), as ratios against those bounds.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LARGE, SMALL, type Shape } from './accounts';
import { buildBundles, measureInit, printBundles, type BundleVariant, type InitTimes } from './bundle';
import { BURST, burstSettings, indexBurstSettings, printBurst, runBurst, type BurstResult } from './burst';
import { ASSUMED, type MonthlyCost, monthlyCost, printCost } from './cost';
import { type IndexListRun, measureIndexList, printIndexList } from './index-list';
import { measureMemory, printMemory, type MemoryRun } from './memory';
import { measureOrganizationList, type OrganizationListRun, printOrganizationList } from './organization-list';
import { measurePushIndex, printPushIndex, type PushIndexRun } from './push-index';
import { measureBatch, printBatch, type BatchRun } from './requests';
import { measureWatch, printWatch, type WatchRun } from './watch';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const PARTS = ['requests', 'memory', 'burst', 'bundle', 'index', 'organization', 'push-index', 'watch'] as const;
type Part = (typeof PARTS)[number];

function option(name: string): string | undefined {
  const prefix = `--${name}=`;
  return process.argv.find((a) => a.startsWith(prefix))?.slice(prefix.length);
}

async function main(): Promise<void> {
  if (process.argv.includes('--no-write')) {
    throw new Error('--no-write is gone: a run writes no file unless given --record');
  }
  const parts = new Set<Part>((option('part')?.split(',') as Part[] | undefined) ?? PARTS);
  for (const part of parts)
    if (!PARTS.includes(part)) throw new Error(`unknown part "${part}"; parts: ${PARTS.join(', ')}`);
  const shapes: Shape[] = process.argv.includes('--small')
    ? [SMALL]
    : process.argv.includes('--large')
      ? [LARGE]
      : [SMALL, LARGE];
  const initRuns = Number(option('runs') ?? 15);
  const started = performance.now();
  const results: {
    requests?: BatchRun[];
    memory?: MemoryRun[];
    burst?: { incidentRace: BurstResult[]; longRunning: BurstResult[] };
    bundle?: { variants: Omit<BundleVariant, 'file'>[]; init: InitTimes[] };
    cost?: MonthlyCost[];
    index?: IndexListRun[];
    organization?: OrganizationListRun;
    pushIndex?: PushIndexRun[];
    watch?: WatchRun;
  } = {};

  let bundles: BundleVariant[] | undefined;
  if (parts.has('memory') || parts.has('bundle')) bundles = await buildBundles();

  if (parts.has('requests')) {
    console.log(
      '\n== 1. one batch: requests vs the lower bound, simulated time (assumed per-call latency, 4 in flight) ==',
    );
    results.requests = [];
    for (const shape of shapes) {
      for (const throttling of [false, true]) {
        const run = await measureBatch(shape, throttling);
        printBatch(
          run,
          `${shape.clusters} clusters, ${shape.services} services (${shape.idleServices} with no running task), ${shape.tasks} tasks, ${shape.repositories} repositories`,
        );
        results.requests.push(run);
      }
    }
    // Billed as the slower case: ECS throttling on.
    results.cost = results.requests
      .filter((run) => run.throttling)
      .map((run) =>
        monthlyCost(
          { shape: run.shape, batchMs: run.simulatedMs, batchPublishes: run.requests.sns, batchPushes: run.pushes },
          ASSUMED[run.shape as 'small' | 'large'],
        ),
      );
    printCost(results.cost);
  }
  if (parts.has('memory')) {
    console.log(
      '\n== 1b. peak memory of the deployed bundle, in a process of its own (the account behind a loopback server) ==',
    );
    results.memory = [];
    for (const shape of shapes) {
      const run = await measureMemory(shape, bundles![0]!.file, 3);
      printMemory(run);
      results.memory.push(run);
    }
  }
  if (parts.has('burst')) {
    console.log('\n== 2. a burst through the SQS event source model, on a simulated clock ==');
    const incidentRace: BurstResult[] = [];
    for (const setting of burstSettings(option('burst') === 'all')) incidentRace.push(await runBurst(setting));
    printBurst(incidentRace);
    const longRunning: BurstResult[] = [];
    for (const setting of burstSettings(false).filter(
      (s) => s.label.startsWith('as deployed:') || s.design !== 'per-invocation',
    )) {
      longRunning.push(await runBurst(setting, { ...BURST, taskBetweenPushes: false }));
    }
    for (const setting of indexBurstSettings()) {
      longRunning.push(await runBurst(setting, { ...BURST, taskBetweenPushes: false }));
    }
    printBurst(longRunning);
    results.burst = { incidentRace, longRunning };
  }
  if (parts.has('bundle')) {
    console.log('\n== 3. the handler bundle ==');
    const init = measureInit(bundles!, initRuns);
    printBundles(bundles!, init);
    results.bundle = { variants: bundles!.map(({ file: _file, ...rest }) => rest), init };
  }

  if (parts.has('index')) {
    console.log('\n== 5. the in-use index kept by a list of the account (DynamoDB requests) ==');
    results.index = [];
    for (const shape of shapes) {
      const run = await measureIndexList(shape);
      printIndexList(run);
      results.index.push(run);
    }
  }

  if (parts.has('organization')) {
    console.log('\n== 6. the list across an organization: 20 accounts × 2 regions through the reader role ==');
    results.organization = await measureOrganizationList();
    printOrganizationList(results.organization);
  }

  if (parts.has('push-index')) {
    console.log('\n== 7. one push batch reading the in-use index after a complete list (no inventory) ==');
    results.pushIndex = [];
    for (const shape of shapes) {
      const run = await measurePushIndex(shape);
      printPushIndex(run);
      results.pushIndex.push(run);
    }
  }

  if (parts.has('watch')) {
    console.log("\n== 8. the watch: a workload account's events and Lambda API calls, against their bounds ==");
    results.watch = await measureWatch(shapes.includes(LARGE) ? LARGE : SMALL);
    printWatch(results.watch);
  }

  const totalS = (performance.now() - started) / 1000;
  console.log(`\nbench done in ${totalS.toFixed(0)} s (wall)`);
  if (process.argv.includes('--record')) {
    const cpus = os.cpus();
    const file = path.join(__dirname, 'results', 'latest.json');
    mkdirSync(path.dirname(file), { recursive: true });
    const document = {
      date: new Date().toISOString(),
      machine: {
        cpu: cpus[0]?.model ?? 'unknown',
        cores: cpus.length,
        memoryGb: Math.round(os.totalmem() / 2 ** 30),
        os: `${os.type()} ${os.arch()}`,
        node: process.version,
      },
      command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
      benchWallSeconds: Math.round(totalS),
      results,
    };
    writeFileSync(
      file,
      `${JSON.stringify(document, (_, v) => (v === Number.POSITIVE_INFINITY ? 'Infinity' : v), 2)}\n`,
    );
    console.log(`figures written to ${path.relative(process.cwd(), file)}`);
  } else {
    console.log('figures not written (npm run bench:record writes bench/results/latest.json)');
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
