// The user and token routes of the production server (both engines): authentication, roles,
// validation, paging, and the audit trail they leave.
import { beforeEach, expect, it } from 'vitest';
import type { CreatedUser } from '../../server/auth/authService.ts';
import { emptyServer, forEachServer } from '../helpers/testServer.ts';

const LOOPBACK = /^(::ffff:)?127\.0\.0\.1$/;

/** A 400 answer: the fields that failed. */
interface ValidationError {
  error: { code: string; details: { path: string }[] };
}
/** GET /v1/users. */
interface UserPage {
  items: { name: string; createdAt: string }[];
  nextCursor: string | null;
}
/** The parts of GET /openapi.json read here. */
interface OpenApiDoc {
  paths: Record<string, unknown>;
  components: { schemas: Record<string, unknown> };
}

forEachServer('user routes', (server) => {
  let adminToken: string;

  beforeEach(async () => {
    adminToken = await emptyServer(server());
  });
  const createUser = async (name: string, role: string) => {
    const res = await server().api<CreatedUser>('POST', '/v1/users', { name, role }, { token: adminToken });
    expect(res.status).toBe(201);
    return res.body;
  };

  it('401 without a token, with a malformed header, and with a wrong token', async () => {
    const variants: Record<string, string>[] = [
      {},
      { authorization: 'Basic abc' },
      { authorization: 'Bearer' },
      { authorization: 'Bearer pf_nope' },
    ];
    for (const headers of variants) {
      const res = await server().api('GET', '/v1/me', undefined, { token: null, headers });
      expect(res.status).toBe(401);
      expect(res.body).toMatchObject({ error: { code: 'unauthorized' } });
      expect(res.headers.get('www-authenticate')).toBe('Bearer');
    }
  });

  it('GET /v1/me names the caller', async () => {
    const res = await server().api('GET', '/v1/me', undefined, { token: adminToken });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ name: 'admin', role: 'admin' });
    expect(res.headers.get('www-authenticate')).toBeNull();
  });

  it('creates a user (201, token once), which can then call the API', async () => {
    const res = await server().api<Record<string, unknown>>('POST', '/v1/users', { name: '  Olga  ', role: 'operator' }, { token: adminToken });
    expect(res.status).toBe(201);
    const body = res.body;
    expect(Object.keys(body).sort()).toEqual(['id', 'name', 'role', 'token']);
    expect(body).toMatchObject({ name: 'Olga', role: 'operator' });
    expect(body.id).toMatch(/^usr_/);
    expect(body.token).toMatch(/^pf_/);

    const me = await server().api('GET', '/v1/me', undefined, { token: String(body.token) });
    expect(me.body).toEqual({ id: body.id, name: 'Olga', role: 'operator' });
  });

  it('403 for an operator creating users, listing users or reading the audit log', async () => {
    const op = await createUser('olga', 'operator');
    const create = await server().api('POST', '/v1/users', { name: 'x', role: 'admin' }, { token: op.token });
    expect(create.status).toBe(403);
    expect(create.body).toMatchObject({ error: { code: 'forbidden' } });
    expect((await server().api('GET', '/v1/users', undefined, { token: op.token })).status).toBe(403);
    // Tokens: only one's own (test/auth/dualControl.test.ts); anyone else's is refused.
    expect((await server().api('POST', '/v1/users/usr_someone/tokens', undefined, { token: op.token })).body).toMatchObject({
      error: { code: 'own_tokens_only' },
    });
    expect((await server().api('POST', `/v1/users/${op.id}/disable`, undefined, { token: op.token })).status).toBe(403);
    expect((await server().api('GET', '/v1/audit', undefined, { token: op.token })).status).toBe(403);
  });

  it('400 with field paths for a bad body', async () => {
    const res = await server().api<ValidationError>('POST', '/v1/users', { name: '', role: 'root' }, { token: adminToken });
    expect(res.status).toBe(400);
    const details = res.body.error.details;
    expect(details.map((d) => d.path).sort()).toEqual(['name', 'role']);

    const extra = await server().api('POST', '/v1/users', { name: 'a', role: 'admin', isRoot: true }, { token: adminToken });
    expect(extra.status).toBe(400);

    const notJson = await server().api('POST', '/v1/users', undefined, { token: adminToken, raw: '{"name":', headers: { 'content-type': 'application/json' } });
    expect(notJson.status).toBe(400);
    expect(notJson.text).not.toMatch(/at .*\.ts/); // no stack trace

    const limit = await server().api<ValidationError>('GET', '/v1/users?limit=0', undefined, { token: adminToken });
    expect(limit.status).toBe(400);
    expect(limit.body.error.details[0]?.path).toBe('limit');
  });

  it('lists users page by page without tokens or hashes', async () => {
    for (let i = 0; i < 4; i++) await createUser(`u${i}`, 'technician');
    const p1 = await server().api<UserPage>('GET', '/v1/users?limit=3', undefined, { token: adminToken });
    expect(p1.status).toBe(200);
    const page1 = p1.body;
    // Users created in the same millisecond are ordered by id, so pages are checked against one listing.
    const whole = (await server().api<UserPage>('GET', '/v1/users?limit=10', undefined, { token: adminToken })).body;
    const names = whole.items.map((u) => u.name);
    expect(new Set(names)).toEqual(new Set(['admin', 'u0', 'u1', 'u2', 'u3']));
    expect(page1.items.map((u) => u.name)).toEqual(names.slice(0, 3));
    expect(new Date(page1.items[0]?.createdAt ?? '').toISOString()).toBe(page1.items[0]?.createdAt);
    const p2 = await server().api<UserPage>('GET', `/v1/users?limit=3&cursor=${encodeURIComponent(page1.nextCursor ?? '')}`, undefined, { token: adminToken });
    const page2 = p2.body;
    expect(page2.items.map((u) => u.name)).toEqual(names.slice(3));
    expect(page2.nextCursor).toBeNull();
    expect(p1.text + p2.text).not.toMatch(/token|hash/i);
  });

  it('issues tokens, disables users (401 afterwards) and audits it all, naming the user', async () => {
    const tech = await createUser('tom', 'technician');
    const issued = await server().api<{ token: string }>('POST', `/v1/users/${tech.id}/tokens`, undefined, { token: tech.token });
    expect(issued.status).toBe(201);
    const newToken = issued.body.token;
    expect(Object.keys(issued.body)).toEqual(['token']);
    expect((await server().api('GET', '/v1/me', undefined, { token: newToken })).status).toBe(200);
    expect((await server().api('GET', '/v1/me', undefined, { token: tech.token })).status).toBe(200);

    const disabled = await server().api('POST', `/v1/users/${tech.id}/disable`, undefined, { token: adminToken });
    expect(disabled.status).toBe(200);
    expect(disabled.body).toEqual({ id: tech.id, disabled: true });
    expect((await server().api('GET', '/v1/me', undefined, { token: newToken })).status).toBe(401);
    expect((await server().api('GET', '/v1/me', undefined, { token: tech.token })).status).toBe(401);

    expect((await server().api('POST', `/v1/users/${tech.id}/tokens`, undefined, { token: newToken })).status).toBe(401);
    expect((await server().api('POST', '/v1/users/usr_missing/disable', undefined, { token: adminToken })).status).toBe(404);

    const auditor = await createUser('ann', 'auditor');
    const log = await server().api<{ items: { action: string; target: string; actorName: string; ip: string }[] }>('GET', '/v1/audit', undefined, { token: auditor.token });
    expect(log.status).toBe(200);
    const entries = log.body.items;
    expect(entries.map((e) => [e.action, e.target, e.actorName, e.ip])).toEqual([
      ['user.create', auditor.id, 'admin', expect.stringMatching(LOOPBACK)],
      ['user.disable', tech.id, 'admin', expect.stringMatching(LOOPBACK)],
      ['user.token.issue', tech.id, 'tom', expect.stringMatching(LOOPBACK)],
      ['user.create', tech.id, 'admin', expect.stringMatching(LOOPBACK)],
    ]);
    expect(log.text).not.toContain(tech.token);
    expect(log.text).not.toContain(newToken);

    const verify = await server().api('GET', '/v1/audit/verify', undefined, { token: auditor.token });
    expect(verify.body).toEqual({ ok: true, checked: 4 });
  });

  it('records the client address of the connection, not an untrusted X-Forwarded-For', async () => {
    const res = await server().api('POST', '/v1/users', { name: 'net', role: 'operator' }, { token: adminToken, headers: { 'x-forwarded-for': '6.6.6.6' } });
    expect(res.status).toBe(201);
    const [entry] = (await server().server.parts.audit.list({ limit: 1 })).items;
    expect(entry?.action).toBe('user.create');
    expect(entry?.ip).toMatch(LOOPBACK);
  });

  it('describes the routes in the OpenAPI document', async () => {
    const doc = (await server().api<OpenApiDoc>('GET', '/openapi.json', undefined, { token: null })).body;
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/v1/users', '/v1/users/{id}/tokens', '/v1/users/{id}/disable', '/v1/me', '/v1/audit', '/v1/audit/verify']),
    );
    expect(Object.keys(doc.components.schemas)).toEqual(expect.arrayContaining(['CreateUser', 'CreatedUser', 'AuditEntry', 'Error']));
  });

  it('409 last_admin when the only admin disables itself', async () => {
    const me = (await server().api<{ id: string }>('GET', '/v1/me', undefined, { token: adminToken })).body;
    const res = await server().api('POST', `/v1/users/${me.id}/disable`, undefined, { token: adminToken });
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ error: { code: 'last_admin' } });
    expect((await server().api('GET', '/v1/me', undefined, { token: adminToken })).status).toBe(200);
  });
});
