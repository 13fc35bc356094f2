// Provokes a failure after the change it goes with: a trigger that makes the database refuse some
// inserts (of audit entries, as it refused the NUL of issue #16), on both engines.
import { sql } from 'drizzle-orm';
import type { Db } from '../../server/db/database.ts';

/** The statements that make inserting a row of `table` for which `when` holds fail, and the one that lifts it. */
export function refusalSql(table: string, when: string): { install: string[]; lift: string } {
  return {
    install: [
      `create or replace function refuse_insert() returns trigger language plpgsql as $$
    begin raise exception 'insert refused by the test'; end $$`,
      `drop trigger if exists refuse_insert on ${table}`,
      `create trigger refuse_insert before insert on ${table} for each row when (${when}) execute function refuse_insert()`,
    ],
    lift: `drop trigger if exists refuse_insert on ${table}`,
  };
}

const auditOf = (action: string) => `new.action = '${action.replace(/'/g, "''")}'`;

/** Until the returned function is called, inserting a row of `table` for which `when` holds fails. */
export async function refuseInserts(db: Db, table: string, when: string): Promise<() => Promise<void>> {
  const refusal = refusalSql(table, when);
  for (const statement of refusal.install) await db.execute(sql.raw(statement));
  return async () => {
    await db.execute(sql.raw(refusal.lift));
  };
}

/** Until the returned function is called, inserting an audit entry of `action` fails. */
export const refuseAuditOf = (db: Db, action: string) => refuseInserts(db, 'audit_log', auditOf(action));

/** The same through a plain PostgreSQL client (a cluster's database, outside any server process). */
export async function refuseAuditOver(client: { query(text: string): Promise<unknown> }, action: string): Promise<() => Promise<void>> {
  const refusal = refusalSql('audit_log', auditOf(action));
  for (const statement of refusal.install) await client.query(statement);
  return async () => void (await client.query(refusal.lift));
}
