// The SQLSTATE codes server code acts on (server/core/sqlState.ts) come out the same on both
// engines: node-postgres sets them, the PGlite worker client maps its errors to them, and drizzle
// wraps either. A code that differed would turn a 409 into a 500 on one engine only.
import { sql } from 'drizzle-orm';
import { beforeEach, expect, it } from 'vitest';
import { deviceState, devices, timeline } from '../../schemas/db.ts';
import { isForeignKeyViolation, isUniqueViolation, SQLSTATE, sqlState } from '../../server/core/sqlState.ts';
import { forEachDatabase, truncateAll } from '../helpers/databases.ts';
import { errorField, insertDevices, rejection } from './fixtures.ts';

forEachDatabase('SQLSTATE mapping', (getDb, ctx) => {
  beforeEach(() => truncateAll(getDb()));

  it('a duplicate unique key is 23505 naming the index', async () => {
    await getDb().insert(devices).values({ id: 'dev_a', serial: 'S-1', model: 'm' });
    const err = await rejection(() => getDb().insert(devices).values({ id: 'dev_b', serial: 'S-1', model: 'm' }));
    expect(sqlState(err)).toBe(SQLSTATE.uniqueViolation);
    expect(isUniqueViolation(err)).toBe(true);
    expect(errorField(err, 'constraint')).toBe('devices_serial_uq');
  });

  it('a missing referenced row is 23503 naming the foreign key', async () => {
    const err = await rejection(() => getDb().insert(deviceState).values({ deviceId: 'dev_missing' }));
    expect(sqlState(err)).toBe(SQLSTATE.foreignKeyViolation);
    expect(isForeignKeyViolation(err)).toBe(true);
    expect(errorField(err, 'constraint')).toBe('device_state_device_id_devices_id_fk');
  });

  it('a NUL byte in a text parameter is 22021 and writes nothing', async () => {
    const [id] = await insertDevices(getDb(), 1);
    const err = await rejection(() => getDb().insert(timeline).values({ deviceId: id!, kind: 'log', summary: 'a\u0000b' }));
    expect(sqlState(err)).toBe('22021'); // character_not_in_repertoire
    expect(isUniqueViolation(err)).toBe(false);
    expect(await getDb().select().from(timeline)).toEqual([]);
  });

  it('a \\u0000 escape in a jsonb parameter is 22P05', async () => {
    const [id] = await insertDevices(getDb(), 1);
    const err = await rejection(() => getDb().insert(timeline).values({ deviceId: id!, kind: 'log', summary: 's', data: { text: 'a\u0000b' } }));
    expect(sqlState(err)).toBe('22P05'); // untranslatable_character
  });

  it('malformed input for a type is 22P02, an unknown table 42P01', async () => {
    expect(sqlState(await rejection(() => getDb().execute(sql`select 'not a number'::int`)))).toBe('22P02');
    expect(sqlState(await rejection(() => getDb().execute(sql`select * from no_such_table`)))).toBe('42P01');
  });

  it('a serialization failure is 40001, raised inside a transaction that then rolls back', async () => {
    const err = await rejection(() =>
      getDb().transaction(async (tx) => {
        await tx.insert(devices).values({ id: 'dev_rolled_back', serial: 'S-rb', model: 'm' });
        await tx.execute(sql`do $$ begin raise exception 'could not serialize' using errcode = 'serialization_failure'; end $$`);
      }),
    );
    expect(sqlState(err)).toBe('40001');
    expect(await getDb().select().from(devices)).toEqual([]);
  });

  // PGlite has one session, so two transactions never interleave there; PostgreSQL's real conflict:
  it.runIf(ctx.kind === 'postgres')('two serializable transactions with a write skew: one fails with 40001', async () => {
    const db = getDb();
    await insertDevices(db, 2);
    let bothRead!: () => void;
    let reads = 0;
    const barrier = new Promise<void>((resolve) => (bothRead = resolve));
    const skew = (label: string) =>
      db.transaction(
        async (tx) => {
          await tx.execute(sql`select count(*) from ${devices} where ${devices.status} = 'registered'`);
          if (++reads === 2) bothRead();
          await barrier;
          await tx.update(devices).set({ fwVersion: label });
        },
        { isolationLevel: 'serializable' },
      );
    const results = await Promise.allSettled([skew('a'), skew('b')]);
    const failures = results.filter((r) => r.status === 'rejected');
    expect(failures).toHaveLength(1);
    expect(sqlState(failures[0]?.status === 'rejected' ? failures[0].reason : undefined)).toBe('40001');
  });

  it('an error that is no database error has no SQLSTATE', () => {
    expect(sqlState(new Error('plain'))).toBeUndefined();
    expect(sqlState(Object.assign(new Error('errno'), { code: 'ECONNREFUSED' }))).toBeUndefined();
  });
});
