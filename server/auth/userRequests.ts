// Dual control over people (issue #16, as SPEC §5 has it for the key vault): once two admins are
// enabled, a new admin is a request by one admin that another admin approves or rejects. The
// request, each refusal and the decision are audited naming the user; the approval creates the user
// and its first token in the same transaction as its audit entries, and only the approver sees it.
import { and, desc, eq } from 'drizzle-orm';
import type { Role } from '../../schemas/db.ts';
import { userRequests, type UserRequestRow } from '../../schemas/tables/users.ts';
import type { AuditLog } from '../audit/auditLog.ts';
import { firstOrNotFound } from '../core/firstOrNotFound.ts';
import { idPrefixes, newId } from '../core/ids.ts';
import type { Tx } from '../core/transaction.ts';
import type { Db } from '../db/database.ts';
import { AppError, conflict, forbidden } from '../errors.ts';
import { keyMatching, publicIdPattern } from '../http/cursorParts.ts';
import { decodeTimeCursor, newestFirstPage, olderThan } from '../http/timeCursor.ts';
import type { Principal } from '../http/types.ts';
import type { Logger } from '../log.ts';
import type { SecretHasher } from '../security/secretHasher.ts';
import { decisionRefusal } from '../keys/dualControl.ts';
import { visibleOrg } from '../orgs/orgLookup.ts';
import { scopedTo, type OrgScope } from '../orgs/scope.ts';
import { enabledAdmins, insertUser, lockUsers, needsSecondAdmin, type CreatedUser } from './userRows.ts';

/** How long a request waits for a decision (default 24 h); then it reads `expired`. */
export const USER_REQUEST_TTL_MS = 24 * 60 * 60 * 1000;

/** Pure: the state a request is in at `now` (a pending one past its expiry is expired). */
export const effectiveState = (row: Pick<UserRequestRow, 'state' | 'expiresAt'>, now: Date): UserRequestRow['state'] =>
  row.state === 'pending' && row.expiresAt.getTime() <= now.getTime() ? 'expired' : row.state;

export const userRequestView = (row: UserRequestRow, now: Date) => ({
  id: row.id,
  action: 'user.create' as const,
  name: row.name,
  role: row.role,
  orgId: row.orgId,
  state: effectiveState(row, now),
  requestedBy: row.requestedBy,
  decidedBy: row.decidedBy,
  decidedAt: row.decidedAt?.toISOString() ?? null,
  userId: row.userId,
  expiresAt: row.expiresAt.toISOString(),
  createdAt: row.createdAt.toISOString(),
});
export type UserRequestView = ReturnType<typeof userRequestView>;

export type UserCreation = { created: CreatedUser } | { requested: UserRequestView };

export interface UserRequestsDeps {
  db: Db;
  hasher: SecretHasher;
  audit: AuditLog;
  log: Logger;
  ttlMs?: number;
  now?: () => Date;
}

export function createUserRequests({ db, hasher, audit, log, ttlMs = USER_REQUEST_TTL_MS, now = () => new Date() }: UserRequestsDeps) {
  const rowOf = (tx: Tx | Db, id: string) =>
    firstOrNotFound(tx.select().from(userRequests).where(eq(userRequests.id, id)).limit(1), `user request ${id}`);

  /**
   * The checks every decision shares (SPEC §5's, as the key vault applies them: an admin other than
   * the requester, a pending request), then `act` in the same transaction. A refusal is audited as
   * `user.create.refused` outside the rolled-back transaction, and thrown.
   */
  async function decide<T>(
    id: string,
    by: Principal,
    ip: string | undefined,
    act: (tx: Tx, row: UserRequestRow, at: Date) => Promise<T>,
  ): Promise<T> {
    const outcome = await db.transaction(async (tx) => {
      await lockUsers(tx);
      const row = await rowOf(tx, id);
      const at = now();
      const refusal = decisionRefusal({ state: effectiveState(row, at), requestedBy: row.requestedBy }, by);
      if (refusal) return refusal.status === 403 ? forbidden(refusal.message, refusal.code) : conflict(refusal.code, refusal.message);
      return { done: await act(tx, row, at) };
    });
    if (outcome instanceof AppError) {
      await audit.append({ actor: by, action: 'user.create.refused', target: id, ip, data: { code: outcome.code } });
      throw outcome;
    }
    return outcome.done;
  }

  const settle = async (tx: Tx, row: UserRequestRow, set: Partial<UserRequestRow>) =>
    (await tx.update(userRequests).set(set).where(eq(userRequests.id, row.id)).returning())[0] ?? row;

  return {
    /** Creates the user, or files a request when it needs a second admin (`needsSecondAdmin`). */
    /** `orgId`: a node of the creator's subtree (404 otherwise); default the creator's own node. */
    async create(input: { name: string; role: Role; orgId?: string }, by: Principal, ip?: string): Promise<UserCreation> {
      const outcome = await db.transaction(async (tx): Promise<UserCreation> => {
        const orgId = (await visibleOrg(tx, by, input.orgId ?? by.orgId)).id;
        await lockUsers(tx);
        if (!needsSecondAdmin(input.role, await enabledAdmins(tx))) {
          const user = await insertUser(tx, hasher, { name: input.name, role: input.role, orgId }, by.userId);
          await audit.append({ actor: by, action: 'user.create', target: user.id, ip, data: { name: user.name, role: user.role } }, tx);
          return { created: user };
        }
        const at = now();
        const [row] = await tx
          .insert(userRequests)
          .values({
            id: newId(idPrefixes.userRequest),
            name: input.name,
            role: input.role,
            orgId,
            requestedBy: by.userId,
            expiresAt: new Date(at.getTime() + ttlMs),
            createdAt: at,
          })
          .returning();
        if (!row) throw new Error('user request insert returned no row');
        await audit.append({ actor: by, action: 'user.create.request', target: row.id, ip, data: { name: row.name, role: row.role } }, tx);
        return { requested: userRequestView(row, at) };
      });
      if ('created' in outcome) log.info({ userId: outcome.created.id, role: input.role, by: by.userId }, 'user created');
      else log.info({ request: outcome.requested.id, role: input.role, by: by.userId }, 'user requested; another admin decides');
      return outcome;
    },

    /** Creates the user and its first token for the approver to hand over. */
    async approve(id: string, by: Principal, ip?: string): Promise<{ user: CreatedUser; request: UserRequestView }> {
      const approved = await decide(id, by, ip, async (tx, row, at) => {
        const user = await insertUser(tx, hasher, { name: row.name, role: row.role, orgId: row.orgId }, by.userId);
        const updated = await settle(tx, row, { state: 'approved', decidedBy: by.userId, decidedAt: at, userId: user.id });
        await audit.append(
          { actor: by, action: 'user.create.approve', target: id, ip, data: { requestedBy: row.requestedBy, userId: user.id } },
          tx,
        );
        const data = { name: user.name, role: user.role, request: id, requestedBy: row.requestedBy };
        await audit.append({ actor: by, action: 'user.create', target: user.id, ip, data }, tx);
        return { user, request: userRequestView(updated, at) };
      });
      log.info({ request: id, userId: approved.user.id, by: by.userId }, 'user request approved');
      return approved;
    },

    async reject(id: string, by: Principal, ip?: string): Promise<UserRequestView> {
      const rejected = await decide(id, by, ip, async (tx, row, at) => {
        const updated = await settle(tx, row, { state: 'rejected', decidedBy: by.userId, decidedAt: at });
        await audit.append({ actor: by, action: 'user.create.reject', target: id, ip, data: { requestedBy: row.requestedBy } }, tx);
        return userRequestView(updated, at);
      });
      log.info({ request: id, by: by.userId }, 'user request rejected');
      return rejected;
    },

    async get(id: string): Promise<UserRequestView> {
      return userRequestView(await rowOf(db, id), now());
    },

    /** Newest first, paged by (createdAt, id); `scope`: only the requests for nodes of this caller's subtree. */
    async list(q: { limit: number; cursor?: string; scope?: OrgScope }): Promise<{ items: UserRequestView[]; nextCursor: string | null }> {
      const before = q.cursor ? decodeTimeCursor(q.cursor) : undefined;
      // The time cursor's shape is shared with other lists; only a user request's id makes it this list's.
      if (before) keyMatching(before.id, publicIdPattern(idPrefixes.userRequest));
      const at = now();
      const rows = await db
        .select()
        .from(userRequests)
        .where(and(q.scope && scopedTo(q.scope, userRequests.orgId), olderThan(userRequests.createdAt, userRequests.id, before)))
        .orderBy(desc(userRequests.createdAt), desc(userRequests.id))
        .limit(q.limit + 1);
      const page = newestFirstPage(rows, q.limit, (r) => ({ at: r.createdAt, id: r.id }));
      return { items: page.items.map((r) => userRequestView(r, at)), nextCursor: page.nextCursor };
    },
  };
}

export type UserRequests = ReturnType<typeof createUserRequests>;
