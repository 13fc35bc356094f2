// Provokes an audit failure after the change it records: a trigger on audit_log that makes the
// database refuse entries of one action, as it refused the NUL of issue #16, on both engines.
import { sql } from 'drizzle-orm';
import type { Db } from '../../server/db/database.ts';

/** Until the returned function is called, inserting an audit entry of `action` fails. */
export async function refuseAuditOf(db: Db, action: string): Promise<() => Promise<void>> {
  await db.execute(sql`create or replace function refuse_audit() returns trigger language plpgsql as $$
    begin raise exception 'audit entry refused by the test'; end $$`);
  await db.execute(sql`drop trigger if exists refuse_audit on audit_log`);
  await db.execute(sql.raw(`create trigger refuse_audit before insert on audit_log for each row
    when (new.action = '${action.replace(/'/g, "''")}') execute function refuse_audit()`));
  return async () => {
    await db.execute(sql`drop trigger if exists refuse_audit on audit_log`);
  };
}
