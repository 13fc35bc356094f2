// Two brokers of one cluster in this process, joined by their cluster emitters over the real
// Redis, with real MQTT clients over TCP: commands and takeovers cross, telemetry does not; and
// what an emit does when Redis goes away (through a TCP proxy this test cuts or mutes).
import { randomUUID } from 'node:crypto';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { Redis } from 'ioredis';
import mqtt, { type MqttClient } from 'mqtt';
import type { Message } from 'mqemitter';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topicFor, type HealthSample } from '../../schemas/wire.ts';
import { createClusterEmitter, type ClusterEmitter } from '../../server/broker/clusterEmitter.ts';
import { crossesInstances } from '../../server/broker/clusterRouting.ts';
import type { IngestSink } from '../../server/broker/ingestSink.ts';
import { createMqttBroker, type MqttBroker } from '../../server/broker/mqttBroker.ts';
import type { CredentialCache } from '../../server/devices/credentialCache.ts';
import { AppError } from '../../server/errors.ts';
import { createMetrics } from '../../server/metrics.ts';
import { eventually } from '../helpers/eventually.ts';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const log = pino({ level: 'silent' });
const uniquePrefix = () => `posfleet-test:${randomUUID().slice(0, 8)}`;
const sample: HealthSample = { ts: 1_700_000_000_000, seq: 1, battery: { level: 80, charging: false } };

// The credential cache is not under test: every device id is known and any password is right.
const anyDevice: CredentialCache = {
  load: async () => 0,
  check: async () => 'ok',
  set: () => undefined,
  isKnown: () => true,
  forget: () => undefined,
};

function recordingSink() {
  const health: string[] = [];
  const disconnected: string[] = [];
  const sink: IngestSink = {
    connected: () => undefined,
    commandReady: () => undefined,
    disconnected: (id) => void disconnected.push(id),
    heard: () => undefined,
    state: () => undefined,
    health: (id) => void health.push(id),
    event: () => undefined,
    ack: () => undefined,
    rejected: () => undefined,
    flooded: () => undefined,
  };
  return { sink, health, disconnected };
}

interface Instance {
  broker: MqttBroker;
  port: number;
  health: string[];
  disconnected: string[];
}

async function startInstance(id: string, mq: ClusterEmitter): Promise<Instance> {
  await mq.ready();
  const rec = recordingSink();
  const broker = await createMqttBroker({
    credentials: anyDevice,
    sink: rec.sink,
    metrics: createMetrics(),
    log,
    rateLimit: { perSecond: 100, burst: 100 },
    floodDisconnectAfter: 100,
    mq,
    id,
  });
  return { broker, port: await broker.listen(0, '127.0.0.1'), health: rec.health, disconnected: rec.disconnected };
}

const clients: MqttClient[] = [];
function device(port: number, id: string): Promise<MqttClient> {
  const client = mqtt.connect(`mqtt://127.0.0.1:${port}`, {
    clientId: id,
    username: id,
    password: 'pw',
    reconnectPeriod: 0,
    protocolVersion: 4,
    connectTimeout: 5000,
  });
  clients.push(client);
  return new Promise((resolve, reject) => {
    client.once('connect', () => resolve(client));
    client.once('error', reject);
  });
}

afterAll(async () => {
  await Promise.all(clients.map((c) => c.endAsync(true)));
});

describe('two brokers joined over Redis', () => {
  const keyPrefix = uniquePrefix();
  let one: Instance;
  let two: Instance;
  let raw: Redis;
  let admin: Redis;
  // Every channel the cluster published on, in order, seen by a plain Redis subscriber.
  const channels: string[] = [];

  beforeAll(async () => {
    raw = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    admin = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    raw.on('pmessageBuffer', (_pattern: Buffer, channel: Buffer) => void channels.push(channel.toString()));
    await raw.psubscribe(`${keyPrefix}/*`);
    one = await startInstance('instance-1', createClusterEmitter({ redisUrl: REDIS_URL, keyPrefix, log }));
    two = await startInstance('instance-2', createClusterEmitter({ redisUrl: REDIS_URL, keyPrefix, log }));
  });

  afterAll(async () => {
    await Promise.all([one?.broker.close(), two?.broker.close()]);
    raw?.disconnect();
    admin?.disconnect();
  });

  it('delivers a command published on one instance to the terminal connected to the other', async () => {
    const id = 'dev_cross01';
    const x = await device(two.port, id);
    const got: string[] = [];
    x.on('message', (topic, payload) => void got.push(`${topic} ${payload.toString()}`));
    await x.subscribeAsync(topicFor(id, 'cmd'), { qos: 1 });

    await one.broker.sendCommand(id, { hello: 1 });
    await eventually(() => got.length > 0, { what: 'the command on the other instance' });
    expect(got).toEqual([`${topicFor(id, 'cmd')} {"hello":1}`]);
    expect(one.broker.isConnected(id)).toBe(false);
    await new Promise((ok) => setTimeout(ok, 200));
    expect(got, 'delivered once').toHaveLength(1);

    // A terminal gone leaves no subscription behind on Redis.
    const subscribers = async () => (await admin.pubsub('NUMSUB', `${keyPrefix}/${topicFor(id, 'cmd')}`))[1];
    expect(await subscribers()).toBe(1);
    await x.endAsync();
    await eventually(async () => (await subscribers()) === 0, { what: 'the Redis subscription dropped' });
  });

  it('keeps telemetry off Redis: it reaches only the sink of the instance it arrived at', async () => {
    const id = 'dev_local01';
    const x = await device(two.port, id);
    const cmds: string[] = [];
    x.on('message', (topic) => void cmds.push(topic));
    await x.subscribeAsync(topicFor(id, 'cmd'), { qos: 1 });
    await x.publishAsync(topicFor(id, 'health'), JSON.stringify(sample), { qos: 1 });
    await x.publishAsync(topicFor(id, 'state'), 'not json: dropped to $posfleet/dropped', { qos: 1 });

    // Sent through the same Redis connection any telemetry of instance 2 would have used, so
    // the subscriber would have seen that telemetry first.
    await two.broker.sendCommand(id, { after: 'telemetry' });
    await eventually(() => channels.includes(`${keyPrefix}/${topicFor(id, 'cmd')}`), { what: 'the command on Redis' });
    await eventually(() => cmds.length > 0, { what: 'the command at the terminal' });

    expect(two.health).toContain(id);
    expect(one.health).not.toContain(id);
    expect(channels).toContain(`${keyPrefix}/$SYS/instance-2/new/clients`);
    const topics = channels.map((c) => c.slice(keyPrefix.length + 1));
    expect(
      topics.filter((t) => !crossesInstances(t)),
      'only commands and takeover notices on Redis',
    ).toEqual([]);
    expect(topics.some((t) => /heartbeat|birth|disconnect|dropped|\/(health|state|event|ack)$/.test(t))).toBe(false);
  });

  it('closes the older session on one instance when the same client id connects to the other', async () => {
    const id = 'dev_takeover01';
    const first = await device(one.port, id);
    const closed = new Promise<number>((ok) => first.once('close', () => ok(Date.now())));
    expect(one.broker.isConnected(id)).toBe(true);

    await device(two.port, id);
    const connectedAt = Date.now();
    const closedAt = await Promise.race([
      closed,
      new Promise<number>((_, no) => setTimeout(() => no(new Error('old session still open after 1 s')), 1000)),
    ]);
    expect(closedAt - connectedAt).toBeLessThan(1000);
    await eventually(() => one.disconnected.includes(id), { timeoutMs: 1000, what: "instance 1's clientDisconnect" });
    expect(one.broker.isConnected(id)).toBe(false);
    expect(two.broker.isConnected(id)).toBe(true);
  });
});

describe('the cluster emitter', () => {
  it('hears every message once on a listener of both buses (#), local and remote', async () => {
    const mq = createClusterEmitter({ redisUrl: REDIS_URL, keyPrefix: uniquePrefix(), log });
    await mq.ready();
    const heard: string[] = [];
    await new Promise<void>((ok) => mq.on('#', (m, done) => (heard.push(m.topic), done()), ok));
    await emitted(mq, { topic: topicFor('d1', 'health'), payload: Buffer.from('{}') });
    await emitted(mq, { topic: topicFor('d1', 'cmd'), payload: Buffer.from('{}') });
    await eventually(() => heard.length === 2, { what: 'both messages' });
    await new Promise((ok) => setTimeout(ok, 100));
    expect(heard.sort()).toEqual([topicFor('d1', 'cmd'), topicFor('d1', 'health')]);
    await new Promise<void>((ok) => mq.close(ok));
  });

  it('keeps two clusters on one Redis apart by their key prefix', async () => {
    const a = createClusterEmitter({ redisUrl: REDIS_URL, keyPrefix: uniquePrefix(), log });
    const b = createClusterEmitter({ redisUrl: REDIS_URL, keyPrefix: uniquePrefix(), log });
    await Promise.all([a.ready(), b.ready()]);
    const inA: string[] = [];
    const inB: string[] = [];
    await new Promise<void>((ok) => a.on('fleet/v1/+/cmd', (m, done) => (inA.push(m.topic), done()), ok));
    await new Promise<void>((ok) => b.on('fleet/v1/+/cmd', (m, done) => (inB.push(m.topic), done()), ok));
    await emitted(a, { topic: topicFor('d2', 'cmd'), payload: Buffer.from('{}') });
    await eventually(() => inA.length === 1, { what: 'the command in its own cluster' });
    await new Promise((ok) => setTimeout(ok, 200));
    expect(inB).toEqual([]);
    await Promise.all([a, b].map((e) => new Promise<void>((ok) => e.close(ok))));
  });

  it("drops another instance's takeover notice sent before this instance announced the same client id", async () => {
    // Clocks set by hand: A announced dev_x at 1,000, B announced it again at 2,000 (the terminal
    // reconnected to B), and A's notice reaches B only after that.
    const keyPrefix = uniquePrefix();
    let clockA = 1000;
    const a = createClusterEmitter({ redisUrl: REDIS_URL, keyPrefix, log, now: () => clockA });
    const b = createClusterEmitter({ redisUrl: REDIS_URL, keyPrefix, log, now: () => 2000 });
    await Promise.all([a.ready(), b.ready()]);
    const atB: string[] = [];
    await new Promise<void>((ok) => b.on('$SYS/+/new/clients', (m, done) => (atB.push(`${m.topic} ${String(m.payload)}`), done()), ok));
    await emitted(b, { topic: '$SYS/B/new/clients', payload: Buffer.from('dev_x') });
    await emitted(a, { topic: '$SYS/A/new/clients', payload: Buffer.from('dev_x') });
    clockA = 3000;
    await emitted(a, { topic: '$SYS/A/new/clients', payload: Buffer.from('dev_y') });
    await emitted(a, { topic: '$SYS/A/new/clients', payload: Buffer.from('dev_x') });
    await eventually(() => atB.length === 3, { what: 'the notices at B' });
    await new Promise((ok) => setTimeout(ok, 100));
    // B's own notice, A's later ones; A's notice of 1,000 about dev_x never reaches aedes on B.
    expect(atB).toEqual(['$SYS/B/new/clients dev_x', '$SYS/A/new/clients dev_y', '$SYS/A/new/clients dev_x']);
    await Promise.all([a, b].map((e) => new Promise<void>((ok) => e.close(ok))));
  });

  it('is closed, its Redis connections with it, when the broker closes', async () => {
    const keyPrefix = uniquePrefix();
    const inst = await startInstance('instance-closing', createClusterEmitter({ redisUrl: REDIS_URL, keyPrefix, log }));
    const admin = new Redis(REDIS_URL);
    const ours = async () =>
      String(await admin.call('CLIENT', 'LIST'))
        .split('\n')
        .filter((l) => l.includes(`name=${keyPrefix}:mq-`)).length;
    expect(await ours()).toBe(2);
    await inst.broker.close();
    await eventually(async () => (await ours()) === 0, { timeoutMs: 2000, what: 'both connections gone' });
    admin.disconnect();
  });
});

describe('the cluster emitter when Redis goes away', () => {
  const timeoutMs = 400;
  let proxy: RedisProxy;
  let mq: ClusterEmitter;
  let inst: Instance;

  beforeAll(async () => {
    proxy = await redisProxy(new URL(REDIS_URL));
    mq = createClusterEmitter({ redisUrl: `redis://127.0.0.1:${proxy.port}`, keyPrefix: uniquePrefix(), log, redisTimeoutMs: timeoutMs });
    inst = await startInstance('instance-cut', mq);
  });
  afterAll(() => proxy.cut());

  it('fails an emit Redis does not answer after the timeout, with 503 unavailable', async () => {
    await emitted(mq, { topic: topicFor('d3', 'cmd'), payload: Buffer.from('{}') }); // the way through the proxy works
    proxy.mute();
    const started = Date.now();
    const err = await emitted(mq, { topic: topicFor('d3', 'cmd'), payload: Buffer.from('{}') }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(AppError);
    expect(err instanceof AppError && err.code).toBe('unavailable');
    expect(Date.now() - started).toBeGreaterThanOrEqual(timeoutMs - 50);
    expect(Date.now() - started).toBeLessThan(timeoutMs + 1000);
  });

  it('fails an emit at once while the link is down; local topics still flow', async () => {
    proxy.cut();
    await new Promise((ok) => setTimeout(ok, 100)); // ioredis sees the close
    const started = Date.now();
    await expect(inst.broker.sendCommand('d3', { lost: true })).rejects.toMatchObject({ code: 'unavailable' });
    expect(Date.now() - started).toBeLessThan(timeoutMs);

    const heard: string[] = [];
    await new Promise<void>((ok) => mq.on(topicFor('d3', 'health'), (m, done) => (heard.push(m.topic), done()), ok));
    await emitted(mq, { topic: topicFor('d3', 'health'), payload: Buffer.from('{}') });
    expect(heard).toEqual([topicFor('d3', 'health')]);
  });

  it('lets the broker close without Redis', async () => {
    const started = Date.now();
    await inst.broker.close();
    expect(Date.now() - started).toBeLessThan(timeoutMs + 1000);
  });
});

function emitted(mq: ClusterEmitter, message: Message): Promise<void> {
  return new Promise((ok, no) => mq.emit(message, (err) => (err ? no(err) : ok())));
}

interface RedisProxy {
  port: number;
  /** Keeps the connections open but forwards nothing more: Redis seems to hang. */
  mute(): void;
  /** Closes every connection and refuses new ones: Redis is gone. */
  cut(): void;
}

async function redisProxy(target: URL): Promise<RedisProxy> {
  const sockets = new Set<Socket>();
  let muted = false;
  const server: Server = createServer((inbound) => {
    const outbound = connect(Number(target.port || 6379), target.hostname);
    for (const [from, to] of [
      [inbound, outbound],
      [outbound, inbound],
    ] as const) {
      sockets.add(from);
      from.on('data', (chunk: Buffer) => void (muted || to.write(chunk)));
      from.on('error', () => to.destroy());
      from.on('close', () => to.destroy());
    }
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('proxy has no port');
  return {
    port: address.port,
    mute: () => void (muted = true),
    cut() {
      server.close();
      for (const s of sockets) s.destroy();
    },
  };
}
