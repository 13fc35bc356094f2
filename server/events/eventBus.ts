// In-process domain events: what the live stream (SSE) and other domains listen to.
import { EventEmitter } from 'node:events';
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
    state: string;
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

export interface EventBus {
  emit<K extends LiveEventName>(name: K, data: LiveEvents[K]): void;
  on<K extends LiveEventName>(name: K, fn: (data: LiveEvents[K]) => void): () => void;
  /** Every event, for the stream. */
  onAny(fn: (name: LiveEventName, data: LiveEvents[LiveEventName]) => void): () => void;
  /** Devices whose health samples stream subscribers asked for (`device.health`). */
  healthWatch: HealthWatch;
}

export function createEventBus(): EventBus {
  const emitter = new EventEmitter();
  emitter.setMaxListeners(0);
  return {
    emit(name, data) {
      emitter.emit(name, data);
      emitter.emit('*', name, data);
    },
    on(name, fn) {
      emitter.on(name, fn);
      return () => emitter.off(name, fn);
    },
    onAny(fn) {
      emitter.on('*', fn);
      return () => emitter.off('*', fn);
    },
    healthWatch: createHealthWatch(),
  };
}
