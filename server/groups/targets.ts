// The terminals a static group, a saved filter or a query names: one resolution for campaigns,
// fleet command batches, exports and parameter pushes (deviceService.idsForTarget hands the
// other target forms, ids and the legacy field filter, to its own code and these here).
import { and, asc, eq } from 'drizzle-orm';
import { devices } from '../../schemas/db.ts';
import type { NamedTarget } from '../../schemas/fleetQuery.ts';
import { deviceGroupMembers, deviceGroups, savedFilters } from '../../schemas/tables/groups.ts';
import type { Db } from '../db/database.ts';
import { unprocessable } from '../errors.ts';
import { scopedTo, type OrgScope } from '../orgs/scope.ts';
import { conditionOf, createDeviceQueries } from './deviceQueries.ts';

export interface ResolveOptions {
  /** The caller's subtree; absent for the server's own resolution (a running campaign). */
  scope?: OrgScope;
  /** Only enrolled terminals (default): commands and campaigns go to those alone. */
  enrolledOnly?: boolean;
  /**
   * A group or filter deleted since: `refuse` (422 unknown_group / unknown_filter, for a request)
   * or `empty` (no terminals, for a dynamic campaign re-resolving its target each tick).
   */
  gone?: 'refuse' | 'empty';
}

export function createTargetResolver(db: Db) {
  const queries = createDeviceQueries(db);

  async function groupExists(id: string, scope: OrgScope | undefined) {
    const [row] = await db
      .select({ id: deviceGroups.id })
      .from(deviceGroups)
      .where(and(eq(deviceGroups.id, id), scope ? scopedTo(scope, deviceGroups.orgId) : undefined))
      .limit(1);
    return row !== undefined;
  }

  async function filterQuery(id: string, scope: OrgScope | undefined) {
    const [row] = await db
      .select({ query: savedFilters.query })
      .from(savedFilters)
      .where(and(eq(savedFilters.id, id), scope ? scopedTo(scope, savedFilters.orgId) : undefined))
      .limit(1);
    return row?.query;
  }

  return {
    async ids(target: NamedTarget, max: number, opts: ResolveOptions = {}): Promise<string[]> {
      const enrolledOnly = opts.enrolledOnly ?? true;
      const refuse = (opts.gone ?? 'refuse') === 'refuse';
      if ('groupId' in target) {
        if (!(await groupExists(target.groupId, opts.scope))) {
          if (refuse) throw unprocessable('unknown_group', `group ${target.groupId} does not exist`);
          return [];
        }
        const rows = await db
          .select({ id: devices.id })
          .from(deviceGroupMembers)
          .innerJoin(devices, eq(devices.id, deviceGroupMembers.deviceId))
          .where(
            and(
              eq(deviceGroupMembers.groupId, target.groupId),
              enrolledOnly ? eq(devices.status, 'enrolled') : undefined,
              opts.scope ? scopedTo(opts.scope, devices.orgId) : undefined,
            ),
          )
          .orderBy(asc(devices.serial))
          .limit(max);
        return rows.map((r) => r.id);
      }
      if ('filterId' in target) {
        const query = await filterQuery(target.filterId, opts.scope);
        if (query === undefined) {
          if (refuse) throw unprocessable('unknown_filter', `filter ${target.filterId} does not exist`);
          return [];
        }
        return queries.ids(conditionOf(query), max, { scope: opts.scope, enrolledOnly });
      }
      return queries.ids(conditionOf(target.query), max, { scope: opts.scope, enrolledOnly });
    },
  };
}

export type TargetResolver = ReturnType<typeof createTargetResolver>;
