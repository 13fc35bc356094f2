// The shared stores of one test cluster: a PostgreSQL database and a BullMQ key prefix of its
// own, so clusters of parallel test files never see each other's rows or jobs, and nothing of a
// cluster is left behind once it is stopped. Both names carry the host and pid of the test
// process that made them: what a killed test process could not drop, the next cluster on the same
// host drops, since no living process owns it (another host's pids mean nothing here).
import { createHash, randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { Redis } from 'ioredis';
import pg from 'pg';

/**
 * The server the cluster databases are created on (the database of the URL only runs CREATE and
 * DROP). Cluster mode needs PostgreSQL, so like the other PostgreSQL suites the cluster suites
 * run when DATABASE_URL is set (.ci/run sets it when PostgreSQL answers) and skip otherwise.
 */
export const POSTGRES_SERVER_URL: string | undefined = process.env.CLUSTER_POSTGRES_URL ?? process.env.DATABASE_URL;
export const REDIS_URL = process.env.CLUSTER_REDIS_URL ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
/** For `describe.skipIf(!clusterPostgres)`. */
export const clusterPostgres = POSTGRES_SERVER_URL !== undefined;

function serverUrl(): string {
  if (!POSTGRES_SERVER_URL)
    throw new Error('cluster tests need PostgreSQL: set DATABASE_URL, e.g. postgres://postgres@127.0.0.1:5432/test');
  return POSTGRES_SERVER_URL;
}

export interface ClusterStores {
  databaseName: string;
  databaseUrl: string;
  redisUrl: string;
  queuePrefix: string;
  /** Drops the database (closing what is still connected) and deletes the prefix's Redis keys. */
  drop(): Promise<void>;
}

async function onServer(statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl() });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

/** Every key of the prefix: the server hash-tags it (`{prefix}:…`, one Redis Cluster slot); plain `prefix:…` too. */
async function deleteKeys(redisUrl: string, prefix: string): Promise<void> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1, lazyConnect: true });
  try {
    await redis.connect();
    // SCAN's MATCH treats { } literally but [ ] as a class: a prefix of [A-Za-z0-9-] needs no escaping.
    for (const pattern of [`{${prefix}}:*`, `${prefix}:*`]) {
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
        if (keys.length > 0) await redis.del(...keys);
        cursor = next;
      } while (cursor !== '0');
    }
  } finally {
    redis.disconnect();
  }
}

const HOST = createHash('sha256').update(hostname()).digest('hex').slice(0, 6);
const DATABASE_PREFIX = `posfleet_cluster_${HOST}_`;
const OWNED = new RegExp(`^${DATABASE_PREFIX}(\\d+)_([0-9a-f]+)$`);
const prefixOf = (pid: string, suffix: string) => `pfc-${HOST}-${pid}-${suffix}`;

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: alive, only not ours to signal.
    return err instanceof Error && 'code' in err && err.code === 'EPERM';
  }
}

/** Drops the databases and keys of clusters whose test process is gone. */
async function sweepOrphans(): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl() });
  await client.connect();
  let names: string[];
  try {
    const rows = await client.query<{ datname: string }>('select datname from pg_database where datname like $1', [`${DATABASE_PREFIX}%`]);
    names = rows.rows.map((r) => r.datname);
  } finally {
    await client.end();
  }
  for (const name of names) {
    const owner = OWNED.exec(name);
    if (!owner?.[1] || !owner[2] || isAlive(Number(owner[1]))) continue;
    await onServer(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await deleteKeys(REDIS_URL, prefixOf(owner[1], owner[2]));
  }
}

export async function createClusterStores(): Promise<ClusterStores> {
  await sweepOrphans();
  const suffix = randomBytes(6).toString('hex');
  const databaseName = `${DATABASE_PREFIX}${process.pid}_${suffix}`;
  await onServer(`CREATE DATABASE ${databaseName}`);
  const url = new URL(serverUrl());
  url.pathname = `/${databaseName}`;
  const queuePrefix = prefixOf(String(process.pid), suffix);
  return {
    databaseName,
    databaseUrl: url.toString(),
    redisUrl: REDIS_URL,
    queuePrefix,
    async drop() {
      // The instances are gone by now; FORCE ends what a killed one's half-closed sessions still hold.
      await onServer(`DROP DATABASE IF EXISTS ${databaseName} WITH (FORCE)`);
      await deleteKeys(REDIS_URL, queuePrefix);
    },
  };
}
