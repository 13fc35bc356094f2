// People and their API tokens (SPEC §8). Tokens are `pf_` + 256 random bits; the database holds
// only their keyed hash (SPEC §2), looked up through the unique index on api_tokens.token_hash.
import { and, asc, eq, gt, isNull, or, sql } from 'drizzle-orm';
import { apiTokens, organisations, users, type Role, type UserRow } from '../../schemas/db.ts';
import type { Tx } from '../core/transaction.ts';
import type { Db } from '../db/database.ts';
import { conflict, forbidden, notFound } from '../errors.ts';
import { badCursor, epochMillis, fromBase64url, keyMatching, publicIdPattern } from '../http/cursorParts.ts';
import type { Principal } from '../http/types.ts';
import { scopedTo, type OrgScope } from '../orgs/scope.ts';
import type { Logger } from '../log.ts';
import type { SecretHasher } from '../security/secretHasher.ts';
import { enabledAdmins, insertToken, insertUser, lockUsers, needsSecondAdmin, newApiToken, newUserId, type CreatedUser } from './userRows.ts';

export { TOKEN_PREFIX, newApiToken, newUserId, type CreatedUser } from './userRows.ts';
/** Advisory lock key (transaction-scoped) of the first-admin bootstrap. */
const BOOTSTRAP_LOCK_KEY = '5064617574680001';
/** Longest bearer token looked up; anything longer is not ours and is not hashed. */
const MAX_TOKEN_LENGTH = 512;

export type UserSummary = Pick<UserRow, 'id' | 'name' | 'role' | 'disabled' | 'orgId' | 'createdBy' | 'createdAt'>;
export interface IssuedToken {
  tokenId: string;
  /** Shown once; only its hash is stored. */
  token: string;
}
export interface DisabledUser {
  id: string;
  alreadyDisabled: boolean;
  tokensRevoked: number;
}
export interface BootstrapResult {
  created: boolean;
  userId?: string;
  /** Only when the server generated it (no ADMIN_TOKEN): print it once, it is not stored. */
  token?: string;
}

/**
 * Extra work inside a mutation's transaction, after the change: typically the audit entry, so
 * the change and its record commit together. Must use `tx` only (never the root db).
 */
export interface MutationOptions<R> {
  inTx?: (tx: Tx, result: R) => Promise<unknown>;
}

export interface AuthService {
  /** The principal of a bearer token, or null for an unknown, revoked or disabled one. */
  authenticate(token: string): Promise<Principal | null>;
  /** With no users: creates "admin" (role admin) with `adminToken` or a random token. */
  bootstrapAdmin(adminToken?: string, opts?: MutationOptions<{ id: string; name: string; role: Role }>): Promise<BootstrapResult>;
  /** Refuses an admin once two admins are enabled (403 dual_control): that goes through a user request. */
  createUser(input: { name: string; role: Role }, by: Principal, opts?: MutationOptions<CreatedUser>): Promise<CreatedUser>;
  getUser(userId: string): Promise<UserSummary | null>;
  /** `scope`: only the users of this caller's subtree. */
  listUsers(q: { limit: number; cursor?: string; scope?: OrgScope }): Promise<{ items: UserSummary[]; nextCursor: string | null }>;
  /** A new token for the caller itself (403 own_tokens_only for anyone else); older tokens stay valid. */
  issueToken(userId: string, by: Principal, opts?: MutationOptions<IssuedToken>): Promise<IssuedToken>;
  /** Revokes one token. Returns false if it was unknown or already revoked. */
  revokeToken(tokenId: string, by: Principal, opts?: MutationOptions<{ tokenId: string; userId: string }>): Promise<boolean>;
  /** Disables the user and revokes its tokens; never the last enabled admin (409 last_admin). */
  disableUser(userId: string, by: Principal, opts?: MutationOptions<DisabledUser>): Promise<DisabledUser>;
  /** Drops what is cached of this user's tokens (another instance disabled it or revoked one), so the next request reads the database. */
  forgetUser(userId: string): void;
}

export interface AuthServiceOptions {
  db: Db;
  hasher: SecretHasher;
  log: Logger;
  /** How long a successful lookup is trusted without the database (default 30 s). */
  cacheTtlMs?: number;
  /** Most cached tokens (default 10 000). */
  cacheMax?: number;
  now?: () => number;
  /** Tells the other instances of a cluster that this user's tokens changed (after commit). */
  invalidated?: (userId: string) => void;
}

interface CacheEntry {
  principal: Principal;
  tokenId: string;
  expiresAt: number;
}

const userColumns = {
  id: users.id,
  name: users.name,
  role: users.role,
  disabled: users.disabled,
  orgId: users.orgId,
  createdBy: users.createdBy,
  createdAt: users.createdAt,
};

// Users are listed oldest first by (created_at, id); created_at is always written from JS with
// millisecond precision, so the cursor carries it exactly.
function encodeUserCursor(u: UserSummary): string {
  return Buffer.from(JSON.stringify([u.createdAt.getTime(), u.id])).toString('base64url');
}
function decodeUserCursor(cursor: string): { createdAt: Date; id: string } {
  let v: unknown;
  try {
    v = JSON.parse(fromBase64url(cursor));
  } catch (err) {
    throw badCursor({ cause: err });
  }
  if (!Array.isArray(v) || v.length !== 2 || typeof v[1] !== 'string') throw badCursor();
  return { createdAt: epochMillis(v[0]), id: keyMatching(v[1], publicIdPattern('usr')) };
}

const lockSql = (key: string) => sql`select pg_advisory_xact_lock(${sql.raw(key)})`;

export function createAuthService({
  db,
  hasher,
  log,
  cacheTtlMs = 30_000,
  cacheMax = 10_000,
  now = Date.now,
  invalidated,
}: AuthServiceOptions): AuthService {
  // Positive lookups only, keyed by token hash (the raw token is not kept). `generation` moves on
  // every invalidation so a lookup that raced a revocation does not re-insert what it read.
  const cache = new Map<string, CacheEntry>();
  let generation = 0;

  function invalidate(match: (e: CacheEntry) => boolean) {
    generation++;
    for (const [key, entry] of cache) if (match(entry)) cache.delete(key);
  }

  function remember(hash: string, entry: CacheEntry) {
    if (cache.size >= cacheMax) {
      // Oldest first; expired entries also go.
      const t = now();
      for (const [key, e] of cache) {
        if (cache.size < cacheMax && e.expiresAt > t) break;
        cache.delete(key);
      }
    }
    cache.set(hash, entry);
  }

  return {
    async authenticate(token) {
      if (!token || token.length > MAX_TOKEN_LENGTH) return null;
      const hash = hasher.hash(token);
      const hit = cache.get(hash);
      if (hit) {
        if (hit.expiresAt > now()) return hit.principal;
        cache.delete(hash);
      }
      const gen = generation;
      const [row] = await db
        .select({ tokenId: apiTokens.id, userId: users.id, name: users.name, role: users.role, orgId: users.orgId, orgPath: organisations.path })
        .from(apiTokens)
        .innerJoin(users, eq(users.id, apiTokens.userId))
        .innerJoin(organisations, eq(organisations.id, users.orgId))
        .where(and(eq(apiTokens.tokenHash, hash), isNull(apiTokens.revokedAt), eq(users.disabled, false)))
        .limit(1);
      if (!row) return null;
      // A node's path never changes (nodes are not re-parented), so caching it with the token is safe.
      const principal: Principal = Object.freeze({ userId: row.userId, name: row.name, role: row.role, orgId: row.orgId, orgPath: row.orgPath });
      if (gen === generation) remember(hash, { principal, tokenId: row.tokenId, expiresAt: now() + cacheTtlMs });
      return principal;
    },

    async bootstrapAdmin(givenToken, opts = {}) {
      const adminToken = givenToken === '' ? undefined : givenToken;
      const result = await db.transaction(async (tx) => {
        // Several instances may start together on one PostgreSQL: one of them creates the admin.
        await tx.execute(lockSql(BOOTSTRAP_LOCK_KEY));
        const [existing] = await tx.select({ id: users.id }).from(users).limit(1);
        if (existing) return { created: false } satisfies BootstrapResult;
        const token = adminToken ?? newApiToken();
        const user = { id: newUserId(), name: 'admin', role: 'admin' as const };
        const createdAt = new Date();
        await tx.insert(users).values({ ...user, createdAt });
        await insertToken(tx, hasher, user.id, token, createdAt);
        await opts.inTx?.(tx, user);
        return { created: true, userId: user.id, ...(adminToken === undefined ? { token } : {}) } satisfies BootstrapResult;
      });
      if (result.created) log.info({ userId: result.userId, tokenFrom: adminToken ? 'ADMIN_TOKEN' : 'generated' }, 'first admin created');
      else if (adminToken) log.info('users exist: ADMIN_TOKEN is used only at the first start and was ignored');
      return result;
    },

    async createUser({ name, role }, by, opts = {}) {
      const created = await db.transaction(async (tx) => {
        await lockUsers(tx);
        if (needsSecondAdmin(role, await enabledAdmins(tx))) {
          throw forbidden('a new admin needs the approval of another admin (a user request)', 'dual_control');
        }
        const result = await insertUser(tx, hasher, { name, role, orgId: by.orgId }, by.userId);
        await opts.inTx?.(tx, result);
        return result;
      });
      log.info({ userId: created.id, role, by: by.userId }, 'user created');
      return created;
    },

    async getUser(userId) {
      const [row] = await db.select(userColumns).from(users).where(eq(users.id, userId)).limit(1);
      return row ?? null;
    },

    async listUsers({ limit, cursor, scope }) {
      const after = cursor === undefined ? undefined : decodeUserCursor(cursor);
      const rows = await db
        .select(userColumns)
        .from(users)
        .where(
          and(
            after ? or(gt(users.createdAt, after.createdAt), and(eq(users.createdAt, after.createdAt), gt(users.id, after.id))) : undefined,
            scope ? scopedTo(scope, users.orgId) : undefined,
          ),
        )
        .orderBy(asc(users.createdAt), asc(users.id))
        .limit(limit + 1);
      const items = rows.slice(0, limit);
      const last = items[items.length - 1];
      return { items, nextCursor: rows.length > limit && last ? encodeUserCursor(last) : null };
    },

    async issueToken(userId, by, opts = {}) {
      // A token reaches only its owner: anyone holding another user's token could pass as them,
      // and every two-people check (dual control, reviews, rebinds) would then take one.
      if (userId !== by.userId) throw forbidden('a token is issued only to its owner; ask them to make one', 'own_tokens_only');
      const issued = await db.transaction(async (tx) => {
        // Serialized with disableUser: no token is issued to a user being disabled.
        await lockUsers(tx);
        const [user] = await tx.select({ disabled: users.disabled }).from(users).where(eq(users.id, userId)).limit(1);
        if (!user) throw notFound('user');
        if (user.disabled) throw conflict('user_disabled', 'the user is disabled');
        const token = newApiToken();
        const tokenId = await insertToken(tx, hasher, userId, token, new Date());
        const result: IssuedToken = { tokenId, token };
        await opts.inTx?.(tx, result);
        return result;
      });
      log.info({ userId, tokenId: issued.tokenId, by: by.userId }, 'api token issued');
      return issued;
    },

    async revokeToken(tokenId, by, opts = {}) {
      const owner = await db.transaction(async (tx) => {
        const [row] = await tx
          .update(apiTokens)
          .set({ revokedAt: new Date() })
          .where(and(eq(apiTokens.id, tokenId), isNull(apiTokens.revokedAt)))
          .returning({ tokenId: apiTokens.id, userId: apiTokens.userId });
        if (!row) return null;
        await opts.inTx?.(tx, row);
        return row.userId;
      });
      invalidate((e) => e.tokenId === tokenId);
      if (owner === null) return false;
      invalidated?.(owner);
      log.info({ tokenId, by: by.userId }, 'api token revoked');
      return true;
    },

    async disableUser(userId, by, opts = {}) {
      let result: DisabledUser;
      try {
        result = await db.transaction(async (tx) => {
          // One status change at a time, so two admins disabling each other cannot both succeed.
          await lockUsers(tx);
          const [user] = await tx
            .select({ role: users.role, disabled: users.disabled })
            .from(users)
            .where(eq(users.id, userId))
            .limit(1);
          if (!user) throw notFound('user');
          if (user.role === 'admin' && !user.disabled) {
            if ((await enabledAdmins(tx)) <= 1) {
              throw conflict('last_admin', 'the last enabled admin cannot be disabled');
            }
          }
          if (!user.disabled) await tx.update(users).set({ disabled: true }).where(eq(users.id, userId));
          const revoked = await tx
            .update(apiTokens)
            .set({ revokedAt: new Date() })
            .where(and(eq(apiTokens.userId, userId), isNull(apiTokens.revokedAt)))
            .returning({ id: apiTokens.id });
          const r: DisabledUser = { id: userId, alreadyDisabled: user.disabled, tokensRevoked: revoked.length };
          await opts.inTx?.(tx, r);
          return r;
        });
      } finally {
        // Also on failure: harmless, and a half-known outcome must not leave a trusted entry.
        invalidate((e) => e.principal.userId === userId);
        invalidated?.(userId);
      }
      log.info({ userId, by: by.userId, tokensRevoked: result.tokensRevoked }, 'user disabled');
      return result;
    },

    forgetUser(userId) {
      invalidate((e) => e.principal.userId === userId);
    },
  };
}
