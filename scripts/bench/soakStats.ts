// Pure figures and verdicts of the soak scenario: least-squares slopes of each sampled series
// over the run's second half (after warm-up) and the rules that call a series flat. Free of I/O
// so the rules are unit-tested on their own (test/bench/soakStats.test.ts).

export interface SoakSample {
  /** Seconds since the load started. */
  tS: number;
  /** VmRSS of the server's process tree. */
  rssMiB: number;
  heapUsedMiB: number | null;
  /** The server's p99 event-loop delay over its last 5 s window. */
  lagP99Ms: number | null;
  openFds: number | null;
  connected: number | null;
  /** BullMQ jobs waiting in the commands queue. */
  queueDepth: number | null;
  /** Unresolved faults: the faulty share's come and go, so this stays level too. */
  faultsOpen?: number | null;
  /** CPU cores used since the previous sample by the server's process tree, and by processes
   *  outside the bench (a shared machine). */
  serverCores?: number;
  otherCores?: number;
  /** posfleet_buffered_items by buffer (commands_open among them). */
  buffers: Record<string, number>;
}

export interface Fit {
  /** Change per hour of the fitted line. */
  slopePerHour: number;
  /** Standard error of that slope: how far noise alone moves it. Null under 3 points. */
  stdErrPerHour: number | null;
  points: number;
}

/** Ordinary least squares of `value` on time; null without two distinct times. */
export function leastSquares(points: readonly { tS: number; value: number }[]): Fit | null {
  const n = points.length;
  if (n < 2) return null;
  const mt = points.reduce((s, p) => s + p.tS, 0) / n;
  const mv = points.reduce((s, p) => s + p.value, 0) / n;
  let stt = 0;
  let stv = 0;
  for (const p of points) {
    stt += (p.tS - mt) ** 2;
    stv += (p.tS - mt) * (p.value - mv);
  }
  if (stt === 0) return null;
  const slope = stv / stt;
  let sse = 0;
  for (const p of points) sse += (p.value - (mv + slope * (p.tS - mt))) ** 2;
  const stdErr = n > 2 ? Math.sqrt(sse / (n - 2) / stt) : null;
  return { slopePerHour: slope * 3600, stdErrPerHour: stdErr === null ? null : stdErr * 3600, points: n };
}

/** The points of a series from the samples that have it. */
export function series(
  samples: readonly SoakSample[],
  read: (s: SoakSample) => number | null | undefined,
): { tS: number; value: number }[] {
  const out: { tS: number; value: number }[] = [];
  for (const s of samples) {
    const value = read(s);
    if (value !== null && value !== undefined && Number.isFinite(value)) out.push({ tS: s.tS, value });
  }
  return out;
}

/** The samples after warm-up: the second half of the run. */
export const judgedWindow = (samples: readonly SoakSample[], runS: number): SoakSample[] => samples.filter((s) => s.tS >= runS / 2);

export interface SoakLimits {
  /** Highest RSS growth after warm-up, MiB per hour. */
  rssSlopeMiBPerHour: number;
  lagP99Ms: number;
  /** Largest change of the fitted line over the judged window for a series to be flat. */
  handlesAllowance: number;
  bufferAllowance: number;
  /** A slope over a shorter window is reported but not judged: noise dominates it. */
  minJudgedMinutes: number;
}

/** Bounds for a fleet of `devices` (bench/README.md argues them). */
export function soakLimits(devices: number): SoakLimits {
  return {
    rssSlopeMiBPerHour: 5,
    lagP99Ms: 50,
    handlesAllowance: Math.max(20, Math.ceil(devices * 0.01)),
    bufferAllowance: Math.max(100, Math.ceil(devices * 0.01)),
    minJudgedMinutes: 10,
  };
}

export interface SeriesFigure {
  slopePerHour: number | null;
  stdErrPerHour: number | null;
  /** Change of the fitted line across the judged window. */
  drift: number | null;
  max: number | null;
  first: number | null;
  last: number | null;
}

export function figureOf(points: readonly { tS: number; value: number }[]): SeriesFigure {
  const fit = leastSquares(points);
  const span = points.length ? points[points.length - 1]!.tS - points[0]!.tS : 0;
  return {
    slopePerHour: fit?.slopePerHour ?? null,
    stdErrPerHour: fit?.stdErrPerHour ?? null,
    drift: fit ? (fit.slopePerHour * span) / 3600 : null,
    max: points.length ? Math.max(...points.map((p) => p.value)) : null,
    first: points[0]?.value ?? null,
    last: points[points.length - 1]?.value ?? null,
  };
}

/** Flat: the fitted line moves by no more than `allowance` across the window. Null: no data. */
export const isFlat = (f: SeriesFigure, allowance: number): boolean | null => (f.drift === null ? null : f.drift <= allowance);

export interface SoakVerdicts {
  rss: boolean | null;
  handles: boolean | null;
  lag: boolean | null;
  queue: boolean | null;
  buffers: Record<string, boolean | null>;
  commands: boolean;
}

export interface SoakFigures {
  judgedMinutes: number;
  rss: SeriesFigure;
  heap: SeriesFigure;
  handles: SeriesFigure;
  queue: SeriesFigure;
  faultsOpen: SeriesFigure;
  buffers: Record<string, SeriesFigure>;
  /** Highest 5 s p99 window after warm-up. */
  lagP99Ms: number | null;
}

export function soakFigures(samples: readonly SoakSample[], runS: number): SoakFigures {
  const judged = judgedWindow(samples, runS);
  const names = [...new Set(judged.flatMap((s) => Object.keys(s.buffers)))].sort();
  const lags = series(judged, (s) => s.lagP99Ms).map((p) => p.value);
  const span = judged.length ? judged[judged.length - 1]!.tS - judged[0]!.tS : 0;
  return {
    // To a tenth of a minute: a sample taken a little late must not leave a full window short.
    judgedMinutes: Math.round(span / 6) / 10,
    rss: figureOf(series(judged, (s) => s.rssMiB)),
    heap: figureOf(series(judged, (s) => s.heapUsedMiB)),
    handles: figureOf(series(judged, (s) => s.openFds)),
    queue: figureOf(series(judged, (s) => s.queueDepth)),
    faultsOpen: figureOf(series(judged, (s) => s.faultsOpen)),
    buffers: Object.fromEntries(names.map((b) => [b, figureOf(series(judged, (s) => s.buffers[b]))])),
    lagP99Ms: lags.length ? Math.max(...lags) : null,
  };
}

export interface LagContext {
  /** Judged 5 s windows over the limit, of all judged windows. */
  over: number;
  of: number;
  /** Mean cores other processes used around the windows over the limit, and around all. */
  otherCoresOver: number | null;
  otherCoresAll: number | null;
}

/** Whether the slow windows were the server's or the machine's: other processes' CPU around them. */
export function lagContext(samples: readonly SoakSample[], runS: number, limitMs: number): LagContext {
  const judged = judgedWindow(samples, runS).filter((s) => s.lagP99Ms !== null);
  const over = judged.filter((s) => (s.lagP99Ms ?? 0) > limitMs);
  const meanOther = (list: readonly SoakSample[]) => {
    const v = list.map((s) => s.otherCores).filter((c) => c !== undefined);
    return v.length ? Math.round((v.reduce((a, b) => a + b, 0) / v.length) * 100) / 100 : null;
  };
  return { over: over.length, of: judged.length, otherCoresOver: meanOther(over), otherCoresAll: meanOther(judged) };
}

/** `commands`: sent and lost; none sent is no evidence either way, so it fails. */
export function judgeSoak(f: SoakFigures, limits: SoakLimits, commands: { sent: number; lost: number }): SoakVerdicts {
  const longEnough = f.judgedMinutes >= limits.minJudgedMinutes;
  const rss = f.rss.slopePerHour === null || !longEnough ? null : f.rss.slopePerHour <= limits.rssSlopeMiBPerHour;
  return {
    rss,
    handles: isFlat(f.handles, limits.handlesAllowance),
    lag: f.lagP99Ms === null ? null : f.lagP99Ms <= limits.lagP99Ms,
    queue: isFlat(f.queue, limits.bufferAllowance),
    buffers: Object.fromEntries(Object.entries(f.buffers).map(([b, fig]) => [b, isFlat(fig, limits.bufferAllowance)])),
    commands: commands.sent > 0 && commands.lost === 0,
  };
}
