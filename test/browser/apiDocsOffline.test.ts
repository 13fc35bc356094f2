// /docs on a closed network: Chromium may reach only the server itself; Swagger UI must still
// render the operations from /openapi.json, including the ops routes and the live stream.
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/testServer.ts';
import { launchBrowser, shot, watchConsole } from './helpers.ts';

describe('API docs with no internet', { timeout: 120_000 }, () => {
  let t: TestServer;
  let browser: Browser;

  beforeAll(async () => {
    t = await startTestServer();
    browser = await launchBrowser();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await t?.stop();
  });

  it('renders every operation from files the server serves itself', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const errors = watchConsole(page);
    const blocked: string[] = [];
    const own = new URL(t.url).origin;
    await context.route('**/*', (route) => {
      const url = route.request().url();
      if (new URL(url).origin === own) return route.continue();
      blocked.push(url);
      return route.abort('internetdisconnected');
    });

    await page.goto(`${t.url}/docs`);
    // Tags open collapsed (server/ops/swaggerUi.ts): every tag is listed, and those read here are opened.
    await page.locator('.opblock-tag').first().waitFor({ state: 'visible', timeout: 30_000 });
    const tags = await page.locator('.opblock-tag').evaluateAll((els) => els.map((el) => el.getAttribute('data-tag')));
    expect(tags).toEqual(expect.arrayContaining(['operations', 'events', 'devices', 'commands', 'apps', 'app-deployments']));
    for (const tag of ['operations', 'events', 'devices', 'commands']) await page.locator(`.opblock-tag[data-tag="${tag}"]`).click();
    const operations = () =>
      page
        .locator('.opblock-summary')
        .evaluateAll((els) =>
          els.map(
            (el) =>
              `${el.querySelector('.opblock-summary-method')?.textContent?.trim()} ${el.querySelector('.opblock-summary-path')?.getAttribute('data-path')}`,
          ),
        );
    await expect
      .poll(operations, { timeout: 30_000 })
      .toEqual(
        expect.arrayContaining([
          'GET /healthz',
          'GET /readyz',
          'GET /metrics',
          'GET /v1/stream',
          'POST /v1/devices',
          'POST /v1/devices/{id}/commands',
        ]),
      );
    await expect.poll(() => page.locator('.info .title').textContent()).toContain('posfleet control plane');
    await shot(page, 'api-docs-offline', { fullPage: false });
    expect(blocked).toEqual([]);
    expect(errors).toEqual([]);
    await context.close();
  });
});
