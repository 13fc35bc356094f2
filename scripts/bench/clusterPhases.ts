// The measurements of the cluster scenario that run on the load-generator pool: connect (and
// memory over every instance), the fan-out sent on one instance and counted on another, the
// ingest ladder over the cluster, and the kill -9 of one instance with commands in flight.
import type { Api } from './api.ts';
import type { BenchCluster } from './clusterFixture.ts';
import type { ClusterPlan } from './clusterPlan.ts';
import type { ClusterIngestStep, ClusterRun } from './clusterReport.ts';
import type { FanoutResult } from './fanoutPhase.ts';
import { benchModel, kekPublicKey, serialOf } from './fleet.ts';
import type { LoadgenPool } from './pool.ts';
import { foreignCpu, treeCpuSeconds, treeRssBytes } from './procstat.ts';
import type { DeviceSpec } from './protocol.ts';
import { judgeStep, splitProportional, summarize } from './stats.ts';
import { errorText, mapBounded, pollUntil, round, sleep } from './util.ts';

const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);

/** Contiguous slices of the fleet, one per generator. */
export function sliceFleet<T>(devices: readonly T[], generators: number): T[][] {
  const per = Math.ceil(devices.length / generators);
  return Array.from({ length: generators }, (_, g) => devices.slice(g * per, (g + 1) * per));
}

/** Generator g's terminals go to instance g mod k, with the other instances as alternates. */
export async function assignToInstances(pool: LoadgenPool, slices: DeviceSpec[][], ports: readonly number[]): Promise<void> {
  await pool.assignEach(slices, (g) => {
    const own = g % ports.length;
    return {
      host: '127.0.0.1',
      port: ports[own]!,
      alternates: ports.filter((_, i) => i !== own).map((port) => ({ host: '127.0.0.1', port })),
    };
  });
}

/** `POST /v1/enroll` of serial i on instance i mod k, `concurrency` in flight on each: one
 *  instance alone would make enrolment the longest part of a 50,000-terminal run. */
export async function clusterEnroll(
  apis: readonly Api[],
  count: number,
  enrollToken: string,
  concurrency: number,
): Promise<{ devices: DeviceSpec[]; seconds: number; perSec: number }> {
  const started = performance.now();
  const devices = await mapBounded(
    Array.from({ length: count }, (_, i) => i),
    concurrency * apis.length,
    async (i) => {
      const r = await apis[i % apis.length]!.enroll({
        serial: serialOf(i),
        model: benchModel,
        fwVersion: '1.0.0',
        kekPublicKey: kekPublicKey(),
        enrollToken,
      });
      return { id: r.deviceId, username: r.mqtt.username, password: r.mqtt.password };
    },
  );
  const ms = performance.now() - started;
  return { devices, seconds: round(ms / 1000, 2), perSec: Math.round((count * 1000) / ms) };
}

const valueOr = async <T>(p: Promise<T>): Promise<T | null> => p.catch(() => null);

export async function gauges(apis: readonly Api[]): Promise<{ connected: (number | null)[]; online: (number | null)[] }> {
  const [connected, online] = await Promise.all([
    Promise.all(apis.map((a) => valueOr(a.metrics().then((m) => m.connected ?? 0)))),
    Promise.all(apis.map((a) => valueOr(a.summary().then((s) => s.online)))),
  ]);
  return { connected, online };
}

export async function clusterConnect(
  pool: LoadgenPool,
  cluster: BenchCluster,
  slices: DeviceSpec[][],
  plan: ClusterPlan,
): Promise<NonNullable<ClusterRun['connect']>> {
  await assignToInstances(
    pool,
    slices,
    cluster.instances.map((i) => i.mqttPort),
  );
  await sleep(plan.settleMs);
  const rss = () => sum(cluster.pids().map(treeRssBytes));
  const rssBefore = rss();
  const started = Date.now();
  const reports = await pool.all(
    () => ({ t: 'connect', window: plan.connectWindow, timeoutMs: plan.connectTimeoutMs }),
    plan.connectTimeoutMs + 60_000,
  );
  const connected = sum(reports.map((r) => r.connected));
  const ms = Math.max(1, Math.max(...reports.map((r) => r.lastConnackAt)) - started);
  // Presence travels in batches: let every instance's summary catch up before reading it.
  const apis = cluster.instances.map((i) => i.api);
  let seen = await gauges(apis);
  await pollUntil(
    async () => {
      seen = await gauges(apis);
      return seen.online.every((o) => o === plan.devices) ? true : undefined;
    },
    { everyMs: 250, timeoutMs: 30_000, what: 'every instance sees the whole fleet online' },
  ).catch(() => undefined);
  await sleep(plan.settleMs);
  const rssAfter = rss();
  return {
    connected,
    seconds: round(ms / 1000, 2),
    perSec: Math.round((connected * 1000) / ms),
    rssBeforeMb: round(rssBefore / 2 ** 20),
    rssAfterMb: round(rssAfter / 2 ** 20),
    rssPerDeviceKb: round((rssAfter - rssBefore) / 1024 / Math.max(1, connected), 2),
    perInstance: seen.connected,
    summaryOnline: seen.online,
    errors: reports.flatMap((r) => r.errors).slice(0, 10),
  };
}

/** `POST /v1/commands` to the whole fleet on `sendOn`, the batch polled every 25 ms on `countOn`. */
export async function clusterFanout(sendOn: Api, countOn: Api, devices: number, timeoutMs: number): Promise<FanoutResult> {
  const started = performance.now();
  const { batchId, total } = await sendOn.sendCommand({ target: { filter: {} }, type: 'diag.run', payload: {} });
  let last: Record<string, number> = {};
  try {
    await pollUntil(
      async () => {
        last = (await countOn.batch(batchId)).counts;
        return (last.succeeded ?? 0) >= total ? true : undefined;
      },
      { everyMs: 25, timeoutMs, what: 'all commands succeeded' },
    );
    return { devices: total, allAckedMs: Math.round(performance.now() - started), acked: total, finalCounts: last };
  } catch (err) {
    return { devices: total || devices, allAckedMs: null, acked: last.succeeded ?? 0, finalCounts: last, error: errorText(err) };
  }
}

export interface IngestTarget {
  pids(): number[];
  apis(): Api[];
}

async function healthCount(target: IngestTarget): Promise<number | null> {
  const counts = await Promise.all(target.apis().map((a) => valueOr(a.metrics().then((m) => m.healthIn ?? 0))));
  return counts.some((c) => c === null) ? null : sum(counts.map((c) => c ?? 0));
}

/** One step at `rate` msg/s over every terminal the pool holds, measured on every instance. */
export async function clusterStep(
  pool: LoadgenPool,
  target: IngestTarget,
  rate: number,
  attempt: number,
  plan: ClusterPlan,
): Promise<ClusterIngestStep> {
  const counts = splitProportional(Math.round((rate * plan.stepMs) / 1000), pool.shares);
  const before = await healthCount(target);
  const cpu = () => sum(target.pids().map(treeCpuSeconds));
  const cpuBefore = cpu();
  const other = foreignCpu(() => [...target.pids(), ...pool.pids]);
  const reports = await pool.all(
    (i) => ({ t: 'ingest', count: counts[i]!, durationMs: plan.stepMs, drainMs: plan.drainMs }),
    plan.stepMs + plan.drainMs + 60_000,
  );
  const serverCpuSeconds = cpu() - cpuBefore;
  const otherCpuSeconds = other();
  const sent = sum(reports.map((r) => r.sent));
  const acked = sum(reports.map((r) => r.acked));
  let serverCounted: number | null = null;
  if (before !== null) {
    const settled = await pollUntil(
      async () => {
        const now = await healthCount(target);
        return now !== null && now - before >= sent ? now : undefined;
      },
      { everyMs: 100, timeoutMs: 3000, what: 'health counters' },
    ).catch(() => healthCount(target));
    serverCounted = settled === null ? null : settled - before;
  }
  const latency = summarize(reports.flatMap((r) => r.latenciesMs));
  const verdict = judgeStep({ rate, sent, acked, serverCounted, p99Ms: latency.p99Ms }, plan.limits);
  return {
    rate,
    attempt,
    sent,
    acked,
    serverCounted,
    p50Ms: round(latency.p50Ms, 2),
    p99Ms: round(latency.p99Ms, 2),
    passed: verdict.passed,
    reasons: verdict.reasons,
    serverCpuSeconds: round(serverCpuSeconds, 2),
    cpuPerMsgUs: acked > 0 ? round((serverCpuSeconds / acked) * 1e6, 1) : null,
    otherCpuSeconds: round(otherCpuSeconds, 2),
  };
}

const stepLine = (label: string, s: ClusterIngestStep) =>
  `  ${label} ${s.rate} msg/s${s.attempt ? ' (again)' : ''}: sent ${s.sent}, acked ${s.acked}, counted ${s.serverCounted ?? '-'}, p50 ${s.p50Ms} ms, p99 ${s.p99Ms} ms, ` +
  `server cpu ${s.serverCpuSeconds} s (${s.cpuPerMsgUs ?? '-'} µs/msg), other ${s.otherCpuSeconds} s ${s.passed ? 'ok' : `FAIL (${s.reasons.join('; ')})`}`;

/** The shortened ladder: up until a rung fails twice; the highest passing rung is the figure. */
export async function clusterIngest(
  pool: LoadgenPool,
  target: IngestTarget,
  plan: ClusterPlan,
  log: (l: string) => void,
): Promise<NonNullable<ClusterRun['ingest']>> {
  const steps: ClusterIngestStep[] = [];
  let best: ClusterIngestStep | undefined;
  let failed = false;
  for (const rate of plan.rates) {
    let passed = false;
    for (let attempt = 0; attempt <= 1 && !passed; attempt++) {
      // After a failed (overloaded) step, the servers' 5 s lag window and backlog go first.
      if (attempt > 0) await sleep(6000);
      const step = await clusterStep(pool, target, rate, attempt, plan);
      steps.push(step);
      log(stepLine('cluster', step));
      if (step.passed) {
        passed = true;
        best = step;
      }
    }
    if (!passed) {
      failed = true;
      break;
    }
    await sleep(1000);
  }
  return { msgsPerSec: best?.rate ?? 0, cpuPerMsgUs: best?.cpuPerMsgUs ?? null, p99Ms: best?.p99Ms ?? null, capped: !failed, steps };
}

/** The same per-instance load on one instance alone: its share of terminals at rate / k. */
export async function singleIngest(
  pool: LoadgenPool,
  target: IngestTarget,
  rate: number,
  rounds: number,
  plan: ClusterPlan,
  log: (l: string) => void,
): Promise<ClusterIngestStep[]> {
  const steps: ClusterIngestStep[] = [];
  for (let r = 0; r < rounds; r++) {
    const step = await clusterStep(pool, target, rate, 0, plan);
    steps.push(step);
    log(stepLine('one instance', step));
    await sleep(1000);
  }
  return steps;
}

/** CPU per message over the steps in which every message was acked and counted (latency aside:
 *  CPU per message is the figure compared, and one slow p99 does not change it). */
export function meanCpuPerMsg(steps: readonly ClusterIngestStep[]): number | null {
  const ok = steps.filter((s) => s.acked > 0 && s.acked === s.sent && s.serverCounted === s.sent);
  if (!ok.length) return null;
  return round((sum(ok.map((s) => s.serverCpuSeconds)) / sum(ok.map((s) => s.acked))) * 1e6, 1);
}
