import { sql } from 'drizzle-orm';
import { beforeEach, expect, it } from 'vitest';
import type { AppRouter } from '../../server/http/types.ts';
import { call, createTestApp, type TestApp } from '../auth/testApp.ts';
import { forEachDatabase, truncateAll } from '../helpers/databases.ts';

interface Page {
  items: { seq: number; action: string; actorId: string | null; target: string | null; ts: string; hash: string; prevHash: string }[];
  nextCursor: string | null;
}

forEachDatabase('audit routes', (getDb) => {
  let t: TestApp;
  let app: AppRouter;
  let adminToken: string;
  let auditorToken: string;

  beforeEach(async () => {
    await truncateAll(getDb());
    t = createTestApp(getDb());
    app = t.app;
    adminToken = (await t.auth.bootstrapAdmin()).token ?? '';
    const res = await call(app, 'POST', '/v1/users', { token: adminToken, body: { name: 'ann', role: 'auditor' } });
    auditorToken = (res.json as { token: string }).token;
  });

  it('admins and auditors read and verify; other roles may not', async () => {
    for (const token of [adminToken, auditorToken]) {
      expect((await call(app, 'GET', '/v1/audit', { token })).status).toBe(200);
      expect((await call(app, 'GET', '/v1/audit/verify', { token })).json).toEqual({ ok: true, checked: 1 });
    }
    const tech = await call(app, 'POST', '/v1/users', { token: adminToken, body: { name: 'tom', role: 'technician' } });
    const techToken = (tech.json as { token: string }).token;
    expect((await call(app, 'GET', '/v1/audit', { token: techToken })).status).toBe(403);
    expect((await call(app, 'GET', '/v1/audit/verify', { token: techToken })).status).toBe(403);
    expect((await call(app, 'GET', '/v1/audit/verify')).status).toBe(401);
  });

  it('pages newest first and filters', async () => {
    for (let i = 0; i < 5; i++) {
      await t.audit.append({ actor: null, action: i % 2 ? 'device.revoke' : 'device.register', target: `dev_${i}` });
    }
    const p1 = (await call(app, 'GET', '/v1/audit?limit=4', { token: auditorToken })).json as Page;
    expect(p1.items.map((e) => e.seq)).toEqual([6, 5, 4, 3]);
    expect(p1.items[0]?.prevHash).toBe(p1.items[1]?.hash);
    const p2 = (await call(app, 'GET', `/v1/audit?limit=4&cursor=${p1.nextCursor}`, { token: auditorToken })).json as Page;
    expect(p2.items.map((e) => e.seq)).toEqual([2, 1]);
    expect(p2.nextCursor).toBeNull();

    const revokes = (await call(app, 'GET', '/v1/audit?action=device.revoke', { token: auditorToken })).json as Page;
    expect(revokes.items.map((e) => e.target)).toEqual(['dev_3', 'dev_1']);
    const one = (await call(app, 'GET', '/v1/audit?target=dev_2', { token: auditorToken })).json as Page;
    expect(one.items.map((e) => e.seq)).toEqual([4]);
    const future = (await call(app, 'GET', `/v1/audit?since=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`, {
      token: auditorToken,
    })).json as Page;
    expect(future.items).toEqual([]);

    expect((await call(app, 'GET', '/v1/audit?cursor=abc', { token: auditorToken })).status).toBe(400);
    expect((await call(app, 'GET', '/v1/audit?limit=501', { token: auditorToken })).status).toBe(400);
    expect((await call(app, 'GET', '/v1/audit?since=yesterday', { token: auditorToken })).status).toBe(400);
  });

  it('verify names the first tampered entry', async () => {
    for (let i = 0; i < 3; i++) await t.audit.append({ actor: null, action: 'x', target: `t${i}` });
    await getDb().execute(sql`update audit_log set data = '{"forged":true}' where seq = 3`);
    const res = await call(app, 'GET', '/v1/audit/verify', { token: auditorToken });
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ ok: false, checked: 3, firstBadSeq: 3 });
  });
});
