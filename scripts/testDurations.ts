// `npm run test:durations`: runs the suite with vitest's JSON reporter and writes each file's
// duration (seconds, files of 1 s and more) to test/durations.json, which orders a fresh clone's
// test run longest first (test/slowFirstSequencer.ts). Rerun it when files come or grow.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { z } from 'zod';

const report = z.object({ testResults: z.array(z.object({ name: z.string(), startTime: z.number(), endTime: z.number() })) });
const root = join(import.meta.dirname, '..');
const out = join(tmpdir(), `posfleet-durations-${process.pid}.json`);
try {
  execFileSync('npx', ['vitest', 'run', '--reporter=json', `--outputFile=${out}`], { cwd: root, stdio: 'inherit' });
} catch {
  // A failing test still leaves its file's duration in the report.
}
const durations = report
  .parse(JSON.parse(readFileSync(out, 'utf8')))
  .testResults.map((t) => [relative(root, t.name), Math.round((t.endTime - t.startTime) / 100) / 10] as const)
  .filter(([, s]) => s >= 1)
  .sort((a, b) => b[1] - a[1]);
writeFileSync(join(root, 'test', 'durations.json'), `${JSON.stringify(Object.fromEntries(durations), null, 2)}\n`);
console.log(`test/durations.json: ${durations.length} files of 1 s and more`);
