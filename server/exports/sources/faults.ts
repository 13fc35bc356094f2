// The fault export: the faults of the caller's subtree matching the queue's filters, by id.
import { and, asc, eq, gt, inArray, isNull, type SQL } from 'drizzle-orm';
import { devices } from '../../../schemas/db.ts';
import type { FaultState, Severity } from '../../../schemas/faults.ts';
import { faults } from '../../../schemas/tables/faults.ts';
import type { Db } from '../../db/database.ts';
import { scopedDevice, type OrgScope } from '../../orgs/scope.ts';
import { keysetPages } from '../exportStream.ts';
import type { FaultExportRow } from '../rowSchemas.ts';

/** GET /v1/faults's filters (server/faults/faultQueries.ts), `assignee` already resolved from `me`. */
export interface FaultExportFilter {
  state?: FaultState[];
  severity?: Severity[];
  code?: string[];
  deviceId?: string;
  merchantId?: string;
  model?: string;
  /** A user id, or `none` for unassigned. */
  assignee?: string;
}

export interface FaultExportDeps {
  db: Db;
  pageSize: number;
  onPage: () => void;
}

function conditions(f: FaultExportFilter): SQL[] {
  const w: SQL[] = [];
  if (f.state?.length) w.push(inArray(faults.state, f.state));
  if (f.severity?.length) w.push(inArray(faults.severity, f.severity));
  if (f.code?.length) w.push(inArray(faults.code, f.code));
  if (f.deviceId) w.push(eq(faults.deviceId, f.deviceId));
  if (f.merchantId) w.push(eq(devices.merchantId, f.merchantId));
  if (f.model) w.push(eq(devices.model, f.model));
  if (f.assignee === 'none') w.push(isNull(faults.assigneeId));
  else if (f.assignee) w.push(eq(faults.assigneeId, f.assignee));
  return w;
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export async function* faultPages(deps: FaultExportDeps, filter: FaultExportFilter, scope: OrgScope): AsyncGenerator<FaultExportRow[]> {
  const read = (after: string | undefined) =>
    deps.db
      .select({ fault: faults, serial: devices.serial, model: devices.model, merchantId: devices.merchantId })
      .from(faults)
      .innerJoin(devices, eq(devices.id, faults.deviceId))
      .where(and(...conditions(filter), scopedDevice(scope, faults.deviceId), after === undefined ? undefined : gt(faults.id, after)))
      .orderBy(asc(faults.id))
      .limit(deps.pageSize);
  for await (const rows of keysetPages(read, (r) => r.fault.id, deps.pageSize, deps.onPage)) {
    yield rows.map(({ fault: f, serial, model, merchantId }) => ({
      id: f.id,
      deviceId: f.deviceId,
      serial,
      model,
      merchantId,
      code: f.code,
      title: f.title,
      severity: f.severity,
      state: f.state,
      detail: f.detail,
      openedAt: f.openedAt.toISOString(),
      acknowledgedAt: iso(f.acknowledgedAt),
      acknowledgedBy: f.acknowledgedBy,
      resolvedAt: iso(f.resolvedAt),
      resolvedBy: f.resolvedBy,
      resolution: f.resolution,
      assigneeId: f.assigneeId,
      updatedAt: f.updatedAt.toISOString(),
    }));
  }
}
