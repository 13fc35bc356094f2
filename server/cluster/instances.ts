// Which instances of the cluster are alive: each refreshes a key with a TTL in Redis; a key that
// expired is an instance that died (kill -9, a lost host) or stopped. Every instance notices the
// death itself, and one of them (`claim`) does what the dead one left undone.
import { Redis } from 'ioredis';
import type { Logger } from '../log.ts';

export interface InstanceRegistry {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Instances whose key is alive now, this one included. */
  alive(): Promise<Set<string>>;
  /** Called once per instance seen dead (its key gone), on every instance. */
  onDead(fn: (instanceId: string) => void): void;
  /**
   * Called when this instance finds its own key gone at a refresh: its peers took it for dead (an
   * event loop stalled past the TTL) and cleaned up after it, so what it holds must be told again.
   */
  onRevived(fn: () => void): void;
  /** True for exactly one caller cluster-wide per `what` (until `ttlMs`): who cleans up after a death. */
  claim(what: string, ttlMs: number): Promise<boolean>;
}

export interface InstanceRegistryOptions {
  redisUrl: string;
  prefix: string;
  instanceId: string;
  log: Logger;
  /** How long an instance counts as alive after its last refresh. */
  ttlMs?: number;
}

export function createInstanceRegistry(opts: InstanceRegistryOptions): InstanceRegistry {
  const ttlMs = opts.ttlMs ?? 5_000;
  const refreshMs = Math.max(200, Math.floor(ttlMs / 3));
  const members = `${opts.prefix}:instances`;
  const keyOf = (id: string) => `${opts.prefix}:instance:${id}`;
  const redis = new Redis(opts.redisUrl, { maxRetriesPerRequest: null, lazyConnect: true });
  redis.on('error', (err) => opts.log.warn({ err: err.message }, 'instance registry: redis error'));
  const deadListeners: ((id: string) => void)[] = [];
  const revivedListeners: (() => void)[] = [];
  let started = false;
  let timer: NodeJS.Timeout | undefined;
  let known = new Set<string>();

  async function refresh() {
    const replies = await redis.multi().set(keyOf(opts.instanceId), String(Date.now()), 'PX', ttlMs, 'GET').sadd(members, opts.instanceId).exec();
    const previous = replies?.[0]?.[1];
    if (started && previous === null) {
      opts.log.warn({ instance: opts.instanceId }, 'this instance was taken for dead by its peers: telling them again what it holds');
      for (const fn of revivedListeners) fn();
    }
  }

  async function alive(): Promise<Set<string>> {
    const ids = await redis.smembers(members);
    if (!ids.length) return new Set();
    const present = await redis.mget(...ids.map(keyOf));
    return new Set(ids.filter((_, i) => present[i] !== null));
  }

  async function beat() {
    await refresh();
    const now = await alive();
    for (const id of known) {
      if (now.has(id) || id === opts.instanceId) continue;
      opts.log.warn({ instance: id }, 'instance gone');
      await redis.srem(members, id);
      for (const fn of deadListeners) fn(id);
    }
    known = now;
  }

  return {
    async start() {
      await redis.connect();
      await refresh();
      started = true;
      known = await alive();
      // Instances that died while none was watching are seen dead at the first beat.
      const listed = await redis.smembers(members);
      for (const id of listed) if (!known.has(id)) known.add(id);
      timer = setInterval(() => void beat().catch((err: unknown) => opts.log.warn({ err }, 'instance heartbeat failed')), refreshMs);
    },
    async stop() {
      if (timer) clearInterval(timer);
      started = false;
      // A clean stop: the others see the key gone at once and take over what this instance held.
      await redis
        .multi()
        .del(keyOf(opts.instanceId))
        .srem(members, opts.instanceId)
        .exec()
        .catch(() => undefined);
      await redis.quit().catch(() => redis.disconnect());
    },
    alive,
    onDead(fn) {
      deadListeners.push(fn);
    },
    onRevived(fn) {
      revivedListeners.push(fn);
    },
    async claim(what, claimTtlMs) {
      const won = await redis.set(`${opts.prefix}:claim:${what}`, opts.instanceId, 'PX', claimTtlMs, 'NX');
      return won === 'OK';
    },
  };
}
