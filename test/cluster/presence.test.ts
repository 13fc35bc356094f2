// Presence across two instances of one cluster, in one process: two real servers (CLUSTER=true)
// on one PostgreSQL database, one Redis and one queue prefix, terminals speaking MQTT to either.
// A terminal connected to B is online in A's views; one that moves from B to A stays online on
// both, with no offline stored anywhere, and B's modules are told it left.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deviceState } from '../../schemas/db.ts';
import { topicFor } from '../../schemas/wire.ts';
import { connectDevice, publish, registerAndEnroll, type EnrolledDevice } from '../helpers/devices.ts';
import { eventually } from '../helpers/eventually.ts';
import type { TestServer } from '../helpers/testServer.ts';
import { startInProcessPair, type InProcessPair } from './harness/inProcess.ts';

interface DeviceView {
  online: boolean;
  connected: boolean;
  lastSeenAt: string | null;
  reportedFwVersion: string;
  slot: string | null;
}
interface Summary {
  online: number;
  offline: number;
}
interface Timeline {
  items: { kind: string; ts: string; data: { reason?: string } | null }[];
}

const postgresUrl = process.env.DATABASE_URL;

describe.skipIf(!postgresUrl)('presence across two instances', () => {
  let pair: InProcessPair | undefined;
  let a: TestServer;
  let b: TestServer;
  const clients: MqttClient[] = [];
  const movedOnB: string[] = [];

  beforeAll(async () => {
    pair = await startInProcessPair(postgresUrl!, ['pres-a', 'pres-b']);
    ({ a, b } = pair);
    // A module of B's that only records what it is told (the list the server calls onMoved on).
    b.server.parts.modules.push({ name: 'moved-probe', onMoved: (id) => void movedOnB.push(id) });
  }, 120_000);
  afterAll(async () => {
    for (const c of clients) c.end(true);
    await pair?.stop();
  }, 120_000);

  const on = (t: TestServer, d: EnrolledDevice): EnrolledDevice => ({ ...d, mqttUrl: t.started.mqttUrl });
  async function connectTo(t: TestServer, d: EnrolledDevice, fwVersion: string) {
    const client = await connectDevice(on(t, d));
    clients.push(client);
    await publish(client, topicFor(d.deviceId, 'state'), { online: true, fwVersion, slot: 'B', ts: Date.now() }, 1, true);
    return client;
  }
  const view = async (t: TestServer, id: string) => (await t.api<DeviceView>('GET', `/v1/devices/${id}`)).body;
  const summary = async (t: TestServer) => (await t.api<Summary>('GET', '/v1/fleet/summary')).body;
  const row = async (t: TestServer, id: string) =>
    (await t.server.parts.db.select().from(deviceState).where(eq(deviceState.deviceId, id)))[0];
  const timelineKinds = async (t: TestServer, id: string) =>
    (await t.api<Timeline>('GET', `/v1/devices/${id}/timeline`)).body.items.map((i) => i.kind);

  it("shows a terminal connected to B as online in A's fleet summary, device page and online filter", async () => {
    const d = await registerAndEnroll(a);
    const before = await summary(a);
    await connectTo(b, d, '3.1.0');

    const seen = await eventually(
      async () => {
        const v = await view(a, d.deviceId);
        return v.online && v.reportedFwVersion === '3.1.0' ? v : null;
      },
      { what: 'online on A with its firmware' },
    );
    expect(seen).toMatchObject({ connected: true, slot: 'B' });
    expect(seen.lastSeenAt).not.toBeNull();
    expect(a.server.parts.presence.holderOf(d.deviceId)).toBe('pres-b');
    expect(a.server.parts.presence.isHeldHere(d.deviceId)).toBe(false);
    expect(b.server.parts.presence.isHeldHere(d.deviceId)).toBe(true);
    const s = await summary(a);
    expect(s.online).toBe(before.online + 1);
    expect(s.online).toBe((await summary(b)).online);
    // The list's online filter reads device_state, which B (the holder) writes with its id.
    await eventually(async () => (await row(a, d.deviceId))?.heldBy === 'pres-b', { what: 'row held by B' });
    const list = await a.api<{ items: { id: string }[] }>('GET', `/v1/devices?online=true`);
    expect(list.body.items.map((i) => i.id)).toContain(d.deviceId);
    // Nothing of it is A's to write.
    expect(a.server.parts.live.takeDirty(true).map((x) => x.deviceId)).not.toContain(d.deviceId);
  });

  it("serves a peer's terminal's latest health from the row its holder writes", async () => {
    const d = await registerAndEnroll(a);
    const c = await connectTo(b, d, '3.1.0');
    await eventually(async () => (await view(a, d.deviceId)).online, { what: 'online on A via B' });
    await publish(c, topicFor(d.deviceId, 'health'), { ts: Date.now(), seq: 1, battery: { level: 55, charging: false } });
    // B keeps the sample in memory and writes it within QUIET_EVERY flushes (200 ms each here).
    const level = async (t: TestServer) =>
      (await t.api<{ health: { battery?: { level: number } } | null }>('GET', `/v1/devices/${d.deviceId}`)).body.health?.battery?.level;
    expect(await eventually(() => level(b), { what: 'health on B' })).toBe(55);
    expect(await eventually(() => level(a), { what: 'health on A', timeoutMs: 8_000 })).toBe(55);
    const listed = await a.api<{ items: { id: string; health: { battery?: { level: number } } | null }[] }>(
      'GET',
      `/v1/devices?online=true`,
    );
    expect(listed.body.items.find((i) => i.id === d.deviceId)?.health?.battery?.level).toBe(55);
  });

  it('keeps a terminal that moves from B to A online everywhere, with no offline stored', async () => {
    const d = await registerAndEnroll(a);
    const first = await connectTo(b, d, '3.1.0');
    await eventually(async () => (await view(a, d.deviceId)).online, { what: 'online on A via B' });
    await eventually(async () => (await row(a, d.deviceId))?.heldBy === 'pres-b', { what: 'row held by B' });
    const firstClosed = new Promise<void>((ok) => first.once('close', () => ok()));

    // The same terminal reconnects to A: A's broker takes over, B's session is closed.
    await connectTo(a, d, '3.2.0');
    await firstClosed;
    await eventually(() => b.server.parts.presence.holderOf(d.deviceId) === 'pres-a', { what: 'B sees A as the holder' });
    expect(a.server.parts.presence.isHeldHere(d.deviceId)).toBe(true);
    expect(b.server.parts.presence.isHeldHere(d.deviceId)).toBe(false);
    await eventually(() => movedOnB.includes(d.deviceId), { what: "B's modules told it moved" });
    await eventually(async () => (await view(b, d.deviceId)).reportedFwVersion === '3.2.0', { what: 'B sees the new firmware' });

    // Several flushes later: online on both, the row is A's, and no offline on the timeline.
    await new Promise((r) => setTimeout(r, 1_000));
    for (const t of [a, b]) expect(await view(t, d.deviceId)).toMatchObject({ online: true, connected: true });
    const stored = await row(a, d.deviceId);
    expect(stored).toMatchObject({ online: true, heldBy: 'pres-a', fwVersion: '3.2.0' });
    await b.server.parts.timeline.flush();
    const kinds = await timelineKinds(a, d.deviceId);
    // Online since it first connected: the move itself changed no presence (as a takeover on one instance).
    expect(kinds.filter((k) => k === 'online' || k === 'offline')).toEqual(['online']);
  });

  it("writes B's offline when the terminal leaves B for good, and A follows at once", async () => {
    const d = await registerAndEnroll(a);
    const c = await connectTo(b, d, '3.1.0');
    await eventually(async () => (await view(a, d.deviceId)).online, { what: 'online on A via B' });
    c.end(true);
    await eventually(async () => !(await view(a, d.deviceId)).online, { what: 'offline on A', timeoutMs: 3_000 });
    await eventually(
      async () => {
        const r = await row(a, d.deviceId);
        return r && !r.online && r.heldBy === null;
      },
      { what: 'row written offline, held by nobody' },
    );
    await b.server.parts.timeline.flush();
    expect((await timelineKinds(a, d.deviceId)).filter((k) => k === 'offline')).toHaveLength(1);
  });
});
