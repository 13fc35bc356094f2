// The fault export: the faults of the caller's subtree matching the queue's filters, by id.
import { and, asc, eq, gt } from 'drizzle-orm';
import { devices } from '../../../schemas/db.ts';
import { faults } from '../../../schemas/tables/faults.ts';
import type { Db } from '../../db/database.ts';
import { faultConditions, type FaultFilter } from '../../faults/faultQueries.ts';
import { scopedDevice, type OrgScope } from '../../orgs/scope.ts';
import { keysetPages } from '../exportStream.ts';
import type { FaultExportRow } from '../rowSchemas.ts';

/** GET /v1/faults's filters, `assignee` already resolved from `me`. */
export type FaultExportFilter = Omit<FaultFilter, 'scope'>;

export interface FaultExportDeps {
  db: Db;
  pageSize: number;
  onPage: () => void;
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export async function* faultPages(deps: FaultExportDeps, filter: FaultExportFilter, scope: OrgScope): AsyncGenerator<FaultExportRow[]> {
  const read = (after: string | undefined) =>
    deps.db
      .select({ fault: faults, serial: devices.serial, model: devices.model, merchantId: devices.merchantId })
      .from(faults)
      .innerJoin(devices, eq(devices.id, faults.deviceId))
      .where(and(...faultConditions(filter), scopedDevice(scope, faults.deviceId), after === undefined ? undefined : gt(faults.id, after)))
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
