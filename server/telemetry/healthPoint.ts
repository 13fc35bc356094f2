// A health sample reduced to the numbers the charts draw: one shape for the history API and the
// live `device.health` events.
import { z } from '@hono/zod-openapi';
import type { HealthSample } from '../../schemas/wire.ts';

export const healthPoint = z
  .object({
    ts: z.string().openapi({ format: 'date-time' }),
    battery: z.number().nullable(),
    charging: z.boolean().nullable(),
    temperatureC: z.number().nullable(),
    rssi: z.number().nullable(),
    signalType: z.string().nullable(),
    storageFreePct: z.number().nullable(),
  })
  .openapi('HealthPoint');

export type HealthPoint = z.infer<typeof healthPoint>;

/** The answer of GET /v1/devices/{id}/health-history; here, beside the point, so the console parses it without the route's server imports. */
export const healthHistoryAnswer = z.object({
  deviceId: z.string(),
  from: z.string(),
  to: z.string(),
  /** Width of the thinning buckets in ms; null when every kept sample is returned. */
  bucketMs: z.number().nullable(),
  points: z.array(healthPoint),
});

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

export function toPoint(ts: Date, s: Partial<HealthSample>): HealthPoint {
  const storage = s.storage;
  return {
    ts: ts.toISOString(),
    battery: num(s.battery?.level),
    charging: typeof s.battery?.charging === 'boolean' ? s.battery.charging : null,
    temperatureC: num(s.temperatureC),
    rssi: num(s.signal?.rssi),
    signalType: s.signal?.type ?? null,
    storageFreePct: storage && storage.totalMb > 0 ? Math.round((storage.freeMb / storage.totalMb) * 1000) / 10 : null,
  };
}
