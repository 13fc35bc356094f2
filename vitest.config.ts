import { configDefaults, defineConfig } from 'vitest/config';
import { SlowFirstSequencer } from './test/slowFirstSequencer.ts';

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Two cores. The cluster files (several servers and a balancer each) keep two at a time.
    maxWorkers: 2,
    reporters: ['default'],
    sequence: { sequencer: SlowFirstSequencer },
    projects: [
      // One module graph per worker, not per file: importing the server's modules cost each file
      // 2-4 s here (import 89 s → 15 s for test/core's 22 files). Files share no state through
      // modules: every server, database and client comes from a factory in the file itself.
      // Three at a time: these files wait more than they compute (MQTT round trips, polls,
      // restarts), so on two cores a third file fills the waits (the machine 72-79 % busy over a
      // run of 531-546 s here; CI took 754 s with two, before the PGlite-only suites).
      {
        extends: true,
        test: { name: 'main', isolate: false, maxWorkers: 3, include: ['test/**/*.test.ts'], exclude: [...configDefaults.exclude, 'test/cluster/**'] },
      },
      // Several server processes and a balancer per file, each on free ports and a scratch database
      // of its own: after every other file, two files at a time (15 files: 131 s one at a time, 86-90 s
      // two at a time, in two clean runs).
      {
        extends: true,
        test: { name: 'cluster', include: ['test/cluster/**/*.test.ts'], sequence: { groupOrder: 1 } },
      },
    ],
  },
});
