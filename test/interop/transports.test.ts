// TLS (MQTTS + HTTPS, the client pinning our CA) and MQTT over WebSocket.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topicFor } from '../../schemas/wire.ts';
import { createApiClient } from '../helpers/apiClient.ts';
import { kekPublicKey, uniqueSerial } from '../helpers/devices.ts';
import { eventually } from '../helpers/eventually.ts';
import { TEST_ADMIN_TOKEN, TEST_ENROLL_TOKEN, startTestServer, type TestServer } from '../helpers/testServer.ts';

/** A throw-away CA and a server certificate for 127.0.0.1 signed by it. */
function makeCertificates(dir: string) {
  const sh = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  sh('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=posfleet test CA');
  sh('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1');
  writeFileSync(join(dir, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  sh('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '2', '-extfile', 'ext.cnf');
  return { ca: join(dir, 'ca.pem'), cert: join(dir, 'server.pem'), key: join(dir, 'server.key') };
}

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
    const certs = makeCertificates(mkdtempSync(join(tmpdir(), 'posfleet-tls-')));
    ca = readFileSync(certs.ca);
    t = await startTestServer({ env: { TLS_CERT: certs.cert, TLS_KEY: certs.key, MQTTS_PORT: '0', TLS_ONLY: 'true' } });
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
