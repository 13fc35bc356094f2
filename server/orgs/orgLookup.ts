// The node a new user, merchant or terminal goes to: the one named, if it is in the caller's
// subtree (else 404, as for an unknown node), or the caller's own node.
import { eq } from 'drizzle-orm';
import { organisations, type OrganisationRow } from '../../schemas/db.ts';
import type { Tx } from '../core/transaction.ts';
import type { Db } from '../db/database.ts';
import { notFound } from '../errors.ts';
import { inScope, seesAll, type OrgScope } from './scope.ts';

/** The node `orgId`, or 404 `not_found` when it does not exist or is outside the caller's subtree. */
export async function visibleOrg(db: Db | Tx, principal: OrgScope, orgId: string): Promise<OrganisationRow> {
  const [row] = await db.select().from(organisations).where(eq(organisations.id, orgId)).limit(1);
  if (!row || !inScope(principal, row.path)) throw notFound(`organisation ${orgId}`);
  return row;
}

/** Where something the caller creates lands: `orgId` when given (checked), else the caller's node. */
export async function targetOrgId(db: Db | Tx, principal: OrgScope | null | undefined, orgId: string | undefined): Promise<string | undefined> {
  if (orgId === undefined) return principal?.orgId;
  if (!principal) return orgId;
  return (await visibleOrg(db, principal, orgId)).id;
}

/**
 * 404 `not_found` for `what` unless the node `orgId` is in the caller's subtree: for an object read
 * by an id in a body (a merchant to bind to), which the path check (pathScope.ts) does not see.
 * No principal (the system) and a root caller pass.
 */
export async function assertOwnedWithin(db: Db | Tx, principal: OrgScope | null | undefined, orgId: string, what: string): Promise<void> {
  if (!principal || seesAll(principal)) return;
  const [row] = await db.select({ path: organisations.path }).from(organisations).where(eq(organisations.id, orgId)).limit(1);
  if (!row || !inScope(principal, row.path)) throw notFound(what);
}
