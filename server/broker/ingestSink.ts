// What the broker hands over to ingest (server/telemetry/ingest.ts): connection events, and each
// validated message typed by its topic's schema, one handler per topic.
import type { DevicePublishKind, InboundMessages } from '../../schemas/wire.ts';

/** Why a message was dropped; also the `reason` label of `posfleet_messages_dropped_total`. */
export type RejectReason = 'too_large' | 'bad_json' | 'schema' | 'acl' | 'rate_limited';

/** One handler per topic a device publishes to, taking the message as its schema typed it. */
export type MessageHandlers = { [K in DevicePublishKind]: (deviceId: string, message: InboundMessages[K]) => void };

export interface IngestSink extends MessageHandlers {
  connected(deviceId: string): void;
  /** The device holds its command subscription: commands sent now reach it. */
  commandReady(deviceId: string): void;
  disconnected(deviceId: string): void;
  /** A sign of life without a message (PINGREQ). */
  heard(deviceId: string): void;
  rejected(deviceId: string, reason: RejectReason, detail: string): void;
  flooded(deviceId: string): void;
}
