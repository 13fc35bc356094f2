// GET /v1/devices/{id}/health-history: the kept (downsampled) health samples of one terminal over
// a time range, reduced to the numbers charts draw. Long ranges are thinned on the database to at
// most `maxPoints` points (the first sample of each equal-width bucket), so a year of history never
// reaches the browser whole.
import { z } from '@hono/zod-openapi';
import { and, asc, eq, gte, lte, sql } from 'drizzle-orm';
import { healthHistory } from '../../schemas/db.ts';
import type { HealthSample } from '../../schemas/wire.ts';
import { readers } from '../auth/roleSets.ts';
import type { Db } from '../db/database.ts';
import type { DeviceService } from '../devices/deviceService.ts';
import { badRequest } from '../errors.ts';
import { errorResponses, jsonResponse, pathParams } from '../http/schemas.ts';
import { routesTagged } from '../http/taggedRoutes.ts';
import type { AppRouter } from '../http/types.ts';
import { healthHistoryAnswer, toPoint } from './healthPoint.ts';

const DAY_MS = 24 * 3600_000;
const MAX_RANGE_MS = 366 * DAY_MS;

const historyRoute = routesTagged('devices').get('/v1/devices/{id}/health-history', readers, 'Health history of a terminal (battery, temperature, signal) over a time range, oldest first', {
  request: {
    params: pathParams('id'),
    query: z.object({
      from: z.iso.datetime({ offset: true }).optional().openapi({ description: 'start (ISO 8601); default: 24 hours before `to`' }),
      to: z.iso.datetime({ offset: true }).optional().openapi({ description: 'end (ISO 8601); default: now' }),
      maxPoints: z.coerce.number().int().min(10).max(5000).default(500).openapi({ description: 'thin to at most this many points' }),
    }),
  },
  responses: {
    200: jsonResponse(healthHistoryAnswer, 'health points'),
    ...errorResponses(400, 401, 403, 404),
  },
});

export function registerHealthHistoryRoutes(app: AppRouter, deps: { db: Db; devices: Pick<DeviceService, 'byId'> }) {
  app.openapi(historyRoute, async (c) => {
    const { id } = c.req.valid('param');
    const q = c.req.valid('query');
    const to = q.to ? new Date(q.to) : new Date();
    const from = q.from ? new Date(q.from) : new Date(to.getTime() - DAY_MS);
    if (from.getTime() >= to.getTime())
      throw badRequest('validation_failed', '`from` must be before `to`', [{ path: 'from', message: 'must be before to' }]);
    if (to.getTime() - from.getTime() > MAX_RANGE_MS)
      throw badRequest('validation_failed', 'range longer than 366 days', [{ path: 'from', message: 'range too long' }]);
    await deps.devices.byId(id);

    const inRange = and(eq(healthHistory.deviceId, id), gte(healthHistory.ts, from), lte(healthHistory.ts, to));
    const [counted] = await deps.db
      .select({ n: sql<number>`count(*)::int` })
      .from(healthHistory)
      .where(inRange);
    const total = counted?.n ?? 0;
    let rows: { ts: Date; sample: HealthSample }[];
    let bucketMs: number | null = null;
    if (total <= q.maxPoints) {
      rows = await deps.db
        .select({ ts: healthHistory.ts, sample: healthHistory.sample })
        .from(healthHistory)
        .where(inRange)
        .orderBy(asc(healthHistory.ts));
    } else {
      bucketMs = Math.ceil((to.getTime() - from.getTime()) / q.maxPoints);
      // Literal numbers (computed here, not user text): DISTINCT ON must match ORDER BY exactly,
      // which two sets of bound parameters would not.
      const bucket = sql`floor((extract(epoch from ${healthHistory.ts}) * 1000 - ${sql.raw(String(from.getTime()))}) / ${sql.raw(String(bucketMs))})`;
      rows = await deps.db
        .selectDistinctOn([bucket], { ts: healthHistory.ts, sample: healthHistory.sample })
        .from(healthHistory)
        .where(inRange)
        .orderBy(bucket, asc(healthHistory.ts));
    }
    return c.json(
      {
        deviceId: id,
        from: from.toISOString(),
        to: to.toISOString(),
        bucketMs,
        points: rows.map((r) => toPoint(r.ts, r.sample)),
      },
      200,
    );
  });
}
