// Rows the conformance suites build on, and the error fields they compare across engines.
import { randomBytes } from 'node:crypto';
import { devices } from '../../schemas/db.ts';
import type { Db } from '../../server/db/database.ts';
import { truncateAll } from '../helpers/databases.ts';

/** Registers `n` devices (serials unique per call) and returns their ids in insertion order. */
export async function insertDevices(db: Db, n: number): Promise<string[]> {
  const tag = randomBytes(4).toString('hex');
  const rows = Array.from({ length: n }, (_, i) => ({ id: `dev_${tag}_${String(i).padStart(4, '0')}`, serial: `S-${tag}-${i}`, model: 'PAX-A920' }));
  await db.insert(devices).values(rows);
  return rows.map((r) => r.id);
}

/** Empties every table, then registers `n` devices: the starting point of a suite over device rows. */
export async function onlyDevices(db: Db, n: number): Promise<string[]> {
  await truncateAll(db);
  return insertDevices(db, n);
}

/** A string field (`constraint`, `message`…) of a database error, however deeply drizzle wrapped it. */
export function errorField(err: unknown, field: string): string | undefined {
  for (let e: unknown = err; typeof e === 'object' && e !== null; e = 'cause' in e ? e.cause : undefined) {
    if (field in e) {
      const value: unknown = Reflect.get(e, field);
      if (typeof value === 'string' && value !== '') return value;
    }
  }
  return undefined;
}

/** The error `run` rejects with; fails the test if it resolves. */
export async function rejection(run: () => Promise<unknown>): Promise<unknown> {
  try {
    await run();
  } catch (err) {
    return err;
  }
  throw new Error('the statement succeeded but was expected to fail');
}
