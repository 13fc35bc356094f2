// The audit routes of the production server (both engines): who may read and verify, paging and
// filters, and verification naming the first tampered entry.
import { sql } from 'drizzle-orm';
import { beforeEach, expect, it } from 'vitest';
import { emptyServer, forEachServer } from '../helpers/testServer.ts';

interface Page {
  items: { seq: number; action: string; actorId: string | null; target: string | null; ts: string; hash: string; prevHash: string }[];
  nextCursor: string | null;
}

forEachServer('audit routes', (server) => {
  let adminToken: string;
  let auditorToken: string;
  const audit = () => server().server.parts.audit;

  beforeEach(async () => {
    adminToken = await emptyServer(server());
    const res = await server().api<{ token: string }>('POST', '/v1/users', { name: 'ann', role: 'auditor' }, { token: adminToken });
    auditorToken = res.body.token;
  });

  it('admins and auditors read and verify; other roles may not', async () => {
    for (const token of [adminToken, auditorToken]) {
      expect((await server().api('GET', '/v1/audit', undefined, { token })).status).toBe(200);
      expect((await server().api('GET', '/v1/audit/verify', undefined, { token })).body).toEqual({ ok: true, checked: 1 });
    }
    const tech = await server().api<{ token: string }>('POST', '/v1/users', { name: 'tom', role: 'technician' }, { token: adminToken });
    const techToken = tech.body.token;
    expect((await server().api('GET', '/v1/audit', undefined, { token: techToken })).status).toBe(403);
    expect((await server().api('GET', '/v1/audit/verify', undefined, { token: techToken })).status).toBe(403);
    expect((await server().api('GET', '/v1/audit/verify', undefined, { token: null })).status).toBe(401);
  });

  it('pages newest first and filters', async () => {
    for (let i = 0; i < 5; i++) {
      await audit().append({ actor: null, action: i % 2 ? 'device.revoke' : 'device.register', target: `dev_${i}` });
    }
    const p1 = (await server().api<Page>('GET', '/v1/audit?limit=4', undefined, { token: auditorToken })).body;
    expect(p1.items.map((e) => e.seq)).toEqual([6, 5, 4, 3]);
    expect(p1.items[0]?.prevHash).toBe(p1.items[1]?.hash);
    const p2 = (await server().api<Page>('GET', `/v1/audit?limit=4&cursor=${p1.nextCursor}`, undefined, { token: auditorToken })).body;
    expect(p2.items.map((e) => e.seq)).toEqual([2, 1]);
    expect(p2.nextCursor).toBeNull();

    const revokes = (await server().api<Page>('GET', '/v1/audit?action=device.revoke', undefined, { token: auditorToken })).body;
    expect(revokes.items.map((e) => e.target)).toEqual(['dev_3', 'dev_1']);
    const one = (await server().api<Page>('GET', '/v1/audit?target=dev_2', undefined, { token: auditorToken })).body;
    expect(one.items.map((e) => e.seq)).toEqual([4]);
    const future = (await server().api<Page>('GET', `/v1/audit?since=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`, undefined, { token: auditorToken })).body;
    expect(future.items).toEqual([]);

    expect((await server().api('GET', '/v1/audit?cursor=abc', undefined, { token: auditorToken })).status).toBe(400);
    expect((await server().api('GET', '/v1/audit?limit=501', undefined, { token: auditorToken })).status).toBe(400);
    expect((await server().api('GET', '/v1/audit?since=yesterday', undefined, { token: auditorToken })).status).toBe(400);
  });

  it('verify names the first tampered entry', async () => {
    for (let i = 0; i < 3; i++) await audit().append({ actor: null, action: 'x', target: `t${i}` });
    await server().server.parts.db.execute(sql`update audit_log set data = '{"forged":true}' where seq = 3`);
    const res = await server().api('GET', '/v1/audit/verify', undefined, { token: auditorToken });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ ok: false, checked: 3, firstBadSeq: 3 });
  });
});
