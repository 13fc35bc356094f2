// The device page tells one story: charts open on a period that fits the samples, a diag.run row
// shows the self-test's outcome as the diagnostics box does, a terminal that never connected is
// "not yet connected" (here and in the device list), and the binding card counts out-of-fence
// fixes as the relocation fault does. Real server, terminals over real MQTT, Chromium.
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/eventually.ts';
import { activeMerchant, createUser } from '../merchants/helpers.ts';
import { startTestServer, TEST_ADMIN_TOKEN, type TestServer } from '../helpers/testServer.ts';
import { lineCoverage } from './chartCanvas.ts';
import { fakeTerminal, openDashboardWindow, seedHealthHistory, shot, signIn, sleep, type DashboardWindow, type FakeTerminal } from './helpers.ts';

const TIMEOUT = 120_000;

describe('device page', { timeout: TIMEOUT }, () => {
  let t: TestServer;
  let ui: DashboardWindow | undefined;
  let page: Page;
  let errors: string[];
  const terminals: FakeTerminal[] = [];

  beforeAll(async () => {
    // One history sample per 30 s, so a few minutes of samples are a few points.
    t = await startTestServer({ env: { HEALTH_HISTORY_INTERVAL_S: '30' } });
    ui = await openDashboardWindow();
    ({ page, errors } = ui);
    await signIn(page, t.url, TEST_ADMIN_TOKEN);
  }, TIMEOUT);

  afterAll(async () => {
    for (const term of terminals) await term.close().catch(() => undefined);
    await ui?.close();
    await t?.stop();
  });

  const terminal = async (serial: string) => {
    const term = await fakeTerminal(t, { serial });
    terminals.push(term);
    return term;
  };

  async function openDevice(deviceId: string, serial: string) {
    await page.goto(`${t.url}/ui/devices/${deviceId}`);
    await page.getByRole('heading', { level: 1, name: `Terminal ${serial}` }).waitFor();
  }

  /** How much of the plot's width the battery line covers (0..1), read from the uPlot canvas. */
  const batteryLineWidth = () => lineCoverage(page.locator('figure[data-chart="Battery"]'));

  const chartWindow = async () => {
    const box = page.locator('div.charts');
    return {
      fitted: await box.getAttribute('data-fitted'),
      spanMs: Number(await box.getAttribute('data-to')) - Number(await box.getAttribute('data-from')),
    };
  };

  it('opens the health charts on the minutes a new terminal has, not on 24 hours', async () => {
    const term = await terminal('PAX-FEW-MINUTES');
    const now = Date.now();
    for (let i = 5; i >= 1; i--)
      await term.health({
        ts: now - i * 60_000,
        battery: { level: 90 - i, charging: false },
        temperatureC: 35,
        signal: { type: 'wifi', rssi: -60 },
      });
    await eventually(
      async () => {
        const r = await t.api<{ points: unknown[] }>('GET', `/v1/devices/${term.device.deviceId}/health-history`);
        return r.body.points.length >= 5;
      },
      { timeoutMs: 15_000 },
    );

    await openDevice(term.device.deviceId, 'PAX-FEW-MINUTES');
    await page.locator('figure[data-chart="Battery"][data-points="5"] .chart-plot canvas').waitFor();
    const fitted = await chartWindow();
    expect(fitted.fitted).toBe('true');
    expect(fitted.spanMs).toBeGreaterThanOrEqual(10 * 60_000);
    expect(fitted.spanMs).toBeLessThan(15 * 60_000);
    // Four minutes of samples across most of the chart, not a few pixels at its right edge.
    expect(await batteryLineWidth()).toBeGreaterThan(0.3);
    await page.getByText('Showing the last 10 minutes: no earlier sample in the last 24 hours.').waitFor();
    await shot(page, 'device-chart-fitted', { fullPage: false });

    // Another period picked: still the minutes there are.
    await page.getByText('7 days', { exact: true }).click();
    await page.getByText('Showing the last 10 minutes: no earlier sample in the last 7 days.').waitFor();
    expect((await chartWindow()).fitted).toBe('true');
  });

  it('keeps the full period for a terminal whose samples cover it', async () => {
    const term = await terminal('PAX-FULL-DAY');
    await seedHealthHistory(t, term.device.deviceId, 24);
    await openDevice(term.device.deviceId, 'PAX-FULL-DAY');
    await page.locator('figure[data-chart="Battery"] .chart-plot canvas').waitFor();
    const window = await chartWindow();
    expect(window.fitted).toBe('false');
    expect(window.spanMs).toBe(24 * 3600_000);
    expect(await batteryLineWidth()).toBeGreaterThan(0.95);
    expect(await page.locator('.chart-fitted').count()).toBe(0);
  });

  it('shows a failed self-test on the diag.run row as in the diagnostics box', async () => {
    const term = await terminal('PAX-DIAG-FAIL');
    term.on('diag.run', async (cmd, me) => {
      await me.ack(cmd.id, 'succeeded', { result: { printer: 'fail', network: 'pass', details: { printer: 'head open' } } });
    });
    await openDevice(term.device.deviceId, 'PAX-DIAG-FAIL');
    const sent = await t.api<{ cmdId: string }>('POST', `/v1/devices/${term.device.deviceId}/diagnostics`, {});
    expect(sent.status, sent.text).toBe(201);
    const cmdId = sent.body.cmdId;

    const row = page.locator(`tr[data-cmd-id="${cmdId}"]`);
    const box = page.locator(`li.diag[data-cmd-id="${cmdId}"]`);
    await row.locator('[data-outcome]').waitFor({ timeout: 15_000 });
    await box.locator('[data-outcome]').waitFor({ timeout: 15_000 });
    expect(await row.locator('.state-succeeded').textContent()).toBe('succeeded');
    expect(await row.locator('[data-outcome]').getAttribute('data-outcome')).toBe('failed');
    expect(await box.locator('[data-outcome]').getAttribute('data-outcome')).toBe('failed');
    expect(await row.locator('[data-outcome]').textContent()).toBe('self-test failed: printer');
    expect(await box.locator('[data-outcome]').textContent()).toBe('self-test failed: printer');
    await shot(page, 'device-diag-failed');

    // A run the terminal could not do has no verdict: both say the command failed, and the page
    // does not keep asking for one.
    term.on('diag.run', async (cmd, me) => {
      await me.ack(cmd.id, 'failed', { error: { code: 'busy', message: 'payment in progress' } });
    });
    const diagReads: string[] = [];
    page.on('request', (r) => r.url().includes('/diagnostics?') && diagReads.push(r.url()));
    const second = (await t.api<{ cmdId: string }>('POST', `/v1/devices/${term.device.deviceId}/diagnostics`, {})).body.cmdId;
    await page.locator(`tr[data-cmd-id="${second}"] .state-failed`).waitFor({ timeout: 15_000 });
    await page.locator(`li.diag[data-cmd-id="${second}"] .state-failed`).waitFor({ timeout: 15_000 });
    expect(await page.locator(`tr[data-cmd-id="${second}"] [data-outcome]`).count()).toBe(0);
    const readsThen = diagReads.length;
    await sleep(3000);
    expect(diagReads.length - readsThen).toBeLessThanOrEqual(1);
  });

  it('calls a terminal that never connected "not yet connected", on its page and in the list', async () => {
    const registered = await t.api<{ id: string }>('POST', '/v1/devices', { serial: 'PAX-NEVER-SEEN', model: 'PAX-A920' });
    expect(registered.status).toBe(201);
    await openDevice(registered.body.id, 'PAX-NEVER-SEEN');
    const badge = page.locator('.badges [data-presence]');
    expect(await badge.getAttribute('data-presence')).toBe('never');
    expect(await badge.textContent()).toBe('not yet connected');

    // One that was connected and left is offline.
    const gone = await terminal('PAX-WAS-HERE');
    await gone.close();
    await eventually(async () => !(await t.api<{ online: boolean }>('GET', `/v1/devices/${gone.device.deviceId}`)).body.online, {
      timeoutMs: 15_000,
    });

    await page.goto(`${t.url}/ui/devices?q=PAX-`);
    const presence = (deviceId: string) => page.locator(`tr[data-device-id="${deviceId}"] [data-presence]`);
    await presence(registered.body.id).waitFor();
    expect(await presence(registered.body.id).textContent()).toBe('not yet connected');
    expect(await presence(gone.device.deviceId).getAttribute('data-presence')).toBe('offline');
    await shot(page, 'devices-never-connected');
  });

  it('counts out-of-fence fixes on the binding card as the relocation fault does', async () => {
    const merchant = await activeMerchant(t, await createUser(t, 'admin'), { location: { lat: 48.8566, lon: 2.3522 }, radiusM: 200 });
    const term = await terminal('PAX-MOVED-AWAY');
    expect((await t.api('PUT', `/v1/devices/${term.device.deviceId}/binding`, { merchantId: merchant.id, tid: 'TID00009' })).status).toBe(
      200,
    );

    // Six fixes ≈ 34 km away: the fault opens on the policy's third, the run goes on to six.
    for (let i = 0; i < 6; i++) {
      await term.health({ location: { lat: 48.6, lon: 2.1, accuracyM: 20, source: 'gps' } });
      await sleep(200);
    }
    await eventually(
      async () => {
        const b = await t.api<{ relocation: { consecutiveOut: number } }>('GET', `/v1/devices/${term.device.deviceId}/binding`);
        return b.body.relocation.consecutiveOut === 6;
      },
      { timeoutMs: 15_000 },
    );

    await openDevice(term.device.deviceId, 'PAX-MOVED-AWAY');
    const faultDetail = page.locator('tr[data-code="relocated"] .muted.small');
    await faultDetail.waitFor({ timeout: 15_000 });
    const card = page.locator('.relocation[data-relocated="true"]');
    await expect.poll(() => card.textContent(), { timeout: 10_000 }).toMatch(/fixes in a row/);
    const fixes = (text: string | null) => Number(/(\d+) fixes in a row/.exec(text ?? '')?.[1]);
    expect(fixes(await faultDetail.textContent())).toBe(3);
    expect(fixes(await card.textContent())).toBe(fixes(await faultDetail.textContent()));
    expect(await card.textContent()).toMatch(/; still outside$/);
    await shot(page, 'device-relocated-card');
    expect(errors).toEqual([]);
  });
});
