// Runs a database-backed suite on every engine posfleet supports: PGlite always (a copy of a
// migrated template, test/helpers/pgliteTemplate.ts), and PostgreSQL too when DATABASE_URL is set. Each registration gets its own migrated database (on
// PostgreSQL a scratch `pf_<random>` database on that server, dropped afterwards), so suites in
// parallel files never see each other's rows.
//
//   forEachDatabase('audit log', (getDb, ctx) => {
//     it('appends', async () => { const db = getDb(); ... });
//   });
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { getTableName, sql } from 'drizzle-orm';
import pg from 'pg';
import { afterAll, beforeAll, describe } from 'vitest';
import { SQLSTATE, sqlState } from '../../server/core/sqlState.ts';
import { openDatabase, type Database, type Db } from '../../server/db/database.ts';
import { ensureRootOrganisation } from '../../server/orgs/rootOrg.ts';
import { migratedPgliteDir } from './pgliteTemplate.ts';
import { schemaTables } from './schemaTables.ts';

export type DatabaseKind = Database['kind'];

export interface DatabaseContext {
  kind: DatabaseKind;
  /** The open database (its `close` is called for you). */
  database(): Database;
}

const SETUP_TIMEOUT_MS = 120_000;

/** The engines this run covers. */
export function databaseKinds(): DatabaseKind[] {
  return process.env.DATABASE_URL ? ['pglite', 'postgres'] : ['pglite'];
}

/**
 * Registers `suite` once per engine, inside `describe("<name> [<engine>]")`. `getDb()` is valid
 * inside tests and hooks (not while the suite is being registered).
 */
export function forEachDatabase(name: string, suite: (getDb: () => Db, ctx: DatabaseContext) => void): void {
  for (const kind of databaseKinds()) {
    describe(`${name} [${kind}]`, () => {
      let database: Database | undefined;
      let scratch: ScratchDatabase | undefined;
      let pgliteDir: string | undefined;

      beforeAll(async () => {
        if (kind === 'postgres') {
          scratch = await createScratchPostgres(requiredDatabaseUrl());
          database = await openDatabase({ url: scratch.url });
        } else {
          pgliteDir = await migratedPgliteDir();
          database = await openDatabase({ dataDir: pgliteDir });
        }
      }, SETUP_TIMEOUT_MS);

      afterAll(async () => {
        await database?.close();
        await scratch?.drop();
        if (pgliteDir) rmSync(pgliteDir, { recursive: true, force: true });
      }, SETUP_TIMEOUT_MS);

      const current = (): Database => {
        if (!database) throw new Error('the database is open only inside tests and hooks');
        return database;
      };
      suite(() => current().db, { kind, database: current });
    });
  }
}

export interface ScratchDatabase {
  /** Connection string of the new, empty database. */
  url: string;
  /** Drops it (closing whatever connection is still open). */
  drop(): Promise<void>;
}

/** A new empty database `pf_<random>` on the server of `serverUrl`. */
export async function createScratchPostgres(serverUrl: string): Promise<ScratchDatabase> {
  const name = `pf_${randomBytes(8).toString('hex')}`;
  await onServer(serverUrl, `CREATE DATABASE ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: () => dropDatabase(serverUrl, name),
  };
}

/**
 * Drops the database once its last connection is gone. A closed pool's connections linger for a
 * moment; killing them (WITH (FORCE)) would raise errors in the clients still saying goodbye, so
 * FORCE is only the last resort, for a suite that leaked a connection.
 */
async function dropDatabase(serverUrl: string, name: string): Promise<void> {
  for (let attempt = 0; attempt < 50; attempt++) {
    try {
      await onServer(serverUrl, `DROP DATABASE IF EXISTS ${name}`);
      return;
    } catch (err) {
      if (sqlState(err) !== SQLSTATE.objectInUse) throw err; // still connected
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  await onServer(serverUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
}

async function onServer(serverUrl: string, statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

/** DATABASE_URL, for a suite that asked for PostgreSQL: never a silent fallback to PGlite. */
export function requiredDatabaseUrl(): string {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error('database "postgres" asked for but DATABASE_URL is not set');
  return url;
}

/**
 * Empties every table of the drizzle schema, schemas/tables/* included (identities restart), e.g. in a `beforeEach`;
 * the migrations' one seed row, the root organisation, is laid again (users, merchants and terminals default to it).
 */
export async function truncateAll(db: Db): Promise<void> {
  const names = (await schemaTables()).map((table) => `"${getTableName(table)}"`);
  await db.execute(sql.raw(`TRUNCATE ${names.join(', ')} RESTART IDENTITY CASCADE`));
  await ensureRootOrganisation(db);
}
