// Leases: who of the cluster's instances does one thing (leads one campaign) at a time. A lease is
// a PostgreSQL SESSION advisory lock held on one dedicated connection of this instance, so it
// lasts exactly as long as that session: a clean stop ends it, and so does a crash (the kernel
// closes the socket, the backend ends and frees its locks) or a lost host (TCP keepalives). No
// TTL to renew and no clock to trust, and the holder is read from pg_locks itself (the session's
// application_name carries the instance id), so the record of who leads can never be stale.
//
// If the connection is lost while this instance lives, every lease is lost with it: `onLost`
// tells the owners to drop what they led at once, since another instance may take it over now.
import pg from 'pg';
import type { Logger } from '../log.ts';

export interface Leases {
  /** True when the lease is this instance's now (taken, or already held); false when another holds it or PostgreSQL is away. */
  take(name: string): Promise<boolean>;
  release(name: string): Promise<void>;
  holds(name: string): boolean;
  /** The instance holding `name`'s lease, if any (this one included). */
  holder(name: string): Promise<string | null>;
  /** Checks the session answers; when it does not, every lease is lost (and `onLost` called). */
  check(): Promise<void>;
  onLost(fn: (names: string[]) => void): void;
  stop(): Promise<void>;
}

/** First key of every lease's two-key advisory lock: apart from the other locks of the schema ("pfls"). */
export const LEASE_SPACE = 0x70666c73;
/** The session's application_name, from which the holder's instance id is read. */
const APP_PREFIX = 'posfleet-lease:';
const CHECK_TIMEOUT_MS = 3_000;

/**
 * The holder of a lease as PostgreSQL sees it, for any connection to the same database (tests
 * read it too). The two-key form shows the second key as an oid: hashtext's int4 taken unsigned.
 */
export const HOLDER_SQL = `select a.application_name as app
  from pg_locks l join pg_stat_activity a on a.pid = l.pid
  where l.locktype = 'advisory' and l.granted and l.objsubid = 2
    and l.database = (select oid from pg_database where datname = current_database())
    and l.classid::bigint = $1 and l.objid::bigint = (hashtext($2)::bigint & 4294967295)
  limit 1`;

export const instanceOfApp = (app: string | null | undefined): string | null =>
  app?.startsWith(APP_PREFIX) ? app.slice(APP_PREFIX.length) : null;

export interface PgLeasesOptions {
  databaseUrl: string;
  instanceId: string;
  log: Logger;
}

export function createPgLeases(opts: PgLeasesOptions): Leases {
  const { log } = opts;
  const held = new Set<string>();
  const lostListeners: ((names: string[]) => void)[] = [];
  let client: pg.Client | undefined;
  let connecting: Promise<pg.Client> | undefined;
  let stopped = false;

  function lose(why: string, c: pg.Client) {
    if (client !== c) return;
    client = undefined;
    c.removeAllListeners('end');
    c.on('error', () => undefined);
    void c.end().catch(() => undefined);
    const names = [...held];
    held.clear();
    if (stopped) return;
    log.error({ leases: names.length, why }, 'lease connection lost: every lease of this instance is gone');
    for (const fn of lostListeners) fn(names);
  }

  async function connected(): Promise<pg.Client> {
    if (client) return client;
    connecting ??= (async () => {
      const c = new pg.Client({
        connectionString: opts.databaseUrl,
        application_name: `${APP_PREFIX}${opts.instanceId}`.slice(0, 63),
        keepAlive: true,
        keepAliveInitialDelayMillis: 5_000,
      });
      c.on('error', (err) => lose(err.message, c));
      c.on('end', () => lose('the session ended', c));
      await c.connect();
      // The server side notices a vanished host too, and frees its locks for the others.
      await c.query('set tcp_keepalives_idle = 5; set tcp_keepalives_interval = 2; set tcp_keepalives_count = 3');
      client = c;
      return c;
    })().finally(() => (connecting = undefined));
    return connecting;
  }

  return {
    async take(name) {
      if (stopped) return false;
      if (held.has(name)) return true;
      let c: pg.Client;
      try {
        c = await connected();
      } catch (err) {
        log.warn({ err }, 'lease connection: PostgreSQL unreachable');
        return false;
      }
      const r = await c.query<{ ok: boolean }>('select pg_try_advisory_lock($1, hashtext($2)) as ok', [LEASE_SPACE, name]);
      if (!r.rows[0]?.ok) return false;
      // Two takes of one name at once both succeed in the session (the lock counts): one unlock per take.
      if (held.has(name)) await c.query('select pg_advisory_unlock($1, hashtext($2))', [LEASE_SPACE, name]);
      held.add(name);
      return true;
    },
    async release(name) {
      if (!held.delete(name) || !client) return;
      await client.query('select pg_advisory_unlock($1, hashtext($2))', [LEASE_SPACE, name]).catch((err: unknown) => {
        log.warn({ err, name }, 'lease release failed');
      });
    },
    holds: (name) => held.has(name),
    async holder(name) {
      if (held.has(name)) return opts.instanceId;
      const c = await connected();
      const r = await c.query<{ app: string | null }>(HOLDER_SQL, [LEASE_SPACE, name]);
      return instanceOfApp(r.rows[0]?.app);
    },
    async check() {
      const c = client;
      if (!c) return;
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          c.query('select 1'),
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
          }),
        ]);
      } catch (err) {
        lose(err instanceof Error ? err.message : String(err), c);
      } finally {
        clearTimeout(timer);
      }
    },
    onLost(fn) {
      lostListeners.push(fn);
    },
    async stop() {
      stopped = true;
      const c = client ?? (await connecting?.catch(() => undefined));
      client = undefined;
      held.clear();
      if (!c) return;
      c.removeAllListeners('end');
      c.on('error', () => undefined);
      // Ending the session frees every lease at once; the others' next claim pass takes them.
      await c.end().catch(() => undefined);
    },
  };
}

/** A single instance leads everything; nothing is locked. */
export function createSoloLeases(instanceId: string): Leases {
  const held = new Set<string>();
  return {
    take: async (name) => (held.add(name), true),
    release: async (name) => void held.delete(name),
    holds: (name) => held.has(name),
    holder: async (name) => (held.has(name) ? instanceId : null),
    check: async () => undefined,
    onLost: () => undefined,
    stop: async () => held.clear(),
  };
}
