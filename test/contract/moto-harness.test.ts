/**
 * The moto harness itself: one emulator per test file, on a free loopback port, gone after `stop()`.
 * The other contract tests trust it, so it gets its own scenarios.
 */
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import {
  findFreeLoopbackPort,
  findMotoServerBinary,
  motoMayBeSkipped,
  shouldSkipMotoTests,
  startMotoServer,
  useMotoServer,
} from '../support/moto';

function acceptsConnections(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

describe('moto harness: deciding whether moto tests may be skipped', () => {
  const missing = { PATH: '/nonexistent-dir', MOTO_SERVER_BIN: 'no-such-moto-server' };

  it('given moto_server is missing in CI, does not skip (the tests fail instead), even with MOTO_OPTIONAL=1', () => {
    expect(findMotoServerBinary(missing)).toBeUndefined();
    expect(motoMayBeSkipped({ ...missing, CI: 'true', MOTO_OPTIONAL: '1' })).toBe(false);
  });

  it('given moto_server is missing locally without MOTO_OPTIONAL, does not skip', () => {
    expect(motoMayBeSkipped({ ...missing })).toBe(false);
  });

  it('given moto_server is missing locally with MOTO_OPTIONAL=1, skips', () => {
    expect(motoMayBeSkipped({ ...missing, MOTO_OPTIONAL: '1' })).toBe(true);
  });
});

describe.skipIf(shouldSkipMotoTests())('moto harness: one emulator per file', () => {
  const moto = useMotoServer();

  it('answers on a loopback endpoint with dummy credentials in us-east-1', async () => {
    const { endpoint, clientConfig, port } = moto();
    expect(endpoint).toBe(`http://127.0.0.1:${port}`);
    expect(clientConfig.region).toBe('us-east-1');
    const response = await fetch(`${endpoint}/moto-api/`);
    expect(response.status).toBe(200);
    await response.arrayBuffer();
  });

  it('a second server gets another port, and stop() leaves nothing listening on it', async () => {
    const second = await startMotoServer();
    try {
      expect(second.port).not.toBe(moto().port);
      expect(await acceptsConnections(second.port)).toBe(true);
    } finally {
      await second.stop();
    }
    expect(await acceptsConnections(second.port)).toBe(false);
    // stopping twice is harmless (afterAll may run after a test already stopped a server)
    await second.stop();
  });

  it('finds a free port by listening on port 0', async () => {
    const port = await findFreeLoopbackPort();
    expect(port).toBeGreaterThan(0);
    expect(await acceptsConnections(port)).toBe(false);
  });
});
