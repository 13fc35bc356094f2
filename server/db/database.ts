// Opens the one schema on PGlite (embedded default) or PostgreSQL (DATABASE_URL) and migrates it.
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import type { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import * as schema from '../../schemas/db.ts';
import { startPgliteWorker } from './pgliteClient.ts';
import { DatabaseUnavailableError, describeDatabaseError } from './databaseErrors.ts';

export type Schema = typeof schema;
/** What every domain module receives: the drizzle API, whichever engine is behind it. */
export type Db = PgDatabase<PgQueryResultHKT, Schema>;

export interface Database {
  db: Db;
  kind: 'pglite' | 'postgres';
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** PostgreSQL connection string; when absent, PGlite is used. */
  url?: string;
  /** PGlite data directory; undefined keeps PGlite in memory (tests). */
  dataDir?: string;
}

const migrationsFolder = fileURLToPath(new URL('../../drizzle', import.meta.url));

export async function openDatabase(opts: DatabaseOptions): Promise<Database> {
  if (opts.url) return openPostgres(opts.url);
  return openPglite(opts.dataDir);
}

async function openPglite(dataDir: string | undefined): Promise<Database> {
  if (dataDir) mkdirSync(dataDir, { recursive: true });
  const client = await startPgliteWorker(dataDir);
  // The worker client has the part of PGlite's interface drizzle's driver calls (query,
  // transaction). The driver takes the PGlite class itself, whose #private fields no other object
  // has, so the client is narrowed to it; tsc checks that narrowing (PGlite is a
  // PgliteWorkerClient), which a cast through unknown would not.
  const db = drizzlePglite({ client: client as PGlite, schema });
  await migratePglite(db, { migrationsFolder });
  return { db, kind: 'pglite', close: () => client.close() };
}

/** Any number taken by nothing else: the lock that lets one of N instances starting together migrate. */
const MIGRATION_LOCK = 0x706f7366; // "posf"

/**
 * Instances started together would each run the pending migrations; drizzle's migrator takes no
 * lock of its own, so the second would fail on objects the first just created. The first to take
 * the session lock migrates, the others wait and then find nothing left to do.
 */
async function migrateOnce(pool: pg.Pool): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('select pg_advisory_lock($1)', [MIGRATION_LOCK]);
    try {
      await migratePg(drizzlePg({ client, schema }), { migrationsFolder });
    } finally {
      await client.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK]);
    }
  } finally {
    client.release();
  }
}

/**
 * The server's connections to PostgreSQL. A connection the server drops (restart, failover,
 * pg_terminate_backend) emits 'error' on its client, and an 'error' nobody listens to ends the
 * process. The pool listens only while a client is idle (and re-emits as the pool's 'error'), so
 * every client also gets a listener of its own for its whole life: one dropped while checked out,
 * a transaction between two statements, killed the server at a PostgreSQL restart under load.
 * Its statement in flight fails instead, and the pool discards it when it is released.
 */
export function createPool(url: string): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  pool.on('error', () => undefined);
  pool.on('connect', (client) => client.on('error', () => undefined));
  return pool;
}

async function openPostgres(url: string): Promise<Database> {
  const pool = createPool(url);
  const db = drizzlePg({ client: pool, schema });
  try {
    await migrateOnce(pool);
  } catch (err) {
    await pool.end().catch(() => undefined);
    const why = describeDatabaseError(err, url);
    throw why ? new DatabaseUnavailableError(why, { cause: err }) : err;
  }
  return { db, kind: 'postgres', close: () => pool.end() };
}
