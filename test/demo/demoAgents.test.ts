// `npm run demo` lays out two agents under the acquirer, each with its operator, merchant and a
// third of the fleet (half of it bound), and a parameter template with values per model, agent and
// merchant pushed to the fleet; a second run on the same DATA_DIR makes none of it twice.
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { shareOf } from '../../scripts/demo/agents.ts';
import { eventually } from '../helpers/eventually.ts';
import { demoEnv, killAll, startDemo, type DemoRun } from './demoProcess.ts';

const DEVICES = 6;

interface Page<T> {
  items: T[];
}
interface DeviceParameters {
  desired: { values: Record<string, unknown>; sourceOf: Record<string, { tier: string; id: string }> } | null;
  drift: { inSync: boolean } | null;
}

async function seeded(run: DemoRun) {
  await eventually(async () => (/Ctrl-C stops/.test(run.output()) ? true : undefined), { timeoutMs: 60_000, what: 'the demo to lay out its agents' });
  expect(run.output()).not.toMatch(/agents could not be laid out/);
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

  it('gives each agent its own terminals and merchant, and pushes parameters by tier', async () => {
    const run = await startDemo(env, children);
    await seeded(run);
    const api = run.api();
    const north = operatorOf('north');
    const share = shareOf(0, DEVICES);
    const seen = await api<Page<{ id: string; serial: string; merchantId: string | null }>>('GET', '/v1/devices?limit=100', undefined, { token: north });
    expect(seen.status).toBe(200);
    expect(seen.body.items.map((d) => d.serial).sort()).toEqual(Array.from({ length: share.count }, (_, i) => `DEMO-${String(share.first + i).padStart(5, '0')}`));
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
    expect(await run.stop()).toBe(0);
  });

  it('a second run finds what the first made', async () => {
    const run = await startDemo(env, children);
    await seeded(run);
    const api = run.api();
    const orgs = await api<Page<{ name: string }>>('GET', '/v1/orgs?limit=100', undefined, { token: readFileSync(join(dataDir, 'demo-admin.token'), 'utf8').trim() });
    expect(orgs.body.items.map((o) => o.name).filter((n) => n.endsWith('Agent')).sort()).toEqual(['North Agent', 'South Agent']);
    const templates = await api<Page<{ name: string }>>('GET', '/v1/parameter-templates?limit=100');
    expect(templates.body.items.filter((t) => t.name === 'acquirer').length).toBe(1);
    const merchants = await api<Page<{ name: string }>>('GET', '/v1/merchants?limit=100');
    expect(merchants.body.items.length).toBe(2);
    expect(await run.stop()).toBe(0);
  });
});
