// truncateAll (test/helpers/databases.ts) empties every table, on both engines: the tables it
// knows are those of every schema file, they are all the database has (so a table added by a
// migration alone, or a schema file forgotten, fails here), and after it every one is empty but for
// the migrations' seed rows, which it lays again.
import { getTableColumns, getTableName, sql } from 'drizzle-orm';
import type { PgColumn, PgTable } from 'drizzle-orm/pg-core';
import { expect, it } from 'vitest';
import type { Tx } from '../../server/core/transaction.ts';
import { forEachDatabase, truncateAll } from '../helpers/databases.ts';
import { schemaTables } from '../helpers/schemaTables.ts';

/** A value of the column's type: enough for a row that only has to exist. */
function sampleValue(column: PgColumn, n: number): unknown {
  if (column.enumValues?.length) return column.enumValues[0];
  switch (column.dataType) {
    case 'string':
      return `v${n}`;
    case 'number':
      return n;
    case 'bigint':
      return BigInt(n);
    case 'boolean':
      return false;
    case 'date':
      return new Date();
    case 'json':
      return {};
    case 'array':
      return [];
    default:
      throw new Error(`no sample value for ${column.name} (${column.dataType}/${column.columnType})`);
  }
}

/** One row in `table`, every column filled; foreign keys are not checked meanwhile (replica role, this transaction only). */
async function insertSampleRow(tx: Tx, table: PgTable) {
  const row = Object.fromEntries(Object.entries(getTableColumns(table)).map(([key, column], i) => [key, sampleValue(column, i + 1)]));
  await tx.insert(table).values(row);
}

async function countRows(tx: Tx, table: PgTable): Promise<number> {
  const [row] = await tx.select({ n: sql<number>`count(*)::int` }).from(table);
  return row?.n ?? -1;
}

/** Rows a migration lays and truncateAll lays again: the root organisation (drizzle/0006_organisations.sql). */
const seeded = (table: PgTable | undefined) => (table && getTableName(table) === 'organisations' ? 1 : 0);

forEachDatabase('truncation', (getDb) => {
  it('the schema files name every table the migrations create', async () => {
    const inDatabase = await getDb()
      .select({ name: sql<string>`tablename` })
      .from(sql`pg_tables`)
      .where(sql`schemaname = 'public'`);
    const inSchema = (await schemaTables()).map((t) => getTableName(t));
    expect(inSchema.length).toBeGreaterThan(30);
    expect([...inSchema].sort()).toEqual(inDatabase.map((r) => r.name).sort());
  });

  it('truncateAll leaves every table empty', async () => {
    const tables = await schemaTables();
    await getDb().transaction(async (tx) => {
      await tx.execute(sql`set local session_replication_role = replica`);
      for (const table of tables) await insertSampleRow(tx, table);
    });
    const before = await getDb().transaction((tx) => Promise.all(tables.map((t) => countRows(tx, t))));
    expect(before.every((n, i) => n === 1 + seeded(tables[i])), `rows before: ${before.join(',')}`).toBe(true);

    await truncateAll(getDb());

    const after = await getDb().transaction(async (tx) => Object.fromEntries(await Promise.all(tables.map(async (t) => [getTableName(t), await countRows(tx, t)]))));
    expect(after).toEqual(Object.fromEntries(tables.map((t) => [getTableName(t), seeded(t)])));
  });
});
