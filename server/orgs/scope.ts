// The one scoping rule (docs/organisations.md): a principal sees and acts on what belongs to its
// node or a node below it. Pure predicates for rows already read, and SQL conditions for queries,
// so every list, read and mutation asks the same question. Out of scope answers 404, never 403:
// a caller must not learn that another subtree's object exists.
import { sql, type SQL } from 'drizzle-orm';
import type { AnyPgColumn } from 'drizzle-orm/pg-core';
import { devices, organisations, ROOT_ORG_PATH, users } from '../../schemas/db.ts';
import { notFound } from '../errors.ts';
import type { Principal } from '../http/types.ts';

/** Who is asking, as far as scoping goes: every Principal is one. */
export type OrgScope = Pick<Principal, 'orgId' | 'orgPath'>;

/** Is the node at `orgPath` the principal's node or one of its descendants? */
export function inScope(principal: OrgScope, orgPath: string): boolean {
  return orgPath.startsWith(principal.orgPath);
}

/** Does the principal see everything (the root node)? Then scoping adds no condition at all. */
export const seesAll = (principal: OrgScope) => principal.orgPath === ROOT_ORG_PATH;

/** The ids of the nodes on a path, root first: `/org_root/org_a/` → ['org_root', 'org_a']. */
export function pathIds(orgPath: string): string[] {
  return orgPath.split('/').filter((part) => part !== '');
}

/** The path of a new child of the node at `parentPath`. */
export const childPath = (parentPath: string, childId: string) => `${parentPath}${childId}/`;

/** Depth below the root: the root is 0, its children 1. */
export const depthOf = (orgPath: string) => pathIds(orgPath).length - 1;

/** `LIKE` pattern matching `prefix` and everything under it; `_` and `%` (ids have `_`) match themselves. */
export function subtreePattern(prefix: string): string {
  return `${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** SQL: the ids of the organisations in the principal's subtree. */
export function subtreeOrgIds(principal: OrgScope): SQL {
  return sql`select ${organisations.id} from ${organisations} where ${organisations.path} like ${subtreePattern(principal.orgPath)}`;
}

/**
 * A condition keeping the rows whose `orgIdColumn` is in the principal's subtree; `undefined` for a
 * root principal (drizzle's `and()` drops it), so a root user's queries are what they were before.
 *   db.select().from(merchants).where(and(eq(merchants.status, 'active'), scopedTo(p, merchants.orgId)))
 */
export function scopedTo(principal: OrgScope, orgIdColumn: AnyPgColumn): SQL | undefined {
  if (seesAll(principal)) return undefined;
  return sql`${orgIdColumn} in (${subtreeOrgIds(principal)})`;
}

/**
 * For tables that belong to a terminal (commands, faults, timeline, keys…): keeps the rows whose
 * `deviceIdColumn` names a terminal in the principal's subtree; `undefined` for a root principal.
 *   db.select().from(faults).where(and(..., scopedDevice(p, faults.deviceId)))
 */
export function scopedDevice(principal: OrgScope, deviceIdColumn: AnyPgColumn): SQL | undefined {
  if (seesAll(principal)) return undefined;
  return sql`${deviceIdColumn} in (select ${devices.id} from ${devices} where ${devices.orgId} in (${subtreeOrgIds(principal)}))`;
}

/**
 * For objects owned by their creator's node (campaigns, command batches): keeps the rows whose
 * `createdByColumn` names a user of the principal's subtree; `undefined` for a root principal. A row
 * with no creator (the server's own) or whose creator is gone belongs to the root, so only the root sees it.
 */
export function createdInScope(principal: OrgScope, createdByColumn: AnyPgColumn): SQL | undefined {
  if (seesAll(principal)) return undefined;
  return sql`${createdByColumn} in (select ${users.id} from ${users} where ${users.orgId} in (${subtreeOrgIds(principal)}))`;
}

/** Throws 404 `not_found` for `what` unless `orgPath` is in scope: the answer for an unknown id too. */
export function assertInScope(principal: OrgScope, orgPath: string | null | undefined, what: string): void {
  if (orgPath === null || orgPath === undefined || !inScope(principal, orgPath)) throw notFound(what);
}
