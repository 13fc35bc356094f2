import { fileURLToPath } from 'node:url';

/** The repository root, so the benchmark runs the same from any working directory. */
export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
export const defaultResultsFile = fileURLToPath(new URL('../../bench/results/latest.json', import.meta.url));
