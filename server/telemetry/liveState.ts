// Latest state and presence of every device, kept in memory: the telemetry path never writes
// to the database per message. Changes are marked dirty and written behind in batches.
import type { HealthSample, StateMessage } from '../../schemas/wire.ts';

export interface DeviceLive {
  deviceId: string;
  /** An MQTT connection is open. */
  connected: boolean;
  /** Connected, last state said online, and heard from within the heartbeat timeout. */
  online: boolean;
  fwVersion?: string;
  slot?: string;
  lastSeenMs: number;
  connectedAtMs?: number;
  disconnectedAtMs?: number;
  health?: HealthSample;
  /** Start of the history bucket of the last sample kept for history. */
  historyBucketMs?: number;
}

export type PresenceChange = { deviceId: string; online: boolean; reason: 'connect' | 'state' | 'disconnect' | 'will' | 'timeout' };

export interface LiveState {
  get(deviceId: string): DeviceLive | undefined;
  all(): IterableIterator<DeviceLive>;
  onlineCount(): number;
  connected(deviceId: string, nowMs: number): PresenceChange | null;
  disconnected(deviceId: string, nowMs: number): PresenceChange | null;
  state(deviceId: string, msg: StateMessage, nowMs: number): PresenceChange | null;
  /** Returns true when the sample opens a new history bucket (keep it for history). */
  health(deviceId: string, sample: HealthSample, nowMs: number): boolean;
  seen(deviceId: string, nowMs: number): PresenceChange | null;
  /** Marks silent devices offline; returns the changes. */
  expire(nowMs: number, timeoutMs: number): PresenceChange[];
  /** Seeds memory from stored state at start (everything offline until it connects). */
  restore(row: { deviceId: string; fwVersion: string | null; slot: string | null; lastSeenMs: number | null; health: HealthSample | null }): void;
  forget(deviceId: string): void;
  /**
   * Devices to write: those whose presence, version or slot changed, and with `all` also those
   * whose only news is a health sample or a sign of life (kept for a later write otherwise).
   */
  takeDirty(all?: boolean): DeviceLive[];
  /** Marks devices for the next write again (after a failed flush). */
  markDirty(deviceIds: Iterable<string>): void;
}

export function createLiveState(opts: { historyIntervalMs: number }): LiveState {
  const devices = new Map<string, DeviceLive>();
  // Presence and version feed the device list's filters, so they are written at once; the latest
  // sample and last-seen time are served from memory and can wait for a later write.
  const dirty = new Set<string>();
  const quiet = new Set<string>();
  let online = 0;

  const entry = (deviceId: string, nowMs: number): DeviceLive => {
    let d = devices.get(deviceId);
    if (!d) {
      d = { deviceId, connected: false, online: false, lastSeenMs: nowMs };
      devices.set(deviceId, d);
    }
    return d;
  };

  const setOnline = (d: DeviceLive, value: boolean, reason: PresenceChange['reason']): PresenceChange | null => {
    dirty.add(d.deviceId);
    if (d.online === value) return null;
    d.online = value;
    online += value ? 1 : -1;
    return { deviceId: d.deviceId, online: value, reason };
  };

  return {
    get: (id) => devices.get(id),
    all: () => devices.values(),
    onlineCount: () => online,
    connected(id, nowMs) {
      const d = entry(id, nowMs);
      d.connected = true;
      d.connectedAtMs = nowMs;
      d.lastSeenMs = nowMs;
      return setOnline(d, true, 'connect');
    },
    disconnected(id, nowMs) {
      const d = devices.get(id);
      if (!d) return null;
      d.connected = false;
      d.disconnectedAtMs = nowMs;
      return setOnline(d, false, 'disconnect');
    },
    state(id, msg, nowMs) {
      const d = entry(id, nowMs);
      d.lastSeenMs = nowMs;
      if (msg.fwVersion !== undefined) d.fwVersion = msg.fwVersion;
      if (msg.slot !== undefined) d.slot = msg.slot;
      // A will (online:false) may arrive after the device already reconnected on a new
      // connection; only a connected device can be online.
      // The will is the bare `{online:false}`; an agent going down cleanly says more (ts, version).
      const isWill = !msg.online && msg.ts === undefined;
      // A will of an old connection can arrive after the device reconnected (a takeover): the
      // live connection speaks for the device. Its own loss is reported by the disconnect.
      if (isWill && d.connected) return null;
      dirty.add(id);
      return setOnline(d, msg.online && d.connected, isWill ? 'will' : 'state');
    },
    health(id, sample, nowMs) {
      const d = entry(id, nowMs);
      d.lastSeenMs = nowMs;
      d.health = sample;
      quiet.add(id);
      const bucket = Math.floor(sample.ts / opts.historyIntervalMs) * opts.historyIntervalMs;
      if (d.historyBucketMs === bucket) return false;
      d.historyBucketMs = bucket;
      return true;
    },
    seen(id, nowMs) {
      const d = devices.get(id);
      if (!d) return null;
      d.lastSeenMs = nowMs;
      quiet.add(id);
      return d.connected && !d.online ? setOnline(d, true, 'state') : null;
    },
    expire(nowMs, timeoutMs) {
      const changes: PresenceChange[] = [];
      for (const d of devices.values()) {
        if (d.online && nowMs - d.lastSeenMs > timeoutMs) {
          const c = setOnline(d, false, 'timeout');
          if (c) changes.push(c);
        }
      }
      return changes;
    },
    restore(row) {
      const d = entry(row.deviceId, row.lastSeenMs ?? 0);
      d.fwVersion = row.fwVersion ?? undefined;
      d.slot = row.slot ?? undefined;
      d.health = row.health ?? undefined;
      if (row.health) d.historyBucketMs = Math.floor(row.health.ts / opts.historyIntervalMs) * opts.historyIntervalMs;
    },
    forget(id) {
      const d = devices.get(id);
      if (d?.online) online -= 1;
      devices.delete(id);
      dirty.delete(id);
      quiet.delete(id);
    },
    takeDirty(all = true) {
      const out: DeviceLive[] = [];
      const take = (set: Set<string>) => {
        for (const id of set) {
          const d = devices.get(id);
          if (d) out.push(d);
        }
        set.clear();
      };
      for (const id of dirty) quiet.delete(id); // its whole row is written now either way
      take(dirty);
      if (all) take(quiet);
      return out;
    },
    markDirty(ids) {
      for (const id of ids) if (devices.has(id)) dirty.add(id);
    },
  };
}
