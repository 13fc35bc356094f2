// TLS (MQTTS + HTTPS, the client pinning our CA) and MQTT over WebSocket.
import { mkdtempSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topicFor } from '../../schemas/wire.ts';
import { createApiClient } from '../helpers/apiClient.ts';
import { makeTestCertificates } from '../helpers/certificates.ts';
import { kekPublicKey, uniqueSerial } from '../helpers/devices.ts';
import { eventually } from '../helpers/eventually.ts';
import { TEST_ADMIN_TOKEN, TEST_ENROLL_TOKEN, startTestServer, type TestServer } from '../helpers/testServer.ts';

/** Sends the API client's requests over HTTPS trusting only `ca` (fetch cannot be given a CA). */
function pinnedTo(ca: Buffer) {
  return (url: string, init: RequestInit) =>
    new Promise<Response>((resolve, reject) => {
      const headers = Object.fromEntries(new Headers(init.headers));
      const req = request(url, { method: init.method, agent: new Agent({ ca }), headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve(new Response(Buffer.concat(chunks), { status: res.statusCode ?? 0 })));
      });
      req.on('error', reject);
      req.end(typeof init.body === 'string' ? init.body : undefined);
    });
}

describe('TLS only', () => {
  let t: TestServer;
  let ca: Buffer;
  beforeAll(async () => {
    const certs = makeTestCertificates(mkdtempSync(join(tmpdir(), 'posfleet-tls-')));
    ca = certs.ca;
    t = await startTestServer({ env: { TLS_CERT: certs.certPath, TLS_KEY: certs.keyPath, MQTTS_PORT: '0', TLS_ONLY: 'true' } });
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('serves HTTPS and MQTTS, tells devices the mqtts URL, and opens no plain MQTT listener', async () => {
    expect(t.started.mqttPort).toBeUndefined();
    expect(t.url.startsWith('https://')).toBe(true);
    const serial = uniqueSerial();
    const api = createApiClient({ baseUrl: () => t.url, defaultToken: TEST_ADMIN_TOKEN, send: pinnedTo(ca) });
    expect((await api('POST', '/v1/devices', { serial, model: 'M' })).status).toBe(201);
    const enrolled = await api<{ deviceId: string; mqtt: { url: string; password: string } }>(
      'POST',
      '/v1/enroll',
      { serial, model: 'M', fwVersion: '1', kekPublicKey: kekPublicKey(), enrollToken: TEST_ENROLL_TOKEN },
      { token: null },
    );
    const body = enrolled.body;
    expect(body.mqtt.url).toBe(`mqtts://127.0.0.1:${t.started.mqttsPort}`);

    const pinned = mqtt.connect(body.mqtt.url, { ca, clientId: body.deviceId, username: body.deviceId, password: body.mqtt.password, reconnectPeriod: 0, protocolVersion: 4 });
    await new Promise<void>((resolve, reject) => {
      pinned.once('connect', () => resolve());
      pinned.once('error', reject);
    });
    pinned.end(true);

    // Without our CA pinned, the client refuses the server.
    const unpinned = mqtt.connect(body.mqtt.url, { clientId: body.deviceId, username: body.deviceId, password: body.mqtt.password, reconnectPeriod: 0, protocolVersion: 4 });
    const err = await new Promise<Error>((resolve) => unpinned.once('error', resolve));
    expect(String(err.message)).toMatch(/certificate/i);
    unpinned.end(true);
  });
});

describe('MQTT over WebSocket', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ env: { MQTT_WS_PORT: '0' } });
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('authenticates and ingests like the TCP listener', async () => {
    const serial = uniqueSerial();
    await t.api('POST', '/v1/devices', { serial, model: 'M' });
    const e = await t.api<{ deviceId: string; mqtt: { password: string } }>('POST', '/v1/enroll', { serial, model: 'M', fwVersion: '1', kekPublicKey: kekPublicKey(), enrollToken: TEST_ENROLL_TOKEN }, { token: null });
    const c = mqtt.connect(`ws://127.0.0.1:${t.started.wsPort}`, { clientId: e.body.deviceId, username: e.body.deviceId, password: e.body.mqtt.password, reconnectPeriod: 0, protocolVersion: 4 });
    await new Promise<void>((resolve, reject) => {
      c.once('connect', () => resolve());
      c.once('error', reject);
    });
    await c.publishAsync(topicFor(e.body.deviceId, 'health'), JSON.stringify({ ts: Date.now(), seq: 1, temperatureC: 41 }), { qos: 1 });
    const health = await eventually(
      async () => (await t.api<{ health: { temperatureC?: number } | null }>('GET', `/v1/devices/${e.body.deviceId}`)).body.health,
      { timeoutMs: 5000, what: 'the sample sent over WebSocket' },
    );
    expect(health.temperatureC).toBe(41);
    c.end(true);
  });
});
