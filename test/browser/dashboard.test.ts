// The dashboard in a real browser (Debian's chromium via playwright-core) against a real server
// and terminals over real MQTT: sign in, a fault arriving live, acknowledge/assign/note/resolve,
// the device page with charts and a confirmed lock, a rollout progressing live with
// pause/resume, a re-binding approved by a second admin, keyboard and tablet checks.
// Screenshots: test-artifacts/browser/*.png.
import { rmSync } from 'node:fs';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generatePublisherKey } from '../../scripts/sign-firmware.ts';
import { signedImage } from '../firmware/signedImage.ts';
import { eventually } from '../helpers/eventually.ts';
import { startTestServer, TEST_ADMIN_TOKEN, type TestServer } from '../helpers/testServer.ts';
import { lineCoverage } from './chartCanvas.ts';
import {
  ARTIFACTS,
  fakeTerminal,
  openDashboardWindow,
  seedHealthHistory,
  shot,
  signIn,
  sleep,
  watchConsole,
  type DashboardWindow,
  type FakeTerminal,
} from './helpers.ts';

const publisher = generatePublisherKey();
const TIMEOUT = 120_000;

interface Fault {
  id: string;
  code: string;
  state: string;
  deviceId: string;
  assigneeId: string | null;
}

describe('dashboard in the browser', { timeout: TIMEOUT }, () => {
  let t: TestServer;
  let ui: DashboardWindow | undefined;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let errors: string[];
  let printer: FakeTerminal;
  let relocator: FakeTerminal;
  let secondAdmin: { id: string; token: string };
  let technician: { id: string; token: string };
  const merchants: { a?: string; b?: string } = {};

  beforeAll(async () => {
    t = await startTestServer({
      env: { FIRMWARE_PUBLISHER_KEYS: publisher.publicKeyBase64, CAMPAIGN_TICK_MS: '250', HEARTBEAT_TIMEOUT_S: '60' },
    });
    rmSync(ARTIFACTS, { recursive: true, force: true }); // screenshots of this run only
    ui = await openDashboardWindow();
    ({ browser, context, page, errors } = ui);

    // A second admin: merchant onboarding and re-binding need an admin other than the one asking.
    const made = await t.api<{ id: string; token: string }>('POST', '/v1/users', { name: 'Ada Admin', role: 'admin' });
    secondAdmin = made.body;
    technician = (await t.api<{ id: string; token: string }>('POST', '/v1/users', { name: 'Tom Technician', role: 'technician' })).body;

    printer = await fakeTerminal(t, { serial: 'PAX-0001-FRONTDESK' });
    relocator = await fakeTerminal(t, { serial: 'PAX-0002-FOODCOURT', model: 'PAX-A80' });
    await printer.health({
      battery: { level: 81, charging: false },
      temperatureC: 38.5,
      signal: { type: 'wifi', rssi: -61 },
      printer: { status: 'ok' },
      storage: { freeMb: 812, totalMb: 4096 },
    });
    await seedHealthHistory(t, printer.device.deviceId, 24);

    // Two approved merchants; both terminals bound to the first.
    const merchant = (mid: string, name: string, lat: number, lon: number) => ({
      mid,
      name,
      mcc: '5812',
      address: `${name}, 1 Market Street`,
      location: { lat, lon },
      radiusM: 200,
      timezone: 'Europe/Paris',
      kind: 'single',
      documents: { businessLicenceNo: `BL-${mid}`, taxId: `TX-${mid}` },
    });
    for (const [key, mid, name, lat, lon] of [
      ['a', '100000000000001', 'Café Lumière', 48.8566, 2.3522],
      ['b', '100000000000002', 'Boulangerie Nord', 48.8867, 2.3431],
    ] as const) {
      const m = await t.api<{ id: string }>('POST', '/v1/merchants', merchant(mid, name, lat, lon));
      expect(m.status, JSON.stringify(m.body)).toBe(201);
      merchants[key] = m.body.id;
      const ok = await t.api('POST', `/v1/merchants/${m.body.id}/approve`, {}, { token: secondAdmin.token });
      expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    }
    for (const [term, tid] of [
      [printer, 'TID00001'],
      [relocator, 'TID00002'],
    ] as const) {
      const b = await t.api('PUT', `/v1/devices/${term.device.deviceId}/binding`, { merchantId: merchants.a, tid });
      expect(b.status, JSON.stringify(b.body)).toBe(200);
    }
    // One more merchant waiting for review.
    await t.api('POST', '/v1/merchants', merchant('100000000000003', 'Pressing du Marais', 48.8575, 2.3622));
  }, TIMEOUT);

  afterAll(async () => {
    await ui?.close();
    await printer?.close().catch(() => undefined);
    await relocator?.close().catch(() => undefined);
    await t?.stop();
  }, TIMEOUT);

  it('signs in with an API token and shows the fleet overview', async () => {
    await page.goto(`${t.url}/`);
    expect(new URL(page.url()).pathname).toBe('/ui/');
    await page.getByRole('heading', { name: 'Sign in to posfleet' }).waitFor();
    await shot(page, '01-sign-in');

    await page.getByLabel('API token').fill('pf_not-a-real-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('That token is not valid.').waitFor();

    await page.getByLabel('API token').fill(TEST_ADMIN_TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { level: 1, name: 'Fleet overview' }).waitFor();
    await page.locator('#live-status[data-state="live"]').waitFor();
    expect(await page.evaluate(() => sessionStorage.getItem('posfleet.token'))).toBe(TEST_ADMIN_TOKEN);
    await page.locator('[data-stat="online"]').filter({ hasText: '2' }).waitFor();
    await page.locator('[data-stat="devices"]').filter({ hasText: '2' }).waitFor();
    await page.getByRole('link', { name: '1.0.0' }).waitFor();
    await shot(page, '02-overview');
  });

  it('shows a paper-out fault live, then acknowledges, assigns, notes and resolves it', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Faults' }).click();
    await page.getByRole('heading', { level: 1, name: 'Fault queue' }).waitFor();
    await page.getByText('No fault matches these filters').waitFor();

    // The terminal runs out of paper: the row arrives over the live stream, no reload.
    const navigations: string[] = [];
    page.on('framenavigated', (f) => f === page.mainFrame() && navigations.push(f.url()));
    await printer.health({ printer: { status: 'paper_out' }, battery: { level: 80, charging: false } });
    const row = page.locator('tr.fault-row[data-code="paper_out"]');
    await row.waitFor({ timeout: 15_000 });
    expect(navigations).toEqual([]);
    await expect.poll(() => page.locator('#announcer').textContent(), { timeout: 10_000 }).toContain('Printer out of paper');
    await shot(page, '03-fault-live');

    await row.getByRole('button', { name: /^Acknowledge/ }).click();
    await page.locator('tr.fault-row[data-code="paper_out"][data-state="acknowledged"]').waitFor();

    // Notes and assignment.
    await page
      .locator('tr.fault-row[data-code="paper_out"]')
      .getByRole('button', { name: /notes and assignment/ })
      .click();
    const detail = page.locator('tr.fault-detail');
    await detail.getByLabel('Add a note').fill('Paper roll replaced? Calling the merchant first.');
    await detail.getByRole('button', { name: 'Add note' }).click();
    await detail.getByText('Calling the merchant first.').waitFor();
    await detail.getByLabel('Assign to').selectOption({ label: 'Tom Technician (technician)' });
    await detail.getByRole('button', { name: 'Assign' }).click();
    await page.locator('tr.fault-row[data-code="paper_out"]').getByText('Tom Technician').waitFor();
    await shot(page, '04-fault-acknowledged-noted');

    await page
      .locator('tr.fault-row[data-code="paper_out"]')
      .getByRole('button', { name: /^Resolve/ })
      .click();
    const dialog = page.getByRole('dialog', { name: 'Resolve this fault?' });
    await dialog.waitFor();
    await dialog.getByLabel('Closing note (optional)').fill('New roll fitted on site.');
    await shot(page, '05-fault-resolve-dialog', { fullPage: false });
    await dialog.getByRole('button', { name: 'Resolve fault' }).click();
    await page.getByText('No fault matches these filters').waitFor();

    const all = await t.api<{ items: Fault[] }>('GET', `/v1/faults?state=all&deviceId=${printer.device.deviceId}`);
    const resolved = all.body.items.find((f) => f.code === 'paper_out');
    expect(resolved?.state).toBe('resolved');

    // The resolved fault is still there under "Resolved".
    await page.getByLabel('State').selectOption('resolved');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.locator('tr.fault-row[data-code="paper_out"][data-state="resolved"]').waitFor();
  });

  it('lists relocated terminals and faults by severity on the overview', async () => {
    // Out-of-fence fixes (≈ 30 km away) open a `relocated` fault through the merchants module.
    for (let i = 0; i < 4; i++) {
      await relocator.health({
        location: { lat: 48.6, lon: 2.1, accuracyM: 20, source: 'gps' },
        battery: { level: 12, charging: false },
        temperatureC: 41,
      });
      await sleep(150);
    }
    await eventually(
      async () => {
        const r = await t.api<{ items: Fault[] }>('GET', `/v1/faults?code=relocated`);
        return r.body.items.length > 0;
      },
      { timeoutMs: 15_000 },
    );
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Overview' }).click();
    await page.getByRole('heading', { level: 1, name: 'Fleet overview' }).waitFor();
    const relocated = page.getByRole('region', { name: 'Terminals outside their merchant location' });
    await relocated.getByRole('link', { name: 'PAX-0002-FOODCOURT' }).waitFor();
    await page.getByRole('list', { name: 'Unresolved faults per severity' }).waitFor();
    await shot(page, '06-overview-faults-relocated');
  });

  it('shows the device page with charts and timeline, live presence, and locks after confirmation', async () => {
    printer.on('logs.upload', async (cmd, term) => {
      const put = await fetch(String(cmd.payload.url), {
        method: 'PUT',
        headers: { 'content-type': 'text/plain' },
        body: 'boot ok\nprinter: paper out\n',
      });
      await term.ack(
        cmd.id,
        put.ok ? 'succeeded' : 'failed',
        put.ok ? { result: {} } : { error: { code: 'upload_failed', message: String(put.status) } },
      );
    });
    printer.on('diag.run', async (cmd, term) => {
      await term.ack(cmd.id, 'in_progress', { stage: 'printer', progress: 25 });
      await term.ack(cmd.id, 'succeeded', {
        result: { printer: 'pass', cardReader: 'pass', storage: 'pass', network: 'fail', details: { network: 'dns timeout' } },
      });
    });
    await page.goto(`${t.url}/ui/devices?q=FRONTDESK`);
    await page.getByRole('link', { name: 'PAX-0001-FRONTDESK' }).click();
    await page.getByRole('heading', { level: 1, name: 'Terminal PAX-0001-FRONTDESK' }).waitFor();
    for (const title of ['Battery', 'Temperature', 'Signal']) {
      const figure = page.locator(`figure[data-chart="${title}"]`);
      await figure.locator('.chart-plot canvas').waitFor();
      // The uPlot canvas has the line drawn on it, not only its axes.
      expect(await lineCoverage(figure)).toBeGreaterThan(0);
    }
    await page.getByText('Café Lumière (MID 100000000000001)').waitFor();
    await page.locator('ol.timeline li[data-kind="enrolled"]').waitFor();

    // Diagnostics, confirmed in a dialog; the result arrives live.
    await page.getByRole('group', { name: 'Device actions' }).getByRole('button', { name: 'Run diagnostics' }).click();
    const diag = page.getByRole('dialog', { name: 'Run diagnostics?' });
    await diag.getByRole('button', { name: 'Run diagnostics' }).click();
    await page.getByText('network: fail').waitFor({ timeout: 15_000 });

    // Logs: requested after confirmation, uploaded by the terminal, downloaded with the token.
    await page.getByRole('group', { name: 'Device actions' }).getByRole('button', { name: 'Upload logs' }).click();
    await page.getByRole('dialog', { name: 'Upload logs?' }).getByRole('button', { name: 'Request logs' }).click();
    const download = page.getByRole('button', { name: 'Download' });
    await download.waitFor({ timeout: 15_000 });
    const [file] = await Promise.all([page.waitForEvent('download'), download.click()]);
    expect(file.suggestedFilename()).toMatch(/^PAX-0001-FRONTDESK-lb_.*\.log$/);
    const { readFile } = await import('node:fs/promises');
    expect(await readFile((await file.path())!, 'utf8')).toContain('printer: paper out');

    // Lock: nothing happens when the dialog is cancelled; confirmed, the terminal is locked.
    await page.getByRole('group', { name: 'Device actions' }).getByRole('button', { name: 'Lock' }).click();
    const lockDialog = page.getByRole('dialog', { name: 'Lock the terminal?' });
    await lockDialog.waitFor();
    await shot(page, '07-device-lock-confirm', { fullPage: false });
    await lockDialog.getByRole('button', { name: 'Cancel' }).click();
    expect((await t.api<{ locked: boolean }>('GET', `/v1/devices/${printer.device.deviceId}/lock`)).body.locked).toBe(false);
    await page.getByRole('group', { name: 'Device actions' }).getByRole('button', { name: 'Lock' }).click();
    await lockDialog.getByLabel('Reason for the lock').fill('Suspected skimmer, held for inspection');
    await lockDialog.getByRole('button', { name: 'Lock terminal' }).click();
    await page.locator('[data-locked="true"]').waitFor({ timeout: 15_000 });
    await page.getByRole('group', { name: 'Device actions' }).getByRole('button', { name: 'Unlock' }).waitFor();
    expect((await t.api<{ locked: boolean }>('GET', `/v1/devices/${printer.device.deviceId}/lock`)).body.locked).toBe(true);
    await shot(page, '08-device-page');

    // Presence is live: the terminal drops off and the badge turns offline without a reload.
    printer.client.stream.destroy();
    await page.locator('.badges .badge.offline').waitFor({ timeout: 15_000 });
    await page.locator('ol.timeline li[data-kind="offline"]').first().waitFor({ timeout: 15_000 });
    await printer.reconnect();
    await page.locator('.badges .badge.online').waitFor({ timeout: 15_000 });
  });

  it('watches a firmware rollout progress phase by phase, live, with pause and resume', async () => {
    // Four more terminals; OTA answers are held at "downloading" until the test lets them go.
    const fleet = [printer, relocator];
    for (let i = 3; i <= 6; i++) fleet.push(await fakeTerminal(t, { serial: `PAX-000${i}-LANE${i}` }));
    // Each terminal waits at "downloading" until release() lets every terminal waiting so far go.
    let waiting: (() => void)[] = [];
    const release = () => {
      for (const go of waiting) go();
      waiting = [];
    };
    for (const term of fleet) {
      term.on('ota.install', async (cmd, tm) => {
        const version = String(cmd.payload.version);
        await tm.ack(cmd.id, 'in_progress', { stage: 'downloading', progress: 40 });
        await new Promise<void>((go) => waiting.push(go));
        await tm.ack(cmd.id, 'in_progress', { stage: 'installing', progress: 80 });
        await tm.ack(cmd.id, 'in_progress', { stage: 'rebooting' });
        tm.fwVersion = version;
        await tm.state();
        await tm.ack(cmd.id, 'succeeded', { result: { version, slot: 'B' } });
      });
    }
    const { image, manifest, signature } = signedImage(publisher, 20_000, '2.1.0', ['PAX-A920', 'PAX-A80']);
    const fw = await t.api<{ id: string }>('POST', '/v1/firmware', { manifest, signature });
    expect(fw.status, JSON.stringify(fw.body)).toBe(201);
    const up = await t.api('PUT', `/v1/firmware/${fw.body.id}/content`, undefined, {
      raw: image,
      headers: { 'content-type': 'application/octet-stream' },
    });
    expect(up.status).toBe(200);
    const rollout = await t.api<{ id: string }>('POST', '/v1/rollouts', {
      name: 'pos-os 2.1.0 to Paris',
      firmwareId: fw.body.id,
      target: { deviceIds: fleet.map((f) => f.device.deviceId) },
      phases: [
        { name: 'Pilot', percent: 34 },
        { name: 'Everyone else', percent: 66 },
      ],
      successThreshold: 100,
      errorThreshold: 50,
      mode: 'forced',
    });
    expect(rollout.status, JSON.stringify(rollout.body)).toBe(201);
    const id = rollout.body.id;

    // The list links each campaign to its page, where its controls and phases are.
    const openRollout = async () => {
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Rollouts & keys' }).click();
      await page.locator(`tr.campaign-row[data-campaign-id="${id}"]`).getByRole('link', { name: 'pos-os 2.1.0 to Paris' }).click();
    };
    await openRollout();
    const card = page.locator(`article.campaign[data-campaign-id="${id}"]`);
    await card.waitFor();
    await card.getByRole('button', { name: /^Start/ }).click();
    await page.getByRole('dialog', { name: 'Start this rollout?' }).getByRole('button', { name: 'Start' }).click();
    await page.locator(`article.campaign[data-campaign-id="${id}"][data-state="running"]`).waitFor();
    // The pilot phase gets its terminals to "downloading", live.
    await card
      .locator('li.phase[data-phase="0"]')
      .getByText(/in progress/)
      .waitFor();
    await expect
      .poll(() => card.locator('li.phase[data-phase="0"] .phase-text').textContent(), { timeout: 15_000 })
      .toMatch(/[1-9] in progress/);
    await shot(page, '09-rollout-pilot-downloading');
    // The overview shows it in progress too.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Overview' }).click();
    const inProgress = page.getByRole('list', { name: 'Campaigns in progress' });
    await inProgress.getByRole('link', { name: 'Firmware: pos-os 2.1.0 to Paris' }).waitFor();
    await inProgress.getByText(/of 6 terminals done/).waitFor();
    await shot(page, '09b-overview-rollout-in-progress');
    // The entry opens the rollout's own page, not the list.
    await inProgress.getByRole('link', { name: 'Firmware: pos-os 2.1.0 to Paris' }).click();
    await card.waitFor();
    expect(new URL(page.url()).pathname).toBe(`/ui/rollouts/${id}`);
    await openRollout();

    // Pause and resume from the page, each after confirmation.
    await card.getByRole('button', { name: /^Pause/ }).click();
    await page.getByRole('dialog', { name: 'Pause this rollout?' }).getByRole('button', { name: 'Pause' }).click();
    await page.locator(`article.campaign[data-campaign-id="${id}"][data-state="paused"]`).waitFor();
    await card.getByRole('button', { name: /^Resume/ }).click();
    await page.getByRole('dialog', { name: 'Resume this rollout?' }).getByRole('button', { name: 'Resume' }).click();
    await page.locator(`article.campaign[data-campaign-id="${id}"][data-state="running"]`).waitFor();

    // Let the pilot finish: phase two starts by itself and its terminals show up in progress.
    release();
    await card
      .locator('li.phase[data-phase="0"]')
      .getByText(/2 of 2 succeeded/)
      .waitFor({ timeout: 20_000 });
    await card.locator('li.phase[data-phase="1"].phase-started').waitFor({ timeout: 20_000 });
    await expect
      .poll(() => card.locator('li.phase[data-phase="1"] .phase-text').textContent(), { timeout: 15_000 })
      .toMatch(/4 in progress/);
    await shot(page, '10-rollout-phase-two');
    release();
    await page.locator(`article.campaign[data-campaign-id="${id}"][data-state="succeeded"]`).waitFor({ timeout: 30_000 });
    await card
      .locator('li.phase[data-phase="1"]')
      .getByText(/4 of 4 succeeded/)
      .waitFor();
    await shot(page, '11-rollout-succeeded');
    for (const term of fleet.slice(2)) await term.close();
  });

  it('shows a key rotation installing live and cancels it after confirmation', async () => {
    // Terminals take the keys.install and keep working on it (never finishing): enough to watch.
    for (const term of [printer, relocator]) {
      term.on('keys.install', async (cmd, tm) => {
        await tm.ack(cmd.id, 'in_progress', { stage: 'installing' });
      });
    }
    const rot = await t.api<{ id: string }>('POST', '/v1/key-rotations', {
      name: 'Quarterly TPK rotation',
      usages: ['TPK'],
      target: { deviceIds: [printer.device.deviceId, relocator.device.deviceId] },
      phases: [{ name: 'All', percent: 100 }],
      successThreshold: 100,
      errorThreshold: 50,
    });
    expect(rot.status, JSON.stringify(rot.body)).toBe(201);
    expect((await t.api('POST', `/v1/key-rotations/${rot.body.id}/start`)).status).toBe(200);
    // The overview lists it in progress, linking to its own page.
    await page.goto(`${t.url}/ui/`);
    await page.getByRole('list', { name: 'Campaigns in progress' }).getByRole('link', { name: 'Keys: Quarterly TPK rotation' }).click();
    await page.locator(`article.campaign[data-campaign-id="${rot.body.id}"]`).waitFor();
    expect(new URL(page.url()).pathname).toBe(`/ui/key-rotations/${rot.body.id}`);
    await page.goto(`${t.url}/ui/rollouts`);
    await page.locator(`tr.campaign-row[data-campaign-id="${rot.body.id}"]`).getByRole('link', { name: 'Quarterly TPK rotation' }).click();
    const card = page.locator(`article.campaign[data-campaign-id="${rot.body.id}"]`);
    await expect
      .poll(() => card.locator('li.phase[data-phase="0"] .phase-text').textContent(), { timeout: 20_000 })
      .toMatch(/2 in progress/);
    await shot(page, '12-key-rotation-installing');
    await card.getByRole('button', { name: /^Cancel/ }).click();
    const dlg = page.getByRole('dialog', { name: 'Cancel this key rotation?' });
    await dlg.getByRole('button', { name: 'Cancel key rotation' }).click();
    await page.locator(`article.campaign[data-campaign-id="${rot.body.id}"][data-state="cancelled"]`).waitFor({ timeout: 15_000 });
  });

  it('lets a second admin approve a pending re-binding', async () => {
    const filed = await t.api<{ id: string }>('POST', `/v1/devices/${relocator.device.deviceId}/rebind-requests`, {
      merchantId: merchants.b,
      tid: 'TID00009',
      reason: 'Terminal moved to the new bakery branch',
    });
    expect(filed.status, JSON.stringify(filed.body)).toBe(201);

    // The admin who filed it cannot approve it.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Merchants' }).click();
    const mine = page.locator(`tr[data-request-id="${filed.body.id}"]`);
    await mine.waitFor();
    expect(await mine.getByRole('button', { name: /^Approve/ }).isDisabled()).toBe(true);

    const other = await context.browser()!.newContext({ viewport: { width: 1366, height: 900 } });
    const p2 = await other.newPage();
    const errors2 = watchConsole(p2);
    await signIn(p2, t.url, secondAdmin.token, '/ui/merchants');
    await p2.getByRole('heading', { level: 1, name: 'Merchants and re-binding approvals' }).waitFor();
    const row = p2.locator(`tr[data-request-id="${filed.body.id}"]`);
    await row.getByText('Terminal moved to the new bakery branch').waitFor();
    await p2.locator('tr[data-merchant-id]').filter({ hasText: 'Pressing du Marais' }).waitFor();
    await shot(p2, '13-merchants-rebind-pending');
    await row.getByRole('button', { name: /^Approve/ }).click();
    const dlg = p2.getByRole('dialog', { name: 'Approve re-binding?' });
    await dlg.getByLabel('Note (optional)').fill('Checked with the merchant.');
    await dlg.getByRole('button', { name: 'Approve' }).click();
    await p2.getByText('No re-binding is waiting for approval.').waitFor();
    const binding = await t.api<{ binding: { merchantId: string; tid: string } }>(
      'GET',
      `/v1/devices/${relocator.device.deviceId}/binding`,
    );
    expect(binding.body.binding.merchantId).toBe(merchants.b);
    expect(errors2).toEqual([]);
    await other.close();
  });

  it('pages and filters 10,000 terminals on the server', async () => {
    const lines = ['serial,model,site'];
    for (let i = 0; i < 10_000; i++) lines.push(`BULK-${String(i).padStart(5, '0')},${i % 3 ? 'PAX-A920' : 'PAX-A80'},store-${i % 250}`);
    const imported = await t.api<{ created: number }>('POST', '/v1/devices/import', undefined, {
      raw: lines.join('\n'),
      headers: { 'content-type': 'text/csv' },
    });
    expect(imported.status, JSON.stringify(imported.body)).toBe(200);
    expect(imported.body.created).toBe(10_000);

    const requests: string[] = [];
    const onRequest = (r: { url(): string }) => void (r.url().includes('/v1/devices?') && requests.push(r.url()));
    page.on('request', onRequest);
    await page.goto(`${t.url}/ui/devices`);
    const rows = page.locator('table.devices-table tbody tr[data-device-id]');
    await expect.poll(() => rows.count(), { timeout: 20_000 }).toBe(50);
    await page.getByRole('button', { name: 'Next →' }).click();
    await page.getByText('Page 2').waitFor();
    await expect.poll(() => rows.first().textContent(), { timeout: 15_000 }).toContain('BULK-00050');
    await page.getByLabel('Search').fill('BULK-0999');
    await page.getByLabel('Model').fill('PAX-A80');
    await page.getByRole('button', { name: 'Apply' }).click();
    await expect.poll(() => rows.count(), { timeout: 15_000 }).toBe(4); // BULK-09990, -09993, -09996, -09999
    expect(new URL(page.url()).search).toContain('q=BULK-0999');
    page.off('request', onRequest);
    // Every page came from the server, 50 at a time.
    expect(requests.length).toBeGreaterThanOrEqual(3);
    for (const r of requests) expect(new URL(r).searchParams.get('limit')).toBe('50');
    await shot(page, '14-devices-10k-filtered');

    await page.goto(`${t.url}/ui/`);
    await page.locator('[data-stat="devices"]').filter({ hasText: '10,006' }).waitFor({ timeout: 20_000 });
    await page.locator('[data-stat="registered"]').filter({ hasText: '10,000' }).waitFor();
  });

  it('works with the keyboard, labels every control, and fits a tablet', async () => {
    await page.goto(`${t.url}/ui/faults?state=all`);
    await page.getByRole('heading', { level: 1, name: 'Fault queue' }).waitFor();
    await page.locator('tr.fault-row').first().waitFor();
    // Landmarks and labels.
    expect(await page.getByRole('banner').count()).toBe(1);
    expect(await page.getByRole('main').count()).toBe(1);
    expect(await page.getByRole('navigation', { name: 'Main' }).count()).toBe(1);
    const unlabelled = await page.evaluate(() =>
      [...document.querySelectorAll('input, select, textarea')]
        .filter(
          (el) =>
            !(el as HTMLInputElement).labels?.length &&
            !el.getAttribute('aria-label') &&
            !el.closest('[hidden]') &&
            (el as HTMLInputElement).type !== 'hidden',
        )
        .map((el) => el.outerHTML.slice(0, 80)),
    );
    expect(unlabelled).toEqual([]);
    // Keyboard: the skip link comes first and moves focus into <main>.
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Skip to content');
    const outline = await page.evaluate(() => getComputedStyle(document.activeElement!).outlineStyle);
    expect(outline).not.toBe('none');
    await page.keyboard.press('Enter');
    // Keyboard only: open a fault's notes with Enter on a focused button.
    const notesButton = page
      .locator('tr.fault-row')
      .first()
      .getByRole('button', { name: /notes and assignment/ });
    await notesButton.focus();
    await page.keyboard.press('Enter');
    await page.locator('tr.fault-detail textarea').waitFor();
    expect(await page.evaluate(() => document.activeElement?.tagName)).toBe('TEXTAREA');

    // Tablet, portrait: no sideways scrolling of the page itself.
    const tablet = await browser.newContext({
      viewport: { width: 820, height: 1180 },
      deviceScaleFactor: 1,
      hasTouch: true,
      isMobile: true,
    });
    const tp = await tablet.newPage();
    await signIn(tp, t.url, TEST_ADMIN_TOKEN, '/ui/');
    await tp.locator('[data-stat="online"]').waitFor();
    await tp.getByRole('list', { name: 'Unresolved faults per severity' }).waitFor();
    expect(await tp.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1)).toBe(true);
    await shot(tp, '15-tablet-overview');
    await tp.goto(`${t.url}/ui/devices/${encodeURIComponent(printer.device.deviceId)}`);
    await tp.locator('figure[data-chart="Battery"] .chart-plot canvas').waitFor();
    expect(await tp.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1)).toBe(true);
    await shot(tp, '16-tablet-device');
    await tp.emulateMedia({ colorScheme: 'dark' });
    await shot(tp, '16b-tablet-device-dark', { fullPage: false });
    await tablet.close();

    expect(errors).toEqual([]);
  });

  it('shows a technician what they may do, and an auditor nothing to press', async () => {
    const tech = await browser.newContext({ viewport: { width: 1366, height: 900 } });
    const p = await tech.newPage();
    await signIn(p, t.url, technician.token, '/ui/faults?assignee=me');
    await p.getByText('Tom Technician (technician)').waitFor();
    // The fault assigned to Tom earlier was resolved; nothing assigned to him is open.
    await p.getByText('No fault matches these filters').waitFor();
    await p.goto(`${t.url}/ui/faults`);
    expect(
      await p
        .locator('tr.fault-row')
        .first()
        .getByRole('button', { name: /^Acknowledge/ })
        .isEnabled(),
    ).toBe(true);
    await p.goto(`${t.url}/ui/merchants`);
    await p.getByText('Approvals need the admin role').waitFor();
    // A draft shows its controls (start, cancel), disabled for a technician; nothing to create.
    const draft = await t.api<{ id: string }>('POST', '/v1/key-rotations', {
      name: 'TAK rotation for the front desk',
      usages: ['TAK'],
      target: { deviceIds: [printer.device.deviceId] },
      phases: [{ name: 'All', percent: 100 }],
      successThreshold: 100,
      errorThreshold: 50,
    });
    expect(draft.status, JSON.stringify(draft.body)).toBe(201);
    await p.goto(`${t.url}/ui/rollouts`);
    await p.locator('tr.campaign-row').first().waitFor();
    expect(await p.getByRole('link', { name: /^New / }).count()).toBe(0);
    await p.locator(`tr.campaign-row[data-campaign-id="${draft.body.id}"]`).getByRole('link').click();
    const controls = p
      .locator('article.campaign')
      .getByRole('group', { name: /^Control/ })
      .getByRole('button');
    await controls.first().waitFor();
    expect(await controls.allTextContents()).toEqual(['Start', 'Cancel']);
    for (const b of await p.locator('article.campaign button').all()) expect(await b.isDisabled()).toBe(true);
    await tech.close();

    const auditor = (await t.api<{ token: string }>('POST', '/v1/users', { name: 'Alice Auditor', role: 'auditor' })).body;
    const aud = await browser.newContext({ viewport: { width: 1366, height: 900 } });
    const q = await aud.newPage();
    await signIn(q, t.url, auditor.token, '/ui/faults');
    await q.locator('tr.fault-row').first().waitFor();
    expect(await q.locator('tr.fault-row button[data-action="acknowledge"]').count()).toBe(0);
    await q.goto(`${t.url}/ui/devices/${encodeURIComponent(printer.device.deviceId)}`);
    await q.getByRole('group', { name: 'Device actions' }).getByRole('button', { name: 'Reboot' }).waitFor();
    expect(await q.getByRole('group', { name: 'Device actions' }).getByRole('button', { name: 'Reboot' }).isDisabled()).toBe(true);
    await aud.close();
  });

  it('says "not available in this build" for views whose API is missing', async () => {
    // A build with only the foundation: the API document lists no faults, campaigns or merchants.
    const bare = await browser.newContext({ viewport: { width: 1366, height: 900 } });
    await bare.route('**/openapi.json', async (route) => {
      const res = await route.fetch();
      const doc = (await res.json()) as { paths: Record<string, unknown> };
      doc.paths = Object.fromEntries(
        Object.entries(doc.paths).filter(
          ([p]) => !/fault|rollout|key-rotation|merchant|rebind|binding|lock|diagnostics|logs|health-history/.test(p),
        ),
      );
      await route.fulfill({ response: res, json: doc });
    });
    const p = await bare.newPage();
    const errs = watchConsole(p);
    await signIn(p, t.url, TEST_ADMIN_TOKEN, '/ui/');
    await p.locator('[data-stat="devices"]').waitFor();
    await p.getByText('Faults: not available in this build.').first().waitFor();
    await p.getByText('Relocation faults: not available in this build.').waitFor();
    await shot(p, '18-overview-without-faults-module');
    await p.goto(`${t.url}/ui/faults`);
    await p.getByText('The fault queue: not available in this build.').waitFor();
    await p.goto(`${t.url}/ui/rollouts`);
    await p.getByText('Firmware rollouts: not available in this build.').waitFor();
    await p.getByText('Key rotations: not available in this build.').waitFor();
    await p.goto(`${t.url}/ui/merchants`);
    await p.getByText('Re-binding approvals: not available in this build.').waitFor();
    await p.goto(`${t.url}/ui/devices/${encodeURIComponent(printer.device.deviceId)}`);
    await p.getByText('Health history: not available in this build.').waitFor();
    await p.getByText('Binding and lock details: not available in this build.').waitFor();
    expect(errs).toEqual([]);
    await bare.close();
  });

  it('comes back live by itself after the server restarts', async () => {
    await page.goto(`${t.url}/ui/faults`);
    await page.locator('#live-status[data-state="live"]').waitFor();
    await page.evaluate(() => {
      const el = document.getElementById('live-status')!;
      const seen: string[] = (window.liveStates = []);
      new MutationObserver(() => seen.push(el.dataset.state ?? '')).observe(el, { attributes: true, attributeFilter: ['data-state'] });
    });
    await t.restart();
    const states = () => page.evaluate(() => window.liveStates ?? []);
    // The stream broke, the page backed off and reconnected by itself.
    await expect.poll(states, { timeout: 30_000 }).toContain('reconnecting');
    await expect.poll(async () => (await states()).at(-1), { timeout: 30_000 }).toBe('live');
    // The terminal reconnects too; what it reports now still arrives live, without a reload.
    await printer.reconnect();
    await printer.health({ temperatureC: 71.5, printer: { status: 'ok' } });
    await page.locator('tr.fault-row[data-code="overheat"]').waitFor({ timeout: 15_000 });
    await shot(page, '17-after-restart-overheat');
  });
});
