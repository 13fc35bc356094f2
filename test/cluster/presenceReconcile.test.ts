// The registry corrects what lost presence notes left wrong, on the real Redis: a peer's terminal
// that the registry names nowhere is offline here, one it names at a live peer is connected
// there, one named at a dead instance is offline, and a terminal held here is left alone.
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import type { PresenceNote } from '../../schemas/cluster.ts';
import { createInstanceRegistry } from '../../server/cluster/instances.ts';
import { createPresenceReconcile } from '../../server/cluster/presenceReconcile.ts';
import { createTerminalRegistry } from '../../server/cluster/terminalRegistry.ts';
import { createLogger } from '../../server/log.ts';
import { createLiveState } from '../../server/telemetry/liveState.ts';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const log = createLogger('silent');
const prefix = `{t-${randomBytes(4).toString('hex')}}`;
const stops: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const stop of stops.reverse()) await stop();
  const redis = new Redis(REDIS_URL);
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length) await redis.del(...keys);
  await redis.quit();
});

const note = (deviceId: string, over: Partial<PresenceNote> = {}): PresenceNote => ({
  deviceId,
  online: true,
  connected: true,
  fwVersion: '1.0.0',
  slot: 'A',
  lastSeenMs: Date.now(),
  ...over,
});

describe('presence reconcile', () => {
  it('puts right what lost notes left wrong, from the registry', async () => {
    const regA = createTerminalRegistry({ redisUrl: REDIS_URL, prefix, instanceId: 'a', log });
    const regB = createTerminalRegistry({ redisUrl: REDIS_URL, prefix, instanceId: 'b', log });
    const regC = createTerminalRegistry({ redisUrl: REDIS_URL, prefix, instanceId: 'c', log });
    const instA = createInstanceRegistry({ redisUrl: REDIS_URL, prefix, instanceId: 'a', log });
    const instB = createInstanceRegistry({ redisUrl: REDIS_URL, prefix, instanceId: 'b', log });
    for (const part of [regA, regB, regC, instA, instB]) {
      await part.start();
      stops.push(() => part.stop());
    }
    const live = createLiveState({ historyIntervalMs: 60_000, instanceId: 'a' });
    live.applyRemote(note('left-b'), 'b'); // b's offline note was lost: the registry names nobody
    await regB.hold('on-b'); // b's connect note was lost
    live.applyRemote(note('on-dead-c'), 'c');
    await regC.hold('on-dead-c'); // c is not alive
    live.connected('here', Date.now()); // held here, whatever the registry says
    live.takeDirty();

    await createPresenceReconcile({ instanceId: 'a', live, registry: regA, instances: instA, log }).run();

    expect(live.get('left-b')).toMatchObject({ online: false, connected: false, holder: undefined });
    expect(live.get('on-b')).toMatchObject({ online: true, connected: true, holder: 'b' });
    expect(live.get('on-dead-c')).toMatchObject({ online: false, holder: undefined });
    expect(live.get('here')).toMatchObject({ online: true, holder: 'a' });
    expect(live.onlineCount()).toBe(2);
    expect(live.takeDirty()).toEqual([]);
  });
});
