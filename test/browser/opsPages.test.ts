// The console's operations pages end to end (issue #14 item 6), Chromium against a real server:
// a firmware image signed with the server's publisher key is published from its signing tool's
// file and listed ready, an app package too; a manifest signed by an unknown key is refused with
// bad_signature shown, other bytes with hash_mismatch; the audit page lists the uploads and its
// Verify chain says the chain holds; a user is created, their token shown once and copied, a
// token issued for oneself, a second admin becomes a request that only another admin approves,
// and a user disabled after confirmation; the user requests page by 25 (Next, Previous, no row
// twice); each page fits a tablet. Screenshots:
// test-artifacts/browser/ops-*.png.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signAppManifest } from '../../scripts/sign-app.ts';
import { generatePublisherKey, signManifest } from '../../scripts/sign-firmware.ts';
import { signedImage } from '../firmware/signedImage.ts';
import { startTestServer, TEST_ADMIN_TOKEN, type TestServer } from '../helpers/testServer.ts';
import { openDashboardWindow, shot, signIn, type DashboardWindow } from './helpers.ts';

const TIMEOUT = 120_000;
const publisher = generatePublisherKey();
const stranger = generatePublisherKey(); // a key the server does not trust

// Playwright's web-first assertions live in @playwright/test; these poll the same way with vitest.
const POLL = { timeout: 15_000 };
const hasText = (loc: Locator, text: RegExp | string) => {
  const shown = expect.poll(async () => ((await loc.count()) ? ((await loc.first().textContent()) ?? '') : ''), POLL);
  return typeof text === 'string' ? shown.toBe(text) : shown.toMatch(text);
};
const hasAttr = (loc: Locator, name: string, value: string) =>
  expect.poll(async () => ((await loc.count()) ? loc.first().getAttribute(name) : null), POLL).toBe(value);
const hasCount = (loc: Locator, n: number) => expect.poll(() => loc.count(), POLL).toBe(n);

describe('operations pages in the browser', { timeout: TIMEOUT }, () => {
  let t: TestServer;
  let ui: DashboardWindow | undefined;
  let browser: Browser;
  let page: Page;
  let errors: string[];
  let files: string;

  beforeAll(async () => {
    t = await startTestServer({ env: { FIRMWARE_PUBLISHER_KEYS: publisher.publicKeyBase64 } });
    files = mkdtempSync(join(tmpdir(), 'posfleet-ops-'));
    ui = await openDashboardWindow();
    ({ browser, page, errors } = ui);
    await ui.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: t.url });
    await signIn(page, t.url, TEST_ADMIN_TOKEN);
  }, TIMEOUT);

  afterAll(async () => {
    await ui?.close();
    await t?.stop();
    if (files) rmSync(files, { recursive: true, force: true });
  });

  const nav = (name: string) => page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name, exact: true }).click();
  const upload = () => page.getByRole('button', { name: 'Register and upload' }).click();
  const imageFile = (name: string, buffer: Buffer) =>
    page.locator('#up-image').setInputFiles({ name, mimeType: 'application/octet-stream', buffer });

  it('publishes a signed firmware image and an app package, and shows the refusals with their codes', async () => {
    await nav('Firmware & apps');
    await page.getByRole('heading', { level: 1, name: 'Firmware and app packages' }).waitFor();
    await hasText(page.locator('.firmware-table td.empty'), /No firmware yet/);
    await page.getByText('npx tsx scripts/sign-firmware.ts sign', { exact: false }).waitFor();

    // The file sign-firmware writes, loaded as the operator would, and the image beside it.
    const fw = signedImage(publisher, 256 * 1024, '2.0.0');
    const signedPath = join(files, 'pos-os-2.0.0.json');
    writeFileSync(signedPath, `${JSON.stringify({ manifest: fw.manifest, signature: fw.signature }, null, 2)}\n`);
    await page.locator('#up-manifest-file').setInputFiles(signedPath);
    await hasText(page.locator('#up-manifest-read'), /Reads as: pos-os 2\.0\.0 for PAX-A920, 262,144 bytes/);
    await imageFile('pos-os-2.0.0.bin', fw.image);
    // Whether the progress bar showed, with the image's size as its end, while the upload ran.
    await page.evaluate(() => {
      const seen: string[] = [];
      Object.assign(window, { progressSeen: seen });
      new MutationObserver(() => {
        const bar = document.getElementById('up-progress');
        if (bar) seen.push(bar.getAttribute('max') ?? '');
      }).observe(document.body, { childList: true, subtree: true });
    });
    await upload();
    await hasText(page.locator('.upload-form .note'), 'pos-os 2.0.0 is uploaded and ready.');
    const listed = await t.api<{ items: { id: string; version: string; state: string }[] }>('GET', '/v1/firmware');
    const ready = listed.body.items.find((f) => f.version === '2.0.0');
    expect(ready?.state).toBe('ready');
    await hasText(page.locator(`tr[data-firmware-id="${ready?.id}"] .badge`), 'ready');
    expect(await page.evaluate(() => Reflect.get(window, 'progressSeen'))).toContain(String(fw.image.length));
    await shot(page, 'ops-firmware');

    // Signed by a key the server does not trust: refused, the code on screen with what it means.
    const unknownKey = signedImage(publisher, 4096, '2.0.1');
    const strangerSignature = signManifest(unknownKey.manifest, stranger.privateKeyPem);
    await page.locator('#up-manifest').fill(JSON.stringify({ manifest: unknownKey.manifest, signature: strangerSignature }));
    await imageFile('pos-os-2.0.1.bin', unknownKey.image);
    await upload();
    await hasAttr(page.locator('.upload-form [role=alert]'), 'data-code', 'bad_signature');
    await hasText(page.locator('.upload-form .error-code'), 'bad_signature');
    await hasText(page.locator('.refusal-help'), /made with an unknown key/);
    expect((await t.api<{ items: { version: string }[] }>('GET', '/v1/firmware')).body.items.map((f) => f.version)).toEqual(['2.0.0']);
    await shot(page, 'ops-firmware-bad-signature');

    // A well-signed manifest with other bytes of the same size: registered, the upload refused.
    const other = signedImage(publisher, 4096, '2.0.2');
    await page.locator('#up-manifest').fill(JSON.stringify({ manifest: other.manifest, signature: other.signature }));
    await imageFile('pos-os-2.0.2.bin', unknownKey.image);
    await upload();
    await hasAttr(page.locator('.upload-form [role=alert]'), 'data-code', 'hash_mismatch');
    await hasText(page.locator('.firmware-table tr', { hasText: '2.0.2' }).locator('.badge'), 'awaiting content');

    // A payment-app package, signed by the same publisher.
    await page.getByRole('radio', { name: 'Payment app package' }).check();
    const pkg = signedImage(publisher, 8192);
    const appManifest = {
      packageName: 'com.acme.emv',
      version: '2.1.0',
      models: ['PAX-A920'],
      minFirmware: '1.0.0',
      size: pkg.manifest.size,
      sha256: pkg.manifest.sha256,
    };
    await page
      .locator('#up-manifest')
      .fill(JSON.stringify({ manifest: appManifest, signature: signAppManifest(appManifest, publisher.privateKeyPem) }));
    await imageFile('emv-2.1.0.pkg', pkg.image);
    await upload();
    await hasText(page.locator('.upload-form .note'), 'com.acme.emv 2.1.0 is uploaded and ready.');
    await hasText(page.locator('tr[data-package="com.acme.emv"] li[data-version="2.1.0"] .badge'), 'ready');
    await shot(page, 'ops-firmware-apps');
  });

  it('lists the uploads in the audit log, filters them and verifies the chain', async () => {
    await nav('Audit');
    await page.getByRole('heading', { level: 1, name: 'Audit log' }).waitFor();
    await hasCount(page.locator('tr[data-action="firmware.upload"]'), 1);
    await hasCount(page.locator('tr[data-action="app.upload"]'), 1);

    await page.getByLabel('Action', { exact: true }).fill('firmware.create');
    await page.getByRole('button', { name: 'Apply' }).click();
    await expect.poll(() => page.url(), POLL).toMatch(/\/ui\/audit\?action=firmware\.create$/);
    // 2.0.0 and 2.0.2 were registered; the refused 2.0.1 never was.
    await hasCount(page.locator('.audit-table tbody tr'), 2);
    await hasCount(page.locator('.audit-table tbody tr:not([data-action="firmware.create"])'), 0);

    // A time range after every entry: the empty state says what to do.
    await page.getByLabel('From (local time)').fill('2099-01-01T00:00');
    await page.getByRole('button', { name: 'Apply' }).click();
    await hasText(page.locator('.audit-table td.empty'), /No entry matches these filters/);
    await page.getByRole('button', { name: 'Clear' }).click();
    await hasCount(page.locator('tr[data-action="firmware.upload"]'), 1);

    await page.getByRole('button', { name: 'Verify chain' }).click();
    const verdict = page.locator('.verdict');
    await hasAttr(verdict, 'data-verdict', 'holds');
    const { body } = await t.api<{ ok: boolean; checked: number }>('GET', '/v1/audit/verify');
    expect(body.ok).toBe(true);
    await hasText(verdict, `The chain holds: ${body.checked} entries checked.`);
    await shot(page, 'ops-audit');
  });

  it('creates a user with a token shown once, issues one for oneself, files a second admin as a request another admin approves, and disables a user', async () => {
    await nav('Users');
    await page.getByRole('heading', { level: 1, name: 'Users and tokens' }).waitFor();

    await page.getByLabel('Name', { exact: true }).fill('Olga Operator');
    await page.getByLabel('Role', { exact: true }).selectOption('operator');
    await page.getByRole('button', { name: 'Create user' }).click();
    const reveal = page.getByRole('region', { name: 'New token for Olga Operator' });
    await reveal.getByText('it is shown only this once', { exact: false }).waitFor();
    const olgaToken = await reveal.getByLabel('The new token').inputValue();
    await reveal.getByRole('button', { name: 'Copy' }).click();
    await reveal.getByText('Copied to the clipboard.').waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(olgaToken);
    expect((await t.api<{ name: string }>('GET', '/v1/me', undefined, { token: olgaToken })).body.name).toBe('Olga Operator');
    const olga = page.locator('.users-table tr', { hasText: 'Olga Operator' });
    await hasText(olga.locator('.badge'), 'enabled');
    await shot(page, 'ops-users-created');
    await reveal.getByRole('button', { name: 'I have copied it' }).click();
    await hasCount(reveal, 0);

    await page.getByRole('button', { name: 'Issue a new token for me' }).click();
    const mine = await page
      .getByRole('region', { name: /^New token for / })
      .getByLabel('The new token')
      .inputValue();
    const me = await t.api<{ id: string }>('GET', '/v1/me', undefined, { token: mine });
    expect(me.status).toBe(200);
    expect(me.body.id).toBe((await t.api<{ id: string }>('GET', '/v1/me')).body.id);

    // Two admins exist after the first one made: the next admin waits for a second admin.
    const createAdmin = async (name: string) => {
      await page.getByLabel('Name', { exact: true }).fill(name);
      await page.getByLabel('Role', { exact: true }).selectOption('admin');
      await page.getByRole('button', { name: 'Create user' }).click();
    };
    await createAdmin('Ada Admin');
    await hasText(page.locator('.users-table tr', { hasText: 'Ada Admin' }).locator('.badge'), 'enabled');
    const adaToken = await page.getByRole('region', { name: 'New token for Ada Admin' }).getByLabel('The new token').inputValue();
    await createAdmin('Bea Admin');
    await hasText(page.locator('.user-requested'), /^Bea Admin \(admin\) is a request, not a user yet/);
    await hasCount(page.locator('.users-table tr', { hasText: 'Bea Admin' }), 0);
    const request = page.locator('.requests-table tr', { hasText: 'Bea Admin' });
    await hasText(request.locator('.badge'), 'pending');
    // The requester may not decide it (the server would answer dual_control): no buttons on its own row.
    await hasText(request.locator('td').last(), 'yours: another admin decides');
    expect(await request.getByRole('button').count()).toBe(0);
    await shot(page, 'ops-users-request');

    // The second admin approves: Bea is created and her first token shown to Ada only, once.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await signIn(page, t.url, adaToken, '/ui/users');
    await page.getByRole('heading', { level: 1, name: 'Users and tokens' }).waitFor();
    await request.getByRole('button', { name: 'Approve' }).click();
    const beaToken = await page.getByRole('region', { name: 'New token for Bea Admin' }).getByLabel('The new token').inputValue();
    expect((await t.api<{ name: string; role: string }>('GET', '/v1/me', undefined, { token: beaToken })).body).toMatchObject({
      name: 'Bea Admin',
      role: 'admin',
    });
    await hasText(request.locator('.badge'), 'approved');
    await hasText(page.locator('.users-table tr', { hasText: 'Bea Admin' }).locator('.badge'), 'enabled');

    await olga.getByRole('button', { name: 'Disable Olga Operator' }).click();
    const dialog = page.getByRole('dialog', { name: 'Disable Olga Operator?' });
    await dialog.waitFor();
    await dialog.getByRole('button', { name: 'Disable' }).click();
    await hasAttr(olga, 'data-disabled', 'true');
    await hasText(olga.locator('.badge'), 'disabled');
    expect((await t.api('GET', '/v1/me', undefined, { token: olgaToken })).status).toBe(401);
    await shot(page, 'ops-users');
    expect(errors).toEqual([]);
  });

  it('pages the user requests: 25 newest on the first page, the older ones after Next, none twice', async () => {
    // Filed by the first admin through the API; the page is still Ada's, who may decide them.
    for (let i = 0; i < 26; i++) {
      const res = await t.api('POST', '/v1/users', { name: `Queued Admin ${String(i).padStart(2, '0')}`, role: 'admin' });
      expect(res.status).toBe(202);
    }
    await page.goto(`${t.url}/ui/users`);
    await page.getByRole('heading', { level: 1, name: 'Users and tokens' }).waitFor();
    const rows = page.locator('.requests-table tbody tr');
    const names = () => rows.locator('td:first-child').allTextContents();
    await hasCount(rows, 25);
    const first = await names();
    expect(first[0]).toBe('Queued Admin 25');
    const pager = page.getByRole('navigation', { name: 'Pages of user requests' });
    await pager.getByRole('button', { name: 'Next →' }).click();
    await hasCount(rows, 2);
    const second = await names();
    // The oldest request (Bea's, approved earlier) comes last; the pages share no row.
    expect(second).toEqual(['Queued Admin 00', 'Bea Admin']);
    expect(first.filter((n) => second.includes(n))).toEqual([]);
    expect(await pager.getByRole('button', { name: 'Next →' }).isDisabled()).toBe(true);
    await shot(page, 'ops-users-requests-page-2');
    await pager.getByRole('button', { name: '← Previous' }).click();
    await hasCount(rows, 25);
    expect(await names()).toEqual(first);
    expect(errors).toEqual([]);
  });

  it('fits a tablet without sideways scrolling on each page', async () => {
    const tablet = await browser.newContext({
      viewport: { width: 820, height: 1180 },
      deviceScaleFactor: 1,
      hasTouch: true,
      isMobile: true,
    });
    try {
      const tp = await tablet.newPage();
      await signIn(tp, t.url, TEST_ADMIN_TOKEN, '/ui/firmware');
      for (const [path, heading] of [
        ['/ui/firmware', 'Firmware and app packages'],
        ['/ui/audit', 'Audit log'],
        ['/ui/users', 'Users and tokens'],
      ] as const) {
        await tp.goto(`${t.url}${path}`);
        await tp.getByRole('heading', { level: 1, name: heading }).waitFor();
        await tp.locator('table tbody tr').first().waitFor();
        expect(await tp.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1), path).toBe(true);
      }
      await shot(tp, 'ops-tablet-users', { fullPage: false });
    } finally {
      await tablet.close();
    }
  });
});
