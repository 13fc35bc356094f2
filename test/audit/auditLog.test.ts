import { createHash } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { beforeEach, expect, it } from 'vitest';
import { auditLog, ROOT_ORG_ID, ROOT_ORG_PATH } from '../../schemas/db.ts';
import { canonicalJson } from '../../schemas/canonicalJson.ts';
import {
  computeAuditHash,
  createAuditLog,
  GENESIS_HASH,
  type AuditLog,
} from '../../server/audit/auditLog.ts';
import { AppError } from '../../server/errors.ts';
import type { Principal } from '../../server/http/types.ts';
import { createLogger } from '../../server/log.ts';
import { forEachDatabase, truncateAll } from '../helpers/databases.ts';

const alice: Principal = { userId: 'usr_alice', name: 'alice', role: 'admin', orgId: ROOT_ORG_ID, orgPath: ROOT_ORG_PATH };
const bob: Principal = { userId: 'usr_bob', name: 'bob', role: 'operator', orgId: ROOT_ORG_ID, orgPath: ROOT_ORG_PATH };

it('canonical JSON sorts keys, drops undefined and has no white space', () => {
  expect(canonicalJson({ b: 1, a: [true, null, 'x'], c: undefined, d: { z: 1.5, y: 'é' } })).toBe(
    '{"a":[true,null,"x"],"b":1,"d":{"y":"é","z":1.5}}',
  );
  expect(canonicalJson({ B: 1, a: 2, _: 3 })).toBe('{"B":1,"_":3,"a":2}');
  expect(() => canonicalJson({ n: Number.NaN })).toThrow();
});

forEachDatabase('audit log', (getDb) => {
  let audit: AuditLog;
  beforeEach(async () => {
    await truncateAll(getDb());
    audit = createAuditLog({ db: getDb(), log: createLogger('silent') });
  });

  it('chains entries from 64 zeros with the documented formula', async () => {
    const first = await audit.append({ actor: alice, action: 'user.create', target: 'usr_x', ip: '10.0.0.1', data: { role: 'operator' } });
    const second = await audit.append({ actor: null, action: 'system.start' });
    expect(first.seq).toBe(1);
    expect(first.prevHash).toBe(GENESIS_HASH);
    expect(second.seq).toBe(2);
    expect(second.prevHash).toBe(first.hash);
    expect(second).toMatchObject({ actorId: null, actorName: null, target: null, ip: null, data: {} });

    // The formula of docs/audit.md, written out independently.
    const body =
      `{"action":"user.create","actorId":"usr_alice","actorName":"alice","data":{"role":"operator"},` +
      `"ip":"10.0.0.1","seq":1,"target":"usr_x","ts":"${first.ts.toISOString()}"}`;
    expect(first.hash).toBe(createHash('sha256').update(GENESIS_HASH + body).digest('hex'));
    expect(first.ts.getTime() % 1).toBe(0);

    expect(await audit.verify()).toEqual({ ok: true, checked: 2 });
  });

  it('verifies an empty log', async () => {
    expect(await audit.verify()).toEqual({ ok: true, checked: 0 });
  });

  it('stores data as JSON so that what was hashed is what is read back', async () => {
    const when = new Date('2025-01-02T03:04:05.678Z');
    await audit.append({
      actor: alice,
      action: 'x.odd',
      data: { when, skip: undefined, nested: { b: [1, 2.5, 'ü'], a: { big: 2 ** 60, tiny: 1e-7 } }, 'ünï': true },
    });
    const [row] = await getDb().select().from(auditLog);
    expect(row?.data).toEqual({ when: when.toISOString(), nested: { b: [1, 2.5, 'ü'], a: { big: 2 ** 60, tiny: 1e-7 } }, 'ünï': true });
    expect(await audit.verify()).toEqual({ ok: true, checked: 1 });
  });

  it('reports the first tampered entry', async () => {
    for (let i = 0; i < 6; i++) await audit.append({ actor: alice, action: 'device.revoke', target: `dev_${i}` });
    await getDb().execute(sql`update audit_log set target = 'dev_other' where seq = 4`);
    expect(await audit.verify()).toEqual({ ok: false, checked: 4, firstBadSeq: 4 });
  });

  it('notices a recomputed hash: the next entry no longer links', async () => {
    for (let i = 0; i < 5; i++) await audit.append({ actor: alice, action: 'device.revoke', target: `dev_${i}` });
    const db = getDb();
    const [row] = await db.select().from(auditLog).where(sql`seq = 2`);
    if (!row) throw new Error('no row');
    const forged = { ...row, actorName: 'mallory' };
    const hash = computeAuditHash(forged.prevHash, forged);
    await db.execute(sql`update audit_log set actor_name = 'mallory', hash = ${hash} where seq = 2`);
    expect(await audit.verify()).toMatchObject({ ok: false, firstBadSeq: 3 });
  });

  it('notices a deleted entry and a sub-millisecond edit of ts', async () => {
    for (let i = 0; i < 5; i++) await audit.append({ actor: bob, action: 'command.create', target: `cmd_${i}` });
    const db = getDb();
    await db.execute(sql`delete from audit_log where seq = 3`);
    expect(await audit.verify()).toMatchObject({ ok: false, firstBadSeq: 4 });

    await truncateAll(db);
    for (let i = 0; i < 3; i++) await audit.append({ actor: bob, action: 'command.create', target: `cmd_${i}` });
    await db.execute(sql`update audit_log set ts = ts + interval '1 microsecond' where seq = 2`);
    expect(await audit.verify()).toMatchObject({ ok: false, firstBadSeq: 2 });
  });

  it('keeps the chain valid under 50 concurrent appends', async () => {
    await Promise.all(
      Array.from({ length: 50 }, (_, i) => audit.append({ actor: i % 2 ? alice : bob, action: 'load.test', data: { i } })),
    );
    const rows = await getDb().select({ seq: auditLog.seq }).from(auditLog).orderBy(auditLog.seq);
    expect(rows.map((r) => r.seq)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(await audit.verify({ pageSize: 7 })).toEqual({ ok: true, checked: 50 });
  });

  it('is serialized across separate AuditLog instances (as across server instances)', async () => {
    const other = createAuditLog({ db: getDb(), log: createLogger('silent') });
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 ? audit : other).append({ actor: alice, action: 'load.test', data: { i } })),
    );
    expect(await audit.verify()).toEqual({ ok: true, checked: 20 });
  });

  it('commits or rolls back with the caller’s transaction', async () => {
    const db = getDb();
    await audit.append({ actor: alice, action: 'first' });
    await expect(
      db.transaction(async (tx) => {
        await audit.append({ actor: alice, action: 'doomed' }, tx);
        throw new Error('domain change failed');
      }),
    ).rejects.toThrow('domain change failed');
    await db.transaction(async (tx) => {
      await audit.append({ actor: alice, action: 'kept' }, tx);
    });
    const page = await audit.list({ limit: 10 });
    expect(page.items.map((e) => [e.seq, e.action])).toEqual([
      [2, 'kept'],
      [1, 'first'],
    ]);
    expect(await audit.verify()).toEqual({ ok: true, checked: 2 });
  });

  it('refuses a transaction whose snapshot could predate the lock', async () => {
    await expect(
      getDb().transaction(
        async (tx) => {
          await audit.append({ actor: alice, action: 'x' }, tx);
        },
        { isolationLevel: 'repeatable read' },
      ),
    ).rejects.toThrow(/READ COMMITTED/);
  });

  it('lists newest first, paged, with filters', async () => {
    for (let i = 1; i <= 7; i++) {
      await audit.append({ actor: i % 2 ? alice : bob, action: i <= 4 ? 'user.create' : 'user.disable', target: `usr_${i % 3}` });
    }
    const p1 = await audit.list({ limit: 3 });
    expect(p1.items.map((e) => e.seq)).toEqual([7, 6, 5]);
    expect(p1.nextCursor).not.toBeNull();
    const p2 = await audit.list({ limit: 3, cursor: p1.nextCursor ?? undefined });
    expect(p2.items.map((e) => e.seq)).toEqual([4, 3, 2]);
    const p3 = await audit.list({ limit: 3, cursor: p2.nextCursor ?? undefined });
    expect(p3.items.map((e) => e.seq)).toEqual([1]);
    expect(p3.nextCursor).toBeNull();

    expect((await audit.list({ limit: 50, action: 'user.disable' })).items.map((e) => e.seq)).toEqual([7, 6, 5]);
    expect((await audit.list({ limit: 50, actorId: 'usr_bob' })).items.map((e) => e.seq)).toEqual([6, 4, 2]);
    expect((await audit.list({ limit: 50, target: 'usr_0' })).items.map((e) => e.seq)).toEqual([6, 3]);
    expect((await audit.list({ limit: 50, actorId: 'usr_bob', action: 'user.create' })).items.map((e) => e.seq)).toEqual([4, 2]);

    const all = (await audit.list({ limit: 50 })).items;
    const fourth = all.find((e) => e.seq === 4);
    if (!fourth) throw new Error('missing');
    const since = (await audit.list({ limit: 50, since: fourth.ts })).items.map((e) => e.seq);
    expect(since).toContain(4);
    expect(since).not.toContain(1);

    await expect(audit.list({ limit: 5, cursor: 'nope' })).rejects.toBeInstanceOf(AppError);
  });
});
