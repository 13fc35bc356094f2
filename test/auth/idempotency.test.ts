// The Idempotency-Key middleware (server/http/idempotency.ts) on the production HTTP app
// (createHttpApp: its validation, errors, auth and body limit), around a route of the test's own
// that counts its runs and can be held or made to fail; both engines.
import { randomBytes } from 'node:crypto';
import { createRoute, z } from '@hono/zod-openapi';
import { beforeEach, expect, it } from 'vitest';
import { idempotencyKeys } from '../../schemas/db.ts';
import { createAuditLog } from '../../server/audit/auditLog.ts';
import { createAuthService } from '../../server/auth/authService.ts';
import { createUserRequests } from '../../server/auth/userRequests.ts';
import { requireRole } from '../../server/auth/middleware.ts';
import { registerUserRoutes } from '../../server/auth/routes.ts';
import { AppError } from '../../server/errors.ts';
import { trustedProxies } from '../../server/http/clientAddress.ts';
import { createHttpApp, createRouter } from '../../server/http/httpApp.ts';
import { idempotency, purgeIdempotencyKeys } from '../../server/http/idempotency.ts';
import { createLogger } from '../../server/log.ts';
import { createSecretHasher } from '../../server/security/secretHasher.ts';
import { createApiClient, type Api } from '../helpers/apiClient.ts';
import { forEachDatabase, truncateAll } from '../helpers/databases.ts';
import { eventually } from '../helpers/eventually.ts';

const WorkBody = z.object({ kind: z.string().min(1) }).openapi('TestWork');

forEachDatabase('idempotency', (getDb) => {
  let api: Api;
  let adminToken: string;
  let operatorToken: string;
  let executed: number;
  let gate: Promise<void> | undefined;
  let failNext: 'throw' | 'conflict' | undefined;

  /** The route under test: counts its runs, and can be held at `gate` or made to fail once. */
  function workRoutes() {
    const routes = createRouter();
    const route = createRoute({
      method: 'post',
      path: '/v1/work',
      middleware: [requireRole('admin', 'operator'), idempotency(getDb())] as const,
      request: { body: { content: { 'application/json': { schema: WorkBody } }, required: true } },
      responses: { 202: { content: { 'application/json': { schema: z.object({ n: z.number(), kind: z.string() }) } }, description: 'ok' } },
    });
    routes.openapi(route, async (c) => {
      const { kind } = c.req.valid('json');
      executed++;
      const n = executed;
      if (gate) await gate;
      if (failNext === 'throw') {
        failNext = undefined;
        throw new Error('boom');
      }
      if (failNext === 'conflict') {
        failNext = undefined;
        throw new AppError(409, 'device_busy', 'device busy');
      }
      return c.json({ n, kind }, 202);
    });
    return routes;
  }

  beforeEach(async () => {
    await truncateAll(getDb());
    executed = 0;
    gate = undefined;
    failNext = undefined;
    const log = createLogger('silent');
    const hasher = createSecretHasher(randomBytes(32));
    const auth = createAuthService({ db: getDb(), hasher, log });
    const http = createHttpApp({ auth, log, bodyLimitBytes: 1 << 20, trustedProxies: trustedProxies([]) });
    const audit = createAuditLog({ db: getDb(), log });
    registerUserRoutes(http.app, { auth, audit, userRequests: createUserRequests({ db: getDb(), hasher, audit, log }) });
    http.mount(workRoutes());
    // In process: requests go to the app itself, no listener.
    api = createApiClient({ baseUrl: () => '', send: (url, init) => http.app.request(url, init) });
    adminToken = (await auth.bootstrapAdmin()).token ?? '';
    const op = await api<{ token: string }>('POST', '/v1/users', { name: 'olga', role: 'operator' }, { token: adminToken });
    operatorToken = op.body.token;
  });

  const work = <T = unknown>(key: string | undefined, body: unknown = { kind: 'reboot' }, token = operatorToken) =>
    api<T>('POST', '/v1/work', body, { token, headers: key === undefined ? {} : { 'idempotency-key': key } });

  it('does nothing without the header', async () => {
    expect((await work(undefined)).body).toEqual({ n: 1, kind: 'reboot' });
    expect((await work(undefined)).body).toEqual({ n: 2, kind: 'reboot' });
    expect(await getDb().select().from(idempotencyKeys)).toHaveLength(0);
  });

  it('replays the first answer unchanged, flagged Idempotent-Replayed', async () => {
    const first = await work('k-1');
    expect(first.status).toBe(202);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    const again = await work('k-1');
    expect(again.status).toBe(202);
    expect(again.text).toBe(first.text);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.headers.get('content-type')).toMatch(/application\/json/);
    expect(executed).toBe(1);
    // Another key, or another user with the same key, is another request.
    expect((await work('k-2')).body).toEqual({ n: 2, kind: 'reboot' });
    expect((await work('k-1', { kind: 'reboot' }, adminToken)).body).toEqual({ n: 3, kind: 'reboot' });
  });

  it('422 when the key comes back with another body', async () => {
    await work('k-1', { kind: 'reboot' });
    const res = await work('k-1', { kind: 'wipe' });
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({ error: { code: 'idempotency_key_reused' } });
    expect(executed).toBe(1);
  });

  it('409 idempotency_in_progress for a concurrent duplicate', async () => {
    let open!: () => void;
    gate = new Promise<void>((resolve) => (open = resolve));
    const first = work('k-1');
    await eventually(() => executed > 0, { stepMs: 5, what: 'the first request inside the handler' });
    const dup = await work('k-1');
    expect(dup.status).toBe(409);
    expect(dup.body).toMatchObject({ error: { code: 'idempotency_in_progress' } });
    open();
    expect((await first).status).toBe(202);
    expect((await work('k-1')).headers.get('idempotent-replayed')).toBe('true');
    expect(executed).toBe(1);
  });

  it('releases the key after a 5xx, keeps a 4xx', async () => {
    failNext = 'throw';
    expect((await work('k-1')).status).toBe(500);
    expect((await work('k-1')).status).toBe(202);
    expect(executed).toBe(2);

    failNext = 'conflict';
    const conflict = await work('k-2');
    expect(conflict.status).toBe(409);
    const replay = await work('k-2');
    expect(replay.status).toBe(409);
    expect(replay.text).toBe(conflict.text);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(executed).toBe(3);
  });

  it('leaves the body readable by the route’s validation', async () => {
    const bad = await work<{ error: { details: { path: string }[] } }>('k-bad', { kind: '' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details[0]?.path).toBe('kind');
    expect(executed).toBe(0);
  });

  it('checks the role before anything is reserved', async () => {
    const tech = await api<{ token: string }>('POST', '/v1/users', { name: 'tom', role: 'technician' }, { token: adminToken });
    const res = await work('k-1', { kind: 'x' }, tech.body.token);
    expect(res.status).toBe(403);
    expect(await getDb().select().from(idempotencyKeys)).toHaveLength(0);
  });

  it('rejects a malformed key', async () => {
    const res = await work('has space');
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: { code: 'bad_idempotency_key' } });
    expect((await work('x'.repeat(256))).status).toBe(400);
  });

  it('takes over a reservation abandoned by a crashed request', async () => {
    const me = (await api<{ id: string }>('GET', '/v1/me', undefined, { token: operatorToken })).body;
    const reservation = { requestHash: 'x', contentType: null, text: null };
    const row = { userId: me.id, route: 'POST /v1/work', status: 0, body: reservation };
    await getDb()
      .insert(idempotencyKeys)
      .values([
        { ...row, key: 'k-stale', createdAt: new Date(Date.now() - 10 * 60_000) },
        { ...row, key: 'k-fresh', createdAt: new Date() },
      ]);
    expect((await work('k-stale')).status).toBe(202);
    expect((await work('k-stale')).headers.get('idempotent-replayed')).toBe('true');
    expect((await work('k-fresh')).status).toBe(409);
  });

  it('purges old keys', async () => {
    await work('k-1');
    expect(await purgeIdempotencyKeys(getDb(), new Date(Date.now() - 60_000))).toBe(0);
    expect(await purgeIdempotencyKeys(getDb(), new Date(Date.now() + 60_000))).toBe(1);
    expect((await work('k-1')).body).toEqual({ n: 2, kind: 'reboot' });
  });
});
