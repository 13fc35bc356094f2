// GET /v1/fleet/summary: the numbers an overview needs, in one call.
import { and, eq, sql, type SQL } from 'drizzle-orm';
import { deviceState, devices } from '../../schemas/db.ts';
import { readers } from '../auth/roleSets.ts';
import type { Db } from '../db/database.ts';
import { fleetSummary } from './fleetSchemas.ts';
import type { LiveState } from '../telemetry/liveState.ts';
import { errorResponses, jsonResponse } from '../http/schemas.ts';
import type { AppRouter } from '../http/types.ts';
import { routesTagged } from '../http/taggedRoutes.ts';
import { scopedTo, seesAll } from '../orgs/scope.ts';

const summaryRoute = routesTagged('devices').get('/v1/fleet/summary', readers, 'Fleet overview: devices by status, online/offline, firmware versions, models', {
  responses: {
    200: jsonResponse(fleetSummary, 'summary'),
    ...errorResponses(401, 403),
  },
});

export function registerFleetRoutes(app: AppRouter, deps: { db: Db; live: LiveState }) {
  /** Online terminals of a subtree, by the live state of each of its enrolled terminals. */
  async function onlineIn(visible: SQL | undefined): Promise<number> {
    const rows = await deps.db.select({ id: devices.id }).from(devices).where(and(eq(devices.status, 'enrolled'), visible));
    return rows.reduce((count, r) => count + (deps.live.get(r.id)?.online ? 1 : 0), 0);
  }
  app.openapi(summaryRoute, async (c) => {
    const n = sql<number>`count(*)::int`;
    // The caller's subtree only (none for a root caller: the whole fleet, as before organisations).
    const principal = c.get('principal');
    const visible = scopedTo(principal, devices.orgId);
    const [byStatus, byModel, byFirmware] = await Promise.all([
      deps.db.select({ k: devices.status, n }).from(devices).where(visible).groupBy(devices.status),
      deps.db.select({ k: devices.model, n }).from(devices).where(visible).groupBy(devices.model),
      deps.db
        .select({ k: sql<string>`coalesce(${deviceState.fwVersion}, ${devices.fwVersion}, 'unknown')`, n })
        .from(devices)
        .leftJoin(deviceState, sql`${deviceState.deviceId} = ${devices.id}`)
        .where(and(sql`${devices.status} = 'enrolled'`, visible))
        .groupBy(sql`1`),
    ]);
    const toMap = (rows: { k: string; n: number }[]) => Object.fromEntries(rows.map((r) => [r.k, r.n]));
    const statuses = toMap(byStatus);
    const enrolled = statuses.enrolled ?? 0;
    // The live state counts every terminal online on any instance of a cluster (its holder shares
    // its presence); firmware comes from device_state, which each terminal's holder writes.
    const online = seesAll(principal) ? deps.live.onlineCount() : await onlineIn(visible);
    return c.json(
      {
        devices: byStatus.reduce((a, r) => a + r.n, 0),
        byStatus: statuses,
        online,
        offline: Math.max(0, enrolled - online),
        byFirmware: toMap(byFirmware),
        byModel: toMap(byModel),
      },
      200,
    );
  });
}
