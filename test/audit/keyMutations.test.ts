// Issue #16, key controls: revoking a terminal's keys, marking it compromised (by an admin or by
// a tamper event), clearing the mark and setting a key policy commit with their audit entries or
// not at all; the zeroize and lock commands go out only after the commit. The database refuses
// the audit entry (refuseAudit.ts) after the change was made in the same request.
import { eq } from 'drizzle-orm';
import type { MqttClient } from 'mqtt';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { compromisedDevices, keys } from '../../schemas/tables/keys.ts';
import { topicFor } from '../../schemas/wire.ts';
import { connectDevice, publish, registerAndEnroll, type EnrolledDevice } from '../helpers/devices.ts';
import { moduleInternals } from '../helpers/moduleInternals.ts';
import { forEachServer } from '../helpers/testServer.ts';
import { refuseAuditOf } from './refuseAudit.ts';

forEachServer('key mutations and their audit entries', (server) => {
  let device: EnrolledDevice;
  let lift: (() => Promise<void>) | undefined;
  let client: MqttClient | undefined;
  const db = () => server().server.parts.db;

  const refuse = async (action: string) => {
    lift = await refuseAuditOf(db(), action);
  };
  const keyStates = async () => (await db().select({ state: keys.state }).from(keys).where(eq(keys.deviceId, device.deviceId))).map((k) => k.state);
  const isMarked = async () => (await db().select().from(compromisedDevices).where(eq(compromisedDevices.deviceId, device.deviceId))).length > 0;
  const commandTypes = async () =>
    (await server().api<{ items: { type: string }[] }>('GET', `/v1/devices/${device.deviceId}/commands`)).body.items.map((c) => c.type);
  const actions = async () => (await server().api<{ items: { action: string; target: string | null }[] }>('GET', '/v1/audit?limit=500')).body.items;
  async function expectNothingRecordedFor(target: string) {
    expect((await actions()).filter((e) => e.target === target).map((e) => e.action)).toEqual(['device.register']);
    expect((await server().api<{ ok: boolean }>('GET', '/v1/audit/verify')).body.ok).toBe(true);
  }

  beforeEach(async () => {
    device = await registerAndEnroll(server());
    await db().insert(keys).values({ id: `key_${device.deviceId}`, deviceId: device.deviceId, usage: 'TPK', slot: 'tpk', version: 1, state: 'installed', kcv: 'cmac:000000', sealed: 'x', masterGen: 1, installedAt: new Date() });
  });

  afterEach(async () => {
    await lift?.();
    lift = undefined;
    client?.end(true);
    client = undefined;
  });

  it('a key revocation whose audit entry is refused keeps the key and sends no zeroize', async () => {
    await refuse('keys.revoke');
    const res = await server().api('POST', `/v1/devices/${device.deviceId}/keys/revoke`, { reason: 'lost' });
    expect(res.status).toBe(500);
    expect(await keyStates()).toEqual(['installed']);
    expect(await commandTypes()).toEqual([]);
    await expectNothingRecordedFor(device.deviceId);

    await lift!();
    expect((await server().api('POST', `/v1/devices/${device.deviceId}/keys/revoke`, { reason: 'lost' })).status).toBe(200);
    expect(await keyStates()).toEqual(['revoked']);
    expect(await commandTypes()).toEqual(['keys.zeroize']);
  });

  it('a compromise mark whose audit entry is refused revokes, locks and sends nothing', async () => {
    await refuse('device.mark_compromised');
    const res = await server().api('POST', `/v1/devices/${device.deviceId}/compromised`, { reason: 'seal broken' });
    expect(res.status).toBe(500);
    expect(await isMarked()).toBe(false);
    expect(await keyStates()).toEqual(['installed']);
    expect((await server().api<{ locked: boolean }>('GET', `/v1/devices/${device.deviceId}/lock`)).body.locked).toBe(false);
    expect(await commandTypes()).toEqual([]);
    await expectNothingRecordedFor(device.deviceId);
  });

  it('a tamper event whose audit entry is refused changes nothing, and the next one is handled', async () => {
    client = await connectDevice(device);
    await refuse('device.compromised');
    const tamper = { ts: Date.now(), seq: 1, type: 'tamper', severity: 'critical', data: {} };
    await publish(client, topicFor(device.deviceId, 'event'), tamper);
    await expectSettled();
    expect(await isMarked()).toBe(false);
    expect(await keyStates()).toEqual(['installed']);
    expect((await server().api<{ locked: boolean }>('GET', `/v1/devices/${device.deviceId}/lock`)).body.locked).toBe(false);
    expect(await commandTypes()).toEqual([]);
    await expectNothingRecordedFor(device.deviceId);

    await lift!();
    lift = undefined;
    await publish(client, topicFor(device.deviceId, 'event'), { ...tamper, seq: 2, ts: Date.now() });
    await expectSettled();
    expect(await isMarked()).toBe(true);
    expect(await keyStates()).toEqual(['revoked']);
    expect((await actions()).filter((e) => e.target === device.deviceId).map((e) => e.action)).toEqual(['device.compromised', 'device.lock', 'device.register']);
  });

  /** The tamper handling started by the last event has finished. */
  async function expectSettled() {
    // The event reaches the keys module through ingest; a QoS 1 round trip after it has been read.
    await publish(client!, topicFor(device.deviceId, 'state'), { online: true, fwVersion: '1.0.0' });
    await moduleInternals(server(), 'keys').tamperIdle();
  }

  it('clearing a mark and setting a key policy whose audit entries are refused change nothing', async () => {
    expect((await server().api('POST', `/v1/devices/${device.deviceId}/compromised`, { reason: 'seal broken' })).status).toBe(200);
    await refuse('device.clear_compromised');
    expect((await server().api('POST', `/v1/devices/${device.deviceId}/compromised/clear`)).status).toBe(500);
    expect(await isMarked()).toBe(true);
    await lift!();

    await refuse('key_policy.set');
    expect((await server().api('PUT', '/v1/key-policies/TAK', { maxAgeDays: 30 })).status).toBe(500);
    const policies = (await server().api<{ items: { usage: string }[] }>('GET', '/v1/key-policies')).body.items;
    expect(policies.filter((p) => p.usage === 'TAK')).toEqual([]);
    expect((await actions()).map((e) => e.action)).not.toContain('key_policy.set');
    expect((await server().api<{ ok: boolean }>('GET', '/v1/audit/verify')).body.ok).toBe(true);
  });
});
