// A corpus of hostile MQTT byte streams for the embedded broker, built deterministically: each case
// is a well-formed packet from mqtt-packet's generate (the codec aedes and mqtt.js parse with),
// corrupted by hand where the case needs it, or raw bytes; the random ones come from a fixed
// fast-check seed. Each case names the outcome the broker owes it, so the replay
// (mqttCorpus.test.ts) can hold every case to it.
import fc from 'fast-check';
import { generate, type IConnectPacket, type IPublishPacket, type Packet } from 'mqtt-packet';
import { MAX_PAYLOAD_BYTES, topicFor } from '../../schemas/wire.ts';
import type { RejectReason } from '../../server/broker/ingestSink.ts';
import { packetLimits } from '../../server/broker/packetSizeGuard.ts';

/** A `posfleet_messages_dropped_total` reason: a dropped message's, or a refused subscription's. */
export type DropReason = RejectReason | 'acl_subscribe';

/** Who the cases are aimed at. */
export interface CorpusContext {
  /** The corpus's own enrolled terminal: the cases of lanes `self` and `connected` use its credentials. */
  self: { deviceId: string; password: string };
  /** An honest terminal, connected meanwhile, that the cases try to reach, impersonate or kick. */
  victim: string;
}

/**
 * What the broker owes a case:
 * - `closed`: the socket is closed without any CONNACK accepting it (but the one of lane
 *   `connected`);
 * - `refused`: a CONNACK with this non-zero return code, then the socket closed;
 * - `dropped`: the link stays up (a PINGREQ sent after is answered) and
 *   posfleet_messages_dropped_total{reason} counted the drop;
 * - `alive`: the link stays up, nothing dropped needed;
 * - `willDropped`: the link stays up; once the replay drops the socket, the case's will is
 *   refused and counted under `reason`.
 */
export type Outcome =
  | { kind: 'closed' }
  | { kind: 'refused'; returnCode: number }
  | { kind: 'dropped'; reason: DropReason }
  | { kind: 'alive' }
  | { kind: 'willDropped'; reason: DropReason };

export interface CorpusCase {
  name: string;
  /**
   * `raw`: the bytes are the first a fresh socket sends, with no valid credentials in them.
   * `self`: the same, with the corpus terminal's credentials. `connected`: they follow a CONNECT
   * accepted as the corpus's terminal. Cases of `self` and `connected` share one client id, so
   * the replay runs them one at a time.
   */
  lane: 'raw' | 'self' | 'connected';
  /** Lane `connected`: the CONNECT sent first instead of the terminal's plain one. */
  connect?: Buffer;
  /** Written one after the other, each as its own socket write. */
  chunks: Buffer[];
  /** The replay reads none of the broker's answers until the outcome is known (a client that never reads). */
  unread?: true;
  outcome: Outcome;
}

const closed: Outcome = { kind: 'closed' };
const refused = (returnCode: number): Outcome => ({ kind: 'refused', returnCode });
const dropped = (reason: DropReason): Outcome => ({ kind: 'dropped', reason });

/**
 * Keepalive of the corpus's own CONNECT: long enough that no case is closed for it (a case owed
 * `closed` must be closed for what it sent), but the one about silence, which sends 1 s and is cut
 * off at 1.5 × that.
 */
const SELF_KEEPALIVE_S = 60;
const SILENCE_KEEPALIVE_S = 1;

export function selfConnect(ctx: CorpusContext, extra: Partial<IConnectPacket> = {}): Buffer {
  return connect({ clientId: ctx.self.deviceId, username: ctx.self.deviceId, password: Buffer.from(ctx.self.password), ...extra });
}

function connect(fields: Partial<IConnectPacket>): Buffer {
  return generate({
    cmd: 'connect',
    protocolId: 'MQTT',
    protocolVersion: 4,
    clean: true,
    keepalive: SELF_KEEPALIVE_S,
    clientId: 'corpus',
    ...fields,
  });
}

function publish(topic: string, payload: Buffer | string, fields: Partial<IPublishPacket> = {}): Buffer {
  return generate({ cmd: 'publish', topic, payload, qos: 0, retain: false, dup: false, ...fields });
}

const packet = (p: Packet): Buffer => generate(p);
const many = (count: number, one: () => Buffer) => Buffer.concat(Array.from({ length: count }, one));
const subscribe = (topic: string) => packet({ cmd: 'subscribe', messageId: 8, subscriptions: [{ topic, qos: 1 }] });
const pingreq = () => packet({ cmd: 'pingreq' });
const health = (seq: number) => JSON.stringify({ ts: 1_700_000_000_000, seq, battery: { level: 50, charging: false } });

/** `bytes` with the byte at `index` replaced by `value`. */
function patch(bytes: Buffer, index: number, value: number): Buffer {
  const copy = Buffer.from(bytes);
  copy[index] = value;
  return copy;
}

/** Where a CONNECT's protocol level byte is, after its variable-length header and protocol name. */
const levelIndex = (connectBytes: Buffer) => connectBytes.indexOf('MQTT') + 4;

/** `bytes` with the first occurrence of `from` replaced by `to` (same length: no length field changes). */
function replaceFirst(bytes: Buffer, from: string, to: Buffer): Buffer {
  const at = bytes.indexOf(from);
  if (at < 0 || Buffer.byteLength(from) !== to.length) throw new Error(`cannot replace ${from} in place`);
  const copy = Buffer.from(bytes);
  to.copy(copy, at);
  return copy;
}

/** JSON arrays nested `depth` levels deep. */
const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);
const deepEvent = (depth: number) => `{"ts":1700000000000,"seq":1,"type":"log","data":{"d":${nested(depth)}}}`;

/** `prefix`, a NUL, then padding that puts the high half of an emoji at the topic's 200th character. */
const unstorableTopic = (prefix: string) => `${prefix}\u0000`.padEnd(199, 'x') + '\u{1F600}';

/** Two bytes that are no UTF-8 (a lone continuation byte, then an overlong encoding's lead). */
const BAD_UTF8 = Buffer.from([0x80, 0xc0]);

/** A header of type byte `type` whose remaining length takes five bytes (MQTT allows four). */
const fiveByteLength = (type: number, last: number) => Buffer.from([type, 0x80, 0x80, 0x80, 0x80, last]);

function rawCases(ctx: CorpusContext): CorpusCase[] {
  const raw = (name: string, chunks: Buffer[], outcome: Outcome = closed): CorpusCase => ({ name, lane: 'raw', chunks, outcome });
  const asSelf = (name: string, chunks: Buffer[], outcome: Outcome): CorpusCase => ({ name, lane: 'self', chunks, outcome });
  const victimHealth = publish(topicFor(ctx.victim, 'health'), health(1));
  const good = selfConnect(ctx);
  return [
    raw('reserved packet type 0', [Buffer.from([0x00, 0x00])]),
    raw('reserved packet type 15', [Buffer.from([0xf0, 0x00])]),
    raw('CONNECT with reserved header flags', [patch(connect({}), 0, 0x11)]),
    asSelf('CONNECT with valid credentials but reserved header flags', [patch(good, 0, 0x1f)], closed),
    raw('CONNECT whose remaining length takes 5 bytes, zero', [fiveByteLength(0x10, 0x00)]),
    raw('CONNECT whose remaining length takes 5 bytes, 256 MB', [Buffer.from([0x10, 0xff, 0xff, 0xff, 0xff, 0x7f])]),
    raw('CONNECT declaring more bytes than it sends, then silence', [patch(connect({}), 1, connect({})[1]! + 20)]),
    raw('half a CONNECT, then silence', [connect({}).subarray(0, 9)]),
    raw('CONNECT with protocol name MQTX', [replaceFirst(connect({}), 'MQTT', Buffer.from('MQTX'))]),
    raw('CONNECT with protocol level 7', [patch(connect({}), levelIndex(connect({})), 7)]),
    raw('CONNECT with protocol level 2', [patch(connect({}), levelIndex(connect({})), 2)]),
    raw('CONNECT of MQTT 5 (level 5)', [connect({ protocolVersion: 5 })], refused(1)),
    asSelf('CONNECT with invalid UTF-8 in the client id', [replaceFirst(good, ctx.self.deviceId.slice(0, 2), BAD_UTF8)], refused(2)),
    raw(
      'CONNECT with invalid UTF-8 in the user name',
      [connect({ clientId: 'x', username: `a${BAD_UTF8.toString('latin1')}b`, password: Buffer.from('p') })],
      refused(4),
    ),
    raw('CONNECT with a 64 KiB client id', [connect({ clientId: 'c'.repeat(64 * 1024) })]),
    asSelf(
      'CONNECT with a client id just under the pre-auth packet limit',
      [selfConnect(ctx, { clientId: 'c'.repeat(packetLimits.beforeAuth - 200) })],
      refused(2),
    ),
    raw(
      'CONNECT impersonating the victim with a wrong password',
      [connect({ clientId: ctx.victim, username: ctx.victim, password: Buffer.from('wrong') })],
      refused(4),
    ),
    raw(
      'CONNECT with a will on the victim command topic and wrong credentials',
      [
        connect({
          clientId: ctx.victim,
          username: ctx.victim,
          password: Buffer.from('wrong'),
          will: { topic: topicFor(ctx.victim, 'cmd'), payload: Buffer.from('{}'), qos: 1, retain: true },
        }),
      ],
      refused(4),
    ),
    raw('PUBLISH before CONNECT', [victimHealth]),
    raw('SUBSCRIBE before CONNECT', [packet({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: '#', qos: 0 }] })]),
    raw('PINGREQ before CONNECT', [pingreq()]),
    raw('PINGREQ flood before CONNECT', [many(8192, pingreq)]),
    raw('two CONNECTs in one write', [Buffer.concat([connect({}), connect({})])], refused(4)),
  ];
}

function connectedCases(ctx: CorpusContext): CorpusCase[] {
  const self = (name: string, chunks: Buffer[], outcome: Outcome): CorpusCase => ({ name, lane: 'connected', chunks, outcome });
  const own = (kind: 'state' | 'health' | 'event' | 'ack' | 'cmd') => topicFor(ctx.self.deviceId, kind);
  const ownHealth = (payload: Buffer | string, fields: Partial<IPublishPacket> = {}) => publish(own('health'), payload, fields);
  const qos1 = { qos: 1 as const, messageId: 7 };
  return [
    self('second CONNECT', [selfConnect(ctx)], closed),
    self('reserved packet type 0', [Buffer.from([0x00, 0x00])], closed),
    self('reserved packet type 15', [Buffer.from([0xf0, 0x00])], closed),
    self(
      'SUBSCRIBE with reserved header flags',
      [patch(packet({ cmd: 'subscribe', messageId: 2, subscriptions: [{ topic: own('cmd'), qos: 1 }] }), 0, 0x80)],
      closed,
    ),
    self('PINGREQ whose remaining length takes 5 bytes', [fiveByteLength(0xc0, 0x00)], closed),
    self('PUBLISH whose remaining length takes 5 bytes, 256 MB', [Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x7f])], closed),
    self('PUBLISH with QoS 3', [patch(ownHealth(health(1), qos1), 0, 0x36)], closed),
    self('PUBLISH with a # wildcard in its topic', [publish('fleet/v1/#', health(1))], closed),
    self('PUBLISH with a + wildcard in its topic', [publish(`fleet/v1/+/health`, health(1))], closed),
    self('PUBLISH with an empty topic', [publish('', health(1))], closed),
    // generate refuses to encode these: a packet id and no filter.
    self('SUBSCRIBE with an empty filter list', [Buffer.from([0x82, 0x02, 0x00, 0x03])], closed),
    // MQTT-3.10.3-2 calls it a protocol violation; aedes answers it with an UNSUBACK, harmless.
    self('UNSUBSCRIBE with an empty filter list', [Buffer.from([0xa2, 0x02, 0x00, 0x04])], { kind: 'alive' }),
    // The first ACL drop, so that its timeline entry is the one stored (one per reason a minute): its
    // detail quotes the topic cut at 200 characters, here through a NUL and half of a surrogate pair.
    self(
      'PUBLISH with a NUL in its topic, cut by the timeline detail inside a surrogate pair',
      [publish(unstorableTopic(own('health')), health(1))],
      dropped('acl'),
    ),
    self('PUBLISH to $SYS forging a takeover of the victim', [publish('$SYS/other-broker/new/clients', ctx.victim)], dropped('acl')),
    self('PUBLISH to the victim health topic', [publish(topicFor(ctx.victim, 'health'), health(1), qos1)], dropped('acl')),
    self(
      'PUBLISH of a command to the victim',
      [publish(topicFor(ctx.victim, 'cmd'), JSON.stringify({ id: 'cmd_forged', type: 'reboot' }), qos1)],
      dropped('acl'),
    ),
    self('PUBLISH to its own command topic', [publish(own('cmd'), '{}')], dropped('acl')),
    self(
      'PUBLISH with invalid UTF-8 in its topic',
      [replaceFirst(ownHealth(health(1)), 'health', Buffer.concat([Buffer.from('heal'), BAD_UTF8]))],
      dropped('acl'),
    ),
    self('PUBLISH whose payload is not JSON', [ownHealth(Buffer.from([0xff, 0x00, 0x7b]))], dropped('bad_json')),
    self('PUBLISH of an event nested 30,000 levels deep', [publish(own('event'), deepEvent(30_000))], dropped('schema')),
    self(
      'PUBLISH of an ack whose result is nested 30,000 levels deep',
      [publish(own('ack'), `{"cmdId":"cmd_x","state":"received","result":{"r":${nested(30_000)}}}`)],
      dropped('schema'),
    ),
    self(
      'PUBLISH of an event holding U+0000 and a lone surrogate',
      [publish(own('event'), JSON.stringify({ ts: 1_700_000_000_000, seq: 1, type: 'log', data: { nul: 'a\u0000b', half: '\ud800' } }))],
      dropped('schema'),
    ),
    self('PUBLISH whose payload breaks the health schema', [ownHealth('{"seq":"x"}')], dropped('schema')),
    self(
      'PUBLISH of 100 KiB (over the payload limit, under the packet limit)',
      [ownHealth(Buffer.alloc(100 * 1024, 0x20), qos1)],
      dropped('too_large'),
    ),
    self('PUBLISH of 200 KiB (over the packet limit)', [ownHealth(Buffer.alloc(200 * 1024, 0x20))], closed),
    self('SUBSCRIBE to #', [packet({ cmd: 'subscribe', messageId: 5, subscriptions: [{ topic: '#', qos: 1 }] })], dropped('acl_subscribe')),
    self(
      'SUBSCRIBE to the victim command topic',
      [packet({ cmd: 'subscribe', messageId: 6, subscriptions: [{ topic: topicFor(ctx.victim, 'cmd'), qos: 1 }] })],
      dropped('acl_subscribe'),
    ),
    self(
      'PUBACK and PUBREL for message ids never sent',
      [packet({ cmd: 'puback', messageId: 999 }), packet({ cmd: 'pubrel', messageId: 998 })],
      { kind: 'alive' },
    ),
    {
      ...self('PUBLISH declaring more bytes than it sends, then silence', [ownHealth(Buffer.alloc(1000, 0x20)).subarray(0, 100)], closed),
      connect: selfConnect(ctx, { keepalive: SILENCE_KEEPALIVE_S }),
    },
    self('PINGREQ flood (50,000 in one write)', [many(50_000, pingreq)], closed),
    { ...self('PINGREQ flood (1,000,000 in one write), the answers never read', [many(1_000_000, pingreq)], closed), unread: true },
    {
      ...self('SUBSCRIBE flood to its own command topic, the answers never read', [many(50_000, () => subscribe(own('cmd')))], closed),
      unread: true,
    },
    self('SUBSCRIBE flood to a foreign topic', [many(50_000, () => subscribe(topicFor(ctx.victim, 'cmd')))], closed),
    self('UNSUBSCRIBE flood', [many(50_000, () => packet({ cmd: 'unsubscribe', messageId: 9, unsubscriptions: [own('cmd')] }))], closed),
    self(
      'PUBLISH flood (2,000 health samples in one write)',
      [Buffer.concat(Array.from({ length: 2000 }, (_, i) => ownHealth(health(i))))],
      closed,
    ),
    self(
      'QoS 2 PUBLISH flood with no PUBREL',
      [Buffer.concat(Array.from({ length: 500 }, (_, i) => ownHealth(health(i), { qos: 2, messageId: i + 1 })))],
      closed,
    ),
    {
      name: 'will on the victim command topic, then the socket dropped',
      lane: 'connected',
      connect: selfConnect(ctx, {
        will: {
          topic: topicFor(ctx.victim, 'cmd'),
          payload: Buffer.from(JSON.stringify({ id: 'cmd_will', type: 'reboot' })),
          qos: 1,
          retain: true,
        },
      }),
      chunks: [],
      outcome: { kind: 'willDropped', reason: 'acl' },
    },
    self('payload of 1 MiB in one PUBLISH the guard cuts off from its header', [ownHealth(Buffer.alloc(1024 * 1024, 0x20))], closed),
    self(
      '40 PUBLISHes of 60 KiB that are not JSON, in one write',
      [Buffer.concat(Array.from({ length: 40 }, () => ownHealth(Buffer.alloc(MAX_PAYLOAD_BYTES - 4 * 1024, 0x20))))],
      dropped('bad_json'),
    ),
  ];
}

/** Random byte strings from a fixed seed: none is a CONNECT the broker could accept. */
export function randomCases(count: number, seed = 0x16_2026): CorpusCase[] {
  const bytes = fc.sample(fc.uint8Array({ minLength: 1, maxLength: 2048 }), { numRuns: count, seed });
  return bytes.map((b, i) => ({
    name: `random bytes #${i} (${b.length} bytes, first 0x${(b[0] ?? 0).toString(16)})`,
    lane: 'raw',
    chunks: [Buffer.from(b)],
    outcome: closed,
  }));
}

export function mqttCorpus(ctx: CorpusContext): CorpusCase[] {
  return [...rawCases(ctx), ...connectedCases(ctx), ...randomCases(24)];
}
