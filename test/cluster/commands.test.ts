// Commands across two instances of one cluster, in one process: two real servers (CLUSTER=true)
// on one PostgreSQL database, one Redis and one queue prefix, terminals speaking raw MQTT to
// either. The instance holding a terminal delivers its commands whoever created them, and the
// answers are read the same through either instance.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CommandMessage } from '../../schemas/wire.ts';
import { pendingCommandRows } from '../../server/commands/commandService.ts';
import { createCommandStore } from '../../server/commands/commandStore.ts';
import { connectDevice, registerAndEnroll, type EnrolledDevice } from '../helpers/devices.ts';
import { eventually } from '../helpers/eventually.ts';
import { rawTerminal } from '../helpers/rawTerminal.ts';
import type { TestServer } from '../helpers/testServer.ts';
import { startInProcessPair, type InProcessPair } from './harness/inProcess.ts';

interface CommandView {
  id: string;
  state: string;
  attempts: number;
  result: Record<string, unknown> | null;
}

const postgresUrl = process.env.DATABASE_URL;

describe.skipIf(!postgresUrl)('commands across two instances', () => {
  let pair: InProcessPair | undefined;
  let a: TestServer;
  let b: TestServer;
  const clients: MqttClient[] = [];

  beforeAll(async () => {
    pair = await startInProcessPair(postgresUrl!, ['cmd-a', 'cmd-b']);
    ({ a, b } = pair);
  }, 120_000);
  afterAll(async () => {
    for (const c of clients) c.end(true);
    await pair?.stop();
  }, 120_000);

  const on = (t: TestServer, d: EnrolledDevice): EnrolledDevice => ({ ...d, mqttUrl: t.started.mqttUrl });
  async function terminalOn(t: TestServer, d: EnrolledDevice, answer?: (cmd: CommandMessage) => Record<string, unknown>[]) {
    const term = await rawTerminal(on(t, d), answer);
    clients.push(term.client);
    await eventually(() => t.server.parts.broker()?.isCommandReady(d.deviceId), { what: `${d.deviceId} ready for commands` });
    return term;
  }
  const commandOf = (t: TestServer, deviceId: string, cmdId: string) =>
    t.api<CommandView>('GET', `/v1/devices/${deviceId}/commands/${cmdId}`);
  const waitState = (t: TestServer, deviceId: string, cmdId: string, state: string) =>
    eventually(
      async () => {
        const r = await commandOf(t, deviceId, cmdId);
        return r.body.state === state ? r.body : null;
      },
      { what: `${cmdId} ${state}` },
    );

  it('delivers through the holder a command created on the other instance, and both read its answer', async () => {
    const d = await registerAndEnroll(a);
    const term = await terminalOn(b, d, (cmd) => [{ state: 'received' }, { state: 'succeeded', result: { echo: cmd.type } }]);
    const res = await a.api<CommandView>('POST', `/v1/devices/${d.deviceId}/commands`, { type: 'diag.run' });
    expect(res.status).toBe(201);
    // A never tracked it: B loaded it from the database when A said it was created.
    expect(a.server.parts.tracker.get(res.body.id)).toBeUndefined();
    const done = await waitState(a, d.deviceId, res.body.id, 'succeeded');
    expect(done.result).toEqual({ echo: 'diag.run' });
    expect((await commandOf(b, d.deviceId, res.body.id)).body.state).toBe('succeeded');
    expect(term.seen.map((c) => c.id)).toEqual([res.body.id]);
  });

  it('counts a batch over terminals on both instances exactly, asked on either', async () => {
    const onA = await Promise.all([1, 2, 3].map(() => registerAndEnroll(a)));
    const onB = await Promise.all([1, 2, 3, 4].map(() => registerAndEnroll(a)));
    const offline = await registerAndEnroll(a);
    const fail = (id: string) => id === onB[0]!.deviceId;
    for (const d of onA) await terminalOn(a, d);
    for (const d of onB)
      await terminalOn(b, d, () =>
        fail(d.deviceId)
          ? [{ state: 'received' }, { state: 'failed', error: { code: 'boom', message: 'no' } }]
          : [{ state: 'received' }, { state: 'succeeded' }],
      );
    const all = [...onA, ...onB, offline].map((d) => d.deviceId);
    const res = await b.api<{ batchId: string; total: number }>('POST', '/v1/commands', { target: { deviceIds: all }, type: 'diag.run' });
    expect(res.status).toBe(201);
    expect(res.body.total).toBe(8);
    const expected = { succeeded: 6, failed: 1, pending: 1 };
    const countsOn = async (t: TestServer) =>
      (await t.api<{ counts: Record<string, number> }>('GET', `/v1/command-batches/${res.body.batchId}`)).body.counts;
    await eventually(async () => (await countsOn(a)).succeeded === 6, { what: 'the batch settled' });
    for (const t of [a, b]) expect(await countsOn(t)).toEqual(expected);
  });

  it('delivers a command created while its terminal was offline when it connects to the other instance', async () => {
    const d = await registerAndEnroll(a);
    const res = await a.api<CommandView>('POST', `/v1/devices/${d.deviceId}/commands`, { type: 'reboot' });
    expect(res.status).toBe(201);
    const term = await terminalOn(b, d);
    await waitState(a, d.deviceId, res.body.id, 'succeeded');
    expect(term.seen.map((c) => c.id)).toEqual([res.body.id]);
    expect(b.server.parts.tracker.get(res.body.id)).toBeUndefined(); // final: left the tracker
  });

  it('ends a command succeeded once when its terminal moves from one instance to the other mid-command', async () => {
    const d = await registerAndEnroll(a);
    // On A the terminal only says it received the command, then goes away.
    const first = await terminalOn(a, d, () => [{ state: 'received' }]);
    const res = await b.api<CommandView>('POST', `/v1/devices/${d.deviceId}/commands`, { type: 'diag.run' });
    await waitState(b, d.deviceId, res.body.id, 'received');
    const updates: string[] = [];
    for (const t of [a, b]) t.server.parts.bus.on('command.updated', (e) => void (e.id === res.body.id && updates.push(e.state)));
    first.client.end(true);
    await eventually(() => !a.server.parts.broker()?.isConnected(d.deviceId), { what: 'gone from A' });
    // A lets go of it: the terminal is held nowhere now.
    await eventually(() => a.server.parts.tracker.get(res.body.id) === undefined, { what: 'released by A' });
    // B loads it as received and reminds the terminal of it once; the agent, done meanwhile,
    // repeats its final answer (agent/dispatcher.ts).
    const second = await terminalOn(b, d, () => [{ state: 'succeeded', result: { moved: true } }]);
    const done = await waitState(a, d.deviceId, res.body.id, 'succeeded');
    expect(done.result).toEqual({ moved: true });
    await new Promise((r) => setTimeout(r, 500));
    expect(updates).toEqual(['succeeded']);
    expect(second.seen.map((c) => c.id)).toEqual([res.body.id]);
    expect(a.server.parts.tracker.get(res.body.id)).toBeUndefined();
    expect(b.server.parts.tracker.get(res.body.id)).toBeUndefined();
  });

  it('hands a command over when its terminal reconnects to the other instance while its old connection is still open', async () => {
    const d = await registerAndEnroll(a);
    const first = await terminalOn(a, d, () => [{ state: 'received' }]);
    const res = await a.api<CommandView>('POST', `/v1/devices/${d.deviceId}/commands`, { type: 'diag.run' });
    await waitState(b, d.deviceId, res.body.id, 'received');
    const updates: string[] = [];
    for (const t of [a, b]) t.server.parts.bus.on('command.updated', (e) => void (e.id === res.body.id && updates.push(e.state)));
    // The same terminal on B: A closes its old session (the takeover crosses Redis) and lets go.
    const second = await terminalOn(b, d, () => [{ state: 'succeeded', result: { took: 'over' } }]);
    await eventually(() => first.isClosed(), { what: 'the old connection closed by A' });
    const done = await waitState(a, d.deviceId, res.body.id, 'succeeded');
    expect(done.result).toEqual({ took: 'over' });
    await new Promise((r) => setTimeout(r, 500));
    expect(updates).toEqual(['succeeded']);
    expect(second.seen.map((c) => c.id)).toEqual([res.body.id]);
    expect(a.server.parts.tracker.get(res.body.id)).toBeUndefined();
  });

  it('applies an answer a terminal sends right after connecting, before its commands are loaded', async () => {
    const d = await registerAndEnroll(a);
    const first = await terminalOn(a, d, () => [{ state: 'received' }]);
    const res = await a.api<CommandView>('POST', `/v1/devices/${d.deviceId}/commands`, { type: 'diag.run' });
    await waitState(b, d.deviceId, res.body.id, 'received');
    first.client.end(true);
    await eventually(() => a.server.parts.tracker.get(res.body.id) === undefined, { what: 'released by A' });
    // An agent replays its outbox as soon as it is connected, before it subscribes.
    const client = await connectDevice(on(b, d));
    clients.push(client);
    await publishAck(client, d.deviceId, { cmdId: res.body.id, state: 'succeeded', result: { offline: true } });
    const done = await waitState(a, d.deviceId, res.body.id, 'succeeded');
    expect(done.result).toEqual({ offline: true });
  });

  it('expires on one instance a command of a terminal held nowhere', async () => {
    const d = await registerAndEnroll(a);
    const updates: string[] = [];
    const cmd = await a.server.parts.commands.create(d.deviceId, { type: 'reboot', ttlS: 1, createdBy: null });
    for (const t of [a, b]) t.server.parts.bus.on('command.updated', (e) => void (e.id === cmd.id && updates.push(e.state)));
    await eventually(
      async () => {
        const r = await commandOf(b, d.deviceId, cmd.id);
        return r.body.state === 'expired';
      },
      { timeoutMs: 20_000, stepMs: 250, what: 'expired in the database' },
    );
    await new Promise((r) => setTimeout(r, 300));
    expect(updates).toEqual(['expired']);
  }, 30_000);

  it('finds and delivers a command whose hint its holder missed', async () => {
    const d = await registerAndEnroll(a);
    const term = await terminalOn(b, d);
    // Stored by a peer whose `created` hint never arrived (pub/sub delivers at most once).
    const { db, metrics, log } = a.server.parts;
    const [row] = pendingCommandRows(
      [d.deviceId],
      { type: 'reboot', createdBy: null },
      { batchId: null, defaultTtlS: 300, now: new Date(Date.now() - 15_000) },
    );
    await createCommandStore({ db, metrics, log }).insert([row!]);
    await eventually(() => term.seen.some((c) => c.id === row!.id), { timeoutMs: 40_000, stepMs: 250, what: 'delivered by the holder' });
    await waitState(a, d.deviceId, row!.id, 'succeeded');
  }, 60_000);

  it('never writes a change over a command another instance finished', async () => {
    const d = await registerAndEnroll(a);
    const cmd = await a.server.parts.commands.create(d.deviceId, { type: 'reboot', createdBy: null });
    expect((await b.api<CommandView>('POST', `/v1/devices/${d.deviceId}/commands/${cmd.id}/cancel`)).body.state).toBe('cancelled');
    // A late write behind of an instance that still had it as sent.
    const { db, metrics, log } = a.server.parts;
    const late = { ...cmd, state: 'sent' as const, attempts: 1, sentAt: new Date(), updatedAt: new Date() };
    await createCommandStore({ db, metrics, log }).writeChanges(new Map([[cmd.id, late]]));
    const stored = (await commandOf(a, d.deviceId, cmd.id)).body;
    expect(stored.state).toBe('cancelled');
    expect(stored.attempts).toBe(0);
  });

  it('cancels through one instance a command the other holds, asks the terminal to abort, and its late answer changes nothing', async () => {
    const d = await registerAndEnroll(a);
    const term = await terminalOn(b, d, (cmd) =>
      cmd.type === 'cancel' ? [] : [{ state: 'received' }, { state: 'in_progress', stage: 'downloading' }],
    );
    const sha256 = 'ab'.repeat(32);
    const install = await b.server.parts.commands.create(d.deviceId, {
      type: 'ota.install',
      payload: {
        firmwareId: 'fw_1',
        version: '2.0.0',
        size: 1024,
        sha256,
        manifest: { name: 'pos', version: '2.0.0', models: ['PAX-A920'], size: 1024, sha256 },
        signature: 'sig',
        url: 'https://example.invalid/fw',
        mode: 'forced',
      },
      createdBy: null,
    });
    await waitState(a, d.deviceId, install.id, 'in_progress');
    const cancelled = await a.api<CommandView>('POST', `/v1/devices/${d.deviceId}/commands/${install.id}/cancel`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.state).toBe('cancelled');
    await eventually(() => b.server.parts.tracker.get(install.id) === undefined, { what: 'B forgot it' });
    // Running on the terminal: it is asked to abort, through the instance holding it.
    const aborts = await term.waitFor('cancel');
    expect(aborts[0]!.payload).toEqual({ cmdId: install.id });
    await publishAck(term.client, d.deviceId, { cmdId: install.id, state: 'succeeded' });
    await new Promise((r) => setTimeout(r, 500));
    for (const t of [a, b]) expect((await commandOf(t, d.deviceId, install.id)).body.state).toBe('cancelled');
    const again = await a.api<{ error: string }>('POST', `/v1/devices/${d.deviceId}/commands/${install.id}/cancel`);
    expect(again.status).toBe(409);
  });
});

async function publishAck(client: MqttClient, deviceId: string, ack: Record<string, unknown>) {
  await client.publishAsync(`fleet/v1/${deviceId}/ack`, JSON.stringify(ack), { qos: 1 });
}
