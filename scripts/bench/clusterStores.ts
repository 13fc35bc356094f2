// The shared stores of one cluster bench run: a fresh PostgreSQL database on the local server
// (created for the run, dropped after it, FORCE so a killed instance's sessions do not hold it)
// and the run's Redis keys, found by its random prefix so nothing of another run is touched.
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';

/** Where the run's database is created; the database named in it only runs CREATE and DROP. */
export const benchPostgresUrl = process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface ClusterStores {
  databaseName: string;
  databaseUrl: string;
  queuePrefix: string;
  drop(): Promise<void>;
}

async function onServer(statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: benchPostgresUrl });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

/** Every key of the prefix, hash-tagged (`{prefix}:…`, as the server writes them) or plain. */
export async function deleteRedisKeys(redisUrl: string, prefix: string): Promise<void> {
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    for (const pattern of [`{${prefix}}:*`, `${prefix}:*`]) {
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
        if (keys.length) await redis.del(...keys);
        cursor = next;
      } while (cursor !== '0');
    }
  } finally {
    redis.disconnect();
  }
}

export interface ScratchDatabase {
  databaseName: string;
  databaseUrl: string;
  drop(): Promise<void>;
}

/** A fresh database on the local server, named by `suffix`; `drop` removes it whoever still holds it. */
export async function createScratchDatabase(suffix = randomBytes(5).toString('hex')): Promise<ScratchDatabase> {
  const databaseName = `posfleet_bench_${suffix}`;
  await onServer(`CREATE DATABASE ${databaseName}`);
  const url = new URL(benchPostgresUrl);
  url.pathname = `/${databaseName}`;
  return {
    databaseName,
    databaseUrl: url.toString(),
    drop: () => onServer(`DROP DATABASE IF EXISTS ${databaseName} WITH (FORCE)`),
  };
}

export async function createClusterStores(redisUrl: string): Promise<ClusterStores> {
  const suffix = randomBytes(5).toString('hex');
  const db = await createScratchDatabase(suffix);
  const queuePrefix = `bench-cluster-${suffix}`;
  return {
    databaseName: db.databaseName,
    databaseUrl: db.databaseUrl,
    queuePrefix,
    async drop() {
      await db.drop();
      await deleteRedisKeys(redisUrl, queuePrefix);
    },
  };
}
