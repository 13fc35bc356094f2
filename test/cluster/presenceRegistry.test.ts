// The terminal registry on the real Redis: the last instance to connect a terminal holds it, an
// instance lets go of it only while the entry is still its own (so the old holder's late
// disconnect cannot remove the new holder's entry), and a dead instance's entries go at once,
// each to one remover.
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { createTerminalRegistry, type TerminalRegistry } from '../../server/cluster/terminalRegistry.ts';
import { createLogger } from '../../server/log.ts';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const log = createLogger('silent');
const started: TerminalRegistry[] = [];
const prefixes: string[] = [];
afterEach(async () => {
  for (const r of started.splice(0)) await r.stop();
  const redis = new Redis(REDIS_URL);
  for (const p of prefixes.splice(0)) await redis.del(`${p}:terminals`);
  await redis.quit();
});

async function registries(...ids: string[]): Promise<TerminalRegistry[]> {
  const prefix = `{t-${randomBytes(4).toString('hex')}}`;
  prefixes.push(prefix);
  const out: TerminalRegistry[] = [];
  for (const instanceId of ids) {
    const r = createTerminalRegistry({ redisUrl: REDIS_URL, prefix, instanceId, log });
    await r.start();
    started.push(r);
    out.push(r);
  }
  return out;
}

describe('terminal registry', () => {
  it("keeps the new holder's entry when the old holder lets go late", async () => {
    const [a, b] = await registries('a', 'b');
    await a!.hold('dev_1');
    await b!.hold('dev_1'); // the terminal reconnected to b
    expect(await a!.release('dev_1')).toBe('b');
    expect(await b!.holderOf('dev_1')).toBe('b');
    expect(await b!.release('dev_1')).toBe('b');
    expect(await a!.holderOf('dev_1')).toBeNull();
    expect(await a!.release('dev_1')).toBeNull();
  });

  it('lists every entry and removes those of one instance only', async () => {
    const [a, b] = await registries('a', 'b');
    for (let i = 0; i < 2_500; i++) await (i % 2 ? a! : b!).hold(`dev_${i}`);
    const all = await a!.all();
    expect(all.size).toBe(2_500);
    expect(all.get('dev_1')).toBe('a');
    const removed = await b!.removeInstance('a');
    expect(removed).toHaveLength(1_250);
    const left = await b!.all();
    expect(left.size).toBe(1_250);
    expect([...left.values()].every((v) => v === 'b')).toBe(true);
  });

  it("gives each of a dead instance's terminals to one remover only when several clean up at once", async () => {
    const [dead, a, b] = await registries('x', 'a', 'b');
    for (let i = 0; i < 3_000; i++) await dead!.hold(`dev_${i}`);
    const [byA, byB] = await Promise.all([a!.removeInstance('x'), b!.removeInstance('x')]);
    expect(byA.length + byB.length).toBe(3_000);
    expect(new Set([...byA, ...byB]).size).toBe(3_000);
    expect((await a!.all()).size).toBe(0);
  });
});
