// Maintenance windows on the console's campaigns page, in Chromium against a real server: one set
// for the root organisation through the form (listed, and stored as the API reads it), a form with
// no day refused on the page before anything is sent, and the window removed after a confirmation.
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, TEST_ADMIN_TOKEN, type TestServer } from '../helpers/testServer.ts';
import { openDashboardWindow, shot, signIn, type DashboardWindow } from './helpers.ts';

const TIMEOUT = 120_000;

describe('console maintenance windows in the browser', { timeout: TIMEOUT }, () => {
  let t: TestServer;
  let ui: DashboardWindow | undefined;
  let page: Page;
  const stored = async () =>
    (
      await t.api<{ items: { id: string; scope: string; targetId: string; days: number[]; start: string; end: string }[] }>(
        'GET',
        '/v1/maintenance-windows',
      )
    ).body.items;

  beforeAll(async () => {
    t = await startTestServer();
    ui = await openDashboardWindow();
    page = ui.page;
    await signIn(page, t.url, TEST_ADMIN_TOKEN, '/ui/rollouts');
  }, TIMEOUT);

  afterAll(async () => {
    await ui?.close();
    await t?.stop();
  }, TIMEOUT);

  it('sets a window for the organisation, refuses one with no day, and removes it after asking', async () => {
    const section = page.locator('section.maintenance-windows');
    await section.getByText('No maintenance window').waitFor();
    await section.getByLabel('Set for').selectOption('org');
    await section.getByLabel('Merchant, group or organisation id').fill('org_root');
    await section.getByLabel('Sat', { exact: true }).check();
    await section.getByRole('button', { name: 'Set window' }).click();
    await section.locator('tr[data-window-id]').waitFor();
    expect(await section.locator('tr[data-window-id] td').allTextContents()).toEqual([
      'org org_root',
      'Mon, Tue, Wed, Thu, Fri, Sat',
      '22:00–04:00',
      'Remove',
    ]);
    expect(await stored()).toMatchObject([{ scope: 'org', targetId: 'org_root', days: [1, 2, 3, 4, 5, 6], start: '22:00', end: '04:00' }]);
    await shot(page, 'maintenance-01-set');

    for (const day of ['Mon', 'Tue', 'Wed', 'Thu', 'Fri']) await section.getByLabel(day, { exact: true }).uncheck();
    await section.getByLabel('Sat', { exact: true }).uncheck();
    await section.getByRole('button', { name: 'Set window' }).click();
    await section.getByRole('alert').waitFor();
    expect(await section.getByRole('alert').textContent()).toContain('days');
    expect(await stored()).toHaveLength(1);

    await section.getByRole('button', { name: 'Remove' }).click();
    const dialog = page.getByRole('dialog', { name: 'Remove this maintenance window?' });
    await dialog.getByRole('button', { name: 'Remove' }).click();
    await section.getByText('No maintenance window').waitFor();
    expect(await stored()).toEqual([]);
    expect(ui!.errors).toEqual([]);
  });
});
