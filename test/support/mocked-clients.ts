/**
 * The set-up every test over `aws-sdk-client-mock` repeats: each test starts from mocks with no behaviour and
 * no recorded calls, and a handler test also from a fresh module (its wiring is cached per module) and the
 * function's environment.
 */
import { afterEach, beforeEach, vi } from 'vitest';

interface Resettable {
  reset(): unknown;
}

/** Resets `mocks` before each test of the file (or of the `describe` it is called in). */
export function resetBeforeEach(...mocks: readonly Resettable[]): void {
  beforeEach(() => {
    for (const mock of mocks) mock.reset();
  });
}

/**
 * For tests of a deployed entry point: `mocks` reset, modules reloaded (so the handler wires itself again from
 * `env`), `env` stubbed before each test and unstubbed after it.
 */
export function asDeployedHandler(env: Readonly<Record<string, string>>, ...mocks: readonly Resettable[]): void {
  beforeEach(() => {
    for (const mock of mocks) mock.reset();
    vi.resetModules();
    for (const [key, value] of Object.entries(env)) vi.stubEnv(key, value);
  });
  afterEach(() => vi.unstubAllEnvs());
}
