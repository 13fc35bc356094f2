// A PostgreSQL connection dropped by the server while the application holds it (a transaction
// between two statements when PostgreSQL restarts) must fail that transaction, not the process:
// pg emits 'error' on the client, and without a listener Node ends the process (seen at a
// `pg_ctl restart -m fast` under ingest: the server exited with "terminating connection due to
// administrator command"). The pool then serves the next query on a new connection.
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createPool } from '../../server/db/database.ts';
import { createScratchPostgres, requiredDatabaseUrl, type ScratchDatabase } from '../helpers/databases.ts';

let scratch: ScratchDatabase;
beforeAll(async () => {
  scratch = await createScratchPostgres(requiredDatabaseUrl());
});
afterAll(async () => {
  await scratch.drop();
});

it('survives the server ending a checked-out connection, and the pool carries on with a new one', async () => {
  const pool = createPool(scratch.url);
  const admin = new pg.Client({ connectionString: scratch.url });
  await admin.connect();
  try {
    const held = await pool.connect();
    const { rows } = await held.query<{ pid: number }>('select pg_backend_pid() as pid');
    await held.query('begin');
    // Nothing in flight on `held` now: the FATAL arrives as an 'error' event, then the socket ends
    // (not events.once: it would reject on that very 'error').
    const ended = new Promise<void>((resolve) => held.once('end', () => resolve()));
    await admin.query('select pg_terminate_backend($1)', [rows[0]!.pid]);
    await ended;
    await expect(held.query('select 1')).rejects.toThrow();
    held.release(true);
    const after = await pool.query<{ one: number }>('select 1 as one');
    expect(after.rows).toEqual([{ one: 1 }]);
  } finally {
    await admin.end();
    await pool.end();
  }
});
