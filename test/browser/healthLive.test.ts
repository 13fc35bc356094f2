// Health samples on the live stream (the device page's charts): a subscriber asking for a device's
// health (`/v1/stream?health=<id>`) gets that device's samples, sent over real MQTT, as chart
// numbers; a subscriber not asking gets none; and nothing is published for a device nobody watches.
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topicFor } from '../../schemas/wire.ts';
import { createHealthWatch } from '../../server/events/healthWatch.ts';
import { connectDevice, publish, registerAndEnroll, type EnrolledDevice } from '../helpers/devices.ts';
import { eventually } from '../helpers/eventually.ts';
import { openLiveStream, type LiveEvent } from '../helpers/liveStream.ts';
import { startTestServer, type TestServer } from '../helpers/testServer.ts';

describe('health registry', () => {
  it('counts watchers per device and forgets a device when its last watcher leaves', () => {
    const w = createHealthWatch();
    expect(w.wants('a')).toBe(false);
    const one = w.watch(['a', 'b', 'a']);
    const two = w.watch(['a']);
    expect([w.wants('a'), w.wants('b'), w.wants('c')]).toEqual([true, true, false]);
    one();
    one(); // twice is once
    expect([w.wants('a'), w.wants('b')]).toEqual([true, false]);
    two();
    expect(w.wants('a')).toBe(false);
    expect(w.size()).toBe(0);
  });
});

describe('health samples on the live stream', { timeout: 60_000 }, () => {
  let t: TestServer;
  let watched: EnrolledDevice;
  let other: EnrolledDevice;
  const clients: MqttClient[] = [];
  let seq = 0;

  const sample = (client: MqttClient, deviceId: string, battery: number) =>
    publish(client, topicFor(deviceId, 'health'), {
      ts: Date.now(),
      seq: ++seq,
      battery: { level: battery, charging: false },
      temperatureC: 41.5,
      signal: { type: 'wifi', rssi: -63 },
    });
  /** An event after a sample: everything the sample caused on the bus has happened before it. */
  const marker = async (client: MqttClient, deviceId: string) => {
    const ts = Date.now() + ++seq; // tells the markers apart
    await publish(client, topicFor(deviceId, 'event'), { ts, seq, type: 'log', severity: 'info', data: { marker: true } });
    return (e: LiveEvent) => e.event === 'device.event' && e.data.ts === ts;
  };

  beforeAll(async () => {
    t = await startTestServer();
    watched = await registerAndEnroll(t);
    other = await registerAndEnroll(t);
    for (const d of [watched, other]) {
      const c = await connectDevice(d);
      await publish(c, topicFor(d.deviceId, 'state'), { online: true, fwVersion: '1.0.0', slot: 'A', ts: Date.now() }, 1, true);
      clients.push(c);
    }
  }, 60_000);

  afterAll(async () => {
    for (const c of clients) c.end(true);
    await t?.stop();
  }, 60_000);

  it('a subscriber asking for a device gets its samples over MQTT; one not asking gets none', async () => {
    const bus = t.server.parts.bus;
    const published: string[] = [];
    const offBus = bus.on('device.health', (e) => published.push(e.deviceId));

    const asking = openLiveStream(t.url, `?health=${watched.deviceId}`);
    const notAsking = openLiveStream(t.url);
    const filtered = openLiveStream(t.url, `?types=fault&health=${watched.deviceId}`); // health filtered out by type
    await Promise.all([asking.ready, notAsking.ready, filtered.ready]);
    expect(bus.healthWatch.wants(watched.deviceId)).toBe(true);
    expect(bus.healthWatch.wants(other.deviceId)).toBe(false);
    expect(bus.healthWatch.size()).toBe(1);

    await sample(clients[1]!, other.deviceId, 77);
    await sample(clients[0]!, watched.deviceId, 42);
    const first = await marker(clients[0]!, watched.deviceId);

    const got = await eventually(async () => asking.events.find((e) => e.event === 'device.health'));
    expect(got.data).toMatchObject({ deviceId: watched.deviceId, battery: 42, charging: false, temperatureC: 41.5, rssi: -63, signalType: 'wifi' });
    expect(Number.isNaN(Date.parse(String(got.data.ts)))).toBe(false);

    // The marker came after the sample on the same connection: the others have seen everything.
    await eventually(async () => notAsking.events.find(first));
    await eventually(async () => asking.events.find(first));
    expect(notAsking.events.filter((e) => e.event === 'device.health')).toEqual([]);
    expect(filtered.events.filter((e) => e.event === 'device.health')).toEqual([]);
    // Only the watched device was published, and only its samples reached the asking subscriber.
    expect(published).toEqual([watched.deviceId]);
    expect(asking.events.filter((e) => e.event === 'device.health').map((e) => e.data.deviceId)).toEqual([watched.deviceId]);

    // Once the subscriber leaves, the device's samples are no longer published at all.
    asking.close();
    filtered.close();
    await eventually(async () => !bus.healthWatch.wants(watched.deviceId));
    await sample(clients[0]!, watched.deviceId, 41);
    const second = await marker(clients[0]!, watched.deviceId);
    await eventually(async () => notAsking.events.find(second));
    expect(published).toEqual([watched.deviceId]);
    expect(notAsking.events.filter((e) => e.event === 'device.health')).toEqual([]);

    notAsking.close();
    offBus();
  });

  it('refuses more than 50 devices in one subscription', async () => {
    const ids = Array.from({ length: 51 }, (_, i) => `dev_${i}`).join(',');
    const res = await t.api<{ error: { code: string } }>('GET', `/v1/stream?health=${ids}`);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('validation_failed');
  });
});
