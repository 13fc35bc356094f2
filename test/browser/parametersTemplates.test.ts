// Parameter templates made on the console's parameters page, in Chromium against a real server on
// each engine: the empty list says what to do; a template created through the form (an enum and
// an integer field) is listed and stored as the API reads it; a default out of bounds is refused on
// the page before anything is sent, and a refusal of the API shows its code; "New version" opens
// the form prefilled from the chosen template and makes version 2 of its name.
// Screenshots: test-artifacts/browser/params-templates-*.png.
import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { parameterTemplateView } from '../../server/parameters/parameterSchemas.ts';
import { startTestServer, TEST_ADMIN_TOKEN, type TestServer } from '../helpers/testServer.ts';
import { openDashboardWindow, shot, signIn, type DashboardWindow } from './helpers.ts';

const TIMEOUT = 120_000;
const POLL = { timeout: 15_000 };
const textOf = (loc: Locator) => expect.poll(async () => ((await loc.count()) ? ((await loc.first().textContent()) ?? '') : ''), POLL);
const templatePage = z.object({ items: z.array(parameterTemplateView) });

// The console on the embedded default only, as the other page suites: the templates' storage is
// proven on both engines by test/parameters.
for (const database of ['pglite'] as const) {
  describe(`console parameter templates in the browser [${database}]`, { timeout: TIMEOUT }, () => {
    let t: TestServer;
    let ui: DashboardWindow | undefined;
    let page: Page;
    const stored = async () => templatePage.parse((await t.api('GET', '/v1/parameter-templates?limit=100')).body).items;
    const form = () => page.locator('form.template-form');
    const field = (i: number) => form().locator(`fieldset[data-field-index="${i}"]`);

    beforeAll(async () => {
      t = await startTestServer({ database });
      ui = await openDashboardWindow();
      page = ui.page;
      await signIn(page, t.url, TEST_ADMIN_TOKEN, '/ui/parameters');
    }, TIMEOUT);

    afterAll(async () => {
      await ui?.close();
      await t?.stop();
    }, TIMEOUT);

    it('creates a template through the form: listed, and stored as the API reads it', async () => {
      await textOf(page.locator('.templates-table td.empty')).toMatch(/^No parameter templates yet\. Create one with New template/);
      await page.getByRole('button', { name: 'New template' }).click();
      await form().getByLabel('Name', { exact: true }).fill('ui-acquirer');
      await form().getByLabel('Description', { exact: true }).fill('card acceptance');
      await form().getByLabel('Applies to').selectOption('model');
      await form().getByLabel('Model', { exact: true }).fill('PAX-UI');
      await field(0).getByLabel('Key').fill('currency');
      await field(0).getByLabel('Type').selectOption('enum');
      await field(0).getByLabel('Values (comma-separated)').fill('EUR, USD');
      await field(0).getByLabel('Default').fill('EUR');
      await field(0).getByLabel('Required').check();
      await form().getByRole('button', { name: 'Add field' }).click();
      await field(1).getByLabel('Key').fill('timeoutS');
      await field(1).getByLabel('Type').selectOption('integer');
      await field(1).getByLabel('Min', { exact: true }).fill('5');
      await field(1).getByLabel('Max', { exact: true }).fill('120');
      await field(1).getByLabel('Default').fill('30');
      await shot(page, 'params-templates-01-form');
      await form().getByRole('button', { name: 'Create template' }).click();

      await page.locator('.templates-table tr[data-template-id]').waitFor();
      expect(await page.locator('.templates-table tr[data-template-id] td').allTextContents()).toEqual([
        'ui-acquirer',
        'v1',
        'model PAX-UI',
        '2',
        expect.any(String),
      ]);
      await page.getByRole('heading', { name: 'ui-acquirer v1' }).waitFor();
      const [made] = await stored();
      expect(made).toMatchObject({
        name: 'ui-acquirer',
        version: 1,
        description: 'card acceptance',
        appliesTo: { model: 'PAX-UI' },
        fields: [
          { key: 'currency', type: 'enum', values: ['EUR', 'USD'], default: 'EUR', required: true },
          { key: 'timeoutS', type: 'integer', min: 5, max: 120, default: 30, required: false },
        ],
      });
      expect(page.url()).toContain(`template=${made!.id}`);
      await shot(page, 'params-templates-02-created');
    });

    it('refuses a default out of bounds on the page, and shows the code of an API refusal', async () => {
      await page.getByRole('button', { name: 'New template' }).click();
      await form().getByLabel('Name', { exact: true }).fill('ui-bad');
      await form().getByLabel('Model', { exact: true }).fill('PAX-UI');
      await field(0).getByLabel('Key').fill('timeoutS');
      await field(0).getByLabel('Type').selectOption('integer');
      await field(0).getByLabel('Max', { exact: true }).fill('120');
      await field(0).getByLabel('Default').fill('500');
      await form().getByRole('button', { name: 'Create template' }).click();
      await textOf(form().getByRole('alert')).toBe('fields.0.default: the default must be at most 120');
      await shot(page, 'params-templates-03-refused');
      expect((await stored()).map((x) => x.name)).toEqual(['ui-acquirer']);

      // What the server alone can refuse (two creates of one name at once) is shown with its code.
      await page.route('**/v1/parameter-templates', (route) =>
        route.request().method() === 'POST'
          ? route.fulfill({
              status: 409,
              contentType: 'application/json',
              body: JSON.stringify({ error: { code: 'conflict', message: 'version 1 of ui-bad was created meanwhile; retry' } }),
            })
          : route.fallback(),
      );
      await field(0).getByLabel('Default').fill('60');
      await form().getByRole('button', { name: 'Create template' }).click();
      await textOf(form().locator('[role="alert"] .error-code')).toBe('conflict');
      await textOf(form().getByRole('alert')).toContain('created meanwhile; retry');
      await page.unroute('**/v1/parameter-templates');
      await form().getByRole('button', { name: 'Cancel' }).click();
      expect(await form().count()).toBe(0);
    });

    it('opens "New version" prefilled from the template and makes its version 2', async () => {
      await page.locator('.templates-table').getByRole('button', { name: 'ui-acquirer' }).first().click();
      await page.getByRole('heading', { name: 'ui-acquirer v1' }).waitFor();
      await page.getByRole('button', { name: 'New version' }).click();
      await form().getByRole('heading', { name: 'New version of ui-acquirer v1' }).waitFor();
      expect(await form().getByLabel('Name', { exact: true }).inputValue()).toBe('ui-acquirer');
      expect(await form().getByLabel('Model', { exact: true }).inputValue()).toBe('PAX-UI');
      expect(await field(0).getByLabel('Key').inputValue()).toBe('currency');
      expect(await field(0).getByLabel('Values (comma-separated)').inputValue()).toBe('EUR, USD');
      expect(await field(0).getByLabel('Required').isChecked()).toBe(true);
      expect(await field(1).getByLabel('Max', { exact: true }).inputValue()).toBe('120');
      expect(await field(1).getByLabel('Default').inputValue()).toBe('30');
      await shot(page, 'params-templates-04-new-version');

      await field(1).getByLabel('Default').fill('45');
      await form().getByRole('button', { name: 'Create version' }).click();
      await page.getByRole('heading', { name: 'ui-acquirer v2' }).waitFor();
      const versions = (await stored()).filter((x) => x.name === 'ui-acquirer').sort((a, b) => a.version - b.version);
      expect(versions.map((v) => v.version)).toEqual([1, 2]);
      expect(versions[1]!.fields).toEqual([
        { key: 'currency', type: 'enum', values: ['EUR', 'USD'], default: 'EUR', required: true },
        { key: 'timeoutS', type: 'integer', min: 5, max: 120, default: 45, required: false },
      ]);
      expect(versions[0]!.fields[1]).toMatchObject({ default: 30 });
      await textOf(page.getByRole('navigation', { name: 'Versions' })).toBe('v1v2');
      await shot(page, 'params-templates-05-version-2');
      expect(ui!.errors).toEqual([]);
    });
  });
}
