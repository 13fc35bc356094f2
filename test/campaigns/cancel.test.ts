// Cancelling a rollout while terminals are downloading (SPEC §4: "cancel stops what has not been
// sent and asks devices in progress to abort"), end to end: real server (MQTT over TCP, Redis,
// PGlite / PostgreSQL), real agents, and a real HTTP proxy in front of the server that holds the
// firmware downloads of some terminals part way (a stalled link).
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStateStore } from '../../agent/stateStore.ts';
import { runFleet, type FleetHandle } from '../../scripts/simulate/fleet.ts';
import { abortNotes } from '../../server/campaigns/campaignRules.ts';
import { databaseKinds } from '../helpers/databases.ts';
import { eventually } from '../helpers/eventually.ts';
import { TEST_ADMIN_TOKEN, TEST_ENROLL_TOKEN, type TestServer } from '../helpers/testServer.ts';
import { publishFirmware, rollout, startOtaServer } from './otaHarness.ts';

/** Bytes of the image a held download gets before the link stalls. */
const HOLD_AT = 48 * 1024;

/** Passes everything through to the server, but holds the firmware download of `slow` devices. */
async function startStallingProxy() {
  let target = '';
  const slow = new Set<string>();
  const held = new Set<string>();
  const droppedByDevice = new Set<string>();
  const downloads: string[] = [];
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://proxy');
    const device = req.method === 'GET' && /^\/v1\/firmware\/[^/]+\/content$/.test(url.pathname) ? url.searchParams.get('device') : null;
    if (device) downloads.push(device);
    const up = httpRequest(`${target}${req.url ?? '/'}`, { method: req.method, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      if (!device || !slow.has(device)) return void r.pipe(res);
      let sent = 0;
      r.on('data', (chunk: Buffer) => {
        if (sent >= HOLD_AT) return;
        const part = chunk.subarray(0, HOLD_AT - sent);
        sent += part.length;
        res.write(part);
        if (sent >= HOLD_AT) {
          r.pause();
          held.add(device);
        }
      });
      res.on('close', () => {
        if (!res.writableFinished) droppedByDevice.add(device);
        r.destroy();
      });
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    setTarget: (t: string) => void (target = t),
    slow,
    held,
    droppedByDevice,
    downloads,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

interface DeviceView {
  deviceId: string;
  state: string;
  note: string | null;
  reportedVersion: string | null;
}

interface CommandView {
  id: string;
  type: string;
  state: string;
  payload: Record<string, unknown>;
  result: Record<string, unknown> | null;
  error: { code: string } | null;
}

describe.each(databaseKinds())('cancelling a rollout mid-download on %s', (database) => {
  let proxy: Awaited<ReturnType<typeof startStallingProxy>>;
  let t: TestServer;
  let fleet: FleetHandle;
  const stateDir = mkdtempSync(join(tmpdir(), 'posfleet-cancel-'));

  beforeAll(async () => {
    proxy = await startStallingProxy();
    // Firmware links (and this test's API calls) go through the proxy.
    t = await startOtaServer({ database, env: { PUBLIC_HTTP_URL: proxy.url } });
    proxy.setTarget(`http://127.0.0.1:${t.started.httpPort}`);
    await publishFirmware(t, '1.0.0');
    fleet = await runFleet({
      server: t.url,
      devices: 6,
      enrollToken: TEST_ENROLL_TOKEN,
      adminToken: TEST_ADMIN_TOKEN,
      prefix: `CXL${database === 'postgres' ? 'P' : 'L'}`,
      healthIntervalS: 30,
      stateDir,
      backoff: { initialMs: 50, maxMs: 500, factor: 2 },
      concurrency: 6,
      fwVersion: '1.0.0',
      log: pino({ level: 'silent' }),
    });
    await fleet.ready;
  });
  afterAll(async () => {
    await fleet?.stop();
    await t?.stop();
    await proxy?.close();
  });

  it('aborts the terminals still downloading, counts the one it reached too late by what it reports, and sends nothing more', async () => {
    const fw2 = await publishFirmware(t, '2.0.0', 256 * 1024);
    const agents = fleet.agents.map((a) => ({ id: a.deviceId!, serial: a.serial, agent: a.agent! }));
    const slow = agents.slice(0, 4);
    const fast = agents.slice(4);
    for (const a of slow) proxy.slow.add(a.id);

    const created = await t.api<{ id: string }>('POST', '/v1/rollouts', {
      name: 'to be cancelled',
      firmwareId: fw2,
      target: { deviceIds: agents.map((a) => a.id) },
      phases: [{ name: 'all', percent: 100 }],
      successThreshold: 100,
      errorThreshold: 100,
      retries: 2,
    });
    expect(created.status).toBe(201);
    const id = created.body.id;
    await t.api('POST', `/v1/rollouts/${id}/start`);

    const devices = async () =>
      (await t.api<{ items: DeviceView[] }>('GET', `/v1/rollouts/${id}/devices?limit=100`)).body.items;
    const stateOf = (list: DeviceView[], deviceId: string) => list.find((d) => d.deviceId === deviceId)?.state;

    // The slow terminals hold part of the image; the fast ones installed it and are rebooting.
    await eventually(
      async () => {
        const list = await devices();
        const ok =
          slow.every((a) => proxy.held.has(a.id) && stateOf(list, a.id) === 'downloading') &&
          fast.every((a) => stateOf(list, a.id) === 'rebooting');
        return ok ? true : undefined;
      },
      { timeoutMs: 10_000, stepMs: 200, what: 'slow terminals downloading and fast ones rebooting' },
    );

    const cancelled = await t.api<{ state: string }>('POST', `/v1/rollouts/${id}/cancel`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.state).toBe('cancelled');
    const downloadsAtCancel = proxy.downloads.length;

    // Each terminal answers the abort request: the slow ones stopped, the fast ones were past the point of no return.
    const acks = (a: (typeof agents)[number], type: string) => a.agent.stats().acks[type] ?? {};
    await eventually(
      () =>
        slow.every((a) => acks(a, 'cancel').succeeded === 1) &&
        fast.every((a) => acks(a, 'cancel').rejected === 1 && acks(a, 'ota.install').succeeded === 1)
          ? true
          : undefined,
      { timeoutMs: 10_000, stepMs: 200, what: 'answers to the abort requests, and the installs that carried on' },
    );
    for (const a of slow) expect(acks(a, 'ota.install')).toEqual({ failed: 1 });

    // Records: aborted ones stay cancelled, the ones that finished anyway are counted as succeeded.
    const settled = await eventually(
      async () => {
        const list = await devices();
        const ok =
          slow.every((a) => list.find((d) => d.deviceId === a.id)?.note === abortNotes.aborted) &&
          fast.every((a) => stateOf(list, a.id) === 'succeeded');
        return ok ? list : undefined;
      },
      { timeoutMs: 10_000, stepMs: 200, what: 'device records settled after the cancel' },
    );
    for (const a of slow) expect(settled.find((d) => d.deviceId === a.id)).toMatchObject({ state: 'cancelled', note: abortNotes.aborted });
    for (const a of fast)
      expect(settled.find((d) => d.deviceId === a.id)).toMatchObject({ state: 'succeeded', reportedVersion: '2.0.0', note: abortNotes.completed });
    for (const a of fast) expect(acks(a, 'ota.install')).toEqual({ succeeded: 1 });
    for (const a of fast) expect(a.agent.stats().acks.cancel).toEqual({ rejected: 1 });

    // The server's side of it: the install is cancelled, and the `cancel` command carries the device's answer.
    const commandsOf = async (deviceId: string) =>
      (await t.api<{ items: CommandView[] }>('GET', `/v1/devices/${deviceId}/commands?limit=50`)).body.items;
    for (const a of slow) {
      const list = await commandsOf(a.id);
      const install = list.find((c) => c.type === 'ota.install')!;
      expect(install.state).toBe('cancelled');
      expect(list.filter((c) => c.type === 'cancel')).toMatchObject([
        { state: 'succeeded', payload: { cmdId: install.id }, result: { aborted: true } },
      ]);
    }
    for (const a of fast)
      expect((await commandsOf(a.id)).filter((c) => c.type === 'cancel')).toMatchObject([{ state: 'rejected', error: { code: 'too_late' } }]);

    const r = await rollout(t, id);
    expect(r.state).toBe('cancelled');
    expect(r.counts).toEqual({ cancelled: 4, succeeded: 2 });

    // The aborted terminals tore down their downloads, kept their old slot and left nothing behind.
    for (const a of slow) {
      expect(proxy.droppedByDevice.has(a.id)).toBe(true);
      const store = openStateStore(join(stateDir, a.serial));
      expect(store.loadFirmware('x')).toMatchObject({ active: 'A', A: { version: '1.0.0' } });
      const otaDir = join(stateDir, a.serial, 'ota');
      expect(existsSync(otaDir) ? readdirSync(otaDir).filter((f) => f.endsWith('.part') || f.startsWith('slot-')) : []).toEqual([]);
      const dev = await t.api<{ reportedFwVersion: string | null; slot: string | null }>('GET', `/v1/devices/${a.id}`);
      expect(dev.body).toMatchObject({ reportedFwVersion: '1.0.0', slot: 'A' });
    }

    // Nothing more is sent: no new install, no new download, over several ticks.
    await new Promise((res) => setTimeout(res, 1500));
    for (const a of agents) expect(a.agent.stats().commands['ota.install']).toBe(1);
    expect(proxy.downloads.length).toBe(downloadsAtCancel);
    expect((await rollout(t, id)).state).toBe('cancelled');
  });
});
