// The key inventory export: per terminal and slot, version, state and check value. The columns are
// selected one by one: the vault ciphertext (`sealed`) is never read, so it cannot be written.
import { and, asc, eq, gt, type SQL } from 'drizzle-orm';
import { devices, deviceState } from '../../../schemas/db.ts';
import type { KeyUsage } from '../../../schemas/keyCrypto/header.ts';
import { keys, type KeyState } from '../../../schemas/tables/keys.ts';
import type { Db } from '../../db/database.ts';
import { filterConditions } from '../../devices/deviceService.ts';
import { scopedDevice, type OrgScope } from '../../orgs/scope.ts';
import { keysetPages } from '../exportStream.ts';
import type { KeyExportRow } from '../rowSchemas.ts';

export interface KeyExportFilter {
  deviceId?: string;
  usage?: KeyUsage;
  slot?: string;
  state?: KeyState;
  /** The terminals' filters of the console's key inventory, as GET /v1/devices reads them. */
  q?: string;
  query?: string;
}

export interface KeyExportDeps {
  db: Db;
  pageSize: number;
  onPage: () => void;
}

function conditions(f: KeyExportFilter): SQL[] {
  const w: SQL[] = [];
  if (f.deviceId) w.push(eq(keys.deviceId, f.deviceId));
  if (f.usage) w.push(eq(keys.usage, f.usage));
  if (f.slot) w.push(eq(keys.slot, f.slot));
  if (f.state) w.push(eq(keys.state, f.state));
  w.push(...filterConditions({ q: f.q, query: f.query }));
  return w;
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

function readPage(db: Db, where: readonly SQL[], scope: OrgScope, size: number, after: string | undefined) {
  return (
    db
      .select({
        id: keys.id,
        deviceId: keys.deviceId,
        serial: devices.serial,
        usage: keys.usage,
        slot: keys.slot,
        version: keys.version,
        state: keys.state,
        kcv: keys.kcv,
        parentKeyId: keys.parentKeyId,
        rotationId: keys.rotationId,
        createdAt: keys.createdAt,
        installedAt: keys.installedAt,
        endedAt: keys.endedAt,
        endReason: keys.endReason,
        error: keys.error,
      })
      .from(keys)
      .innerJoin(devices, eq(devices.id, keys.deviceId))
      // A fleet query can ask for presence or reported firmware, which device_state holds.
      .leftJoin(deviceState, eq(deviceState.deviceId, devices.id))
      .where(and(...where, scopedDevice(scope, keys.deviceId), after === undefined ? undefined : gt(keys.id, after)))
      .orderBy(asc(keys.id))
      .limit(size)
  );
}

type StoredRow = Awaited<ReturnType<typeof readPage>>[number];

const exportRow = ({ error, ...k }: StoredRow): KeyExportRow => ({
  ...k,
  createdAt: k.createdAt.toISOString(),
  installedAt: iso(k.installedAt),
  endedAt: iso(k.endedAt),
  errorCode: error?.code ?? null,
});

/**
 * The export's pages. The filter is compiled here, before the first read: a fleet query that does
 * not parse is a 400 before anything is streamed (as for the device export).
 */
export function keyPages(deps: KeyExportDeps, filter: KeyExportFilter, scope: OrgScope): AsyncGenerator<KeyExportRow[]> {
  const where = conditions(filter);
  return rowsOf(
    keysetPages(
      (after: string | undefined) => readPage(deps.db, where, scope, deps.pageSize, after),
      (r) => r.id,
      deps.pageSize,
      deps.onPage,
    ),
  );
}

async function* rowsOf(pages: AsyncIterable<StoredRow[]>): AsyncGenerator<KeyExportRow[]> {
  for await (const rows of pages) yield rows.map(exportRow);
}
