// Presence (connect, will, heartbeat timeout), flood control, and a server restart under a
// connected device: nothing it was owed is lost.
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commandMessage, topicFor } from '../../schemas/wire.ts';
import { connectDevice, publish, registerAndEnroll } from '../helpers/devices.ts';
import { eventually } from '../helpers/eventually.ts';
import { startTestServer, type TestServer } from '../helpers/testServer.ts';

interface DeviceView {
  online: boolean;
  health: { battery?: { level: number } } | null;
}

describe('presence and flood control', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ env: { HEARTBEAT_TIMEOUT_S: '1', DEVICE_MAX_MSGS_PER_S: '5', DEVICE_BURST: '10', DEVICE_FLOOD_DISCONNECT_AFTER: '30' } });
  });
  afterAll(async () => {
    await t?.stop();
  });

  const online = async (id: string) => (await t.api<DeviceView>('GET', `/v1/devices/${id}`)).body.online;

  it('marks a silent device offline after the heartbeat timeout and online again when it speaks', async () => {
    const d = await registerAndEnroll(t);
    const c = await connectDevice(d);
    expect(await online(d.deviceId)).toBe(true);
    await eventually(async () => !(await online(d.deviceId)), { timeoutMs: 5000 });
    await publish(c, topicFor(d.deviceId, 'health'), { ts: Date.now(), seq: 1 });
    await eventually(() => online(d.deviceId), { timeoutMs: 5000 });
    c.end(true);
  });

  it('takes the last will as offline, and a reconnect as online', async () => {
    const d = await registerAndEnroll(t);
    const c = await connectDevice(d);
    await publish(c, topicFor(d.deviceId, 'state'), { online: true, ts: Date.now() }, 1, true);
    c.stream.destroy(); // a dropped link, not a clean DISCONNECT: the broker publishes the will
    await eventually(async () => !(await online(d.deviceId)), { timeoutMs: 5000 });
    const timeline = await t.api<{ items: { kind: string }[] }>('GET', `/v1/devices/${d.deviceId}/timeline`);
    expect(timeline.body.items.map((i) => i.kind)).toContain('offline');
    const again = await connectDevice(d);
    await eventually(() => online(d.deviceId), { timeoutMs: 5000 });
    again.end(true);
  });

  it('throttles a flooding device, then disconnects it; its neighbour is untouched', async () => {
    const flooder = await registerAndEnroll(t);
    const neighbour = await registerAndEnroll(t);
    const f = await connectDevice(flooder);
    const n = await connectDevice(neighbour);
    const closed = new Promise<void>((resolve) => f.once('close', () => resolve()));
    for (let i = 0; i < 100 && f.connected; i++) f.publish(topicFor(flooder.deviceId, 'health'), JSON.stringify({ ts: Date.now(), seq: i }), { qos: 0 });
    await closed;
    await publish(n, topicFor(neighbour.deviceId, 'health'), { ts: Date.now(), seq: 1, battery: { level: 64, charging: true } });
    await eventually(async () => (await t.api<DeviceView>('GET', `/v1/devices/${neighbour.deviceId}`)).body.health?.battery?.level === 64);
    const timeline = await eventually(async () => {
      const r = await t.api<{ items: { kind: string; summary: string }[] }>('GET', `/v1/devices/${flooder.deviceId}/timeline`);
      return r.body.items.some((i) => i.summary === 'disconnected for flooding') ? r.body.items : null;
    });
    expect(timeline.some((i) => i.summary === 'message dropped: rate_limited')).toBe(true);
    const metrics = await (await fetch(`${t.url}/metrics`)).text();
    expect(metrics).toMatch(/posfleet_messages_dropped_total\{reason="rate_limited"\} [1-9]/);
    n.end(true);
  });
});

describe('server restart under a connected device', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('keeps latest state, redelivers commands queued before the restart, and the device comes back by itself', async () => {
    const d = await registerAndEnroll(t);
    const client = mqtt.connect(d.mqttUrl, {
      clientId: d.deviceId,
      username: d.deviceId,
      password: d.password,
      clean: false,
      protocolVersion: 4,
      reconnectPeriod: 300,
      will: { topic: topicFor(d.deviceId, 'state'), payload: Buffer.from('{"online":false}'), qos: 1, retain: true },
    });
    const got: string[] = [];
    client.on('message', (_topic, payload) => {
      const cmd = commandMessage.parse(JSON.parse(payload.toString()));
      got.push(cmd.type);
      client.publish(topicFor(d.deviceId, 'ack'), JSON.stringify({ cmdId: cmd.id, state: 'succeeded' }), { qos: 1 });
    });
    client.on('connect', () => {
      client.subscribe(topicFor(d.deviceId, 'cmd'), { qos: 1 });
      client.publish(topicFor(d.deviceId, 'state'), JSON.stringify({ online: true, fwVersion: '2.1.0', slot: 'B', ts: Date.now() }), { qos: 1, retain: true });
    });
    await eventually(async () => (await t.api<DeviceView>('GET', `/v1/devices/${d.deviceId}`)).body.online);
    await publish(client, topicFor(d.deviceId, 'health'), { ts: Date.now(), seq: 1, battery: { level: 77, charging: false } });
    await eventually(async () => (await t.api<DeviceView>('GET', `/v1/devices/${d.deviceId}`)).body.health?.battery?.level === 77);

    // The device is cut off, a command is queued for it, then the server restarts.
    client.options.reconnectPeriod = 0;
    client.end(true);
    await eventually(async () => !(await t.api<DeviceView>('GET', `/v1/devices/${d.deviceId}`)).body.online);
    const cmd = await t.api<{ id: string }>('POST', `/v1/devices/${d.deviceId}/commands`, { type: 'reboot' });
    await eventually(async () => (await t.api<{ state: string }>('GET', `/v1/devices/${d.deviceId}/commands/${cmd.body.id}`)).body.state === 'queued');
    await t.restart();

    const after = await t.api<DeviceView & { reportedFwVersion: string; slot: string }>('GET', `/v1/devices/${d.deviceId}`);
    expect(after.body.online).toBe(false);
    expect(after.body.health?.battery?.level).toBe(77);
    expect(after.body.reportedFwVersion).toBe('2.1.0');

    client.options.reconnectPeriod = 300;
    client.reconnect();
    await eventually(async () => (await t.api<{ state: string }>('GET', `/v1/devices/${d.deviceId}/commands/${cmd.body.id}`)).body.state === 'succeeded');
    expect(got).toEqual(['reboot']);
    client.end(true);
  });
});
