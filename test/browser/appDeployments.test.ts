// App deployments in the console's campaign pages, in a real browser against a real server and a
// fleet of real simulated agents over MQTT (test/apps/helpers.ts): a signed package registered and
// uploaded with the server's publisher key, an install deployment made through the form (the
// package version picked from GET /v1/apps, the target previewed), started from its page after
// confirmation, the terminals of the package's model installing it and one of another model
// skipped as incompatible, and the result in the list. An uninstall without a package name is
// refused on the page before anything is sent. A parameter push made through the API (the
// Parameters page makes them) is followed live in the list and shown on its own page.
// Screenshots: test-artifacts/browser/app-deployments-*.png.
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appServerEnv, inventoryOf, publishApp, signedPackage, startAppFleet, type AppFleet } from '../apps/helpers.ts';
import { startTestServer, TEST_ADMIN_TOKEN, type TestServer } from '../helpers/testServer.ts';
import { openDashboardWindow, shot, signIn, type DashboardWindow } from './helpers.ts';

const TIMEOUT = 120_000;

describe('app deployments in the browser', { timeout: TIMEOUT }, () => {
  let t: TestServer;
  let ui: DashboardWindow | undefined;
  let page: Page;
  let errors: string[];
  let fleet: AppFleet | undefined;
  let appId: string;

  beforeAll(async () => {
    t = await startTestServer({ env: { ...appServerEnv, HEARTBEAT_TIMEOUT_S: '60' } });
    fleet = await startAppFleet(t, 2);
    appId = (await publishApp(t, signedPackage('com.acme.emv', '2.1.0'))).id;
    ui = await openDashboardWindow();
    ({ page, errors } = ui);
  }, TIMEOUT);

  afterAll(async () => {
    await ui?.close();
    await fleet?.stop();
    await t?.stop();
  }, TIMEOUT);

  const confirm = async (title: string, button: string) => {
    await page.getByRole('dialog', { name: title }).getByRole('button', { name: button }).click();
  };

  it('creates an install deployment through the form after a preview, runs it, and shows the skipped terminal', async () => {
    const f = fleet!;
    await signIn(page, t.url, TEST_ADMIN_TOKEN, '/ui/rollouts');
    const section = page.locator('section[data-kind="appDeployment"]');
    await section.getByText('No app deployment yet. Create one with “New app deployment”').waitFor();
    // Parameter pushes are listed too, made on the Parameters page.
    const pushes = page.locator('section[data-kind="parameterPush"]');
    await pushes.getByText('No parameter push yet. They are made on the Parameters page').waitFor();
    expect(await pushes.getByRole('link', { name: 'New parameter push' }).getAttribute('href')).toBe('/ui/parameters');
    await shot(page, 'app-deployments-01-list');

    await section.getByRole('link', { name: 'New app deployment' }).click();
    await page.getByRole('heading', { level: 1, name: 'New app deployment' }).waitFor();
    await page.getByLabel('Name', { exact: true }).fill('EMV 2.1.0 everywhere');
    await page.getByRole('radiogroup', { name: 'Target by' }).getByText('Device ids', { exact: true }).click();
    await page.getByRole('textbox', { name: /^Device ids/ }).fill([...f.main, f.otherModel].join('\n'));
    await page.getByLabel('Phase 1 percent').fill('50');
    await page.getByLabel('Phase 2 percent').fill('50');
    await page.getByLabel(/^Success threshold/).fill('50');

    // An uninstall names its package: refused here, before the server's app_required.
    await page.getByLabel('Action', { exact: true }).selectOption('uninstall');
    await page.getByRole('button', { name: 'Preview' }).click();
    await page.getByRole('alert').getByText('packageName: name the package to uninstall').waitFor();
    // Install: the version comes from GET /v1/apps, with the models it runs on.
    await page.getByLabel('Action', { exact: true }).selectOption('install');
    await page.getByLabel('App version', { exact: true }).selectOption({ label: 'com.acme.emv 2.1.0 (PAX-A920)' });
    expect(await page.getByRole('button', { name: 'Create draft' }).isDisabled()).toBe(true);
    await page.getByRole('button', { name: 'Preview' }).click();
    const preview = page.getByRole('region', { name: 'Preview' });
    await preview.locator('[data-target-count="3"]').waitFor();
    await preview.getByText('canary: 2 terminals (50%)').waitFor();
    await preview.getByText('rest: 1 terminals (50%)').waitFor();
    await shot(page, 'app-deployments-02-preview');

    await page.getByRole('button', { name: 'Create draft' }).click();
    await page.getByRole('heading', { level: 1, name: 'App deployment: EMV 2.1.0 everywhere' }).waitFor();
    const card = page.locator('article.campaign');
    const id = await card.getAttribute('data-campaign-id');
    expect(new URL(page.url()).pathname).toBe(`/ui/app-deployments/${id}`);
    const stored = await t.api<{ action: string; appId: string; target: unknown; state: string }>('GET', `/v1/app-deployments/${id}`);
    expect(stored.body).toMatchObject({ action: 'install', appId, state: 'draft', target: { deviceIds: [...f.main, f.otherModel] } });

    await card.getByRole('button', { name: /^Start/ }).click();
    await confirm('Start this app deployment?', 'Start');
    await page.locator('article.campaign[data-state="succeeded"]').waitFor({ timeout: 30_000 });
    // What the agents report afterwards: the new package beside the factory app.
    for (const deviceId of f.main)
      await expect
        .poll(() => inventoryOf(t, deviceId), { timeout: 10_000 })
        .toContainEqual({ packageName: 'com.acme.emv', version: '2.1.0' });
    expect(await inventoryOf(t, f.otherModel)).not.toContainEqual(expect.objectContaining({ packageName: 'com.acme.emv' }));

    const terminals = page.getByRole('region', { name: 'Terminals of this campaign' });
    for (const deviceId of f.main) await terminals.locator(`tr.member-row[data-device-id="${deviceId}"][data-state="succeeded"]`).waitFor();
    const skipped = terminals.locator(`tr.member-row[data-device-id="${f.otherModel}"][data-state="skipped"]`);
    await skipped.getByText('incompatible').waitFor();
    expect(await card.locator('.campaign-totals').textContent()).toMatch(
      /^All phases: 2 of 2 succeeded, 0 in progress, 0 failed, 0 waiting, 1 skipped/,
    );
    expect(await card.getByRole('group', { name: /^Control/ }).count()).toBe(0);
    await shot(page, 'app-deployments-03-succeeded');

    // The filter by state finds the skipped terminal alone.
    await page.getByLabel('State', { exact: true }).selectOption('skipped');
    await page.getByRole('button', { name: 'Apply' }).click();
    await expect.poll(() => terminals.locator('tr.member-row').count()).toBe(1);
    expect(new URL(page.url()).searchParams.get('state')).toBe('skipped');

    await page.getByRole('link', { name: 'Rollouts and key rotations' }).click();
    const row = page.locator(`section[data-kind="appDeployment"] tr.campaign-row[data-campaign-id="${id}"][data-state="succeeded"]`);
    await row.getByText('2 of 2 succeeded', { exact: false }).waitFor();
    await shot(page, 'app-deployments-04-list');
    expect(errors).toEqual([]);
  });

  it('lists a parameter push made elsewhere and shows it on its own page', async () => {
    const f = fleet!;
    const template = await t.api<{ id: string }>('POST', '/v1/parameter-templates', {
      name: 'acquirer',
      appliesTo: { model: 'PAX-A920' },
      fields: [{ key: 'currency', type: 'enum', required: true, values: ['EUR', 'USD'], default: 'EUR' }],
    });
    expect(template.status, JSON.stringify(template.body)).toBe(201);
    const created = await t.api<{ id: string }>('POST', '/v1/parameter-pushes', {
      name: 'Acquirer defaults',
      templateId: template.body.id,
      target: { deviceIds: f.main },
      phases: [{ name: 'all', percent: 100 }],
      successThreshold: 90,
      errorThreshold: 50,
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const id = created.body.id;
    expect((await t.api('POST', `/v1/parameter-pushes/${id}/start`)).status).toBe(200);

    // The list follows it live (campaign.updated) to its end.
    const row = page.locator(`section[data-kind="parameterPush"] tr.campaign-row[data-campaign-id="${id}"][data-state="succeeded"]`);
    await row.waitFor({ timeout: 30_000 });
    await row.getByText('2 of 2 succeeded', { exact: false }).waitFor();
    await row.getByRole('link', { name: 'Acquirer defaults' }).click();
    await page.getByRole('heading', { level: 1, name: 'Parameter push: Acquirer defaults' }).waitFor();
    expect(new URL(page.url()).pathname).toBe(`/ui/parameter-pushes/${id}`);
    const terminals = page.getByRole('region', { name: 'Terminals of this campaign' });
    for (const deviceId of f.main) await terminals.locator(`tr.member-row[data-device-id="${deviceId}"][data-state="succeeded"]`).waitFor();
    await page.getByRole('region', { name: 'Failures by reason' }).getByText('No terminal has failed.').waitFor();
    await shot(page, 'app-deployments-05-parameter-push');
    expect(errors).toEqual([]);
  });
});
