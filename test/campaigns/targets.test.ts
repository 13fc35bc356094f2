// A rollout's target filter resolves against the devices table on every engine: `labels` takes
// the devices carrying every given label with that value, alone or with the other fields.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseKinds } from '../helpers/databases.ts';
import { kekPublicKey, uniqueSerial } from '../helpers/devices.ts';
import { TEST_ENROLL_TOKEN, type TestServer } from '../helpers/testServer.ts';
import { devicesOf, publishFirmware, startOtaServer } from './otaHarness.ts';

/** The parts of an OpenAPI document this test walks. */
interface OpenApiNode {
  $ref?: string;
  type?: string;
  properties?: Record<string, OpenApiNode>;
  additionalProperties?: OpenApiNode;
  anyOf?: OpenApiNode[];
  oneOf?: OpenApiNode[];
  paths?: Record<string, { post?: { requestBody?: { content?: Record<string, { schema?: OpenApiNode }> } } }>;
  components?: { schemas?: Record<string, OpenApiNode> };
}

/** The schema of `target.filter` in a create body, following $refs. */
function findFilter(doc: OpenApiNode, node: OpenApiNode | undefined): OpenApiNode | undefined {
  const deref = (n: OpenApiNode | undefined) => (n?.$ref ? doc.components?.schemas?.[n.$ref.split('/').pop()!] : n);
  const target = deref(deref(node)?.properties?.target);
  for (const option of [...(target?.anyOf ?? []), ...(target?.oneOf ?? [])]) {
    const filter = deref(deref(option)?.properties?.filter);
    if (filter) return filter;
  }
  return undefined;
}

for (const database of databaseKinds()) {
  describe(`rollout target filter [${database}]`, () => {
    let t: TestServer;
    let fw = '';
    const ids: Record<'parisGold' | 'paris' | 'lyonGold' | 'otherModel', string> = {
      parisGold: '',
      paris: '',
      lyonGold: '',
      otherModel: '',
    };

    /** Registered with labels, then enrolled (a filter target takes enrolled devices only). */
    async function enrolledWith(labels: Record<string, string>, model = 'PAX-A920'): Promise<string> {
      const serial = uniqueSerial('LBL');
      const reg = await t.api('POST', '/v1/devices', { serial, model, labels });
      expect(reg.status, JSON.stringify(reg.body)).toBe(201);
      const res = await t.api<{ deviceId: string }>(
        'POST',
        '/v1/enroll',
        { serial, model, fwVersion: '1.0.0', kekPublicKey: kekPublicKey(), enrollToken: TEST_ENROLL_TOKEN },
        { token: null },
      );
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      return res.body.deviceId;
    }

    beforeAll(async () => {
      t = await startOtaServer({ database });
      fw = await publishFirmware(t, '2.0.0', 1024, ['PAX-A920', 'PAX-A80']);
      ids.parisGold = await enrolledWith({ site: 'paris', tier: 'gold' });
      ids.paris = await enrolledWith({ site: 'paris' });
      ids.lyonGold = await enrolledWith({ site: 'lyon', tier: 'gold' });
      ids.otherModel = await enrolledWith({ site: 'paris', tier: 'gold' }, 'PAX-A80');
    }, 120_000);
    afterAll(async () => t?.stop());

    /** Starts a rollout over `filter`, reads its members, and cancels it (freeing them for the next). */
    async function membersOf(filter: Record<string, unknown>): Promise<string[]> {
      const created = await t.api<{ id: string }>('POST', '/v1/rollouts', {
        name: 'labels',
        firmwareId: fw,
        target: { filter },
        phases: [{ name: 'all', percent: 100 }],
        successThreshold: 90,
        errorThreshold: 50,
      });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      const started = await t.api('POST', `/v1/rollouts/${created.body.id}/start`);
      expect(started.status, JSON.stringify(started.body)).toBe(200);
      const members = (await devicesOf(t, created.body.id)).map((d) => d.deviceId).sort();
      expect((await t.api('POST', `/v1/rollouts/${created.body.id}/cancel`)).status).toBe(200);
      return members;
    }

    it('takes the devices carrying every given label', async () => {
      expect(await membersOf({ labels: { site: 'paris', tier: 'gold' } })).toEqual([ids.parisGold, ids.otherModel].sort());
      expect(await membersOf({ labels: { site: 'paris' } })).toEqual([ids.parisGold, ids.paris, ids.otherModel].sort());
      expect(await membersOf({ labels: { tier: 'gold' }, model: 'PAX-A920' })).toEqual([ids.parisGold, ids.lyonGold].sort());
    });

    it('documents the filter fields, labels included, in the OpenAPI document', async () => {
      const doc = await t.api<OpenApiNode>('GET', '/openapi.json', undefined, { token: null });
      expect(doc.status).toBe(200);
      const body = doc.body.paths?.['/v1/rollouts']?.post?.requestBody?.content?.['application/json']?.schema;
      const filter = findFilter(doc.body, body);
      expect(Object.keys(filter?.properties ?? {}).sort()).toEqual(['fwVersion', 'labels', 'merchantId', 'model', 'q']);
      expect(filter?.properties?.labels).toMatchObject({ type: 'object', additionalProperties: { type: 'string' } });
    });

    it('matches no device when a label value differs, and refuses labels that are not strings', async () => {
      const none = await t.api<{ id: string }>('POST', '/v1/rollouts', {
        name: 'nobody',
        firmwareId: fw,
        target: { filter: { labels: { site: 'berlin' } } },
        phases: [{ name: 'all', percent: 100 }],
        successThreshold: 90,
        errorThreshold: 50,
      });
      expect(none.status).toBe(201);
      const start = await t.api<{ error: { code: string } }>('POST', `/v1/rollouts/${none.body.id}/start`);
      expect(start.status).toBe(422);
      expect(start.body.error.code).toBe('no_target');
      const bad = await t.api<{ error: { code: string; details: { path: string }[] } }>('POST', '/v1/rollouts', {
        name: 'bad',
        firmwareId: fw,
        target: { filter: { labels: { tier: 3 } } },
        phases: [{ name: 'all', percent: 100 }],
        successThreshold: 90,
        errorThreshold: 50,
      });
      expect(bad.status).toBe(400);
      expect(bad.body.error.code).toBe('validation_failed');
    });
  });
}
