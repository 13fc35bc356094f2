// Issue #16: a device change and its audit entry commit together or not at all, and the live
// connection is closed only once both are in. The audit insert is refused by the database
// (refuseAudit.ts) after the change was made in the same request.
import type { MqttClient } from 'mqtt';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { topicFor } from '../../schemas/wire.ts';
import { connectDevice, publish, registerAndEnroll, uniqueSerial, type EnrolledDevice } from '../helpers/devices.ts';
import { forEachServer } from '../helpers/testServer.ts';
import { refuseAuditOf } from './refuseAudit.ts';

interface Entry { action: string; target: string | null; data: Record<string, unknown> }

forEachServer('device mutations and their audit entries', (server) => {
  let device: EnrolledDevice;
  let client: MqttClient;
  let closed: boolean;
  let lift: (() => Promise<void>) | undefined;

  const auditOf = async (action: string) =>
    (await server().api<{ items: Entry[] }>('GET', `/v1/audit?action=${action}`)).body.items;
  const status = async (id: string) => (await server().api<{ status: string }>('GET', `/v1/devices/${id}`)).body.status;
  const timelineKinds = async (id: string) =>
    (await server().api<{ items: { kind: string }[] }>('GET', `/v1/devices/${id}/timeline`)).body.items.map((e) => e.kind);
  const refuse = async (action: string) => {
    lift = await refuseAuditOf(server().server.parts.db, action);
  };
  async function expectChainOk() {
    expect((await server().api<{ ok: boolean }>('GET', '/v1/audit/verify')).body.ok).toBe(true);
  }
  /** A QoS 1 round trip: the broker still serves this connection. */
  async function expectStillConnected() {
    await publish(client, topicFor(device.deviceId, 'state'), { online: true, fwVersion: '1.0.0' });
    expect(closed).toBe(false);
  }

  /** POST `path` answers 500 and the terminal is as it was: enrolled, connected, no timeline or audit entry of it. */
  async function expectRefusedAndUndone(path: string, action: string, timelineKind: string) {
    expect((await server().api('POST', path, { reason: 'stolen' })).status).toBe(500);
    expect(await status(device.deviceId)).toBe('enrolled');
    await expectStillConnected();
    expect(await timelineKinds(device.deviceId)).not.toContain(timelineKind);
    expect((await auditOf(action)).filter((e) => e.target === device.deviceId)).toEqual([]);
    await expectChainOk();
  }

  beforeEach(async () => {
    device = await registerAndEnroll(server());
    client = await connectDevice(device);
    closed = false;
    client.on('close', () => void (closed = true));
  });

  afterEach(async () => {
    await lift?.();
    lift = undefined;
    client.end(true);
  });

  it('a revoke whose audit entry is refused leaves the terminal enrolled and connected', async () => {
    await refuse('device.revoke');
    await expectRefusedAndUndone(`/v1/devices/${device.deviceId}/revoke`, 'device.revoke', 'revoked');

    await lift!();
    expect((await server().api('POST', `/v1/devices/${device.deviceId}/revoke`, { reason: 'stolen' })).status).toBe(200);
    expect(await status(device.deviceId)).toBe('revoked');
    expect((await auditOf('device.revoke')).filter((e) => e.target === device.deviceId)).toHaveLength(1);
    await expectChainOk();
  });

  it('a reset whose audit entry is refused keeps the credentials and the connection', async () => {
    await refuse('device.reset_enrollment');
    await expectRefusedAndUndone(`/v1/devices/${device.deviceId}/reset-enrollment`, 'device.reset_enrollment', 'enrollment_reset');
  });

  it('a registration or an import whose audit entry is refused registers nothing', async () => {
    await refuse('device.register');
    const serial = uniqueSerial('AUD');
    expect((await server().api('POST', '/v1/devices', { serial, model: 'PAX-A920' })).status).toBe(500);
    await lift!();
    await refuse('device.import');
    const imported = [uniqueSerial('AUD'), uniqueSerial('AUD')];
    const csv = `serial,model\n${imported.map((s) => `${s},PAX-A920`).join('\n')}\n`;
    expect((await server().api('POST', '/v1/devices/import', undefined, { raw: csv, headers: { 'content-type': 'text/csv' } })).status).toBe(500);

    for (const s of [serial, ...imported]) {
      expect((await server().api<{ items: unknown[] }>('GET', `/v1/devices?q=${s}`)).body.items).toEqual([]);
    }
    expect((await auditOf('device.register')).filter((e) => e.data.serial === serial)).toEqual([]);
    expect(await auditOf('device.import')).toEqual([]);
    await expectChainOk();
  });
});
