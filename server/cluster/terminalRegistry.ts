// Which instance holds each terminal's connection: one Redis hash, terminal → instance, written
// by the holder when the terminal connects and removed when it leaves, but only while the entry
// is still the remover's (compare-and-delete in Lua): after a takeover the new holder's entry
// stays. The truth an instance checks when its own connection of a terminal closes (did the
// terminal leave, or move?), and what a starting instance reads to know who holds what.
import { Redis } from 'ioredis';
import type { Logger } from '../log.ts';

export interface TerminalRegistry {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** This instance holds the terminal now. */
  hold(deviceId: string): Promise<void>;
  /** Removes the entry if it is still this instance's; returns the holder found (null: none). */
  release(deviceId: string): Promise<string | null>;
  holderOf(deviceId: string): Promise<string | null>;
  /** The whole hash, terminal → instance. */
  all(): Promise<Map<string, string>>;
  /**
   * Removes every entry of `instanceId` (a dead instance); returns the terminals this call
   * removed, so two instances cleaning up at once never both take the same terminal.
   */
  removeInstance(instanceId: string): Promise<string[]>;
}

// Returns the holder before the call: ARGV[1] when the entry was ours (then deleted).
const RELEASE_IF_OURS = `
local v = redis.call('HGET', KEYS[1], ARGV[2])
if v == ARGV[1] then redis.call('HDEL', KEYS[1], ARGV[2]) end
return v`;

// Deletes the given fields whose value is still ARGV[1]; returns those it deleted.
const REMOVE_IF_OF = `
local removed = {}
for i = 2, #ARGV do
  if redis.call('HGET', KEYS[1], ARGV[i]) == ARGV[1] then
    redis.call('HDEL', KEYS[1], ARGV[i])
    removed[#removed + 1] = ARGV[i]
  end
end
return removed`;

const SCAN_COUNT = 1000;

export function createTerminalRegistry(opts: { redisUrl: string; prefix: string; instanceId: string; log: Logger }): TerminalRegistry {
  const key = `${opts.prefix}:terminals`;
  // Auto-pipelining: a reconnect storm's thousands of HSETs travel in a few round trips.
  const redis = new Redis(opts.redisUrl, { maxRetriesPerRequest: null, lazyConnect: true, enableAutoPipelining: true });
  redis.on('error', (err) => opts.log.warn({ err: err.message }, 'terminal registry: redis error'));

  async function scan(fn: (deviceId: string, instanceId: string) => void) {
    let cursor = '0';
    do {
      const [next, flat] = await redis.hscan(key, cursor, 'COUNT', SCAN_COUNT);
      for (let i = 0; i + 1 < flat.length; i += 2) fn(flat[i]!, flat[i + 1]!);
      cursor = next;
    } while (cursor !== '0');
  }

  return {
    async start() {
      await redis.connect();
    },
    async stop() {
      await redis.quit().catch(() => redis.disconnect());
    },
    async hold(deviceId) {
      await redis.hset(key, deviceId, opts.instanceId);
    },
    async release(deviceId) {
      const found: unknown = await redis.eval(RELEASE_IF_OURS, 1, key, opts.instanceId, deviceId);
      return typeof found === 'string' ? found : null;
    },
    holderOf: (deviceId) => redis.hget(key, deviceId),
    async all() {
      const out = new Map<string, string>();
      await scan((d, i) => out.set(d, i));
      return out;
    },
    async removeInstance(instanceId) {
      const listed: string[] = [];
      await scan((d, i) => {
        if (i === instanceId) listed.push(d);
      });
      const removed: string[] = [];
      for (let i = 0; i < listed.length; i += SCAN_COUNT) {
        const got: unknown = await redis.eval(REMOVE_IF_OF, 1, key, instanceId, ...listed.slice(i, i + SCAN_COUNT));
        if (Array.isArray(got)) for (const id of got) if (typeof id === 'string') removed.push(id);
      }
      return removed;
    },
  };
}
