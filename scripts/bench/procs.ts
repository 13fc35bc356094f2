// Every child the benchmark starts is registered here and started in its own process group, so
// that one kill by group id also reaches what it started (tsx runs the server in a grandchild).
import type { ChildProcess } from 'node:child_process';
import { sleep } from './util.ts';
import { watchGroup } from './watchdog.ts';

const live = new Set<ChildProcess>();

export function track<C extends ChildProcess>(child: C): C {
  live.add(child);
  watchGroup(child.pid, true);
  child.once('exit', () => {
    live.delete(child);
    watchGroup(child.pid, false);
  });
  return child;
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      // already gone
    }
  }
}

export interface Ended {
  code: number | null;
  signal: NodeJS.Signals | null;
  ms: number;
  /** True when the grace period ran out and the group had to be SIGKILLed. */
  forced: boolean;
}

export function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  }
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

/** SIGTERM to the group (or to the child only, when `groupSignal` is false, so a parent can relay
 *  it and shut down in order), then SIGKILL to the group after `graceMs`. */
export async function terminate(child: ChildProcess, graceMs: number, groupSignal = true): Promise<Ended> {
  const started = performance.now();
  const done = exited(child);
  if (child.exitCode === null && child.signalCode === null) {
    if (groupSignal) signalGroup(child, 'SIGTERM');
    else child.kill('SIGTERM');
  }
  const first = await Promise.race([done, sleep(graceMs).then(() => null)]);
  if (first) {
    // The group leader is gone; make sure nothing it started lingers.
    signalGroup(child, 'SIGKILL');
    return { ...first, ms: performance.now() - started, forced: false };
  }
  signalGroup(child, 'SIGKILL');
  const last = await Promise.race([done, sleep(5000).then(() => ({ code: null, signal: null }))]);
  return { ...last, ms: performance.now() - started, forced: true };
}

export async function terminateAll(graceMs: number): Promise<void> {
  await Promise.all([...live].map((c) => terminate(c, graceMs)));
}

function killAllNow(): void {
  for (const child of live) signalGroup(child, 'SIGKILL');
}

/** Children die with us: on Ctrl-C / SIGTERM (orderly), and on any exit (SIGKILL as last resort). */
export function installCleanup(): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      killAllNow();
      process.exit(130);
    }
    stopping = true;
    process.stderr.write(`\nbench: ${signal}, stopping children…\n`);
    void terminateAll(3000).finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('exit', killAllNow);
}
