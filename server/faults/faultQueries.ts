// Reads for triage: the fault queue (severity then age, or another order of `faultSort.ts`;
// filtered; keyset-paged), the overview counts, one fault with its notes.
import { scopedDevice, type OrgScope } from '../orgs/scope.ts';
import { and, asc, eq, getTableColumns, ilike, inArray, isNull, ne, sql, type SQL } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import { devices, users } from '../../schemas/db.ts';
import type { FaultState, Severity } from '../../schemas/faults.ts';
import { faultNotes, faults } from '../../schemas/tables/faults.ts';
import type { Db } from '../db/database.ts';
import { sortSpecs, type FaultSort } from './faultSort.ts';
import { firstOrNotFound } from '../core/firstOrNotFound.ts';
import { containing } from '../core/likePattern.ts';
import type { FaultFilterQuery } from './faultSchemas.ts';

export interface FaultFilter {
  state?: FaultState[];
  severity?: Severity[];
  code?: string[];
  deviceId?: string;
  merchantId?: string;
  model?: string;
  /** Part of the terminal's serial (case-insensitive), as the device list's `q`. */
  serial?: string;
  /** A user id, or `none` for unassigned. */
  assignee?: string;
  /** Only the faults of terminals in this caller's subtree (server/orgs/scope.ts). */
  scope?: OrgScope;
}

/** A fault-queue query as a filter: the default states (unresolved), `me` as the caller. */
export function faultFilterOf(q: FaultFilterQuery, callerId: string): Omit<FaultFilter, 'scope'> {
  const { state, assignee, ...rest } = q;
  return {
    ...rest,
    state: state === 'all' ? undefined : state?.length ? state : ['open', 'acknowledged'],
    assignee: assignee === 'me' ? callerId : assignee,
  };
}

/** The queue's filters as conditions over `faults` joined to its terminal (`devices`): the list and the export read them alike. */
export function faultConditions(f: Omit<FaultFilter, 'scope'>): SQL[] {
  const w: SQL[] = [];
  if (f.state?.length) w.push(inArray(faults.state, f.state));
  if (f.severity?.length) w.push(inArray(faults.severity, f.severity));
  if (f.code?.length) w.push(inArray(faults.code, f.code));
  if (f.deviceId) w.push(eq(faults.deviceId, f.deviceId));
  if (f.merchantId) w.push(eq(devices.merchantId, f.merchantId));
  if (f.model) w.push(eq(devices.model, f.model));
  if (f.serial) w.push(ilike(devices.serial, containing(f.serial)));
  if (f.assignee === 'none') w.push(isNull(faults.assigneeId));
  else if (f.assignee) w.push(eq(faults.assigneeId, f.assignee));
  return w;
}

const assignee = alias(users, 'assignee');
const acknowledger = alias(users, 'acknowledger');
const resolver = alias(users, 'resolver');

export function createFaultQueries(db: Db) {
  const base = () =>
    db
      .select({
        ...getTableColumns(faults),
        serial: devices.serial,
        model: devices.model,
        merchantId: devices.merchantId,
        assigneeName: assignee.name,
        acknowledgedByName: acknowledger.name,
        resolvedByName: resolver.name,
      })
      .from(faults)
      .innerJoin(devices, eq(devices.id, faults.deviceId))
      .leftJoin(assignee, eq(assignee.id, faults.assigneeId))
      .leftJoin(acknowledger, eq(acknowledger.id, faults.acknowledgedBy))
      .leftJoin(resolver, eq(resolver.id, faults.resolvedBy));

  function where(f: FaultFilter): SQL[] {
    const visible = f.scope && scopedDevice(f.scope, faults.deviceId);
    return [...faultConditions(f), ...(visible ? [visible] : [])];
  }

  async function count(w: SQL[]): Promise<number> {
    const [row] = await db
      .select({ n: sql<number>`count(*)::int` })
      .from(faults)
      .innerJoin(devices, eq(devices.id, faults.deviceId))
      .where(and(...w));
    return row?.n ?? 0;
  }

  return {
    /** In the order `sort` (default: worst first, then oldest: what a technician should look at next).
     *  The first page (no cursor) also counts every match, so a list can say how long it is. */
    async list(f: FaultFilter, limit: number, cursor?: string, sort: FaultSort = 'severity') {
      const spec = sortSpecs[sort];
      const w = where(f);
      const total = cursor ? undefined : await count(w);
      if (cursor) {
        const after = spec.after(cursor);
        if (after) w.push(after);
      }
      const rows = await base()
        .where(and(...w))
        .orderBy(...spec.orderBy)
        .limit(limit + 1);
      const items = rows.slice(0, limit);
      const last = items[items.length - 1];
      return { items, nextCursor: rows.length > limit && last ? spec.cursorOf(last) : null, ...(total === undefined ? {} : { total }) };
    },

    async get(id: string) {
      const row = await firstOrNotFound(base().where(eq(faults.id, id)).limit(1), `fault ${id}`);
      const notes = await db.select().from(faultNotes).where(eq(faultNotes.faultId, id)).orderBy(asc(faultNotes.id));
      return { ...row, notes };
    },

    /** Counts of unresolved faults for the overview (optionally narrowed like the list). */
    async summary(f: Omit<FaultFilter, 'state'> = {}) {
      const w = where(f);
      w.push(ne(faults.state, 'resolved'));
      const rows = await db
        .select({
          code: faults.code,
          severity: faults.severity,
          state: faults.state,
          n: sql<number>`count(*)::int`,
          devices: sql<number>`count(distinct ${faults.deviceId})::int`,
        })
        .from(faults)
        .innerJoin(devices, eq(devices.id, faults.deviceId))
        .where(and(...w))
        .groupBy(faults.code, faults.severity, faults.state);
      const [affected] = await db
        .select({ n: sql<number>`count(distinct ${faults.deviceId})::int` })
        .from(faults)
        .innerJoin(devices, eq(devices.id, faults.deviceId))
        .where(and(...w));
      const bySeverity: Record<string, number> = { critical: 0, major: 0, warning: 0, info: 0 };
      const byState: Record<string, number> = { open: 0, acknowledged: 0 };
      const byCode: Record<string, { total: number; severity: string; bySeverity: Record<string, number> }> = {};
      let total = 0;
      for (const r of rows) {
        total += r.n;
        bySeverity[r.severity] = (bySeverity[r.severity] ?? 0) + r.n;
        byState[r.state] = (byState[r.state] ?? 0) + r.n;
        const c = (byCode[r.code] ??= { total: 0, severity: r.severity, bySeverity: {} });
        c.total += r.n;
        c.bySeverity[r.severity] = (c.bySeverity[r.severity] ?? 0) + r.n;
      }
      return { total, devicesAffected: affected?.n ?? 0, bySeverity, byState, byCode };
    },
  };
}

export type FaultQueries = ReturnType<typeof createFaultQueries>;
