// What a page of the device list carries besides the devices: each listed terminal's open faults
// (one query over the page's ids, never one per row) and, on the first page, how many terminals
// match the filters in all.
import { and, asc, desc, eq, inArray, ne, sql, type SQL } from 'drizzle-orm';
import { deviceState, devices } from '../../schemas/db.ts';
import type { Severity } from '../../schemas/faults.ts';
import { faults } from '../../schemas/tables/faults.ts';
import type { Db } from '../db/database.ts';

export interface OpenFaultBrief {
  code: string;
  severity: Severity;
  title: string;
}

/** Unresolved faults of these terminals, each terminal's worst first (then oldest). */
export async function openFaultsOf(db: Db, deviceIds: string[]): Promise<Map<string, OpenFaultBrief[]>> {
  const byDevice = new Map<string, OpenFaultBrief[]>(deviceIds.map((id) => [id, []]));
  if (!deviceIds.length) return byDevice;
  const rows = await db
    .select({ deviceId: faults.deviceId, code: faults.code, severity: faults.severity, title: faults.title })
    .from(faults)
    .where(and(inArray(faults.deviceId, deviceIds), ne(faults.state, 'resolved')))
    .orderBy(desc(faults.severityRank), asc(faults.openedAt), asc(faults.id));
  for (const { deviceId, ...brief } of rows) byDevice.get(deviceId)?.push(brief);
  return byDevice;
}

/** Terminals matching the list's conditions (over `devices` left-joined with `device_state`, as the list reads). */
export async function countDevices(db: Db, where: SQL[]): Promise<number> {
  const [row] = await db
    .select({ n: sql<number>`count(*)::int` })
    .from(devices)
    .leftJoin(deviceState, eq(deviceState.deviceId, devices.id))
    .where(and(...where));
  return row?.n ?? 0;
}
