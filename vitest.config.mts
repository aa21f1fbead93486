import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    // The default reporter for people, plus one plain closing line (`Tests: N passed, N failed, N skipped`)
    // that CI systems which do not parse vitest's own summary can read.
    reporters: ['default', './test/support/summary-line-reporter.ts'],
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', POWERTOOLS_DEV: 'false' },
    // Vitest's default is one worker fewer than the cores: on a 2-core machine that is one file at a time.
    // Most files wait on child processes (moto_server, esbuild, the CDK CLI), so one worker per core
    // keeps both cores busy.
    maxWorkers: Math.max(availableParallelism(), 2),
    // Generous: a timeout here catches a hang, not slowness. Synthesizing a stack (esbuild, cdk-nag) takes a few
    // seconds on an idle machine and was seen at 40 s to 60 s on a shared 2-core machine under a load of 20.
    testTimeout: 120_000,
    hookTimeout: 240_000,
  },
});
