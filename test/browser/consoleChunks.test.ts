// The console loads each page's chunk when its address is first shown (server/dashboard/bundle.ts,
// client/console/main.tsx): the map's chunk is fetched on the way to /ui/map, not by the overview;
// a page whose chunk is slow says "Loading…"; one whose chunk fails says to reload, and a reload
// brings it. Real server, Chromium.
import type { Page, Route } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, TEST_ADMIN_TOKEN, type TestServer } from '../helpers/testServer.ts';
import { openDashboardWindow, shot, signIn, type DashboardWindow } from './helpers.ts';

const TIMEOUT = 120_000;

describe('console chunks in the browser', { timeout: TIMEOUT }, () => {
  let t: TestServer;
  let ui: DashboardWindow | undefined;
  let page: Page;
  let errors: string[];
  /** Every script of /ui/assets/ the page asked for, by file name, in order. */
  const scripts: string[] = [];

  const nav = (name: string) => page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name, exact: true });

  beforeAll(async () => {
    t = await startTestServer();
    ui = await openDashboardWindow();
    ({ page, errors } = ui);
    page.on('request', (req) => {
      const path = new URL(req.url()).pathname;
      if (path.startsWith('/ui/assets/') && path.endsWith('.js')) scripts.push(path.slice('/ui/assets/'.length));
    });
  }, TIMEOUT);

  afterAll(async () => {
    await ui?.close();
    await t?.stop();
  });

  it('fetches the map page chunk on the way to /ui/map, not on the overview', async () => {
    await signIn(page, t.url, TEST_ADMIN_TOKEN);
    await page.locator('[data-stat="devices"]').waitFor();
    const overview = [...scripts];
    expect(overview).toContain('console.js');
    expect(overview.some((name) => name.startsWith('OverviewPage-'))).toBe(true);
    expect(overview.some((name) => name.startsWith('MapPage-'))).toBe(false);

    await page.evaluate(() => (window.stillHere = true));
    await nav('Map').click();
    await page.locator('.fleet-map[data-ready="true"]').waitFor({ timeout: 30_000 });
    const fetched = scripts.slice(overview.length);
    expect(fetched.filter((name) => name.startsWith('MapPage-'))).toHaveLength(1);
    expect(fetched.every((name) => !overview.includes(name))).toBe(true);
    expect(await page.evaluate(() => window.stillHere)).toBe(true);
    // Leaflet's stylesheet still applies: its pane is positioned by leaflet.css.
    expect(
      await page
        .locator('.leaflet-pane')
        .first()
        .evaluate((el) => getComputedStyle(el).position),
    ).toBe('absolute');
    expect(errors).toEqual([]);
    await shot(page, 'chunks-01-map');
  });

  it('says "Loading…" while a page chunk is on its way', async () => {
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    const hold = async (route: Route) => {
      await held;
      await route.continue();
    };
    await page.route(/\/ui\/assets\/AuditPage-[\w-]+\.js$/, hold);
    await nav('Audit').click();
    await page.locator('#view .view-body[aria-busy="true"] [role="status"]').filter({ hasText: 'Loading…' }).waitFor();
    await shot(page, 'chunks-02-loading');
    release();
    await page.getByRole('button', { name: 'Verify chain' }).waitFor();
    expect(await page.getByText('Loading…').count()).toBe(0);
    await page.unroute(/\/ui\/assets\/AuditPage-[\w-]+\.js$/, hold);
  });

  it('says to reload when a page chunk fails, and the reload brings the page', async () => {
    const fail = (route: Route) => route.abort('connectionreset');
    await page.route(/\/ui\/assets\/UsersPage-[\w-]+\.js$/, fail);
    await nav('Users').click();
    const alert = page.getByRole('alert').filter({ hasText: 'Reload the page to try again' });
    await alert.waitFor();
    await shot(page, 'chunks-03-failed');
    await page.unroute(/\/ui\/assets\/UsersPage-[\w-]+\.js$/, fail);
    await alert.getByRole('button', { name: 'Reload' }).click();
    await page.getByRole('heading', { level: 1, name: 'Users and tokens' }).waitFor();
    await page.getByRole('heading', { name: 'Your API tokens' }).waitFor();
    expect(await alert.count()).toBe(0);
  });
});
