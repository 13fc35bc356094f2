// Runs the operator CLI as an operator would: a child process of `node --import tsx
// cli/posfleet.ts …` with its own environment (HOME in a scratch dir, so the profile file is the
// test's), its stdout, stderr and exit code read back.
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  env?: Record<string, string>;
  /** Fed to the process's stdin. */
  input?: string;
  timeoutMs?: number;
  /** Run the installed bin (cli/bin.mjs) from this directory instead of `node --import tsx cli/posfleet.ts` from the clone. */
  binFrom?: string;
}

/** A scratch HOME with no profile file in it. */
export const scratchHome = () => mkdtempSync(join(tmpdir(), 'posfleet-cli-home-'));

/** Any program with the environment the CLI gets (`script` giving the CLI a pseudo-terminal). */
export function runProgram(file: string, args: string[], env: Record<string, string>): Promise<CliRun> {
  return new Promise((done, fail) => {
    execFile(file, args, { cwd: repoRoot, env: { ...cleanEnv(), ...env }, timeout: 60_000 }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') return fail(new Error(`${file} did not finish: ${err.message}\n${stderr}`));
      done({ code: err && typeof err.code === 'number' ? err.code : 0, stdout, stderr });
    });
  });
}

// Nothing of the test process's own posfleet settings leaks in: each test names its own.
const cleanEnv = () =>
  Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('POSFLEET_') && k !== 'XDG_CONFIG_HOME'));

export function runCli(args: string[], opts: CliOptions = {}): Promise<CliRun> {
  const base = cleanEnv();
  return new Promise((done, fail) => {
    const child = execFile(
      process.execPath,
      opts.binFrom ? [join(repoRoot, 'cli/bin.mjs'), ...args] : ['--import', 'tsx', join(repoRoot, 'cli/posfleet.ts'), ...args],
      { cwd: opts.binFrom ?? repoRoot, env: { ...base, ...opts.env }, timeout: opts.timeoutMs ?? 60_000, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err && typeof err.code !== 'number') return fail(new Error(`cli did not finish: ${err.message}\n${stderr}`));
        done({ code: err && typeof err.code === 'number' ? err.code : 0, stdout, stderr });
      },
    );
    child.stdin?.end(opts.input ?? '');
  });
}
