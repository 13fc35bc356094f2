// The live state's view of terminals held by other instances of a cluster: applied without
// marking them dirty, counted online, never timed out here, an old holder's late offline note
// ignored, and this instance's own hold not overwritten by a peer's note unless forced.
import { describe, expect, it } from 'vitest';
import type { PresenceNote } from '../../schemas/cluster.ts';
import { createLiveState } from '../../server/telemetry/liveState.ts';

const note = (over: Partial<PresenceNote> = {}): PresenceNote => ({
  deviceId: 'dev_1',
  online: true,
  connected: true,
  fwVersion: '2.0.0',
  slot: 'A',
  lastSeenMs: 1_000,
  ...over,
});

const fresh = () => createLiveState({ historyIntervalMs: 60_000, instanceId: 'a' });

describe('live state: remote entries', () => {
  it('applies a peer note as online, held there, without marking it for writing', () => {
    const live = fresh();
    expect(live.applyRemote(note(), 'b')).toBe('taken');
    expect(live.get('dev_1')).toMatchObject({ online: true, connected: true, holder: 'b', fwVersion: '2.0.0', slot: 'A' });
    expect(live.onlineCount()).toBe(1);
    expect(live.takeDirty()).toEqual([]);
    expect(live.applyRemote(note({ fwVersion: '2.1.0', lastSeenMs: 2_000 }), 'b')).toBe('applied');
    expect(live.get('dev_1')?.fwVersion).toBe('2.1.0');
  });

  it('never times a peer terminal out here', () => {
    const live = fresh();
    live.applyRemote(note(), 'b');
    expect(live.expire(1_000_000, 1_000)).toEqual([]);
    expect(live.onlineCount()).toBe(1);
  });

  it("ignores the old holder's offline note after the terminal moved", () => {
    const live = fresh();
    live.applyRemote(note(), 'b');
    expect(live.applyRemote(note({ lastSeenMs: 2_000 }), 'c')).toBe('taken');
    expect(live.applyRemote(note({ online: false, connected: false, lastSeenMs: 2_100 }), 'b')).toBe('ignored');
    expect(live.get('dev_1')).toMatchObject({ online: true, holder: 'c' });
    expect(live.applyRemote(note({ online: false, connected: false, lastSeenMs: 3_000 }), 'c')).toBe('applied');
    expect(live.get('dev_1')).toMatchObject({ online: false, connected: false, holder: undefined });
    expect(live.onlineCount()).toBe(0);
  });

  it("does not let a peer's note overwrite this instance's own hold unless forced", () => {
    const live = fresh();
    live.connected('dev_1', 1_000);
    live.takeDirty();
    expect(live.applyRemote(note(), 'b')).toBe('contested');
    expect(live.get('dev_1')?.holder).toBe('a');
    expect(live.applyRemote(note(), 'b', true)).toBe('taken');
    expect(live.get('dev_1')?.holder).toBe('b');
    // The old local connection closing now says nothing about the terminal.
    expect(live.disconnected('dev_1', 2_000)).toBeNull();
    expect(live.state('dev_1', { online: false }, 2_000)).toBeNull();
    expect(live.get('dev_1')).toMatchObject({ online: true, connected: true, holder: 'b' });
    expect(live.takeDirty()).toEqual([]);
  });

  it('marks the terminals of a dead instance offline and returns those that were online', () => {
    const live = fresh();
    live.applyRemote(note({ deviceId: 'd1' }), 'b');
    live.applyRemote(note({ deviceId: 'd2', online: false }), 'b');
    live.applyRemote(note({ deviceId: 'd3' }), 'c');
    expect(live.dropHolder('b', 5_000).sort()).toEqual(['d1']);
    expect(live.get('d2')).toMatchObject({ connected: false, holder: undefined });
    expect(live.onlineCount()).toBe(1);
  });

  it('keeps news of local changes only once someone listens, and tells once per batch', () => {
    const live = fresh();
    live.connected('d0', 1);
    expect(live.takeNews()).toEqual([]);
    let told = 0;
    live.onNews(() => told++);
    live.connected('d1', 1);
    live.state('d1', { online: true, fwVersion: '3.0.0', ts: 2 }, 2);
    live.connected('d2', 1);
    expect(told).toBe(1);
    expect(
      live
        .takeNews()
        .map((d) => d.deviceId)
        .sort(),
    ).toEqual(['d1', 'd2']);
    live.applyRemote(note({ deviceId: 'd9' }), 'b');
    expect(live.takeNews()).toEqual([]);
  });
});
