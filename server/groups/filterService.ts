// Saved filters: a name and a fleet query, checked when saved (a query that does not parse, or
// names a field this build cannot query, is refused then, not when a campaign starts). The query
// is stored as text and compiled on every use, so "lastSeen < 1d" always counts back from now.
import { and, asc, eq, gt } from 'drizzle-orm';
import { savedFilters, type SavedFilterRow } from '../../schemas/tables/groups.ts';
import type { AuditLog } from '../audit/auditLog.ts';
import type { Actor } from '../core/actor.ts';
import { firstOrNotFound } from '../core/firstOrNotFound.ts';
import { newId } from '../core/ids.ts';
import { isUniqueViolation } from '../core/sqlState.ts';
import type { Db } from '../db/database.ts';
import { conflict } from '../errors.ts';
import { fromBase64url, keyMatching, publicIdPattern, toBase64url } from '../http/cursorParts.ts';
import { pageOf } from '../http/pageOf.ts';
import type { Principal } from '../http/types.ts';
import { scopedTo, type OrgScope } from '../orgs/scope.ts';
import { conditionOf, parsedOrRefused } from './deviceQueries.ts';
import { printQuery } from './query/printer.ts';

const FILTER_ID = publicIdPattern('sfl');

export interface FilterInput {
  name: string;
  query: string;
  description?: string;
}

const nameTaken = (name: string, err: unknown) => conflict('name_taken', `a filter named ${name} exists`, undefined, { cause: err });

/** The row as the API shows it, with the query's canonical spelling beside what was written. */
const view = (row: SavedFilterRow) => ({ ...row, canonical: printQuery(parsedOrRefused(row.query)) });

export function createFilterService(deps: { db: Db; audit: AuditLog }) {
  const { db } = deps;
  const visible = (scope: OrgScope) => scopedTo(scope, savedFilters.orgId);

  const row = (id: string, scope: OrgScope | undefined) =>
    firstOrNotFound(db.select().from(savedFilters).where(and(eq(savedFilters.id, id), scope ? visible(scope) : undefined)).limit(1), `filter ${id}`);

  return {
    /** The stored row (no caller: the server's own resolution of a running campaign). */
    row,
    get: async (id: string, scope: OrgScope) => view(await row(id, scope)),

    async create(input: FilterInput, actor: Actor & { principal: Principal }) {
      conditionOf(input.query);
      const id = newId('sfl');
      try {
        const [made] = await db.transaction(async (tx) => {
          const rows = await tx
            .insert(savedFilters)
            .values({ id, name: input.name, query: input.query, description: input.description ?? '', orgId: actor.principal.orgId, createdBy: actor.principal.userId })
            .returning();
          await deps.audit.append({ actor: actor.principal, action: 'filter.create', target: id, ip: actor.ip, data: { name: input.name, query: input.query } }, tx);
          return rows;
        });
        return view(made!);
      } catch (err) {
        if (isUniqueViolation(err)) throw nameTaken(input.name, err);
        throw err;
      }
    },

    async list(scope: OrgScope, limit: number, cursor?: string) {
      const after = cursor ? keyMatching(fromBase64url(cursor), FILTER_ID) : undefined;
      const rows = await db
        .select()
        .from(savedFilters)
        .where(and(visible(scope), after ? gt(savedFilters.id, after) : undefined))
        .orderBy(asc(savedFilters.id))
        .limit(limit + 1);
      const page = pageOf(rows, limit, (last) => toBase64url(last.id));
      return { ...page, items: page.items.map(view) };
    },

    async update(id: string, input: Partial<FilterInput>, actor: Actor & { principal: Principal }) {
      await row(id, actor.principal);
      if (input.query !== undefined) conditionOf(input.query);
      try {
        const [changed] = await db.transaction(async (tx) => {
          const rows = await tx
            .update(savedFilters)
            .set({
              ...(input.name !== undefined && { name: input.name }),
              ...(input.query !== undefined && { query: input.query }),
              ...(input.description !== undefined && { description: input.description }),
              updatedAt: new Date(),
            })
            .where(eq(savedFilters.id, id))
            .returning();
          await deps.audit.append({ actor: actor.principal, action: 'filter.update', target: id, ip: actor.ip, data: { ...input } }, tx);
          return rows;
        });
        return view(changed!);
      } catch (err) {
        if (isUniqueViolation(err)) throw nameTaken(input.name ?? '', err);
        throw err;
      }
    },

    async remove(id: string, actor: Actor & { principal: Principal }) {
      const found = await row(id, actor.principal);
      await db.transaction(async (tx) => {
        await tx.delete(savedFilters).where(eq(savedFilters.id, id));
        await deps.audit.append({ actor: actor.principal, action: 'filter.delete', target: id, ip: actor.ip, data: { name: found.name, query: found.query } }, tx);
      });
    },
  };
}

export type FilterService = ReturnType<typeof createFilterService>;
