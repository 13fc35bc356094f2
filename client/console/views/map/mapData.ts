// The map page's data and its pure decisions: which terminals can be drawn (a location in their
// latest health sample), how each is coloured, which are in view, and how many markers share a
// spot on screen (grid clustering in pixels), so 10,000 terminals draw as a few hundred shapes.
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
  /** The mean of its members' screen positions. */
  x: number;
  y: number;
  items: T[];
}

/** Members of one square cell of `cellPx` pixels are one cluster; the order of the input is kept within a cluster. */
export function clusterByCell<T>(placed: Placed<T>[], cellPx: number): Cluster<T>[] {
  const cells = new Map<string, { sx: number; sy: number; items: T[] }>();
  for (const p of placed) {
    const key = `${Math.floor(p.x / cellPx)}:${Math.floor(p.y / cellPx)}`;
    const cell = cells.get(key);
    if (cell) {
      cell.sx += p.x;
      cell.sy += p.y;
      cell.items.push(p.item);
    } else cells.set(key, { sx: p.x, sy: p.y, items: [p.item] });
  }
  return [...cells.values()].map((c) => ({ x: c.sx / c.items.length, y: c.sy / c.items.length, items: c.items }));
}

/** Up to this many terminals in view are drawn one by one; more are clustered. */
export const DRAW_EACH_UP_TO = 300;
