// The agent against a real MQTT broker (aedes on a free port), no mocks: connection options,
// retained state, health, command acks, dedupe, expiry, and buffering across a broker outage.
import net from 'node:net';
import { Aedes } from 'aedes';
import { connect } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ackMessage, deviceEvent, healthSample, stateMessage, topicFor, type AckMessage } from '../../schemas/wire.ts';
import type { Agent } from '../../agent/agent.ts';
import { createSimulatedHardware } from '../../agent/simulatedHardware.ts';
import { openStateStore } from '../../agent/stateStore.ts';
import { eventually } from '../helpers/eventually.ts';
import { fakeEnrollment, startConnectedAgent, tempDir } from './helpers.ts';

const DEV = 'dev-int-1';
const SECRET = 'integration-secret';

interface Seen {
  topic: string;
  payload: string;
  retain: boolean;
  qos: number;
  clientId: string | null;
}

let broker: Aedes;
let server: net.Server;
let port: number;
const sockets = new Set<net.Socket>();
const published: Seen[] = [];
const connects: Array<{ id: string; clean: boolean }> = [];
let agent: Agent;
let storeDir: string;

function listen(p: number): Promise<number> {
  server = net.createServer(broker.handle);
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  return new Promise((resolve) => server.listen(p, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)));
}

/** Takes the broker off the network (listener and live connections); sessions stay in memory. */
async function brokerDown(): Promise<void> {
  const closed = new Promise<void>((r) => server.close(() => r()));
  for (const s of sockets) s.destroy();
  await closed;
}

const on = (kind: 'state' | 'health' | 'event' | 'ack') => published.filter((p) => p.topic === topicFor(DEV, kind));
const acksFor = (cmdId: string): AckMessage[] => on('ack').map((p) => ackMessage.parse(JSON.parse(p.payload))).filter((a) => a.cmdId === cmdId);
const events = () => on('event').map((p) => deviceEvent.parse(JSON.parse(p.payload)));

function sendCommand(cmd: Record<string, unknown>): Promise<void> {
  return new Promise((resolve, reject) =>
    broker.publish(
      { cmd: 'publish', topic: topicFor(DEV, 'cmd'), payload: Buffer.from(JSON.stringify(cmd)), qos: 1, retain: false, dup: false },
      (err) => (err ? reject(err) : resolve()),
    ),
  );
}

function finalAck(cmdId: string, timeoutMs = 5000) {
  return eventually(() => acksFor(cmdId).find((a) => ['succeeded', 'failed', 'rejected'].includes(a.state)), { timeoutMs, what: `final ack of ${cmdId}` });
}

beforeAll(async () => {
  broker = await Aedes.createBroker({
    authenticate: (_client, username, password, done) => done(null, password?.toString() === SECRET && (username === DEV || username === 'ops')),
  });
  broker.on('client', (c) => connects.push({ id: c.id, clean: c.clean }));
  broker.on('publish', (packet, client) => {
    if (!packet.topic.startsWith('fleet/')) return;
    published.push({ topic: packet.topic, payload: packet.payload.toString(), retain: packet.retain, qos: packet.qos, clientId: client?.id ?? null });
  });
  port = await listen(0);

  storeDir = tempDir();
  const store = openStateStore(storeDir);
  store.saveEnrollment(fakeEnrollment(DEV, `mqtt://127.0.0.1:${port}`, SECRET));
  agent = await startConnectedAgent({
    store,
    hardware: createSimulatedHardware({ seed: 1, rebootDelayMs: 50, selfTestDelayMs: 5 }),
    enrollment: store.loadEnrollment()!,
    fwVersion: '1.2.3',
    healthIntervalS: 0.2,
  });
});

afterAll(async () => {
  await agent?.stop();
  await new Promise<void>((r) => server.close(() => r()));
  for (const s of sockets) s.destroy();
  await new Promise<void>((r) => broker.close(() => r()));
});

describe('agent ↔ real broker', () => {
  it('connects with clientId = deviceId and a persistent session', () => {
    expect(connects[0]).toEqual({ id: DEV, clean: false });
  });

  it('publishes retained QoS1 state online:true with firmware and slot', async () => {
    const first = on('state')[0]!;
    expect(first.retain).toBe(true);
    expect(first.qos).toBe(1);
    expect(stateMessage.parse(JSON.parse(first.payload))).toMatchObject({ online: true, fwVersion: '1.2.3', slot: 'A' });
    // A late subscriber (the server after a restart) still gets it.
    const late = connect(`mqtt://127.0.0.1:${port}`, { username: 'ops', password: SECRET, reconnectPeriod: 0 });
    const retained = await new Promise<{ retain: boolean; body: string }>((resolve) => {
      late.on('message', (_t, payload, packet) => resolve({ retain: packet.retain, body: payload.toString() }));
      late.on('connect', () => late.subscribe(topicFor(DEV, 'state')));
    });
    await late.endAsync();
    expect(retained.retain).toBe(true);
    expect(JSON.parse(retained.body)).toMatchObject({ online: true });
  });

  it('sends a boot event and health samples that pass the schema', async () => {
    await eventually(() => (on('health').length >= 3 ? true : undefined), { timeoutMs: 5000, what: 'health samples' });
    const samples = on('health').map((p) => healthSample.parse(JSON.parse(p.payload)));
    for (let i = 1; i < samples.length; i++) expect(samples[i]!.seq).toBeGreaterThan(samples[i - 1]!.seq);
    expect(on('health')[0]!.qos).toBe(0);
    expect(events().find((e) => e.type === 'boot')?.data).toMatchObject({ reason: 'start', fwVersion: '1.2.3' });
  });

  it('answers diag.run with received → in_progress… → succeeded and a pass/fail result', async () => {
    await sendCommand({ id: 'diag-1', type: 'diag.run', issuedAt: Date.now(), payload: {} });
    const last = await finalAck('diag-1');
    const states = acksFor('diag-1').map((a) => a.state);
    expect(states[0]).toBe('received');
    expect(states.filter((s) => s === 'in_progress').length).toBe(4);
    expect(last.state).toBe('succeeded');
    for (const k of ['printer', 'cardReader', 'storage', 'network']) expect(['pass', 'fail']).toContain(last.result?.[k]);
    expect(last.result?.network).toBe('pass');
  });

  it('answers reboot: in_progress rebooting, reconnect, a new boot event, then succeeded', async () => {
    const connectsBefore = connects.length;
    await sendCommand({ id: 'reboot-1', type: 'reboot', issuedAt: Date.now(), payload: {} });
    const last = await finalAck('reboot-1');
    expect(acksFor('reboot-1').map((a) => [a.state, a.stage])).toEqual([
      ['received', undefined],
      ['in_progress', 'rebooting'],
      ['succeeded', undefined],
    ]);
    expect(last.result?.downtimeMs).toBeGreaterThanOrEqual(50);
    expect(connects.length).toBe(connectsBefore + 1);
    expect(events().filter((e) => e.type === 'boot').at(-1)?.data).toMatchObject({ reason: 'command' });
    const states = on('state').map((p) => stateMessage.parse(JSON.parse(p.payload)).online);
    expect(states.slice(-2)).toEqual([false, true]);
  });

  it('acts on a duplicated command once', async () => {
    const lock = { id: 'lock-1', type: 'lock', issuedAt: Date.now(), payload: {} };
    await sendCommand(lock);
    await sendCommand(lock);
    await finalAck('lock-1');
    await sendCommand(lock);
    await eventually(() => (acksFor('lock-1').filter((a) => a.state === 'succeeded').length >= 2 ? true : undefined));
    const acks = acksFor('lock-1');
    expect(acks.filter((a) => a.state === 'received')).toHaveLength(1);
    expect(acks.filter((a) => a.state === 'succeeded').every((a) => a.result?.locked === true)).toBe(true);
    expect(openStateStore(storeDir).loadLock().locked).toBe(true);
  });

  it('rejects an expired command', async () => {
    await sendCommand({ id: 'old-1', type: 'reboot', issuedAt: Date.now() - 60_000, expiresAt: Date.now() - 1000, payload: {} });
    const last = await finalAck('old-1');
    expect(last).toMatchObject({ state: 'rejected', error: { code: 'expired' } });
    expect(acksFor('old-1')).toHaveLength(1);
  });

  it('buffers an event while the broker is down and sends it after reconnecting', async () => {
    await brokerDown();
    await eventually(() => (agent.isConnected() ? undefined : true), { timeoutMs: 5000, what: 'agent to notice the outage' });
    // The broker saw the connection die without DISCONNECT: the will says offline.
    const will = await eventually(() => on('state').find((p) => p.payload === '{"online":false}'), { timeoutMs: 5000, what: 'last will' });
    expect(will.retain).toBe(true);
    agent.raiseEvent('log', { marker: 'while-offline' }, 'info');
    expect(events().some((e) => e.data.marker === 'while-offline')).toBe(false);
    await listen(port);
    await agent.waitConnected(5000);
    const ev = await eventually(() => events().find((e) => e.data.marker === 'while-offline'), { timeoutMs: 5000, what: 'buffered event' });
    expect(ev.type).toBe('log');
    expect(stateMessage.parse(JSON.parse(on('state').at(-1)!.payload)).online).toBe(true);
  });
});
