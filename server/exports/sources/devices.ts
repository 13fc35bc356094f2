// The device export: every terminal of the caller's subtree matching the list's filters, with its
// organisation, merchant and binding, presence, a health summary, open faults and key versions.
import { and, asc, eq, gt, isNull, sql, type SQL } from 'drizzle-orm';
import { devices, deviceState, organisations } from '../../../schemas/db.ts';
import { faults } from '../../../schemas/tables/faults.ts';
import { keys } from '../../../schemas/tables/keys.ts';
import { merchantBindings, merchants } from '../../../schemas/tables/merchants.ts';
import { deviceApps } from '../../../schemas/tables/apps.ts';
import { deviceParameters } from '../../../schemas/tables/parameters.ts';
import type { HealthSample } from '../../../schemas/wire.ts';
import type { Db } from '../../db/database.ts';
import { filterConditions, type DeviceFilter } from '../../devices/deviceService.ts';
import type { OrgScope } from '../../orgs/scope.ts';
import { scopedTo } from '../../orgs/scope.ts';
import { DRIFT_ALERT } from '../../parameters/driftWatch.ts';
import type { LiveState } from '../../telemetry/liveState.ts';
import { keysetPages } from '../exportStream.ts';
import type { DeviceExportRow } from '../rowSchemas.ts';

export interface DeviceExportDeps {
  db: Db;
  live: LiveState;
  pageSize: number;
  onPage: () => void;
}

const iso = (d: Date | null | undefined) => (d ? d.toISOString() : null);
const isoMs = (ms: number | undefined) => (ms ? new Date(ms).toISOString() : null);

function readPage(db: Db, where: readonly SQL[], scope: OrgScope, size: number, after: string | undefined) {
  return db
    .select({
      id: devices.id,
      serial: devices.serial,
      model: devices.model,
      status: devices.status,
      orgId: devices.orgId,
      orgName: organisations.name,
      merchantId: devices.merchantId,
      merchantName: merchants.name,
      boundSince: merchantBindings.createdAt,
      fwVersion: sql<string | null>`coalesce(${deviceState.fwVersion}, ${devices.fwVersion})`,
      online: deviceState.online,
      lastSeenAt: deviceState.lastSeenAt,
      health: deviceState.health,
      labels: devices.labels,
      openFaults: sql<number>`(select count(*)::int from ${faults} where ${faults.deviceId} = ${devices.id} and ${faults.state} <> 'resolved')`,
      appVersions: sql<Record<
        string,
        string
      > | null>`(select jsonb_object_agg(${deviceApps.packageName}, ${deviceApps.version}) from ${deviceApps} where ${deviceApps.deviceId} = ${devices.id})`,
      parametersTemplateId: deviceParameters.templateId,
      parametersVersion: deviceParameters.version,
      parametersDrift: sql<boolean>`exists (select 1 from ${faults} where ${faults.deviceId} = ${devices.id} and ${faults.code} = ${DRIFT_ALERT} and ${faults.state} <> 'resolved')`,
      keyVersions: sql<Record<
        string,
        number
      > | null>`(select jsonb_object_agg(s.slot, s.version) from (select ${keys.slot} as slot, max(${keys.version}) as version from ${keys} where ${keys.deviceId} = ${devices.id} and ${keys.state} = 'installed' group by ${keys.slot}) s)`,
    })
    .from(devices)
    .leftJoin(deviceState, eq(deviceState.deviceId, devices.id))
    .leftJoin(organisations, eq(organisations.id, devices.orgId))
    .leftJoin(merchants, eq(merchants.id, devices.merchantId))
    .leftJoin(deviceParameters, eq(deviceParameters.deviceId, devices.id))
    .leftJoin(merchantBindings, and(eq(merchantBindings.deviceId, devices.id), isNull(merchantBindings.closedAt)))
    .where(and(...where, scopedTo(scope, devices.orgId), after === undefined ? undefined : gt(devices.id, after)))
    .orderBy(asc(devices.id))
    .limit(size);
}

type StoredRow = Awaited<ReturnType<typeof readPage>>[number];

/** Presence and health as GET /v1/devices shows them: this instance's memory first, the stored copy else. */
function exportRow(r: StoredRow, live: LiveState): DeviceExportRow {
  const mem = live.get(r.id);
  const health: HealthSample | null = (mem && !mem.fromPeer ? mem.health : undefined) ?? r.health ?? null;
  return {
    id: r.id,
    serial: r.serial,
    model: r.model,
    status: r.status,
    orgId: r.orgId,
    orgName: r.orgName,
    merchantId: r.merchantId,
    merchantName: r.merchantName,
    boundSince: iso(r.boundSince),
    fwVersion: mem?.fwVersion ?? r.fwVersion,
    online: mem?.online ?? r.online ?? false,
    lastSeenAt: isoMs(mem?.lastSeenMs) ?? iso(r.lastSeenAt),
    batteryLevel: health?.battery?.level ?? null,
    charging: health?.battery?.charging ?? null,
    temperatureC: health?.temperatureC ?? null,
    printer: health?.printer?.status ?? null,
    signalType: health?.signal?.type ?? null,
    signalRssi: health?.signal?.rssi ?? null,
    storageFreeMb: health?.storage?.freeMb ?? null,
    tamper: health?.tamper ?? null,
    healthAt: health ? isoMs(health.ts) : null,
    openFaults: r.openFaults,
    labels: r.labels,
    keyVersions: r.keyVersions ?? {},
    appVersions: r.appVersions ?? {},
    parametersTemplateId: r.parametersTemplateId,
    parametersVersion: r.parametersVersion,
    parametersDrift: r.parametersDrift,
  };
}

/**
 * The export's pages. The filter is compiled here, before the first read: a fleet query that does
 * not parse is a 400 before anything is streamed, and every page asks the same question (a
 * relative time in a query, `lastSeen < 7d`, is taken once).
 */
export function devicePages(deps: DeviceExportDeps, filter: DeviceFilter, scope: OrgScope): AsyncGenerator<DeviceExportRow[]> {
  const where = filterConditions(filter);
  return rowsOf(
    keysetPages(
      (after: string | undefined) => readPage(deps.db, where, scope, deps.pageSize, after),
      (r) => r.id,
      deps.pageSize,
      deps.onPage,
    ),
    deps.live,
  );
}

async function* rowsOf(pages: AsyncIterable<StoredRow[]>, live: LiveState): AsyncGenerator<DeviceExportRow[]> {
  for await (const rows of pages) yield rows.map((r) => exportRow(r, live));
}
