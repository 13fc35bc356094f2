// The link between instances over the real Redis: broadcasts reach peers and never the sender,
// requests get replies with the peer's error codes, a peer that does not answer is a 503, a
// malformed message is dropped without touching the handlers; the event relay carries bus
// events in batches, and health watching crosses instances.
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { createRedisLink, type ClusterLink } from '../../server/cluster/clusterLink.ts';
import { createEventRelay } from '../../server/cluster/eventRelay.ts';
import { createInstanceRegistry } from '../../server/cluster/instances.ts';
import { AppError, conflict } from '../../server/errors.ts';
import { createEventBus, type LiveEventName } from '../../server/events/eventBus.ts';
import { createLogger } from '../../server/log.ts';
import { eventually } from '../helpers/eventually.ts';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const log = createLogger('silent');
const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
});

async function links(n: number, prefix = `{t-${randomBytes(4).toString('hex')}}`): Promise<ClusterLink[]> {
  const out: ClusterLink[] = [];
  for (let i = 0; i < n; i++) {
    const link = createRedisLink({ redisUrl: REDIS_URL, prefix, instanceId: `i${i}`, log });
    await link.start();
    stops.push(() => link.stop());
    out.push(link);
  }
  return out;
}

describe('cluster link', () => {
  it('broadcasts to every peer and never back to the sender', async () => {
    const [a, b, c] = await links(3);
    const heard: string[] = [];
    for (const [name, link] of [['a', a!], ['b', b!], ['c', c!]] as const)
      link.on('invalidate', (msg, from) => heard.push(`${name}<-${from}:${msg.kind}`));
    a!.publish('invalidate', { kind: 'principal', userId: 'usr_1' });
    await eventually(() => heard.length === 2, { what: 'both peers heard' });
    await new Promise((r) => setTimeout(r, 100));
    expect(heard.sort()).toEqual(['b<-i0:principal', 'c<-i0:principal']);
  });

  it('keeps two clusters on one Redis apart', async () => {
    const [a] = await links(1);
    const [other] = await links(1);
    let heard = 0;
    other!.on('commands', () => heard++);
    a!.publish('commands', { kind: 'created', commands: [{ id: 'cmd_1', deviceId: 'dev_1' }] });
    await new Promise((r) => setTimeout(r, 200));
    expect(heard).toBe(0);
  });

  it('answers requests, carrying the peer error code, and times out a silent peer', async () => {
    const [a, b] = await links(2);
    b!.serve('double', async (params) => (typeof params === 'number' ? params * 2 : Promise.reject(conflict('invalid_state', 'not a number'))));
    await expect(a!.call('i1', 'double', 21)).resolves.toBe(42);
    const refused = await a!.call('i1', 'double', 'x').catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(AppError);
    expect(refused).toMatchObject({ status: 409, code: 'invalid_state', message: 'not a number' });
    const unknownMethod = await a!.call('i1', 'nothing', null).catch((e: unknown) => e);
    expect(unknownMethod).toMatchObject({ status: 503, code: 'unavailable' });
    const silent = await a!.call('nobody', 'double', 1, 300).catch((e: unknown) => e);
    expect(silent).toMatchObject({ status: 503, code: 'unavailable' });
  });

  it('drops a malformed message and goes on', async () => {
    const prefix = `{t-${randomBytes(4).toString('hex')}}`;
    const [a, b] = await links(2, prefix);
    const heard: string[] = [];
    b!.on('invalidate', (msg) => heard.push(msg.kind));
    const raw = new Redis(REDIS_URL);
    stops.push(async () => void (await raw.quit()));
    await raw.publish(`${prefix}:cluster:invalidate`, 'not json');
    await raw.publish(`${prefix}:cluster:invalidate`, JSON.stringify({ from: 'x', channel: 'invalidate', msg: { kind: 'device', deviceIds: [] } }));
    a!.publish('invalidate', { kind: 'device', deviceIds: ['dev_1'] });
    await eventually(() => heard.length === 1, { what: 'the valid message' });
    expect(heard).toEqual(['device']);
  });
});

describe('event relay', () => {
  it('carries local events to peers for cluster listeners only, not back, and shares health watching', async () => {
    const [la, lb] = await links(2);
    const [busA, busB] = [createEventBus(), createEventBus()];
    for (const [bus, link] of [[busA, la!], [busB, lb!]] as const) {
      const relay = createEventRelay({ bus, link });
      relay.start();
      stops.push(async () => relay.stop());
    }
    const local: string[] = [];
    const cluster: string[] = [];
    const stream: LiveEventName[] = [];
    busB.on('device.presence', (e) => local.push(e.deviceId));
    busB.onCluster('device.presence', (e) => cluster.push(e.deviceId));
    busB.onAny((name) => stream.push(name));
    let echoed = 0;
    busA.onCluster('device.presence', () => echoed++);
    for (let i = 0; i < 1500; i++) busA.emit('device.presence', { deviceId: `dev_${i}`, online: true, ts: i });
    await eventually(() => cluster.length === 1500, { what: 'all relayed' });
    expect(cluster.slice(0, 3)).toEqual(['dev_0', 'dev_1', 'dev_2']);
    expect(local).toEqual([]);
    expect(stream.length).toBe(1500);
    await new Promise((r) => setTimeout(r, 100));
    expect(echoed).toBe(1500); // its own, once each: nothing came back from B

    expect(busB.healthWatch.wants('dev_9')).toBe(false);
    const unwatch = busA.healthWatch.watch(['dev_9']);
    await eventually(() => busB.healthWatch.wants('dev_9'), { what: 'B sees A watching' });
    unwatch();
    await eventually(() => !busB.healthWatch.wants('dev_9'), { what: 'B sees A stop' });
  });
});

describe('instance registry', () => {
  it('sees a stopped peer dead and lets exactly one instance claim the clean-up', async () => {
    const prefix = `{t-${randomBytes(4).toString('hex')}}`;
    const regs = ['r0', 'r1', 'r2'].map((instanceId) => createInstanceRegistry({ redisUrl: REDIS_URL, prefix, instanceId, log, ttlMs: 900 }));
    for (const r of regs) await r.start();
    stops.push(async () => void (await Promise.all(regs.slice(0, 2).map((r) => r.stop()))));
    expect([...(await regs[0]!.alive())].sort()).toEqual(['r0', 'r1', 'r2']);
    const dead: string[] = [];
    regs[0]!.onDead((id) => dead.push(`r0 saw ${id}`));
    regs[1]!.onDead((id) => dead.push(`r1 saw ${id}`));
    // A peer is known from the first heartbeat after it started (ttl/3).
    await new Promise((r) => setTimeout(r, 700));
    await regs[2]!.stop();
    await eventually(() => dead.length === 2, { what: `both saw r2 go (${dead.join(", ")})` });
    expect(dead.sort()).toEqual(['r0 saw r2', 'r1 saw r2']);
    const claims = await Promise.all(regs.slice(0, 2).map((r) => r.claim('reap:r2', 5000)));
    expect(claims.filter(Boolean)).toHaveLength(1);
  });

  it('tells an instance taken for dead that it must announce itself again', async () => {
    const prefix = `{t-${randomBytes(4).toString('hex')}}`;
    const reg = createInstanceRegistry({ redisUrl: REDIS_URL, prefix, instanceId: 'slow', log, ttlMs: 900 });
    await reg.start();
    stops.push(() => reg.stop());
    let revived = 0;
    reg.onRevived(() => revived++);
    await new Promise((r) => setTimeout(r, 700));
    expect(revived).toBe(0);
    // What peers see when its refreshes stalled past the TTL: the key gone.
    const raw = new Redis(REDIS_URL);
    stops.push(async () => void (await raw.quit()));
    await raw.del(`${prefix}:instance:slow`);
    await eventually(() => revived === 1, { what: 'revived once' });
    await new Promise((r) => setTimeout(r, 700));
    expect(revived).toBe(1);
  });
});
