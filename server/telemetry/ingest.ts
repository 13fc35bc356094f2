// Where validated device messages of every topic land (the broker's publish checks hand each one
// over typed by its schema): memory first, timeline and history buffered, and the command
// tracker told about acks and devices coming back. Synchronous on the hot path; health samples
// reach the live stream only for devices a subscriber watches.
import type { AckMessage, DeviceEvent, HealthSample, StateMessage } from '../../schemas/wire.ts';
import type { IngestSink } from '../broker/ingestSink.ts';
import type { TimelineWriter } from '../devices/timelineWriter.ts';
import type { EventBus } from '../events/eventBus.ts';
import { storableCopy } from '../http/storableText.ts';
import { toPoint } from './healthPoint.ts';
import type { LiveState, PresenceChange } from './liveState.ts';
import type { StateWriter } from './stateWriter.ts';

/**
 * Cluster mode (server/cluster/presenceHold.ts): a local connection opening or closing does not
 * settle a terminal's presence alone, since the terminal may have moved to another instance.
 */
export interface HoldGate {
  connected(deviceId: string): void;
  /** Calls `offline` unless the terminal is now held by another instance or came back here. */
  disconnected(deviceId: string, offline: () => void): void;
}

export interface IngestDeps {
  live: LiveState;
  writer: StateWriter;
  timeline: TimelineWriter;
  bus: EventBus;
  onAck: (deviceId: string, ack: AckMessage) => void;
  /** The device can receive commands again (it holds its command subscription). */
  onCommandReady: (deviceId: string) => void;
  /** Extra listeners for domain rules (faults, geofence...) added by later modules. */
  onHealth?: (deviceId: string, sample: HealthSample) => void;
  onEvent?: (deviceId: string, event: DeviceEvent) => void;
  onPresence?: (change: PresenceChange) => void;
  onState?: (deviceId: string, msg: StateMessage) => void;
  /** Absent on a single instance: a close is an offline at once. */
  hold?: () => HoldGate | undefined;
  now?: () => number;
}

export interface Ingest extends IngestSink {
  presenceChanged(change: PresenceChange): void;
}

const presenceSummary: Record<PresenceChange['reason'], string> = {
  connect: 'connected',
  state: 'reported its state',
  disconnect: 'disconnected',
  will: 'went offline (last will)',
  timeout: 'silent past the heartbeat timeout',
};

export function createIngest(deps: IngestDeps): Ingest {
  const now = deps.now ?? Date.now;

  function presenceChanged(c: PresenceChange) {
    const ts = now();
    deps.timeline.add({ deviceId: c.deviceId, kind: c.online ? 'online' : 'offline', summary: presenceSummary[c.reason], data: { reason: c.reason } });
    deps.bus.emit('device.presence', { deviceId: c.deviceId, online: c.online, ts });
    deps.onPresence?.(c);
  }
  const apply = (c: PresenceChange | null) => c && presenceChanged(c);

  return {
    presenceChanged,
    connected(id) {
      apply(deps.live.connected(id, now()));
      deps.hold?.()?.connected(id);
    },
    commandReady(id) {
      deps.onCommandReady(id);
    },
    disconnected(id) {
      const gate = deps.hold?.();
      if (gate) gate.disconnected(id, () => apply(deps.live.disconnected(id, now())));
      else apply(deps.live.disconnected(id, now()));
    },
    heard(id) {
      apply(deps.live.seen(id, now()));
    },
    state(id, msg) {
      apply(deps.live.state(id, msg, now()));
      deps.onState?.(id, msg);
    },
    health(id, sample) {
      const t = now();
      apply(deps.live.seen(id, t));
      if (deps.live.health(id, sample, t)) deps.writer.keepHistory(id, sample);
      // Live to the stream only when a subscriber watches this device (one Map lookup).
      if (deps.bus.healthWatch.wants(id)) deps.bus.emit('device.health', { deviceId: id, ...toPoint(new Date(sample.ts), sample) });
      deps.onHealth?.(id, sample);
    },
    event(id, ev) {
      apply(deps.live.seen(id, now()));
      deps.timeline.add({
        deviceId: id,
        kind: 'event',
        summary: `${ev.type}${ev.severity ? ` (${ev.severity})` : ''}`,
        data: { type: ev.type, severity: ev.severity, seq: ev.seq, deviceTs: ev.ts, data: ev.data },
      });
      deps.bus.emit('device.event', { deviceId: id, type: ev.type, severity: ev.severity, ts: ev.ts });
      deps.onEvent?.(id, ev);
    },
    ack(id, ack) {
      apply(deps.live.seen(id, now()));
      deps.onAck(id, ack);
    },
    rejected(id, reason, detail) {
      const kind = reason === 'acl' ? 'security' : 'rejected';
      // The detail quotes what was sent (a topic, cut at 200 characters): it must not fail the write.
      const data = { reason, detail: storableCopy(detail) };
      deps.timeline.addCoalesced(`${id}:${reason}`, { deviceId: id, kind, summary: `message dropped: ${reason}`, data });
      deps.bus.emit('device.rejected', { deviceId: id, reason });
    },
    flooded(id) {
      deps.timeline.add({ deviceId: id, kind: 'security', summary: 'disconnected for flooding', data: { reason: 'flood' } });
    },
  };
}
