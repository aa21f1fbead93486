import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    // The default reporter for people, plus one plain closing line (`Tests: N passed, N failed, N skipped`)
    // that CI systems which do not parse vitest's own summary can read.
    reporters: ['default', './test/support/summary-line-reporter.ts'],
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', POWERTOOLS_DEV: 'false' },
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
