// Objects owned by a node that are not terminals: groups and saved filters (their org), command
// batches and campaigns of every kind (their creator's node). B's answer A exactly as unknown ids do
// on reads and mutations, A's campaign lists hold none of B's, and the root sees both.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseKinds } from '../helpers/databases.ts';
import type { TestServer } from '../helpers/testServer.ts';
import { publishFirmware, startOtaServer } from '../campaigns/otaHarness.ts';
import { agent, rootReviewer, type Agent } from './helpers.ts';
import { agentObjects, fixtureTemplate, type AgentObjects } from './objects.ts';

interface ErrorBody {
  error: { code: string; message: string };
}
const shape = (message: string) => message.replace(/[a-z]+_[A-Za-z0-9_-]{16}/g, 'ID');
const unknown = (prefix: string) => `${prefix}_AAAAAAAAAAAAAAAA`;

for (const database of databaseKinds()) {
  describe(`objects owned by a node [${database}]`, () => {
    let t: TestServer;
    let a: Agent;
    let b: Agent;
    let mine: AgentObjects;
    let theirs: AgentObjects;

    beforeAll(async () => {
      t = await startOtaServer({ database });
      const fw = await publishFirmware(t, '2.0.0', 1024, ['PAX-A920']);
      const tpl = await fixtureTemplate(t);
      const reviewer = await rootReviewer(t);
      a = await agent(t, 'Agent A', reviewer);
      b = await agent(t, 'Agent B', reviewer);
      mine = await agentObjects(t, a, fw, tpl);
      theirs = await agentObjects(t, b, fw, tpl);
    }, 120_000);
    afterAll(() => t?.stop());

    const paths = (o: AgentObjects): [string, string, string][] => [
      ['GET', `/v1/groups/${o.group}`, 'grp'],
      ['GET', `/v1/filters/${o.filter}`, 'sfl'],
      ['GET', `/v1/filters/${o.filter}/count`, 'sfl'],
      ['GET', `/v1/command-batches/${o.batch}`, 'bat'],
      ['GET', `/v1/rollouts/${o.rollout}`, 'cmp'],
      ['GET', `/v1/rollouts/${o.rollout}/devices`, 'cmp'],
      ['GET', `/v1/key-rotations/${o.keyRotation}`, 'cmp'],
      ['GET', `/v1/parameter-pushes/${o.parameterPush}`, 'cmp'],
      ['POST', `/v1/rollouts/${o.rollout}/start`, 'cmp'],
      ['POST', `/v1/key-rotations/${o.keyRotation}/cancel`, 'cmp'],
      ['DELETE', `/v1/groups/${o.group}`, 'grp'],
      ['DELETE', `/v1/filters/${o.filter}`, 'sfl'],
    ];

    it('B’s objects answer A’s admin and operator as unknown ids do, and nothing changes', async () => {
      for (const [role, user] of [['admin', a.admin], ['operator', a.operator]] as const) {
        for (const [method, path, prefix] of paths(theirs)) {
          const res = await t.api<ErrorBody>(method, path, undefined, { token: user.token });
          const none = await t.api<ErrorBody>(method, path.replace(/[a-z]+_[A-Za-z0-9_-]{16}/, unknown(prefix)), undefined, { token: user.token });
          expect(res.status, `${role} ${method} ${path}`).toBe(404);
          expect(none.status, `unknown ${method} ${path}`).toBe(404);
          expect(shape(res.body.error.message), path).toBe(shape(none.body.error.message));
        }
      }
      // Still there, untouched, for B and for the root.
      for (const [method, path] of paths(theirs).filter(([m]) => m === 'GET')) {
        expect((await t.api(method, path, undefined, { token: b.operator.token })).status, path).toBe(200);
        expect((await t.api(method, path)).status, path).toBe(200);
      }
      const rollout = await t.api<{ state: string }>('GET', `/v1/rollouts/${theirs.rollout}`);
      expect(rollout.body.state).toBe('draft');
    });

    it('A reads its own objects', async () => {
      for (const [method, path] of paths(mine).filter(([m]) => m === 'GET')) {
        expect((await t.api(method, path, undefined, { token: a.admin.token })).status, path).toBe(200);
      }
    });

    it('campaign lists hold the caller’s subtree’s campaigns only; the root lists both', async () => {
      const lists: [string, keyof AgentObjects][] = [
        ['/v1/rollouts', 'rollout'],
        ['/v1/key-rotations', 'keyRotation'],
        ['/v1/parameter-pushes', 'parameterPush'],
      ];
      for (const [path, kind] of lists) {
        const listed = async (token?: string) =>
          (await t.api<{ items: { id: string }[] }>('GET', `${path}?limit=200`, undefined, token ? { token } : {})).body.items.map((c) => c.id);
        for (const token of [a.admin.token, a.operator.token]) {
          const ids = await listed(token);
          expect(ids, path).toContain(mine[kind]);
          expect(ids, path).not.toContain(theirs[kind]);
        }
        expect(await listed(b.operator.token)).toEqual([theirs[kind]]);
        expect(await listed()).toEqual(expect.arrayContaining([mine[kind], theirs[kind]]));
      }
    });
  });
}
