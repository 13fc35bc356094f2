// One soak sample of the server under test: its process tree's RSS from /proc and the rest from
// its /metrics (prom-client's heap gauge, the event-loop p99, open descriptors, the buffers'
// sizes, the commands queue's depth), with the CPU the server and other processes used since the
// previous sample: on a shared machine a lag spike may be someone else's.
import type { Api } from './api.ts';
import { metricByLabel, metricSum } from './promText.ts';
import { foreignCpu, treeCpuSeconds, treeRssBytes } from './procstat.ts';
import type { SoakSample } from './soakStats.ts';
import { round } from './util.ts';

const MiB = 2 ** 20;

/** Cores used by the server's process tree and by processes outside the bench, since the last call. */
export function cpuSince(serverPid: () => number, benchPids: () => number[]): () => { serverCores: number; otherCores: number } {
  let other = foreignCpu(benchPids);
  let server = treeCpuSeconds(serverPid());
  let at = performance.now();
  return () => {
    const seconds = Math.max(0.001, (performance.now() - at) / 1000);
    const otherCpu = other();
    const serverCpu = treeCpuSeconds(serverPid());
    const out = { serverCores: round((serverCpu - server) / seconds, 2), otherCores: round(otherCpu / seconds, 2) };
    other = foreignCpu(benchPids);
    server = serverCpu;
    at = performance.now();
    return out;
  };
}

export async function takeSample(
  api: Api,
  serverPid: number,
  tS: number,
  cpu: () => { serverCores: number; otherCores: number },
): Promise<SoakSample> {
  const rssMiB = round(treeRssBytes(serverPid) / MiB, 1);
  const { serverCores, otherCores } = cpu();
  const m = await api.metrics();
  const s = m.samples;
  const heap = metricSum(s, 'posfleet_nodejs_heap_size_used_bytes');
  const lag = m.lagP99Ms;
  return {
    tS: round(tS, 1),
    rssMiB,
    heapUsedMiB: heap === undefined ? null : round(heap / MiB, 1),
    lagP99Ms: lag === undefined ? null : round(lag, 1),
    openFds: metricSum(s, 'posfleet_process_open_fds') ?? null,
    connected: m.connected ?? null,
    queueDepth: metricSum(s, 'posfleet_queue_depth', { queue: 'commands' }) ?? null,
    faultsOpen: metricSum(s, 'posfleet_faults_open') ?? null,
    serverCores,
    otherCores,
    buffers: metricByLabel(s, 'posfleet_buffered_items', 'buffer'),
  };
}
