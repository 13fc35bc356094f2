// In-process domain events: what the live stream (SSE) and other domains listen to.
import { EventEmitter } from 'node:events';
import type { CommandState } from '../../schemas/db.ts';
import type { DeviceJobLiveEvent, FaultLiveEvent } from '../../schemas/faults.ts';
import type { AckResult, ErrorInfo } from '../../schemas/wire.ts';
import type { HealthPoint } from '../telemetry/healthPoint.ts';
import { createHealthWatch, type HealthWatch } from './healthWatch.ts';

export interface LiveEvents {
  'device.presence': { deviceId: string; online: boolean; ts: number };
  'device.registered': { deviceId: string; serial: string };
  'device.enrolled': { deviceId: string; serial: string };
  'device.revoked': { deviceId: string };
  'device.rejected': { deviceId: string; reason: string };
  'device.event': { deviceId: string; type: string; severity?: string; ts: number };
  /**
   * A health sample, as chart numbers: emitted only for devices someone on the stream watches
   * (`healthWatch`), never for the whole fleet.
   */
  'device.health': HealthPoint & { deviceId: string };
  /** A merchant rule fired or cleared (relocation, transaction limits...): for the faults module. */
  'device.alert': { deviceId: string; code: string; severity: string; summary: string; open: boolean; data: Record<string, unknown> };
  /** A terminal's merchant binding changed. */
  'device.binding': { deviceId: string; merchantId: string | null; tid: string | null; epoch: number };
  'command.updated': {
    id: string;
    deviceId: string;
    type: string;
    state: CommandState;
    batchId: string | null;
    stage: string | null;
    progress: number | null;
    error: ErrorInfo | null;
    result: AckResult | null;
  };
  /** Faults (server/faults): a fault opened; acknowledged, assigned, noted or resolved. */
  'fault.opened': FaultLiveEvent;
  'fault.updated': FaultLiveEvent;
  /** A diag.run result or a log bundle changed state. */
  'diagnostics.updated': DeviceJobLiveEvent;
  'logs.updated': DeviceJobLiveEvent;
  /** A campaign (firmware rollout, key rotation) changed state or phase (server/campaigns/). */
  'campaign.updated': {
    id: string;
    kind: string;
    state: string;
    phasesStarted: number;
    pausedReason: string | null;
    rollingBack: boolean;
    reason?: string;
    counts?: Partial<Record<string, number>>[];
  };
  /** One device of a campaign moved to another state. */
  'campaign.device': {
    campaignId: string;
    kind: string;
    deviceId: string;
    phase: number;
    state: string;
    action: 'apply' | 'revert';
    progress: number | null;
    error: ErrorInfo | null;
  };
}

export type LiveEventName = keyof LiveEvents;

/** An event another instance of the cluster emitted (server/cluster/eventRelay.ts). */
export interface RemoteEvent {
  name: string;
  data: unknown;
}

export interface EventBus {
  emit<K extends LiveEventName>(name: K, data: LiveEvents[K]): void;
  /**
   * Events of this instance only: what a listener does with them (write a row, open a fault,
   * send a command) must happen once, on the instance where the event happened.
   */
  on<K extends LiveEventName>(name: K, fn: (data: LiveEvents[K]) => void): () => void;
  /** Events of every instance of the cluster (this one's and relayed ones), e.g. for a campaign's leader. */
  onCluster<K extends LiveEventName>(name: K, fn: (data: LiveEvents[K]) => void): () => void;
  /** Every event of every instance, for the stream. */
  onAny(fn: (name: LiveEventName, data: LiveEvents[LiveEventName]) => void): () => void;
  /** Local events, for the relay to peers. */
  onLocalAny(fn: (name: LiveEventName, data: LiveEvents[LiveEventName]) => void): () => void;
  /**
   * An event relayed from a peer: heard by onCluster and onAny listeners, not by `on`. Its data
   * was emitted by the same build on the peer; the relay checked only its envelope.
   */
  emitRemote(event: RemoteEvent): void;
  /** Devices whose health samples stream subscribers asked for (`device.health`). */
  healthWatch: HealthWatch;
}

export function createEventBus(): EventBus {
  // Local listeners hear `name`; cluster-wide ones `cluster:name`; the stream `*`, the relay `local:*`.
  const emitter = new EventEmitter();
  emitter.setMaxListeners(0);
  const clusterNames = new Map<string, string>();
  const clusterName = (name: string) => {
    const built = `cluster:${name}`;
    clusterNames.set(name, built);
    return built;
  };
  const subscribe = <A extends unknown[]>(event: string, fn: (...args: A) => void) => {
    emitter.on(event, fn);
    return () => void emitter.off(event, fn);
  };
  return {
    // Called for every ack of a fleet-wide command: an emit nobody listens to (no stream open,
    // alone without a relay) is skipped before its channel name is even built.
    emit(name, data) {
      if (emitter.listenerCount(name)) emitter.emit(name, data);
      const cluster = clusterNames.get(name) ?? clusterName(name);
      if (emitter.listenerCount(cluster)) emitter.emit(cluster, data);
      if (emitter.listenerCount('*')) emitter.emit('*', name, data);
      if (emitter.listenerCount('local:*')) emitter.emit('local:*', name, data);
    },
    emitRemote(event) {
      emitter.emit(`cluster:${event.name}`, event.data);
      emitter.emit('*', event.name, event.data);
    },
    on: (name, fn) => subscribe(name, fn),
    onCluster: (name, fn) => subscribe(`cluster:${name}`, fn),
    onAny: (fn) => subscribe('*', fn),
    onLocalAny: (fn) => subscribe('local:*', fn),
    healthWatch: createHealthWatch(),
  };
}
