// The console map's pure decisions (client/console/views/map/mapData.ts), without a browser:
// which terminals can be placed and in which colour, which are in a view (also one across the
// antimeridian), and the grid clustering that keeps 10,000 terminals to a few hundred shapes.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { clusterNear, inBounds, mapDevice, presenceOf, terminalPoints, type MapDevice } from '../../client/console/views/map/mapData.ts';
import { withPresence } from '../../client/console/views/map/useLivePresence.ts';

/** A device as GET /v1/devices answers it, parsed as the page parses it. */
const listed = (over: Record<string, unknown>): MapDevice =>
  mapDevice.parse({
    id: 'dev_1',
    serial: 'S-1',
    model: 'A920',
    status: 'enrolled',
    online: false,
    merchantId: null,
    orgId: 'org_root',
    ...over,
  });

describe('console map data', () => {
  it('places only terminals whose latest health carries a location, coloured by presence', () => {
    const at = { lat: 48.85, lon: 2.35, accuracyM: 10, source: 'gps' as const };
    const points = terminalPoints([
      listed({ id: 'a', online: true, lastSeenAt: '2026-12-04T10:00:00Z', health: { location: at } }),
      listed({ id: 'b', online: false, lastSeenAt: '2026-12-04T09:00:00Z', health: { location: at }, merchantId: 'mer_1' }),
      listed({ id: 'c', online: false, lastSeenAt: null, health: { location: at } }),
      listed({ id: 'd', online: true, lastSeenAt: '2026-12-04T10:00:00Z', health: {} }),
      listed({ id: 'e', health: null }),
    ]);
    expect(points.map((p) => [p.id, p.presence, p.merchantId])).toEqual([
      ['a', 'online', null],
      ['b', 'offline', 'mer_1'],
      ['c', 'never', null],
    ]);
    expect(points[0]).toMatchObject({ lat: 48.85, lon: 2.35 });
    expect(presenceOf({ online: false, lastSeenAt: undefined })).toBe('never');
  });

  it('keeps the device answer’s other members out of what the map holds', () => {
    const parsed = listed({
      health: {
        location: { lat: 1, lon: 2, accuracyM: 3, source: 'cell' },
        battery: { level: 50, charging: false },
      },
    });
    expect(parsed.health).toEqual({ location: { lat: 1, lon: 2, accuracyM: 3, source: 'cell' } });
  });

  it('tells whether a point is in view, also when the view crosses the antimeridian', () => {
    const paris = { lat: 48.85, lon: 2.35 };
    expect(inBounds(paris, { south: 40, west: -5, north: 52, east: 10 })).toBe(true);
    expect(inBounds(paris, { south: 49, west: -5, north: 52, east: 10 })).toBe(false);
    expect(inBounds(paris, { south: 40, west: 5, north: 52, east: 10 })).toBe(false);
    // A Pacific view panned east past 180°: Fiji at -179.9 is drawn at 180.1.
    const fiji = { lat: -17.7, lon: -179.9 };
    expect(inBounds(fiji, { south: -30, west: 170, north: 0, east: 190 })).toBe(true);
    expect(inBounds(fiji, { south: -30, west: 150, north: 0, east: 175 })).toBe(false);
    expect(inBounds(paris, { south: -90, west: -400, north: 90, east: 400 })).toBe(true);
  });

  it('clusters every point exactly once, each within the radius of its seed, no two seeds within it', () => {
    const coords = fc.array(
      fc.record({ x: fc.double({ min: -2000, max: 2000, noNaN: true }), y: fc.double({ min: -2000, max: 2000, noNaN: true }) }),
      {
        maxLength: 300,
      },
    );
    fc.assert(
      fc.property(coords, fc.integer({ min: 8, max: 128 }), (xy, radius) => {
        const placed = xy.map((p, item) => ({ ...p, item }));
        const clusters = clusterNear(placed, radius);
        expect(clusters.flatMap((c) => c.items).sort((a, b) => a - b)).toEqual(placed.map((p) => p.item));
        for (const c of clusters) {
          for (const i of c.items) expect(Math.hypot(placed[i]!.x - c.seedX, placed[i]!.y - c.seedY)).toBeLessThanOrEqual(radius);
          const meanX = c.items.reduce((n, i) => n + placed[i]!.x, 0) / c.items.length;
          expect(c.x).toBeCloseTo(meanX, 6);
          for (const other of clusters)
            if (other !== c) expect(Math.hypot(other.seedX - c.seedX, other.seedY - c.seedY)).toBeGreaterThan(radius);
        }
      }),
    );
  });

  it('merges two markers that would overlap also across what a grid would have as a cell border', () => {
    const clusters = clusterNear(
      [
        { x: 655, y: 279.6, item: 'a' },
        { x: 656, y: 280.2, item: 'b' },
        { x: 700, y: 280, item: 'c' },
      ],
      18,
    );
    expect(clusters.map((c) => c.items)).toEqual([['a', 'b'], ['c']]);
  });

  it('turns 10,000 terminals on one screen into a couple of hundred clusters at most', () => {
    const placed = Array.from({ length: 10_000 }, (_, i) => ({ x: (i * 37) % 640, y: (i * 91) % 480, item: i }));
    const clusters = clusterNear(placed, 60);
    // Seeds are more than 60 px apart, so a square of 60/√2 px holds at most one.
    const side = 60 / Math.SQRT2;
    expect(clusters.length).toBeLessThanOrEqual(Math.ceil(640 / side + 1) * Math.ceil(480 / side + 1));
    expect(clusters.reduce((n, c) => n + c.items.length, 0)).toBe(10_000);
  });

  it('applies the presence the stream told, keeping unchanged points as they were', () => {
    const at = { lat: 1, lon: 2, accuracyM: 3, source: 'gps' as const };
    const points = terminalPoints([
      listed({ id: 'a', online: true, lastSeenAt: '2026-12-04T10:00:00Z', health: { location: at } }),
      listed({ id: 'b', online: false, lastSeenAt: null, health: { location: at } }),
    ]);
    expect(withPresence(points, {})).toBe(points);
    const next = withPresence(points, { b: 'online', a: 'online', zzz: 'offline' });
    expect(next.map((p) => p.presence)).toEqual(['online', 'online']);
    expect(next[0]).toBe(points[0]);
    expect(points[1]!.presence).toBe('never');
  });
});
