// The location predicates, for the evaluator; the compiler writes the same formulas in SQL.
import type { LatLon } from '../../../schemas/fleetQuery.ts';
import { distanceM } from '../../merchants/geofence.ts';

export const withinRadius = (p: LatLon, center: LatLon, radiusM: number) => distanceM(center, p) <= radiusM;

/** Inclusive; a box whose west edge is east of its east edge crosses the antimeridian. */
export function inBbox(p: LatLon, b: { south: number; west: number; north: number; east: number }): boolean {
  if (p.lat < b.south || p.lat > b.north) return false;
  return b.west <= b.east ? p.lon >= b.west && p.lon <= b.east : p.lon >= b.west || p.lon <= b.east;
}

/**
 * Nonzero winding over (lon, lat) as plane coordinates: what PostgreSQL's `polygon @> point`
 * decides (its crossing count is signed), so a self-crossing polygon means the same in both.
 */
export function inPolygon(p: LatLon, points: readonly LatLon[]): boolean {
  let winding = 0;
  for (let i = 0; i < points.length; i++) {
    const a = points[i]!;
    const b = points[(i + 1) % points.length]!;
    const side = (b.lon - a.lon) * (p.lat - a.lat) - (p.lon - a.lon) * (b.lat - a.lat);
    if (a.lat <= p.lat) {
      if (b.lat > p.lat && side > 0) winding++;
    } else if (b.lat <= p.lat && side < 0) winding--;
  }
  return winding !== 0;
}
