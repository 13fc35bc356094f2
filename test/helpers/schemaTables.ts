// Every table of the drizzle schema: the files drizzle-kit reads (drizzle.config.ts), i.e.
// schemas/db.ts and every schemas/tables/*.ts, found by listing the folder so that a new table
// file cannot be left out of truncation or of the conformance suite.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { getTableName, is } from 'drizzle-orm';
import { PgTable } from 'drizzle-orm/pg-core';

const schemasDir = fileURLToPath(new URL('../../schemas/', import.meta.url));

function schemaFiles(): string[] {
  const tablesDir = join(schemasDir, 'tables');
  const tableFiles = readdirSync(tablesDir)
    .filter((name) => name.endsWith('.ts'))
    .sort()
    .map((name) => join(tablesDir, name));
  return [join(schemasDir, 'db.ts'), ...tableFiles];
}

async function loadTables(): Promise<PgTable[]> {
  const byName = new Map<string, PgTable>();
  for (const file of schemaFiles()) {
    const exported: Record<string, unknown> = await import(pathToFileURL(file).href);
    for (const value of Object.values(exported)) if (is(value, PgTable)) byName.set(getTableName(value), value);
  }
  return [...byName.values()];
}

let tables: Promise<PgTable[]> | undefined;

/** The tables, each once, in file order. */
export function schemaTables(): Promise<PgTable[]> {
  tables ??= loadTables();
  return tables;
}
