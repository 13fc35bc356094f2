// The organisations page in a real browser against a real server: the root admin creates two
// agents and a sub-agent on the page, renames one, allocates unbound terminals to an agent by
// ticking them, sees a bound terminal (and an unknown serial) refused with its code, moves the
// merchant with its bound terminal, and an agent's admin signing in sees only its subtree.
// Screenshots: test-artifacts/browser/orgs-*.png.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, TEST_ADMIN_TOKEN, type TestServer } from '../helpers/testServer.ts';
import { activeMerchant, uniqueTid, type User } from '../merchants/helpers.ts';
import { orgTerminal, orgUser, rootReviewer, type OrgView } from '../orgs/helpers.ts';
import { launchBrowser, shot, signIn, watchConsole } from './helpers.ts';

const TIMEOUT = 180_000;

describe('organisations page in the browser', { timeout: TIMEOUT }, () => {
  let t: TestServer;
  let browser: Browser;
  let reviewer: User;
  const free: { id: string; serial: string }[] = [];
  let bound: { id: string; serial: string };
  const merchantName = 'Tea Corner';

  async function pageFor(token: string, path: string): Promise<{ page: Page; errors: string[]; close(): Promise<void> }> {
    const context = await browser.newContext({ viewport: { width: 1366, height: 900 }, colorScheme: 'light' });
    const page = await context.newPage();
    const errors = watchConsole(page);
    await signIn(page, t.url, token, path);
    return { page, errors, close: () => context.close() };
  }

  const orgs = async () => (await t.api<{ items: OrgView[] }>('GET', '/v1/orgs')).body.items;
  const orgNamed = async (name: string) => {
    const found = (await orgs()).find((o) => o.name === name);
    if (!found) throw new Error(`no node ${name}`);
    return found;
  };
  const orgOfDevice = async (id: string) => (await t.api<{ orgId: string }>('GET', `/v1/devices/${id}`)).body.orgId;
  const treeItem = (page: Page, id: string) => page.locator(`.org-tree li[data-org-id="${id}"]`);

  beforeAll(async () => {
    t = await startTestServer();
    browser = await launchBrowser();
    reviewer = await rootReviewer(t);
    for (let i = 0; i < 2; i++) free.push(await orgTerminal(t, TEST_ADMIN_TOKEN));
    bound = await orgTerminal(t, TEST_ADMIN_TOKEN);
    const merchant = await activeMerchant(t, reviewer, { name: merchantName });
    const bind = await t.api('PUT', `/v1/devices/${bound.id}/binding`, { merchantId: merchant.id, tid: uniqueTid() });
    expect(bind.status, JSON.stringify(bind.body)).toBe(200);
  }, TIMEOUT);

  afterAll(async () => {
    await browser?.close();
    await t?.stop();
  });

  it('lets the root admin build the tree, allocate unbound terminals and see a bound one refused', async () => {
    const { page, errors, close } = await pageFor(TEST_ADMIN_TOKEN, '/ui/orgs');
    try {
      await page.getByRole('heading', { level: 1, name: 'Organisations and allocation' }).waitFor();
      await page.getByText('No agent below your node yet').waitFor();
      const root = treeItem(page, 'org_root');
      await expect.poll(() => root.locator('.org-counts').first().getAttribute('data-terminals')).toBe('3');

      for (const name of ['Agent North', 'Agent South']) {
        await page.getByLabel('Name', { exact: true }).fill(name);
        await page.getByRole('button', { name: 'Create node' }).click();
        await page.locator('.org-tree').getByRole('link', { name, exact: true }).waitFor();
      }
      const north = await orgNamed('Agent North');
      const south = await orgNamed('Agent South');
      await page.getByLabel('Name', { exact: true }).fill('North Sub');
      await page.getByLabel('Parent').selectOption(north.id);
      await page.getByRole('button', { name: 'Create node' }).click();
      // A sub-agent is nested in its parent's list item.
      await treeItem(page, north.id).locator('li').getByRole('link', { name: 'North Sub' }).waitFor();
      expect((await orgNamed('North Sub')).parentId).toBe(north.id);

      await page.getByRole('button', { name: 'Rename Agent South' }).click();
      await page.getByLabel('New name of Agent South').fill('Agent South Ltd');
      await page.getByRole('button', { name: 'Save' }).click();
      await treeItem(page, south.id).getByRole('link', { name: 'Agent South Ltd' }).waitFor();
      await shot(page, 'orgs-tree');

      // The root's own terminals: the bound one cannot be ticked.
      const rows = page.locator('table.org-terminals tbody tr');
      await expect.poll(() => rows.count()).toBe(3);
      await expect.poll(() => page.locator(`tr[data-device-id="${bound.id}"] input[type=checkbox]`).count()).toBe(0);
      for (const d of free) await page.getByLabel(`Pick ${d.serial}`).check();
      await page.getByLabel('Move to').selectOption(north.id);
      await page.getByRole('button', { name: 'Allocate 2 ticked' }).click();
      const dialog = page.getByRole('dialog', { name: 'Allocate 2 terminals to Agent North?' });
      await dialog.getByRole('button', { name: 'Allocate' }).click();
      const result = page.locator('.allocation-result');
      await expect.poll(() => result.getAttribute('data-moved')).toBe('2');
      expect(await result.getAttribute('data-refused')).toBe('0');
      for (const d of free) expect(await orgOfDevice(d.id)).toBe(north.id);
      await expect.poll(() => rows.count()).toBe(1);
      await expect.poll(() => treeItem(page, north.id).locator('.org-counts').first().getAttribute('data-terminals')).toBe('2');
      await shot(page, 'orgs-allocated');

      // By serial: the bound terminal and a serial that names nothing are refused with their codes.
      await page.getByLabel(/^Serials/).fill(`${bound.serial}\nSN-NOPE-404`);
      await page.getByLabel('Move to').selectOption(south.id);
      await page.getByRole('button', { name: 'Allocate', exact: true }).click();
      await page
        .getByRole('dialog', { name: 'Allocate 2 terminals to Agent South Ltd?' })
        .getByRole('button', { name: 'Allocate' })
        .click();
      await page.locator(`tr[data-refused-id="${bound.serial}"][data-code="terminal_bound"]`).waitFor();
      await page.locator('tr[data-refused-id="SN-NOPE-404"][data-code="not_found"]').waitFor();
      expect(await result.getAttribute('data-moved')).toBe('0');
      expect(await orgOfDevice(bound.id)).toBe('org_root');
      await shot(page, 'orgs-refused');

      // The bound terminal moves with its merchant.
      await page.getByLabel('Move merchant to').selectOption(south.id);
      await page.getByRole('button', { name: 'Move merchant' }).click();
      await page
        .getByRole('dialog', { name: `Move ${merchantName} to Agent South Ltd?` })
        .getByRole('button', { name: 'Move merchant' })
        .click();
      await page.getByText(`${merchantName} moved to Agent South Ltd with 1 terminal.`).waitFor();
      expect(await orgOfDevice(bound.id)).toBe(south.id);

      // North's panel lists the allocated terminals and opens a device page.
      await treeItem(page, north.id).getByRole('link', { name: 'Agent North' }).first().click();
      await page.getByRole('heading', { level: 2, name: 'Agent North' }).waitFor();
      await page.getByRole('link', { name: free[0]!.serial }).click();
      await page.waitForURL(`**/ui/devices/${free[0]!.id}`);
      expect(errors).toEqual([]);
    } finally {
      await close();
    }
  });

  it('shows an agent admin only its subtree', async () => {
    const north = await orgNamed('Agent North');
    const sub = await orgNamed('North Sub');
    const admin = await orgUser(t, 'admin', north.id, reviewer);
    const { page, errors, close } = await pageFor(admin.token, '/ui/orgs');
    try {
      await treeItem(page, north.id).waitFor();
      await treeItem(page, sub.id).waitFor();
      const shown = await page.locator('.org-tree li').evaluateAll((items) => items.map((li) => li.getAttribute('data-org-id')));
      expect(shown).toEqual([north.id, sub.id]);
      await expect(page.locator('.org-tree').textContent()).resolves.not.toMatch(/Root|South/);
      await page.getByRole('heading', { level: 2, name: 'Agent North' }).waitFor();
      await expect.poll(() => page.locator('table.org-terminals tbody tr[data-device-id]').count()).toBe(2);
      // The root's node is not in its subtree: the page says so and shows its own node.
      await page.goto(`${t.url}/ui/orgs?node=org_root`);
      await page.getByText('No node org_root in your subtree').waitFor();
      await shot(page, 'orgs-agent-admin');
      expect(errors).toEqual([]);
    } finally {
      await close();
    }
  });

  it('fits a tablet without sideways scrolling, its nav entry marked as the current page', async () => {
    const tablet = await browser.newContext({
      viewport: { width: 820, height: 1180 },
      deviceScaleFactor: 1,
      hasTouch: true,
      isMobile: true,
    });
    try {
      const tp = await tablet.newPage();
      await signIn(tp, t.url, TEST_ADMIN_TOKEN, '/ui/orgs');
      await tp.locator('table.org-terminals').waitFor();
      expect(await tp.locator('#mainnav a[aria-current="page"]').textContent()).toBe('Organisations');
      expect(await tp.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1)).toBe(true);
      await shot(tp, 'orgs-tablet', { fullPage: false });
    } finally {
      await tablet.close();
    }
  });
});
