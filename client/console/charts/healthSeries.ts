// The device page's health samples as the charts keep them, pure: the period drawn (fitted to the
// samples when they cover less than half of the chosen range), and live samples merged with the
// history without duplicates, the oldest dropped as the period slides.
import type { HealthPoint } from '../../../server/telemetry/healthPoint.ts';

/** A sample shown, and whether it came from the stream (such a one may be newer than the history loaded). */
export type ChartSample = HealthPoint & { live?: boolean };

/** The narrowest period a fitted chart shows, so two samples a second apart are not a wall. */
const MIN_FITTED_MS = 10 * 60_000;

export interface ChartWindow {
  from: number;
  to: number;
  fitted: boolean;
}

/**
 * The period to draw: the chosen range ending at `to`, or, when the samples cover less than half
 * of it, from a little before the first sample (10 % of what they cover, at least 10 minutes in all).
 */
export function chartWindow(rangeMs: number, to: number, firstTs: number | undefined): ChartWindow {
  const from = to - rangeMs;
  if (firstTs === undefined || to - firstTs >= rangeMs / 2) return { from, to, fitted: false };
  const span = Math.max((to - firstTs) * 1.1, MIN_FITTED_MS);
  return { from: Math.max(from, to - span), to, fitted: true };
}

export function spanText(ms: number): string {
  const min = Math.max(1, Math.round(ms / 60_000));
  return min < 120 ? `${min} minutes` : `${Math.round(min / 60)} hours`;
}

/** The history loaded, followed by the live samples newer than its last one (the history may not have them yet). */
export function withPendingLive(history: readonly HealthPoint[], shown: readonly ChartSample[]): ChartSample[] {
  const last = history[history.length - 1];
  const latest = last ? Date.parse(last.ts) : -Infinity;
  return [...history, ...shown.filter((p) => p.live && Date.parse(p.ts) > latest)];
}

/**
 * Appends a live sample (in place) unless it is not newer than the last one shown, and slides the
 * period to end at `now` (or at the sample, if the terminal's clock is ahead): drops what slid out
 * and keeps at most `keep` samples, so a page open for hours stays small. Returns the period's new
 * end, or null when the sample was not taken.
 */
export function appendLive(samples: ChartSample[], point: HealthPoint, rangeMs: number, now: number, keep: number): number | null {
  const t = Date.parse(point.ts);
  const last = samples[samples.length - 1];
  if (Number.isNaN(t) || (last && Date.parse(last.ts) >= t)) return null;
  samples.push({ ...point, live: true });
  const to = Math.max(now, t);
  while (samples.length > 1 && Date.parse(samples[0]?.ts ?? '') < to - rangeMs) samples.shift();
  if (samples.length > keep) samples.splice(0, samples.length - keep);
  return to;
}
