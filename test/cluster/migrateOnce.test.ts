// N instances starting together on an empty PostgreSQL database: each runs the migrator, and
// without the advisory lock the second would fail on the tables the first was creating.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../server/db/database.ts';
import { clusterPostgres, createClusterStores, type ClusterStores } from './harness/stores.ts';

describe.skipIf(!clusterPostgres)('migrations', () => {
  let stores: ClusterStores;
  beforeAll(async () => {
    stores = await createClusterStores();
  });
  afterAll(async () => {
    await stores?.drop();
  });

  it('migrates an empty database once when four instances open it at the same moment', async () => {
    const opened = await Promise.all([1, 2, 3, 4].map(() => openDatabase({ url: stores.databaseUrl })));
    try {
      const client = new pg.Client({ connectionString: stores.databaseUrl });
      await client.connect();
      try {
        const { rows } = await client.query<{ n: number; distinct_hashes: number }>(
          'select count(*)::int as n, count(distinct hash)::int as distinct_hashes from drizzle.__drizzle_migrations',
        );
        expect(rows[0]!.n).toBeGreaterThan(0);
        expect(rows[0]!.n).toBe(rows[0]!.distinct_hashes);
      } finally {
        await client.end();
      }
    } finally {
      await Promise.all(opened.map((d) => d.close()));
    }
  });
});
