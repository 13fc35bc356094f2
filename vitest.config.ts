import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Two cores: more parallel files only make each slower and the timing-sensitive ones flaky.
    maxWorkers: 2,
    reporters: ['default'],
  },
});
