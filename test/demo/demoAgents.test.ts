// `npm run demo` lays out two agents under the acquirer, each with its operator, merchant and a
// third of the fleet (half of it bound), and a parameter template with values per model, agent and
// merchant pushed to the fleet, and a payment-app version (com.posfleet.pay 1.1.0, signed with the
// demo's publisher key) deployed by North's operator to North's terminals only; a second run on
// the same DATA_DIR makes none of it twice.
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { shareOf } from '../../scripts/demo/agents.ts';
import { AuditPageSchema } from '../../server/audit/routes.ts';
import { inventoryView, packageSummary } from '../../server/apps/appRoutes.ts';
import { appParams } from '../../server/apps/appsKind.ts';
import { campaignView, memberView } from '../../server/campaigns/campaignRoutes.ts';
import { page } from '../../server/http/schemas.ts';
import { eventually } from '../helpers/eventually.ts';
import { demoEnv, killAll, startDemo, type DemoRun } from './demoProcess.ts';

const DEVICES = 6;
const PAY = 'com.posfleet.pay';
const DEPLOYMENT_NAME = `${PAY} 1.1.0 to North Agent`;
const deploymentView = campaignView('app-deployment', appParams.shape);

interface Page<T> {
  items: T[];
}
interface DeviceParameters {
  desired: { values: Record<string, unknown>; sourceOf: Record<string, { tier: string; id: string }> } | null;
  drift: { inSync: boolean } | null;
}

async function seeded(run: DemoRun) {
  await eventually(async () => (/Ctrl-C stops/.test(run.output()) ? true : undefined), {
    timeoutMs: 60_000,
    what: 'the demo to lay out its agents',
  });
  expect(run.output()).not.toMatch(/agents could not be laid out|payment app could not be deployed/);
}

const serialsOf = (share: { first: number; count: number }) =>
  Array.from({ length: share.count }, (_, i) => `DEMO-${String(share.first + i).padStart(5, '0')}`);

async function payPackage(run: DemoRun, token?: string) {
  const r = await run.api()('GET', '/v1/apps?limit=100', undefined, token ? { token } : {});
  expect(r.status, r.text).toBe(200);
  return page(packageSummary)
    .parse(r.body)
    .items.find((p) => p.packageName === PAY);
}

async function deploymentsOf(run: DemoRun, token: string) {
  const r = await run.api()('GET', '/v1/app-deployments?limit=100', undefined, { token });
  expect(r.status, r.text).toBe(200);
  return page(deploymentView).parse(r.body).items;
}

async function auditCount(run: DemoRun, adminToken: string, action: string): Promise<number> {
  const r = await run.api()('GET', `/v1/audit?action=${action}&limit=100`, undefined, { token: adminToken });
  expect(r.status, r.text).toBe(200);
  return AuditPageSchema.parse(r.body).items.length;
}

/** The payment app of a first run: 1.1.0 published, ready, and deployed by North's operator to North's terminals only. */
async function appDeployedToNorth(run: DemoRun, operatorOf: (slug: string) => string) {
  const api = run.api();
  const north = operatorOf('north');
  const [deployment, ...others] = await deploymentsOf(run, north);
  expect(others).toEqual([]);
  expect(deployment).toMatchObject({ name: DEPLOYMENT_NAME, action: 'update' });
  expect(await deploymentsOf(run, operatorOf('south'))).toEqual([]);
  expect(run.output()).toMatch(new RegExp(`Payment app ${PAY}: versions 1\\.0\\.0 \\(from the factory\\), 1\\.1\\.0 \\(app_`));
  expect(run.output()).toContain(`app deployment ${deployment!.id} (`);

  const done = await eventually(
    async () => {
      const d = deploymentView.parse((await api('GET', `/v1/app-deployments/${deployment!.id}`, undefined, { token: north })).body);
      return d.state === 'running' ? undefined : d;
    },
    { timeoutMs: 90_000, what: 'the app deployment to end' },
  );
  expect(done.state).toBe('succeeded');
  const northSerials = serialsOf(shareOf(0, DEVICES));
  expect(done.counts).toEqual({ succeeded: northSerials.length });
  const members = page(memberView).parse(
    (await api('GET', `/v1/app-deployments/${deployment!.id}/devices?limit=100`, undefined, { token: north })).body,
  );
  expect(members.items.map((m) => m.serial).sort()).toEqual(northSerials);

  // What the terminals report: 1.1.0 on North's, the factory's 1.0.0 on South's and the acquirer's own.
  const all = await api<{ items: { id: string; serial: string }[] }>('GET', '/v1/devices?limit=100');
  expect(all.body.items.length).toBe(DEVICES);
  await eventually(
    async () => {
      for (const d of all.body.items) {
        const inventory = inventoryView.parse((await api('GET', `/v1/devices/${d.id}/apps`)).body);
        expect(inventory.apps, d.serial).toEqual([{ packageName: PAY, version: northSerials.includes(d.serial) ? '1.1.0' : '1.0.0' }]);
      }
      return true;
    },
    { timeoutMs: 30_000, what: 'the inventories of the demo terminals' },
  );

  // The acquirer's operator sees both versions with their installs; the new one registered and ready.
  const pay = await payPackage(run);
  expect(pay).toMatchObject({ installs: DEVICES });
  expect(pay?.versions).toEqual([
    { version: '1.0.0', id: null, state: null, models: null, minFirmware: null, installs: DEVICES - northSerials.length },
    {
      version: '1.1.0',
      id: expect.stringMatching(/^app_/),
      state: 'ready',
      models: ['PAX-A920'],
      minFirmware: '1.0.0',
      installs: northSerials.length,
    },
  ]);
  expect((await payPackage(run, north))?.versions.map((v) => [v.version, v.installs])).toEqual([['1.1.0', northSerials.length]]);
}

describe('demo agents', () => {
  const children = new Set<ChildProcess>();
  const dataDir = mkdtempSync(join(tmpdir(), 'pf-demo-agents-'));
  const env = demoEnv(dataDir, undefined, DEVICES);
  afterAll(async () => {
    await killAll(children);
    rmSync(dataDir, { recursive: true, force: true });
  });
  const operatorOf = (slug: string) => readFileSync(join(dataDir, `demo-${slug}-operator.token`), 'utf8').trim();
  const adminToken = () => readFileSync(join(dataDir, 'demo-admin.token'), 'utf8').trim();

  it("gives each agent its own terminals and merchant, pushes parameters by tier and updates North's payment app", async () => {
    const run = await startDemo(env, children);
    await seeded(run);
    const api = run.api();
    const north = operatorOf('north');
    const share = shareOf(0, DEVICES);
    const seen = await api<Page<{ id: string; serial: string; merchantId: string | null }>>('GET', '/v1/devices?limit=100', undefined, {
      token: north,
    });
    expect(seen.status).toBe(200);
    expect(seen.body.items.map((d) => d.serial).sort()).toEqual(
      Array.from({ length: share.count }, (_, i) => `DEMO-${String(share.first + i).padStart(5, '0')}`),
    );
    const bound = seen.body.items.filter((d) => d.merchantId);
    expect(bound.length).toBe(share.bound);
    const merchants = await api<Page<{ id: string; name: string }>>('GET', '/v1/merchants', undefined, { token: north });
    expect(merchants.body.items.map((m) => m.name)).toEqual(['Bund Noodle House']);
    const south = await api<Page<{ serial: string }>>('GET', '/v1/devices?limit=100', undefined, { token: operatorOf('south') });
    expect(south.body.items.map((d) => d.serial)).not.toContain(seen.body.items[0]!.serial);

    // A bound North terminal: the model's timeout, North's tips, its merchant's receipt header.
    const params = await eventually(
      async () => {
        const r = await api<DeviceParameters>('GET', `/v1/devices/${bound[0]!.id}/parameters`, undefined, { token: north });
        return r.body.drift?.inSync ? r.body : undefined;
      },
      { timeoutMs: 60_000, what: 'the pushed parameters reported back' },
    );
    expect(params.desired?.values).toMatchObject({ timeoutS: 45, tips: true, currency: 'CNY', receiptHeader: 'Bund Noodle House' });
    expect(params.desired?.sourceOf.receiptHeader?.tier).toBe('merchant');
    expect(params.desired?.sourceOf.tips?.tier).toBe('organisation');
    await appDeployedToNorth(run, operatorOf);
    expect(await run.stop()).toBe(0);
  });

  it('a second run finds what the first made', async () => {
    const run = await startDemo(env, children);
    await seeded(run);
    const api = run.api();
    const orgs = await api<Page<{ name: string }>>('GET', '/v1/orgs?limit=100', undefined, { token: adminToken() });
    expect(
      orgs.body.items
        .map((o) => o.name)
        .filter((n) => n.endsWith('Agent'))
        .sort(),
    ).toEqual(['North Agent', 'South Agent']);
    const templates = await api<Page<{ name: string }>>('GET', '/v1/parameter-templates?limit=100');
    expect(templates.body.items.filter((t) => t.name === 'acquirer').length).toBe(1);
    const merchants = await api<Page<{ name: string }>>('GET', '/v1/merchants?limit=100');
    expect(merchants.body.items.length).toBe(2);
    // The app version is registered and uploaded once, and its deployment is the first run's, not a new one.
    const before = await payPackage(run);
    expect(before?.versions.filter((v) => v.id).map((v) => [v.version, v.state])).toEqual([['1.1.0', 'ready']]);
    const deployments = await deploymentsOf(run, operatorOf('north'));
    expect(deployments.map((d) => [d.name, d.state])).toEqual([[DEPLOYMENT_NAME, 'succeeded']]);
    expect(run.output()).toContain(`app deployment ${deployments[0]!.id} (succeeded)`);
    for (const action of ['app.create', 'app.upload', 'app-deployment.create', 'app-deployment.start'])
      expect(await auditCount(run, adminToken(), action), action).toBe(1);
    expect(await run.stop()).toBe(0);
  });
});
