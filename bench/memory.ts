/**
 * Part 1, memory: the peak resident memory of the handler as deployed (the esbuild bundle of part 3) while
 * it handles the large batch, in a child process of its own. The simulated account lives in this process
 * behind a loopback HTTP server, so its memory is not counted. Compared with the same child handling an
 * empty batch (node, the bundle and its clients loaded: the floor), alternating, medians.
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { toSqsEvent } from '../sim/events';
import { buildAccount, pushNewProd, type Shape } from './accounts';
import { OUT_DIR } from './bundle';
import { serveAccount } from './loopback';
import { median } from './stats';

const CHILD = `
const fs = require('node:fs');
const [bundle, eventFile, resultFile] = process.argv.slice(2);
const { handler } = require(bundle);
const event = JSON.parse(fs.readFileSync(eventFile, 'utf8'));
const loadedKb = process.resourceUsage().maxRSS;
const started = performance.now();
handler(event).then((response) => {
  fs.writeFileSync(resultFile, JSON.stringify({
    loadedKb,
    peakKb: process.resourceUsage().maxRSS,
    heapUsedBytes: process.memoryUsage().heapUsed,
    handlerMs: performance.now() - started,
    failed: response.batchItemFailures.length,
  }));
}, (error) => { console.error(error); process.exit(1); });
`;

export interface MemoryRun {
  readonly shape: string;
  readonly runs: number;
  readonly records: number;
  /** peak RSS (MB) handling the batch, median of runs */
  readonly peakMb: number;
  /** peak RSS (MB) handling an empty batch: node + bundle + clients */
  readonly floorMb: number;
  readonly peakMbRuns: readonly number[];
  readonly floorMbRuns: readonly number[];
  readonly protectedDigests: number;
  readonly failedRecords: number;
}

async function runChild(bundleFile: string, eventFile: string, resultFile: string, endpoint: string, topicArn: string) {
  const script = path.join(OUT_DIR, 'memory-child.cjs');
  writeFileSync(script, CHILD);
  const child = spawn(process.execPath, [script, bundleFile, eventFile, resultFile], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: {
      PATH: process.env.PATH ?? '',
      AWS_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: 'AKIASIMULATEDACCOUNT',
      AWS_SECRET_ACCESS_KEY: 'simulated-secret-access-key',
      AWS_ENDPOINT_URL: endpoint,
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      // The function's environment as the construct sets it.
      TOPIC_ARN: topicArn,
      TAG_PREFIX: 'digest-guard',
      DRY_RUN: 'false',
      REPOSITORIES: '',
      POWERTOOLS_SERVICE_NAME: 'ecr-digest-guard',
      POWERTOOLS_METRICS_NAMESPACE: 'EcrDigestGuard',
      POWERTOOLS_LOG_LEVEL: 'INFO',
      NODE_OPTIONS: '--enable-source-maps',
    },
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  if (code !== 0) throw new Error(`memory child failed (${code}): ${stderr}`);
  return JSON.parse(readFileSync(resultFile, 'utf8')) as {
    loadedKb: number;
    peakKb: number;
    handlerMs: number;
    failed: number;
  };
}

export async function measureMemory(shape: Shape, bundleFile: string, runs: number): Promise<MemoryRun> {
  const peaks: number[] = [];
  const floors: number[] = [];
  let protectedDigests = 0;
  let failed = 0;
  let records = 0;
  for (let run = 0; run < runs; run++) {
    // A fresh account each run: the batch must find the same work to do.
    const built = buildAccount(shape);
    const topicArn = built.account.sns.createTopic('ecr-digest-guard-alerts');
    const events = pushNewProd(built, built.repositories.slice(0, shape.pushedRepositories), 1);
    records = events.length;
    const eventFile = path.join(OUT_DIR, `memory-${shape.name}-event.json`);
    const emptyFile = path.join(OUT_DIR, 'memory-empty-event.json');
    writeFileSync(eventFile, JSON.stringify(toSqsEvent(events)));
    writeFileSync(emptyFile, JSON.stringify({ Records: [] }));
    const resultFile = path.join(OUT_DIR, 'memory-result.json');
    const server = await serveAccount(built.account);
    try {
      // Alternate which goes first.
      const order = run % 2 === 0 ? (['batch', 'empty'] as const) : (['empty', 'batch'] as const);
      for (const which of order) {
        const before = built.account.callCount('ecr', 'PutImage');
        const result = await runChild(
          bundleFile,
          which === 'batch' ? eventFile : emptyFile,
          resultFile,
          server.url,
          topicArn,
        );
        if (which === 'batch') {
          peaks.push(result.peakKb / 1024);
          protectedDigests = built.account.callCount('ecr', 'PutImage') - before;
          failed = result.failed;
        } else floors.push(result.peakKb / 1024);
      }
    } finally {
      await server.close();
    }
  }
  return {
    shape: shape.name,
    runs,
    records,
    peakMb: median(peaks),
    floorMb: median(floors),
    peakMbRuns: peaks.map((x) => Math.round(x * 10) / 10),
    floorMbRuns: floors.map((x) => Math.round(x * 10) / 10),
    protectedDigests,
    failedRecords: failed,
  };
}

export function printMemory(run: MemoryRun): void {
  console.log(
    `\n${run.shape} account, peak RSS of the deployed bundle in its own process (${run.runs} runs, medians): ` +
      `${run.peakMb.toFixed(1)} MB handling ${run.records} records (${run.protectedDigests} digests protected, ${run.failedRecords} failed); ` +
      `${run.floorMb.toFixed(1)} MB for an empty batch; the batch adds ${(run.peakMb - run.floorMb).toFixed(1)} MB`,
  );
}
