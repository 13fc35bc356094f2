// Scoping through the real server on both engines: agents A and B under the root, each with users,
// a merchant and terminals. A's users list and read only A's subtree; B's objects answer A exactly
// as unknown ids do (404, same message), on reads and on mutations; the root sees everything.
import { beforeAll, expect, it } from 'vitest';
import { forEachServer } from '../helpers/testServer.ts';
import { activeMerchant, merchantBody, uniqueTid, type User } from '../merchants/helpers.ts';
import { agent, createOrg, orgTerminal, rootReviewer, type Agent, type OrgView } from './helpers.ts';

interface Page<T> {
  items: T[];
  nextCursor: string | null;
}
interface ErrorBody {
  error: { code: string; message: string };
}
const ids = (page: Page<{ id: string }>) => page.items.map((x) => x.id);
/** An id of the right shape that names nothing. */
const unknown = (prefix: string) => `${prefix}_AAAAAAAAAAAAAAAA`;

forEachServer('organisation scope', (server) => {
  let a: Agent;
  let b: Agent;
  let reviewer: User;

  beforeAll(async () => {
    const t = server();
    reviewer = await rootReviewer(t);
    a = await agent(t, 'Agent A', reviewer);
    b = await agent(t, 'Agent B', reviewer);
  }, 120_000);

  it('A lists only its own terminals, merchants, users and nodes; the root lists both', async () => {
    const t = server();
    const as = { token: a.admin.token };
    const devices = (await t.api<Page<{ id: string; orgId: string }>>('GET', '/v1/devices?limit=500', undefined, as)).body;
    expect(ids(devices).sort()).toEqual(a.terminals.map((d) => d.id).sort());
    expect(devices.items.every((d) => d.orgId === a.org.id)).toBe(true);
    expect(ids((await t.api<Page<{ id: string }>>('GET', '/v1/merchants?limit=500', undefined, as)).body)).toEqual([a.merchant.id]);
    expect(ids((await t.api<Page<{ id: string }>>('GET', '/v1/users?limit=500', undefined, as)).body).sort()).toEqual([a.admin.id, a.operator.id].sort());
    expect(ids((await t.api<Page<{ id: string }>>('GET', '/v1/orgs', undefined, as)).body)).toEqual([a.org.id]);

    const all = ids((await t.api<Page<{ id: string }>>('GET', '/v1/devices?limit=500')).body);
    expect(all).toEqual(expect.arrayContaining([...a.terminals, ...b.terminals].map((d) => d.id)));
    const merchants = ids((await t.api<Page<{ id: string }>>('GET', '/v1/merchants?limit=500')).body);
    expect(merchants).toEqual(expect.arrayContaining([a.merchant.id, b.merchant.id]));
    const orgs = (await t.api<Page<OrgView>>('GET', '/v1/orgs')).body.items;
    expect(orgs[0]?.id).toBe('org_root');
    expect(orgs.map((o) => o.id)).toEqual(expect.arrayContaining([a.org.id, b.org.id]));
  });

  it('B’s terminal, merchant, user and node answer A as unknown ids do, on reads', async () => {
    const t = server();
    const as = { token: a.admin.token };
    const cases: [string, string][] = [
      [`/v1/devices/${b.terminals[0]!.id}`, `/v1/devices/${unknown('dev')}`],
      [`/v1/devices/${b.terminals[0]!.id}/commands`, `/v1/devices/${unknown('dev')}/commands`],
      [`/v1/devices/${b.terminals[0]!.id}/lock`, `/v1/devices/${unknown('dev')}/lock`],
      [`/v1/merchants/${b.merchant.id}`, `/v1/merchants/${unknown('mer')}`],
      [`/v1/orgs/${b.org.id}`, `/v1/orgs/${unknown('org')}`],
    ];
    for (const [theirs, nobodys] of cases) {
      const res = await t.api<ErrorBody>('GET', theirs, undefined, as);
      const none = await t.api<ErrorBody>('GET', nobodys, undefined, as);
      expect(res.status, theirs).toBe(404);
      expect(res.body.error.code).toBe('not_found');
      // The same words as for an id that names nothing: nothing confirms it exists.
      expect(res.body.error.message.replace(/[a-z]+_[A-Za-z0-9_-]{16}/g, 'ID'), theirs).toBe(none.body.error.message.replace(/[a-z]+_[A-Za-z0-9_-]{16}/g, 'ID'));
    }
    // A's own terminal reads fine, and B's reads fine for B and the root.
    expect((await t.api('GET', `/v1/devices/${a.terminals[0]!.id}`, undefined, as)).status).toBe(200);
    expect((await t.api('GET', `/v1/devices/${b.terminals[0]!.id}`, undefined, { token: b.admin.token })).status).toBe(200);
    expect((await t.api('GET', `/v1/devices/${b.terminals[0]!.id}`)).status).toBe(200);
  });

  it('A cannot lock, command, revoke, review or bind across to B: 404 and nothing changed', async () => {
    const t = server();
    const as = { token: a.admin.token };
    const theirs = b.terminals[0]!.id;
    expect((await t.api('POST', `/v1/devices/${theirs}/lock`, { note: 'not yours' }, as)).status).toBe(404);
    expect((await t.api('POST', `/v1/devices/${theirs}/commands`, { type: 'reboot', payload: {} }, as)).status).toBe(404);
    expect((await t.api('POST', `/v1/devices/${theirs}/revoke`, {}, as)).status).toBe(404);
    expect((await t.api('POST', `/v1/merchants/${b.merchant.id}/suspend`, { reason: 'not yours' }, as)).status).toBe(404);
    const batch = await t.api<ErrorBody>('POST', '/v1/commands', { type: 'reboot', payload: {}, target: { deviceIds: [theirs] } }, as);
    expect(batch.status).toBe(400);
    expect(batch.body.error.code).toBe('unknown_devices');
    // A's terminal bound to B's merchant: the merchant is unknown to A.
    const bind = await t.api<ErrorBody>('PUT', `/v1/devices/${a.terminals[0]!.id}/binding`, { merchantId: b.merchant.id, tid: 'TSCOPE01' }, as);
    expect(bind.status).toBe(404);

    const lock = await t.api<{ locked: boolean; reasons: unknown[] }>('GET', `/v1/devices/${theirs}/lock`);
    expect(lock.body.locked).toBe(false);
    expect((await t.api<{ status: string }>('GET', `/v1/devices/${theirs}`)).body.status).toBe('enrolled');
    expect((await t.api<{ status: string }>('GET', `/v1/merchants/${b.merchant.id}`)).body.status).toBe('active');
    expect((await t.api<Page<unknown>>('GET', `/v1/devices/${theirs}/commands`)).body.items).toEqual([]);
  });

  it('creations land in the creator’s node, or a node below it; never in another subtree', async () => {
    const t = server();
    const as = { token: a.admin.token };
    const child = await createOrg(t, 'A shop', undefined, a.admin.token);
    expect(child.parentId).toBe(a.org.id);
    expect(child.path).toBe(`${a.org.path}${child.id}/`);
    const there = await orgTerminal(t, a.admin.token, child.id);
    expect((await t.api<{ orgId: string }>('GET', `/v1/devices/${there.id}`, undefined, as)).body.orgId).toBe(child.id);
    const refused = await t.api<ErrorBody>('POST', '/v1/devices', { serial: `X-${Date.now()}`, model: 'PAX-A920', orgId: b.org.id }, as);
    expect(refused.status).toBe(404);
    expect((await t.api('POST', '/v1/users', { name: 'spy', role: 'operator', orgId: b.org.id }, as)).status).toBe(404);
    expect((await t.api('POST', '/v1/orgs', { name: 'inside B', parentId: b.org.id }, as)).status).toBe(404);
    // The child's user sees the child only, not its parent A.
    const sub = await t.api<{ token: string }>('POST', '/v1/users', { name: 'shopkeeper', role: 'operator', orgId: child.id }, as);
    expect(sub.status).toBe(201);
    const seen = ids((await t.api<Page<{ id: string }>>('GET', '/v1/devices?limit=500', undefined, { token: sub.body.token })).body);
    expect(seen).toEqual([there.id]);
    expect((await t.api('GET', `/v1/devices/${a.terminals[0]!.id}`, undefined, { token: sub.body.token })).status).toBe(404);
  });

  it('reviews are decided by the owning node or above: another subtree’s reviewer gets 404', async () => {
    const t = server();
    const pending = await t.api<{ id: string; status: string }>('POST', '/v1/merchants', merchantBody(), { token: a.operator.token });
    expect(pending.status).toBe(201);
    expect((await t.api('POST', `/v1/merchants/${pending.body.id}/approve`, undefined, { token: b.admin.token })).status).toBe(404);
    expect((await t.api('POST', `/v1/merchants/${pending.body.id}/reject`, { reason: 'not yours' }, { token: b.admin.token })).status).toBe(404);
    const approved = await t.api<{ status: string }>('POST', `/v1/merchants/${pending.body.id}/approve`, undefined, { token: a.admin.token });
    expect(approved.status).toBe(200);
    expect(approved.body.status).toBe('active');

    // A user request for A's node: B's admin cannot decide it, the root's can.
    const request = await t.api<{ request: { id: string; orgId: string } }>('POST', '/v1/users', { name: 'a-admin-2', role: 'admin' }, { token: a.admin.token });
    expect(request.status).toBe(202);
    expect(request.body.request.orgId).toBe(a.org.id);
    expect((await t.api('POST', `/v1/user-requests/${request.body.request.id}/approve`, undefined, { token: b.admin.token })).status).toBe(404);
    const made = await t.api<{ id: string }>('POST', `/v1/user-requests/${request.body.request.id}/approve`, undefined, { token: reviewer.token });
    expect(made.status).toBe(201);
    expect(ids((await t.api<Page<{ id: string }>>('GET', '/v1/users?limit=500', undefined, { token: a.admin.token })).body)).toContain(made.body.id);

    // A rebind request of A's terminal: B's admin cannot decide it.
    const other = await activeMerchant(t, a.admin, {}, a.operator.token);
    const terminal = a.terminals[1]!.id;
    expect((await t.api('PUT', `/v1/devices/${terminal}/binding`, { merchantId: a.merchant.id, tid: uniqueTid() }, { token: a.admin.token })).status).toBe(200);
    const rbr = await t.api<{ id: string }>('POST', `/v1/devices/${terminal}/rebind-requests`, { merchantId: other.id, tid: uniqueTid(), reason: 'moved' }, { token: a.operator.token });
    expect(rbr.status).toBe(201);
    expect((await t.api('POST', `/v1/rebind-requests/${rbr.body.id}/approve`, undefined, { token: b.admin.token })).status).toBe(404);
    expect((await t.api('POST', `/v1/rebind-requests/${rbr.body.id}/approve`, undefined, { token: a.admin.token })).status).toBe(200);
  });

  it('the fleet summary counts the caller’s subtree', async () => {
    const t = server();
    const summary = await t.api<{ devices: number }>('GET', '/v1/fleet/summary', undefined, { token: b.admin.token });
    expect(summary.body.devices).toBe(b.terminals.length);
    const root = await t.api<{ devices: number }>('GET', '/v1/fleet/summary');
    expect(root.body.devices).toBeGreaterThanOrEqual(a.terminals.length + b.terminals.length);
  });
});
