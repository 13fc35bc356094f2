// Allocation (划拨): unbound terminals of the caller's subtree move, in bulk, to a node of that
// subtree; a bound terminal moves only with its merchant (POST /v1/merchants/{id}/move), which
// carries every terminal bound to it in the same transaction. Both are audited once per call.
import { and, eq, inArray, isNull } from 'drizzle-orm';
import { devices } from '../../schemas/db.ts';
import { merchantBindings, merchants } from '../../schemas/tables/merchants.ts';
import type { AuditLog } from '../audit/auditLog.ts';
import type { Actor } from '../core/actor.ts';
import type { Tx } from '../core/transaction.ts';
import type { Db } from '../db/database.ts';
import { notFound } from '../errors.ts';
import type { Principal } from '../http/types.ts';
import { visibleOrg } from './orgLookup.ts';
import { scopedTo } from './scope.ts';

export const MAX_ALLOCATION = 10_000;
const CHUNK = 1000;

export type AllocationTarget = { deviceIds: string[] } | { serials: string[] };
export type RefusalCode = 'not_found' | 'terminal_bound';
export interface AllocationResult {
  moved: number;
  refused: { id: string; code: RefusalCode }[];
}

interface Candidate {
  id: string;
  serial: string;
  bound: boolean;
}

/** Pure: which of the asked-for terminals move and which are refused, and why, in the order asked. */
export function planAllocation(asked: readonly string[], found: ReadonlyMap<string, Candidate>): { move: string[]; refused: AllocationResult['refused'] } {
  const move: string[] = [];
  const refused: AllocationResult['refused'] = [];
  const seen = new Set<string>();
  for (const key of asked) {
    if (seen.has(key)) continue;
    seen.add(key);
    const c = found.get(key);
    if (!c) refused.push({ id: key, code: 'not_found' });
    else if (c.bound) refused.push({ id: key, code: 'terminal_bound' });
    else move.push(c.id);
  }
  return { move, refused };
}

/** The asked-for terminals the caller sees, keyed by what was asked (id or serial), each with whether it is bound now. */
async function candidates(tx: Tx, by: Principal, target: AllocationTarget): Promise<Map<string, Candidate>> {
  const bySerial = 'serials' in target;
  const keys = bySerial ? target.serials : target.deviceIds;
  const found = new Map<string, Candidate>();
  for (let i = 0; i < keys.length; i += CHUNK) {
    const chunk = keys.slice(i, i + CHUNK);
    const rows = await tx
      .select({ id: devices.id, serial: devices.serial, binding: merchantBindings.id })
      .from(devices)
      .leftJoin(merchantBindings, and(eq(merchantBindings.deviceId, devices.id), isNull(merchantBindings.closedAt)))
      .where(and(bySerial ? inArray(devices.serial, chunk) : inArray(devices.id, chunk), scopedTo(by, devices.orgId)))
      // Rows are updated below: a binding made meanwhile waits for this transaction, and one made first is seen.
      .for('update', { of: devices });
    for (const r of rows) found.set(bySerial ? r.serial : r.id, { id: r.id, serial: r.serial, bound: r.binding !== null });
  }
  return found;
}

export function createAllocation(deps: { db: Db; audit: AuditLog }) {
  const { db, audit } = deps;
  return {
    async allocate(orgId: string, target: AllocationTarget, actor: Actor & { principal: Principal }): Promise<AllocationResult> {
      const by = actor.principal;
      return db.transaction(async (tx) => {
        const to = await visibleOrg(tx, by, orgId);
        const asked = 'serials' in target ? target.serials : target.deviceIds;
        const { move, refused } = planAllocation(asked, await candidates(tx, by, target));
        for (let i = 0; i < move.length; i += CHUNK)
          await tx.update(devices).set({ orgId: to.id, updatedAt: new Date() }).where(inArray(devices.id, move.slice(i, i + CHUNK)));
        const data = { to: to.id, moved: move.length, refused: refused.length, deviceIds: move, refusedIds: refused };
        await audit.append({ actor: by, action: 'org.allocate', target: to.id, ip: actor.ip, data }, tx);
        return { moved: move.length, refused };
      });
    },

    /** The merchant and every terminal bound to it now, to `orgId`, in one transaction. */
    async moveMerchant(merchantId: string, orgId: string, actor: Actor & { principal: Principal }) {
      const by = actor.principal;
      return db.transaction(async (tx) => {
        const [m] = await tx
          .select({ id: merchants.id, orgId: merchants.orgId })
          .from(merchants)
          .where(and(eq(merchants.id, merchantId), scopedTo(by, merchants.orgId)))
          .for('update');
        if (!m) throw notFound(`merchant ${merchantId}`);
        const to = await visibleOrg(tx, by, orgId);
        await tx.update(merchants).set({ orgId: to.id, updatedAt: new Date() }).where(eq(merchants.id, m.id));
        // The terminals bound when this statement runs. A binding committed later (a race with an
        // operator binding at this very moment) leaves that terminal where it was: allocate it or
        // move the merchant again (docs/organisations.md).
        const bound = await tx
          .select({ id: merchantBindings.deviceId })
          .from(merchantBindings)
          .where(and(eq(merchantBindings.merchantId, m.id), isNull(merchantBindings.closedAt)));
        const ids = bound.map((b) => b.id);
        for (let i = 0; i < ids.length; i += CHUNK)
          await tx.update(devices).set({ orgId: to.id, updatedAt: new Date() }).where(inArray(devices.id, ids.slice(i, i + CHUNK)));
        await audit.append({ actor: by, action: 'merchant.move', target: m.id, ip: actor.ip, data: { from: m.orgId, to: to.id, terminals: ids.length, deviceIds: ids } }, tx);
        return { merchantId: m.id, orgId: to.id, terminalsMoved: ids.length };
      });
    },
  };
}

export type Allocation = ReturnType<typeof createAllocation>;
