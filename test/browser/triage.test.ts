// Console triage against a real server and terminals over real MQTT, in Chromium: the device list's
// open faults (worst first), its open-fault filter and total; the fault queue filtered by serial
// with its total and bulk acknowledge / resolve (a refusal summarised with its code); a lock from
// the device page that will not go without a reason, and the reason in the lock state and audit.
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/eventually.ts';
import { startTestServer, TEST_ADMIN_TOKEN, type TestServer } from '../helpers/testServer.ts';
import { fakeTerminal, openDashboardWindow, shot, signIn, type DashboardWindow, type FakeTerminal } from './helpers.ts';

const TIMEOUT = 120_000;

interface Fault {
  id: string;
  code: string;
  state: string;
}

describe('console triage in the browser', { timeout: TIMEOUT }, () => {
  let t: TestServer;
  let ui: DashboardWindow | undefined;
  let page: Page;
  let errors: string[];
  const terms: FakeTerminal[] = [];
  const faultsOf = async (term: FakeTerminal) =>
    (await t.api<{ items: Fault[] }>('GET', `/v1/faults?state=all&deviceId=${term.device.deviceId}`)).body.items;
  const rowCodes = () =>
    page.locator('tbody tr.fault-row').evaluateAll((rows) => rows.map((r) => (r instanceof HTMLElement ? r.dataset.code : '')));

  beforeAll(async () => {
    t = await startTestServer();
    ui = await openDashboardWindow();
    ({ page, errors } = ui);
    // Hot: paper out and overheating; Paper: paper out; Calm: nothing wrong.
    for (const serial of ['TRIAGE-1-HOT', 'TRIAGE-2-PAPER', 'TRIAGE-3-CALM']) terms.push(await fakeTerminal(t, { serial }));
    const [hot, paper, calm] = terms;
    await hot!.health({ temperatureC: 72, printer: { status: 'paper_out' } });
    await paper!.health({ temperatureC: 40, printer: { status: 'paper_out' } });
    await calm!.health({ temperatureC: 40, printer: { status: 'ok' } });
    await eventually(async () => (await faultsOf(hot!)).length === 2 && (await faultsOf(paper!)).length === 1);
    await signIn(page, t.url, TEST_ADMIN_TOKEN, '/ui/devices?q=TRIAGE');
  }, TIMEOUT);

  afterAll(async () => {
    await ui?.close();
    for (const term of terms) await term.close().catch(() => undefined);
    await t?.stop();
  }, TIMEOUT);

  it('shows open faults worst first on the device list, filters on them and counts the matches', async () => {
    const row = (serial: string) => page.locator('tr[data-device-id]').filter({ has: page.getByRole('link', { name: serial }) });
    await row('TRIAGE-1-HOT').locator('.open-faults').waitFor();
    expect(await row('TRIAGE-1-HOT').locator('.open-faults .badge').allTextContents()).toEqual(['overheat', 'paper_out']);
    expect(await row('TRIAGE-1-HOT').locator('.open-faults').getAttribute('title')).toContain('Temperature above 60 °C (major)');
    expect(await row('TRIAGE-2-PAPER').locator('.open-faults .badge').allTextContents()).toEqual(['paper_out']);
    expect(await row('TRIAGE-3-CALM').locator('td').nth(4).textContent()).toBe('none');
    await page.getByText('3 terminals match.').waitFor();
    await shot(page, 'triage-01-devices-open-faults');

    await page.getByLabel('Open faults').selectOption('with');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.getByText('2 terminals match.').waitFor();
    expect(await page.locator('tr[data-device-id] td:first-child').allTextContents()).toEqual(['TRIAGE-1-HOT', 'TRIAGE-2-PAPER']);

    await page.getByLabel('Fault code').fill('overheat');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.getByText('1 terminal match.').waitFor();
    expect(await page.locator('tr[data-device-id] td:first-child').allTextContents()).toEqual(['TRIAGE-1-HOT']);

    await page.getByLabel('Open faults').selectOption('without');
    await page.getByLabel('Fault code').fill('');
    await page.getByRole('button', { name: 'Apply' }).click();
    await row('TRIAGE-3-CALM').waitFor();
    await page.getByText('1 terminal match.').waitFor();
    expect(await page.locator('tr[data-device-id] td:first-child').allTextContents()).toEqual(['TRIAGE-3-CALM']);
    // A shared link shows the same list.
    expect(new URL(page.url()).searchParams.get('faults')).toBe('without');
  });

  it('filters the fault queue by serial, totals it, and acknowledges and resolves in bulk', async () => {
    await page.goto(`${t.url}/ui/faults`);
    await page.getByRole('heading', { level: 1, name: 'Fault queue' }).waitFor();
    await page.getByLabel('Serial').fill('triage-1');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.locator('p.fault-count[data-total="2"]').waitFor();
    await eventually(async () => JSON.stringify(await rowCodes()) === JSON.stringify(['overheat', 'paper_out']));
    expect(await page.locator('p.fault-count').textContent()).toBe('2 faults match; 2 shown, worst first, then oldest.');
    expect(new URL(page.url()).searchParams.get('serial')).toBe('triage-1');

    // One acknowledged by hand first: the bulk acknowledge does the other and names the refusal's code.
    const [hot] = terms;
    const overheat = (await faultsOf(hot!)).find((f) => f.code === 'overheat');
    expect((await t.api('POST', `/v1/faults/${overheat!.id}/acknowledge`)).status).toBe(200);
    await page.locator('tr.fault-row[data-code="overheat"][data-state="acknowledged"]').waitFor({ timeout: 10_000 });
    await page.getByLabel('Select every fault on this page').check();
    await page.getByText('2 selected').waitFor();
    await page.getByRole('button', { name: 'Acknowledge selected' }).click();
    const summary = page.locator('.bulk-summary');
    await summary.waitFor();
    expect(await summary.getAttribute('data-done')).toBe('1');
    expect(await summary.locator('li[data-code="already_acknowledged"]').textContent()).toContain(
      'Temperature above 60 °C on TRIAGE-1-HOT',
    );
    expect(await summary.locator('p').textContent()).toBe('Acknowledged 1 of 2 faults; 1 refused (already_acknowledged ×1).');
    await page.locator('tr.fault-row[data-code="paper_out"][data-state="acknowledged"]').waitFor();
    await shot(page, 'triage-02-bulk-acknowledge-summary');

    // Resolve asks first; cancelled, nothing changes.
    await page.getByLabel('Select every fault on this page').check();
    await page.getByRole('button', { name: 'Resolve selected' }).click();
    const dialog = page.getByRole('dialog', { name: 'Resolve 2 faults?' });
    await dialog.waitFor();
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    expect((await faultsOf(hot!)).every((f) => f.state === 'acknowledged')).toBe(true);
    await page.getByRole('button', { name: 'Resolve selected' }).click();
    await dialog.getByLabel('Closing note (optional)').fill('Swapped the unit on site.');
    await shot(page, 'triage-03-bulk-resolve-confirm', { fullPage: false });
    await dialog.getByRole('button', { name: 'Resolve 2 faults' }).click();
    // The list may empty (a live reload) a moment before the last resolve's answer fills the summary.
    await expect.poll(() => summary.locator('p').textContent(), { timeout: 10_000 }).toBe('Resolved 2 of 2 faults.');
    await page.getByText('No fault matches these filters').waitFor();
    expect((await faultsOf(hot!)).map((f) => f.state)).toEqual(['resolved', 'resolved']);
    const full = await t.api<{ notes: { text: string }[] }>('GET', `/v1/faults/${overheat!.id}`);
    expect(full.body.notes.map((n) => n.text)).toContain('Swapped the unit on site.');
    // The other terminal's fault was not selected and is still open.
    expect((await faultsOf(terms[1]!)).map((f) => f.state)).toEqual(['open']);
  });

  it('locks from the device page only with a reason, shown in the lock state and the audit log', async () => {
    const paper = terms[1]!;
    await page.goto(`${t.url}/ui/devices/${encodeURIComponent(paper.device.deviceId)}`);
    await page.getByRole('heading', { level: 1, name: 'Terminal TRIAGE-2-PAPER' }).waitFor();
    await page.getByRole('group', { name: 'Device actions' }).getByRole('button', { name: 'Lock' }).click();
    const dialog = page.getByRole('dialog', { name: 'Lock the terminal?' });
    const reason = dialog.getByLabel('Reason for the lock');
    await reason.waitFor();
    // Without a reason the dialog stays and nothing is locked.
    await dialog.getByRole('button', { name: 'Lock terminal' }).click();
    expect(await reason.evaluate((el) => el instanceof HTMLTextAreaElement && el.validity.valueMissing)).toBe(true);
    expect(await dialog.isVisible()).toBe(true);
    expect((await t.api<{ locked: boolean }>('GET', `/v1/devices/${paper.device.deviceId}/lock`)).body.locked).toBe(false);
    await reason.fill('Merchant reports a swapped PIN pad');
    await shot(page, 'triage-04-lock-reason', { fullPage: false });
    await dialog.getByRole('button', { name: 'Lock terminal' }).click();
    await page.locator('[data-locked="true"]').filter({ hasText: 'Merchant reports a swapped PIN pad' }).waitFor({ timeout: 15_000 });

    const lock = await t.api<{ locked: boolean; reasons: { reason: string; note: string | null }[] }>(
      'GET',
      `/v1/devices/${paper.device.deviceId}/lock`,
    );
    expect(lock.body).toMatchObject({ locked: true, reasons: [{ reason: 'operator', note: 'Merchant reports a swapped PIN pad' }] });
    const audit = await t.api<{ items: { action: string; data: { note?: string } }[] }>(
      'GET',
      `/v1/audit?action=device.lock&target=${paper.device.deviceId}`,
    );
    expect(audit.body.items.map((e) => e.data.note)).toEqual(['Merchant reports a swapped PIN pad']);
    await shot(page, 'triage-05-device-locked-with-reason');
    expect(errors).toEqual([]);
  });
});
