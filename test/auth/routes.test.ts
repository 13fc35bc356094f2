import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { beforeEach, expect, it } from 'vitest';
import type { AppRouter } from '../../server/http/types.ts';
import { forEachDatabase, truncateAll } from '../helpers/databases.ts';
import { call, createTestApp, type TestApp } from './testApp.ts';

forEachDatabase('user routes', (getDb) => {
  let t: TestApp;
  let app: AppRouter;
  let adminToken: string;

  beforeEach(async () => {
    await truncateAll(getDb());
    t = createTestApp(getDb());
    app = t.app;
    adminToken = (await t.auth.bootstrapAdmin()).token ?? '';
  });

  const createUser = async (name: string, role: string) => {
    const res = await call(app, 'POST', '/v1/users', { token: adminToken, body: { name, role } });
    expect(res.status).toBe(201);
    return res.json as { id: string; name: string; role: string; token: string };
  };

  it('401 without a token, with a malformed header, and with a wrong token', async () => {
    const variants: Record<string, string>[] = [
      {},
      { authorization: 'Basic abc' },
      { authorization: 'Bearer' },
      { authorization: 'Bearer pf_nope' },
    ];
    for (const headers of variants) {
      const res = await call(app, 'GET', '/v1/me', { headers });
      expect(res.status).toBe(401);
      expect(res.json).toMatchObject({ error: { code: 'unauthorized' } });
      expect(res.headers.get('www-authenticate')).toBe('Bearer');
    }
  });

  it('GET /v1/me names the caller', async () => {
    const res = await call(app, 'GET', '/v1/me', { token: adminToken });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ name: 'admin', role: 'admin' });
    expect(res.headers.get('www-authenticate')).toBeNull();
  });

  it('creates a user (201, token once), which can then call the API', async () => {
    const res = await call(app, 'POST', '/v1/users', { token: adminToken, body: { name: '  Olga  ', role: 'operator' } });
    expect(res.status).toBe(201);
    const body = res.json as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(['id', 'name', 'role', 'token']);
    expect(body).toMatchObject({ name: 'Olga', role: 'operator' });
    expect(body.id).toMatch(/^usr_/);
    expect(body.token).toMatch(/^pf_/);

    const me = await call(app, 'GET', '/v1/me', { token: String(body.token) });
    expect(me.json).toEqual({ id: body.id, name: 'Olga', role: 'operator' });
  });

  it('403 for an operator creating users, listing users or reading the audit log', async () => {
    const op = await createUser('olga', 'operator');
    const create = await call(app, 'POST', '/v1/users', { token: op.token, body: { name: 'x', role: 'admin' } });
    expect(create.status).toBe(403);
    expect(create.json).toMatchObject({ error: { code: 'forbidden' } });
    expect((await call(app, 'GET', '/v1/users', { token: op.token })).status).toBe(403);
    expect((await call(app, 'POST', `/v1/users/${op.id}/tokens`, { token: op.token })).status).toBe(403);
    expect((await call(app, 'POST', `/v1/users/${op.id}/disable`, { token: op.token })).status).toBe(403);
    expect((await call(app, 'GET', '/v1/audit', { token: op.token })).status).toBe(403);
  });

  it('400 with field paths for a bad body', async () => {
    const res = await call(app, 'POST', '/v1/users', { token: adminToken, body: { name: '', role: 'root' } });
    expect(res.status).toBe(400);
    const details = (res.json as { error: { details: { path: string }[] } }).error.details;
    expect(details.map((d) => d.path).sort()).toEqual(['name', 'role']);

    const extra = await call(app, 'POST', '/v1/users', { token: adminToken, body: { name: 'a', role: 'admin', isRoot: true } });
    expect(extra.status).toBe(400);

    const notJson = await call(app, 'POST', '/v1/users', { token: adminToken, body: '{"name":' });
    expect(notJson.status).toBe(400);
    expect(notJson.text).not.toMatch(/at .*\.ts/); // no stack trace

    const limit = await call(app, 'GET', '/v1/users?limit=0', { token: adminToken });
    expect(limit.status).toBe(400);
    expect((limit.json as { error: { details: { path: string }[] } }).error.details[0]?.path).toBe('limit');
  });

  it('lists users page by page without tokens or hashes', async () => {
    for (let i = 0; i < 4; i++) await createUser(`u${i}`, 'technician');
    const p1 = await call(app, 'GET', '/v1/users?limit=3', { token: adminToken });
    expect(p1.status).toBe(200);
    const page1 = p1.json as { items: { name: string; createdAt: string }[]; nextCursor: string };
    // Users created in the same millisecond are ordered by id, so pages are checked against one listing.
    const whole = (await call(app, 'GET', '/v1/users?limit=10', { token: adminToken })).json as { items: { name: string }[] };
    const names = whole.items.map((u) => u.name);
    expect(new Set(names)).toEqual(new Set(['admin', 'u0', 'u1', 'u2', 'u3']));
    expect(page1.items.map((u) => u.name)).toEqual(names.slice(0, 3));
    expect(new Date(page1.items[0]?.createdAt ?? '').toISOString()).toBe(page1.items[0]?.createdAt);
    const p2 = await call(app, 'GET', `/v1/users?limit=3&cursor=${encodeURIComponent(page1.nextCursor)}`, { token: adminToken });
    const page2 = p2.json as { items: { name: string }[]; nextCursor: string | null };
    expect(page2.items.map((u) => u.name)).toEqual(names.slice(3));
    expect(page2.nextCursor).toBeNull();
    expect(p1.text + p2.text).not.toMatch(/token|hash/i);
  });

  it('issues tokens, disables users (401 afterwards) and audits it all, naming the user', async () => {
    const tech = await createUser('tom', 'technician');
    const issued = await call(app, 'POST', `/v1/users/${tech.id}/tokens`, { token: adminToken });
    expect(issued.status).toBe(201);
    const newToken = (issued.json as { token: string }).token;
    expect(Object.keys(issued.json as object)).toEqual(['token']);
    expect((await call(app, 'GET', '/v1/me', { token: newToken })).status).toBe(200);
    expect((await call(app, 'GET', '/v1/me', { token: tech.token })).status).toBe(200);

    const disabled = await call(app, 'POST', `/v1/users/${tech.id}/disable`, { token: adminToken });
    expect(disabled.status).toBe(200);
    expect(disabled.json).toEqual({ id: tech.id, disabled: true });
    expect((await call(app, 'GET', '/v1/me', { token: newToken })).status).toBe(401);
    expect((await call(app, 'GET', '/v1/me', { token: tech.token })).status).toBe(401);

    expect((await call(app, 'POST', `/v1/users/${tech.id}/tokens`, { token: adminToken })).json).toMatchObject({
      error: { code: 'user_disabled' },
    });
    expect((await call(app, 'POST', '/v1/users/usr_missing/disable', { token: adminToken })).status).toBe(404);

    const auditor = await createUser('ann', 'auditor');
    const log = await call(app, 'GET', '/v1/audit', { token: auditor.token });
    expect(log.status).toBe(200);
    const entries = (log.json as { items: { action: string; target: string; actorName: string; ip: string }[] }).items;
    expect(entries.map((e) => [e.action, e.target, e.actorName, e.ip])).toEqual([
      ['user.create', auditor.id, 'admin', 'unknown'],
      ['user.disable', tech.id, 'admin', 'unknown'],
      ['user.token.issue', tech.id, 'admin', 'unknown'],
      ['user.create', tech.id, 'admin', 'unknown'],
    ]);
    expect(log.text).not.toContain(tech.token);
    expect(log.text).not.toContain(newToken);

    const verify = await call(app, 'GET', '/v1/audit/verify', { token: auditor.token });
    expect(verify.json).toEqual({ ok: true, checked: 4 });
  });

  it('records the client address of a real connection', async () => {
    const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    try {
      const { port } = server.address() as AddressInfo;
      const res = await fetch(`http://127.0.0.1:${port}/v1/users`, {
        method: 'POST',
        headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json', 'x-forwarded-for': '6.6.6.6' },
        body: JSON.stringify({ name: 'net', role: 'operator' }),
      });
      expect(res.status).toBe(201);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    const [entry] = (await t.audit.list({ limit: 1 })).items;
    expect(entry?.action).toBe('user.create');
    expect(entry?.ip).toMatch(/^(::ffff:)?127\.0\.0\.1$/);
  });

  it('describes the routes in the OpenAPI document', () => {
    const doc = app.getOpenAPIDocument({ openapi: '3.0.0', info: { title: 'posfleet', version: '0' } });
    expect(Object.keys(doc.paths ?? {})).toEqual(
      expect.arrayContaining(['/v1/users', '/v1/users/{id}/tokens', '/v1/users/{id}/disable', '/v1/me', '/v1/audit', '/v1/audit/verify']),
    );
    expect(Object.keys(doc.components?.schemas ?? {})).toEqual(expect.arrayContaining(['CreateUser', 'CreatedUser', 'AuditEntry', 'Error']));
  });

  it('409 last_admin when the only admin disables itself', async () => {
    const me = (await call(app, 'GET', '/v1/me', { token: adminToken })).json as { id: string };
    const res = await call(app, 'POST', `/v1/users/${me.id}/disable`, { token: adminToken });
    expect(res.status).toBe(409);
    expect(res.json).toMatchObject({ error: { code: 'last_admin' } });
    expect((await call(app, 'GET', '/v1/me', { token: adminToken })).status).toBe(200);
  });
});
