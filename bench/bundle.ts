/**
 * Part 3: the push handler's bundle as `lib/digest-guard.ts` deploys it (NodejsFunction with
 * `bundleAwsSDK: true`, `minify: true`, `sourceMap: true`, `sourcesContent: false`, runtime Node.js 24, so
 * esbuild `--bundle --target=node24 --platform=node --minify --sourcemap --sources-content=false`, no
 * externals), next to bundles with the SDK left to the runtime (`--external:@aws-sdk/*`, what the construct
 * would get with `bundleAwsSDK: false`): the same handler, and a minimal handler of the same shape.
 * Sizes, and module initialisation time (`require` of the bundle) in fresh node processes, alternating; and the
 * handler as deployed before the parser moved from zod to valibot, built from bench/fixtures/push-event-zod.ts.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { build, type Plugin } from 'esbuild';
import { median, ratio } from './stats';

const ROOT = path.join(__dirname, '..');
/** Build output; ignored by git. Inside the project so that externals resolve from its node_modules. */
export const OUT_DIR = path.join(ROOT, '.bench', 'bundles');
const PUSH_ENTRY = path.join(ROOT, 'lambda', 'handlers', 'push.ts');
const MINIMAL_ENTRY = path.join(__dirname, 'fixtures', 'minimal-handler.ts');
const ZOD_PARSER = path.join(__dirname, 'fixtures', 'push-event-zod.ts');

export interface BundleVariant {
  readonly name: string;
  readonly describe: string;
  readonly file: string;
  readonly bytes: number;
  readonly gzipBytes: number;
  readonly sourceMapBytes: number;
  readonly contributors: Contributors;
  /** NODE_OPTIONS the function runs with (the construct sets --enable-source-maps) */
  readonly nodeOptions: string;
}

/** Output bytes by package (`@scope/name`, or `(project)` for this repository's code), largest first. */
type Contributors = { readonly module: string; readonly bytes: number }[];

export async function bundle(
  name: string,
  entry: string,
  external: string[],
  /** bundles this file wherever the handler imports `core/push-event` */
  pushEventParser?: string,
): Promise<{ file: string; bytes: number; gzipBytes: number; sourceMapBytes: number; contributors: Contributors }> {
  const dir = path.join(OUT_DIR, name);
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'index.js');
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    target: 'node24',
    platform: 'node',
    outfile: file,
    minify: true,
    sourcemap: true,
    sourcesContent: false,
    external,
    logLevel: 'error',
    // Read here only; unlike bundling.metafile in the construct, nothing ships it.
    metafile: true,
    plugins: pushEventParser ? [replacePushEvent(pushEventParser)] : [],
  });
  const byModule = new Map<string, number>();
  for (const output of Object.values(result.metafile.outputs)) {
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input);
      const key = match ? match[1]! : '(project)';
      byModule.set(key, (byModule.get(key) ?? 0) + bytesInOutput);
    }
  }
  const contributors = [...byModule].map(([module, bytes]) => ({ module, bytes })).sort((a, b) => b.bytes - a.bytes);
  const code = readFileSync(file);
  return {
    file,
    bytes: code.length,
    gzipBytes: gzipSync(code).length,
    sourceMapBytes: statSync(`${file}.map`).size,
    contributors,
  };
}

function replacePushEvent(file: string): Plugin {
  return {
    name: 'replace-push-event',
    setup(build) {
      build.onResolve({ filter: /\/core\/push-event$/ }, () => ({ path: file }));
    },
  };
}

/** Builds the bundles; the first one is the function as deployed. */
export async function buildBundles(): Promise<BundleVariant[]> {
  const deployed = await bundle('deployed', PUSH_ENTRY, []);
  const external = await bundle('sdk-external', PUSH_ENTRY, ['@aws-sdk/*']);
  const minimal = await bundle('minimal-sdk-external', MINIMAL_ENTRY, ['@aws-sdk/*']);
  const zodDeployed = await bundle('deployed-zod', PUSH_ENTRY, [], ZOD_PARSER);
  return [
    {
      name: 'deployed',
      describe: 'push handler, SDK bundled, minified (as deployed), --enable-source-maps',
      ...deployed,
      nodeOptions: '--enable-source-maps',
    },
    {
      name: 'deployed-no-sourcemaps',
      describe: 'the same bundle without --enable-source-maps',
      ...deployed,
      nodeOptions: '',
    },
    {
      name: 'sdk-external',
      describe: 'push handler, @aws-sdk/* external (runtime SDK), --enable-source-maps',
      ...external,
      nodeOptions: '--enable-source-maps',
    },
    {
      name: 'deployed-zod',
      describe: 'as deployed before valibot: the parser on zod 4 + the Powertools EventBridge schema',
      ...zodDeployed,
      nodeOptions: '--enable-source-maps',
    },
    {
      name: 'minimal-sdk-external',
      describe: 'minimal handler of the same shape, @aws-sdk/* external, --enable-source-maps',
      ...minimal,
      nodeOptions: '--enable-source-maps',
    },
  ];
}

export interface InitTimes {
  readonly variant: string;
  readonly runs: number;
  /** milliseconds to `require` the bundle, per run */
  readonly initMs: readonly number[];
  readonly medianInitMs: number;
  /** milliseconds from spawning node to its exit, per run */
  readonly medianProcessMs: number;
  /** CPU milliseconds (user + system) of the `require`: less sensitive than wall time to other load */
  readonly medianCpuMs: number;
  /**
   * Median over rounds of this variant's init time divided by the minimal handler's in the same round: both
   * ran back to back, so load that comes and goes hits them alike. Wall time and CPU time.
   */
  readonly ratioToMinimal: number;
  readonly cpuRatioToMinimal: number;
}

const MINIMAL = 'minimal-sdk-external';

const PROBE = `
const c0 = process.cpuUsage();
const t0 = performance.now();
require(process.argv[2]);
const t1 = performance.now();
const cpu = process.cpuUsage(c0);
process.stdout.write(JSON.stringify({ initMs: t1 - t0, cpuMs: (cpu.user + cpu.system) / 1000 }));
`;

/** Fresh `node` per run; variants alternate within each round so that machine noise hits them alike. */
export function measureInit(variants: readonly BundleVariant[], runs: number): InitTimes[] {
  const probe = path.join(OUT_DIR, 'init-probe.cjs');
  writeFileSync(probe, PROBE);
  const samples = new Map(
    variants.map((v) => [v.name, { init: [] as number[], cpu: [] as number[], total: [] as number[] }]),
  );
  const env = {
    ...process.env,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    AWS_REGION: 'eu-west-1',
    TOPIC_ARN: 'arn:aws:sns:eu-west-1:111122223333:ecr-digest-guard-alerts',
  };
  for (let round = 0; round < runs + 1; round++) {
    // Rotate the order each round; round 0 warms the file cache and is not counted.
    const order = variants.map((_, i) => variants[(i + round) % variants.length]!);
    for (const variant of order) {
      const started = performance.now();
      const child = spawnSync(process.execPath, [probe, variant.file], {
        env: { ...env, NODE_OPTIONS: variant.nodeOptions },
        encoding: 'utf8',
      });
      const totalMs = performance.now() - started;
      if (child.status !== 0) throw new Error(`init probe failed for ${variant.name}: ${child.stderr}`);
      if (round === 0) continue;
      const s = samples.get(variant.name)!;
      const measured = JSON.parse(child.stdout) as { initMs: number; cpuMs: number };
      s.init.push(measured.initMs);
      s.cpu.push(measured.cpuMs);
      s.total.push(totalMs);
    }
  }
  const base = samples.get(MINIMAL);
  const pairedRatio = (mine: readonly number[], theirs: readonly number[] | undefined) =>
    theirs ? median(mine.map((x, round) => ratio(x, theirs[round]!))) : Number.NaN;
  return variants.map((v) => {
    const s = samples.get(v.name)!;
    return {
      variant: v.name,
      runs,
      initMs: s.init.map((x) => Math.round(x * 10) / 10),
      medianInitMs: median(s.init),
      medianProcessMs: median(s.total),
      medianCpuMs: median(s.cpu),
      ratioToMinimal: pairedRatio(s.init, base?.init),
      cpuRatioToMinimal: pairedRatio(s.cpu, base?.cpu),
    };
  });
}

export function printBundles(variants: readonly BundleVariant[], times: readonly InitTimes[]): void {
  const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;
  const timesOf = (name: string) => times.find((t) => t.variant === name)!;
  console.log(
    `\nhandler bundle (esbuild ${require('esbuild/package.json').version}, node ${process.version}); init = require() in a fresh node, ${timesOf(MINIMAL).runs} runs each, alternating;` +
      ' × = median over rounds of init / the minimal handler in the same round (wall, CPU):',
  );
  for (const v of variants) {
    const t = timesOf(v.name);
    console.log(
      `  ${v.name.padEnd(24)} ${kb(v.bytes).padStart(9)} (gzip ${kb(v.gzipBytes)}, map ${kb(v.sourceMapBytes)})  init median ${t.medianInitMs.toFixed(1)} ms` +
        ` (×${t.ratioToMinimal.toFixed(2)}), CPU ${t.medianCpuMs.toFixed(1)} ms (×${t.cpuRatioToMinimal.toFixed(2)}), whole process ${t.medianProcessMs.toFixed(0)} ms  — ${v.describe}`,
    );
  }
  for (const v of variants.filter((x) => x.name === 'deployed' || x.name === 'sdk-external')) {
    const top = v.contributors.slice(0, 6).map((c) => `${c.module} ${((100 * c.bytes) / v.bytes).toFixed(0)}%`);
    console.log(`  largest parts of ${v.name}: ${top.join(', ')}`);
  }
  const now = variants.find((x) => x.name === 'deployed');
  const before = variants.find((x) => x.name === 'deployed-zod');
  if (now && before) {
    const [n, b] = [timesOf(now.name), timesOf(before.name)];
    console.log(
      `  the parser on valibot instead of zod, as deployed: ${kb(before.bytes)} → ${kb(now.bytes)}, init ×${b.ratioToMinimal.toFixed(2)} → ×${n.ratioToMinimal.toFixed(2)}` +
        ` the minimal handler (CPU ×${b.cpuRatioToMinimal.toFixed(2)} → ×${n.cpuRatioToMinimal.toFixed(2)})`,
    );
  }
}
