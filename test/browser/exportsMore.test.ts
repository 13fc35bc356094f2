// The console's other export buttons in Chromium against a real server: the key inventory (the
// page's serial filter, KCVs and never a key), a key rotation's per-terminal results (the page's
// state filter, error code and message) and the audit log (the page's action filter) download the
// server's CSV, each a file whose header is the export's row schema and whose rows are exactly the
// filtered ones. Screenshots: test-artifacts/browser/exports-1x-*.png.
import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { sql } from 'drizzle-orm';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { campaignDevices } from '../../schemas/tables/campaigns.ts';
import { keys } from '../../schemas/tables/keys.ts';
import { auditExportRow, campaignMemberExportRow, columnsOf, keyExportRow } from '../../server/exports/rowSchemas.ts';
import { startTestServer, TEST_ADMIN_TOKEN, type TestServer } from '../helpers/testServer.ts';
import { openDashboardWindow, shot, signIn, type DashboardWindow } from './helpers.ts';

const TIMEOUT = 120_000;
/** Stands for the vault's ciphertext: it must appear in no export. */
const SEALED = 'U0VBTEVELUtFWS1NQVRFUklBTC1ET05PVEVYUE9SVA==';

describe('console exports of keys, campaign results and the audit log in the browser', { timeout: TIMEOUT }, () => {
  let t: TestServer;
  let ui: DashboardWindow | undefined;
  let page: Page;
  const ids: Record<string, string> = {};
  const serials = ['EXPK-NORTH-1', 'EXPK-NORTH-2', 'EXPK-SOUTH-3'];

  beforeAll(async () => {
    t = await startTestServer();
    const db = t.server.parts.db;
    for (const serial of serials) {
      const d = await t.api<{ id: string }>('POST', '/v1/devices', { serial, model: 'PAX-A920' });
      expect(d.status, d.text).toBe(201);
      ids[serial] = d.body.id;
    }
    // Keys as a rotation leaves them, laid directly: each with its KCV and vault ciphertext.
    const key = (id: string, serial: string, slot: string, version: number, state: 'installed' | 'superseded') => ({
      id,
      deviceId: ids[serial]!,
      usage: slot === 'tmk' ? ('TMK' as const) : ('TPK' as const),
      slot,
      version,
      state,
      kcv: `cmac:${id.slice(-6).toUpperCase()}`,
      sealed: SEALED,
      masterGen: 1,
    });
    await db
      .insert(keys)
      .values([
        key('key_expui_aaaaaa', 'EXPK-NORTH-1', 'tmk', 1, 'superseded'),
        key('key_expui_bbbbbb', 'EXPK-NORTH-1', 'tmk', 2, 'installed'),
        key('key_expui_cccccc', 'EXPK-NORTH-2', 'pin', 1, 'installed'),
        key('key_expui_dddddd', 'EXPK-SOUTH-3', 'tmk', 1, 'installed'),
      ]);
    ui = await openDashboardWindow();
    page = ui.page;
    await signIn(page, t.url, TEST_ADMIN_TOKEN, '/ui/keys');
  }, TIMEOUT);

  afterAll(async () => {
    await ui?.close();
    await t?.stop();
  }, TIMEOUT);

  async function downloaded(): Promise<{ name: string; text: string; header: string[]; rows: Record<string, string>[] }> {
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export CSV' }).click()]);
    const text = readFileSync(await download.path(), 'utf8');
    const [header = [], ...records]: string[][] = parse(text);
    const rows = records.map((r) => Object.fromEntries(header.map((h, i) => [h, r[i] ?? ''])));
    return { name: download.suggestedFilename(), text, header, rows };
  }

  it('downloads the key inventory of the terminals the page filters, KCVs and no key material', async () => {
    await page.getByLabel('Serial').fill('EXPK-NORTH');
    await page.getByRole('search', { name: 'Filter the key inventory' }).getByRole('button', { name: 'Apply' }).click();
    await page.locator(`table.key-inventory-table tr[data-device-id="${ids['EXPK-NORTH-2']}"]`).waitFor();
    await page.locator(`table.key-inventory-table tr[data-device-id="${ids['EXPK-SOUTH-3']}"]`).waitFor({ state: 'detached' });
    const file = await downloaded();
    expect(file.name).toBe('keys.csv');
    expect(file.header).toEqual(columnsOf(keyExportRow));
    expect(file.rows.map((r) => [r.id, r.serial, r.slot, r.version, r.state, r.kcv])).toEqual([
      ['key_expui_aaaaaa', 'EXPK-NORTH-1', 'tmk', '1', 'superseded', 'cmac:AAAAAA'],
      ['key_expui_bbbbbb', 'EXPK-NORTH-1', 'tmk', '2', 'installed', 'cmac:BBBBBB'],
      ['key_expui_cccccc', 'EXPK-NORTH-2', 'pin', '1', 'installed', 'cmac:CCCCCC'],
    ]);
    expect(file.text).not.toContain(SEALED);
    expect(file.text).not.toContain('sealed');
    await shot(page, 'exports-11-keys');
    expect(ui!.errors).toEqual([]);
  });

  it("downloads a key rotation's per-terminal results with the state the page filters", async () => {
    const db = t.server.parts.db;
    await db.execute(sql`update devices set status = 'enrolled' where serial like 'EXPK-%'`);
    const rotation = await t.api<{ id: string }>('POST', '/v1/key-rotations', {
      name: 'pin key renewal',
      usages: ['TPK'],
      target: { deviceIds: Object.values(ids) },
      phases: [{ name: 'all', percent: 100 }],
      successThreshold: 100,
      errorThreshold: 100,
    });
    expect(rotation.status, rotation.text).toBe(201);
    const id = rotation.body.id;
    // Its results as a finished rotation leaves them: one terminal succeeded, two failed.
    await db.execute(sql`update campaigns set state = 'failed', started_at = now(), finished_at = now() where id = ${id}`);
    const member = (serial: string, rank: number, state: 'succeeded' | 'failed', error?: { code: string; message: string }) => ({
      campaignId: id,
      deviceId: ids[serial]!,
      lane: 'keys',
      phase: 0,
      rank,
      state,
      active: false,
      error,
    });
    await db
      .insert(campaignDevices)
      .values([
        member('EXPK-NORTH-1', 0.1, 'succeeded'),
        member('EXPK-NORTH-2', 0.2, 'failed', { code: 'kcv_mismatch', message: 'the terminal computed another check value' }),
        member('EXPK-SOUTH-3', 0.3, 'failed', { code: 'no_tmk', message: 'no TMK, install one first' }),
      ]);

    await page.goto(`${t.url}/ui/key-rotations/${id}?state=failed`);
    await page.locator('tr.member-row[data-state="failed"]').nth(1).waitFor();
    expect(await page.locator('tr.member-row').count()).toBe(2);
    const file = await downloaded();
    expect(file.name).toBe(`campaign-${id}-devices.csv`);
    expect(file.header).toEqual(columnsOf(campaignMemberExportRow));
    expect(file.rows.map((r) => [r.campaignId, r.serial, r.state, r.errorCode, r.errorMessage]).sort()).toEqual([
      [id, 'EXPK-NORTH-2', 'failed', 'kcv_mismatch', 'the terminal computed another check value'],
      [id, 'EXPK-SOUTH-3', 'failed', 'no_tmk', 'no TMK, install one first'],
    ]);
    await shot(page, 'exports-12-campaign');
    expect(ui!.errors).toEqual([]);
  });

  it('downloads the audit entries of the action the page filters, oldest first', async () => {
    const made: string[] = [];
    for (const name of ['Ada Export', 'Ben Export']) {
      const user = await t.api<{ id: string }>('POST', '/v1/users', { name, role: 'operator' });
      expect(user.status, user.text).toBe(201);
      made.push(user.body.id);
    }
    await page.goto(`${t.url}/ui/audit?action=user.create`);
    await page.locator('table.audit-table tr[data-action="user.create"]').nth(1).waitFor();
    const file = await downloaded();
    expect(file.name).toBe('audit.csv');
    expect(file.header).toEqual(columnsOf(auditExportRow));
    expect(file.rows.map((r) => [r.action, r.target])).toEqual(made.map((target) => ['user.create', target]));
    expect(Number(file.rows[0]!.seq)).toBeLessThan(Number(file.rows[1]!.seq));
    await shot(page, 'exports-13-audit');
    expect(ui!.errors).toEqual([]);
  });
});
