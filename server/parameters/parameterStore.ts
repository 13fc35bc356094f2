// The SQL of terminal parameters: templates (append-only: a new version is a new row), their
// assignments per tier, what terminals reported, and the facts precedence needs of a terminal.
import { and, asc, desc, eq, gt, inArray, max, sql } from 'drizzle-orm';
import { devices, organisations } from '../../schemas/db.ts';
import type { AssignableTier, ParameterTemplateInput, ReportedParameters } from '../../schemas/parameters.ts';
import { deviceGroupMembers } from '../../schemas/tables/groups.ts';
import { deviceParameters, parameterAssignments, parameterTemplates, type ParameterTemplateRow } from '../../schemas/tables/parameters.ts';
import { newId } from '../core/ids.ts';
import { isUniqueViolation } from '../core/sqlState.ts';
import type { Tx } from '../core/transaction.ts';
import type { Db } from '../db/database.ts';
import { conflict, notFound } from '../errors.ts';
import { pathIds } from '../orgs/scope.ts';
import type { Assignment, TerminalFacts } from './precedence.ts';

export const PARAMETER_TEMPLATE_PREFIX = 'ptpl';

/** A terminal's facts, with its organisation's path (for scoping the caller) and its serial (for naming it in lists). */
export interface FactsWithPath extends TerminalFacts {
  orgPathText: string;
  serial: string;
}

export interface ParameterStoreDeps {
  db: Db;
}

export function createParameterStore(deps: ParameterStoreDeps) {
  const { db } = deps;

  /** The static groups (server/groups) each terminal is a member of. */
  async function groupIdsOf(deviceIds: readonly string[]): Promise<Map<string, string[]>> {
    const rows = await db
      .select({ deviceId: deviceGroupMembers.deviceId, groupId: deviceGroupMembers.groupId })
      .from(deviceGroupMembers)
      .where(inArray(deviceGroupMembers.deviceId, [...deviceIds]));
    const out = new Map<string, string[]>();
    for (const r of rows) out.set(r.deviceId, [...(out.get(r.deviceId) ?? []), r.groupId]);
    return out;
  }

  async function template(id: string): Promise<ParameterTemplateRow> {
    const [row] = await db.select().from(parameterTemplates).where(eq(parameterTemplates.id, id)).limit(1);
    if (!row) throw notFound(`parameter template ${id}`);
    return row;
  }

  return {
    template,

    /** Stores the next version of the template named `input.name` (1 for a new name). */
    async createTemplate(input: ParameterTemplateInput, createdBy: string | null, tx: Tx): Promise<ParameterTemplateRow> {
      const [latest] = await tx.select({ v: max(parameterTemplates.version) }).from(parameterTemplates).where(eq(parameterTemplates.name, input.name));
      const version = (latest?.v ?? 0) + 1;
      try {
        const [row] = await tx
          .insert(parameterTemplates)
          .values({ id: newId(PARAMETER_TEMPLATE_PREFIX), name: input.name, version, description: input.description ?? null, appliesTo: input.appliesTo, fields: input.fields, createdBy })
          .returning();
        if (!row) throw new Error('insert returned no row');
        return row;
      } catch (err) {
        // Two creates of one name at once: the second gets the conflict and may retry.
        if (isUniqueViolation(err)) throw conflict('conflict', `version ${version} of ${input.name} was created meanwhile; retry`, undefined, { cause: err });
        throw err;
      }
    },

    /** Templates by id order (`afterId` from the previous page), optionally of one name. */
    async listTemplates(limit: number, afterId: string | undefined, name: string | undefined): Promise<ParameterTemplateRow[]> {
      return db
        .select()
        .from(parameterTemplates)
        .where(and(afterId ? gt(parameterTemplates.id, afterId) : undefined, name ? eq(parameterTemplates.name, name) : undefined))
        .orderBy(asc(parameterTemplates.id))
        .limit(limit + 1);
    },

    async assignments(templateId: string): Promise<Assignment[]> {
      const rows = await db.select().from(parameterAssignments).where(eq(parameterAssignments.templateId, templateId));
      return rows.map((r) => ({ tier: r.tier, targetId: r.targetId, values: r.values }));
    },

    async allAssignments(templateIds: readonly string[]): Promise<Map<string, Assignment[]>> {
      const out = new Map<string, Assignment[]>();
      if (!templateIds.length) return out;
      const rows = await db.select().from(parameterAssignments).where(inArray(parameterAssignments.templateId, [...templateIds]));
      for (const r of rows) out.set(r.templateId, [...(out.get(r.templateId) ?? []), { tier: r.tier, targetId: r.targetId, values: r.values }]);
      return out;
    },

    /** Sets (values) or removes (null) one tier's values; answers whether a row was there before. */
    async setAssignment(templateId: string, tier: AssignableTier, targetId: string, values: Record<string, unknown> | null, by: string | null, tx: Tx): Promise<boolean> {
      const where = and(eq(parameterAssignments.templateId, templateId), eq(parameterAssignments.tier, tier), eq(parameterAssignments.targetId, targetId));
      const before = await tx.select({ t: parameterAssignments.templateId }).from(parameterAssignments).where(where).limit(1);
      if (values === null) await tx.delete(parameterAssignments).where(where);
      else
        await tx
          .insert(parameterAssignments)
          .values({ templateId, tier, targetId, values, updatedBy: by })
          .onConflictDoUpdate({ target: [parameterAssignments.templateId, parameterAssignments.tier, parameterAssignments.targetId], set: { values, updatedBy: by, updatedAt: sql`now()` } });
      return before.length > 0;
    },

    /** Serial, model, merchant, organisation path and groups of each terminal (absent ids: unknown). */
    async facts(deviceIds: readonly string[]): Promise<Map<string, FactsWithPath>> {
      const out = new Map<string, FactsWithPath>();
      if (!deviceIds.length) return out;
      const rows = await db
        .select({ id: devices.id, serial: devices.serial, model: devices.model, merchantId: devices.merchantId, path: organisations.path })
        .from(devices)
        .leftJoin(organisations, eq(organisations.id, devices.orgId))
        .where(inArray(devices.id, [...deviceIds]));
      const groups = await groupIdsOf(deviceIds);
      for (const r of rows) {
        const orgPathText = r.path ?? '/';
        out.set(r.id, { deviceId: r.id, serial: r.serial, model: r.model, merchantId: r.merchantId, orgPath: pathIds(orgPathText), groupIds: groups.get(r.id) ?? [], orgPathText });
      }
      return out;
    },

    async reported(deviceId: string) {
      const [row] = await db.select().from(deviceParameters).where(eq(deviceParameters.deviceId, deviceId)).limit(1);
      return row ?? null;
    },

    /** Reported sets by device id order, after `afterId`. */
    async reportedPage(limit: number, afterId: string | undefined) {
      return db
        .select()
        .from(deviceParameters)
        .where(afterId ? gt(deviceParameters.deviceId, afterId) : undefined)
        .orderBy(asc(deviceParameters.deviceId))
        .limit(limit);
    },

    /** Writes what terminals reported (the latest per terminal); a device deleted meanwhile is skipped. */
    async saveReported(reports: ReadonlyMap<string, { at: Date; set: ReportedParameters }>): Promise<void> {
      if (!reports.size) return;
      const known = new Set((await db.select({ id: devices.id }).from(devices).where(inArray(devices.id, [...reports.keys()]))).map((r) => r.id));
      const rows = [...reports].filter(([id]) => known.has(id)).map(([deviceId, r]) => ({ deviceId, templateId: r.set.templateId, version: r.set.version, digest: r.set.digest, values: r.set.values, reportedAt: r.at }));
      if (!rows.length) return;
      await db
        .insert(deviceParameters)
        .values(rows)
        .onConflictDoUpdate({
          target: deviceParameters.deviceId,
          set: {
            templateId: sql`excluded.template_id`,
            version: sql`excluded.version`,
            digest: sql`excluded.digest`,
            values: sql`excluded.values`,
            reportedAt: sql`excluded.reported_at`,
          },
        });
    },

    /** The newest version of each template name applying to `model` (for a terminal that reports none yet). */
    async newestForModel(model: string): Promise<ParameterTemplateRow | null> {
      const [row] = await db
        .select()
        .from(parameterTemplates)
        .where(sql`${parameterTemplates.appliesTo}->>'model' = ${model}`)
        .orderBy(desc(parameterTemplates.createdAt), desc(parameterTemplates.version))
        .limit(1);
      return row ?? null;
    },

    async templates(ids: readonly string[]): Promise<Map<string, ParameterTemplateRow>> {
      if (!ids.length) return new Map();
      const rows = await db.select().from(parameterTemplates).where(inArray(parameterTemplates.id, [...ids]));
      return new Map(rows.map((r) => [r.id, r]));
    },
  };
}
export type ParameterStore = ReturnType<typeof createParameterStore>;
