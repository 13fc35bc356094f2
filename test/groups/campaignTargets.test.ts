// Campaigns and fleet commands target a saved filter, a static group or a fleet query, on every
// engine: a rollout over a filter takes exactly its enrolled terminals, a bad query or an unknown
// filter is refused at creation, a command batch over a group reaches its enrolled members, and a
// dynamic rollout over a query takes in a terminal that starts to match while it runs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseKinds } from '../helpers/databases.ts';
import { kekPublicKey, uniqueSerial } from '../helpers/devices.ts';
import { eventually } from '../helpers/eventually.ts';
import { TEST_ENROLL_TOKEN, type TestServer } from '../helpers/testServer.ts';
import { devicesOf, publishFirmware, startOtaServer } from '../campaigns/otaHarness.ts';

interface ErrorBody {
  error: { code: string; details?: unknown };
}

for (const database of databaseKinds()) {
  describe(`campaign and command targets from groups and filters [${database}]`, () => {
    let t: TestServer;
    let fw = '';
    const site = uniqueSerial('site');
    const ids: string[] = [];
    let unenrolled = '';

    async function enrolledWith(labels: Record<string, string>): Promise<string> {
      const serial = uniqueSerial('TGT');
      const reg = await t.api('POST', '/v1/devices', { serial, model: 'PAX-A920', labels });
      expect(reg.status, JSON.stringify(reg.body)).toBe(201);
      const res = await t.api<{ deviceId: string }>(
        'POST',
        '/v1/enroll',
        { serial, model: 'PAX-A920', fwVersion: '1.0.0', kekPublicKey: kekPublicKey(), enrollToken: TEST_ENROLL_TOKEN },
        { token: null },
      );
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      return res.body.deviceId;
    }

    const rolloutBody = (target: unknown, extra: Record<string, unknown> = {}) => ({
      name: 'targets',
      firmwareId: fw,
      target,
      phases: [{ name: 'all', percent: 100 }],
      successThreshold: 90,
      errorThreshold: 50,
      ...extra,
    });

    beforeAll(async () => {
      t = await startOtaServer({ database });
      fw = await publishFirmware(t, '2.0.0', 1024, ['PAX-A920']);
      ids.push(await enrolledWith({ site, tier: 'gold' }), await enrolledWith({ site, tier: 'gold' }), await enrolledWith({ site }));
      const reg = await t.api<{ id: string }>('POST', '/v1/devices', { serial: uniqueSerial('TGT'), model: 'PAX-A920', labels: { site, tier: 'gold' } });
      unenrolled = reg.body.id;
    }, 120_000);
    afterAll(async () => t?.stop());

    it('starts a rollout over a saved filter with exactly its enrolled terminals', async () => {
      const filter = await t.api<{ id: string }>('POST', '/v1/filters', { name: `gold ${site}`, query: `label.site = "${site}" and label.tier = "gold"` });
      expect(filter.status, JSON.stringify(filter.body)).toBe(201);
      const preview = await t.api<{ count: number }>('GET', `/v1/filters/${filter.body.id}/count`);
      expect(preview.body.count).toBe(3);
      const created = await t.api<{ id: string }>('POST', '/v1/rollouts', rolloutBody({ filterId: filter.body.id }));
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      expect((await t.api('POST', `/v1/rollouts/${created.body.id}/start`)).status).toBe(200);
      const members = (await devicesOf(t, created.body.id)).map((d) => d.deviceId).sort();
      expect(members).toEqual([ids[0]!, ids[1]!].sort());
      expect(members).not.toContain(unenrolled);
      expect((await t.api('POST', `/v1/rollouts/${created.body.id}/cancel`)).status).toBe(200);
    });

    it('refuses a query that does not parse and a filter or group it does not know, at creation', async () => {
      const bad = await t.api<ErrorBody>('POST', '/v1/rollouts', rolloutBody({ query: 'label.site = ' }));
      expect(bad.status).toBe(400);
      expect(bad.body.error).toMatchObject({ code: 'query_invalid', details: { position: 13 } });
      const unknown = await t.api<ErrorBody>('POST', '/v1/rollouts', rolloutBody({ filterId: 'sfl_missing' }));
      expect(unknown.status).toBe(422);
      expect(unknown.body.error.code).toBe('unknown_filter');
      const noGroup = await t.api<ErrorBody>('POST', '/v1/commands', { target: { groupId: 'grp_missing' }, type: 'config.set', payload: { healthIntervalS: 300 } });
      expect(noGroup.status).toBe(422);
      expect(noGroup.body.error.code).toBe('unknown_group');
    });

    it('sends a fleet command to the enrolled members of a static group', async () => {
      const group = await t.api<{ id: string }>('POST', '/v1/groups', { name: `batch ${site}` });
      await t.api('POST', `/v1/groups/${group.body.id}/members`, { add: [ids[0]!, ids[2]!, unenrolled] });
      const batch = await t.api<{ batchId: string; total: number }>('POST', '/v1/commands', {
        target: { groupId: group.body.id },
        type: 'config.set',
        payload: { healthIntervalS: 300 },
      });
      expect(batch.status, JSON.stringify(batch.body)).toBe(201);
      expect(batch.body.total).toBe(2);
      const byQuery = await t.api<{ total: number }>('POST', '/v1/commands', {
        target: { query: `label.site = "${site}" and not label.tier = "gold"` },
        type: 'config.set',
        payload: { healthIntervalS: 300 },
      });
      expect(byQuery.body.total).toBe(1);
    });

    it('takes into a dynamic rollout over a query a terminal that starts to match', async () => {
      const wave = uniqueSerial('wave');
      await t.api('POST', '/v1/devices/labels', { target: { deviceIds: [ids[0]!] }, set: { wave } });
      const created = await t.api<{ id: string }>('POST', '/v1/rollouts', rolloutBody({ query: `label.wave = "${wave}"` }, { dynamic: true }));
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      expect((await t.api('POST', `/v1/rollouts/${created.body.id}/start`)).status).toBe(200);
      expect((await devicesOf(t, created.body.id)).map((d) => d.deviceId)).toEqual([ids[0]!]);

      const labelled = await t.api('POST', '/v1/devices/labels', { target: { query: `label.site = "${site}" and not label.tier = "gold"` }, set: { wave } });
      expect(labelled.status).toBe(200);
      const members = await eventually(
        async () => {
          const now = (await devicesOf(t, created.body.id)).map((d) => d.deviceId);
          return now.length === 2 && now;
        },
        { timeoutMs: 20_000, stepMs: 250, what: 'the newly labelled terminal joining the dynamic rollout' },
      );
      expect(members.sort()).toEqual([ids[0]!, ids[2]!].sort());
      expect((await t.api('POST', `/v1/rollouts/${created.body.id}/cancel`)).status).toBe(200);
    }, 40_000);
  });
}
