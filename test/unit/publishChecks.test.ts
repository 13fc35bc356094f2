// The broker's publish checks without a broker: each step's drop reason, the order they run
// in, and the typed hand-off of a valid message to ingest.
import { describe, expect, it } from 'vitest';
import { MAX_PAYLOAD_BYTES, topicFor, type HealthSample, type InboundMessages } from '../../schemas/wire.ts';
import type { IngestSink, RejectReason } from '../../server/broker/ingestSink.ts';
import { createPublishChecks } from '../../server/broker/publishChecks.ts';
import { createMetrics } from '../../server/metrics.ts';

const dev = 'dev_checks01';

function recordingSink() {
  const got: {
    health: [string, HealthSample][];
    state: [string, InboundMessages['state']][];
    event: [string, InboundMessages['event']][];
    ack: [string, InboundMessages['ack']][];
  } = { health: [], state: [], event: [], ack: [] };
  const rejected: [string, RejectReason, string][] = [];
  const flooded: string[] = [];
  const sink: IngestSink = {
    connected: () => undefined,
    commandReady: () => undefined,
    disconnected: () => undefined,
    heard: () => undefined,
    state: (id, m) => void got.state.push([id, m]),
    health: (id, m) => void got.health.push([id, m]),
    event: (id, m) => void got.event.push([id, m]),
    ack: (id, m) => void got.ack.push([id, m]),
    rejected: (id, reason, detail) => void rejected.push([id, reason, detail]),
    flooded: (id) => void flooded.push(id),
  };
  return { sink, got, rejected, flooded };
}

function setup(burst = 100) {
  const rec = recordingSink();
  const metrics = createMetrics();
  let nowMs = 1_000_000;
  const checks = createPublishChecks({
    sink: rec.sink,
    metrics,
    rateLimit: { perSecond: 1, burst },
    floodDisconnectAfter: 3,
    now: () => nowMs,
  });
  let closed = 0;
  const client = { id: dev, close: () => void (closed += 1) };
  const publish = (topic: string, payload: string | Buffer) =>
    checks.admit(client, { topic, payload: typeof payload === 'string' ? Buffer.from(payload) : payload });
  const dropped = async () =>
    (await metrics.registry.getSingleMetricAsString('posfleet_messages_dropped_total')).split('\n').filter((l) => !l.startsWith('#') && l);
  return { ...rec, checks, client, publish, dropped, closed: () => closed, advance: (ms: number) => (nowMs += ms), metrics };
}

const sample: HealthSample = { ts: 1_700_000_000_000, seq: 1, battery: { level: 80, charging: false } };

describe('publish checks', () => {
  it('hands a valid message to the handler of its topic, as its schema parsed it', async () => {
    const t = setup();
    expect(t.publish(topicFor(dev, 'health'), JSON.stringify(sample))).toBe(true);
    expect(t.publish(topicFor(dev, 'event'), JSON.stringify({ ts: 1, seq: 2, type: 'boot' }))).toBe(true);
    expect(t.got.health).toEqual([[dev, sample]]);
    // The schema's default is applied before the hand-off: ingest sees the parsed message.
    expect(t.got.event).toEqual([[dev, { ts: 1, seq: 2, type: 'boot', data: {} }]]);
    expect(t.rejected).toEqual([]);
    const accepted = await t.metrics.registry.getSingleMetricAsString('posfleet_messages_in_total');
    expect(accepted).toContain('posfleet_messages_in_total{kind="health"} 1');
    expect(accepted).toContain('posfleet_messages_in_total{kind="event"} 1');
  });

  it('drops with the reason of the first step that refuses', async () => {
    const t = setup();
    expect(t.publish(topicFor('dev_other', 'health'), JSON.stringify(sample))).toBe(false);
    expect(t.publish(topicFor(dev, 'cmd'), '{}')).toBe(false);
    expect(t.publish(topicFor(dev, 'health'), Buffer.alloc(MAX_PAYLOAD_BYTES + 1, 0x20))).toBe(false);
    expect(t.publish(topicFor(dev, 'health'), '{not json')).toBe(false);
    expect(t.publish(topicFor(dev, 'health'), JSON.stringify({ ...sample, battery: { level: 101, charging: false } }))).toBe(false);
    expect(t.rejected.map(([id, reason]) => [id, reason])).toEqual([
      [dev, 'acl'],
      [dev, 'acl'],
      [dev, 'too_large'],
      [dev, 'bad_json'],
      [dev, 'schema'],
    ]);
    expect(t.rejected[0]![2]).toBe(`publish to ${topicFor('dev_other', 'health')} refused (foreign_topic)`);
    expect(t.rejected[2]![2]).toBe(`${MAX_PAYLOAD_BYTES + 1} bytes on health (limit ${MAX_PAYLOAD_BYTES})`);
    expect(t.rejected[4]![2]).toMatch(/^health: battery\.level: /);
    expect(t.got.health).toEqual([]);
    expect((await t.dropped()).sort()).toEqual([
      'posfleet_messages_dropped_total{reason="acl"} 2',
      'posfleet_messages_dropped_total{reason="bad_json"} 1',
      'posfleet_messages_dropped_total{reason="schema"} 1',
      'posfleet_messages_dropped_total{reason="too_large"} 1',
    ]);
  });

  it('checks the rate first: a throttled message is not even parsed, and a flood closes the connection', async () => {
    const t = setup(1);
    expect(t.publish(topicFor(dev, 'health'), JSON.stringify(sample))).toBe(true);
    expect(t.publish(topicFor(dev, 'health'), '{not json')).toBe(false);
    expect(t.publish(topicFor(dev, 'health'), '{not json')).toBe(false);
    // Told once per run of refusals, counted every time.
    expect(t.rejected.map(([, reason]) => reason)).toEqual(['rate_limited']);
    expect(t.closed()).toBe(0);
    expect(t.publish(topicFor('dev_other', 'health'), '{}')).toBe(false);
    expect(t.flooded).toEqual([dev]);
    expect(t.closed()).toBe(1);
    expect(await t.dropped()).toEqual(['posfleet_messages_dropped_total{reason="rate_limited"} 3']);
    t.advance(1000); // one token back
    expect(t.publish(topicFor(dev, 'state'), JSON.stringify({ online: true }))).toBe(true);
    expect(t.got.state).toEqual([[dev, { online: true }]]);
  });

  it('meters PINGREQs and subscriptions from the same bucket as publishes, and closes a flood of them', async () => {
    const t = setup(2);
    expect(t.checks.admitControl(t.client)).toBe(true);
    expect(t.publish(topicFor(dev, 'health'), JSON.stringify(sample))).toBe(true);
    // The bucket is empty: a publish and a PINGREQ alike are refused, and count as one run.
    expect(t.publish(topicFor(dev, 'health'), JSON.stringify(sample))).toBe(false);
    expect(t.checks.admitControl(t.client)).toBe(false);
    expect(t.closed()).toBe(0);
    expect(t.checks.admitControl(t.client)).toBe(false);
    expect(t.flooded).toEqual([dev]);
    expect(t.closed()).toBe(1);
    expect(t.rejected.map(([, reason]) => reason)).toEqual(['rate_limited']);
    expect(await t.dropped()).toEqual(['posfleet_messages_dropped_total{reason="rate_limited"} 3']);
  });

  it('drops as schema what the database cannot store: U+0000, a lone surrogate, nesting past 32 levels', async () => {
    const t = setup();
    const event = (data: string) => `{"ts":1700000000000,"seq":1,"type":"log","data":${data}}`;
    expect(t.publish(topicFor(dev, 'event'), event('{"m":"a\\u0000b"}'))).toBe(false);
    expect(t.publish(topicFor(dev, 'event'), event('{"m":"\\ud800"}'))).toBe(false);
    expect(t.publish(topicFor(dev, 'event'), event(`{"d":${'['.repeat(5000)}${']'.repeat(5000)}}`))).toBe(false);
    expect(t.got.event).toEqual([]);
    expect(t.rejected.map(([, reason, detail]) => [reason, detail])).toEqual([
      ['schema', 'event: data.m: contains U+0000 (NUL), which cannot be stored'],
      ['schema', 'event: data.m: contains a lone surrogate U+D800, which cannot be stored'],
      ['schema', `event: data.d.${Array.from({ length: 30 }, () => 0).join('.')}: nested deeper than 32 levels`],
    ]);
    // A pair of escaped surrogates is one character, and 32 levels are allowed.
    expect(t.publish(topicFor(dev, 'event'), event(`{"m":"\\ud83d\\ude00","d":${'['.repeat(31)}${']'.repeat(31)}}`))).toBe(true);
    expect(await t.dropped()).toEqual(['posfleet_messages_dropped_total{reason="schema"} 3']);
  });

  it('starts a forgotten device with a full bucket again', () => {
    const t = setup(1);
    expect(t.publish(topicFor(dev, 'ack'), JSON.stringify({ cmdId: 'cmd_1', state: 'received' }))).toBe(true);
    expect(t.publish(topicFor(dev, 'ack'), JSON.stringify({ cmdId: 'cmd_1', state: 'received' }))).toBe(false);
    t.checks.forget(dev);
    expect(t.publish(topicFor(dev, 'ack'), JSON.stringify({ cmdId: 'cmd_1', state: 'succeeded' }))).toBe(true);
    expect(t.got.ack.map(([, a]) => a.state)).toEqual(['received', 'succeeded']);
  });
});
