// Resident memory and CPU time of a process tree, read from /proc (Linux only, which the
// benchmark machine is). Trees, because `tsx` runs the real server as a child of a wrapper.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

const clockTicks = ((): number => {
  try {
    const n = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return n > 0 ? n : 100;
  } catch {
    return 100;
  }
})();

interface Stat {
  ppid: number;
  cpuSeconds: number;
}

function readStat(pid: number): Stat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may contain spaces and parentheses; fields restart after the last ')'.
    const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(f[1]), cpuSeconds: (Number(f[11]) + Number(f[12])) / clockTicks };
  } catch {
    return undefined;
  }
}

function rssBytes(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** `pid` and all its descendants that are alive now. */
export function processTree(pid: number): number[] {
  const parentOf = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const st = readStat(Number(name));
    if (st) parentOf.set(Number(name), st.ppid);
  }
  const tree = [pid];
  for (let i = 0; i < tree.length && i < 10_000; i++) {
    for (const [child, parent] of parentOf) if (parent === tree[i]) tree.push(child);
  }
  return tree.filter((p) => parentOf.has(p));
}

export const treeRssBytes = (pid: number): number => processTree(pid).reduce((sum, p) => sum + rssBytes(p), 0);

export const treeCpuSeconds = (pid: number): number =>
  processTree(pid).reduce((sum, p) => sum + (readStat(p)?.cpuSeconds ?? 0), 0);

export const cpuSecondsOf = (pids: readonly number[]): number => pids.reduce((sum, p) => sum + (readStat(p)?.cpuSeconds ?? 0), 0);

/** CPU seconds the whole machine spent busy (all processes, all cores) since boot. */
export function machineBusySeconds(): number {
  const first = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
  const [user, nice, system, , , irq, softirq, steal] = first.trim().split(/\s+/).slice(1).map(Number);
  return ((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0)) / clockTicks;
}

/** CPU seconds used by processes outside the benchmark between two calls: other work on a
 *  shared machine skews every figure, so each measurement says how much there was. */
export function foreignCpu(ourPids: () => number[]): () => number {
  const ours = () => cpuSecondsOf(ourPids().flatMap(processTree)) + cpuSecondsOf([process.pid]);
  const busy0 = machineBusySeconds();
  const ours0 = ours();
  return () => Math.max(0, machineBusySeconds() - busy0 - (ours() - ours0));
}

/**
 * CPU seconds of the process tree's threads, summed by name: `main` for each process's main
 * thread, the others by their kernel name (a worker thread is `node` too, V8's and libuv's pools
 * theirs): says whether the server's time went to its main thread, its database worker or a pool.
 */
export function threadCpuSeconds(pid: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const p of processTree(pid)) {
    let tids: string[];
    try {
      tids = readdirSync(`/proc/${p}/task`);
    } catch {
      continue;
    }
    for (const tid of tids) {
      try {
        const text = readFileSync(`/proc/${p}/task/${tid}/stat`, 'utf8');
        const name = tid === String(p) ? 'main' : text.slice(text.indexOf('(') + 1, text.lastIndexOf(')'));
        const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
        out[name] = (out[name] ?? 0) + (Number(f[11]) + Number(f[12])) / clockTicks;
      } catch {
        // the thread ended meanwhile
      }
    }
  }
  return out;
}

/** CPU seconds by thread name between two readings of threadCpuSeconds, busiest first, idle ones left out. */
export function threadCpuDelta(after: Record<string, number>, before: Record<string, number>): Record<string, number> {
  return Object.fromEntries(
    Object.entries(after)
      .map(([name, s]) => [name, Math.round((s - (before[name] ?? 0)) * 100) / 100] as const)
      .filter(([, s]) => s > 0)
      .sort((a, b) => b[1] - a[1]),
  );
}
