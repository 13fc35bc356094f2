// Allocation (划拨) through the real server on both engines: an agent moves unbound terminals to a
// sub-agent in bulk (by id or serial), a bound terminal is refused per terminal and moves only with
// its merchant, which carries all of its bound terminals in one call; each call is one audit entry.
import { beforeAll, expect, it } from 'vitest';
import type { Api } from '../helpers/apiClient.ts';
import { forEachServer } from '../helpers/testServer.ts';
import { uniqueTid, type User } from '../merchants/helpers.ts';
import { agent, createOrg, orgTerminal, rootReviewer, type Agent, type OrgView } from './helpers.ts';

interface Allocation {
  moved: number;
  refused: { id: string; code: string }[];
}
interface AuditEntry {
  action: string;
  target: string | null;
  actorId: string | null;
  data: Record<string, unknown>;
}

/** The node a terminal belongs to, as the root reads it. */
const orgOf = async (api: Api, id: string) => (await api<{ orgId: string }>('GET', `/v1/devices/${id}`)).body.orgId;

forEachServer('allocation', (getServer) => {
  let reviewer: User;
  let a: Agent;
  let b: Agent;
  let sub: OrgView;

  beforeAll(async () => {
    const t = getServer();
    reviewer = await rootReviewer(t);
    a = await agent(t, 'Allocating A', reviewer, 0);
    b = await agent(t, 'Other B', reviewer, 1);
    sub = await createOrg(t, 'A sub-agent', undefined, a.admin.token);
  }, 120_000);

  it('moves unbound terminals by id and by serial; refuses bound, unknown and other-subtree ones per terminal', async () => {
    const t = getServer();
    const as = { token: a.admin.token };
    const free = [await orgTerminal(t, a.admin.token), await orgTerminal(t, a.admin.token), await orgTerminal(t, a.admin.token)];
    const bound = await orgTerminal(t, a.admin.token);
    expect((await t.api('PUT', `/v1/devices/${bound.id}/binding`, { merchantId: a.merchant.id, tid: uniqueTid() }, as)).status).toBe(200);
    const nobody = 'dev_AAAAAAAAAAAAAAAA';
    const theirs = b.terminals[0]!.id;

    const byId = await t.api<Allocation>('POST', `/v1/orgs/${sub.id}/allocations`, { deviceIds: [free[0]!.id, free[1]!.id, bound.id, nobody, theirs] }, as);
    expect(byId.status, JSON.stringify(byId.body)).toBe(200);
    expect(byId.body).toEqual({
      moved: 2,
      refused: [
        { id: bound.id, code: 'terminal_bound' },
        // Another subtree's terminal is as unknown as one that does not exist.
        { id: nobody, code: 'not_found' },
        { id: theirs, code: 'not_found' },
      ],
    });
    expect(await orgOf(t.api, free[0]!.id)).toBe(sub.id);
    expect(await orgOf(t.api, free[1]!.id)).toBe(sub.id);
    expect(await orgOf(t.api, bound.id)).toBe(a.org.id);
    expect(await orgOf(t.api, theirs)).toBe(b.org.id);

    const bySerial = await t.api<Allocation>('POST', `/v1/orgs/${sub.id}/allocations`, { serials: [free[2]!.serial, 'NO-SUCH-SERIAL'] }, as);
    expect(bySerial.body).toEqual({ moved: 1, refused: [{ id: 'NO-SUCH-SERIAL', code: 'not_found' }] });
    expect(await orgOf(t.api, free[2]!.id)).toBe(sub.id);

    // One audit entry per call, with the counts and the ids.
    const entries = (await t.api<{ items: AuditEntry[] }>('GET', `/v1/audit?action=org.allocate&target=${sub.id}&limit=10`)).body.items;
    expect(entries).toHaveLength(2);
    const first = entries.find((e) => e.data.moved === 2);
    expect(first?.actorId).toBe(a.admin.id);
    expect(first?.data).toMatchObject({ to: sub.id, moved: 2, refused: 3 });
    expect((first?.data.deviceIds as string[]).sort()).toEqual([free[0]!.id, free[1]!.id].sort());

    // A user of the sub-agent now sees exactly them, B still does not, and A (the parent) still does.
    const subUser = await t.api<{ token: string }>('POST', '/v1/users', { name: 'sub-op', role: 'operator', orgId: sub.id }, as);
    const subTerminals = (await t.api<{ items: { id: string }[] }>('GET', '/v1/devices?limit=500', undefined, { token: subUser.body.token })).body.items;
    expect(subTerminals.map((d) => d.id).sort()).toEqual(free.map((d) => d.id).sort());
    expect((await t.api('GET', `/v1/devices/${free[0]!.id}`, undefined, { token: b.admin.token })).status).toBe(404);
    expect((await t.api('GET', `/v1/devices/${free[0]!.id}`, undefined, as)).status).toBe(200);
  });

  it('refuses a target node outside the caller’s subtree, and more than 10,000 ids', async () => {
    const t = getServer();
    const as = { token: a.admin.token };
    const mine = await orgTerminal(t, a.admin.token);
    expect((await t.api('POST', `/v1/orgs/${b.org.id}/allocations`, { deviceIds: [mine.id] }, as)).status).toBe(404);
    expect((await t.api('POST', '/v1/orgs/org_root/allocations', { deviceIds: [mine.id] }, as)).status).toBe(404);
    expect(await orgOf(t.api, mine.id)).toBe(a.org.id);
    const tooMany = Array.from({ length: 10_001 }, (_, i) => `dev_${String(i).padStart(16, '0')}`);
    expect((await t.api('POST', `/v1/orgs/${sub.id}/allocations`, { deviceIds: tooMany }, as)).status).toBe(400);
    expect((await t.api('POST', `/v1/orgs/${sub.id}/allocations`, { deviceIds: [mine.id] }, { token: a.operator.token })).status).toBe(200);
  });

  it('moving a merchant carries every terminal bound to it, in one call, audited', async () => {
    const t = getServer();
    const as = { token: a.admin.token };
    const terminals = [await orgTerminal(t, a.admin.token), await orgTerminal(t, a.admin.token)];
    for (const d of terminals) expect((await t.api('PUT', `/v1/devices/${d.id}/binding`, { merchantId: a.merchant.id, tid: uniqueTid() }, as)).status).toBe(200);
    const bound = (await t.api<{ items: { deviceId: string }[] }>('GET', `/v1/merchants/${a.merchant.id}/terminals`)).body.items.map((x) => x.deviceId);
    expect(bound).toEqual(expect.arrayContaining(terminals.map((d) => d.id)));

    const moved = await t.api<{ merchantId: string; orgId: string; terminalsMoved: number }>('POST', `/v1/merchants/${a.merchant.id}/move`, { orgId: sub.id }, as);
    expect(moved.status, JSON.stringify(moved.body)).toBe(200);
    expect(moved.body).toEqual({ merchantId: a.merchant.id, orgId: sub.id, terminalsMoved: bound.length });
    expect((await t.api<{ orgId: string }>('GET', `/v1/merchants/${a.merchant.id}`)).body.orgId).toBe(sub.id);
    for (const id of bound) expect(await orgOf(t.api, id)).toBe(sub.id);

    const [entry] = (await t.api<{ items: AuditEntry[] }>('GET', `/v1/audit?action=merchant.move&target=${a.merchant.id}`)).body.items;
    expect(entry?.data).toMatchObject({ from: a.org.id, to: sub.id, terminals: bound.length });
    expect((entry?.data.deviceIds as string[]).sort()).toEqual([...bound].sort());

    // Not to another subtree, and not B's merchant.
    expect((await t.api('POST', `/v1/merchants/${a.merchant.id}/move`, { orgId: b.org.id }, as)).status).toBe(404);
    expect((await t.api('POST', `/v1/merchants/${b.merchant.id}/move`, { orgId: sub.id }, as)).status).toBe(404);
    expect((await t.api<{ orgId: string }>('GET', `/v1/merchants/${b.merchant.id}`)).body.orgId).toBe(b.org.id);
  });
});
