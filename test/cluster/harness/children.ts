// Child processes of the cluster harness (servers, HAProxy): their output kept in a bounded
// tail, their exit awaited, and last-resort kills. A test stops its cluster in `finally`; the
// exit hook covers a forgotten stop or a thrown error, and a watchdog per child covers a test
// process that is killed outright (vitest ending a worker after a timeout), where no hook runs:
// a server or a balancer left running holds ports and PostgreSQL connections for later runs.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';

/** Every child still running, for the exit hook: process-wide by nature, like the children themselves. */
const running = new Set<ChildProcess>();
let hooked = false;

function killLeftovers(): void {
  for (const child of running) child.kill('SIGKILL');
}

/** Kills child $2 once process $1 (this one) is gone; ends by itself when the child ends first. */
const WATCHDOG = 'while kill -0 "$1" 2>/dev/null; do kill -0 "$2" 2>/dev/null || exit 0; sleep 0.5; done; kill -9 "$2" 2>/dev/null';

function watch(pid: number): void {
  spawn('/bin/sh', ['-c', WATCHDOG, 'posfleet-watchdog', String(process.pid), String(pid)], { detached: true, stdio: 'ignore' }).unref();
}

export interface Child {
  readonly process: ChildProcess;
  readonly pid: number;
  /** Resolves with the exit code (null when a signal ended it). */
  readonly exited: Promise<number | null>;
  isRunning(): boolean;
  /** stdout and stderr interleaved as they came, the last `maxOutputChars` of it. */
  output(): string;
  stdout(): string;
  stderr(): string;
  /** Calls `listener` with everything read so far on stdout, on each new chunk. */
  onStdout(listener: (all: string) => void): void;
  /** Sends `signal`, then SIGKILL after `graceMs` if it is still running; resolves at exit. */
  stop(signal: NodeJS.Signals, graceMs: number): Promise<number | null>;
}

const MAX_OUTPUT_CHARS = 1_000_000;

const keepTail = (text: string, max: number) => (text.length > max ? text.slice(text.length - max) : text);

export function spawnChild(command: string, args: string[], opts: SpawnOptions & { maxOutputChars?: number } = {}): Child {
  if (!hooked) {
    process.once('exit', killLeftovers);
    hooked = true;
  }
  const max = opts.maxOutputChars ?? MAX_OUTPUT_CHARS;
  const child = spawn(command, args, { ...opts, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let all = '';
  let out = '';
  let err = '';
  const stdoutListeners: ((all: string) => void)[] = [];
  child.stdout?.on('data', (b: Buffer) => {
    const s = b.toString();
    all = keepTail(all + s, max);
    out = keepTail(out + s, max);
    for (const l of stdoutListeners) l(out);
  });
  child.stderr?.on('data', (b: Buffer) => {
    const s = b.toString();
    all = keepTail(all + s, max);
    err = keepTail(err + s, max);
  });
  let done = false;
  const exited = new Promise<number | null>((resolve) => {
    const finish = (code: number | null) => {
      if (done) return;
      done = true;
      running.delete(child);
      resolve(code);
    };
    // 'close' rather than 'exit': by then stdout and stderr are read to their end, for the error messages.
    child.once('close', (code) => finish(code));
    // A spawn failure (ENOENT) comes as 'error' without 'exit'.
    child.once('error', (e) => {
      err += `\n${String(e)}`;
      finish(null);
    });
  });
  // Checked after the listeners are on, so the 'error' that follows is not an uncaught one.
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not start ${command}: ${err || 'no pid'}`);
  watch(pid);

  return {
    process: child,
    pid,
    exited,
    isRunning: () => !done,
    output: () => all,
    stdout: () => out,
    stderr: () => err,
    onStdout: (listener) => void stdoutListeners.push(listener),
    async stop(signal, graceMs) {
      if (done) return exited;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

/** The last `lines` lines of `text`, for an error message. */
export function tail(text: string, lines = 40): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}
