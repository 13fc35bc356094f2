// Integration: real redis-server processes, no mocks. Needs the redis-server binary on PATH.
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../server/log.ts';
import { RedisUnavailableError, resolveRedis, startRedisChild, type ResolvedRedis } from '../../server/jobs/redisResolver.ts';

const log = createLogger('silent');
const root = mkdtempSync(join(tmpdir(), 'posfleet-redis-'));
let n = 0;
const freshDir = () => join(root, `d${n++}`);
const started: ResolvedRedis[] = [];
const clients: Redis[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.disconnect();
  await Promise.all(started.splice(0).map((r) => r.stop()));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const client = (url: string) => {
  const c = new Redis(url, { lazyConnect: true, connectTimeout: 1000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  c.on('error', () => undefined);
  clients.push(c);
  return c;
};

async function answers(url: string): Promise<boolean> {
  const c = client(url);
  try {
    await c.connect();
    return (await c.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    c.disconnect();
  }
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('resolveRedis', () => {
  it('a REDIS_URL that does not answer is a RedisUnavailableError telling how to get Redis', async () => {
    const dataDir = freshDir();
    const err: unknown = await resolveRedis({ url: 'redis://127.0.0.1:1', dataDir, log }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(RedisUnavailableError);
    const e = err as RedisUnavailableError;
    expect(e.name).toBe('RedisUnavailableError');
    expect(e.message).toContain('apt-get install redis-server');
    expect(e.message).toContain('REDIS_URL redis://127.0.0.1:1 does not answer');
    // It did not fall back to starting a child.
    expect(existsSync(join(dataDir, 'redis'))).toBe(false);
  });

  it('uses a REDIS_URL that answers as is, and its stop() leaves that Redis running', async () => {
    const child = await startRedisChild(freshDir(), log);
    started.push(child);
    const dataDir = freshDir();
    const r = await resolveRedis({ url: child.url, dataDir, log });
    expect(r.url).toBe(child.url);
    expect(r.source).toBe('REDIS_URL');
    await r.stop();
    expect(await answers(child.url)).toBe(true);
    expect(existsSync(join(dataDir, 'redis'))).toBe(false);
  });

  it('without REDIS_URL, prefers a Redis answering on 127.0.0.1:6379 and starts no child', async (ctx) => {
    if (!(await answers('redis://127.0.0.1:6379'))) ctx.skip();
    const dataDir = freshDir();
    const r = await resolveRedis({ dataDir, log });
    expect(r).toMatchObject({ url: 'redis://127.0.0.1:6379', source: 'local' });
    await r.stop();
    expect(existsSync(join(dataDir, 'redis'))).toBe(false);
    expect(await answers('redis://127.0.0.1:6379')).toBe(true);
  });
});

describe('startRedisChild', () => {
  it('starts a redis-server that answers PING, keeps its AOF under DATA_DIR/redis, and stop() ends it', async () => {
    const dataDir = freshDir();
    const r = await startRedisChild(dataDir, log);
    started.push(r);
    expect(r.source).toBe('child');
    expect(r.url).toMatch(/^redis:\/\/127\.0\.0\.1:\d+$/);
    expect(r.url).not.toBe('redis://127.0.0.1:6379');

    const aofDir = resolve(dataDir, 'redis');
    expect(existsSync(aofDir)).toBe(true);

    const c = client(r.url);
    await c.connect();
    expect(await c.ping()).toBe('PONG');
    expect(await c.config('GET', 'dir')).toEqual(['dir', aofDir]);
    expect(await c.config('GET', 'appendonly')).toEqual(['appendonly', 'yes']);
    const pid = Number(/process_id:(\d+)/.exec(await c.info('server'))?.[1]);
    expect(pid).toBeGreaterThan(0);
    expect(alive(pid)).toBe(true);
    await c.set('posfleet:test', 'kept');
    c.disconnect();
    expect(readdirSync(aofDir).length).toBeGreaterThan(0);

    await r.stop();
    expect(alive(pid)).toBe(false);
    expect(await answers(r.url)).toBe(false);
    // A second stop() of an ended process returns at once.
    await r.stop();
  });

  it('keeps data across restarts in the same DATA_DIR (append-only file)', async () => {
    const dataDir = freshDir();
    const first = await startRedisChild(dataDir, log);
    started.push(first);
    const a = client(first.url);
    await a.connect();
    await a.set('posfleet:persist', 'still here');
    a.disconnect();
    await first.stop();

    const second = await startRedisChild(dataDir, log);
    started.push(second);
    const b = client(second.url);
    await b.connect();
    expect(await b.get('posfleet:persist')).toBe('still here');
  });
});
