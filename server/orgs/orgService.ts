// The organisation tree: nodes made under a node of the caller's subtree, listed and read within
// it, renamed. A node is never re-parented or deleted here: its path, once written, is what every
// scoped query and every cached principal relies on.
import { and, asc, eq, like, sql } from 'drizzle-orm';
import { devices, organisations, users, type OrganisationRow } from '../../schemas/db.ts';
import { merchants } from '../../schemas/tables/merchants.ts';
import type { AuditLog } from '../audit/auditLog.ts';
import type { Actor } from '../core/actor.ts';
import { newId } from '../core/ids.ts';
import type { Db } from '../db/database.ts';
import { badCursor, fromBase64url, toBase64url } from '../http/cursorParts.ts';
import { pageOf } from '../http/pageOf.ts';
import type { Principal } from '../http/types.ts';
import { visibleOrg } from './orgLookup.ts';
import { childPath, depthOf, inScope, subtreePattern } from './scope.ts';

export interface OrgView {
  id: string;
  parentId: string | null;
  name: string;
  path: string;
  depth: number;
  /** Members of this node itself (not of the nodes below it). */
  counts: { users: number; merchants: number; terminals: number };
  createdBy: string | null;
  createdAt: string;
}

// Spelled out with an alias: inside a select field drizzle writes a column without its table, and
// "org_id" = "id" would then compare the member table's own columns.
const countOf = (table: typeof users | typeof merchants | typeof devices) =>
  sql<number>`(select count(*)::int from ${table} as member where member.org_id = "organisations"."id")`;

const withCounts = {
  row: organisations,
  users: countOf(users),
  merchants: countOf(merchants),
  terminals: countOf(devices),
};

function view(r: { row: OrganisationRow; users: number; merchants: number; terminals: number }): OrgView {
  return {
    id: r.row.id,
    parentId: r.row.parentId,
    name: r.row.name,
    path: r.row.path,
    depth: depthOf(r.row.path),
    counts: { users: Number(r.users), merchants: Number(r.merchants), terminals: Number(r.terminals) },
    createdBy: r.row.createdBy,
    createdAt: r.row.createdAt.toISOString(),
  };
}

/** A path cursor: a path of the caller's subtree (anything else is not one this list handed out). */
function pathAfter(cursor: string, principal: Principal): string {
  const path = fromBase64url(cursor);
  if (!/^\/([A-Za-z0-9_-]+\/)+$/.test(path) || !inScope(principal, path)) throw badCursor();
  return path;
}

export function createOrgService(deps: { db: Db; audit: AuditLog }) {
  const { db, audit } = deps;

  async function get(principal: Principal, id: string): Promise<OrgView> {
    await visibleOrg(db, principal, id);
    const [r] = await db.select(withCounts).from(organisations).where(eq(organisations.id, id)).limit(1);
    if (!r) throw new Error(`organisation ${id} vanished`);
    return view(r);
  }

  return {
    get,

    async create(input: { parentId?: string; name: string }, actor: Actor & { principal: Principal }): Promise<OrgView> {
      const by = actor.principal;
      const id = newId('org');
      await db.transaction(async (tx) => {
        const parent = await visibleOrg(tx, by, input.parentId ?? by.orgId);
        await tx.insert(organisations).values({ id, parentId: parent.id, name: input.name, path: childPath(parent.path, id), createdBy: by.userId });
        await audit.append({ actor: by, action: 'org.create', target: id, ip: actor.ip, data: { parentId: parent.id, name: input.name } }, tx);
      });
      return get(by, id);
    },

    /** The caller's subtree, its own node first, in path order (a parent before its children). */
    async list(principal: Principal, q: { limit: number; cursor?: string; parentId?: string }) {
      const after = q.cursor === undefined ? undefined : pathAfter(q.cursor, principal);
      const rows = await db
        .select(withCounts)
        .from(organisations)
        .where(
          and(
            like(organisations.path, subtreePattern(principal.orgPath)),
            q.parentId ? eq(organisations.parentId, q.parentId) : undefined,
            after ? sql`${organisations.path} collate "C" > ${after}` : undefined,
          ),
        )
        // COLLATE "C": byte order, the order of the cursor's comparison whatever the database collation.
        .orderBy(asc(sql`${organisations.path} collate "C"`))
        .limit(q.limit + 1);
      return pageOf(rows.map(view), q.limit, (last) => toBase64url(last.path));
    },

    async rename(id: string, name: string, actor: Actor & { principal: Principal }): Promise<OrgView> {
      const by = actor.principal;
      await db.transaction(async (tx) => {
        const org = await visibleOrg(tx, by, id);
        await tx.update(organisations).set({ name }).where(eq(organisations.id, id));
        await audit.append({ actor: by, action: 'org.rename', target: id, ip: actor.ip, data: { from: org.name, to: name } }, tx);
      });
      return get(by, id);
    },
  };
}

export type OrgService = ReturnType<typeof createOrgService>;
