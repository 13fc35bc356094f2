// In a real browser (chromium via playwright-core) against a real server and a terminal over real
// MQTT: the fault queue re-sorted on the server from its "Sort by" control, and the device page's
// health charts taking a new sample live, without a reload.
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/eventually.ts';
import { startTestServer, TEST_ADMIN_TOKEN, type TestServer } from '../helpers/testServer.ts';
import { lineCoverage } from './chartCanvas.ts';
import { fakeTerminal, openDashboardWindow, seedHealthHistory, shot, signIn, sleep, type DashboardWindow, type FakeTerminal } from './helpers.ts';

const TIMEOUT = 120_000;

interface Fault {
  id: string;
  code: string;
  openedAt: string;
}

describe('fault queue sorting and live health charts in the browser', { timeout: TIMEOUT }, () => {
  let t: TestServer;
  let ui: DashboardWindow | undefined;
  let page: Page;
  let errors: string[];
  let term: FakeTerminal;

  const openFaults = async () => (await t.api<{ items: Fault[] }>('GET', `/v1/faults?deviceId=${term.device.deviceId}`)).body.items;
  const rowCodes = () => page.locator('tbody tr.fault-row').evaluateAll((rows) => rows.map((r) => (r as HTMLElement).dataset.code));

  beforeAll(async () => {
    t = await startTestServer({ env: { HEARTBEAT_TIMEOUT_S: '60' } });
    ui = await openDashboardWindow();
    ({ page, errors } = ui);

    term = await fakeTerminal(t, { serial: 'PAX-0100-LIVECHART' });
    await seedHealthHistory(t, term.device.deviceId, 6);
    // Two faults opened one after the other: paper out (warning) first, overheat (major) later.
    await term.health({ battery: { level: 80, charging: false }, temperatureC: 40, signal: { type: 'wifi', rssi: -60 }, printer: { status: 'paper_out' } });
    await eventually(async () => (await openFaults()).some((f) => f.code === 'paper_out'));
    await sleep(20);
    await term.health({ battery: { level: 79, charging: false }, temperatureC: 70, signal: { type: 'wifi', rssi: -60 }, printer: { status: 'paper_out' } });
    await eventually(async () => (await openFaults()).some((f) => f.code === 'overheat'));
    const byCode = new Map((await openFaults()).map((f) => [f.code, Date.parse(f.openedAt)]));
    expect(byCode.get('paper_out')!).toBeLessThan(byCode.get('overheat')!);
  }, TIMEOUT);

  afterAll(async () => {
    await ui?.close();
    await term?.close().catch(() => undefined);
    await t?.stop();
  }, TIMEOUT);

  it('sorts the fault queue on the server from the "Sort by" control', async () => {
    await signIn(page, t.url, TEST_ADMIN_TOKEN, '/ui/faults');
    await page.getByRole('heading', { level: 1, name: 'Fault queue' }).waitFor();
    const sort = page.getByLabel('Sort by');
    expect(await sort.evaluate((el) => el.tagName)).toBe('SELECT');
    expect(await sort.inputValue()).toBe('severity');
    await eventually(async () => (await rowCodes()).length === 2);
    expect(await rowCodes()).toEqual(['overheat', 'paper_out']); // worst first

    const asked: string[] = [];
    page.on('request', (r) => {
      if (new URL(r.url()).pathname === '/v1/faults') asked.push(new URL(r.url()).searchParams.get('sort') ?? '');
    });
    await sort.selectOption({ label: 'Oldest first' });
    await page.locator('table.faults-table[data-sort="oldest"]').waitFor();
    await eventually(async () => JSON.stringify(await rowCodes()) === JSON.stringify(['paper_out', 'overheat']));
    expect(asked).toContain('oldest'); // sorted by the server, not among the rows already loaded
    expect(new URL(page.url()).searchParams.get('sort')).toBe('oldest');
    await page.getByText('shown, oldest first').waitFor();
    await shot(page, 'faults-sorted-oldest');

    await sort.selectOption('newest');
    await eventually(async () => JSON.stringify(await rowCodes()) === JSON.stringify(['overheat', 'paper_out']));

    // The order is in the address: a reload keeps it.
    await sort.selectOption('oldest');
    await page.locator('table.faults-table[data-sort="oldest"]').waitFor();
    await page.reload();
    await page.getByRole('heading', { level: 1, name: 'Fault queue' }).waitFor();
    expect(await page.getByLabel('Sort by').inputValue()).toBe('oldest');
    await eventually(async () => JSON.stringify(await rowCodes()) === JSON.stringify(['paper_out', 'overheat']));
  });

  it('appends a health sample from the terminal to the open device page charts, live', async () => {
    const deviceId = term.device.deviceId;
    await page.goto(`${t.url}/ui/devices/${deviceId}`);
    await page.getByRole('heading', { level: 1, name: 'Terminal PAX-0100-LIVECHART' }).waitFor();
    const battery = page.locator('figure[data-chart="Battery"]');
    const temperature = page.locator('figure[data-chart="Temperature"]');
    await battery.locator('.chart-plot canvas').waitFor();
    // The uPlot canvas has the line drawn on it, not only its axes.
    expect(await lineCoverage(battery)).toBeGreaterThan(0);
    await page.locator('.chart-live[data-state="live"]').waitFor();
    expect(t.server.parts.bus.healthWatch.wants(deviceId)).toBe(true);

    const before = Number(await battery.getAttribute('data-points'));
    expect(before).toBeGreaterThan(10);
    let historyRequests = 0;
    page.on('request', (r) => {
      if (r.url().includes('/health-history')) historyRequests++;
    });
    await page.evaluate(() => (window.stillHere = true));

    await term.health({ battery: { level: 42, charging: false }, temperatureC: 47.5, signal: { type: 'wifi', rssi: -77 }, printer: { status: 'ok' } });
    await page.locator('figure[data-chart="Battery"][data-latest="42"]').waitFor({ timeout: 10_000 });
    expect(Number(await battery.getAttribute('data-points'))).toBe(before + 1);
    await battery.locator('.chart-summary').filter({ hasText: 'Latest 42%' }).waitFor();
    expect(await temperature.getAttribute('data-latest')).toBe('47.5');
    expect(await page.locator('figure[data-chart="Signal"]').getAttribute('data-latest')).toBe('-77');

    // A second sample moves the line on again.
    await sleep(5);
    await term.health({ battery: { level: 41, charging: false }, temperatureC: 47, signal: { type: 'wifi', rssi: -75 } });
    await page.locator('figure[data-chart="Battery"][data-latest="41"]').waitFor({ timeout: 10_000 });
    expect(Number(await battery.getAttribute('data-points'))).toBe(before + 2);

    // No reload, and no history fetched again: the points came over the stream.
    expect(await page.evaluate(() => window.stillHere)).toBe(true);
    expect(historyRequests).toBe(0);
    await shot(page, 'device-live-chart');

    // Leaving the page ends the subscription: the server stops publishing this device's samples.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Faults' }).click();
    await page.getByRole('heading', { level: 1, name: 'Fault queue' }).waitFor();
    await eventually(async () => !t.server.parts.bus.healthWatch.wants(deviceId));
    expect(errors).toEqual([]);
  });
});
