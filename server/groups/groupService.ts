// Static groups: a name and a list of terminals an operator keeps by hand. A group belongs to the
// organisation of the user who made it; users see, change and target the groups of their subtree,
// and add only terminals of their subtree (anything else is "unknown", never "forbidden").
import { and, asc, count, eq, gt, inArray, sql } from 'drizzle-orm';
import { devices } from '../../schemas/db.ts';
import { deviceGroupMembers, deviceGroups, type DeviceGroupRow } from '../../schemas/tables/groups.ts';
import type { AuditLog } from '../audit/auditLog.ts';
import type { Actor } from '../core/actor.ts';
import { firstOrNotFound } from '../core/firstOrNotFound.ts';
import { newId } from '../core/ids.ts';
import { isUniqueViolation } from '../core/sqlState.ts';
import type { Db } from '../db/database.ts';
import { badRequest, conflict } from '../errors.ts';
import { fromBase64url, keyMatching, publicIdPattern, toBase64url } from '../http/cursorParts.ts';
import { pageOf } from '../http/pageOf.ts';
import type { Principal } from '../http/types.ts';
import { scopedTo, type OrgScope } from '../orgs/scope.ts';

const CHUNK = 1000;
const GROUP_ID = publicIdPattern('grp');

export interface GroupInput {
  name: string;
  description?: string;
}

const nameTaken = (name: string, err: unknown) => conflict('name_taken', `a group named ${name} exists`, undefined, { cause: err });

export function createGroupService(deps: { db: Db; audit: AuditLog }) {
  const { db } = deps;

  const visible = (scope: OrgScope) => scopedTo(scope, deviceGroups.orgId);

  async function get(id: string, scope: OrgScope): Promise<DeviceGroupRow & { members: number }> {
    const row = await firstOrNotFound(db.select().from(deviceGroups).where(and(eq(deviceGroups.id, id), visible(scope))).limit(1), `group ${id}`);
    const [n] = await db.select({ n: count() }).from(deviceGroupMembers).where(eq(deviceGroupMembers.groupId, id));
    return { ...row, members: n?.n ?? 0 };
  }

  /** The ids among `wanted` of terminals the caller sees; 400 unknown_devices naming the others. */
  async function knownDevices(wanted: readonly string[], scope: OrgScope | undefined): Promise<string[]> {
    const unique = [...new Set(wanted)];
    const found = new Set<string>();
    for (let i = 0; i < unique.length; i += CHUNK) {
      const rows = await db
        .select({ id: devices.id })
        .from(devices)
        .where(and(inArray(devices.id, unique.slice(i, i + CHUNK)), scope ? scopedTo(scope, devices.orgId) : undefined));
      for (const r of rows) found.add(r.id);
    }
    const missing = unique.filter((d) => !found.has(d));
    if (missing.length) throw badRequest('unknown_devices', `${missing.length} device ids do not exist`, { missing: missing.slice(0, 100) });
    return unique;
  }

  return {
    get,
    knownDevices,

    /** The group's terminals the caller sees, by device id. */
    async members(id: string, scope: OrgScope, limit: number, cursor?: string) {
      await get(id, scope);
      const rows = await db
        .select({ id: devices.id, serial: devices.serial, model: devices.model, status: devices.status, addedAt: deviceGroupMembers.addedAt })
        .from(deviceGroupMembers)
        .innerJoin(devices, eq(devices.id, deviceGroupMembers.deviceId))
        .where(
          and(
            eq(deviceGroupMembers.groupId, id),
            scopedTo(scope, devices.orgId),
            cursor ? gt(devices.id, keyMatching(cursor, publicIdPattern('dev'))) : undefined,
          ),
        )
        .orderBy(asc(devices.id))
        .limit(limit + 1);
      const page = pageOf(rows, limit, (last) => last.id);
      return { items: page.items.map((r) => ({ ...r, addedAt: r.addedAt.toISOString() })), nextCursor: page.nextCursor };
    },

    async create(input: GroupInput, actor: Actor & { principal: Principal }) {
      const id = newId('grp');
      try {
        await db.transaction(async (tx) => {
          await tx.insert(deviceGroups).values({ id, name: input.name, description: input.description ?? '', orgId: actor.principal.orgId, createdBy: actor.principal.userId });
          await deps.audit.append({ actor: actor.principal, action: 'group.create', target: id, ip: actor.ip, data: { name: input.name } }, tx);
        });
      } catch (err) {
        if (isUniqueViolation(err)) throw nameTaken(input.name, err);
        throw err;
      }
      return get(id, actor.principal);
    },

    async list(scope: OrgScope, limit: number, cursor?: string) {
      const after = cursor ? keyMatching(fromBase64url(cursor), GROUP_ID) : undefined;
      const rows = await db
        .select({ group: deviceGroups, members: sql<number>`(select count(*)::int from ${deviceGroupMembers} where ${deviceGroupMembers.groupId} = ${deviceGroups.id})` })
        .from(deviceGroups)
        .where(and(visible(scope), after ? gt(deviceGroups.id, after) : undefined))
        .orderBy(asc(deviceGroups.id))
        .limit(limit + 1);
      return pageOf(
        rows.map((r) => ({ ...r.group, members: r.members })),
        limit,
        (last) => toBase64url(last.id),
      );
    },

    async update(id: string, input: Partial<GroupInput>, actor: Actor & { principal: Principal }) {
      await get(id, actor.principal);
      try {
        await db.transaction(async (tx) => {
          await tx
            .update(deviceGroups)
            .set({ ...(input.name !== undefined && { name: input.name }), ...(input.description !== undefined && { description: input.description }), updatedAt: new Date() })
            .where(eq(deviceGroups.id, id));
          await deps.audit.append({ actor: actor.principal, action: 'group.update', target: id, ip: actor.ip, data: { ...input } }, tx);
        });
      } catch (err) {
        if (isUniqueViolation(err)) throw nameTaken(input.name ?? '', err);
        throw err;
      }
      return get(id, actor.principal);
    },

    async remove(id: string, actor: Actor & { principal: Principal }) {
      const row = await get(id, actor.principal);
      await db.transaction(async (tx) => {
        await tx.delete(deviceGroups).where(eq(deviceGroups.id, id));
        await deps.audit.append({ actor: actor.principal, action: 'group.delete', target: id, ip: actor.ip, data: { name: row.name, members: row.members } }, tx);
      });
    },

    /** Adds and removes in one transaction with its audit entry; adding a member twice is a no-op. */
    async changeMembers(id: string, change: { add?: string[]; remove?: string[] }, actor: Actor & { principal: Principal }) {
      await get(id, actor.principal);
      const add = change.add?.length ? await knownDevices(change.add, actor.principal) : [];
      const remove = [...new Set(change.remove ?? [])];
      let added = 0;
      let removed = 0;
      await db.transaction(async (tx) => {
        for (let i = 0; i < add.length; i += CHUNK) {
          const rows = await tx
            .insert(deviceGroupMembers)
            .values(add.slice(i, i + CHUNK).map((deviceId) => ({ groupId: id, deviceId })))
            .onConflictDoNothing()
            .returning({ deviceId: deviceGroupMembers.deviceId });
          added += rows.length;
        }
        for (let i = 0; i < remove.length; i += CHUNK) {
          const rows = await tx
            .delete(deviceGroupMembers)
            .where(and(eq(deviceGroupMembers.groupId, id), inArray(deviceGroupMembers.deviceId, remove.slice(i, i + CHUNK))))
            .returning({ deviceId: deviceGroupMembers.deviceId });
          removed += rows.length;
        }
        await tx.update(deviceGroups).set({ updatedAt: new Date() }).where(eq(deviceGroups.id, id));
        await deps.audit.append({ actor: actor.principal, action: 'group.members', target: id, ip: actor.ip, data: { added, removed } }, tx);
      });
      return { ...(await get(id, actor.principal)), added, removed };
    },
  };
}

export type GroupService = ReturnType<typeof createGroupService>;
