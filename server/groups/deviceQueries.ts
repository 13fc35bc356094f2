// Fleet queries against the database: the text parsed (400 query_invalid with where and what
// otherwise), compiled to one condition over devices ⟕ device_state, and asked for ids, a count
// or a sample, within the caller's organisation subtree when there is a caller.
import { and, asc, count, eq, sql, type SQL } from 'drizzle-orm';
import type { QueryNode } from '../../schemas/fleetQuery.ts';
import { deviceState, devices } from '../../schemas/db.ts';
import type { Db } from '../db/database.ts';
import { scopedTo, type OrgScope } from '../orgs/scope.ts';
import { compileQuery } from './query/compiler.ts';
import { parseQuery } from './query/parser.ts';
import { QueryError, queryInvalid } from './query/queryError.ts';

/** The tree of a query text, or 400 `query_invalid`. */
export function parsedOrRefused(text: string): QueryNode {
  try {
    return parseQuery(text);
  } catch (err) {
    if (err instanceof QueryError) throw queryInvalid(err);
    throw err;
  }
}

/** The SQL condition of a query text, or 400 `query_invalid` (a field this build cannot query, too). */
export function conditionOf(text: string, now = new Date()): SQL {
  const tree = parsedOrRefused(text);
  try {
    return compileQuery(tree, { now });
  } catch (err) {
    if (err instanceof QueryError) throw queryInvalid(err);
    throw err;
  }
}

export interface QueryScope {
  /** Absent for the server's own resolution (a running campaign): the whole fleet. */
  scope?: OrgScope;
  /** Only enrolled terminals: what commands and campaigns go to. */
  enrolledOnly?: boolean;
}

export const SAMPLE_SIZE = 10;

export function createDeviceQueries(db: Db) {
  const whereOf = (condition: SQL, opts: QueryScope) =>
    and(condition, opts.enrolledOnly ? eq(devices.status, 'enrolled') : undefined, opts.scope ? scopedTo(opts.scope, devices.orgId) : undefined);

  return {
    /** Ids by serial order, at most `max`. */
    async ids(condition: SQL, max: number, opts: QueryScope = {}): Promise<string[]> {
      const rows = await db
        .select({ id: devices.id })
        .from(devices)
        .leftJoin(deviceState, eq(deviceState.deviceId, devices.id))
        .where(whereOf(condition, opts))
        .orderBy(asc(devices.serial))
        .limit(max);
      return rows.map((r) => r.id);
    },

    /** The live count and the first terminals by serial: what a filter shows before it is used. */
    async countAndSample(condition: SQL, opts: QueryScope = {}) {
      const where = whereOf(condition, opts);
      const [total] = await db.select({ n: count() }).from(devices).leftJoin(deviceState, eq(deviceState.deviceId, devices.id)).where(where);
      const sample = await db
        .select({ id: devices.id, serial: devices.serial, model: devices.model, status: devices.status, online: sql<boolean>`coalesce(${deviceState.online}, false)` })
        .from(devices)
        .leftJoin(deviceState, eq(deviceState.deviceId, devices.id))
        .where(where)
        .orderBy(asc(devices.serial))
        .limit(SAMPLE_SIZE);
      return { count: total?.n ?? 0, sample };
    },
  };
}

export type DeviceQueries = ReturnType<typeof createDeviceQueries>;
