// The console's export buttons in Chromium against a real server: the device list and the fault
// queue download the server's streamed CSV with the filters the page shows (a search, a serial),
// saved as a file whose rows are exactly the filtered ones.
import { readFileSync } from 'node:fs';
import { sql } from 'drizzle-orm';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deviceExportRow, faultExportRow } from '../../server/exports/rowSchemas.ts';
import { startTestServer, TEST_ADMIN_TOKEN, type TestServer } from '../helpers/testServer.ts';
import { openDashboardWindow, shot, signIn, type DashboardWindow } from './helpers.ts';

const TIMEOUT = 120_000;

describe('console exports in the browser', { timeout: TIMEOUT }, () => {
  let t: TestServer;
  let ui: DashboardWindow | undefined;
  let page: Page;
  const serials = ['EXPUI-NORTH-1', 'EXPUI-NORTH-2', 'EXPUI-SOUTH-3'];

  beforeAll(async () => {
    t = await startTestServer();
    for (const [i, serial] of serials.entries()) {
      const d = await t.api<{ id: string }>('POST', '/v1/devices', { serial, model: 'PAX-A920' });
      expect(d.status, d.text).toBe(201);
      // Faults are opened by rules on telemetry; these are laid directly as a rule would.
      await t.server.parts.db.execute(
        sql`insert into faults (id, device_id, code, title, severity, severity_rank, state, opened_at) values (${`flt_ExpUi${i}00000000000`}, ${d.body.id}, 'paper_out', 'Paper out', 'warning', 1, 'open', now())`,
      );
    }
    ui = await openDashboardWindow();
    page = ui.page;
    await signIn(page, t.url, TEST_ADMIN_TOKEN, '/ui/devices?q=EXPUI-NORTH');
  }, TIMEOUT);

  afterAll(async () => {
    await ui?.close();
    await t?.stop();
  }, TIMEOUT);

  async function downloaded(): Promise<{ name: string; lines: string[] }> {
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export CSV' }).click()]);
    const path = await download.path();
    return { name: download.suggestedFilename(), lines: readFileSync(path, 'utf8').trim().split(/\r?\n/) };
  }

  it('downloads the device list as the filtered CSV', async () => {
    await page.getByText('2 terminals match.').waitFor();
    const file = await downloaded();
    expect(file.name).toBe('devices.csv');
    expect(file.lines[0]).toBe(Object.keys(deviceExportRow.shape).join(','));
    expect(
      file.lines
        .slice(1)
        .map((l) => l.split(',')[1])
        .sort(),
    ).toEqual(['EXPUI-NORTH-1', 'EXPUI-NORTH-2']);
    await shot(page, 'exports-01-devices');
  });

  it('downloads the fault queue filtered by serial', async () => {
    await page.goto(`${t.url}/ui/faults?serial=SOUTH`);
    await page.locator('p.fault-count[data-total="1"]').waitFor();
    const file = await downloaded();
    expect(file.name).toBe('faults.csv');
    const header = file.lines[0]!.split(',');
    expect(header).toEqual(Object.keys(faultExportRow.shape));
    expect(file.lines.length).toBe(2);
    expect(file.lines[1]!.split(',')[header.indexOf('serial')]).toBe('EXPUI-SOUTH-3');
    expect(ui!.errors).toEqual([]);
  });
});
