// What every creation of a user shares, inside its transaction: the lock that orders changes to
// users, the count of enabled admins, and the rule that needs a second admin (issue #16).
import { and, eq, sql } from 'drizzle-orm';
import { apiTokens, users, type Role } from '../../schemas/db.ts';
import { newId } from '../core/ids.ts';
import type { Tx } from '../core/transaction.ts';
import { generateSecret, type SecretHasher } from '../security/secretHasher.ts';

export const TOKEN_PREFIX = 'pf_';
/** Advisory lock key (transaction-scoped) of user changes: creations, tokens, disabling. */
const USERS_LOCK_KEY = '5064617574680002';

export const newUserId = () => newId('usr');
export const newApiToken = () => `${TOKEN_PREFIX}${generateSecret()}`;

export interface CreatedUser {
  id: string;
  name: string;
  role: Role;
  /** Shown once; only its hash is stored. */
  token: string;
}

export const lockUsers = (tx: Tx) => tx.execute(sql`select pg_advisory_xact_lock(${sql.raw(USERS_LOCK_KEY)})`);

/**
 * Pure: does a new user of `role` need another admin's approval? An admin does once two admins
 * are enabled; the first admin makes the second alone, as there is nobody else to ask.
 */
export const needsSecondAdmin = (role: Role, enabledAdmins: number) => role === 'admin' && enabledAdmins >= 2;

export async function enabledAdmins(tx: Tx): Promise<number> {
  const [row] = await tx
    .select({ n: sql<number>`count(*)::int` })
    .from(users)
    .where(and(eq(users.role, 'admin'), eq(users.disabled, false)));
  return Number(row?.n ?? 0);
}

export async function insertToken(tx: Tx, hasher: SecretHasher, userId: string, token: string, createdAt: Date): Promise<string> {
  const tokenId = newId('tok');
  await tx.insert(apiTokens).values({ id: tokenId, userId, tokenHash: hasher.hash(token), createdAt });
  return tokenId;
}

/** The user and its first token; the caller holds the users lock and has applied `needsSecondAdmin`. */
export async function insertUser(
  tx: Tx,
  hasher: SecretHasher,
  input: { name: string; role: Role; orgId?: string },
  createdBy: string,
): Promise<CreatedUser> {
  const id = newUserId();
  const token = newApiToken();
  const createdAt = new Date();
  // No orgId: the column's default, the root node.
  await tx.insert(users).values({ id, name: input.name, role: input.role, orgId: input.orgId, createdBy, createdAt });
  await insertToken(tx, hasher, id, token, createdAt);
  return { id, name: input.name, role: input.role, token };
}
