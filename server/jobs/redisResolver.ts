// Finds Redis as SPEC §1 says: REDIS_URL, else one answering on 127.0.0.1:6379, else a
// redis-server child process keeping its data (append-only file) under DATA_DIR/redis.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { Redis } from 'ioredis';
import type { Logger } from '../log.ts';
import { ensurePrivateDir } from '../security/privateDir.ts';

export interface ResolvedRedis {
  url: string;
  source: 'REDIS_URL' | 'local' | 'child';
  stop(): Promise<void>;
}

export class RedisUnavailableError extends Error {
  constructor(detail: string) {
    super(
      `no Redis could be had (${detail}). Set REDIS_URL, start Redis on 127.0.0.1:6379, ` +
        `or install redis-server so posfleet can start one: apt-get install redis-server`,
    );
    this.name = 'RedisUnavailableError';
  }
}

async function answers(url: string, timeoutMs = 1500): Promise<boolean> {
  const probe = new Redis(url, { lazyConnect: true, connectTimeout: timeoutMs, maxRetriesPerRequest: 0, retryStrategy: () => null });
  probe.on('error', () => undefined);
  try {
    await probe.connect();
    return (await probe.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}

function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.once('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => ok(port));
    });
  });
}

/** Starts redis-server as a child keeping its append-only file under DATA_DIR/redis. */
export async function startRedisChild(dataDir: string, log: Logger): Promise<ResolvedRedis> {
  const dir = resolve(dataDir, 'redis');
  ensurePrivateDir(dir);
  const port = await freePort();
  const child: ChildProcess = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--save', '', '--protected-mode', 'yes'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const spawnError = new Promise<Error>((ok) => child.once('error', ok));
  const url = `redis://127.0.0.1:${port}`;
  for (let i = 0; i < 50; i++) {
    const failed = await Promise.race([spawnError, new Promise<null>((ok) => setTimeout(() => ok(null), 100))]);
    if (failed) throw new RedisUnavailableError(`redis-server could not be started: ${failed.message}`);
    if (child.exitCode !== null) throw new RedisUnavailableError(`redis-server exited with code ${child.exitCode}`);
    if (await answers(url, 300)) {
      log.info({ url, dir }, 'started a redis-server child process');
      return {
        url,
        source: 'child',
        stop: () =>
          new Promise<void>((ok) => {
            if (child.exitCode !== null) return ok();
            child.once('exit', () => ok());
            child.kill('SIGTERM');
          }),
      };
    }
  }
  child.kill('SIGKILL');
  throw new RedisUnavailableError('redis-server did not answer within 5 s');
}

function withoutPassword(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparsable URL)';
  }
}

export async function resolveRedis(opts: { url?: string; dataDir: string; log: Logger }): Promise<ResolvedRedis> {
  const none = async () => undefined;
  if (opts.url) {
    if (!(await answers(opts.url, 5000))) throw new RedisUnavailableError(`REDIS_URL ${withoutPassword(opts.url)} does not answer`);
    return { url: opts.url, source: 'REDIS_URL', stop: none };
  }
  const local = 'redis://127.0.0.1:6379';
  if (await answers(local)) return { url: local, source: 'local', stop: none };
  return startRedisChild(opts.dataDir, opts.log);
}
