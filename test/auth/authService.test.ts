import { randomBytes } from 'node:crypto';
import { eq, sql } from 'drizzle-orm';
import { beforeEach, expect, it } from 'vitest';
import { apiTokens, users } from '../../schemas/db.ts';
import { createAuditLog } from '../../server/audit/auditLog.ts';
import { createAuthService, type AuthService } from '../../server/auth/authService.ts';
import { AppError } from '../../server/errors.ts';
import type { Principal } from '../../server/http/types.ts';
import { createLogger } from '../../server/log.ts';
import { createSecretHasher, type SecretHasher } from '../../server/security/secretHasher.ts';
import { forEachDatabase, truncateAll } from '../helpers/databases.ts';

const log = createLogger('silent');

async function rejectsWith(p: Promise<unknown>, status: number, code: string) {
  const err: unknown = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AppError);
  expect(err).toMatchObject({ status, code });
}

forEachDatabase('auth service', (getDb) => {
  let hasher: SecretHasher;
  let auth: AuthService;
  let clock: number;
  const now = () => clock;

  beforeEach(async () => {
    await truncateAll(getDb());
    hasher = createSecretHasher(randomBytes(32));
    clock = Date.now();
    auth = createAuthService({ db: getDb(), hasher, log, now });
  });

  async function bootstrap(): Promise<{ admin: Principal; token: string }> {
    const res = await auth.bootstrapAdmin();
    if (!res.token) throw new Error('no token');
    const admin = await auth.authenticate(res.token);
    if (!admin) throw new Error('no admin');
    return { admin, token: res.token };
  }
  /** The principal a token stands for, as the HTTP layer hands it to the service. */
  async function principalOf(token: string): Promise<Principal> {
    const p = await auth.authenticate(token);
    if (!p) throw new Error('the token does not authenticate');
    return p;
  }

  it('bootstraps the first admin once, with a token shown once and stored only as a hash', async () => {
    const first = await auth.bootstrapAdmin();
    expect(first.created).toBe(true);
    expect(first.token).toMatch(/^pf_[A-Za-z0-9_-]{43}$/);
    const token = first.token ?? '';
    expect(await auth.authenticate(token)).toEqual({ userId: first.userId, name: 'admin', role: 'admin', orgId: 'org_root', orgPath: '/org_root/' });

    const stored = await getDb().select().from(apiTokens);
    expect(stored).toHaveLength(1);
    expect(stored[0]?.tokenHash).toBe(hasher.hash(token));
    expect(JSON.stringify(stored)).not.toContain(token);

    const second = await auth.bootstrapAdmin();
    expect(second).toEqual({ created: false });
    expect(await getDb().select().from(users)).toHaveLength(1);
  });

  it('bootstraps with ADMIN_TOKEN, returning no token to print', async () => {
    const adminToken = 'an-operator-chosen-admin-token-0123456789';
    const res = await auth.bootstrapAdmin(adminToken);
    expect(res.created).toBe(true);
    expect(res.token).toBeUndefined();
    expect((await auth.authenticate(adminToken))?.role).toBe('admin');
    const [row] = await getDb().select().from(apiTokens);
    expect(row?.tokenHash).toBe(hasher.hash(adminToken));
  });

  it('creates one admin when several instances bootstrap at once', async () => {
    const other = createAuthService({ db: getDb(), hasher, log });
    const results = await Promise.all([auth, other, auth, other, auth].map((a) => a.bootstrapAdmin()));
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(results.filter((r) => r.token)).toHaveLength(1);
    expect(await getDb().select().from(users)).toHaveLength(1);
  });

  it('creates users with a working token and issues more tokens', async () => {
    const { admin } = await bootstrap();
    const op = await auth.createUser({ name: 'olga', role: 'operator' }, admin);
    expect(op.id).toMatch(/^usr_/);
    expect(op).toMatchObject({ name: 'olga', role: 'operator' });
    expect(op.token).toMatch(/^pf_/);
    expect(await auth.authenticate(op.token)).toEqual({ userId: op.id, name: 'olga', role: 'operator', orgId: 'org_root', orgPath: '/org_root/' });
    const [row] = await getDb().select().from(users).where(eq(users.id, op.id));
    expect(row?.createdBy).toBe(admin.userId);

    const second = await auth.issueToken(op.id, await principalOf(op.token));
    expect(second.token).not.toBe(op.token);
    expect((await auth.authenticate(second.token))?.userId).toBe(op.id);
    expect((await auth.authenticate(op.token))?.userId).toBe(op.id);

    // A token reaches only its owner: not even an admin makes one for another user.
    await rejectsWith(auth.issueToken(op.id, admin), 403, 'own_tokens_only');
    await rejectsWith(auth.issueToken('usr_nobody', admin), 403, 'own_tokens_only');
  });

  it('rejects unknown, empty and oversized tokens', async () => {
    await bootstrap();
    expect(await auth.authenticate('pf_unknown')).toBeNull();
    expect(await auth.authenticate('')).toBeNull();
    expect(await auth.authenticate('x'.repeat(10_000))).toBeNull();
  });

  it('disabling a user revokes its tokens at once, even when cached', async () => {
    const { admin } = await bootstrap();
    const tech = await auth.createUser({ name: 'tom', role: 'technician' }, admin);
    const tom = await principalOf(tech.token);
    const extra = await auth.issueToken(tech.id, tom);
    expect(await auth.authenticate(tech.token)).not.toBeNull(); // now cached
    const res = await auth.disableUser(tech.id, admin);
    expect(res).toEqual({ id: tech.id, alreadyDisabled: false, tokensRevoked: 2 });
    expect(await auth.authenticate(tech.token)).toBeNull();
    expect(await auth.authenticate(extra.token)).toBeNull();
    // Tom's principal as another instance may still hold it cached: no new token for him.
    await rejectsWith(auth.issueToken(tech.id, tom), 409, 'user_disabled');
    expect(await auth.disableUser(tech.id, admin)).toEqual({ id: tech.id, alreadyDisabled: true, tokensRevoked: 0 });
    await rejectsWith(auth.disableUser('usr_nobody', admin), 404, 'not_found');
  });

  it('a disabled user is refused even if its tokens were not revoked', async () => {
    const { admin } = await bootstrap();
    const op = await auth.createUser({ name: 'otto', role: 'operator' }, admin);
    await getDb().update(users).set({ disabled: true }).where(eq(users.id, op.id));
    expect(await auth.authenticate(op.token)).toBeNull();
  });

  it('caches positive lookups for 30 s', async () => {
    const { admin } = await bootstrap();
    const op = await auth.createUser({ name: 'olga', role: 'operator' }, admin);
    expect(await auth.authenticate(op.token)).not.toBeNull();
    // Revoked behind the service's back (as by another instance): the cache still answers...
    await getDb().execute(sql`update api_tokens set revoked_at = now() where user_id = ${op.id}`);
    clock += 29_000;
    expect(await auth.authenticate(op.token)).not.toBeNull();
    // ...until the entry expires.
    clock += 2_000;
    expect(await auth.authenticate(op.token)).toBeNull();
  });

  it('revoking one token invalidates its cache entry only', async () => {
    const { admin } = await bootstrap();
    const op = await auth.createUser({ name: 'olga', role: 'operator' }, admin);
    const second = await auth.issueToken(op.id, await principalOf(op.token));
    expect(await auth.authenticate(op.token)).not.toBeNull();
    expect(await auth.authenticate(second.token)).not.toBeNull();
    expect(await auth.revokeToken(second.tokenId, admin)).toBe(true);
    expect(await auth.revokeToken(second.tokenId, admin)).toBe(false);
    expect(await auth.authenticate(second.token)).toBeNull();
    expect(await auth.authenticate(op.token)).not.toBeNull();
  });

  it('keeps the cache bounded', async () => {
    const small = createAuthService({ db: getDb(), hasher, log, cacheMax: 3 });
    const { admin } = await bootstrap();
    const tokens = [];
    for (let i = 0; i < 6; i++) tokens.push((await small.issueToken(admin.userId, admin)).token);
    for (const t of tokens) expect(await small.authenticate(t)).not.toBeNull();
    // Revoked behind its back: only what the cache still holds (at most 3) is accepted.
    await getDb().execute(sql`update api_tokens set revoked_at = now()`);
    const still = [];
    for (const t of tokens) if (await small.authenticate(t)) still.push(t);
    expect(still).toEqual(tokens.slice(3));
  });

  it('never disables the last enabled admin', async () => {
    const { admin } = await bootstrap();
    await rejectsWith(auth.disableUser(admin.userId, admin), 409, 'last_admin');
    const second = await auth.createUser({ name: 'ada', role: 'admin' }, admin);
    const ada = await auth.authenticate(second.token);
    if (!ada) throw new Error('no ada');
    // Both admins disable each other at once: exactly one wins.
    const results = await Promise.allSettled([auth.disableUser(second.id, admin), auth.disableUser(admin.userId, ada)]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const failed = results.find((r) => r.status === 'rejected');
    expect(failed?.status === 'rejected' ? failed.reason : undefined).toMatchObject({ status: 409, code: 'last_admin' });
    const enabledAdmins = await getDb()
      .select()
      .from(users)
      .where(sql`${users.role} = 'admin' and not ${users.disabled}`);
    expect(enabledAdmins).toHaveLength(1);
  });

  it('makes the second admin alone, refuses a third without a second admin (403 dual_control)', async () => {
    const { admin } = await bootstrap();
    await auth.createUser({ name: 'ada', role: 'admin' }, admin);
    await rejectsWith(auth.createUser({ name: 'cid', role: 'admin' }, admin), 403, 'dual_control');
    expect((await auth.listUsers({ limit: 50 })).items.map((u) => u.name)).toEqual(['admin', 'ada']);
    await auth.createUser({ name: 'olga', role: 'operator' }, admin);
  });

  it('lists users oldest first, paged', async () => {
    const { admin } = await bootstrap();
    for (let i = 0; i < 6; i++) await auth.createUser({ name: `u${i}`, role: 'operator' }, admin);
    const seen: string[] = [];
    let cursor: string | undefined;
    for (;;) {
      const page = await auth.listUsers({ limit: 4, cursor });
      seen.push(...page.items.map((u) => u.name));
      expect(page.items.length).toBeLessThanOrEqual(4);
      if (!page.nextCursor) break;
      cursor = page.nextCursor;
    }
    // Users created in the same millisecond tie on createdAt and are ordered by id, so the
    // paged walk must match one unpaged listing exactly, and that listing must be oldest first.
    const all = await auth.listUsers({ limit: 100 });
    expect(seen).toEqual(all.items.map((u) => u.name));
    expect(new Set(seen)).toEqual(new Set(['admin', 'u0', 'u1', 'u2', 'u3', 'u4', 'u5']));
    const times = all.items.map((u) => new Date(u.createdAt).getTime());
    expect(times).toEqual([...times].sort((a, b) => a - b));
    await rejectsWith(auth.listUsers({ limit: 4, cursor: 'garbage' }), 400, 'bad_cursor');
  });

  it('runs the caller’s work (the audit entry) in the mutation’s transaction', async () => {
    const audit = createAuditLog({ db: getDb(), log });
    const { admin } = await bootstrap();
    await expect(
      auth.createUser({ name: 'ghost', role: 'auditor' }, admin, {
        inTx: async (tx, u) => {
          await audit.append({ actor: admin, action: 'user.create', target: u.id }, tx);
          throw new Error('audit refused');
        },
      }),
    ).rejects.toThrow('audit refused');
    expect((await auth.listUsers({ limit: 50 })).items.map((u) => u.name)).toEqual(['admin']);
    expect((await audit.list({ limit: 10 })).items).toHaveLength(0);

    const created = await auth.createUser({ name: 'real', role: 'auditor' }, admin, {
      inTx: (tx, u) => audit.append({ actor: admin, action: 'user.create', target: u.id }, tx),
    });
    const entries = (await audit.list({ limit: 10 })).items;
    expect(entries.map((e) => [e.action, e.target, e.actorName])).toEqual([['user.create', created.id, 'admin']]);
  });
});
