// The reporter behind `npm run test:durations`: each file's duration as vitest's own results
// cache records it (every test and hook of the file, beforeAll and afterAll included), so the
// committed figures and the cached ones test/slowFirstSequencer.ts mixes are the same measure.
// The JSON reporter's file times run from the first test's start to the last test's end and
// leave out the hooks: a file whose server start in beforeAll took 15 s counted as 0.2 s.
import { writeFileSync } from 'node:fs';
import { relative } from 'node:path';
import type { Reporter, TestModule, Vitest } from 'vitest/node';

/** Seconds per file (relative path), longest first, to one decimal; every file, however short. */
export function durationsOf(root: string, modules: ReadonlyArray<TestModule>): Record<string, number> {
  const rows = modules.map((m) => [relative(root, m.moduleId), Math.round(m.diagnostic().duration / 100) / 10] as const);
  return Object.fromEntries(rows.sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])));
}

export default class DurationsReporter implements Reporter {
  private root = '';

  onInit(vitest: Vitest): void {
    this.root = vitest.config.root;
  }

  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    const out = process.env.POSFLEET_DURATIONS_OUT;
    if (!out) return;
    writeFileSync(out, `${JSON.stringify(durationsOf(this.root, modules), null, 2)}\n`);
  }
}
