// Two servers of one cluster in this process (CLUSTER=true, one PostgreSQL database, one Redis
// prefix, the same secrets): a change made through A reaches B's caches within a second, with
// real MQTT terminals over TCP and real HTTP requests.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createScratchPostgres, requiredDatabaseUrl, type ScratchDatabase } from '../helpers/databases.ts';
import type { CommandState } from '../../schemas/db.ts';
import { topicFor } from '../../schemas/wire.ts';
import { connectDevice, connectRefusal, kekPublicKey, publish, uniqueSerial, type EnrolledDevice } from '../helpers/devices.ts';
import { eventually } from '../helpers/eventually.ts';
import { moduleInternals } from '../helpers/moduleInternals.ts';
import { activeMerchant, createUser, uniqueTid } from '../merchants/helpers.ts';
import { startTestServer, TEST_ENROLL_TOKEN, type TestServer } from '../helpers/testServer.ts';

const START_TIMEOUT_MS = 120_000;
/** What the design promises end to end; the polls below give up only later, to report the time taken. */
const WITHIN_MS = 1_000;

let db: ScratchDatabase | undefined;
let a: TestServer;
let b: TestServer;
const clients: MqttClient[] = [];

beforeAll(async () => {
  db = await createScratchPostgres(requiredDatabaseUrl());
  const shared = {
    CLUSTER: 'true',
    DATABASE_URL: db.url,
    QUEUE_PREFIX: `test-inv-${randomBytes(6).toString('hex')}`,
    SECRET_PEPPER: randomBytes(32).toString('hex'),
    BINDING_SIGNING_KEY: generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    KEY_VAULT_MASTER_KEY: randomBytes(32).toString('hex'),
  };
  a = await startTestServer({ env: { ...shared, INSTANCE_ID: 'inv-a' } });
  b = await startTestServer({ env: { ...shared, INSTANCE_ID: 'inv-b' } });
}, START_TIMEOUT_MS);

afterAll(async () => {
  for (const c of clients) c.end(true);
  await b?.stop();
  await a?.stop();
  await db?.drop();
}, START_TIMEOUT_MS);

const bMqttUrl = () => `mqtt://127.0.0.1:${b.started.mqttPort}`;

async function register(t: TestServer): Promise<{ deviceId: string; serial: string }> {
  const serial = uniqueSerial('INV');
  const r = await t.api<{ id: string }>('POST', '/v1/devices', { serial, model: 'PAX-A920' });
  expect(r.status).toBe(201);
  return { deviceId: r.body.id, serial };
}

async function enroll(t: TestServer, serial: string): Promise<EnrolledDevice> {
  const res = await t.api<{ deviceId: string; mqtt: { password: string } }>(
    'POST',
    '/v1/enroll',
    { serial, model: 'PAX-A920', fwVersion: '1.0.0', kekPublicKey: kekPublicKey(), enrollToken: TEST_ENROLL_TOKEN },
    { token: null },
  );
  expect(res.status).toBe(201);
  return { deviceId: res.body.deviceId, serial, password: res.body.mqtt.password, mqttUrl: bMqttUrl() };
}

/** An enrolled terminal (through A) connected to B. */
async function terminalOnB(): Promise<{ device: EnrolledDevice; client: MqttClient }> {
  const { serial } = await register(a);
  const device = await enroll(a, serial);
  const client = await connectDevice(device);
  clients.push(client);
  return { device, client };
}

/** Resolves with how long after `since` the client's link closed, or Infinity when it stays open for 3 s. */
const closedAfter = (client: MqttClient, since: () => number) =>
  Promise.race([
    new Promise<number>((resolve) => client.once('close', () => resolve(Date.now() - since()))),
    new Promise<number>((resolve) => setTimeout(() => resolve(Infinity), 3 * WITHIN_MS).unref()),
  ]);

describe('invalidation across two instances', () => {
  it('a terminal enrolled through A connects to B, although B had already read it as not enrolled', async () => {
    const { deviceId, serial } = await register(a);
    // B reads the registered row (no secret) into its cache on this attempt.
    expect(await connectRefusal(bMqttUrl(), { clientId: deviceId, username: deviceId, password: 'nothing-yet' })).toBe(4);
    const device = await enroll(a, serial);
    const client = await eventually(() => connectDevice(device), { timeoutMs: WITHIN_MS, stepMs: 100, what: 'B accepting the new enrollment' });
    clients.push(client);
  });

  it('revoked through A: the live link on B closes within a second and B refuses it again (CONNACK 5)', async () => {
    const { device, client } = await terminalOnB();
    let at = 0;
    const closed = closedAfter(client, () => at);
    at = Date.now();
    const r = await a.api('POST', `/v1/devices/${device.deviceId}/revoke`, { reason: 'stolen' });
    expect(r.status).toBe(200);
    expect(await closed).toBeLessThan(WITHIN_MS);
    expect(await connectRefusal(bMqttUrl(), { clientId: device.deviceId, username: device.deviceId, password: device.password })).toBe(5);
  });

  it('blacklisted through A: B closes the link, refuses it and holds it in its blacklist; taken off, B accepts it again', async () => {
    const { device, client } = await terminalOnB();
    let at = 0;
    const closed = closedAfter(client, () => at);
    at = Date.now();
    expect((await a.api('POST', `/v1/devices/${device.deviceId}/blacklist`, { reason: 'fraud' })).status).toBe(200);
    expect(await closed).toBeLessThan(WITHIN_MS);
    expect(b.server.parts.terminalControl.blacklist.isBlacklisted(device.deviceId)).toBe(true);
    expect(await connectRefusal(bMqttUrl(), { clientId: device.deviceId, username: device.deviceId, password: device.password })).toBe(5);

    expect((await a.api('DELETE', `/v1/devices/${device.deviceId}/blacklist`, { reason: 'cleared' })).status).toBe(200);
    await eventually(() => !b.server.parts.terminalControl.blacklist.isBlacklisted(device.deviceId), { timeoutMs: WITHIN_MS, what: 'B off the blacklist' });
    clients.push(await eventually(() => connectDevice(device), { timeoutMs: WITHIN_MS, stepMs: 100, what: 'B accepting it again' }));
  });

  it('reset through A: B drops the link and refuses the old secret', async () => {
    const { device, client } = await terminalOnB();
    let at = 0;
    const closed = closedAfter(client, () => at);
    at = Date.now();
    expect((await a.api('POST', `/v1/devices/${device.deviceId}/reset-enrollment`, {})).status).toBe(200);
    expect(await closed).toBeLessThan(WITHIN_MS);
    const code = await connectRefusal(bMqttUrl(), { clientId: device.deviceId, username: device.deviceId, password: device.password });
    expect(code === 4 || code === 5).toBe(true);
  });

  it('a user disabled through A is refused by B within a second, although B had its token cached', async () => {
    const created = await a.api<{ id: string; token: string }>('POST', '/v1/users', { name: `tech-${randomBytes(3).toString('hex')}`, role: 'technician' });
    expect(created.status).toBe(201);
    const asUser = { token: created.body.token };
    expect((await b.api('GET', '/v1/me', undefined, asUser)).status).toBe(200);
    expect((await a.api('POST', `/v1/users/${created.body.id}/disable`)).status).toBe(200);
    await eventually(async () => (await b.api('GET', '/v1/me', undefined, asUser)).status === 401, {
      timeoutMs: WITHIN_MS,
      stepMs: 50,
      what: 'B answering 401',
    });
  });

  // Locks live in the database only (no cache to drop): this guards that it stays so.
  it('a lock set through A is B’s lock state too', async () => {
    const { deviceId } = await register(a);
    expect((await b.api<{ locked: boolean }>('GET', `/v1/devices/${deviceId}/lock`)).body.locked).toBe(false);
    expect((await a.api('POST', `/v1/devices/${deviceId}/lock`, { reason: 'operator', note: 'inventory' })).status).toBe(200);
    const seen = await b.api<{ locked: boolean; version: number; reasons: { reason: string }[] }>('GET', `/v1/devices/${deviceId}/lock`);
    expect(seen.body).toMatchObject({ locked: true, version: 1, reasons: [{ reason: 'operator' }] });
  });

  it('fault rules replaced through A apply on B within a second', async () => {
    const current = await a.api<{ rules: { code: string; title: string }[] }>('GET', '/v1/fault-rules');
    expect(current.status).toBe(200);
    const [first, ...rest] = current.body.rules;
    if (!first) throw new Error('no default fault rule to change');
    const title = `renamed ${randomBytes(3).toString('hex')}`;
    expect((await a.api('PUT', '/v1/fault-rules', { rules: [{ ...first, title }, ...rest] })).status).toBe(200);
    await eventually(
      async () => {
        const r = await b.api<{ rules: { code: string; title: string }[]; source: string }>('GET', '/v1/fault-rules');
        return r.body.source === 'stored' && r.body.rules.find((x) => x.code === first.code)?.title === title;
      },
      { timeoutMs: WITHIN_MS, what: 'B applying the new rules' },
    );
  });

  it('a terminal bound through A is checked by B against its merchant’s limits at once', async () => {
    const approver = await createUser(a, 'admin');
    const m = await activeMerchant(a, approver, { policy: { currency: 'CNY', dailyCountLimit: 10, lockOnBreach: false } });
    const { device, client } = await terminalOnB();
    expect((await a.api('PUT', `/v1/devices/${device.deviceId}/binding`, { merchantId: m.id, tid: uniqueTid() })).status).toBe(200);
    // Without the announcement B would learn of the binding at its next 30 s registry reload.
    await eventually(
      async () => {
        await publish(client, topicFor(device.deviceId, 'health'), { ts: Date.now(), seq: 1, txn: { day: '2026-01-01', count: 11, amountMinor: 1, currency: 'CNY' } });
        const alerts = await b.api<{ items: { code: string }[] }>('GET', `/v1/merchant-alerts?deviceId=${device.deviceId}`);
        return alerts.body.items.some((x) => x.code === 'txn_limit_breach');
      },
      { timeoutMs: 2 * WITHIN_MS, stepMs: 200, what: 'B raising the limit breach' },
    );
  });

  it('a terminal marked compromised through A is so for B’s key rotations, and cleared likewise', async () => {
    const { deviceId } = await register(a);
    const compromised = moduleInternals(b, 'keys').compromised;
    expect((await a.api('POST', `/v1/devices/${deviceId}/compromised`, { reason: 'opened casing' })).status).toBe(200);
    await eventually(() => compromised.has(deviceId), { timeoutMs: WITHIN_MS, what: 'B holding the mark' });
    expect((await a.api('POST', `/v1/devices/${deviceId}/compromised/clear`)).status).toBe(200);
    await eventually(() => !compromised.has(deviceId), { timeoutMs: WITHIN_MS, what: 'B dropping the mark' });
  });

  it('a diagnostics result written by the terminal’s new holder is not overwritten by its former holder’s older view', async () => {
    const { serial } = await register(a);
    const { deviceId } = await enroll(a, serial);
    expect((await a.api('POST', `/v1/devices/${deviceId}/diagnostics`, {})).status).toBe(201);
    const list = () => b.api<{ items: { cmdId: string; state: string }[] }>('GET', `/v1/devices/${deviceId}/diagnostics`);
    const cmdId = (await list()).body.items[0]?.cmdId;
    if (!cmdId) throw new Error('no diagnostics row after the request');
    const update = (state: CommandState) => ({ id: cmdId, deviceId, type: 'diag.run', state, batchId: null, stage: null, progress: null, error: null, result: null });
    // B, the new holder, hears the result; A, the former one, still had `sent` unwritten.
    b.server.parts.bus.emit('command.updated', update('succeeded'));
    await moduleInternals(b, 'faults').diagnostics.flush();
    a.server.parts.bus.emit('command.updated', update('sent'));
    await moduleInternals(a, 'faults').diagnostics.flush();
    expect((await list()).body.items[0]).toMatchObject({ cmdId, state: 'succeeded' });
  });
});
