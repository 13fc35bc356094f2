// `npm run test:durations`: runs the suite and writes each file's duration (seconds, every file,
// measured by test/durationsReporter.ts as vitest's results cache measures it) to
// test/durations.json, which orders a fresh clone's test run longest first
// (test/slowFirstSequencer.ts). Rerun it when files come or grow.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';

const root = join(import.meta.dirname, '..');
const out = join(root, 'test', 'durations.json');
try {
  execFileSync('npx', ['vitest', 'run', '--reporter=default', '--reporter=./test/durationsReporter.ts'], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, POSFLEET_DURATIONS_OUT: out },
  });
} catch {
  // A failing test still leaves its file's duration in the report.
}
const written = z.record(z.string(), z.number()).parse(JSON.parse(readFileSync(out, 'utf8')));
console.log(`test/durations.json: ${Object.keys(written).length} files`);
