/**
 * Harness for contract tests against `moto_server` (Python moto), an independent AWS emulator.
 *
 * One server per test file, on its own free loopback port (vitest runs files in parallel workers), started
 * in `beforeAll` and stopped in `afterAll` by killing its whole process group, so nothing outlives the file.
 *
 * moto is only faithful for a few calls (SNS → SQS delivery, EventBridge pattern matching with SQS targets,
 * ECR BatchGetImage + PutImage retag, BatchDeleteImage, task-definition image strings): contract tests use it
 * for those and nothing else. Everything else is pinned against the simulated account in `test/sim/`.
 *
 * When `moto_server` is not installed:
 * - in CI (`CI` set) every test of the file fails with a message that says what to install;
 * - locally the tests fail the same way, unless `MOTO_OPTIONAL=1`, which skips them with a loud warning.
 * `MOTO_SERVER_BIN` names another executable (e.g. a virtualenv's) instead of `moto_server` on `PATH`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants as fsConstants } from 'node:fs';
import { createServer } from 'node:net';
import { delimiter, isAbsolute, join } from 'node:path';
import { afterAll, beforeAll, beforeEach } from 'vitest';

/** Client settings for any SDK v3 client pointed at the emulator. */
export interface MotoClientConfig {
  readonly endpoint: string;
  readonly region: 'us-east-1';
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  /** moto answers immediately; a retry would only hide a contract failure behind a slower one */
  readonly maxAttempts: 1;
}

export interface MotoServer {
  readonly port: number;
  readonly endpoint: string;
  readonly clientConfig: MotoClientConfig;
  /** Forget every resource (moto's `POST /moto-api/reset`). */
  reset(): Promise<void>;
  /** Kill the process group and wait for the server to exit. Safe to call twice. */
  stop(): Promise<void>;
}

/** The account id moto uses for every resource unless told otherwise. */
export const MOTO_ACCOUNT_ID = '123456789012';
export const MOTO_REGION = 'us-east-1';

const STARTUP_TIMEOUT_MS = 15_000;
const STOP_TIMEOUT_MS = 5_000;
const START_ATTEMPTS = 3;

/** The executable to run, or undefined when it cannot be found. */
export function findMotoServerBinary(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const wanted = env.MOTO_SERVER_BIN ?? 'moto_server';
  const candidates = isAbsolute(wanted)
    ? [wanted]
    : (env.PATH ?? '')
        .split(delimiter)
        .filter(Boolean)
        .map((dir) => join(dir, wanted));
  return candidates.find((candidate) => {
    try {
      accessSync(candidate, fsConstants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** The skip rule alone, without the warning: missing emulator, outside CI, `MOTO_OPTIONAL=1`. */
export function motoMayBeSkipped(env: NodeJS.ProcessEnv): boolean {
  return findMotoServerBinary(env) === undefined && !env.CI && env.MOTO_OPTIONAL === '1';
}

/**
 * Whether this file's moto tests should be skipped: only when the emulator is missing, outside CI, and the
 * developer opted in with `MOTO_OPTIONAL=1`. Prints a loud warning when it decides to skip.
 */
export function shouldSkipMotoTests(env: NodeJS.ProcessEnv = process.env): boolean {
  if (!motoMayBeSkipped(env)) return false;
  process.stderr.write(
    '\n' +
      '!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n' +
      '!! moto_server not found and MOTO_OPTIONAL=1: SKIPPING the moto contract tests of this file. !!\n' +
      '!! Install it with `pip install "moto[server]==5.2.1"` to run them.                           !!\n' +
      '!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n',
  );
  return true;
}

/** A port nobody listens on right now: bind port 0 on loopback, read the port, release it. */
export async function findFreeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.unref();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      if (address === null || typeof address === 'string') {
        probe.close();
        reject(new Error('could not read the port of a loopback listener'));
        return;
      }
      probe.close(() => resolve(address.port));
    });
  });
}

/** Starts one `moto_server` on a free loopback port and waits until it answers. */
export async function startMotoServer(): Promise<MotoServer> {
  const binary = findMotoServerBinary();
  if (binary === undefined) {
    throw new Error(
      'moto_server was not found on PATH (or at MOTO_SERVER_BIN). The moto contract tests need it: ' +
        'install it with `pip install "moto[server]==5.2.1"`.' +
        (process.env.CI ? '' : ' To skip these tests locally instead, set MOTO_OPTIONAL=1.'),
    );
  }
  let lastError: unknown;
  // The free port can be taken between probing and binding; a fresh port fixes that.
  for (let attempt = 1; attempt <= START_ATTEMPTS; attempt += 1) {
    const port = await findFreeLoopbackPort();
    try {
      return await startOn(binary, port);
    } catch (error) {
      lastError = error;
    }
  }
  throw new Error(`moto_server did not start after ${START_ATTEMPTS} attempts`, { cause: lastError });
}

async function startOn(binary: string, port: number): Promise<MotoServer> {
  // `detached` makes the child the leader of a new process group: wrappers such as pyenv shims fork
  // python underneath, and killing the group reaches them all.
  const child = spawn(binary, ['-H', '127.0.0.1', '-p', String(port)], {
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, AWS_DEFAULT_REGION: MOTO_REGION },
  });
  let stderrTail = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    // keep the last few lines for error messages; moto logs each request here
    stderrTail = (stderrTail + chunk).slice(-2_000);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const spawnFailed = new Promise<Error>((resolve) => child.once('error', resolve));
  const endpoint = `http://127.0.0.1:${port}`;

  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    killGroup(child, 'SIGTERM');
    const timer = setTimeout(() => killGroup(child, 'SIGKILL'), STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  };

  // Last resort if the worker dies before `afterAll` (a crash, an interrupted run): no orphaned emulator.
  const killOnExit = (): void => killGroup(child, 'SIGKILL');
  process.once('exit', killOnExit);
  void exited.then(() => process.removeListener('exit', killOnExit));

  const ready = await waitUntilAnswering(endpoint, exited, spawnFailed);
  if (ready !== 'ready') {
    await stop();
    throw new Error(`moto_server on port ${port} ${ready}; its last output:\n${stderrTail}`);
  }
  return {
    port,
    endpoint,
    clientConfig: {
      endpoint,
      region: MOTO_REGION,
      credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
      maxAttempts: 1,
    },
    async reset() {
      const response = await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
      if (!response.ok) throw new Error(`moto reset answered HTTP ${response.status}`);
    },
    stop,
  };
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // the group is already gone
  }
}

async function waitUntilAnswering(
  endpoint: string,
  exited: Promise<number | null>,
  spawnFailed: Promise<Error>,
): Promise<'ready' | string> {
  let settled: string | undefined;
  void exited.then((code) => (settled ??= `exited with code ${code} before answering`));
  void spawnFailed.then((error) => (settled ??= `could not be spawned (${error.message})`));
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (settled !== undefined) return settled;
    try {
      const response = await fetch(`${endpoint}/moto-api/`, { signal: AbortSignal.timeout(1_000) });
      await response.arrayBuffer();
      if (response.ok) return 'ready';
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return settled ?? `did not answer within ${STARTUP_TIMEOUT_MS} ms`;
}

/**
 * Registers hooks for one moto_server per test file. Call the returned function inside tests (or
 * `beforeEach`). A start failure is reported by `beforeEach`, so every test of the file FAILS with its
 * reason; a throwing `beforeAll` would only mark the tests skipped, which reads as green in a summary line.
 */
export function useMotoServer(): () => MotoServer {
  let server: MotoServer | undefined;
  let startError: unknown;
  beforeAll(async () => {
    try {
      server = await startMotoServer();
    } catch (error) {
      startError = error;
    }
  });
  beforeEach(() => {
    if (startError !== undefined) throw startError;
  });
  afterAll(async () => {
    await server?.stop();
  });
  return () => {
    if (server === undefined) {
      throw new Error('moto_server is not running', { cause: startError });
    }
    return server;
  };
}
