// Relocation (移机) rule, pure (SPEC §6): a fix counts as out of the merchant's fence when it is
// farther than radiusM + the fix's own accuracyM from the merchant's location. One out-of-fence
// fix is a warning; `fixesToRelocate` in a row make the terminal `relocated`.
const EARTH_RADIUS_M = 6_371_008.8;

export interface Point {
  lat: number;
  lon: number;
}
export interface Fence extends Point {
  radiusM: number;
}
export interface Fix extends Point {
  accuracyM: number;
}
export interface GeoRule {
  fixesToRelocate: number;
  /** A fix vaguer than this says nothing either way (a cell-tower guess across a city). */
  maxAccuracyM: number;
}
export interface GeoTrack {
  consecutiveOut: number;
  relocated: boolean;
}
export type FixVerdict = 'inside' | 'outside' | 'inconclusive' | 'no_fix';
export type GeoOutcome = 'none' | 'warning' | 'relocated' | 'returned';

export const DEFAULT_MAX_ACCURACY_M = 5000;
export const freshTrack = (): GeoTrack => ({ consecutiveOut: 0, relocated: false });

const rad = (deg: number) => (deg * Math.PI) / 180;

/** Great-circle distance (haversine). Longitudes wrap, so ±180° neighbours are close. */
export function distanceM(a: Point, b: Point): number {
  const dLat = rad(b.lat - a.lat);
  const dLon = rad(b.lon - a.lon);
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(rad(a.lat)) * Math.cos(rad(b.lat)) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(h)));
}

export function classifyFix(
  fence: Fence,
  fix: Fix | undefined,
  maxAccuracyM = DEFAULT_MAX_ACCURACY_M,
): { verdict: FixVerdict; distanceM?: number } {
  if (!fix) return { verdict: 'no_fix' };
  const d = distanceM(fence, fix);
  if (!Number.isFinite(fix.accuracyM) || fix.accuracyM > maxAccuracyM) return { verdict: 'inconclusive', distanceM: d };
  return { verdict: d > fence.radiusM + fix.accuracyM ? 'outside' : 'inside', distanceM: d };
}

export interface Assessment {
  track: GeoTrack;
  verdict: FixVerdict;
  outcome: GeoOutcome;
  distanceM?: number;
}

/**
 * The next track and what to do about it. A missing or vague fix changes nothing (it neither
 * breaks nor extends a run of out-of-fence fixes); an exempt terminal is never relocated.
 */
export function assessFix(track: GeoTrack, fence: Fence, fix: Fix | undefined, rule: GeoRule, exempt = false): Assessment {
  const { verdict, distanceM } = classifyFix(fence, fix, rule.maxAccuracyM);
  const base = distanceM === undefined ? {} : { distanceM };
  if (exempt) return { track: freshTrack(), verdict, outcome: track.relocated ? 'returned' : 'none', ...base };
  if (verdict === 'no_fix' || verdict === 'inconclusive') return { track, verdict, outcome: 'none', ...base };
  if (verdict === 'inside') {
    return { track: freshTrack(), verdict, outcome: track.relocated ? 'returned' : 'none', ...base };
  }
  const consecutiveOut = track.consecutiveOut + 1;
  if (track.relocated) return { track: { consecutiveOut, relocated: true }, verdict, outcome: 'none', ...base };
  if (consecutiveOut >= Math.max(1, rule.fixesToRelocate))
    return { track: { consecutiveOut, relocated: true }, verdict, outcome: 'relocated', ...base };
  return { track: { consecutiveOut, relocated: false }, verdict, outcome: 'warning', ...base };
}
