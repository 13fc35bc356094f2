// In-process domain events: what the live stream (SSE) and other domains listen to.
import { EventEmitter } from 'node:events';

export interface LiveEvents {
  'device.presence': { deviceId: string; online: boolean; ts: number };
  'device.registered': { deviceId: string; serial: string };
  'device.enrolled': { deviceId: string; serial: string };
  'device.revoked': { deviceId: string };
  'device.rejected': { deviceId: string; reason: string };
  'device.event': { deviceId: string; type: string; severity?: string; ts: number };
  'command.updated': {
    id: string;
    deviceId: string;
    type: string;
    state: string;
    batchId: string | null;
    stage: string | null;
    progress: number | null;
    error: { code: string; message: string } | null;
    result: Record<string, unknown> | null;
  };
}

export type LiveEventName = keyof LiveEvents;

export interface EventBus {
  emit<K extends LiveEventName>(name: K, data: LiveEvents[K]): void;
  on<K extends LiveEventName>(name: K, fn: (data: LiveEvents[K]) => void): () => void;
  /** Every event, for the stream. */
  onAny(fn: (name: LiveEventName, data: LiveEvents[LiveEventName]) => void): () => void;
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
  };
}
