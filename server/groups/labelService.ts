// Labels on terminals in bulk: set and remove keys on the terminals a list of ids or a fleet query
// names, or apply a CSV of (serial, key, value) rows. Each change is one statement per chunk that
// rewrites `labels` from its old value in the database ((labels − removed) ‖ set), so concurrent
// changes of other keys are not lost, and commits with its audit entry.
import { and, inArray, sql } from 'drizzle-orm';
import { devices } from '../../schemas/db.ts';
import type { AuditLog } from '../audit/auditLog.ts';
import type { Actor } from '../core/actor.ts';
import { jsonRecordset } from '../core/jsonBulkWrite.ts';
import type { Tx } from '../core/transaction.ts';
import type { Db } from '../db/database.ts';
import { badRequest } from '../errors.ts';
import type { Principal } from '../http/types.ts';
import { scopedTo } from '../orgs/scope.ts';
import { conditionOf, createDeviceQueries } from './deviceQueries.ts';
import type { GroupService } from './groupService.ts';
import { parseLabelCsv } from './labelCsv.ts';

export const MAX_LABEL_TARGET = 100_000;
const CHUNK = 500;

export interface LabelChange {
  target: { deviceIds: string[] } | { query: string };
  set?: Record<string, string>;
  remove?: string[];
}

interface DeviceLabelEdit {
  id: string;
  set: Record<string, string>;
  remove: string[];
}

/**
 * One statement per chunk, every row carrying its own edit as one JSON parameter (jsonRecordset).
 * The ids were read in scope just before, so the count written is theirs.
 */
async function applyEdits(tx: Tx, edits: readonly DeviceLabelEdit[]): Promise<number> {
  for (let i = 0; i < edits.length; i += CHUNK) {
    const chunk = edits.slice(i, i + CHUNK).map((e) => ({ id: e.id, set: e.set, remove: e.remove }));
    const rows = jsonRecordset({ id: 'text', set: 'jsonb', remove: 'jsonb' }, chunk);
    await tx.execute(sql`
      update ${devices} set
        labels = (${devices.labels} - array(select jsonb_array_elements_text(x.remove))) || x.set,
        updated_at = now()
      from ${rows}
      where ${devices.id} = x.id`);
  }
  return edits.length;
}

export function createLabelService(deps: { db: Db; audit: AuditLog; groups: GroupService }) {
  const { db } = deps;
  const queries = createDeviceQueries(db);

  return {
    async bulk(change: LabelChange, actor: Actor & { principal: Principal }) {
      const set = change.set ?? {};
      const remove = [...new Set(change.remove ?? [])];
      const both = remove.filter((k) => Object.hasOwn(set, k));
      if (both.length) throw badRequest('validation_failed', 'a key is both set and removed', both.map((k) => ({ path: `remove`, message: `${k} is also in set` })));
      if (!remove.length && !Object.keys(set).length) throw badRequest('validation_failed', 'nothing to change', [{ path: 'set', message: 'set or remove at least one label' }]);
      const ids =
        'deviceIds' in change.target
          ? await deps.groups.knownDevices(change.target.deviceIds, actor.principal)
          : await queries.ids(conditionOf(change.target.query), MAX_LABEL_TARGET, { scope: actor.principal });
      const updated = await db.transaction(async (tx) => {
        const n = await applyEdits(
          tx,
          ids.map((id) => ({ id, set, remove })),
        );
        const by = 'query' in change.target ? { query: change.target.query } : { deviceIds: ids.length };
        await deps.audit.append({ actor: actor.principal, action: 'device.labels', ip: actor.ip, data: { ...by, set, remove, updated: n } }, tx);
        return n;
      });
      return { matched: ids.length, updated };
    },

    /** A CSV of serial,key,value rows (an empty value removes the key): applied whole, or not at all when it names unknown serials. */
    async csv(text: string, actor: Actor & { principal: Principal }) {
      const parsed = parseLabelCsv(text);
      const serials = [...new Set(parsed.rows.map((r) => r.serial))];
      const idOf = new Map<string, string>();
      for (let i = 0; i < serials.length; i += 1000) {
        const rows = await db
          .select({ id: devices.id, serial: devices.serial })
          .from(devices)
          .where(and(inArray(devices.serial, serials.slice(i, i + 1000)), scopedTo(actor.principal, devices.orgId)));
        for (const r of rows) idOf.set(r.serial, r.id);
      }
      const errors = [...parsed.errors];
      const edits = new Map<string, DeviceLabelEdit>();
      for (const r of parsed.rows) {
        const id = idOf.get(r.serial);
        if (!id) {
          errors.push({ row: r.row, message: `no terminal with serial ${r.serial}` });
          continue;
        }
        const edit = edits.get(id) ?? { id, set: {}, remove: [] };
        // The last row for a key wins, as if the rows were applied in order.
        if (r.value === '') {
          delete edit.set[r.key];
          edit.remove.push(r.key);
        } else {
          edit.set[r.key] = r.value;
          edit.remove = edit.remove.filter((k) => k !== r.key);
        }
        edits.set(id, edit);
      }
      const updated = await db.transaction(async (tx) => {
        const n = await applyEdits(tx, [...edits.values()]);
        await deps.audit.append({ actor: actor.principal, action: 'device.labels_csv', ip: actor.ip, data: { rows: parsed.rows.length, updated: n, errors: errors.length } }, tx);
        return n;
      });
      return { rows: parsed.rows.length, updated, errors };
    },
  };
}

export type LabelService = ReturnType<typeof createLabelService>;
