// Recurring maintenance windows as stored and as the engine's sends read them. Sends ask for a
// terminal's windows once per member per tick, so the lookup is served from memory, reloaded from
// the database every `refreshMs` (and at once after a change here): another instance of a cluster
// sees a change within that time.
import { and, asc, eq, gt, inArray, or, sql, type SQL } from 'drizzle-orm';
import { organisations } from '../../schemas/db.ts';
import { merchants } from '../../schemas/tables/merchants.ts';
import type { MaintenanceScope, NewMaintenanceWindow, RecurringWindow } from '../../schemas/maintenance.ts';
import { deviceGroups } from '../../schemas/tables/groups.ts';
import { maintenanceWindows, type MaintenanceWindowRow } from '../../schemas/tables/maintenanceWindows.ts';
import type { Tx } from '../core/transaction.ts';
import { newId } from '../core/ids.ts';
import type { Db } from '../db/database.ts';
import { notFound } from '../errors.ts';
import { keyMatching, publicIdPattern } from '../http/cursorParts.ts';
import type { Principal } from '../http/types.ts';
import type { Logger } from '../log.ts';
import { scopedTo, seesAll, subtreeOrgIds, type OrgScope } from '../orgs/scope.ts';
import type { WindowsByScope } from './recurringWindows.ts';

export interface MaintenanceWindowStoreDeps {
  db: Db;
  log: Logger;
  refreshMs?: number;
}

const emptyWindows = (): WindowsByScope => ({ merchant: new Map(), group: new Map(), org: new Map() });

function byScopeOf(rows: readonly MaintenanceWindowRow[]): WindowsByScope {
  const out = { merchant: new Map<string, RecurringWindow[]>(), group: new Map<string, RecurringWindow[]>(), org: new Map<string, RecurringWindow[]>() };
  for (const r of rows) {
    const list = out[r.scope].get(r.targetId) ?? [];
    list.push({ days: r.days, start: r.start, end: r.end });
    out[r.scope].set(r.targetId, list);
  }
  return out;
}

/** The windows the principal may see: those set for a merchant, group or organisation of its subtree. */
function windowsInScope(db: Db, p: OrgScope): SQL | undefined {
  if (seesAll(p)) return undefined;
  return or(
    and(eq(maintenanceWindows.scope, 'merchant'), inArray(maintenanceWindows.targetId, db.select({ id: merchants.id }).from(merchants).where(scopedTo(p, merchants.orgId)))),
    and(eq(maintenanceWindows.scope, 'group'), inArray(maintenanceWindows.targetId, db.select({ id: deviceGroups.id }).from(deviceGroups).where(scopedTo(p, deviceGroups.orgId)))),
    and(eq(maintenanceWindows.scope, 'org'), sql`${maintenanceWindows.targetId} in (${subtreeOrgIds(p)})`),
  );
}

export function createMaintenanceWindowStore({ db, log, refreshMs = 30_000 }: MaintenanceWindowStoreDeps) {
  let current = emptyWindows();
  let timer: NodeJS.Timeout | undefined;

  async function refresh() {
    current = byScopeOf(await db.select().from(maintenanceWindows));
  }

  /** 404 unless the window's target exists in the principal's subtree. */
  /** 404 unless the window's target exists in the principal's subtree. */
  async function assertTarget(p: OrgScope, scope: MaintenanceScope, targetId: string) {
    const found =
      scope === 'merchant'
        ? await db.select({ id: merchants.id }).from(merchants).where(and(eq(merchants.id, targetId), scopedTo(p, merchants.orgId))).limit(1)
        : scope === 'group'
          ? await db.select({ id: deviceGroups.id }).from(deviceGroups).where(and(eq(deviceGroups.id, targetId), scopedTo(p, deviceGroups.orgId))).limit(1)
          : await db.select({ id: organisations.id }).from(organisations).where(and(eq(organisations.id, targetId), scopedTo(p, organisations.id))).limit(1);
    if (!found.length) throw notFound(`${scope} ${targetId}`);
  }

  return {
    /** What governs sends now (at most `refreshMs` old). */
    windows: (): WindowsByScope => current,

    async start() {
      await refresh();
      timer = setInterval(() => void refresh().catch((err) => log.warn({ err }, 'could not reload maintenance windows')), refreshMs);
      timer.unref();
    },
    stop() {
      if (timer) clearInterval(timer);
    },

    async create(input: NewMaintenanceWindow, by: Principal, inTx?: (tx: Tx, row: MaintenanceWindowRow) => Promise<unknown>) {
      await assertTarget(by, input.scope, input.targetId);
      const row = await db.transaction(async (tx) => {
        const [r] = await tx
          .insert(maintenanceWindows)
          .values({ id: newId('mw'), scope: input.scope, targetId: input.targetId, name: input.name ?? null, days: [...input.days].sort(), start: input.start, end: input.end, createdBy: by.userId })
          .returning();
        await inTx?.(tx, r!);
        return r!;
      });
      await refresh();
      return row;
    },

    async list(p: OrgScope, q: { limit: number; cursor?: string; scope?: MaintenanceScope; targetId?: string }) {
      const rows = await db
        .select()
        .from(maintenanceWindows)
        .where(
          and(
            windowsInScope(db, p),
            q.scope ? eq(maintenanceWindows.scope, q.scope) : undefined,
            q.targetId ? eq(maintenanceWindows.targetId, q.targetId) : undefined,
            q.cursor ? gt(maintenanceWindows.id, keyMatching(q.cursor, publicIdPattern('mw'))) : undefined,
          ),
        )
        .orderBy(asc(maintenanceWindows.id))
        .limit(q.limit + 1);
      const items = rows.slice(0, q.limit);
      return { items, nextCursor: rows.length > q.limit ? (items[items.length - 1]?.id ?? null) : null };
    },

    async get(p: OrgScope, id: string): Promise<MaintenanceWindowRow> {
      const [row] = await db.select().from(maintenanceWindows).where(and(eq(maintenanceWindows.id, id), windowsInScope(db, p))).limit(1);
      if (!row) throw notFound(`maintenance window ${id}`);
      return row;
    },

    async remove(p: OrgScope, id: string, inTx?: (tx: Tx, row: MaintenanceWindowRow) => Promise<unknown>) {
      const row = await this.get(p, id);
      await db.transaction(async (tx) => {
        await tx.delete(maintenanceWindows).where(eq(maintenanceWindows.id, id));
        await inTx?.(tx, row);
      });
      await refresh();
      return row;
    },
  };
}

export type MaintenanceWindowStore = ReturnType<typeof createMaintenanceWindowStore>;
