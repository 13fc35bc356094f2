// Invalid payloads a faulty terminal publishes to its own topics, to exercise the server's
// rejection path (SPEC §3: dropped, counted, recorded; the connection stays up).
import { MAX_PAYLOAD_BYTES, type DevicePublishKind } from '../../schemas/wire.ts';

export const garbageKinds = ['bad_json', 'schema_violation', 'oversize'] as const;
export type GarbageKind = (typeof garbageKinds)[number];

export interface Garbage {
  kind: GarbageKind;
  topic: DevicePublishKind;
  payload: string;
}

export function makeGarbage(random: () => number, now: number): Garbage {
  const kind = garbageKinds[Math.floor(random() * garbageKinds.length)]!;
  switch (kind) {
    case 'bad_json':
      return { kind, topic: 'health', payload: `{"ts":${now},"seq":` };
    case 'schema_violation': {
      const variants: Array<[DevicePublishKind, unknown]> = [
        ['health', { ts: 'yesterday', seq: -1, battery: { level: 250, charging: 'maybe' } }],
        ['event', { ts: now, seq: 1, type: 'explosion', data: {} }],
        ['ack', { cmdId: '', state: 'done' }],
        ['state', { online: 'yes' }],
      ];
      const [topic, body] = variants[Math.floor(random() * variants.length)]!;
      return { kind, topic, payload: JSON.stringify(body) };
    }
    case 'oversize':
      // Well-formed and schema-valid but for its size: only the size check may reject it.
      return {
        kind,
        topic: 'event',
        payload: JSON.stringify({ ts: now, seq: 0, type: 'log', data: { blob: 'x'.repeat(MAX_PAYLOAD_BYTES + 4096) } }),
      };
  }
}
