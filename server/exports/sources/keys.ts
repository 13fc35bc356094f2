// The key inventory export: per terminal and slot, version, state and check value. The columns are
// selected one by one: the vault ciphertext (`sealed`) is never read, so it cannot be written.
import { and, asc, eq, gt, type SQL } from 'drizzle-orm';
import { devices } from '../../../schemas/db.ts';
import type { KeyUsage } from '../../../schemas/keyCrypto/header.ts';
import { keys, type KeyState } from '../../../schemas/tables/keys.ts';
import type { Db } from '../../db/database.ts';
import { scopedDevice, type OrgScope } from '../../orgs/scope.ts';
import { keysetPages } from '../exportStream.ts';
import type { KeyExportRow } from '../rowSchemas.ts';

export interface KeyExportFilter {
  deviceId?: string;
  usage?: KeyUsage;
  slot?: string;
  state?: KeyState;
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
  return w;
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export async function* keyPages(deps: KeyExportDeps, filter: KeyExportFilter, scope: OrgScope): AsyncGenerator<KeyExportRow[]> {
  const read = (after: string | undefined) =>
    deps.db
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
      .where(and(...conditions(filter), scopedDevice(scope, keys.deviceId), after === undefined ? undefined : gt(keys.id, after)))
      .orderBy(asc(keys.id))
      .limit(deps.pageSize);
  for await (const rows of keysetPages(read, (r) => r.id, deps.pageSize, deps.onPage)) {
    yield rows.map(({ error, ...k }) => ({
      ...k,
      createdAt: k.createdAt.toISOString(),
      installedAt: iso(k.installedAt),
      endedAt: iso(k.endedAt),
      errorCode: error?.code ?? null,
    }));
  }
}
