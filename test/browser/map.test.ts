// The console map on a closed network: Chromium may reach only the server itself. Real server,
// terminals over real MQTT reporting their position in health, a merchant with a geofence. The
// basemap (Natural Earth countries from the world-atlas package), the markers and the fence are
// drawn; a marker's popup links to its device page; the merchant filter and the empty state;
// presence followed live.
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/eventually.ts';
import { startTestServer, TEST_ADMIN_TOKEN, type TestServer } from '../helpers/testServer.ts';
import { activeMerchant, createUser, uniqueTid } from '../merchants/helpers.ts';
import { ARTIFACTS, fakeTerminal, openDashboardWindow, shot, signIn, type DashboardWindow, type FakeTerminal } from './helpers.ts';

const TIMEOUT = 120_000;
const PARIS = { lat: 48.8566, lon: 2.3522 };

describe('console map', { timeout: TIMEOUT }, () => {
  let t: TestServer;
  let ui: DashboardWindow | undefined;
  let page: Page;
  let errors: string[];
  const blocked: string[] = [];
  const terminals: FakeTerminal[] = [];
  let cafe: { id: string };
  let bakery: { id: string };
  let inside: FakeTerminal;
  let nearby: FakeTerminal;

  const terminal = async (serial: string) => {
    const term = await fakeTerminal(t, { serial });
    terminals.push(term);
    return term;
  };
  const located = (deviceId: string) =>
    eventually(
      async () => {
        const d = await t.api<{ health: { location?: unknown } | null; online: boolean }>('GET', `/v1/devices/${deviceId}`);
        return d.body.health?.location ? d.body : null;
      },
      { what: `a location for ${deviceId}`, stepMs: 200 },
    );

  beforeAll(async () => {
    t = await startTestServer();
    const approver = await createUser(t, 'admin');
    cafe = await activeMerchant(t, approver, { name: 'Café de la Carte', location: PARIS, radiusM: 300 });
    bakery = await activeMerchant(t, approver, { name: 'Boulangerie Vide', location: { lat: 45.764, lon: 4.8357 }, radiusM: 500 });

    inside = await terminal('MAP-IN-0001');
    nearby = await terminal('MAP-NEAR-0002');
    await terminal('MAP-NOWHERE-0003'); // reports no location: counted, not drawn
    expect((await t.api('PUT', `/v1/devices/${inside.device.deviceId}/binding`, { merchantId: cafe.id, tid: uniqueTid() })).status).toBe(
      200,
    );
    await inside.health({ location: { lat: 48.8569, lon: 2.3527, accuracyM: 15, source: 'gps' } });
    await nearby.health({ location: { lat: 48.8635, lon: 2.3612, accuracyM: 30, source: 'wifi' } });
    await located(inside.device.deviceId);
    await located(nearby.device.deviceId);
    // The second terminal goes offline: its last position stays on the map, in the offline colour.
    await nearby.close();
    await eventually(async () => !(await t.api<{ online: boolean }>('GET', `/v1/devices/${nearby.device.deviceId}`)).body.online, {
      what: 'the closed terminal offline',
      stepMs: 200,
    });

    ui = await openDashboardWindow();
    ({ page, errors } = ui);
    // Two walls: the page's CSP refuses other origins (a console error, in `errors`), and this route
    // aborts and records any request that got past it.
    const own = new URL(t.url).origin;
    await ui.context.route('**/*', (route) => {
      const url = route.request().url();
      if (new URL(url).origin === own || url.startsWith('data:')) return route.continue();
      blocked.push(url);
      return route.abort('internetdisconnected');
    });
    await signIn(page, t.url, TEST_ADMIN_TOKEN);
  }, TIMEOUT);

  afterAll(async () => {
    for (const term of terminals) await term.close().catch(() => undefined);
    await ui?.close();
    await t?.stop();
  });

  const marker = (deviceId: string) => page.locator(`.fleet-map path[data-device-id="${deviceId}"]`);
  const fence = (merchantId: string) => page.locator(`.fleet-map path.map-fence[data-merchant-id="${merchantId}"]`);
  /** The map has loaded everything for this merchant filter ('' for none). */
  const mapReady = (merchantId = '') =>
    page.locator(`.fleet-map[data-ready="true"][data-fit-key="${merchantId}"]`).waitFor({ timeout: 30_000 });

  it('draws the offline basemap, the terminals by presence and the geofences', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Map' }).click();
    await page.getByRole('heading', { level: 1, name: 'Map of terminals and geofences' }).waitFor();
    await mapReady();

    // Natural Earth at 1:110m has 177 countries, each an SVG path; under the terminals lies France.
    expect(await page.locator('.fleet-map path.map-country').count()).toBeGreaterThan(150);
    // Countries and markers share one SVG, so a marker's centre is a point of the countries' space.
    const onLand = await marker(inside.device.deviceId).evaluate((el) => {
      if (!(el instanceof SVGGeometryElement)) return false;
      const b = el.getBBox();
      const centre = new DOMPoint(b.x + b.width / 2, b.y + b.height / 2);
      return [...document.querySelectorAll('.fleet-map path.map-country')].some(
        (c) => c instanceof SVGGeometryElement && c.isPointInFill(centre),
      );
    });
    expect(onLand).toBe(true);

    await expect.poll(() => marker(inside.device.deviceId).getAttribute('data-presence')).toBe('online');
    await expect.poll(() => marker(nearby.device.deviceId).getAttribute('data-presence')).toBe('offline');
    await fence(cafe.id).waitFor({ state: 'visible' });
    await expect.poll(() => fence(cafe.id).evaluate((el) => el.getBoundingClientRect().width)).toBeGreaterThan(10);
    await expect(page.locator('.map-status').textContent()).resolves.toBe('2 terminals on the map; 1 report no location yet.');

    // The text alternative lists the terminals in view, not the one without a location.
    const rows = page.locator('table.map-table tbody tr[data-device-id]');
    await expect
      .poll(() => rows.evaluateAll((trs) => trs.map((tr) => tr.querySelector('td')?.textContent).sort()))
      .toEqual(['MAP-IN-0001', 'MAP-NEAR-0002']);
    await expect(page.locator(`table.map-table tr[data-device-id="${inside.device.deviceId}"]`).textContent()).resolves.toContain(
      'Café de la Carte',
    );
    await shot(page, 'map-fence', { fullPage: false });

    // Zoomed out to a country's scale, the basemap shows its borders: several countries drawn in view.
    const zoomOut = page.getByRole('button', { name: 'Zoom out' });
    const zoom = async () => Number(await page.locator('.fleet-map').getAttribute('data-zoom'));
    while ((await zoom()) > 6) {
      const before = await zoom();
      await zoomOut.click();
      await expect.poll(zoom).toBeLessThan(before);
    }
    const countriesInView = () =>
      page.locator('.fleet-map path.map-country').evaluateAll((els) => els.filter((el) => el.getBoundingClientRect().width > 20).length);
    await expect.poll(countriesInView, { timeout: 10_000 }).toBeGreaterThanOrEqual(4);
    // At this scale the two terminals, a kilometre apart, would overlap: one cluster of 2, one of them offline.
    const cluster = page.locator('.fleet-map .map-cluster');
    await expect.poll(() => cluster.allTextContents()).toEqual(['2']);
    expect(await cluster.getAttribute('title')).toBe('2 terminals, 1 not online: zoom in');
    expect(await page.locator('.fleet-map path[data-device-id]').count()).toBe(0);
    await page.locator('.fleet-map').scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(ARTIFACTS, 'map.png') });
    await cluster.click();
    await marker(inside.device.deviceId).waitFor({ state: 'visible' });
    await marker(nearby.device.deviceId).waitFor({ state: 'visible' });
    expect(blocked).toEqual([]);
    expect(errors).toEqual([]);
  });

  it('opens a popup for a marker and follows its link to the device page', async () => {
    await page.goto(`${t.url}/ui/map`);
    await mapReady();
    await marker(inside.device.deviceId).click();
    const popup = page.locator(`.leaflet-popup .map-popup[data-device-id="${inside.device.deviceId}"]`);
    await popup.waitFor({ state: 'visible' });
    await expect.poll(() => popup.evaluate((el) => getComputedStyle(el.closest('.leaflet-popup') ?? el).opacity)).toBe('1');
    const text = await popup.textContent();
    expect(text).toContain('MAP-IN-0001');
    expect(text).toContain('Merchant: Café de la Carte');
    expect(text).toContain('online · enrolled');
    await shot(page, 'map-popup', { fullPage: false });
    await popup.getByRole('link', { name: 'Open device page' }).click();
    await page.waitForURL(`${t.url}/ui/devices/${inside.device.deviceId}`);
    await page.getByRole('heading', { level: 1, name: 'Terminal MAP-IN-0001' }).waitFor();
    expect(blocked).toEqual([]);
    expect(errors).toEqual([]);
  });

  it('filters by merchant (kept in the address) and says when no terminal of it reports a location', async () => {
    await page.goto(`${t.url}/ui/map`);
    await mapReady();
    await page.getByLabel('Merchant', { exact: true }).selectOption({ label: 'Café de la Carte' });
    await page.waitForURL(`${t.url}/ui/map?merchantId=${cafe.id}`);
    await mapReady(cafe.id);
    await marker(inside.device.deviceId).waitFor({ state: 'visible' });
    await expect.poll(() => marker(nearby.device.deviceId).count()).toBe(0);
    await expect.poll(() => fence(bakery.id).count()).toBe(0);
    expect(await fence(cafe.id).count()).toBe(1);

    await page.getByLabel('Merchant', { exact: true }).selectOption({ label: 'Boulangerie Vide' });
    await mapReady(bakery.id);
    await page.getByRole('status').filter({ hasText: 'No terminal of this merchant reports a location yet.' }).waitFor();
    await fence(bakery.id).waitFor();
    expect(await page.locator('.fleet-map path[data-device-id]').count()).toBe(0);
    await expect(page.locator('table.map-table td.empty').textContent()).resolves.toContain('No terminal in view');
    await shot(page, 'map-empty', { fullPage: false });

    expect(blocked).toEqual([]);
    expect(errors).toEqual([]);
  });

  it('recolours a marker when its terminal comes back online, without a reload', async () => {
    await page.goto(`${t.url}/ui/map`);
    await mapReady();
    await expect.poll(() => marker(nearby.device.deviceId).getAttribute('data-presence')).toBe('offline');
    await page.evaluate(() => (window.stillHere = true));
    await nearby.reconnect();
    await expect.poll(() => marker(nearby.device.deviceId).getAttribute('data-presence'), { timeout: 15_000 }).toBe('online');
    await expect
      .poll(() =>
        page.locator(`table.map-table tr[data-device-id="${nearby.device.deviceId}"] [data-presence]`).getAttribute('data-presence'),
      )
      .toBe('online');
    expect(await page.evaluate(() => window.stillHere)).toBe(true);
    expect(blocked).toEqual([]);
    expect(errors).toEqual([]);
  });
});
