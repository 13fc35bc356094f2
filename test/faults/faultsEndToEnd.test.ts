// Faults end to end with real parts: a real agent (simulated hardware) over MQTT, BullMQ on the
// real Redis, PGlite and PostgreSQL, and a local HTTP server receiving the signed webhook.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Agent } from '../../agent/agent.ts';
import { createSimulatedHardware, type SimulatedHardware } from '../../agent/simulatedHardware.ts';
import { openStateStore } from '../../agent/stateStore.ts';
import { eq } from 'drizzle-orm';
import { commands } from '../../schemas/db.ts';
import { topicFor } from '../../schemas/wire.ts';
import { defaultRules } from '../../server/faults/defaultRules.ts';
import { verifyWebhook, type WebhookBody } from '../../server/faults/webhook.ts';
import { fakeEnrollment, startConnectedAgent, tempDir } from '../agent/helpers.ts';
import { databaseKinds } from '../helpers/databases.ts';
import { connectDevice, publish, registerAndEnroll, type EnrolledDevice } from '../helpers/devices.ts';
import { eventually } from '../helpers/eventually.ts';
import { moduleInternals } from '../helpers/moduleInternals.ts';
import { openLiveStream, type LiveStream } from '../helpers/liveStream.ts';
import { startTestServer, TEST_ADMIN_TOKEN, type TestServer } from '../helpers/testServer.ts';

/** The upload link as the terminal received it: API answers show it without its signature. */
async function signedLinkOf(t: TestServer, cmdId: string): Promise<string> {
  const [row] = await t.server.parts.db.select({ payload: commands.payload }).from(commands).where(eq(commands.id, cmdId));
  return String(row?.payload.url);
}

const SECRET = 'webhook-secret-0123456789';

interface Delivery {
  headers: IncomingHttpHeaders;
  raw: string;
  body: WebhookBody;
}

interface FaultView {
  id: string;
  deviceId: string;
  code: string;
  severity: string;
  state: string;
  resolution: string | null;
  assigneeId: string | null;
  assigneeName: string | null;
  acknowledgedBy: string | null;
  serial: string;
  model: string;
  notes?: { text: string; authorName: string }[];
}

/** A webhook receiver that fails its first delivery (to prove the retry) and records the rest. */
async function startReceiver() {
  const deliveries: Delivery[] = [];
  let calls = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      calls++;
      if (calls === 1) {
        res.writeHead(503).end('busy');
        return;
      }
      const raw = Buffer.concat(chunks).toString('utf8');
      deliveries.push({ headers: req.headers, raw, body: JSON.parse(raw) as WebhookBody });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/hooks/posfleet`, deliveries, calls: () => calls, close: () => new Promise<void>((r) => server.close(() => r())) };
}

async function startAgent(t: TestServer, d: EnrolledDevice, seed: number) {
  const store = openStateStore(tempDir());
  store.saveEnrollment({ ...fakeEnrollment(d.deviceId, d.mqttUrl, d.password), serial: d.serial, server: t.url });
  const hardware = createSimulatedHardware({ seed, rebootDelayMs: 50, selfTestDelayMs: 5 });
  const agent = await startConnectedAgent({ store, hardware, enrollment: store.loadEnrollment()!, fwVersion: '1.0.0', healthIntervalS: 0.2 });
  return { agent, hardware };
}

describe.each(databaseKinds())('faults end to end on %s', (database) => {
  let t: TestServer;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let stream: LiveStream;
  const agents: Agent[] = [];
  const clients: MqttClient[] = [];
  let device: EnrolledDevice;
  let hardware: SimulatedHardware;

  beforeAll(async () => {
    receiver = await startReceiver();
    t = await startTestServer({
      database,
      env: { FAULT_WEBHOOK_URL: receiver.url, FAULT_WEBHOOK_SECRET: SECRET, FAULT_WEBHOOK_MIN_SEVERITY: 'warning', LOG_BUNDLE_MAX_BYTES: '4096' },
    });
    stream = openLiveStream(t.url, '?types=fault,diagnostics,logs');
    device = await registerAndEnroll(t, { model: 'PAX-A920' });
    const a = await startAgent(t, device, 11);
    agents.push(a.agent);
    hardware = a.hardware;
  });

  afterAll(async () => {
    stream?.close();
    for (const a of agents) await a.stop().catch(() => undefined);
    for (const c of clients) c.end(true);
    await t?.stop();
    await receiver?.close();
  });

  const faultsOf = async (deviceId: string, query = '') =>
    (await t.api<{ items: FaultView[] }>('GET', `/v1/faults?deviceId=${deviceId}${query}`)).body.items;
  const waitFault = (deviceId: string, code: string, query = '') =>
    eventually(async () => (await faultsOf(deviceId, query)).find((f) => f.code === code), { timeoutMs: 15_000 });

  it('a terminal out of paper opens a fault, shown live, on the timeline, and sent to the signed webhook (after a retry)', async () => {
    hardware.inject('paperOut');
    const fault = await waitFault(device.deviceId, 'paper_out');
    expect(fault).toMatchObject({ state: 'open', severity: 'warning', serial: device.serial, model: 'PAX-A920' });

    const delivery = await eventually(async () => receiver.deliveries.find((d) => d.body.event === 'fault.opened' && d.body.fault?.id === fault.id), { timeoutMs: 20_000 });
    expect(receiver.calls()).toBeGreaterThanOrEqual(2); // the 503 was retried
    expect(verifyWebhook(SECRET, delivery.raw, delivery.headers['x-posfleet-signature'] as string)).toBe(true);
    expect(delivery.headers['x-posfleet-event']).toBe('fault.opened');
    expect(delivery.body.fault).toMatchObject({ deviceId: device.deviceId, code: 'paper_out', severity: 'warning', state: 'open' });

    await eventually(async () => stream.events.find((e) => e.event === 'fault.opened' && e.data.id === fault.id));
    const timeline = await t.api<{ items: { kind: string; summary: string }[] }>('GET', `/v1/devices/${device.deviceId}/timeline?kind=fault`);
    expect(timeline.body.items.map((i) => i.summary)).toEqual(expect.arrayContaining([expect.stringMatching(/^fault opened: paper_out \(warning\)/)]));

    // One open fault per device and code, however many samples say so.
    await new Promise((r) => setTimeout(r, 600));
    expect((await faultsOf(device.deviceId)).filter((f) => f.code === 'paper_out')).toHaveLength(1);
  });

  it('refilling the paper resolves the fault by itself, and says so', async () => {
    const open = await waitFault(device.deviceId, 'paper_out');
    hardware.clear('paperOut');
    const resolved = await waitFault(device.deviceId, 'paper_out', '&state=resolved');
    expect(resolved).toMatchObject({ id: open.id, state: 'resolved', resolution: 'auto' });
    expect((await faultsOf(device.deviceId)).find((f) => f.code === 'paper_out')).toBeUndefined();
    await eventually(async () => receiver.deliveries.find((d) => d.body.event === 'fault.resolved' && d.body.fault?.id === open.id), { timeoutMs: 20_000 });
    await eventually(async () => stream.events.find((e) => e.event === 'fault.updated' && e.data.id === open.id && e.data.state === 'resolved'));
  });

  it('a technician acknowledges, assigns, annotates and resolves a fault; every step is audited', async () => {
    hardware.inject('tamper');
    const fault = await waitFault(device.deviceId, 'tamper');
    expect(fault.severity).toBe('critical');

    const tech = await t.api<{ id: string; token: string }>('POST', '/v1/users', { name: 'tina', role: 'technician' });
    const auditor = await t.api<{ token: string }>('POST', '/v1/users', { name: 'audrey', role: 'auditor' });
    const asTech = { token: tech.body.token };

    expect((await t.api('POST', `/v1/faults/${fault.id}/acknowledge`, undefined, { token: auditor.body.token })).status).toBe(403);
    const ack = await t.api<FaultView>('POST', `/v1/faults/${fault.id}/acknowledge`, undefined, asTech);
    expect(ack.status).toBe(200);
    expect(ack.body).toMatchObject({ state: 'acknowledged', acknowledgedBy: tech.body.id });
    const again = await t.api<{ error: { code: string } }>('POST', `/v1/faults/${fault.id}/acknowledge`, undefined, asTech);
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('already_acknowledged');

    expect((await t.api('POST', `/v1/faults/${fault.id}/assign`, { assigneeId: 'usr_nobody' }, asTech)).status).toBe(422);
    const assigned = await t.api<FaultView>('POST', `/v1/faults/${fault.id}/assign`, { assigneeId: tech.body.id }, asTech);
    expect(assigned.body).toMatchObject({ assigneeId: tech.body.id, assigneeName: 'tina', state: 'acknowledged' });
    const mine = await t.api<{ items: FaultView[] }>('GET', '/v1/faults?assignee=me', undefined, asTech);
    expect(mine.body.items.map((f) => f.id)).toEqual([fault.id]);

    expect((await t.api('POST', `/v1/faults/${fault.id}/notes`, { text: 'case opened on site' }, asTech)).status).toBe(201);
    expect((await t.api('POST', `/v1/faults/${fault.id}/notes`, { text: '' }, asTech)).status).toBe(400);

    // Tamper does not resolve by itself, even once the switch is closed again.
    hardware.clear('tamper');
    await new Promise((r) => setTimeout(r, 600));
    expect((await faultsOf(device.deviceId)).find((f) => f.id === fault.id)?.state).toBe('acknowledged');

    const resolved = await t.api<FaultView>('POST', `/v1/faults/${fault.id}/resolve`, { note: 'seal replaced' }, asTech);
    expect(resolved.body).toMatchObject({ state: 'resolved', resolution: 'manual' });
    expect((await t.api('POST', `/v1/faults/${fault.id}/resolve`, {}, asTech)).status).toBe(409);
    const full = await t.api<FaultView>('GET', `/v1/faults/${fault.id}`);
    expect(full.body.notes!.map((n) => n.text)).toEqual(['case opened on site', 'seal replaced']);

    const audit = await t.api<{ items: { action: string; actorName: string }[] }>('GET', `/v1/audit?target=${fault.id}`);
    expect(audit.body.items.map((e) => e.action).sort()).toEqual(['fault.acknowledge', 'fault.assign', 'fault.note', 'fault.resolve']);
    expect(audit.body.items.every((e) => e.actorName === 'tina')).toBe(true);
    const timeline = await t.api<{ items: { summary: string }[] }>('GET', `/v1/devices/${device.deviceId}/timeline?kind=fault`);
    expect(timeline.body.items.map((i) => i.summary)).toEqual(expect.arrayContaining([expect.stringMatching(/acknowledged/), expect.stringMatching(/resolved: tamper by tina/)]));
  });

  it('lists worst first, then oldest, with filters and paging; counts for the overview; metrics', async () => {
    const other = await registerAndEnroll(t, { model: 'Ingenico-Move5000' });
    const c = await connectDevice(other);
    clients.push(c);
    await publish(c, topicFor(other.deviceId, 'state'), { online: true, fwVersion: '1.0.0', slot: 'A', ts: Date.now() }, 1, true);
    await publish(c, topicFor(other.deviceId, 'health'), { ts: Date.now(), seq: 1, printer: { status: 'paper_out' }, temperatureC: 70 });
    await waitFault(other.deviceId, 'overheat');
    await waitFault(other.deviceId, 'paper_out');
    await publish(c, topicFor(other.deviceId, 'event'), { ts: Date.now(), seq: 2, type: 'tamper', severity: 'critical', data: { source: 'switch' } });
    await waitFault(other.deviceId, 'tamper');
    // The keys module marks the tampered terminal compromised, which opens a second critical fault.
    await waitFault(other.deviceId, 'key_compromise');

    const all = (await t.api<{ items: FaultView[] }>('GET', `/v1/faults?deviceId=${other.deviceId}`)).body.items;
    expect(all.map((f) => f.code)).toEqual(['tamper', 'key_compromise', 'overheat', 'paper_out']);

    const page1 = await t.api<{ items: FaultView[]; nextCursor: string }>('GET', `/v1/faults?deviceId=${other.deviceId}&limit=3`);
    expect(page1.body.items.map((f) => f.code)).toEqual(['tamper', 'key_compromise', 'overheat']);
    const page2 = await t.api<{ items: FaultView[]; nextCursor: string | null }>('GET', `/v1/faults?deviceId=${other.deviceId}&limit=3&cursor=${page1.body.nextCursor}`);
    expect(page2.body.items.map((f) => f.code)).toEqual(['paper_out']);
    expect(page2.body.nextCursor).toBeNull();

    const filtered = await t.api<{ items: FaultView[] }>('GET', '/v1/faults?severity=major,critical&model=Ingenico-Move5000');
    expect(filtered.body.items.map((f) => f.code)).toEqual(['tamper', 'key_compromise', 'overheat']);
    expect((await t.api<{ items: FaultView[] }>('GET', '/v1/faults?code=paper_out&assignee=none')).body.items.map((f) => f.deviceId)).toEqual([other.deviceId]);
    expect((await t.api('GET', '/v1/faults?severity=urgent')).status).toBe(400);
    expect((await t.api('GET', '/v1/faults?cursor=bogus')).status).toBe(400);

    const summary = await t.api<{ total: number; bySeverity: Record<string, number>; byCode: Record<string, { total: number }>; devicesAffected: number }>(
      'GET',
      '/v1/faults/summary?model=Ingenico-Move5000',
    );
    expect(summary.body).toMatchObject({ total: 4, devicesAffected: 1, bySeverity: { critical: 2, major: 1, warning: 1, info: 0 } });
    expect(summary.body.byCode.paper_out!.total).toBe(1);

    const metrics = await fetch(`${t.url}/metrics`).then((r) => r.text());
    expect(metrics).toMatch(/posfleet_faults_open\{severity="critical"\} [1-9]/);
    expect(metrics).toMatch(/posfleet_fault_notifications_total\{result="delivered"\} [1-9]/);
  });

  it('rules are data: validated on PUT, applied at once; offline longer than the threshold opens a fault, coming back resolves it', async () => {
    const bad = await t.api<{ error: { code: string; details: { path: string }[] } }>('PUT', '/v1/fault-rules', {
      rules: [
        { code: 'x', title: 'X', severity: 'major', when: { type: 'tamper' } },
        { code: 'x', title: 'X', severity: 'major', when: { type: 'offline', minutes: -1 } },
      ],
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.map((d) => d.path)).toEqual(expect.arrayContaining(['rules.1.when.minutes']));

    const rules = defaultRules().map((r) => (r.code === 'offline' ? { ...r, title: 'Offline > 1 s', when: { type: 'offline' as const, minutes: 0.02 } } : r));
    const put = await t.api<{ source: string; rules: { code: string }[] }>('PUT', '/v1/fault-rules', { rules });
    expect(put.status).toBe(200);
    expect(put.body.source).toBe('stored');
    const got = await t.api<{ rules: { code: string; when: { minutes?: number } }[] }>('GET', '/v1/fault-rules');
    expect(got.body.rules.find((r) => r.code === 'offline')!.when.minutes).toBe(0.02);

    const d = await registerAndEnroll(t);
    let c = await connectDevice(d);
    await publish(c, topicFor(d.deviceId, 'state'), { online: true, ts: Date.now() }, 1, true);
    await new Promise((r) => setTimeout(r, 300));
    c.end(true);
    const fault = await waitFault(d.deviceId, 'offline');
    expect(fault).toMatchObject({ state: 'open', severity: 'major' });

    c = await connectDevice(d);
    clients.push(c);
    const resolved = await waitFault(d.deviceId, 'offline', '&state=resolved');
    expect(resolved).toMatchObject({ id: fault.id, resolution: 'auto' });

    // Put the defaults back for the other tests.
    expect((await t.api('PUT', '/v1/fault-rules', { rules: defaultRules() })).status).toBe(200);
  });

  it('a relocation alert from the merchants domain opens a critical fault', async () => {
    const d = await registerAndEnroll(t);
    t.server.parts.bus.emit('device.alert', { deviceId: d.deviceId, code: 'relocated', severity: 'critical', summary: '4.2 km from the merchant', open: true, data: {} });
    const fault = await waitFault(d.deviceId, 'relocated');
    expect(fault).toMatchObject({ severity: 'critical', state: 'open' });
    // It needs a person: the alert clearing does not resolve it.
    t.server.parts.bus.emit('device.alert', { deviceId: d.deviceId, code: 'relocated', severity: 'critical', summary: 'back', open: false, data: {} });
    await new Promise((r) => setTimeout(r, 300));
    expect((await faultsOf(d.deviceId)).map((f) => f.code)).toEqual(['relocated']);
  });

  it('diag.run results are stored and shown per device', async () => {
    const run = await t.api<{ cmdId: string; state: string }>('POST', `/v1/devices/${device.deviceId}/diagnostics`, { components: ['printer', 'network'] });
    expect(run.status).toBe(201);
    const done = await eventually(async () => {
      const list = await t.api<{ items: { cmdId: string; state: string; components: Record<string, string>; passed: boolean | null }[] }>(
        'GET',
        `/v1/devices/${device.deviceId}/diagnostics`,
      );
      return list.body.items.find((i) => i.cmdId === run.body.cmdId && i.state === 'succeeded');
    });
    expect(Object.keys(done.components).sort()).toEqual(['network', 'printer']);
    expect(done.components.network).toBe('pass');
    expect(typeof done.passed).toBe('boolean');
    await eventually(async () => stream.events.find((e) => e.event === 'diagnostics.updated' && e.data.cmdId === run.body.cmdId));
  });

  it('logs.upload: the terminal PUTs its bundle to a signed link; a technician downloads it', async () => {
    const req = await t.api<{ id: string; cmdId: string; state: string }>('POST', `/v1/devices/${device.deviceId}/logs`, {});
    expect(req.status).toBe(201);
    expect(req.body.state).toBe('requested');
    const bundle = await eventually(async () => {
      const list = await t.api<{ items: { id: string; state: string; sizeBytes: number; downloadPath: string }[] }>('GET', `/v1/devices/${device.deviceId}/logs`);
      return list.body.items.find((b) => b.id === req.body.id && b.state === 'uploaded');
    });
    const dl = await fetch(`${t.url}${bundle.downloadPath}`, { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } });
    expect(dl.status).toBe(200);
    const text = await dl.text();
    expect(text).toContain('posfleet agent log bundle');
    expect(text).toContain(`device ${device.deviceId}`);
    expect(Buffer.byteLength(text)).toBe(bundle.sizeBytes);
    expect((await fetch(`${t.url}${bundle.downloadPath}`)).status).toBe(401);

    // The link works once, only with its signature, and only up to its size limit.
    const url = await signedLinkOf(t, req.body.cmdId);
    expect(url).toMatch(/\/v1\/uploads\/logs\/lb_[^?]+\?exp=\d+&sig=[0-9a-f]{64}$/);
    expect((await fetch(url, { method: 'PUT', body: 'again' })).status).toBe(409);
    const forged = url.replace(/sig=([0-9a-f])/, (_m, c: string) => `sig=${c === '0' ? '1' : '0'}`);
    expect((await fetch(forged, { method: 'PUT', body: 'forged' })).status).toBe(403);

    const second = await t.api<{ id: string; cmdId: string }>('POST', `/v1/devices/${device.deviceId}/logs`, {});
    const tooBig = await fetch(await signedLinkOf(t, second.body.cmdId), { method: 'PUT', body: 'x'.repeat(5000) });
    expect(tooBig.status).toBe(413);

    // Old bundles go after the retention period, files included.
    expect(await moduleInternals(t, 'faults').logs.purge(new Date(Date.now() + 1000))).toBeGreaterThanOrEqual(2);
    expect((await fetch(`${t.url}${bundle.downloadPath}`, { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } })).status).toBe(404);
  });
  it('the notifier is configurable by an admin; the secret is write-only; a test delivery is signed with it', async () => {
    const before = await t.api<{ url: string; minSeverity: string; secretSet: boolean; source: string; secret?: string }>('GET', '/v1/fault-notifier');
    expect(before.body).toEqual({ url: receiver.url, minSeverity: 'warning', secretSet: true, source: 'env' });
    const tech = await t.api<{ token: string }>('POST', '/v1/users', { name: 'tom', role: 'technician' });
    expect((await t.api('GET', '/v1/fault-notifier', undefined, { token: tech.body.token })).status).toBe(403);
    expect((await t.api('PUT', '/v1/fault-notifier', { url: 'ftp://x', minSeverity: 'critical' })).status).toBe(400);
    const put = await t.api<{ source: string; secret?: string }>('PUT', '/v1/fault-notifier', { url: receiver.url, minSeverity: 'critical', secret: 'rotated-secret-0123456789' });
    expect(put.body).toMatchObject({ source: 'api', minSeverity: 'critical', secretSet: true });
    expect(put.body.secret).toBeUndefined();
    expect((await t.api('POST', '/v1/fault-notifier/test')).status).toBe(202);
    const d = await eventually(async () => receiver.deliveries.find((x) => x.body.event === 'test'), { timeoutMs: 15_000 });
    expect(verifyWebhook('rotated-secret-0123456789', d.raw, d.headers['x-posfleet-signature'] as string)).toBe(true);
    expect(verifyWebhook(SECRET, d.raw, d.headers['x-posfleet-signature'] as string)).toBe(false);
  });
});
