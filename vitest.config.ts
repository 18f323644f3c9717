import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // The end-to-end files drive real clients; run files in parallel but keep the 2-core machine usable.
    maxWorkers: 2,
    // The JSON results let .ci/run print the plain "N passed, N failed" count.
    reporters: ['default', ['json', { outputFile: 'test-results/vitest.json' }]],
  },
});
