// A reconnect storm: the whole fleet connected, the server restarted, and every terminal back at
// once with no jitter except a few honest ones that back off as the agent does. Sampled every
// 250 ms until the fleet is back: clients in, the server's RSS, /healthz, its event-loop lag.
import type { Api } from './api.ts';
import { metricSum } from './promText.ts';
import { exited } from './procs.ts';
import { treeRssBytes } from './procstat.ts';
import type { RestartControl } from './reconnectPhase.ts';
import type { StormHandle } from './stormHandle.ts';
import { errorText, round, sleep } from './util.ts';

export interface StormResult {
  devices: number;
  /** Clients backing off like the agent (1 s doubling to 30 s, full jitter); the rest reconnect at once, in a loop. */
  honest: number;
  /** From the restart command until the new server printed `posfleet ready`. */
  readySeconds: number | null;
  /** From the restart command until the last honest client had its CONNACK. */
  honestBackSeconds: number | null;
  /** From the restart command until the last client without jitter had its CONNACK. */
  hostileBackSeconds: number | null;
  allBackSeconds: number | null;
  /** Authentications admitted per second, from the first CONNACK 0 after the restart until the last client without jitter was in. */
  authPerSec: number | null;
  /** CONNACK 3 the clients got, and per second from ready until the fleet was back. */
  refusedAtAdmission: number;
  refusedPerSec: number | null;
  /** CONNECTs the clients sent after the restart. */
  attempts: number;
  /** Largest event-loop delay of the server between two samples once ready (prom-client's max since the last scrape). */
  maxEventLoopLagMs: number | null;
  /** Slowest /healthz once the server was ready. */
  healthzMaxMs: number | null;
  rssBeforeMb: number;
  rssPeakMb: number;
  error?: string;
}

const MB = 1024 * 1024;

export async function stormPhase(
  ctl: RestartControl,
  api: Api,
  storm: StormHandle,
  devices: number,
  honest: number,
  timeoutMs: number,
  graceMs: number,
): Promise<StormResult> {
  const rssBeforeMb = round(treeRssBytes(ctl.current().pid) / MB, 1);
  await ctl.current().stop(graceMs);
  const before = await storm.counts();
  const started = performance.now();
  const server = ctl.restart();
  const seconds = () => round((performance.now() - started) / 1000, 2);
  let readySeconds: number | null = null;
  let readyAt = 0;
  server.ready.then(
    () => {
      readySeconds = seconds();
      readyAt = performance.now();
    },
    () => {},
  );
  let death: string | undefined;
  void exited(server.child).then(({ code, signal }) => (death = `restarted server exited (code ${code}, signal ${signal})`));

  let rssPeak = 0;
  let maxLag: number | null = null;
  let scrapes = 0;
  let healthzMax: number | null = null;
  let honestBackSeconds: number | null = null;
  let hostileBack: { seconds: number; accepted: number; at: number } | null = null;
  let firstAcceptAt = 0;
  const base = { devices, honest, rssBeforeMb };
  const deadline = started + timeoutMs;
  try {
    for (;;) {
      if (death) throw new Error(death);
      if (performance.now() > deadline) throw new Error(`fleet not back within ${timeoutMs} ms`);
      rssPeak = Math.max(rssPeak, treeRssBytes(server.pid));
      if (readySeconds !== null) {
        const askedAt = performance.now();
        const ok = await fetch(`${api.baseUrl}/healthz`, { signal: AbortSignal.timeout(10_000) }).then(
          (r) => r.ok,
          () => false,
        );
        if (!ok) throw new Error('/healthz did not answer 200 within 10 s');
        healthzMax = Math.max(healthzMax ?? 0, performance.now() - askedAt);
        const lag = metricSum((await api.metrics()).samples, 'posfleet_nodejs_eventloop_lag_max_seconds');
        // The first scrape's maximum covers everything since the process started, its start too.
        if (lag !== undefined && scrapes++ > 0) maxLag = Math.max(maxLag ?? 0, lag * 1000);
      }
      const c = await storm.counts();
      if (!firstAcceptAt && c.accepted > before.accepted) firstAcceptAt = performance.now();
      if (honestBackSeconds === null && c.honestConnected === honest) honestBackSeconds = seconds();
      if (hostileBack === null && c.connected - c.honestConnected === devices - honest) {
        hostileBack = { seconds: seconds(), accepted: c.accepted - before.accepted, at: performance.now() };
      }
      if (c.connected === devices && hostileBack) {
        const allBackSeconds = seconds();
        const span = (performance.now() - readyAt) / 1000;
        const authSpan = (hostileBack.at - firstAcceptAt) / 1000;
        const refused = c.refusedUnavailable - before.refusedUnavailable;
        return {
          ...base,
          readySeconds,
          honestBackSeconds,
          hostileBackSeconds: hostileBack.seconds,
          allBackSeconds,
          authPerSec: authSpan > 0 ? Math.round(hostileBack.accepted / authSpan) : null,
          refusedAtAdmission: refused,
          refusedPerSec: span > 0 ? Math.round(refused / span) : null,
          attempts: c.attempts - before.attempts,
          maxEventLoopLagMs: maxLag === null ? null : round(maxLag, 0),
          healthzMaxMs: healthzMax === null ? null : round(healthzMax, 0),
          rssPeakMb: round(rssPeak / MB, 1),
        };
      }
      await sleep(250);
    }
  } catch (err) {
    const c = await storm.counts().catch(() => before);
    return {
      ...base,
      readySeconds,
      honestBackSeconds,
      hostileBackSeconds: hostileBack?.seconds ?? null,
      allBackSeconds: null,
      authPerSec: null,
      refusedAtAdmission: c.refusedUnavailable - before.refusedUnavailable,
      refusedPerSec: null,
      attempts: c.attempts - before.attempts,
      maxEventLoopLagMs: maxLag,
      healthzMaxMs: healthzMax,
      rssPeakMb: round(rssPeak / MB, 1),
      error: `${errorText(err)}; ${c.connected}/${devices} connected, ${c.honestConnected}/${honest} honest`,
    };
  }
}
