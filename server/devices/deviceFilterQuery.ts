// The device list's filters as a query string carries them, read alike by GET /v1/devices and
// GET /v1/exports/devices.
import { z } from '@hono/zod-openapi';
import { deviceStatuses } from '../../schemas/db.ts';
import { MAX_QUERY_LENGTH } from '../../schemas/fleetQuery.ts';
import type { DeviceFilter } from './deviceService.ts';

export const deviceFilterQuery = z.object({
  status: z.enum(deviceStatuses).optional(),
  online: z.enum(['true', 'false']).optional(),
  model: z.string().max(64).optional(),
  fwVersion: z.string().max(64).optional(),
  merchantId: z.string().max(64).optional(),
  q: z.string().max(100).optional().openapi({ description: 'free text: serial, id or model contains' }),
  query: z.string().min(1).max(MAX_QUERY_LENGTH).optional().openapi({
    description: 'a fleet query (docs/groups-and-filters.md); 400 query_invalid with {position, expected} when it does not parse',
  }),
});

export function deviceFilterOf(q: z.output<typeof deviceFilterQuery>): Omit<DeviceFilter, 'scope'> {
  const { online, ...rest } = q;
  return { ...rest, online: online === undefined ? undefined : online === 'true' };
}
