// A PostgreSQL cluster of the case's own (initdb into a temp dir, a free port, trust on
// 127.0.0.1), run as the `postgres` OS user because the server refuses root, that the case may
// stop and start again: the machine's shared PostgreSQL (5432) is never touched.
import { execFile } from 'node:child_process';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort } from '../ports.ts';

const exec = promisify(execFile);
const BIN = process.env.BENCH_PG_BIN ?? '/usr/lib/postgresql/15/bin';
const OS_USER = 'postgres';

export interface PrivatePostgres {
  readonly url: string;
  /** `pg_ctl stop -m <mode>`: `fast` rolls back sessions and checkpoints, `immediate` is a crash. */
  stop(mode: 'fast' | 'immediate'): Promise<void>;
  start(): Promise<void>;
  /** One query on a connection of its own. */
  query<R extends pg.QueryResultRow>(sql: string, params?: unknown[]): Promise<R[]>;
  destroy(): Promise<void>;
}

async function ids(): Promise<{ uid: number; gid: number }> {
  const [uid, gid] = await Promise.all([exec('id', ['-u', OS_USER]), exec('id', ['-g', OS_USER])]);
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

/** As the postgres user when we are root; as ourselves otherwise (PostgreSQL runs as whichever non-root user starts it). */
const asOwner = (bin: string, args: string[]) =>
  userInfo().uid === 0 ? exec('runuser', ['-u', OS_USER, '--', join(BIN, bin), ...args]) : exec(join(BIN, bin), args);

export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const dir = await mkdtemp(join(tmpdir(), 'posfleet-chaos-pg-'));
  const data = join(dir, 'data');
  if (userInfo().uid === 0) {
    const { uid, gid } = await ids();
    await chown(dir, uid, gid);
  }
  const port = await freePort();
  await asOwner('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
  const start = async () => {
    const opts = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=50`;
    await asOwner('pg_ctl', ['-D', data, '-o', opts, '-l', join(dir, 'server.log'), '-w', '-t', '60', 'start']);
  };
  await start();
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  return {
    url,
    start,
    async stop(mode) {
      await asOwner('pg_ctl', ['-D', data, '-m', mode, '-w', '-t', '60', 'stop']);
    },
    async query<R extends pg.QueryResultRow>(sql: string, params: unknown[] = []) {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        return (await client.query<R>(sql, params)).rows;
      } finally {
        await client.end();
      }
    },
    async destroy() {
      await asOwner('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
