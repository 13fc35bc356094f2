// Registration, enrollment and MQTT authentication/ACL through the real server, real MQTT
// over TCP, real Redis, and each database engine.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topicFor } from '../../schemas/wire.ts';
import { databaseKinds } from '../helpers/databases.ts';
import { connectDevice, connectRefusal, kekPublicKey, publish, registerAndEnroll, subscribeCodes, uniqueSerial } from '../helpers/devices.ts';
import { eventually } from '../helpers/eventually.ts';
import { TEST_ENROLL_TOKEN, startTestServer, type TestServer } from '../helpers/testServer.ts';

describe.each(databaseKinds())('enrollment and MQTT access on %s', (database) => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ database });
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('enrolls a pre-registered serial once and answers 401/403/409 as the spec says', async () => {
    const serial = uniqueSerial();
    const enroll = (body: Record<string, unknown>) =>
      t.api<{ error: { code: string } }>('POST', '/v1/enroll', { serial, model: 'PAX-A920', fwVersion: '1.0.0', kekPublicKey: kekPublicKey(), enrollToken: TEST_ENROLL_TOKEN, ...body }, { token: null });

    const unknown = await enroll({});
    expect(unknown.status).toBe(403);
    expect(unknown.body.error.code).toBe('not_registered');

    expect((await t.api('POST', '/v1/devices', { serial, model: 'PAX-A920' })).status).toBe(201);
    const wrongToken = await enroll({ enrollToken: 'not-the-token' });
    expect(wrongToken.status).toBe(401);

    const ok = await t.api<{ deviceId: string; mqtt: { url: string; username: string; password: string }; trust: { bindingKey: string } }>(
      'POST', '/v1/enroll', { serial, model: 'PAX-A920', fwVersion: '1.0.0', kekPublicKey: kekPublicKey(), enrollToken: TEST_ENROLL_TOKEN }, { token: null },
    );
    expect(ok.status).toBe(201);
    expect(ok.body.mqtt.username).toBe(ok.body.deviceId);
    expect(Buffer.from(ok.body.mqtt.password, 'base64url')).toHaveLength(32);
    expect(Buffer.from(ok.body.trust.bindingKey, 'base64')).toHaveLength(32);

    const again = await enroll({});
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('already_enrolled');

    const reset = await t.api('POST', `/v1/devices/${ok.body.deviceId}/reset-enrollment`, {});
    expect(reset.status).toBe(200);
    expect((await enroll({})).status).toBe(201);
  });

  it('stores only a keyed hash of the device secret', async () => {
    const d = await registerAndEnroll(t);
    const detail = await t.api<Record<string, unknown>>('GET', `/v1/devices/${d.deviceId}`);
    expect(JSON.stringify(detail.body)).not.toContain(d.password);
    const { devices } = await import('../../schemas/db.ts');
    const { eq } = await import('drizzle-orm');
    const [row] = await t.server.parts.db.select().from(devices).where(eq(devices.id, d.deviceId));
    expect(row!.secretHash).toMatch(/^[0-9a-f]{64}$/);
    expect(row!.secretHash).not.toContain(d.password);
  });

  it('refuses wrong credentials with CONNACK 4 and a revoked device with 5, closing its live link within 1 s', async () => {
    const d = await registerAndEnroll(t);
    expect(await connectRefusal(d.mqttUrl, { clientId: d.deviceId, username: d.deviceId, password: 'wrong' })).toBe(4);
    expect(await connectRefusal(d.mqttUrl, { clientId: 'nobody', username: 'nobody', password: 'x' })).toBe(4);

    const client = await connectDevice(d);
    const closed = new Promise<number>((resolve) => client.once('close', () => resolve(Date.now())));
    const before = Date.now();
    expect((await t.api('POST', `/v1/devices/${d.deviceId}/revoke`, { reason: 'stolen' })).status).toBe(200);
    expect((await closed) - before).toBeLessThan(1000);
    client.end(true);
    expect(await connectRefusal(d.mqttUrl, { clientId: d.deviceId, username: d.deviceId, password: d.password })).toBe(5);
  });

  it('ingests state and health, ignores other devices\' topics and refuses foreign subscriptions', async () => {
    const a = await registerAndEnroll(t);
    const b = await registerAndEnroll(t);
    const ca = await connectDevice(a);
    await publish(ca, topicFor(a.deviceId, 'state'), { online: true, fwVersion: '1.0.0', slot: 'A', ts: Date.now() }, 1, true);
    await publish(ca, topicFor(a.deviceId, 'health'), { ts: Date.now(), seq: 1, battery: { level: 80, charging: false }, temperatureC: 36 });
    // Foreign publish: dropped, the connection stays.
    await publish(ca, topicFor(b.deviceId, 'health'), { ts: Date.now(), seq: 1, battery: { level: 1, charging: false } });
    expect(await subscribeCodes(ca, [topicFor(b.deviceId, 'cmd'), 'fleet/v1/+/cmd', topicFor(a.deviceId, 'cmd')])).toEqual([128, 128, 1]);
    expect(ca.connected).toBe(true);

    const detail = await eventually(async () => {
      const r = await t.api<{ online: boolean; health: { battery: { level: number } } | null }>('GET', `/v1/devices/${a.deviceId}`);
      return r.body.online && r.body.health ? r.body : null;
    });
    expect(detail.health!.battery.level).toBe(80);
    const other = await t.api<{ health: unknown }>('GET', `/v1/devices/${b.deviceId}`);
    expect(other.body.health).toBeNull();

    const timeline = await eventually(async () => {
      const r = await t.api<{ items: { kind: string; summary: string }[] }>('GET', `/v1/devices/${a.deviceId}/timeline`);
      return r.body.items.some((i) => i.kind === 'security') ? r.body.items : null;
    });
    expect(timeline.find((i) => i.kind === 'security')!.summary).toContain('acl');
    ca.end(true);
  });

  it('drops bad JSON, schema violations and oversized payloads with a timeline entry and a metric, keeping the link', async () => {
    const d = await registerAndEnroll(t);
    const c = await connectDevice(d);
    await publish(c, topicFor(d.deviceId, 'health'), '{not json');
    await publish(c, topicFor(d.deviceId, 'event'), { ts: 'yesterday', type: 'fault' });
    await publish(c, topicFor(d.deviceId, 'health'), JSON.stringify({ ts: Date.now(), seq: 1, pad: 'x'.repeat(70 * 1024) }));
    await publish(c, topicFor(d.deviceId, 'health'), { ts: Date.now(), seq: 2, battery: { level: 55, charging: true } });
    expect(c.connected).toBe(true);
    const reasons = await eventually(async () => {
      const r = await t.api<{ items: { kind: string; data: { reason?: string } }[] }>('GET', `/v1/devices/${d.deviceId}/timeline?kind=rejected`);
      const found = new Set(r.body.items.map((i) => i.data.reason));
      return found.size >= 3 ? found : null;
    });
    expect([...reasons].sort()).toEqual(['bad_json', 'schema', 'too_large']);
    const metrics = await (await fetch(`${t.url}/metrics`)).text();
    expect(metrics).toMatch(/posfleet_messages_dropped_total\{reason="bad_json"\} [1-9]/);
    const detail = await eventually(async () => {
      const r = await t.api<{ health: { battery?: { level: number } } | null }>('GET', `/v1/devices/${d.deviceId}`);
      return r.body.health?.battery?.level === 55 ? r.body : null;
    });
    expect(detail.health).toMatchObject({ battery: { level: 55 } });
    c.end(true);
  });
});
