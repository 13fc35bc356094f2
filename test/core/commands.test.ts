// Commands through the real server: BullMQ on the real Redis, MQTT over TCP, acks back.
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseKinds } from '../helpers/databases.ts';
import { registerAndEnroll } from '../helpers/devices.ts';
import { eventually } from '../helpers/eventually.ts';
import { rawTerminal } from '../helpers/rawTerminal.ts';
import { startTestServer, type TestServer } from '../helpers/testServer.ts';

interface CommandView {
  id: string;
  state: string;
  stage: string | null;
  result: Record<string, unknown> | null;
  error: { code: string } | null;
}

describe.each(databaseKinds())('commands on %s', (database) => {
  let t: TestServer;
  const clients: MqttClient[] = [];
  beforeAll(async () => {
    t = await startTestServer({ database });
  });
  afterAll(async () => {
    for (const c of clients) c.end(true);
    await t?.stop();
  });

  const waitState = (deviceId: string, cmdId: string, state: string) =>
    eventually(async () => {
      const r = await t.api<CommandView>('GET', `/v1/devices/${deviceId}/commands/${cmdId}`);
      return r.body.state === state ? r.body : null;
    });

  it('delivers a command to an online device and records its acks', async () => {
    const d = await registerAndEnroll(t);
    const dev = await rawTerminal(d, (cmd) => [{ state: 'received' }, { state: 'in_progress', stage: 'selftest', progress: 50 }, { state: 'succeeded', result: { printer: 'pass', echo: cmd.type } }]);
    clients.push(dev.client);
    const res = await t.api<CommandView>('POST', `/v1/devices/${d.deviceId}/commands`, { type: 'diag.run' });
    expect(res.status).toBe(201);
    const done = await waitState(d.deviceId, res.body.id, 'succeeded');
    expect(done.result).toEqual({ printer: 'pass', echo: 'diag.run' });
    expect(dev.seen).toHaveLength(1);
    expect(dev.seen[0]!.expiresAt).toBeGreaterThan(Date.now());
    const timeline = await t.api<{ items: { kind: string; summary: string }[] }>('GET', `/v1/devices/${d.deviceId}/timeline`);
    expect(timeline.body.items.map((i) => i.summary)).toEqual(expect.arrayContaining(['diag.run issued', 'diag.run in_progress (selftest)', 'diag.run succeeded (selftest)']));
  });

  it('creates commands made at the same moment together, and one bad device fails only its own', async () => {
    const a = await registerAndEnroll(t);
    const b = await registerAndEnroll(t);
    const commands = t.server.parts.commands;
    const results = await Promise.allSettled([
      commands.create(a.deviceId, { type: 'diag.run', createdBy: null }),
      commands.create('dev_does_not_exist', { type: 'diag.run', createdBy: null }),
      commands.create(b.deviceId, { type: 'diag.run', payload: { components: ['printer'] }, createdBy: null }),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    for (const [d, r] of [[a, results[0]], [b, results[2]]] as const) {
      const id = r?.status === 'fulfilled' ? r.value.id : '';
      const stored = await t.api<CommandView>('GET', `/v1/devices/${d.deviceId}/commands/${id}`);
      expect(stored.status).toBe(200);
    }
    await commands.flush();
    const listed = await t.api<{ items: (CommandView & { payload: unknown })[] }>('GET', `/v1/devices/${b.deviceId}/commands`);
    expect(listed.body.items[0]).toMatchObject({ type: 'diag.run', payload: { components: ['printer'] } });
  });

  it('queues a command for an offline device and delivers it when the device comes back', async () => {
    const d = await registerAndEnroll(t);
    const res = await t.api<CommandView>('POST', `/v1/devices/${d.deviceId}/commands`, { type: 'reboot' });
    await waitState(d.deviceId, res.body.id, 'queued');
    const dev = await rawTerminal(d);
    clients.push(dev.client);
    await waitState(d.deviceId, res.body.id, 'succeeded');
    expect(dev.seen.map((c) => c.id)).toEqual([res.body.id]);
  });

  it('acts on a final ack once: a duplicate or late ack changes nothing', async () => {
    const d = await registerAndEnroll(t);
    const dev = await rawTerminal(d, () => [{ state: 'received' }, { state: 'failed', error: { code: 'printer_jam', message: 'jam' } }, { state: 'succeeded' }]);
    clients.push(dev.client);
    const res = await t.api<CommandView>('POST', `/v1/devices/${d.deviceId}/commands`, { type: 'diag.run' });
    const failed = await waitState(d.deviceId, res.body.id, 'failed');
    expect(failed.error!.code).toBe('printer_jam');
    await new Promise((r) => setTimeout(r, 300));
    expect((await t.api<CommandView>('GET', `/v1/devices/${d.deviceId}/commands/${res.body.id}`)).body.state).toBe('failed');
  });

  it('expires a command nobody received before its time', async () => {
    const d = await registerAndEnroll(t);
    const res = await t.api<CommandView>('POST', `/v1/devices/${d.deviceId}/commands`, { type: 'reboot', ttlS: 1 });
    expect(res.status).toBe(201);
    await eventually(async () => {
      const r = await t.api<CommandView>('GET', `/v1/devices/${d.deviceId}/commands/${res.body.id}`);
      return r.body.state === 'expired';
    }, { timeoutMs: 10_000, stepMs: 100 });
  });

  it('rejects unknown command types and bad bodies with 400 and field paths', async () => {
    const d = await registerAndEnroll(t);
    const bad = await t.api<{ error: { code: string; details: { path: string }[] } }>('POST', `/v1/devices/${d.deviceId}/commands`, { type: 'self.destruct', ttlS: 0 });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('validation_failed');
    expect(bad.body.error.details.map((x) => x.path).sort()).toEqual(['ttlS', 'type']);
    const missing = await t.api('POST', '/v1/devices/dev_nope/commands', { type: 'reboot' });
    expect(missing.status).toBe(404);
  });

  it("checks a payload against its type's schema and names the wrong field under payload", async () => {
    const d = await registerAndEnroll(t);
    type Refusal = { error: { code: string; details: { path: string; message: string }[] } };
    const bad = await t.api<Refusal>('POST', `/v1/devices/${d.deviceId}/commands`, { type: 'diag.run', payload: { components: ['printer', 'toaster'] } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('validation_failed');
    expect(bad.body.error.details.map((x) => x.path)).toEqual(['payload.components.1']);
    const noUrl = await t.api<Refusal>('POST', '/v1/commands', { target: { deviceIds: [d.deviceId] }, type: 'logs.upload', payload: {} });
    expect(noUrl.status).toBe(400);
    expect(noUrl.body.error.details.map((x) => x.path)).toEqual(['payload.url']);
    // Nothing was created by the refused requests.
    const listed = await t.api<{ items: unknown[] }>('GET', `/v1/devices/${d.deviceId}/commands`);
    expect(listed.body.items).toEqual([]);
  });

  it('fans a batch out to many devices and counts their states', async () => {
    const devs = await Promise.all(Array.from({ length: 20 }, () => registerAndEnroll(t)));
    for (const d of devs) clients.push((await rawTerminal(d)).client);
    const res = await t.api<{ batchId: string; total: number }>('POST', '/v1/commands', { target: { deviceIds: devs.map((d) => d.deviceId) }, type: 'diag.run' });
    expect(res.status).toBe(201);
    expect(res.body.total).toBe(20);
    const status = await eventually(async () => {
      const r = await t.api<{ counts: Record<string, number> }>('GET', `/v1/command-batches/${res.body.batchId}`);
      return r.body.counts.succeeded === 20 ? r.body : null;
    });
    expect(status.counts).toEqual({ succeeded: 20 });
  });
});
