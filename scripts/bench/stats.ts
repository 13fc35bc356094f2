// Pure statistics for the benchmark: percentiles and the "highest sustained rate" rule.
// Kept free of I/O so the pass/fail rule can be unit-tested on its own.

/** Nearest-rank percentile (p in 0..100); NaN for no values. Nearest-rank never invents a
 *  latency that was not observed, which interpolation would. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = Float64Array.from(values).sort();
  const rank = Math.ceil((Math.min(100, Math.max(0, p)) / 100) * sorted.length);
  return sorted[Math.max(0, rank - 1)]!;
}

export interface LatencySummary {
  count: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
}

export function summarize(values: readonly number[]): LatencySummary {
  const sorted = Float64Array.from(values).sort();
  const at = (p: number): number => {
    if (sorted.length === 0) return Number.NaN;
    return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]!;
  };
  return { count: sorted.length, p50Ms: at(50), p90Ms: at(90), p99Ms: at(99), maxMs: at(100) };
}

export interface StepOutcome {
  rate: number;
  sent: number;
  acked: number;
  /** What the broker says it accepted; null when the broker keeps no such count (raw aedes). */
  serverCounted: number | null;
  p99Ms: number;
}

export interface StepLimits {
  maxP99Ms: number;
  /** Our server must account for every message; raw aedes cannot. */
  requireServerCount: boolean;
}

export interface StepVerdict {
  rate: number;
  passed: boolean;
  reasons: string[];
}

export function judgeStep(step: StepOutcome, limits: StepLimits): StepVerdict {
  const reasons: string[] = [];
  if (step.sent <= 0) reasons.push('nothing sent');
  if (step.acked !== step.sent) reasons.push(`${step.sent - step.acked} of ${step.sent} PUBACKs missing`);
  if (limits.requireServerCount) {
    if (step.serverCounted === null) reasons.push('server reported no health counter');
    else if (step.serverCounted !== step.sent) reasons.push(`server counted ${step.serverCounted} of ${step.sent}`);
  }
  if (!(step.p99Ms <= limits.maxP99Ms)) reasons.push(`p99 ${fmt(step.p99Ms)} ms > ${limits.maxP99Ms} ms`);
  return { rate: step.rate, passed: reasons.length === 0, reasons };
}

export interface Sustained {
  /** 0 when even the first step failed. */
  msgsPerSec: number;
  p99Ms: number | null;
  /** Index of the step that set the rate, or -1. */
  index: number;
  /** True when every step passed, so the real limit lies above the ladder. */
  capped: boolean;
}

/** Highest passing rate, stepping up in order and stopping at the first failure (a later pass
 *  after a failure is luck, not sustained throughput). */
export function sustainedRate(steps: readonly StepOutcome[], limits: StepLimits): Sustained {
  let best: Sustained = { msgsPerSec: 0, p99Ms: null, index: -1, capped: false };
  for (const [i, step] of steps.entries()) {
    if (!judgeStep(step, limits).passed) return best;
    best = { msgsPerSec: step.rate, p99Ms: step.p99Ms, index: i, capped: false };
  }
  return { ...best, capped: steps.length > 0 };
}

/** One outcome per rung: when a rung was run again (a failure is confirmed once before the
 *  ladder stops, because one GC pause on a shared 2-core machine can sink a single p99), the
 *  later attempt is the rung's result. Order of first appearance is kept. */
export function lastAttempts<T extends { rate: number }>(steps: readonly T[]): T[] {
  const byRate = new Map<number, T>();
  for (const step of steps) byRate.set(step.rate, step);
  return [...byRate.values()];
}

/**
 * The next rate to try between the highest passing rung and the first confirmed failure, by
 * halving the gap, in whole multiples of `resolution`; null once the gap is that small. The
 * ladder's 2,000 msg/s rungs alone would quantise a ratio near 0.8 to 0.75 or 0.8.
 */
export function nextProbe(passed: number, failed: number, resolution: number): number | null {
  if (!(resolution > 0) || failed - passed <= resolution) return null;
  const mid = passed + Math.round((failed - passed) / 2 / resolution) * resolution;
  return mid > passed && mid < failed ? mid : null;
}

/** Aggregate rates for the ladder: `start, start+step, …` up to `max` inclusive. */
export function ladder(start: number, step: number, max: number): number[] {
  const out: number[] = [];
  for (let r = start; r <= max && out.length < 1000; r += step) out.push(r);
  return out;
}

/** Splits `total` into integer shares proportional to `weights` that add up exactly. */
export function splitProportional(total: number, weights: readonly number[]): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  if (sum <= 0) return weights.map(() => 0);
  const raw = weights.map((w) => (total * w) / sum);
  const out = raw.map(Math.floor);
  let rest = total - out.reduce((a, b) => a + b, 0);
  const byRemainder = raw.map((r, i) => ({ i, frac: r - Math.floor(r) })).sort((a, b) => b.frac - a.frac);
  for (const { i } of byRemainder) {
    if (rest <= 0) break;
    out[i]! += 1;
    rest -= 1;
  }
  return out;
}

/** Per-second rate from a count over milliseconds; 0 for a zero-length window. */
export function perSecond(count: number, ms: number): number {
  return ms > 0 ? (count * 1000) / ms : 0;
}

const fmt = (n: number): string => (Number.isFinite(n) ? n.toFixed(1) : String(n));
