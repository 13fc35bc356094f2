// A campaign's target is resolved in its creator's subtree whoever starts it: the scheduler
// starting an agent's scheduled rollout over a fleet-wide filter takes only that agent's
// terminals, and an agent's dynamic rollout takes in its own new terminals, never another's.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseKinds } from '../helpers/databases.ts';
import { eventually } from '../helpers/eventually.ts';
import type { TestServer } from '../helpers/testServer.ts';
import { devicesOf, publishFirmware, rolloutUntil, startOtaServer } from '../campaigns/otaHarness.ts';
import { agent, orgTerminal, rootReviewer, type Agent } from './helpers.ts';

for (const database of databaseKinds()) {
  describe(`campaign targets in the creator's subtree [${database}]`, () => {
    let t: TestServer;
    let fw = '';
    let a: Agent;
    let b: Agent;

    beforeAll(async () => {
      t = await startOtaServer({ database });
      fw = await publishFirmware(t, '2.0.0', 1024, ['PAX-A920']);
      const reviewer = await rootReviewer(t);
      a = await agent(t, 'Agent A', reviewer, 2);
      b = await agent(t, 'Agent B', reviewer, 2);
    }, 120_000);
    afterAll(() => t?.stop());

    const body = (name: string, extra: Record<string, unknown>) => ({
      name,
      firmwareId: fw,
      phases: [{ name: 'all', percent: 100 }],
      successThreshold: 90,
      errorThreshold: 50,
      ...extra,
    });
    const memberIds = async (id: string) => (await devicesOf(t, id)).map((m) => m.deviceId).sort();

    it('a scheduled start by the server takes the creator\'s terminals only', async () => {
      const startAt = new Date(Date.now() + 2000).toISOString();
      const created = await t.api<{ id: string }>('POST', '/v1/rollouts', body('scheduled', { target: { filter: { model: 'PAX-A920' } }, startAt }), { token: a.operator.token });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      await rolloutUntil(t, created.body.id, (r) => r.state !== 'draft', { timeoutMs: 30_000, what: 'the scheduled start' });
      expect(await memberIds(created.body.id)).toEqual(a.terminals.map((d) => d.id).sort());
      expect((await t.api('POST', `/v1/rollouts/${created.body.id}/cancel`, undefined, { token: a.operator.token })).status).toBe(200);
    });

    it('a dynamic rollout takes in its own subtree\'s new terminals and not another\'s', async () => {
      const created = await t.api<{ id: string }>('POST', '/v1/rollouts', body('dynamic', { target: { query: 'model = "PAX-A920"' }, dynamic: true }), { token: a.operator.token });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      const id = created.body.id;
      expect((await t.api('POST', `/v1/rollouts/${id}/start`, undefined, { token: a.operator.token })).status).toBe(200);
      const mine = await orgTerminal(t, a.admin.token);
      const theirs = await orgTerminal(t, b.admin.token);
      await eventually(async () => ((await memberIds(id)).includes(mine.id) ? true : undefined), { timeoutMs: 30_000, what: 'the new terminal of A to join' });
      const members = await memberIds(id);
      expect(members).not.toContain(theirs.id);
      for (const d of b.terminals) expect(members).not.toContain(d.id);
      expect(members).toEqual([...a.terminals.map((d) => d.id), mine.id].sort());
      expect((await t.api('POST', `/v1/rollouts/${id}/cancel`, undefined, { token: a.operator.token })).status).toBe(200);
    });
  });
}
