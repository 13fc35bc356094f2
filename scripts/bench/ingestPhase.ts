// Heartbeat ingest: steps the aggregate QoS 1 rate up and keeps the highest step with nothing
// lost and p99 publish→PUBACK within the limit.
import type { BrokerUnderTest } from './broker.ts';
import type { LoadgenPool } from './pool.ts';
import { cpuSecondsOf, foreignCpu, threadCpuDelta, threadCpuSeconds, treeCpuSeconds } from './procstat.ts';
import { judgeStep, lastAttempts, nextProbe, splitProportional, summarize, sustainedRate, type LatencySummary, type StepLimits } from './stats.ts';
import { pollUntil, round, sleep } from './util.ts';

export interface IngestOptions {
  rates: readonly number[];
  stepMs: number;
  /** How long a step may wait for its last PUBACKs. */
  drainMs: number;
  limits: StepLimits;
  /** Times a failing rung is run again before the ladder stops. */
  retries: number;
  /** After the ladder, bisect between the last pass and the first failure down to this step. */
  resolution?: number;
  log: (line: string) => void;
}

export interface IngestStep {
  rate: number;
  /** 0 for the first run of a rung, 1 for its confirmation run. */
  attempt: number;
  /** A ladder rung, or a probe between the last passing rung and the first failing one. */
  phase: 'ladder' | 'refine';
  sent: number;
  acked: number;
  failed: number;
  serverCounted: number | null;
  droppedByServer: Record<string, number>;
  latency: LatencySummary;
  passed: boolean;
  reasons: string[];
  /** Max of the broker's event-loop p99 sampled each second during the step. */
  brokerLagP99Ms: number | null;
  generatorLagMaxMs: number;
  brokerCpuSeconds: number;
  /** The broker's CPU by thread (`main`, worker threads such as PGlite's `node`, V8's and libuv's pools). */
  brokerThreadCpuSeconds: Record<string, number>;
  generatorCpuSeconds: number;
  sendSeconds: number;
  /** CPU used by processes outside the benchmark during the step (shared machine). */
  otherCpuSeconds: number;
  wallSeconds: number;
}

export interface IngestResult {
  msgsPerSec: number;
  p99Ms: number | null;
  /** Every step passed: the real limit is above the ladder. */
  capped: boolean;
  /** Max broker event-loop p99 over the steps that passed (load it sustained). */
  lagP99MsSustained: number | null;
  /** Max over all steps, the failing (overloaded) one included. */
  lagP99MsAllSteps: number | null;
  steps: IngestStep[];
}

const maxOrNull = (xs: readonly (number | null)[]): number | null => {
  const v = xs.filter((x): x is number => x !== null && Number.isFinite(x));
  return v.length ? Math.max(...v) : null;
};

const roundOrNull = (v: number | null): number | null => (v === null ? null : round(v, 1));

function diff(after: Record<string, number>, before: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(after)) if (v - (before[k] ?? 0) > 0) out[k] = v - (before[k] ?? 0);
  return out;
}

/** Lag samples every second, in the background, until stopped. */
function sampleLag(broker: BrokerUnderTest): { stop: () => Promise<(number | null)[]> } {
  const samples: (number | null)[] = [];
  let pending: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    pending = broker.lagP99Ms().then((v) => void samples.push(v), () => void samples.push(null));
  }, 1000);
  return {
    stop: async () => {
      clearInterval(timer);
      await pending;
      return samples;
    },
  };
}

export async function runStep(pool: LoadgenPool, broker: BrokerUnderTest, rate: number, attempt: number, opts: IngestOptions, phase: IngestStep['phase'] = 'ladder'): Promise<IngestStep> {
  const total = Math.round((rate * opts.stepMs) / 1000);
  const counts = splitProportional(total, pool.shares);
  const countBefore = await broker.healthCount();
  const droppedBefore = await broker.dropped();
  const cpuBefore = { broker: treeCpuSeconds(broker.pid()), threads: threadCpuSeconds(broker.pid()), gen: cpuSecondsOf(pool.pids) };
  const other = foreignCpu(() => [broker.pid(), ...pool.pids]);
  const wallStart = performance.now();
  const lag = sampleLag(broker);
  const reports = await pool.all((i) => ({ t: 'ingest', count: counts[i]!, durationMs: opts.stepMs, drainMs: opts.drainMs }), opts.stepMs + opts.drainMs + 60_000);
  const lagSamples = await lag.stop();
  const otherCpuSeconds = other();
  const cpuAfter = { broker: treeCpuSeconds(broker.pid()), threads: threadCpuSeconds(broker.pid()), gen: cpuSecondsOf(pool.pids) };
  const sent = reports.reduce((n, r) => n + r.sent, 0);
  let serverCounted: number | null = null;
  if (countBefore !== null) {
    // The counter may trail the PUBACKs a little (batched handling); give it a moment, bounded.
    const settled = await pollUntil(
      async () => {
        const now = await broker.healthCount();
        return now !== null && now - countBefore >= sent ? now : undefined;
      },
      { everyMs: 100, timeoutMs: 3000, what: 'health counter' },
    ).catch(() => broker.healthCount());
    serverCounted = settled === null ? null : settled - countBefore;
  }
  const latency = summarize(reports.flatMap((r) => r.latenciesMs));
  const outcome = { rate, sent, acked: reports.reduce((n, r) => n + r.acked, 0), serverCounted, p99Ms: latency.p99Ms };
  const verdict = judgeStep(outcome, opts.limits);
  return {
    rate,
    attempt,
    phase,
    sent,
    acked: outcome.acked,
    serverCounted,
    failed: reports.reduce((n, r) => n + r.failed, 0),
    droppedByServer: diff(await broker.dropped(), droppedBefore),
    latency: {
      count: latency.count,
      p50Ms: round(latency.p50Ms, 2),
      p90Ms: round(latency.p90Ms, 2),
      p99Ms: round(latency.p99Ms, 2),
      maxMs: round(latency.maxMs, 2),
    },
    passed: verdict.passed,
    reasons: verdict.reasons,
    brokerLagP99Ms: roundOrNull(maxOrNull(lagSamples)),
    generatorLagMaxMs: round(Math.max(...reports.map((r) => r.genLagMaxMs))),
    brokerCpuSeconds: round(cpuAfter.broker - cpuBefore.broker, 2),
    brokerThreadCpuSeconds: threadCpuDelta(cpuAfter.threads, cpuBefore.threads),
    generatorCpuSeconds: round(cpuAfter.gen - cpuBefore.gen, 2),
    sendSeconds: round(Math.max(...reports.map((r) => r.sendMs)) / 1000, 2),
    otherCpuSeconds: round(otherCpuSeconds, 2),
    wallSeconds: round((performance.now() - wallStart) / 1000, 2),
  };
}

/**
 * Quiet time before a step that follows an overloaded one: both brokers publish the p99 lag of
 * the last 5 s window, so a shorter wait let the overload's stall (seconds) be read again as the
 * next step's lag.
 */
export const LAG_WINDOW_QUIET_MS = 6000;

/** Runs a rate, and once more to confirm a failure; returns whether it passed. */
async function tryRate(pool: LoadgenPool, broker: BrokerUnderTest, rate: number, opts: IngestOptions, phase: IngestStep['phase'], steps: IngestStep[]): Promise<boolean> {
  for (let attempt = 0; attempt <= opts.retries; attempt++) {
    if (attempt > 0 || phase === 'refine') await settleAfterLadder(broker, LAG_WINDOW_QUIET_MS);
    const step = await runStep(pool, broker, rate, attempt, opts, phase);
    steps.push(step);
    opts.log(
      `  ${broker.label} ${rate} msg/s${phase === 'refine' ? ' (between rungs)' : ''}${attempt ? ' (again)' : ''}: sent ${step.sent}, acked ${step.acked}` +
        `${step.serverCounted === null ? '' : `, counted ${step.serverCounted}`}, p50 ${step.latency.p50Ms} ms, p99 ${step.latency.p99Ms} ms` +
        `, lag ${step.brokerLagP99Ms === null ? '-' : round(step.brokerLagP99Ms)} ms, cpu ${step.brokerCpuSeconds}s/gen ${step.generatorCpuSeconds}s/other ${step.otherCpuSeconds}s` +
        ` ${step.passed ? 'ok' : `FAIL (${step.reasons.join('; ')})`}`,
    );
    if (step.passed) return true;
  }
  return false;
}

export async function ingestPhase(pool: LoadgenPool, broker: BrokerUnderTest, opts: IngestOptions): Promise<IngestResult> {
  const steps: IngestStep[] = [];
  let failedAt: number | null = null;
  for (const rate of opts.rates) {
    if (!(await tryRate(pool, broker, rate, opts, 'ladder', steps))) {
      failedAt = rate;
      break;
    }
    await sleep(1000); // let the broker's queues and buffered writes settle between rungs
  }
  const ladderRungs = lastAttempts(steps);
  const best = sustainedRate(ladderRungs.map((s) => ({ ...s, p99Ms: s.latency.p99Ms })), opts.limits);
  let msgsPerSec = best.msgsPerSec;
  let p99Ms = best.p99Ms;
  if (failedAt !== null && opts.resolution) {
    let failed = failedAt;
    for (let probe = nextProbe(msgsPerSec, failed, opts.resolution); probe !== null; probe = nextProbe(msgsPerSec, failed, opts.resolution)) {
      if (await tryRate(pool, broker, probe, opts, 'refine', steps)) {
        msgsPerSec = probe;
        p99Ms = steps[steps.length - 1]!.latency.p99Ms;
      } else {
        failed = probe;
      }
    }
  }
  const passing = lastAttempts(steps).filter((s) => s.passed);
  return {
    msgsPerSec,
    p99Ms: p99Ms === null ? null : round(p99Ms, 2),
    capped: best.capped,
    lagP99MsSustained: maxOrNull(passing.map((s) => s.brokerLagP99Ms)),
    lagP99MsAllSteps: maxOrNull(steps.map((s) => s.brokerLagP99Ms)),
    steps,
  };
}

/** After the ladder (whose last step overloaded the broker on purpose), wait until the broker has
 *  worked off its backlog, so the next measurement does not pay for this one. Bounded. */
export async function settleAfterLadder(broker: BrokerUnderTest, quietMs: number): Promise<void> {
  let last = await broker.healthCount().catch(() => null);
  for (let i = 0; i < 60 && last !== null; i++) {
    await sleep(500);
    const now = await broker.healthCount().catch(() => null);
    if (now === last) break;
    last = now;
  }
  await sleep(quietMs);
}
