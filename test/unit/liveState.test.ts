import { describe, expect, it } from 'vitest';
import { createLiveState, type DeviceLive, type LiveState, type PresenceChange } from '../../server/telemetry/liveState.ts';
import type { HealthSample } from '../../schemas/wire.ts';
import { seededRandom } from '../../agent/random.ts';

const HOUR = 3_600_000;
const INTERVAL = 300_000;
const sample = (ts: number, seq = 0): HealthSample => ({ ts, seq, battery: { level: 80, charging: false } });
const recount = (live: LiveState) => [...live.all()].filter((d) => d.online).length;
const ids = (list: DeviceLive[]) => list.map((d) => d.deviceId).sort();
/** Live state in which device d1 connected at t=0. */
function liveWithD1Connected(): LiveState {
  const live = createLiveState({ historyIntervalMs: INTERVAL });
  live.connected('d1', 0);
  return live;
}

describe('presence', () => {
  it('a connect brings a device online once', () => {
    const live = createLiveState({ historyIntervalMs: INTERVAL });
    expect(live.connected('d1', 1000)).toEqual({ deviceId: 'd1', online: true, reason: 'connect' });
    expect(live.get('d1')).toMatchObject({ connected: true, online: true, connectedAtMs: 1000, lastSeenMs: 1000 });
    expect(live.onlineCount()).toBe(1);
    // A second connect (reconnect before the old connection was noticed gone) changes nothing.
    expect(live.connected('d1', 2000)).toBeNull();
    expect(live.get('d1')!.connectedAtMs).toBe(2000);
    expect(live.onlineCount()).toBe(1);
  });

  it('state online:true on a connected, online device is no change; on a device never connected it cannot make it online', () => {
    const live = liveWithD1Connected();
    expect(live.state('d1', { online: true }, 10)).toBeNull();
    expect(live.state('ghost', { online: true, fwVersion: '2.0.0', slot: 'B' }, 10)).toBeNull();
    expect(live.get('ghost')).toMatchObject({ connected: false, online: false, fwVersion: '2.0.0', slot: 'B', lastSeenMs: 10 });
    expect(live.onlineCount()).toBe(1);
  });

  it('ignores a bare will ({online:false}) that arrives while the device holds a live connection (a takeover)', () => {
    const live = liveWithD1Connected();
    expect(live.state('d1', { online: false }, 50)).toBeNull();
    expect(live.get('d1')).toMatchObject({ connected: true, online: true });
    expect(live.onlineCount()).toBe(1);
  });

  it('a will after the disconnect is reported as the will', () => {
    const live = liveWithD1Connected();
    live.state('d1', { online: true, ts: 1 }, 10);
    live.disconnected('d1', 40);
    expect(live.state('d1', { online: false }, 50)).toBeNull();
    expect(live.get('d1')).toMatchObject({ connected: false, online: false });
    expect(live.onlineCount()).toBe(0);
  });

  it('a clean offline (state with ts) on a connected device marks it offline; a duplicate changes nothing more', () => {
    const live = liveWithD1Connected();
    expect(live.state('d1', { online: false, ts: 45 }, 50)).toEqual({ deviceId: 'd1', online: false, reason: 'state' });
    expect(live.get('d1')).toMatchObject({ connected: true, online: false, lastSeenMs: 50 });
    expect(live.onlineCount()).toBe(0);
    expect(live.state('d1', { online: false, ts: 55 }, 60)).toBeNull();
    expect(live.onlineCount()).toBe(0);
  });

  it('after a clean offline, the next message on the still-open connection brings the device back', () => {
    const live = liveWithD1Connected();
    live.state('d1', { online: false, ts: 45 }, 50);
    expect(live.seen('d1', 70)).toEqual({ deviceId: 'd1', online: true, reason: 'state' });
    expect(live.onlineCount()).toBe(1);
    expect(live.seen('d1', 80)).toBeNull();

    live.state('d1', { online: false, ts: 85 }, 90);
    expect(live.state('d1', { online: true }, 100)).toEqual({ deviceId: 'd1', online: true, reason: 'state' });
    expect(live.onlineCount()).toBe(1);
  });

  it('a disconnect takes the device offline; it does not come back by messages alone', () => {
    const live = liveWithD1Connected();
    expect(live.disconnected('d1', 500)).toEqual({ deviceId: 'd1', online: false, reason: 'disconnect' });
    expect(live.get('d1')).toMatchObject({ connected: false, online: false, disconnectedAtMs: 500 });
    expect(live.disconnected('d1', 600)).toBeNull();
    expect(live.seen('d1', 700)).toBeNull();
    expect(live.state('d1', { online: true }, 800)).toBeNull();
    expect(live.get('d1')!.online).toBe(false);
    expect(live.onlineCount()).toBe(0);
    expect(live.connected('d1', 900)).toEqual({ deviceId: 'd1', online: true, reason: 'connect' });
    expect(live.onlineCount()).toBe(1);
  });

  it('disconnect and seen of an unknown device do nothing and create nothing', () => {
    const live = createLiveState({ historyIntervalMs: INTERVAL });
    expect(live.disconnected('nope', 1)).toBeNull();
    expect(live.seen('nope', 1)).toBeNull();
    expect(live.get('nope')).toBeUndefined();
    expect([...live.all()]).toHaveLength(0);
    expect(live.takeDirty()).toEqual([]);
  });

  it('a silent online device expires strictly after the timeout; the connection stays and a message brings it back', () => {
    const live = liveWithD1Connected();
    live.connected('d2', 0);
    live.seen('d2', 100_000);
    expect(live.expire(120_000, 120_000)).toEqual([]);
    expect(live.expire(120_001, 120_000)).toEqual([{ deviceId: 'd1', online: false, reason: 'timeout' }]);
    expect(live.get('d1')).toMatchObject({ connected: true, online: false });
    expect(live.onlineCount()).toBe(1);
    // Already offline: not reported again.
    expect(live.expire(200_000, 120_000)).toEqual([]);
    expect(live.expire(220_001, 120_000)).toEqual([{ deviceId: 'd2', online: false, reason: 'timeout' }]);
    expect(live.onlineCount()).toBe(0);
    expect(live.seen('d1', 230_000)).toEqual({ deviceId: 'd1', online: true, reason: 'state' });
    expect(live.onlineCount()).toBe(1);
  });

  it('health and state refresh lastSeen, so they keep a device from expiring', () => {
    const live = liveWithD1Connected();
    live.health('d1', sample(90_000), 90_000);
    expect(live.expire(200_000, 120_000)).toEqual([]);
    live.state('d1', { online: true }, 190_000);
    expect(live.expire(300_000, 120_000)).toEqual([]);
    expect(live.expire(310_001, 120_000)).toHaveLength(1);
  });

  it('forget drops an online device from the count', () => {
    const live = liveWithD1Connected();
    live.connected('d2', 0);
    live.disconnected('d2', 1);
    live.forget('d1');
    live.forget('d2');
    live.forget('never');
    expect(live.onlineCount()).toBe(0);
    expect(live.get('d1')).toBeUndefined();
    expect(live.takeDirty()).toEqual([]);
  });

  it('restore seeds an offline device without counting or dirtying it', () => {
    const live = createLiveState({ historyIntervalMs: INTERVAL });
    live.restore({ deviceId: 'd1', fwVersion: '1.2.3', slot: 'A', lastSeenMs: 42, health: sample(10 * INTERVAL + 5) });
    live.restore({ deviceId: 'd2', fwVersion: null, slot: null, lastSeenMs: null, health: null });
    expect(live.get('d1')).toMatchObject({ connected: false, online: false, fwVersion: '1.2.3', slot: 'A', lastSeenMs: 42 });
    expect(live.get('d2')).toMatchObject({ connected: false, online: false, lastSeenMs: 0 });
    expect(live.get('d2')!.fwVersion).toBeUndefined();
    expect(live.onlineCount()).toBe(0);
    expect(live.takeDirty()).toEqual([]);
    expect(live.expire(10 * HOUR, 1)).toEqual([]);
  });
});

describe('onlineCount under random sequences', () => {
  it('always equals a recount over all(), online implies connected, and a change is reported iff online flipped', () => {
    // Plain checks (not expect) inside the loop keep 20 000 steps fast; the first violation throws with its context.
    const check = (ok: boolean, what: string) => {
      if (!ok) throw new Error(what);
    };
    for (const seed of [1, 2, 3, 42, 1234]) {
      const rnd = seededRandom(seed);
      const live = createLiveState({ historyIntervalMs: INTERVAL });
      const devs = Array.from({ length: 8 }, (_, i) => `d${i}`);
      const pick = () => devs[Math.floor(rnd() * devs.length)]!;
      let now = 0;
      for (let step = 0; step < 4000; step++) {
        const where = `seed ${seed} step ${step}`;
        now += Math.floor(rnd() * 20_000);
        const id = pick();
        const before = live.get(id)?.online ?? false;
        const op = Math.floor(rnd() * 10);
        let change: PresenceChange | null | undefined;
        switch (op) {
          case 0:
          case 1:
            change = live.connected(id, now);
            break;
          case 2:
            change = live.disconnected(id, now);
            break;
          case 3:
            change = live.state(id, { online: rnd() < 0.5 }, now);
            break;
          case 4:
            change = live.seen(id, now);
            break;
          case 5:
            live.health(id, sample(now), now);
            break;
          case 6: {
            const wasOnline = new Map([...live.all()].map((d) => [d.deviceId, d.online]));
            const changes = live.expire(now, 60_000);
            for (const c of changes) {
              check(wasOnline.get(c.deviceId) === true && !c.online && c.reason === 'timeout', `${where}: bad expiry ${JSON.stringify(c)}`);
            }
            const flipped = [...live.all()].filter((d) => wasOnline.get(d.deviceId) && !d.online).map((d) => d.deviceId);
            check(changes.map((c) => c.deviceId).sort().join() === flipped.sort().join(), `${where}: expire reported ${changes.length}, flipped ${flipped.length}`);
            break;
          }
          case 7:
            if (rnd() < 0.3) live.forget(id);
            else live.restore({ deviceId: id, fwVersion: '1.0.0', slot: 'A', lastSeenMs: now, health: null });
            break;
          case 8:
            live.markDirty([id, 'unknown']);
            for (const d of live.takeDirty()) check(live.get(d.deviceId) === d, `${where}: takeDirty returned a stale entry`);
            break;
          case 9:
            change = live.state(id, { online: true, fwVersion: `1.${step}` }, now);
            break;
        }
        if (change !== undefined) {
          const after = live.get(id)?.online ?? false;
          if (before === after) check(change === null, `${where}: op ${op} reported a change without a flip`);
          else check(change !== null && change.deviceId === id && change.online === after, `${where}: op ${op} flipped ${id} without reporting it`);
        }
        check(live.onlineCount() === recount(live), `${where}: onlineCount ${live.onlineCount()} != recount ${recount(live)} after op ${op}`);
        for (const d of live.all()) check(!d.online || d.connected, `${where}: ${d.deviceId} online but not connected`);
      }
    }
  });
});

describe('history buckets', () => {
  it('keeps the first sample of each interval, by the sample timestamp', () => {
    const live = createLiveState({ historyIntervalMs: INTERVAL });
    const t0 = 100 * INTERVAL;
    expect(live.health('d1', sample(t0 + 10), 5)).toBe(true);
    expect(live.health('d1', sample(t0 + INTERVAL - 1), 5)).toBe(false);
    expect(live.health('d1', sample(t0 + INTERVAL), 5)).toBe(true);
    expect(live.health('d1', sample(t0 + INTERVAL + 1), 5)).toBe(false);
    // A gap of several intervals: the next sample is kept.
    expect(live.health('d1', sample(t0 + 5 * INTERVAL + 7), 5)).toBe(true);
    expect(live.get('d1')!.historyBucketMs).toBe(t0 + 5 * INTERVAL);
    expect(live.get('d1')!.health!.ts).toBe(t0 + 5 * INTERVAL + 7);
  });

  it('keeps exactly one sample per interval over a long in-order stream, per device', () => {
    const live = createLiveState({ historyIntervalMs: INTERVAL });
    const rnd = seededRandom(9);
    const kept = new Map<string, number[]>();
    let ts = 1_700_000_000_000;
    for (let i = 0; i < 3000; i++) {
      ts += 1 + Math.floor(rnd() * 20_000);
      const id = rnd() < 0.5 ? 'a' : 'b';
      if (live.health(id, sample(ts, i), ts)) kept.set(id, [...(kept.get(id) ?? []), ts]);
    }
    for (const list of kept.values()) {
      const buckets = list.map((t) => Math.floor(t / INTERVAL));
      expect(new Set(buckets).size).toBe(buckets.length);
      // Each kept bucket's first sample: consecutive kept samples are in increasing buckets.
      for (let i = 1; i < buckets.length; i++) expect(buckets[i]!).toBeGreaterThan(buckets[i - 1]!);
    }
    // ~3000 samples × ~10 s over ~8 h → both devices have a kept sample in nearly every interval.
    const span = Math.floor(ts / INTERVAL) - Math.floor(1_700_000_000_000 / INTERVAL);
    for (const list of kept.values()) expect(list.length).toBeGreaterThan(span * 0.9);
  });

  it('after restore, a sample in the stored bucket is not kept again', () => {
    const live = createLiveState({ historyIntervalMs: INTERVAL });
    const t0 = 50 * INTERVAL + 100;
    live.restore({ deviceId: 'd1', fwVersion: null, slot: null, lastSeenMs: t0, health: sample(t0) });
    expect(live.health('d1', sample(t0 + 1000), t0 + 1000)).toBe(false);
    expect(live.health('d1', sample(51 * INTERVAL), 51 * INTERVAL)).toBe(true);
  });
});

describe('dirty tracking', () => {
  it('takeDirty returns each changed device once, then nothing until something changes', () => {
    const live = liveWithD1Connected();
    live.connected('d2', 0);
    live.health('d1', sample(1), 1);
    expect(ids(live.takeDirty())).toEqual(['d1', 'd2']);
    expect(live.takeDirty()).toEqual([]);
    live.health('d2', sample(2), 2);
    expect(ids(live.takeDirty())).toEqual(['d2']);
    live.disconnected('d1', 3);
    live.state('d2', { online: false, ts: 3 }, 3);
    expect(ids(live.takeDirty())).toEqual(['d1', 'd2']);
  });

  it('keeps health-only news for a full write, while presence and version changes go every time', () => {
    const live = liveWithD1Connected();
    live.connected('d2', 0);
    live.takeDirty();
    live.health('d1', sample(1), 1);
    live.seen('d2', 1);
    expect(live.takeDirty(false)).toEqual([]);
    live.state('d2', { online: true, fwVersion: '2.0.0', ts: 2 }, 2);
    expect(ids(live.takeDirty(false))).toEqual(['d2']);
    // d2's whole row was written with its version, so only d1's sample is still pending.
    expect(ids(live.takeDirty(true))).toEqual(['d1']);
    expect(live.takeDirty(true)).toEqual([]);
    live.health('d2', sample(3), 3);
    live.forget('d2');
    expect(live.takeDirty(true)).toEqual([]);
  });

  it('markDirty queues known devices again (after a failed flush) and ignores unknown ones', () => {
    const live = liveWithD1Connected();
    live.connected('d2', 0);
    const taken = live.takeDirty();
    expect(ids(taken)).toEqual(['d1', 'd2']);
    live.markDirty(taken.map((d) => d.deviceId).concat('ghost'));
    const again = live.takeDirty();
    expect(ids(again)).toEqual(['d1', 'd2']);
    expect(live.get('ghost')).toBeUndefined();
  });

  it('a forgotten device is not returned even if it was dirty', () => {
    const live = liveWithD1Connected();
    live.connected('d2', 0);
    live.forget('d1');
    live.markDirty(['d1']);
    expect(ids(live.takeDirty())).toEqual(['d2']);
  });

  it('returns the live entries with their latest values', () => {
    const live = liveWithD1Connected();
    live.state('d1', { online: true, fwVersion: '3.1.0', slot: 'B' }, 10);
    live.health('d1', sample(20, 7), 20);
    const [d] = live.takeDirty();
    expect(d).toMatchObject({ deviceId: 'd1', online: true, fwVersion: '3.1.0', slot: 'B', lastSeenMs: 20 });
    expect(d!.health!.seq).toBe(7);
  });
});
