// Terminal parameters end to end on both engines, with real agents on simulated hardware: a
// template, values at model + merchant + terminal, the desired set with the tier of each value,
// a push through the campaign engine by config.set, the agents' reports, drift zero; then an
// assignment changed → drift shown → parameters_drift fault → pushed again → resolved. Bad values
// are refused with their field paths, and an agent refuses a set missing a required value.
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { eventually } from '../helpers/eventually.ts';
import { startTestFleet, type TestFleet } from '../helpers/fleet.ts';
import { forEachServer, type TestServer } from '../helpers/testServer.ts';
import { activeMerchant, createUser } from '../merchants/helpers.ts';

interface DeviceParameters {
  template: { id: string; version: number } | null;
  desired: { values: Record<string, unknown>; sourceOf: Record<string, { tier: string; id: string }>; digest: string } | null;
  reported: { digest: string; values: Record<string, unknown>; templateId: string } | null;
  drift: { keys: string[]; inSync: boolean } | null;
}
interface Campaign {
  id: string;
  state: string;
}
interface ErrorBody {
  error: { code: string; message: string; details?: Array<{ path: string; message: string }> };
}

const MODEL = 'PAX-PARAM';
const fields = [
  { key: 'acquirerHost', type: 'host', required: true, default: 'acq.example.com:443', description: 'where authorisations go' },
  { key: 'currency', type: 'enum', required: true, values: ['EUR', 'USD', 'GBP'], default: 'EUR' },
  { key: 'tips', type: 'boolean', default: false },
  { key: 'timeoutS', type: 'integer', min: 5, max: 120, default: 30 },
  { key: 'receiptHeader', type: 'string', max: 40 },
];

forEachServer(
  'terminal parameters',
  (server) => {
    let t: TestServer;
    let tf: TestFleet | undefined;
    let ids: string[] = [];
    let merchantId = '';
    let templateId = '';

    beforeAll(async () => {
      t = server();
      const approver = await createUser(t, 'admin');
      merchantId = (await activeMerchant(t, approver)).id;
      tf = await startTestFleet(t, { devices: 3, model: MODEL, prefix: `PRM${Date.now().toString(36)}`, bindMerchantId: merchantId });
      ids = tf.fleet.agents.map((a) => a.deviceId).filter((id): id is string => id !== null);
      expect(ids).toHaveLength(3);
    }, 120_000);
    afterAll(async () => {
      await tf?.fleet.stop();
      if (tf) rmSync(tf.stateDir, { recursive: true, force: true });
    });

    const read = async (id: string) => {
      const res = await t.api<DeviceParameters>('GET', `/v1/devices/${id}/parameters`);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      return res.body;
    };

    async function push(name: string, tpl: string): Promise<Campaign> {
      const created = await t.api<Campaign>('POST', '/v1/parameter-pushes', {
        name,
        templateId: tpl,
        target: { deviceIds: ids },
        phases: [{ name: 'all', percent: 100 }],
        successThreshold: 90,
        errorThreshold: 50,
      });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      const started = await t.api('POST', `/v1/parameter-pushes/${created.body.id}/start`);
      expect(started.status, JSON.stringify(started.body)).toBe(200);
      return eventually(
        async () => {
          const c = await t.api<Campaign>('GET', `/v1/parameter-pushes/${created.body.id}`);
          return ['succeeded', 'failed', 'cancelled', 'paused'].includes(c.body.state) ? c.body : null;
        },
        { timeoutMs: 30_000, what: `push ${name} final` },
      );
    }

    it('refuses a bad template and bad values with the field path', async () => {
      const badTemplate = await t.api<ErrorBody>('POST', '/v1/parameter-templates', { name: 'bad', appliesTo: { model: MODEL }, fields: [{ key: 'c', type: 'enum' }] });
      expect(badTemplate.status).toBe(400);
      expect(badTemplate.body.error.code).toBe('validation_failed');
      expect(badTemplate.body.error.details?.map((d) => d.path)).toContain('fields.0.values');

      const v1 = await t.api<{ id: string; version: number }>('POST', '/v1/parameter-templates', { name: 'acquirer', appliesTo: { model: MODEL }, fields });
      expect(v1.status, JSON.stringify(v1.body)).toBe(201);
      expect(v1.body.version).toBe(1);
      const v2 = await t.api<{ id: string; version: number }>('POST', '/v1/parameter-templates', { name: 'acquirer', appliesTo: { model: MODEL }, fields });
      expect(v2.status).toBe(201);
      expect(v2.body.version).toBe(2);
      templateId = v2.body.id;

      const bad = await t.api<ErrorBody>('PUT', `/v1/parameter-templates/${templateId}/assignments`, { tier: 'model', targetId: MODEL, values: { timeoutS: 500, currency: 'JPY', nope: 1 } });
      expect(bad.status).toBe(400);
      expect(bad.body.error.code).toBe('validation_failed');
      expect(bad.body.error.details?.map((d) => d.path).sort()).toEqual(['values.currency', 'values.nope', 'values.timeoutS']);
      const unknownTerminal = await t.api<ErrorBody>('PUT', `/v1/parameter-templates/${templateId}/assignments`, { tier: 'terminal', targetId: 'dev_nope', values: { tips: true } });
      expect(unknownTerminal.status).toBe(422);
    });

    it('computes desired values by tier, pushes them, and the terminals report them: no drift', async () => {
      const assign = async (tier: string, targetId: string, values: Record<string, unknown> | null) => {
        const res = await t.api('PUT', `/v1/parameter-templates/${templateId}/assignments`, { tier, targetId, values });
        expect(res.status, JSON.stringify(res.body)).toBe(200);
      };
      await assign('model', MODEL, { timeoutS: 45, tips: true });
      // Every terminal here is in the root node (its merchant's).
      await assign('organisation', 'org_root', { timeoutS: 50, receiptHeader: 'Root' });
      const group = await t.api<{ id: string }>('POST', '/v1/groups', { name: `param-wave-${Date.now().toString(36)}` });
      expect(group.status, JSON.stringify(group.body)).toBe(201);
      expect((await t.api('POST', `/v1/groups/${group.body.id}/members`, { add: [ids[1]] })).status).toBe(200);
      await assign('group', group.body.id, { timeoutS: 55 });
      await assign('merchant', merchantId, { currency: 'USD', receiptHeader: 'Chez Paul' });
      await assign('terminal', ids[0]!, { timeoutS: 60 });

      const first = await read(ids[0]!);
      expect(first.desired?.values).toEqual({ acquirerHost: 'acq.example.com:443', currency: 'USD', tips: true, timeoutS: 60, receiptHeader: 'Chez Paul' });
      expect(first.desired?.sourceOf).toEqual({
        acquirerHost: { tier: 'default', id: templateId },
        currency: { tier: 'merchant', id: merchantId },
        tips: { tier: 'model', id: MODEL },
        timeoutS: { tier: 'terminal', id: ids[0] },
        receiptHeader: { tier: 'merchant', id: merchantId },
      });
      expect(first.reported).toBeNull();
      expect(first.drift?.inSync).toBe(false);
      const second = await read(ids[1]!);
      expect(second.desired?.values.timeoutS).toBe(55);
      expect(second.desired?.sourceOf.timeoutS).toEqual({ tier: 'group', id: group.body.id });
      const third = await read(ids[2]!);
      expect(third.desired?.values.timeoutS).toBe(50);
      expect(third.desired?.sourceOf.timeoutS).toEqual({ tier: 'organisation', id: 'org_root' });
      expect(third.desired?.sourceOf.tips).toEqual({ tier: 'model', id: MODEL });
      // Removing the organisation's value falls back to the model's.
      await assign('organisation', 'org_root', { receiptHeader: 'Root' });
      expect((await read(ids[2]!)).desired?.sourceOf.timeoutS).toEqual({ tier: 'model', id: MODEL });
      const removed = await t.api<{ removed: boolean }>('PUT', `/v1/parameter-templates/${templateId}/assignments`, { tier: 'organisation', targetId: 'org_root', values: null });
      expect(removed.body.removed).toBe(true);
      expect((await t.api('PUT', `/v1/parameter-templates/${templateId}/assignments`, { tier: 'organisation', targetId: 'org_root', values: null })).status).toBe(404);
      const audit = await t.api<{ items: Array<{ action: string; target: string }> }>('GET', '/v1/audit?action=parameters.assignment_remove');
      expect(audit.body.items.filter((e) => e.target === templateId)).toHaveLength(1);
      const unknownGroup = await t.api<ErrorBody>('PUT', `/v1/parameter-templates/${templateId}/assignments`, { tier: 'group', targetId: 'grp_nope', values: { tips: true } });
      expect(unknownGroup.status).toBe(422);
      expect(unknownGroup.body.error.code).toBe('unknown_group');

      const done = await push('first push', templateId);
      expect(done.state).toBe('succeeded');
      for (const id of ids)
        await eventually(
          async () => {
            const p = await read(id);
            return p.reported?.digest === p.desired?.digest && p.drift?.inSync ? p : null;
          },
          { timeoutMs: 10_000, what: `${id} reports its desired set` },
        );
      expect((await read(ids[0]!)).reported?.values.timeoutS).toBe(60);
      const drift = await t.api<{ items: unknown[] }>('GET', '/v1/parameters/drift');
      expect(drift.body.items).toEqual([]);
    });

    it('an assignment changed shows drift, opens parameters_drift, and a push resolves it', async () => {
      const res = await t.api('PUT', `/v1/parameter-templates/${templateId}/assignments`, { tier: 'merchant', targetId: merchantId, values: { currency: 'GBP', receiptHeader: 'Chez Paul' } });
      expect(res.status).toBe(200);
      const p = await read(ids[1]!);
      expect(p.drift).toEqual({ keys: ['currency'], templateMismatch: false, inSync: false });
      const list = await t.api<{ items: Array<{ deviceId: string; keys: string[] }> }>('GET', '/v1/parameters/drift?limit=2');
      expect(list.body.items).toHaveLength(2);
      expect(list.body.items.every((i) => i.keys.join() === 'currency')).toBe(true);

      const faultOf = async (id: string) => {
        const f = await t.api<{ items: Array<{ code: string; state: string }> }>('GET', `/v1/faults?deviceId=${id}&code=parameters_drift&state=open,acknowledged,resolved`);
        return f.body.items[0];
      };
      await eventually(async () => (await faultOf(ids[1]!))?.state === 'open', { timeoutMs: 15_000, what: 'parameters_drift opens' });

      expect((await push('second push', templateId)).state).toBe('succeeded');
      await eventually(async () => (await read(ids[1]!)).drift?.inSync, { timeoutMs: 10_000, what: 'in sync again' });
      await eventually(async () => (await faultOf(ids[1]!))?.state === 'resolved', { timeoutMs: 15_000, what: 'parameters_drift resolves' });
    });

    it('an agent refuses a set missing a required value, and keeps the one it had', async () => {
      const strict = await t.api<{ id: string }>('POST', '/v1/parameter-templates', {
        name: 'strict',
        appliesTo: { model: MODEL },
        fields: [...fields, { key: 'merchantCategory', type: 'string', required: true, min: 4, max: 4 }],
      });
      expect(strict.status).toBe(201);
      const before = await read(ids[2]!);
      const done = await push('missing value', strict.body.id);
      // Every member refused: over the error threshold, so the engine pauses the push.
      expect(done.state).toBe('paused');
      const failures = await t.api<{ items: Array<{ code: string; count: number; message?: string }> }>('GET', `/v1/parameter-pushes/${done.id}/failures`);
      expect(failures.status, JSON.stringify(failures.body)).toBe(200);
      expect(JSON.stringify(failures.body)).toContain('invalid_parameters');
      expect(JSON.stringify(failures.body)).toContain('values.merchantCategory');
      const after = await read(ids[2]!);
      expect(after.reported?.digest).toBe(before.reported?.digest);
      expect(after.template?.id).toBe(templateId);
    });
  },
  { env: { PARAMETERS_DRIFT_ALERT_S: '2', CAMPAIGN_TICK_MS: '200' } },
);
