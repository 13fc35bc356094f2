// Issue #16, commands: a command sent through the API (one terminal, a batch, or a device job that
// sends one: diagnostics, logs, key report) is stored with its audit entry or not at all, and
// nothing reaches the terminal before both are in; a cancel is stored with its entry or not at all. The database
// refuses the entry (refuseAudit.ts).
import { count, eq } from 'drizzle-orm';
import type { MqttClient } from 'mqtt';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { commandBatches, commands } from '../../schemas/db.ts';
import { commandMessage, topicFor } from '../../schemas/wire.ts';
import { connectDevice, registerAndEnroll, type EnrolledDevice } from '../helpers/devices.ts';
import { eventually } from '../helpers/eventually.ts';
import { forEachServer } from '../helpers/testServer.ts';
import { refuseAuditOf } from './refuseAudit.ts';

interface Entry {
  action: string;
  target: string | null;
  data: Record<string, unknown>;
}

forEachServer('command sends and their audit entries', (server) => {
  let device: EnrolledDevice;
  let client: MqttClient;
  /** Ids of the commands the terminal received, in order. */
  let received: string[];
  let lift: (() => Promise<void>) | undefined;

  const auditOf = async (action: string) => (await server().api<{ items: Entry[] }>('GET', `/v1/audit?action=${action}`)).body.items;
  const commandsOf = async (id: string) =>
    (await server().api<{ items: { id: string }[] }>('GET', `/v1/devices/${id}/commands`)).body.items;
  const refuse = async (action: string) => {
    lift = await refuseAuditOf(server().server.parts.db, action);
  };
  const expectChainOk = async () => expect((await server().api<{ ok: boolean }>('GET', '/v1/audit/verify')).body.ok).toBe(true);
  const batchCount = async () => (await server().server.parts.db.select({ n: count() }).from(commandBatches))[0]!.n;
  const diag = { type: 'diag.run', payload: { components: ['printer'] } };

  /**
   * Once the refusal is lifted a command goes through and reaches the terminal. The refused one,
   * had it been queued, would have been published before it: the terminal got only this one.
   */
  async function expectOnlyNextDelivered(send: () => Promise<void>) {
    await lift?.();
    lift = undefined;
    await send();
    const [only] = await eventually(
      async () => {
        const listed = await commandsOf(device.deviceId);
        return listed.length === 1 && received.includes(listed[0]!.id) && listed;
      },
      { what: 'the command sent after the refusal delivered' },
    );
    expect(received).toEqual([only!.id]);
  }

  beforeEach(async () => {
    device = await registerAndEnroll(server());
    client = await connectDevice(device);
    received = [];
    client.on('message', (_topic, payload) => void received.push(commandMessage.parse(JSON.parse(payload.toString())).id));
    await client.subscribeAsync(topicFor(device.deviceId, 'cmd'), { qos: 1 });
  });

  afterEach(async () => {
    await lift?.();
    lift = undefined;
    client.end(true);
  });

  it('a command whose audit entry is refused is not stored and never sent', async () => {
    await refuse('command.send');
    expect((await server().api('POST', `/v1/devices/${device.deviceId}/commands`, diag)).status).toBe(500);
    expect(await commandsOf(device.deviceId)).toEqual([]);
    expect((await auditOf('command.send')).filter((e) => e.target === device.deviceId)).toEqual([]);
    await expectChainOk();

    await expectOnlyNextDelivered(async () => {
      expect((await server().api('POST', `/v1/devices/${device.deviceId}/commands`, diag)).status).toBe(201);
    });
    expect((await auditOf('command.send')).filter((e) => e.target === device.deviceId)).toHaveLength(1);
    await expectChainOk();
  });

  it('a cancel whose audit entry is refused leaves the command open, in memory and stored', async () => {
    const away = await registerAndEnroll(server());
    const sent = await server().api<{ id: string }>('POST', `/v1/devices/${away.deviceId}/commands`, diag);
    expect(sent.status).toBe(201);
    const path = `/v1/devices/${away.deviceId}/commands/${sent.body.id}`;
    const stored = async () =>
      (await server().server.parts.db.select({ state: commands.state }).from(commands).where(eq(commands.id, sent.body.id)))[0]?.state;
    await refuse('command.cancel');
    expect((await server().api('POST', `${path}/cancel`)).status).toBe(500);
    // Still open: waiting for its terminal, queued or not yet.
    const open = ['pending', 'queued'];
    expect(open).toContain((await server().api<{ state: string }>('GET', path)).body.state);
    expect(open).toContain(await stored());
    expect((await auditOf('command.cancel')).filter((e) => e.target === away.deviceId)).toEqual([]);
    await expectChainOk();

    await lift!();
    lift = undefined;
    expect((await server().api('POST', `${path}/cancel`)).status).toBe(200);
    expect((await server().api<{ state: string }>('GET', path)).body.state).toBe('cancelled');
    expect(await stored()).toBe('cancelled');
    expect((await auditOf('command.cancel')).filter((e) => e.target === away.deviceId).map((e) => e.data.cmdId)).toEqual([sent.body.id]);
    await expectChainOk();
  });

  it('a device job whose audit entry is refused stores no job and no command, and sends nothing', async () => {
    const jobs = [
      { action: 'device.diagnostics', path: 'diagnostics', body: { components: ['printer'] }, list: 'diagnostics' },
      { action: 'device.logs_request', path: 'logs', body: {}, list: 'logs' },
      { action: 'keys.report', path: 'keys/report', body: undefined, list: undefined },
    ];
    for (const job of jobs) {
      await refuse(job.action);
      expect((await server().api('POST', `/v1/devices/${device.deviceId}/${job.path}`, job.body)).status, job.action).toBe(500);
      await lift!();
      lift = undefined;
      if (job.list)
        expect(
          (await server().api<{ items: unknown[] }>('GET', `/v1/devices/${device.deviceId}/${job.list}`)).body.items,
          job.action,
        ).toEqual([]);
      expect(
        (await auditOf(job.action)).filter((e) => e.target === device.deviceId),
        job.action,
      ).toEqual([]);
    }
    expect(await commandsOf(device.deviceId)).toEqual([]);
    await expectChainOk();

    await expectOnlyNextDelivered(async () => {
      expect((await server().api('POST', `/v1/devices/${device.deviceId}/diagnostics`, { components: ['printer'] })).status).toBe(201);
    });
    expect((await server().api<{ items: unknown[] }>('GET', `/v1/devices/${device.deviceId}/diagnostics`)).body.items).toHaveLength(1);
    expect((await auditOf('device.diagnostics')).filter((e) => e.target === device.deviceId)).toHaveLength(1);
  });

  it('a batch whose audit entry is refused stores no batch and no command, and sends nothing', async () => {
    const other = await registerAndEnroll(server());
    const batchesBefore = await batchCount();
    await refuse('command.batch');
    const body = { target: { deviceIds: [device.deviceId, other.deviceId] }, ...diag };
    expect((await server().api('POST', '/v1/commands', body)).status).toBe(500);
    expect(await commandsOf(device.deviceId)).toEqual([]);
    expect(await commandsOf(other.deviceId)).toEqual([]);
    expect(await batchCount()).toBe(batchesBefore);
    expect(await auditOf('command.batch')).toEqual([]);
    await expectChainOk();

    let batchId = '';
    await expectOnlyNextDelivered(async () => {
      const created = await server().api<{ batchId: string; total: number }>('POST', '/v1/commands', {
        ...body,
        target: { deviceIds: [device.deviceId] },
      });
      expect(created.status).toBe(201);
      batchId = created.body.batchId;
    });
    expect((await auditOf('command.batch')).map((e) => e.target)).toContain(batchId);
    expect((await server().api<{ total: number }>('GET', `/v1/command-batches/${batchId}`)).body.total).toBe(1);
    await expectChainOk();
  });
});
