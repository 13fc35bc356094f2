// Latest state and presence of every device, kept in memory: the telemetry path never writes
// to the database per message. Changes are marked dirty and written behind in batches.
// In a cluster it also holds the presence of terminals connected to other instances, as their
// holders report it (applyRemote): those entries are never dirty, only the holder writes them.
import type { PresenceNote } from '../../schemas/cluster.ts';
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
  /** The instance holding its connection (this one's id for a local one); none while offline. */
  holder?: string;
  /**
   * Its presence was last told by a peer (cluster mode): the latest health sample is not here
   * (telemetry stays with the holder), device_state has the holder's copy.
   */
  fromPeer?: boolean;
}

/**
 * What a peer's note did: `taken` = the terminal is now held by that peer and was not before;
 * `contested` = this instance holds it itself, so the note was not applied (the registry decides).
 */
export type RemoteOutcome = 'applied' | 'taken' | 'contested' | 'ignored';

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
   * A peer's view of a terminal it holds or held, applied without marking it dirty. An offline
   * note of an instance that no longer holds it is ignored (the old holder's disconnect can
   * arrive after the new holder's connect); `force` applies it over this instance's own hold.
   */
  applyRemote(note: PresenceNote, from: string, force?: boolean): RemoteOutcome;
  /** Another instance holds the terminal now (a takeover seen here first); not dirty. */
  heldElsewhere(deviceId: string, holder: string): void;
  /** Marks the terminals held by a dead instance offline (not dirty); returns those that were online. */
  dropHolder(instanceId: string, nowMs: number): string[];
  /** The terminals this instance holds locally. */
  heldHere(): DeviceLive[];
  /** Called once when local presence news waits to be taken (cluster mode shares it). */
  onNews(fn: () => void): void;
  /** Devices whose presence, version or slot changed locally since the last call. */
  takeNews(): DeviceLive[];
  /**
   * Devices to write: those whose presence, version or slot changed, and with `all` also those
   * whose only news is a health sample or a sign of life (kept for a later write otherwise).
   */
  takeDirty(all?: boolean): DeviceLive[];
  /** Marks devices for the next write again (after a failed flush). */
  markDirty(deviceIds: Iterable<string>): void;
}

export function createLiveState(opts: { historyIntervalMs: number; instanceId?: string }): LiveState {
  const self = opts.instanceId ?? 'local';
  const devices = new Map<string, DeviceLive>();
  // Presence and version feed the device list's filters, so they are written at once; the latest
  // sample and last-seen time are served from memory and can wait for a later write.
  const dirty = new Set<string>();
  const quiet = new Set<string>();
  // Only tracked once someone listens (cluster mode); a single instance keeps no news.
  const news = new Set<string>();
  let newsListener: (() => void) | undefined;
  let online = 0;

  const tell = (id: string) => {
    if (!newsListener) return;
    const first = news.size === 0;
    news.add(id);
    if (first) newsListener();
  };
  /** Held by a peer: this instance's leftovers of an older connection do not speak for it. */
  const elsewhere = (d: DeviceLive) => d.holder !== undefined && d.holder !== self;

  const countOnline = (d: DeviceLive, value: boolean) => {
    if (d.online === value) return;
    d.online = value;
    online += value ? 1 : -1;
  };

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
    tell(d.deviceId);
    if (d.online === value) return null;
    countOnline(d, value);
    return { deviceId: d.deviceId, online: value, reason };
  };

  return {
    get: (id) => devices.get(id),
    all: () => devices.values(),
    onlineCount: () => online,
    connected(id, nowMs) {
      const d = entry(id, nowMs);
      d.connected = true;
      d.holder = self;
      d.fromPeer = false;
      d.connectedAtMs = nowMs;
      d.lastSeenMs = nowMs;
      return setOnline(d, true, 'connect');
    },
    disconnected(id, nowMs) {
      const d = devices.get(id);
      if (!d || elsewhere(d)) return null;
      d.connected = false;
      d.holder = undefined;
      d.disconnectedAtMs = nowMs;
      return setOnline(d, false, 'disconnect');
    },
    state(id, msg, nowMs) {
      const d = entry(id, nowMs);
      if (elsewhere(d)) return null;
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
      if (!d || elsewhere(d)) return null;
      d.lastSeenMs = nowMs;
      quiet.add(id);
      return d.connected && !d.online ? setOnline(d, true, 'state') : null;
    },
    expire(nowMs, timeoutMs) {
      const changes: PresenceChange[] = [];
      for (const d of devices.values()) {
        // A peer's terminal times out at its holder, which says so.
        if (d.online && !elsewhere(d) && nowMs - d.lastSeenMs > timeoutMs) {
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
      news.delete(id);
    },
    applyRemote(note, from, force = false) {
      const d = entry(note.deviceId, note.lastSeenMs);
      const before = d.holder;
      if (before === self && d.connected && !force) return 'contested';
      if (!note.connected && before !== undefined && before !== from && before !== self) return 'ignored';
      d.holder = note.connected ? from : undefined;
      d.fromPeer = true;
      if (note.connected && d.connected !== note.connected) d.connectedAtMs = note.lastSeenMs;
      if (!note.connected && d.connected) d.disconnectedAtMs = note.lastSeenMs;
      d.connected = note.connected;
      d.fwVersion = note.fwVersion ?? undefined;
      d.slot = note.slot ?? undefined;
      d.lastSeenMs = Math.max(d.lastSeenMs, note.lastSeenMs);
      countOnline(d, note.online && note.connected);
      // Whatever this instance had still to write of it is the new holder's to write now.
      if (note.connected) dirty.delete(d.deviceId);
      return note.connected && before !== from ? 'taken' : 'applied';
    },
    heldElsewhere(id, holder) {
      const d = entry(id, Date.now());
      d.holder = holder;
      d.fromPeer = true;
      d.connected = true;
      dirty.delete(id);
      news.delete(id);
    },
    dropHolder(instanceId, nowMs) {
      const wereOnline: string[] = [];
      for (const d of devices.values()) {
        if (d.holder !== instanceId) continue;
        if (d.online) wereOnline.push(d.deviceId);
        d.holder = undefined;
        d.fromPeer = true;
        d.connected = false;
        d.disconnectedAtMs = nowMs;
        countOnline(d, false);
      }
      return wereOnline;
    },
    heldHere() {
      const out: DeviceLive[] = [];
      for (const d of devices.values()) if (d.holder === self && d.connected) out.push(d);
      return out;
    },
    onNews(fn) {
      newsListener = fn;
    },
    takeNews() {
      const out: DeviceLive[] = [];
      for (const id of news) {
        const d = devices.get(id);
        if (d) out.push(d);
      }
      news.clear();
      return out;
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
