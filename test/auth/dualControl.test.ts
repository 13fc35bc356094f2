// Dual control over people (issue #16): one admin cannot become two. A token reaches only its
// owner, and once there are two admins a new admin needs the approval of another one (both engines).
import { beforeEach, expect, it } from 'vitest';
import type { CreatedUser } from '../../server/auth/authService.ts';
import type { UserRequestView } from '../../server/auth/userRequests.ts';
import { merchantBody } from '../merchants/helpers.ts';
import { emptyServer, forEachServer } from '../helpers/testServer.ts';

interface AuditPage {
  items: { actorId: string | null; action: string; target: string | null; data: Record<string, unknown> }[];
}

forEachServer('dual control over users and tokens', (server) => {
  let first: string;

  beforeEach(async () => {
    first = await emptyServer(server());
  });
  const api = <T>(method: string, path: string, token: string, body?: unknown) => server().api<T>(method, path, body, { token });
  const me = async (token: string) => (await api<{ id: string }>('GET', '/v1/me', token)).body.id;
  /** The first admin alone makes the second one: there is nobody else to ask. */
  const secondAdmin = async () => {
    const res = await api<CreatedUser>('POST', '/v1/users', first, { name: 'Bea', role: 'admin' });
    expect(res.status).toBe(201);
    return res.body;
  };

  it('an admin cannot take another admin’s token, so cannot approve its own merchant as them', async () => {
    const bea = await secondAdmin();
    const merchant = await api<{ id: string }>('POST', '/v1/merchants', first, merchantBody());
    expect(merchant.status).toBe(201);

    const stolen = await api<{ error: { code: string } }>('POST', `/v1/users/${bea.id}/tokens`, first);
    expect(stolen.status).toBe(403);
    expect(stolen.body.error.code).toBe('own_tokens_only');
    const self = await api('POST', `/v1/merchants/${merchant.body.id}/approve`, first);
    expect(self.status).toBe(403);
    // Bea's own approval is what activates it.
    expect((await api('POST', `/v1/merchants/${merchant.body.id}/approve`, bea.token)).status).toBe(200);
  });

  it('no token for any other user either; every user makes their own, which works', async () => {
    const olga = (await api<CreatedUser>('POST', '/v1/users', first, { name: 'Olga', role: 'operator' })).body;
    expect((await api('POST', `/v1/users/${olga.id}/tokens`, first)).status).toBe(403);

    const mine = await api<{ token: string }>('POST', `/v1/users/${olga.id}/tokens`, olga.token);
    expect(mine.status).toBe(201);
    expect(await me(mine.body.token)).toBe(olga.id);
    const adminOwn = await api<{ token: string }>('POST', `/v1/users/${await me(first)}/tokens`, first);
    expect(adminOwn.status).toBe(201);
    // Olga may not make one for the admin.
    expect((await api('POST', `/v1/users/${await me(first)}/tokens`, olga.token)).status).toBe(403);
  });

  it('with two admins a third is a request that only the other admin can approve', async () => {
    const bea = await secondAdmin();
    const asked = await api<{ request: UserRequestView }>('POST', '/v1/users', first, { name: 'Cid', role: 'admin' });
    expect(asked.status).toBe(202);
    const request = asked.body.request;
    expect(request).toMatchObject({ name: 'Cid', role: 'admin', state: 'pending', requestedBy: await me(first) });
    expect(asked.text).not.toContain('pf_');
    const users = await api<{ items: { name: string }[] }>('GET', '/v1/users', first);
    expect(users.body.items.map((u) => u.name)).not.toContain('Cid');

    const own = await api<{ error: { code: string } }>('POST', `/v1/user-requests/${request.id}/approve`, first);
    expect(own.status).toBe(403);
    expect(own.body.error.code).toBe('dual_control');

    const approved = await api<CreatedUser>('POST', `/v1/user-requests/${request.id}/approve`, bea.token);
    expect(approved.status).toBe(201);
    expect(approved.body).toMatchObject({ name: 'Cid', role: 'admin' });
    expect(await me(approved.body.token)).toBe(approved.body.id);
    const again = await api<{ error: { code: string } }>('POST', `/v1/user-requests/${request.id}/approve`, bea.token);
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('already_decided');
    expect((await api<UserRequestView>('GET', `/v1/user-requests/${request.id}`, bea.token)).body).toMatchObject({
      state: 'approved',
      decidedBy: bea.id,
      userId: approved.body.id,
    });

    // What an auditor reads: the request by one admin, the approval and the creation by another.
    const audit = await api<AuditPage>('GET', `/v1/audit?target=${request.id}`, first);
    const byAction = Object.fromEntries(audit.body.items.map((e) => [e.action, e]));
    expect(byAction['user.create.request']).toMatchObject({ actorId: await me(first), data: { name: 'Cid', role: 'admin' } });
    expect(byAction['user.create.refused']).toMatchObject({ actorId: await me(first), data: { code: 'dual_control' } });
    expect(byAction['user.create.approve']).toMatchObject({
      actorId: bea.id,
      data: { requestedBy: await me(first), userId: approved.body.id },
    });
    const created = await api<AuditPage>('GET', `/v1/audit?target=${approved.body.id}&action=user.create`, first);
    expect(created.body.items).toHaveLength(1);
    expect(created.body.items[0]).toMatchObject({ actorId: bea.id, data: { requestedBy: await me(first), request: request.id } });
  });

  it('a rejected request creates nobody and cannot be approved later; other roles stay direct', async () => {
    const bea = await secondAdmin();
    const asked = await api<{ request: UserRequestView }>('POST', '/v1/users', bea.token, { name: 'Dov', role: 'admin' });
    expect(asked.status).toBe(202);
    const rejected = await api<UserRequestView>('POST', `/v1/user-requests/${asked.body.request.id}/reject`, first);
    expect(rejected.status).toBe(200);
    expect(rejected.body).toMatchObject({ state: 'rejected', decidedBy: await me(first) });
    expect((await api('POST', `/v1/user-requests/${asked.body.request.id}/approve`, first)).status).toBe(409);
    expect((await api<{ items: unknown[] }>('GET', '/v1/users', first)).body.items).toHaveLength(2);

    const pending = await api<{ items: UserRequestView[] }>('GET', '/v1/user-requests', first);
    expect(pending.body.items).toHaveLength(1);
    expect((await api('POST', '/v1/users', first, { name: 'Olga', role: 'operator' })).status).toBe(201);
  });

  it('a non-admin cannot decide a request', async () => {
    await secondAdmin();
    const olga = (await api<CreatedUser>('POST', '/v1/users', first, { name: 'Olga', role: 'operator' })).body;
    const asked = await api<{ request: UserRequestView }>('POST', '/v1/users', first, { name: 'Eve', role: 'admin' });
    expect((await api('POST', `/v1/user-requests/${asked.body.request.id}/approve`, olga.token)).status).toBe(403);
    expect((await api('POST', '/v1/users', olga.token, { name: 'Eve', role: 'admin' })).status).toBe(403);
  });
});
