// latest.json holds one entry per scenario; each scenario run replaces only its own entry, so
// `core`, `rollout` and `keys` can be run separately and still end up in one file.
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

export type ResultsFile = Record<string, unknown>;

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Pure merge: `existing` may be anything read from disk (or nothing). */
export function mergeScenario(existing: unknown, scenario: string, result: Record<string, unknown>): ResultsFile {
  const base: ResultsFile = isRecord(existing) ? { ...existing } : {};
  base[scenario] = result;
  return base;
}

export async function readResults(file: string): Promise<ResultsFile> {
  try {
    const parsed: unknown = JSON.parse(await readFile(file, 'utf8'));
    return isRecord(parsed) ? parsed : {};
  } catch {
    // A missing or corrupt file must not lose the run that just finished.
    return {};
  }
}

/** Read-merge-write, written to a temp file then renamed so a crash never leaves half a file. */
export async function writeScenario(file: string, scenario: string, result: Record<string, unknown>): Promise<void> {
  const merged = mergeScenario(await readResults(file), scenario, result);
  await mkdir(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(merged, null, 2)}\n`);
  await rename(tmp, file);
}

/** A previous run's entry for a scenario, if any. */
export async function previousScenario(file: string, scenario: string): Promise<Record<string, unknown> | undefined> {
  const entry = (await readResults(file))[scenario];
  return isRecord(entry) ? entry : undefined;
}
