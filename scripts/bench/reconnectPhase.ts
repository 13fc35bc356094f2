// Broker restart with the whole fleet connected: how long until every device is back online,
// and what the reconnect storm costs the server in CPU.
import type { Api } from './api.ts';
import { exited } from './procs.ts';
import { foreignCpu, treeCpuSeconds } from './procstat.ts';
import type { ServerProcess } from './serverProc.ts';
import { errorText, pollUntil, round } from './util.ts';

export interface ReconnectResult {
  devices: number;
  /** From the restart command until summary `online` and the connected gauge both equal devices. */
  allOnlineSeconds: number | null;
  serverCpuSeconds: number;
  /** From the restart command until the server printed `posfleet ready`. */
  readySeconds: number | null;
  shutdownSeconds: number;
  /** The server did not exit within the grace period after SIGTERM. */
  shutdownForced: boolean;
  shutdownExit: string;
  lastSeen?: { online: number; connected: number | null };
  /** CPU used outside the benchmark meanwhile (shared machine); generators are not counted. */
  otherCpuSeconds?: number;
  error?: string;
}

export interface RestartControl {
  current(): ServerProcess;
  /** Starts a new server process on the same data dir and ports, and makes it current. */
  restart(): ServerProcess;
}

export async function reconnectPhase(ctl: RestartControl, api: Api, devices: number, timeoutMs: number, graceMs: number, generatorPids: number[]): Promise<ReconnectResult> {
  const ended = await ctl.current().stop(graceMs);
  const started = performance.now();
  const server = ctl.restart();
  const other = foreignCpu(() => [server.pid, ...generatorPids]);
  let readySeconds: number | null = null;
  server.ready.then((ms) => (readySeconds = round(ms / 1000, 2)), () => {});
  const lastSeen = { online: -1, connected: null as number | null };
  const base = {
    devices,
    shutdownSeconds: round(ended.ms / 1000, 2),
    shutdownForced: ended.forced,
    shutdownExit: ended.signal ? `signal ${ended.signal}` : `code ${ended.code}`,
  };
  let death: string | undefined;
  void exited(server.child).then(({ code, signal }) => {
    death = `restarted server exited (code ${code}, signal ${signal}); last output:\n${server.lastOutput()}`;
  });
  try {
    await pollUntil(
      async () => {
        const [summary, metrics] = await Promise.all([api.summary(), api.metrics()]);
        lastSeen.online = summary.online;
        lastSeen.connected = metrics.connected ?? null;
        return summary.online === devices && metrics.connected === devices ? true : undefined;
      },
      { everyMs: 250, timeoutMs, what: 'whole fleet online again', abandon: () => death },
    );
    const allOnlineSeconds = round((performance.now() - started) / 1000, 2);
    return { ...base, allOnlineSeconds, serverCpuSeconds: round(treeCpuSeconds(server.pid), 2), readySeconds, lastSeen, otherCpuSeconds: round(other(), 2) };
  } catch (err) {
    return { ...base, allOnlineSeconds: null, serverCpuSeconds: round(treeCpuSeconds(server.pid), 2), readySeconds, lastSeen, error: errorText(err) };
  }
}
