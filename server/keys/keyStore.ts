// The SQL of key installs at fleet speed: what a batch of devices' installs is planned from, the
// pending keys inserted, and the answers settled. Many rows travel as one JSON parameter
// (server/core/jsonBulkWrite.ts): built by the query builder, a 200-device batch was thousands
// of bound parameters, and the settling updates as many nested VALUES, which held the broker's
// thread and the database for most of a rotation. Reads take only the columns planning needs.
import { and, inArray, sql } from 'drizzle-orm';
import { devices } from '../../schemas/db.ts';
import { keys, type KeyRow } from '../../schemas/tables/keys.ts';
import { createJsonBulkWriter, jsonRecordset } from '../core/jsonBulkWrite.ts';
import type { Db } from '../db/database.ts';

const liveStates = ['installed', 'pending'] as const;
const INSERT_CHUNK = 1000;

/** A live key as planning reads it. */
export type LiveKey = Pick<KeyRow, 'id' | 'deviceId' | 'usage' | 'slot' | 'version' | 'state' | 'kcv' | 'sealed'>;
/** A pending key as settling reads it. */
export type PendingKey = Pick<KeyRow, 'id' | 'deviceId' | 'rotationId' | 'usage' | 'slot' | 'kcv'>;
/** A key ready to insert as pending. */
export type NewKey = Pick<KeyRow, 'id' | 'deviceId' | 'usage' | 'slot' | 'version' | 'kcv' | 'sealed' | 'masterGen' | 'parentKeyId' | 'rotationId' | 'createdAt'>;

/** What an install batch settles at once. */
export interface InstalledKeys {
  /** Pending keys now installed, each replacing the installed key of its slot. */
  installs: Array<{ id: string; deviceId: string; slot: string; commandId: string }>;
  /** Working keys re-sent under a new TMK: now under that TMK. */
  reparent: Array<{ id: string; deviceId: string; tmk: string }>;
}

export function createKeyStore(db: Db) {
  const inserts = createJsonBulkWriter({
    db,
    columns: {
      id: 'text',
      device_id: 'text',
      usage: 'text',
      slot: 'text',
      version: 'int',
      kcv: 'text',
      sealed: 'text',
      master_gen: 'int',
      parent_key_id: 'text',
      rotation_id: 'text',
      created_at: 'timestamptz',
    },
    chunkSize: INSERT_CHUNK,
    toRecord: (k: NewKey) => ({
      id: k.id,
      device_id: k.deviceId,
      usage: k.usage,
      slot: k.slot,
      version: k.version,
      kcv: k.kcv,
      sealed: k.sealed,
      master_gen: k.masterGen,
      parent_key_id: k.parentKeyId,
      rotation_id: k.rotationId,
      created_at: k.createdAt,
    }),
    statement: (x) => sql`
      insert into ${keys} (id, device_id, usage, slot, version, state, kcv, sealed, master_gen, parent_key_id, rotation_id, created_at)
      select x.id, x.device_id, x.usage, x.slot, x.version, 'pending', x.kcv, x.sealed, x.master_gen, x.parent_key_id, x.rotation_id, x.created_at
      from ${x}`,
  });

  return {
    /** KEK and status of each device. */
    devices: (ids: readonly string[]) => db.select({ id: devices.id, kek: devices.kekPublicKey, status: devices.status }).from(devices).where(inArray(devices.id, [...ids])),

    /** The devices' installed and pending keys. */
    live: (ids: readonly string[]): Promise<LiveKey[]> =>
      db
        .select({ id: keys.id, deviceId: keys.deviceId, usage: keys.usage, slot: keys.slot, version: keys.version, state: keys.state, kcv: keys.kcv, sealed: keys.sealed })
        .from(keys)
        .where(and(inArray(keys.deviceId, [...ids]), inArray(keys.state, [...liveStates]))),

    /** Highest version ever used per device and slot, whatever became of it (versions are never reused). */
    maxVersions: (ids: readonly string[]) =>
      db
        .select({ deviceId: keys.deviceId, slot: keys.slot, max: sql<number>`max(${keys.version})::int` })
        .from(keys)
        .where(inArray(keys.deviceId, [...ids]))
        .groupBy(keys.deviceId, keys.slot),

    insertPending: (rows: readonly NewKey[]) => inserts.writeAll(rows),

    /** Keys pending for these devices under these rotations. */
    pending: (deviceIds: readonly string[], rotationIds: readonly string[]): Promise<PendingKey[]> =>
      db
        .select({ id: keys.id, deviceId: keys.deviceId, rotationId: keys.rotationId, usage: keys.usage, slot: keys.slot, kcv: keys.kcv })
        .from(keys)
        .where(and(inArray(keys.deviceId, [...deviceIds]), inArray(keys.rotationId, [...rotationIds]), sql`${keys.state} = 'pending'`)),

    /**
     * One statement for the whole batch, so it is all or nothing without a transaction held
     * across round trips: the key each install replaces is superseded (its material destroyed),
     * the install marked installed, and re-sent keys moved under their new TMK. The updates touch
     * different rows (installed, pending, and re-sent keys that are neither new nor replaced).
     */
    async markInstalled(batch: InstalledKeys, at: Date): Promise<void> {
      if (!batch.installs.length) return;
      const installs = jsonRecordset(
        { id: 'text', device_id: 'text', slot: 'text', command_id: 'text' },
        batch.installs.map((i) => ({ id: i.id, device_id: i.deviceId, slot: i.slot, command_id: i.commandId })),
      );
      const reparent = jsonRecordset(
        { id: 'text', device_id: 'text', tmk: 'text' },
        batch.reparent.map((r) => ({ id: r.id, device_id: r.deviceId, tmk: r.tmk })),
      );
      const now = at.toISOString();
      await db.execute(sql`
        with ins as (select * from ${installs}), moved as (select * from ${reparent}),
        superseded as (
          update ${keys} as k set state = 'superseded', sealed = null, ended_at = ${now}::timestamptz, end_reason = 'replaced by ' || i.id
          from ins as i
          where k.device_id = i.device_id and k.slot = i.slot and k.state = 'installed' and k.id <> i.id
          returning k.id
        ), installed as (
          update ${keys} as k set state = 'installed', installed_at = ${now}::timestamptz, command_id = i.command_id
          from ins as i
          where k.id = i.id and k.state = 'pending'
          returning k.id
        ), reparented as (
          update ${keys} as k set parent_key_id = m.tmk
          from moved as m
          where k.id = m.id and k.device_id = m.device_id
          returning k.id
        )
        select (select count(*) from superseded) as superseded, (select count(*) from installed) as installed, (select count(*) from reparented) as reparented`);
    },
  };
}

export type KeyStore = ReturnType<typeof createKeyStore>;
