// The checks every PUBLISH from a terminal goes through, as a list of named steps run in order
// (after aedes' lib/handlers/publish.js): cheapest first, each drops the message with its reason.
// A message that passes them all is validated against its topic's schema and handed to ingest
// typed by it. Runs synchronously for every message, so the facts the steps share live in one
// object reused for every message: a message costs no allocation here beyond parsing it.
import type { Client, PublishPacket } from 'aedes';
import type { z } from 'zod';
import { inboundValidators } from '../../schemas/inboundValidators.ts';
import { MAX_PAYLOAD_BYTES, inboundSchemas, type DevicePublishKind, type InboundMessages } from '../../schemas/wire.ts';
import { MAX_NESTING, unstorableFields } from '../http/storableText.ts';
import type { Metrics } from '../metrics.ts';
import { decidePublish } from './acl.ts';
import type { IngestSink, MessageHandlers, RejectReason } from './ingestSink.ts';
import { newBucket, takeToken, type Bucket, type RateLimit } from './rateLimiter.ts';

export interface PublishChecksDeps {
  sink: IngestSink;
  metrics: Metrics;
  rateLimit: RateLimit;
  /** Refusals in a row after which a flooding connection is closed. */
  floodDisconnectAfter: number;
  now?: () => number;
}

export interface PublishChecks {
  /** Runs the checks; true when the message passed and was handed to ingest, false when dropped. */
  admit(client: Sender, packet: Publish): boolean;
  /**
   * A PINGREQ, SUBSCRIBE or UNSUBSCRIBE: takes a token from the terminal's bucket like a publish,
   * so that a flood of them is closed like a flood of publishes; false when over the rate.
   */
  admitControl(client: Sender): boolean;
  /** Forgets a device's rate bucket (its connection closed). */
  forget(deviceId: string): void;
}

/** The parts of an aedes client and PUBLISH packet the checks read. */
type Sender = Pick<Client, 'id' | 'close'>;
type Publish = Pick<PublishPacket, 'topic' | 'payload'>;

/** What the steps learn about the message in hand. */
interface MessageFacts {
  deviceId: string;
  nowMs: number;
  /** The topic's kind, set by `ownTopic`. */
  kind: DevicePublishKind;
  /** The parsed payload, set by `jsonPayload`. */
  json: unknown;
}

/** One step: true lets the message on to the next, false drops it (the step says why). */
type PublishStep = (client: Sender, packet: Publish, facts: MessageFacts) => boolean;

type SchemaOf = { [K in DevicePublishKind]: z.ZodType<InboundMessages[K]> };
const schemaOf: SchemaOf = inboundSchemas;

const BACKSLASH = 0x5c;
const LETTER_U = 0x75;
const OPENERS = [0x7b, 0x5b]; // { [

/**
 * Whether a payload's JSON may hold what `storable` refuses, so that nearly every message is spared
 * the walk: only a `\u` escape decodes to U+0000 or a lone surrogate (UTF-8 decoding gives U+FFFD,
 * and JSON allows no raw control character in a string; a backslash in valid JSON always starts an
 * escape, so `\\\\` is skipped whole), and passing MAX_NESTING levels takes more brackets than that.
 */
function mayBeUnstorable(payload: Buffer | string): boolean {
  const bytes = typeof payload === 'string' ? Buffer.from(payload) : payload;
  // Byte needles: a string needle is converted to bytes again at each call.
  for (let i = bytes.indexOf(BACKSLASH); i >= 0; i = bytes.indexOf(BACKSLASH, i + 2)) if (bytes[i + 1] === LETTER_U) return true;
  // Fewer bytes than MAX_NESTING levels need cannot nest that deep.
  if (bytes.length <= MAX_NESTING) return false;
  let brackets = 0;
  for (const open of OPENERS) {
    for (let i = bytes.indexOf(open); i >= 0; i = bytes.indexOf(open, i + 1)) if (++brackets > MAX_NESTING) return true;
  }
  return false;
}

export function createPublishChecks(deps: PublishChecksDeps): PublishChecks {
  const { metrics, sink, rateLimit } = deps;
  const now = deps.now ?? Date.now;
  const buckets = new Map<string, Bucket>();
  const handlers: MessageHandlers = sink;
  function drop(deviceId: string, reason: RejectReason, detail: string): false {
    metrics.dropped.inc({ reason });
    sink.rejected(deviceId, reason, detail);
    return false;
  }

  /** One token from the device's bucket; a device refused too often in a row is disconnected. */
  function spendToken(client: Sender, deviceId: string, nowMs: number): boolean {
    let bucket = buckets.get(deviceId);
    if (!bucket) buckets.set(deviceId, (bucket = newBucket(rateLimit, nowMs)));
    if (takeToken(bucket, rateLimit, nowMs)) return true;
    metrics.dropped.inc({ reason: 'rate_limited' });
    // Told once per run of refusals: a flood must not flood the timeline too.
    if (bucket.refusedInRow === 1) sink.rejected(deviceId, 'rate_limited', 'over the message rate: throttled');
    if (bucket.refusedInRow >= deps.floodDisconnectAfter) {
      sink.flooded(deviceId);
      client.close();
    }
    return false;
  }

  const withinRate: PublishStep = (client, _packet, facts) => spendToken(client, facts.deviceId, facts.nowMs);

  /** Only the device's own state, health, event and ack topics (acl.ts). */
  const ownTopic: PublishStep = (_client, packet, facts) => {
    const decision = decidePublish(facts.deviceId, packet.topic);
    if (!decision.allowed) return drop(facts.deviceId, 'acl', `publish to ${packet.topic.slice(0, 200)} refused (${decision.reason})`);
    facts.kind = decision.kind;
    return true;
  };

  const withinSize: PublishStep = (_client, packet, facts) => {
    const size = typeof packet.payload === 'string' ? Buffer.byteLength(packet.payload) : packet.payload.length;
    return size <= MAX_PAYLOAD_BYTES || drop(facts.deviceId, 'too_large', `${size} bytes on ${facts.kind} (limit ${MAX_PAYLOAD_BYTES})`);
  };

  const jsonPayload: PublishStep = (_client, packet, facts) => {
    try {
      facts.json = JSON.parse(typeof packet.payload === 'string' ? packet.payload : packet.payload.toString('utf8'));
      return true;
    } catch {
      return drop(facts.deviceId, 'bad_json', `payload on ${facts.kind} is not JSON`);
    }
  };

  /**
   * What PostgreSQL cannot store (U+0000, a lone surrogate) fails every write that carries it, and
   * JSON nested thousands of levels deep overflows the stack of the write's JSON.stringify: one
   * such event stalled the timeline of every terminal, retried at each flush. Both break the schema.
   */
  const storable: PublishStep = (_client, packet, facts) => {
    if (!mayBeUnstorable(packet.payload)) return true;
    const fields = unstorableFields(facts.json);
    if (fields.length === 0) return true;
    // Paths are made of the sender's keys: each is cut, as the ACL's detail cuts the topic.
    const issues = fields.slice(0, 5).map((f) => `${f.path.slice(0, 200) || '(root)'}: ${f.message}`);
    return drop(facts.deviceId, 'schema', `${facts.kind}: ${issues.join('; ')}`);
  };

  const steps: readonly PublishStep[] = [withinRate, ownTopic, withinSize, jsonPayload, storable];

  const valid = inboundValidators();

  /**
   * The last step: the topic's schema, then ingest, with the message typed by that schema. The
   * compiled validator decides; zod, which accepts the same payloads, names a refusal's issues.
   */
  function validThenIngest<K extends DevicePublishKind>(kind: K, deviceId: string, json: unknown): boolean {
    if (valid[kind](json)) return ingest(kind, deviceId, json);
    const parsed = schemaOf[kind].safeParse(json);
    if (parsed.success) return ingest(kind, deviceId, parsed.data);
    const issues = parsed.error.issues.slice(0, 5).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    return drop(deviceId, 'schema', `${kind}: ${issues.join('; ')}`);
  }

  function ingest<K extends DevicePublishKind>(kind: K, deviceId: string, message: InboundMessages[K]): true {
    metrics.countAccepted(kind);
    handlers[kind](deviceId, message);
    return true;
  }

  const facts: MessageFacts = { deviceId: '', nowMs: 0, kind: 'state', json: undefined };

  return {
    admit(client, packet) {
      facts.deviceId = client.id;
      facts.nowMs = now();
      for (let i = 0; i < steps.length; i++) if (!steps[i]!(client, packet, facts)) return false;
      const json = facts.json;
      facts.json = undefined; // not kept alive until the next message
      return validThenIngest(facts.kind, facts.deviceId, json);
    },
    admitControl(client) {
      return spendToken(client, client.id, now());
    },
    forget(deviceId) {
      buckets.delete(deviceId);
    },
  };
}
