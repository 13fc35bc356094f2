// Merchants (SPEC §6): onboarding reviewed by an admin other than the creator, suspension that
// locks every terminal of the merchant (and reactivation that releases only those locks), and the
// per-merchant transaction policy, pushed to its terminals.
import { and, asc, eq, gt, ilike, isNull, or, type SQL } from 'drizzle-orm';
import { merchantPolicy, type MerchantPolicy } from '../../schemas/binding.ts';
import {
  merchantBindings,
  merchants,
  terminalLocks,
  type MerchantDocuments,
  type MerchantRow,
  type MerchantStatus,
  type SubMerchant,
} from '../../schemas/tables/merchants.ts';
import { isUniqueViolation } from '../core/sqlState.ts';
import { conflict, forbidden, unprocessable } from '../errors.ts';
import { fromBase64url, keyMatching, publicIdPattern, toBase64url } from '../http/cursorParts.ts';
import { pageOf } from '../http/pageOf.ts';
import { merchantOrThrow, type BindingService } from './bindingService.ts';
import type { Actor } from '../core/actor.ts';
import { newId } from '../core/ids.ts';
import { containing } from '../core/likePattern.ts';
import type { Tx } from '../core/transaction.ts';
import type { AuditEntryInput } from '../audit/auditLog.ts';
import type { MerchantDeps } from './merchantDeps.ts';
import type { Registry } from './registry.ts';
import { targetOrgId } from '../orgs/orgLookup.ts';
import { scopedTo, type OrgScope } from '../orgs/scope.ts';

export interface MerchantInput {
  mid: string;
  name: string;
  mcc: string;
  address: string;
  location: { lat: number; lon: number };
  radiusM: number;
  timezone: string;
  kind: 'single' | 'marketplace';
  documents: MerchantDocuments;
  subMerchants?: SubMerchant[];
  policy?: Partial<MerchantPolicy>;
  /** A node of the creator's subtree (404 otherwise); default the creator's own node. */
  orgId?: string;
}

export type MerchantPatch = Partial<Omit<MerchantInput, 'mid' | 'kind' | 'policy' | 'orgId'>>;

export const DEFAULT_POLICY: MerchantPolicy = { currency: 'USD', lockOnBreach: false, lockOnRelocation: false, relocationFixes: 3 };

export function merchantView(m: MerchantRow) {
  return {
    id: m.id,
    mid: m.mid,
    name: m.name,
    mcc: m.mcc,
    address: m.address,
    location: { lat: m.lat, lon: m.lon },
    radiusM: m.radiusM,
    timezone: m.timezone,
    kind: m.kind,
    documents: m.documents,
    subMerchants: m.subMerchants,
    policy: m.policy,
    status: m.status,
    orgId: m.orgId,
    statusReason: m.statusReason,
    createdBy: m.createdBy,
    reviewedBy: m.reviewedBy,
    reviewedAt: m.reviewedAt,
    createdAt: m.createdAt,
    updatedAt: m.updatedAt,
  };
}
export type MerchantView = ReturnType<typeof merchantView>;

function checkSubMerchants(kind: 'single' | 'marketplace', subs: SubMerchant[]) {
  if (kind === 'single' && subs.length) throw unprocessable('sub_merchants_not_allowed', 'only a marketplace merchant has sub-merchants');
  if (kind === 'marketplace' && !subs.length)
    throw unprocessable('sub_merchants_required', 'a marketplace merchant lists at least one sub-merchant');
  const ids = new Set(subs.map((s) => s.subId));
  if (ids.size !== subs.length) throw unprocessable('duplicate_sub_merchant', 'sub-merchant ids must be unique');
}

interface TerminalMove {
  from: MerchantStatus;
  to: MerchantStatus;
  /** Why a merchant in another status cannot make the move (409 invalid_status). */
  refusal: string;
  /** The merchant's terminals the move locks or releases. */
  terminals(tx: Tx, merchantId: string): Promise<string[]>;
  locks: 'lockIn' | 'releaseIn';
}

/** The terminals bound to the merchant now. */
async function boundTerminals(tx: Tx, merchantId: string): Promise<string[]> {
  const open = and(eq(merchantBindings.merchantId, merchantId), isNull(merchantBindings.closedAt));
  return (await tx.select({ id: merchantBindings.deviceId }).from(merchantBindings).where(open)).map((x) => x.id);
}

/** The terminals the merchant's suspension locked that are still locked for it. */
async function terminalsLockedBySuspension(tx: Tx, merchantId: string): Promise<string[]> {
  const held = and(
    eq(terminalLocks.merchantId, merchantId),
    eq(terminalLocks.reason, 'merchant_suspended'),
    isNull(terminalLocks.releasedAt),
  );
  return (await tx.selectDistinct({ id: terminalLocks.deviceId }).from(terminalLocks).where(held)).map((x) => x.id);
}

/** Suspension locks every bound terminal; reactivation releases only the locks the suspension placed (audited as `merchant.<move>`). */
const terminalMoves = {
  suspend: {
    from: 'active',
    to: 'suspended',
    refusal: 'only an active merchant can be suspended',
    terminals: boundTerminals,
    locks: 'lockIn',
  },
  reactivate: {
    from: 'suspended',
    to: 'active',
    refusal: 'only a suspended merchant can be reactivated',
    terminals: terminalsLockedBySuspension,
    locks: 'releaseIn',
  },
} satisfies Record<string, TerminalMove>;

export function createMerchantService(d: MerchantDeps & { registry: Registry; bindings: BindingService }) {
  const { db } = d;
  const now = () => new Date(d.now?.() ?? Date.now());

  const get = (id: string): Promise<MerchantRow> => merchantOrThrow(db, id);

  /** Moves status from one of `from` to `to`, with the audit entry; returns the row. */
  async function transition(
    id: string,
    from: MerchantStatus[],
    to: MerchantStatus,
    action: string,
    actor: Actor,
    extra: { reason?: string; review?: boolean },
  ) {
    const m = await get(id);
    if (!from.includes(m.status)) throw conflict('invalid_status', `merchant ${id} is ${m.status}; cannot go to ${to}`);
    return db.transaction(async (tx) => {
      const [row] = await tx
        .update(merchants)
        .set({
          status: to,
          statusReason: extra.reason ?? null,
          updatedAt: now(),
          ...(extra.review ? { reviewedBy: actor.principal?.userId ?? null, reviewedAt: now() } : {}),
        })
        .where(and(eq(merchants.id, id), eq(merchants.status, m.status)))
        .returning();
      if (!row) throw conflict('invalid_status', `merchant ${id} changed meanwhile`);
      await d.audit.append(
        { actor: actor.principal, ip: actor.ip, action, target: id, data: { from: m.status, to, reason: extra.reason } },
        tx,
      );
      return { row };
    });
  }

  /**
   * Suspension and reactivation (`terminalMoves`): the status moves `from` → `to` (409 when it is
   * elsewhere or moves meanwhile) and, in the same transaction, the merchant's terminals are locked
   * or released, the audit entry counting them; memory and the lock commands follow the commit.
   */
  async function moveWithTerminals(
    id: string,
    actor: Actor,
    name: keyof typeof terminalMoves,
    why: { statusReason: string | null; lockNote: string; audit: AuditEntryInput['data'] },
  ) {
    const move: TerminalMove = terminalMoves[name];
    const m = await get(id);
    if (m.status !== move.from) throw conflict('invalid_status', `merchant ${id} is ${m.status}; ${move.refusal}`);
    const { row, changes, deviceIds } = await db.transaction(async (tx) => {
      const [r] = await tx
        .update(merchants)
        .set({ status: move.to, statusReason: why.statusReason, updatedAt: now() })
        .where(and(eq(merchants.id, id), eq(merchants.status, move.from)))
        .returning();
      if (!r) throw conflict('invalid_status', `merchant ${id} changed meanwhile`);
      const deviceIds = await move.terminals(tx, id);
      const c = await d.control.locks[move.locks](tx, deviceIds, 'merchant_suspended', actor, { note: why.lockNote, merchantId: id });
      await d.audit.append(
        {
          actor: actor.principal,
          ip: actor.ip,
          action: `merchant.${name}`,
          target: id,
          data: { ...why.audit, terminals: deviceIds.length },
        },
        tx,
      );
      return { row: r, changes: c, deviceIds };
    });
    d.registry.setMerchant(row);
    await d.control.locks.afterCommit(changes, actor);
    return { row, deviceIds };
  }

  function reviewerCheck(m: MerchantRow, actor: Actor) {
    if (m.createdBy && m.createdBy === actor.principal?.userId)
      throw forbidden('the creator of a merchant cannot review it; another admin must', 'same_user');
  }

  return {
    get,

    async create(input: MerchantInput, actor: Actor): Promise<MerchantRow> {
      const subs = input.subMerchants ?? [];
      checkSubMerchants(input.kind, subs);
      const policy = merchantPolicy.parse({ ...DEFAULT_POLICY, ...input.policy });
      try {
        return await db.transaction(async (tx) => {
          const orgId = await targetOrgId(tx, actor.principal, input.orgId);
          const [row] = await tx
            .insert(merchants)
            .values({
              orgId,
              id: newId('mer'),
              mid: input.mid,
              name: input.name,
              mcc: input.mcc,
              address: input.address,
              lat: input.location.lat,
              lon: input.location.lon,
              radiusM: input.radiusM,
              timezone: input.timezone,
              kind: input.kind,
              documents: input.documents,
              subMerchants: subs,
              policy,
              status: 'pending_review',
              createdBy: actor.principal?.userId ?? null,
            })
            .returning();
          await d.audit.append(
            {
              actor: actor.principal,
              ip: actor.ip,
              action: 'merchant.create',
              target: row!.id,
              data: { mid: row!.mid, name: row!.name, kind: row!.kind },
            },
            tx,
          );
          d.registry.setMerchant(row!);
          return row!;
        });
      } catch (err) {
        if (isUniqueViolation(err)) throw conflict('mid_exists', `a merchant with MID ${input.mid} already exists`, undefined, { cause: err });
        throw err;
      }
    },

    /** `scope`: only the merchants of this caller's subtree. */
    async list(q: { status?: MerchantStatus; q?: string; limit: number; cursor?: string; scope?: OrgScope }) {
      const where: SQL[] = [];
      const visible = q.scope && scopedTo(q.scope, merchants.orgId);
      if (visible) where.push(visible);
      if (q.status) where.push(eq(merchants.status, q.status));
      if (q.q) {
        const like = containing(q.q);
        where.push(or(ilike(merchants.name, like), ilike(merchants.mid, like), ilike(merchants.id, like))!);
      }
      if (q.cursor) where.push(gt(merchants.id, keyMatching(fromBase64url(q.cursor), publicIdPattern('mer'))));
      const rows = await db
        .select()
        .from(merchants)
        .where(and(...where))
        .orderBy(asc(merchants.id))
        .limit(q.limit + 1);
      const page = pageOf(rows, q.limit, (last) => toBase64url(last.id));
      return { items: page.items.map(merchantView), nextCursor: page.nextCursor };
    },

    async update(id: string, patch: MerchantPatch, actor: Actor) {
      const m = await get(id);
      if (m.status === 'rejected') throw conflict('invalid_status', `merchant ${id} was rejected`);
      const subs = patch.subMerchants ?? m.subMerchants;
      checkSubMerchants(m.kind, subs);
      const subsChanged = patch.subMerchants !== undefined && JSON.stringify(patch.subMerchants) !== JSON.stringify(m.subMerchants);
      const row = await db.transaction(async (tx) => {
        const [r] = await tx
          .update(merchants)
          .set({
            ...(patch.name !== undefined ? { name: patch.name } : {}),
            ...(patch.mcc !== undefined ? { mcc: patch.mcc } : {}),
            ...(patch.address !== undefined ? { address: patch.address } : {}),
            ...(patch.location ? { lat: patch.location.lat, lon: patch.location.lon } : {}),
            ...(patch.radiusM !== undefined ? { radiusM: patch.radiusM } : {}),
            ...(patch.timezone !== undefined ? { timezone: patch.timezone } : {}),
            ...(patch.documents ? { documents: patch.documents } : {}),
            ...(patch.subMerchants ? { subMerchants: patch.subMerchants } : {}),
            updatedAt: now(),
          })
          .where(eq(merchants.id, id))
          .returning();
        await d.audit.append(
          { actor: actor.principal, ip: actor.ip, action: 'merchant.update', target: id, data: { fields: Object.keys(patch) } },
          tx,
        );
        return r!;
      });
      d.registry.setMerchant(row);
      // Terminals learn their sub-merchants from the token; the timezone drives their limits' day.
      if (subsChanged) await d.bindings.reissueFor(id, actor);
      if (patch.timezone !== undefined && patch.timezone !== m.timezone) await d.bindings.pushPolicy(row, actor.principal?.userId ?? null);
      return row;
    },

    async remove(id: string, actor: Actor) {
      await get(id);
      if ((await d.bindings.countBindingsEver(id)) > 0)
        throw conflict('merchant_has_bindings', 'a merchant that ever had terminals is kept for the record; suspend it instead');
      await db.transaction(async (tx) => {
        await tx.delete(merchants).where(eq(merchants.id, id));
        await d.audit.append({ actor: actor.principal, ip: actor.ip, action: 'merchant.delete', target: id }, tx);
      });
    },

    async approve(id: string, actor: Actor, note?: string) {
      reviewerCheck(await get(id), actor);
      const { row } = await transition(id, ['pending_review'], 'active', 'merchant.approve', actor, { reason: note, review: true });
      d.registry.setMerchant(row);
      return row;
    },

    async reject(id: string, actor: Actor, reason: string) {
      reviewerCheck(await get(id), actor);
      const { row } = await transition(id, ['pending_review'], 'rejected', 'merchant.reject', actor, { reason, review: true });
      d.registry.setMerchant(row);
      return row;
    },

    /** Suspends the merchant and locks every terminal bound to it (reason merchant_suspended). */
    async suspend(id: string, actor: Actor, reason: string) {
      const why = { statusReason: reason, lockNote: reason, audit: { reason } };
      const { row, deviceIds } = await moveWithTerminals(id, actor, 'suspend', why);
      return { merchant: row, lockedTerminals: deviceIds.length };
    },

    /** Back to active; releases only the locks the suspension placed. */
    async reactivate(id: string, actor: Actor, note?: string) {
      const why = { statusReason: note ?? null, lockNote: note ?? 'merchant reactivated', audit: { note } };
      const { row, deviceIds } = await moveWithTerminals(id, actor, 'reactivate', why);
      return { merchant: row, releasedTerminals: deviceIds.length };
    },

    async setPolicy(id: string, input: MerchantPolicy, actor: Actor) {
      await get(id);
      const policy = merchantPolicy.parse(input);
      const row = await db.transaction(async (tx) => {
        const [r] = await tx.update(merchants).set({ policy, updatedAt: now() }).where(eq(merchants.id, id)).returning();
        await d.audit.append({ actor: actor.principal, ip: actor.ip, action: 'merchant.policy', target: id, data: { policy } }, tx);
        return r!;
      });
      d.registry.setMerchant(row);
      const batch = await d.bindings.pushPolicy(row, actor.principal?.userId ?? null);
      return { policy: row.policy, pushed: batch ? { batchId: batch.batchId, total: batch.total } : null };
    },
  };
}

export type MerchantService = ReturnType<typeof createMerchantService>;
