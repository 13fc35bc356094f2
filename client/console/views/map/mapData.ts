// The map page's data and its pure decisions: which terminals can be drawn (a location in their
// latest health sample), how each is coloured, which are in view, and how many markers share a
// spot on screen (clustering in pixels), so 10,000 terminals draw as a few hundred shapes.
import { z } from 'zod';
import { healthSample } from '../../../../schemas/wire.ts';
import { device } from '../../../../server/devices/deviceRoutes.ts';
import { merchantOut } from '../../../../server/merchants/apiSchemas.ts';
import { page } from '../../../../server/http/schemas.ts';

// The Device schema is open (looseObject): the members of its answer the map reads.
export const mapDevice = device.extend({ lastSeenAt: z.string().nullish(), health: healthSample.pick({ location: true }).nullish() });
export const mapDevicePage = page(mapDevice);
export const merchantPage = page(merchantOut);
export type MapDevice = z.infer<typeof mapDevice>;
export type Merchant = z.infer<typeof merchantOut>;

export type Presence = 'online' | 'offline' | 'never';

export interface TerminalPoint {
  id: string;
  serial: string;
  status: MapDevice['status'];
  merchantId: string | null;
  presence: Presence;
  lat: number;
  lon: number;
}

export interface FencePoint {
  merchantId: string;
  name: string;
  status: Merchant['status'];
  lat: number;
  lon: number;
  radiusM: number;
}

export interface Bounds {
  south: number;
  west: number;
  north: number;
  east: number;
}

/** A terminal with no last-seen time never connected: "not yet connected", not "offline". */
export const presenceOf = (d: Pick<MapDevice, 'online' | 'lastSeenAt'>): Presence =>
  d.online ? 'online' : d.lastSeenAt ? 'offline' : 'never';

export const presenceLabel: Record<Presence, string> = { online: 'online', offline: 'offline', never: 'not yet connected' };

/** The terminals that report a location; the others cannot be placed and are counted apart. */
export function terminalPoints(devices: MapDevice[]): TerminalPoint[] {
  return devices.flatMap((d) => {
    const at = d.health?.location;
    if (!at) return [];
    return [{ id: d.id, serial: d.serial, status: d.status, merchantId: d.merchantId, presence: presenceOf(d), lat: at.lat, lon: at.lon }];
  });
}

export const fencePoint = (m: Merchant): FencePoint => ({
  merchantId: m.id,
  name: m.name,
  status: m.status,
  lat: m.location.lat,
  lon: m.location.lon,
  radiusM: m.radiusM,
});

/** Longitudes of a view that crossed the antimeridian run past ±180; a point is compared in every copy of the world. */
export function inBounds(p: { lat: number; lon: number }, b: Bounds): boolean {
  if (p.lat < b.south || p.lat > b.north) return false;
  if (b.east - b.west >= 360) return true;
  for (const shift of [-360, 0, 360]) if (p.lon + shift >= b.west && p.lon + shift <= b.east) return true;
  return false;
}

export interface Placed<T> {
  x: number;
  y: number;
  item: T;
}
export interface Cluster<T> {
  /** Where its first member is: every member lies within the radius of it. */
  seedX: number;
  seedY: number;
  /** The mean of its members' screen positions, where the cluster is drawn. */
  x: number;
  y: number;
  items: T[];
}

/**
 * Greedy clustering on screen: a point joins the first cluster whose seed lies within `radiusPx`,
 * else it seeds a new one; so no two seeds are within the radius of each other and two markers
 * that would overlap always merge (a fixed grid splits neighbours across a cell border). Seeds
 * are kept in a grid of radius-sized cells, so a point is compared with the seeds of 9 cells only.
 */
export function clusterNear<T>(placed: Placed<T>[], radiusPx: number): Cluster<T>[] {
  type Growing = Cluster<T> & { sx: number; sy: number };
  const grid = new Map<string, Growing[]>();
  const clusters: Growing[] = [];
  const cellKey = (cx: number, cy: number) => `${cx}:${cy}`;
  for (const p of placed) {
    const cx = Math.floor(p.x / radiusPx);
    const cy = Math.floor(p.y / radiusPx);
    let home: Growing | undefined;
    for (let dx = -1; dx <= 1 && !home; dx++)
      for (let dy = -1; dy <= 1 && !home; dy++)
        home = grid.get(cellKey(cx + dx, cy + dy))?.find((c) => Math.hypot(c.seedX - p.x, c.seedY - p.y) <= radiusPx);
    if (home) {
      home.sx += p.x;
      home.sy += p.y;
      home.items.push(p.item);
      continue;
    }
    const seeded: Growing = { seedX: p.x, seedY: p.y, x: 0, y: 0, sx: p.x, sy: p.y, items: [p.item] };
    const bucket = grid.get(cellKey(cx, cy));
    if (bucket) bucket.push(seeded);
    else grid.set(cellKey(cx, cy), [seeded]);
    clusters.push(seeded);
  }
  return clusters.map(({ seedX, seedY, sx, sy, items }) => ({ seedX, seedY, x: sx / items.length, y: sy / items.length, items }));
}

/**
 * The clustering radius for this many terminals around the view: markers that would overlap
 * (a marker is 18 px wide) always merge; past a few hundred, a wider radius keeps the shapes drawn
 * to a few hundred however many terminals there are.
 */
export const clusterRadiusPx = (count: number) => (count <= 300 ? 18 : 60);
