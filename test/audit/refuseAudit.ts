// Provokes a failure after the change it goes with: a trigger that makes the database refuse some
// inserts (of audit entries, as it refused the NUL of issue #16), on both engines.
import { sql } from 'drizzle-orm';
import type { Db } from '../../server/db/database.ts';

/** Until the returned function is called, inserting a row of `table` for which `when` holds fails. */
export async function refuseInserts(db: Db, table: string, when: string): Promise<() => Promise<void>> {
  await db.execute(sql`create or replace function refuse_insert() returns trigger language plpgsql as $$
    begin raise exception 'insert refused by the test'; end $$`);
  await db.execute(sql.raw(`drop trigger if exists refuse_insert on ${table}`));
  await db.execute(sql.raw(`create trigger refuse_insert before insert on ${table} for each row when (${when}) execute function refuse_insert()`));
  return async () => {
    await db.execute(sql.raw(`drop trigger if exists refuse_insert on ${table}`));
  };
}

/** Until the returned function is called, inserting an audit entry of `action` fails. */
export const refuseAuditOf = (db: Db, action: string) => refuseInserts(db, 'audit_log', `new.action = '${action.replace(/'/g, "''")}'`);
