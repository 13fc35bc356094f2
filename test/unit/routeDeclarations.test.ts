// The pieces every route is declared with: the role sets (each exactly the roles docs/api.md
// lists for it), id path params, and routesTagged, checked on a router made like production's
// (createRouter) with the production error handler; no server, broker or database.
import { z } from '@hono/zod-openapi';
import { describe, expect, it } from 'vitest';
import { roles, ROOT_ORG_ID, ROOT_ORG_PATH, type Role } from '../../schemas/db.ts';
import { admins, operators, readers, technicians } from '../../server/auth/roleSets.ts';
import { createErrorHandler } from '../../server/http/errorHandler.ts';
import { createRouter } from '../../server/http/httpApp.ts';
import { errorResponses, jsonResponse, pathParams } from '../../server/http/schemas.ts';
import { routesTagged } from '../../server/http/taggedRoutes.ts';
import { createLogger } from '../../server/log.ts';

const roleSets = { readers, technicians, operators, admins };
const allowed: Record<keyof typeof roleSets, Role[]> = {
  readers: ['admin', 'operator', 'technician', 'auditor'],
  technicians: ['admin', 'operator', 'technician'],
  operators: ['admin', 'operator'],
  admins: ['admin'],
};

/** An app whose caller has the role in the `x-role` header, with one route per role set. */
function appWithRoleRoutes() {
  const app = createRouter();
  app.onError(createErrorHandler(createLogger('silent')));
  app.use('*', async (c, next) => {
    c.set('principal', { userId: 'usr_test', name: 'test', role: z.enum(roles).parse(c.req.header('x-role')), orgId: ROOT_ORG_ID, orgPath: ROOT_ORG_PATH });
    await next();
  });
  const route = routesTagged('test', { security: [] });
  const declared = Object.entries(roleSets).map(([name, check]) => {
    const r = route.post(`/v1/${name}/{id}`, check, `only ${name}`, {
      request: { params: pathParams('id') },
      responses: { 200: jsonResponse(z.object({ id: z.string() }), 'ok'), ...errorResponses(400, 403) },
    });
    app.openapi(r, (c) => c.json({ id: c.req.valid('param').id }, 200));
    return r;
  });
  return { app, declared };
}

describe('role sets', () => {
  const { app } = appWithRoleRoutes();
  for (const [name, expected] of Object.entries(allowed)) {
    it(`${name} lets exactly ${expected.join(', ')} through`, async () => {
      for (const role of roles) {
        const res = await app.request(`/v1/${name}/dev_1`, { method: 'POST', headers: { 'x-role': role } });
        expect(res.status, `${role} on ${name}`).toBe(expected.includes(role) ? 200 : 403);
        if (res.status === 403) expect(await res.json()).toMatchObject({ error: { code: 'forbidden' } });
        else expect(await res.json()).toEqual({ id: 'dev_1' });
      }
    });
  }
});

describe('routesTagged', () => {
  it('declares method, path, tag, summary, the role check and the shared security, then the details', () => {
    const { declared } = appWithRoleRoutes();
    const first = declared[0]!;
    expect(first).toMatchObject({ method: 'post', path: '/v1/readers/{id}', tags: ['test'], summary: 'only readers', security: [] });
    expect(first.middleware).toEqual([readers]);
    expect(Object.keys(first.responses)).toEqual(['200', '400', '403']);
  });
});

describe('pathParams', () => {
  const params = pathParams('id', 'cmdId');
  it('takes a public id of 1 to 64 characters in each named segment', () => {
    expect(params.parse({ id: 'dev_1', cmdId: 'cmd_2' })).toEqual({ id: 'dev_1', cmdId: 'cmd_2' });
    expect(params.safeParse({ id: '', cmdId: 'cmd_2' }).success).toBe(false);
    expect(params.safeParse({ id: 'dev_1', cmdId: 'c'.repeat(65) }).success).toBe(false);
    expect(params.safeParse({ id: 'd'.repeat(64), cmdId: 'cmd_2' }).success).toBe(true);
  });

  it('answers 400 for an id longer than 64 characters, before the handler runs', async () => {
    const { app } = appWithRoleRoutes();
    const res = await app.request(`/v1/readers/${'d'.repeat(65)}`, { method: 'POST', headers: { 'x-role': 'admin' } });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { code: 'validation_failed' } });
  });

  it('is checked after the role: a caller without the role gets 403 whatever id it sent', async () => {
    const { app } = appWithRoleRoutes();
    const res = await app.request(`/v1/admins/${'d'.repeat(65)}`, { method: 'POST', headers: { 'x-role': 'auditor' } });
    expect(res.status).toBe(403);
  });
});
