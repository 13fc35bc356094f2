import { configDefaults, defineConfig } from 'vitest/config';
import { SlowFirstSequencer } from './test/slowFirstSequencer.ts';

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Two cores: more parallel files only make each slower and the timing-sensitive ones flaky.
    maxWorkers: 2,
    reporters: ['default'],
    sequence: { sequencer: SlowFirstSequencer },
    projects: [
      { extends: true, test: { name: 'main', include: ['test/**/*.test.ts'], exclude: [...configDefaults.exclude, 'test/cluster/**'] } },
      // Several server processes and a balancer per file: one file at a time, after every other file.
      {
        extends: true,
        test: { name: 'cluster', include: ['test/cluster/**/*.test.ts'], fileParallelism: false, sequence: { groupOrder: 1 } },
      },
    ],
  },
});
