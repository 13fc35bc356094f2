// User requests on the service (both engines): expiry, decisions racing each other, and the lone
// admin making two admins at once; and the pure rules they rest on.
import { randomBytes } from 'node:crypto';
import { describe, beforeEach, expect, it } from 'vitest';
import { users } from '../../schemas/db.ts';
import { createAuditLog, type AuditLog } from '../../server/audit/auditLog.ts';
import { createAuthService, type AuthService } from '../../server/auth/authService.ts';
import { createUserRequests, effectiveState, USER_REQUEST_TTL_MS, type UserRequests } from '../../server/auth/userRequests.ts';
import { needsSecondAdmin } from '../../server/auth/userRows.ts';
import type { Principal } from '../../server/http/types.ts';
import { createLogger } from '../../server/log.ts';
import { createSecretHasher } from '../../server/security/secretHasher.ts';
import { forEachDatabase, truncateAll } from '../helpers/databases.ts';

const log = createLogger('silent');

describe('user request rules', () => {
  it('an admin needs a second admin once two admins are enabled; no other role ever does', () => {
    expect(needsSecondAdmin('admin', 0)).toBe(false);
    expect(needsSecondAdmin('admin', 1)).toBe(false);
    expect(needsSecondAdmin('admin', 2)).toBe(true);
    expect(needsSecondAdmin('admin', 5)).toBe(true);
    for (const role of ['operator', 'technician', 'auditor'] as const) expect(needsSecondAdmin(role, 5)).toBe(false);
  });

  it('a pending request past its expiry reads expired; a decided one stays as decided', () => {
    const expiresAt = new Date('2026-01-01T00:00:00.000Z');
    const before = new Date('2025-12-31T23:59:59.999Z');
    expect(effectiveState({ state: 'pending', expiresAt }, before)).toBe('pending');
    expect(effectiveState({ state: 'pending', expiresAt }, expiresAt)).toBe('expired');
    expect(effectiveState({ state: 'approved', expiresAt }, new Date('2027-01-01'))).toBe('approved');
    expect(effectiveState({ state: 'rejected', expiresAt }, new Date('2027-01-01'))).toBe('rejected');
  });
});

forEachDatabase('user requests', (getDb) => {
  let auth: AuthService;
  let audit: AuditLog;
  let requests: UserRequests;
  let clock: Date;
  let first: Principal;

  const principal = async (token: string) => {
    const p = await auth.authenticate(token);
    if (!p) throw new Error('the token does not authenticate');
    return p;
  };
  const refusalOf = (p: Promise<unknown>) =>
    p.then(
      () => null,
      (e: unknown) => e,
    );

  beforeEach(async () => {
    await truncateAll(getDb());
    const hasher = createSecretHasher(randomBytes(32));
    clock = new Date();
    auth = createAuthService({ db: getDb(), hasher, log });
    audit = createAuditLog({ db: getDb(), log });
    requests = createUserRequests({ db: getDb(), hasher, audit, log, now: () => clock });
    const boot = await auth.bootstrapAdmin();
    first = await principal(boot.token ?? '');
  });

  /** The second admin, made by the first alone. */
  async function second(): Promise<Principal> {
    const made = await requests.create({ name: 'bea', role: 'admin' }, first);
    if (!('created' in made)) throw new Error('the second admin was not created directly');
    return principal(made.created.token);
  }
  async function filed(by: Principal, name = 'cid') {
    const made = await requests.create({ name, role: 'admin' }, by);
    if (!('requested' in made)) throw new Error('a third admin was created without a request');
    return made.requested;
  }

  it('the lone admin making two admins at once makes one and files the other', async () => {
    const outcomes = await Promise.all([
      requests.create({ name: 'a1', role: 'admin' }, first),
      requests.create({ name: 'a2', role: 'admin' }, first),
    ]);
    expect(outcomes.filter((o) => 'created' in o)).toHaveLength(1);
    expect(outcomes.filter((o) => 'requested' in o)).toHaveLength(1);
    expect(await getDb().select().from(users)).toHaveLength(2);
  });

  it('two admins approving at once: one creates the user, the other is 409 already_decided', async () => {
    const bea = await second();
    // A third admin, so that two admins other than the requester can race.
    const eve = await principal((await requests.approve((await filed(first, 'eve')).id, bea)).user.token);
    const request = await filed(first, 'dov');

    const results = await Promise.allSettled([requests.approve(request.id, bea), requests.approve(request.id, eve)]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const refused = results.find((r) => r.status === 'rejected');
    expect(refused?.status === 'rejected' ? refused.reason : null).toMatchObject({ status: 409, code: 'already_decided' });
    expect((await getDb().select().from(users)).filter((u) => u.name === 'dov')).toHaveLength(1);
  });

  it('a request left pending past its expiry cannot be approved (409 expired), and says so', async () => {
    const bea = await second();
    const request = await filed(first);
    clock = new Date(clock.getTime() + USER_REQUEST_TTL_MS);
    expect(await refusalOf(requests.approve(request.id, bea))).toMatchObject({ status: 409, code: 'expired' });
    expect((await requests.get(request.id)).state).toBe('expired');
    expect((await getDb().select().from(users)).map((u) => u.name).sort()).toEqual(['admin', 'bea']);
    const refusals = (await audit.list({ limit: 10, action: 'user.create.refused' })).items;
    expect(refusals.map((e) => [e.actorId, e.target, e.data])).toEqual([[bea.userId, request.id, { code: 'expired' }]]);
  });

  it('the requester cannot reject its own request either', async () => {
    await second();
    const request = await filed(first);
    expect(await refusalOf(requests.reject(request.id, first))).toMatchObject({ status: 403, code: 'dual_control' });
    expect((await requests.get(request.id)).state).toBe('pending');
  });
});
