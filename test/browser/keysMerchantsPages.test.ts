// The keys and merchants pages in a real browser (Debian's chromium via playwright-core) against a
// real server, real agents over MQTT holding keys from a real key rotation, and two admins:
// the key inventory by KCV as the server records it, a BDK request the requester cannot approve
// (dual_control on screen) and a second admin approves; merchants created, reviewed, bound and
// re-bound under maker-checker. Screenshots: test-artifacts/browser/keys-*.png, merchants-*.png.
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FleetHandle } from '../../scripts/simulate/fleet.ts';
import { eventually } from '../helpers/eventually.ts';
import { startTestFleet } from '../helpers/fleet.ts';
import { startTestServer, TEST_ADMIN_TOKEN, type TestServer } from '../helpers/testServer.ts';
import { ARTIFACTS, launchBrowser, shot, signIn, watchConsole } from './helpers.ts';

const TIMEOUT = 180_000;

/** GET /v1/devices/{id}/keys, as far as this test reads it. */
interface KeyInventory {
  slots: { slot: string; version: number; kcv: string }[];
}

describe('keys and merchants pages in the browser', { timeout: TIMEOUT }, () => {
  let t: TestServer;
  let browser: Browser;
  let fleet: FleetHandle;
  let stateDir: string;
  let secondAdmin: { id: string; token: string };
  const deviceIds: string[] = [];

  /** A fresh desktop page signed in with `token` at `path`, its errors collected. */
  async function pageFor(token: string, path: string): Promise<{ page: Page; errors: string[]; close(): Promise<void> }> {
    const context = await browser.newContext({ viewport: { width: 1366, height: 900 }, colorScheme: 'light' });
    const page = await context.newPage();
    const errors = watchConsole(page);
    await signIn(page, t.url, token, path);
    return { page, errors, close: () => context.close() };
  }

  beforeAll(async () => {
    t = await startTestServer({ env: { CAMPAIGN_TICK_MS: '250' } });
    // This file's screenshots of this run only (other browser tests own the rest of the folder).
    if (existsSync(ARTIFACTS)) for (const f of readdirSync(ARTIFACTS)) if (/^(keys|merchants)-/.test(f)) rmSync(join(ARTIFACTS, f));
    browser = await launchBrowser();
    secondAdmin = (await t.api<{ id: string; token: string }>('POST', '/v1/users', { name: 'Bea Custodian', role: 'admin' })).body;
    ({ fleet, stateDir } = await startTestFleet(t, { devices: 3, prefix: 'KMP' }));
    for (const a of fleet.agents) deviceIds.push(a.deviceId!);
    // Keys from a real rotation: every terminal acks with the KCVs its agent computed.
    const rot = await t.api<{ id: string }>('POST', '/v1/key-rotations', {
      name: 'first load',
      usages: ['TPK', 'TAK'],
      target: { deviceIds },
      phases: [{ name: 'all', percent: 100 }],
      successThreshold: 100,
      errorThreshold: 0,
    });
    expect(rot.status, JSON.stringify(rot.body)).toBe(201);
    await t.api('POST', `/v1/key-rotations/${rot.body.id}/start`);
    await eventually(async () => (await t.api<{ state: string }>('GET', `/v1/key-rotations/${rot.body.id}`)).body.state === 'succeeded', {
      timeoutMs: 60_000,
      what: 'first key load succeeded',
    });
  }, TIMEOUT);

  afterAll(async () => {
    await browser?.close().catch(() => undefined);
    await fleet?.stop();
    await t?.stop();
    if (stateDir) rmSync(stateDir, { recursive: true, force: true });
  }, TIMEOUT);

  it('lists each terminal’s keys by version and KCV, and counts the versions across the fleet', async () => {
    const { page, errors, close } = await pageFor(TEST_ADMIN_TOKEN, '/ui/');
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Keys', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: 'Keys and dual control' }).waitFor();

    // The fleet-wide counts: the TMK came with the first load (version 1), then TPK and TAK v1.
    const versions = page.locator('table.key-versions-table');
    for (const slot of ['tmk', 'tpk', 'tak'])
      await versions.locator(`tr[data-slot="${slot}"][data-version="1"]`).filter({ hasText: '3' }).waitFor();
    expect(await versions.locator('tr[data-slot="tdk"]').count()).toBe(0);

    // Each terminal's row carries the KCVs the server recorded from its agent's ack.
    for (const id of deviceIds) {
      const inv = (await t.api<KeyInventory>('GET', `/v1/devices/${id}/keys`)).body;
      const row = page.locator(`table.key-inventory-table tr[data-device-id="${id}"]`);
      await row.waitFor();
      for (const s of inv.slots) {
        const cell = row.locator(`td[data-slot="${s.slot}"]`);
        expect(await cell.getAttribute('data-kcv')).toBe(s.kcv);
        expect(await cell.textContent()).toBe(`v${s.version} ${s.kcv}`);
        expect(s.kcv).toMatch(/^cmac:[0-9A-F]{6}$/);
      }
      expect(await row.locator('td[data-slot="tdk"]').count()).toBe(0);
    }
    await shot(page, 'keys-inventory');

    // A fleet query narrows the list on the server; nothing matches a version nobody has.
    await page.getByLabel('Fleet query').fill('keyVersion.tpk > 1');
    await page.getByRole('search', { name: 'Filter the key inventory' }).getByRole('button', { name: 'Apply' }).click();
    await page.getByText('No terminal matches.').waitFor();
    await versions.locator('tr[data-slot="tpk"][data-version="1"]').getByRole('button').click();
    expect(await page.getByLabel('Fleet query').inputValue()).toBe('keyVersion.tpk = 1');
    await page.locator('table.key-inventory-table tr[data-device-id]').nth(2).waitFor();
    expect(errors).toEqual([]);
    await close();
  });

  it('refuses the requester’s own approval with dual_control, and a second admin approves', async () => {
    const filed = await t.api<{ id: string }>('POST', '/v1/key-vault/requests', {
      action: 'bdk.generate',
      reason: 'Acquirer B goes live with AES DUKPT',
      name: 'acquirer-b',
      scheme: 'aes128',
    });
    expect(filed.status, JSON.stringify(filed.body)).toBe(201);

    const mine = await pageFor(TEST_ADMIN_TOKEN, '/ui/keys');
    await mine.page.getByText('No BDK yet.').waitFor();
    const row = mine.page.locator(`tr[data-request-id="${filed.body.id}"]`);
    await row.getByText('Acquirer B goes live with AES DUKPT').waitFor();
    await row.getByText('yours: another admin decides').waitFor();
    expect(await row.getByRole('cell').nth(3).textContent()).toBe('you');
    await row.getByRole('button', { name: 'Approve' }).click();
    await mine.page.getByRole('dialog', { name: 'Approve this bdk generation?' }).getByRole('button', { name: 'Approve' }).click();
    const refusal = mine.page.locator('.form-error[data-code="dual_control"]');
    await refusal.waitFor();
    expect(await refusal.textContent()).toBe('dual_control the approval must come from an admin other than the requester');
    await shot(mine.page, 'keys-dual-control-refused');
    expect((await t.api<{ state: string }>('GET', `/v1/key-vault/requests/${filed.body.id}`)).body.state).toBe('pending');

    // A technician sees the request and no decision to press.
    const technician = (await t.api<{ token: string }>('POST', '/v1/users', { name: 'Tess Technician', role: 'technician' })).body;
    const tech = await pageFor(technician.token, '/ui/keys');
    await tech.page.locator(`tr[data-request-id="${filed.body.id}"]`).getByText('Acquirer B goes live with AES DUKPT').waitFor();
    await tech.page.getByText('Decisions need the admin role; you can see what is waiting.').waitFor();
    expect(await tech.page.locator('table.dual-control-table button').count()).toBe(0);
    expect(tech.errors).toEqual([]);
    await tech.close();

    const other = await pageFor(secondAdmin.token, '/ui/keys');
    const theirs = other.page.locator(`tr[data-request-id="${filed.body.id}"]`);
    const requester = (await t.api<{ name: string }>('GET', '/v1/me')).body.name;
    await theirs.getByRole('cell', { name: requester, exact: true }).waitFor();
    expect(await theirs.getByText('yours: another admin decides').count()).toBe(0);
    await theirs.getByRole('button', { name: 'Approve' }).click();
    await other.page.getByRole('dialog', { name: 'Approve this bdk generation?' }).getByRole('button', { name: 'Approve' }).click();
    // The BDK made by the approval: listed with the KCV the server reports, never a key.
    const bdks = await eventually(async () => {
      const r = await t.api<{ items: { id: string; name: string; kcv: string }[] }>('GET', '/v1/bdks');
      return r.body.items.length ? r.body.items : undefined;
    });
    await other.page.reload();
    const bdkRow = other.page.locator(`tr[data-bdk-id="${bdks[0]!.id}"]`);
    await bdkRow.getByText(bdks[0]!.kcv).waitFor();
    await bdkRow.getByText('acquirer-b').waitFor();
    await shot(other.page, 'keys-bdk-approved');
    expect(mine.errors).toEqual([]);
    expect(other.errors).toEqual([]);
    await mine.close();
    await other.close();
  });

  it('creates a merchant, has it reviewed by another admin, binds a terminal, and re-binds it under maker-checker', async () => {
    const maker = await pageFor(TEST_ADMIN_TOKEN, '/ui/merchants');
    const { page } = maker;
    await page.getByRole('heading', { level: 1, name: 'Merchants and re-binding approvals' }).waitFor();
    await page.getByText('No re-binding is waiting for approval.').waitFor();
    await page.getByText('No merchant is waiting for review.').waitFor();

    // A wrong MID is named before anything is sent.
    const fill = async (fields: Record<string, string>) => {
      for (const [label, value] of Object.entries(fields)) await page.getByLabel(label, { exact: true }).fill(value);
    };
    const merchantFields = (name: string, mid: string) => ({
      Name: name,
      'MID (15 digits)': mid,
      MCC: '5812',
      Address: `${name}, 2 Quai Voltaire`,
      Latitude: '48.8584',
      Longitude: '2.3324',
      'Fence radius (m)': '300',
      'Time zone': 'Europe/Paris',
      'Business licence no.': `BL-${mid}`,
      'Tax id': `TX-${mid}`,
    });
    await fill(merchantFields('Librairie Voltaire', '12345'));
    await page.getByRole('button', { name: 'Create merchant' }).click();
    await page.getByText('mid: 15 digits').waitFor();
    await page.getByLabel('MID (15 digits)', { exact: true }).fill('200000000000001');
    await page.getByRole('button', { name: 'Create merchant' }).click();
    const review = page.locator('tr[data-merchant-id]').filter({ hasText: 'Librairie Voltaire' });
    await review.waitFor();
    // Its creator cannot approve it.
    expect(await review.getByRole('button', { name: /^Approve/ }).isDisabled()).toBe(true);
    await review.getByText('you filed this yourself; another admin decides').waitFor();
    const listed = await eventually(async () => {
      const r = await t.api<{ items: { id: string; status: string }[] }>('GET', '/v1/merchants?q=Voltaire');
      return r.body.items[0];
    });
    expect(listed.status).toBe('pending_review');
    // A second merchant, approved through the API, owns the terminals at first.
    await fill(merchantFields('Tabac du Pont', '200000000000002'));
    await page.getByRole('button', { name: 'Create merchant' }).click();
    await page.locator('tr[data-merchant-id]').filter({ hasText: 'Tabac du Pont' }).waitFor();
    await shot(page, 'merchants-review-pending');

    const checker = await pageFor(secondAdmin.token, '/ui/merchants');
    for (const name of ['Librairie Voltaire', 'Tabac du Pont']) {
      const row = checker.page.locator('tr[data-merchant-id]').filter({ hasText: name });
      await row.getByRole('button', { name: /^Approve/ }).click();
      const dlg = checker.page.getByRole('dialog', { name: 'Approve merchant?' });
      await dlg.getByLabel('Note (optional)').fill('Documents checked.');
      await dlg.getByRole('button', { name: 'Approve' }).click();
      await row.waitFor({ state: 'detached' });
    }
    await checker.page.getByText('No merchant is waiting for review.').waitFor();

    // The merchant page: no terminal yet, then one bound by serial and TID.
    const merchants = (await t.api<{ items: { id: string; name: string; status: string }[] }>('GET', '/v1/merchants')).body.items;
    const voltaire = merchants.find((m) => m.name === 'Librairie Voltaire')!;
    const tabac = merchants.find((m) => m.name === 'Tabac du Pont')!;
    expect([voltaire.status, tabac.status]).toEqual(['active', 'active']);
    await page.goto(`${t.url}/ui/merchants/${tabac.id}`);
    await page.getByRole('heading', { level: 1, name: 'Merchant Tabac du Pont' }).waitFor();
    await page.getByText('No terminal is bound to this merchant.').waitFor();
    const serial = fleet.agents[0]!.serial;
    const deviceId = fleet.agents[0]!.deviceId!;
    await page.getByLabel('Terminal serial').fill(serial);
    await page.getByLabel('TID').fill('TID00042');
    await page.getByRole('button', { name: 'Bind', exact: true }).click();
    const terminal = page.locator(`table.merchant-terminals-table tr[data-device-id="${deviceId}"]`);
    await terminal.waitFor();
    const binding = await t.api<{ binding: { merchantId: string; tid: string } }>('GET', `/v1/devices/${deviceId}/binding`);
    expect(binding.body.binding).toMatchObject({ merchantId: tabac.id, tid: 'TID00042' });
    await shot(page, 'merchants-page-bound');

    // Bound already: binding it to the other merchant is refused with the API's code; a re-binding is filed.
    await page.goto(`${t.url}/ui/merchants/${voltaire.id}`);
    await page.getByRole('heading', { level: 1, name: 'Merchant Librairie Voltaire' }).waitFor();
    await page.getByLabel('Terminal serial').fill(serial);
    await page.getByLabel('TID').fill('TID00043');
    await page.getByRole('button', { name: 'Bind', exact: true }).click();
    await page.locator('.form-error[data-code="binding_locked"]').waitFor();
    await page.getByLabel('Terminal serial').fill(serial);
    await page.getByLabel('TID').fill('TID00043');
    await page.getByLabel('Reason (re-binding only)').fill('The kiosk moved to the bookshop');
    await page.getByRole('button', { name: 'Request re-binding' }).click();
    const request = page.locator('tr[data-request-id]').filter({ hasText: 'The kiosk moved to the bookshop' });
    await request.waitFor();
    expect(await request.getByRole('button', { name: /^Approve/ }).isDisabled()).toBe(true);

    // The checker approves it from the merchants page; the terminal moves, as the API says.
    await checker.page.reload();
    const pending = checker.page.locator('tr[data-request-id]').filter({ hasText: 'The kiosk moved to the bookshop' });
    await pending.getByRole('link', { name: serial }).waitFor();
    await pending.getByRole('button', { name: /^Approve/ }).click();
    const dlg = checker.page.getByRole('dialog', { name: 'Approve re-binding?' });
    await dlg.getByRole('button', { name: 'Approve' }).click();
    await checker.page.getByText('No re-binding is waiting for approval.').waitFor();
    const moved = await t.api<{ binding: { merchantId: string; tid: string } }>('GET', `/v1/devices/${deviceId}/binding`);
    expect(moved.body.binding).toMatchObject({ merchantId: voltaire.id, tid: 'TID00043' });
    await page.reload();
    await page.locator(`table.merchant-terminals-table tr[data-device-id="${deviceId}"]`).getByRole('link', { name: serial }).click();
    await page.waitForURL(`**/ui/devices/${deviceId}`);
    await shot(checker.page, 'merchants-rebind-approved');
    expect(maker.errors).toEqual([]);
    expect(checker.errors).toEqual([]);
    await maker.close();
    await checker.close();
  });
});
