// One phase of a scenario profiled alone: with the server importing cpuProfile.mjs in signal mode
// (bench/README.md), SIGUSR2 starts its profiler and the next SIGUSR2 writes the profile.
import { processTree } from './procstat.ts';

/** The server under test imports cpuProfile.mjs in signal mode. */
export const profilesPhases = (): boolean =>
  process.env.CPU_PROFILE_ON === 'signal' && (process.env.BENCH_SERVER_NODE_OPTIONS ?? '').includes('cpuProfile.mjs');

/** SIGUSR2 to the node process running main.ts (the tsx wrapper's child), which starts or writes its profile. */
export function signalProfiler(serverPid: number, log: (l: string) => void): void {
  const leaf = processTree(serverPid)[1];
  if (leaf === undefined) return log('  profile: no server process to signal');
  process.kill(leaf, 'SIGUSR2');
}

/** The raw aedes baseline imports it too (`BENCH_RAW_IMPORT`), so both brokers are profiled over the same fixed-rate step. */
export const profilesRawPhases = (): boolean =>
  process.env.CPU_PROFILE_ON === 'signal' && (process.env.BENCH_RAW_IMPORT ?? '').includes('cpuProfile.mjs');
