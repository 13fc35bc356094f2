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
    await page.locator('.opblock').first().waitFor({ state: 'visible', timeout: 30_000 });
    const operations = await page
      .locator('.opblock-summary')
      .evaluateAll((els) =>
        els.map(
          (el) =>
            `${el.querySelector('.opblock-summary-method')?.textContent?.trim()} ${el.querySelector('.opblock-summary-path')?.getAttribute('data-path')}`,
        ),
      );
    for (const op of [
      'GET /healthz',
      'GET /readyz',
      'GET /metrics',
      'GET /v1/stream',
      'POST /v1/devices',
      'POST /v1/devices/{id}/commands',
    ]) {
      expect(operations, op).toContain(op);
    }
    await expect.poll(() => page.locator('.info .title').textContent()).toContain('posfleet control plane');
    await shot(page, 'api-docs-offline', { fullPage: false });
    expect(blocked).toEqual([]);
    expect(errors).toEqual([]);
    await context.close();
  });
});
