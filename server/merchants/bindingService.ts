// Binding terminals to merchants (SPEC §6): one open binding per terminal and TID unique within
// a merchant, guaranteed by partial unique indexes; history kept forever; a signed token with a
// per-terminal epoch that only grows; re-binding only through a request a second admin approves.
import { and, asc, desc, eq, isNull, lt, sql } from 'drizzle-orm';
import { CONFIG_KEY_POLICY, type BindingClaims, type TerminalPolicy } from '../../schemas/binding.ts';
import { devices } from '../../schemas/db.ts';
import {
  bindingEpochs,
  merchantBindings,
  merchants,
  rebindRequests,
  type BindingRow,
  type MerchantRow,
  type RebindRequestRow,
  type RebindStatus,
} from '../../schemas/tables/merchants.ts';
import type { Tx } from '../core/transaction.ts';
import { conflict, forbidden, notFound } from '../errors.ts';
import type { CardBlacklistService } from './cardBlacklist.ts';
import type { Actor } from '../core/actor.ts';
import { newId } from '../core/ids.ts';
import { isUniqueViolation, violatedConstraint } from '../core/sqlState.ts';
import { STATE_COMMAND_TTL_S } from '../terminalControl/terminalState.ts';
import type { MerchantDeps } from './merchantDeps.ts';
import type { Registry } from './registry.ts';
import type { Relocation } from './relocation.ts';
import { signBindingToken } from './token.ts';

export const DEFAULT_REBIND_TTL_S = 72 * 3600;

export function terminalPolicyOf(m: Pick<MerchantRow, 'id' | 'timezone' | 'policy'>): TerminalPolicy {
  const p = m.policy;
  return {
    merchantId: m.id,
    timezone: m.timezone,
    currency: p.currency,
    ...(p.singleAmountLimitMinor !== undefined ? { singleAmountLimitMinor: p.singleAmountLimitMinor } : {}),
    ...(p.dailyCountLimit !== undefined ? { dailyCountLimit: p.dailyCountLimit } : {}),
    ...(p.dailyAmountLimitMinor !== undefined ? { dailyAmountLimitMinor: p.dailyAmountLimitMinor } : {}),
  };
}

export function bindingView(b: BindingRow) {
  return {
    id: b.id,
    deviceId: b.deviceId,
    merchantId: b.merchantId,
    tid: b.tid,
    epoch: b.epoch,
    createdBy: b.createdBy,
    createdAt: b.createdAt,
    closedAt: b.closedAt,
    closedBy: b.closedBy,
    closeReason: b.closeReason,
    rebindRequestId: b.rebindRequestId,
  };
}

export function createBindingService(
  d: MerchantDeps & { registry: Registry; relocation: Relocation; cards: CardBlacklistService; rebindTtlS?: number },
) {
  const { db } = d;
  const now = () => new Date(d.now?.() ?? Date.now());

  async function merchantOrThrow(id: string, tx: Tx | typeof db = db): Promise<MerchantRow> {
    const [m] = await tx.select().from(merchants).where(eq(merchants.id, id)).limit(1);
    if (!m) throw notFound(`merchant ${id}`);
    return m;
  }

  async function deviceOrThrow(id: string) {
    const [row] = await db.select().from(devices).where(eq(devices.id, id)).limit(1);
    if (!row) throw notFound(`device ${id}`);
    return row;
  }

  async function openBinding(deviceId: string, tx: Tx | typeof db = db): Promise<BindingRow | undefined> {
    const [b] = await tx
      .select()
      .from(merchantBindings)
      .where(and(eq(merchantBindings.deviceId, deviceId), isNull(merchantBindings.closedAt)))
      .limit(1);
    return b;
  }

  /** The next epoch of a terminal (row-locked until the transaction ends). */
  async function nextEpoch(tx: Tx, deviceId: string): Promise<number> {
    const [row] = await tx
      .insert(bindingEpochs)
      .values({ deviceId, epoch: 1 })
      .onConflictDoUpdate({ target: bindingEpochs.deviceId, set: { epoch: sql`${bindingEpochs.epoch} + 1` } })
      .returning({ epoch: bindingEpochs.epoch });
    return row!.epoch;
  }

  function tokenFor(deviceId: string, m: MerchantRow, tid: string, epoch: number): string {
    const claims: BindingClaims = {
      v: 1,
      deviceId,
      merchantId: m.id,
      mid: m.mid,
      tid,
      epoch,
      iat: now().getTime(),
      kind: m.kind,
      ...(m.kind === 'marketplace' ? { subMerchants: m.subMerchants.map((s) => s.subId) } : {}),
    };
    return signBindingToken(claims, d.bindingKey.sign);
  }

  function requireActive(m: MerchantRow) {
    if (m.status !== 'active')
      throw conflict('merchant_not_active', `merchant ${m.id} is ${m.status}; only an active merchant can be bound`);
  }

  /** Inserts the open binding; maps the two unique indexes to their API errors. */
  async function insertBinding(tx: Tx, row: typeof merchantBindings.$inferInsert): Promise<BindingRow> {
    try {
      const [b] = await tx.insert(merchantBindings).values(row).returning();
      return b!;
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
      const c = violatedConstraint(err);
      if (c === 'merchant_bindings_tid_uq') throw conflict('tid_taken', `TID ${row.tid} is already in use at merchant ${row.merchantId}`);
      throw conflict('binding_locked', `device ${row.deviceId} is already bound; re-binding needs an approved rebind request`);
    }
  }

  async function sendBinding(deviceId: string, token: string, m: MerchantRow, wipe: boolean, createdBy: string | null) {
    const cardBlacklist = await d.cards.config();
    return d.commands.create(deviceId, {
      type: 'binding.set',
      payload: { token, ...(wipe ? { wipe: true } : {}), txnPolicy: terminalPolicyOf(m), cardBlacklist },
      ttlS: STATE_COMMAND_TTL_S,
      createdBy,
    });
  }

  async function current(deviceId: string) {
    await deviceOrThrow(deviceId);
    const b = await openBinding(deviceId);
    const [lock, relocation] = await Promise.all([d.control.locks.lockState(deviceId), d.relocation.state(deviceId)]);
    let merchant: { id: string; mid: string; name: string; status: string } | null = null;
    if (b) {
      const m = await merchantOrThrow(b.merchantId);
      merchant = { id: m.id, mid: m.mid, name: m.name, status: m.status };
    }
    const [pending] = await db
      .select()
      .from(rebindRequests)
      .where(and(eq(rebindRequests.deviceId, deviceId), eq(rebindRequests.status, 'pending')))
      .limit(1);
    return {
      deviceId,
      bound: Boolean(b),
      binding: b ? bindingView(b) : null,
      merchant,
      lock,
      relocation,
      pendingRebindRequest: pending ?? null,
    };
  }

  async function decideChecks(id: string, actor: Actor): Promise<RebindRequestRow> {
    const [r] = await db.select().from(rebindRequests).where(eq(rebindRequests.id, id)).limit(1);
    if (!r) throw notFound(`rebind request ${id}`);
    // Maker-checker: whoever asked cannot decide.
    if (actor.principal?.userId === r.requestedBy)
      throw forbidden('the requester cannot decide their own rebind request; another admin must', 'same_user');
    if (r.status !== 'pending') throw conflict('request_decided', `rebind request ${id} is already ${r.status}`);
    if (r.expiresAt.getTime() <= now().getTime()) throw conflict('request_expired', `rebind request ${id} has expired`);
    return r;
  }

  return {
    openBinding,
    current,
    tokenFor,

    async bind(deviceId: string, input: { merchantId: string; tid: string }, actor: Actor) {
      const device = await deviceOrThrow(deviceId);
      if (device.status === 'blacklisted' || device.status === 'revoked')
        throw conflict('device_unavailable', `device ${deviceId} is ${device.status}`);
      const m = await merchantOrThrow(input.merchantId);
      requireActive(m);
      const created = await db.transaction(async (tx) => {
        if (await openBinding(deviceId, tx))
          throw conflict('binding_locked', `device ${deviceId} is already bound; re-binding needs an approved rebind request`);
        const epoch = await nextEpoch(tx, deviceId);
        const token = tokenFor(deviceId, m, input.tid, epoch);
        const b = await insertBinding(tx, {
          id: newId('bnd'),
          deviceId,
          merchantId: m.id,
          tid: input.tid,
          epoch,
          token,
          createdBy: actor.principal?.userId ?? null,
        });
        await tx.update(devices).set({ merchantId: m.id, updatedAt: now() }).where(eq(devices.id, deviceId));
        await d.audit.append(
          {
            actor: actor.principal,
            ip: actor.ip,
            action: 'binding.create',
            target: deviceId,
            data: { bindingId: b.id, merchantId: m.id, mid: m.mid, tid: b.tid, epoch },
          },
          tx,
        );
        return b;
      });
      const cmd = await sendBinding(deviceId, created.token, m, false, actor.principal?.userId ?? null);
      d.registry.setBinding(deviceId, m.id);
      d.timeline.add({
        deviceId,
        kind: 'binding',
        summary: `bound to ${m.name} (MID ${m.mid}, TID ${created.tid})`,
        data: { bindingId: created.id, epoch: created.epoch, cmdId: cmd.id },
      });
      d.bus.emit('device.binding', { deviceId, merchantId: m.id, tid: created.tid, epoch: created.epoch });
      return { ...bindingView(created), commandId: cmd.id };
    },

    /** Sends the open binding (same token) and the lock state again, e.g. to a re-enrolled terminal. */
    async resend(deviceId: string) {
      const b = await openBinding(deviceId);
      if (b) await sendBinding(deviceId, b.token, await merchantOrThrow(b.merchantId), false, null);
      await d.control.locks.resendLock(deviceId);
      return Boolean(b);
    },

    async history(deviceId: string) {
      await deviceOrThrow(deviceId);
      const rows = await db
        .select()
        .from(merchantBindings)
        .where(eq(merchantBindings.deviceId, deviceId))
        .orderBy(desc(merchantBindings.createdAt), desc(merchantBindings.epoch));
      return { items: rows.map(bindingView) };
    },

    async terminalsOf(merchantId: string) {
      await merchantOrThrow(merchantId);
      const rows = await db
        .select()
        .from(merchantBindings)
        .where(and(eq(merchantBindings.merchantId, merchantId), isNull(merchantBindings.closedAt)))
        .orderBy(asc(merchantBindings.tid));
      return { items: rows.map(bindingView) };
    },

    async request(deviceId: string, input: { merchantId: string; tid: string; reason: string }, actor: Actor) {
      await deviceOrThrow(deviceId);
      const m = await merchantOrThrow(input.merchantId);
      requireActive(m);
      const b = await openBinding(deviceId);
      if (!b) throw conflict('not_bound', `device ${deviceId} is not bound; bind it with PUT /v1/devices/${deviceId}/binding`);
      if (b.merchantId === m.id && b.tid === input.tid)
        throw conflict('same_binding', 'the terminal is already bound to that merchant with that TID');
      const ttl = d.rebindTtlS ?? DEFAULT_REBIND_TTL_S;
      try {
        return await db.transaction(async (tx) => {
          const [r] = await tx
            .insert(rebindRequests)
            .values({
              id: newId('rbr'),
              deviceId,
              fromBindingId: b.id,
              fromMerchantId: b.merchantId,
              merchantId: m.id,
              tid: input.tid,
              reason: input.reason,
              requestedBy: actor.principal!.userId,
              requestedByName: actor.principal!.name,
              expiresAt: new Date(now().getTime() + ttl * 1000),
            })
            .returning();
          await d.audit.append(
            {
              actor: actor.principal,
              ip: actor.ip,
              action: 'rebind.request',
              target: deviceId,
              data: { requestId: r!.id, from: b.merchantId, to: m.id, tid: input.tid, reason: input.reason },
            },
            tx,
          );
          d.timeline.add({
            deviceId,
            kind: 'binding',
            summary: `rebind to ${m.name} requested: ${input.reason}`,
            data: { requestId: r!.id },
          });
          return r!;
        });
      } catch (err) {
        if (isUniqueViolation(err)) throw conflict('rebind_pending', `device ${deviceId} already has a pending rebind request`);
        throw err;
      }
    },

    async listRequests(q: { status?: RebindStatus; deviceId?: string; limit: number; cursor?: string }) {
      const rows = await db
        .select()
        .from(rebindRequests)
        .where(
          and(
            q.status ? eq(rebindRequests.status, q.status) : undefined,
            q.deviceId ? eq(rebindRequests.deviceId, q.deviceId) : undefined,
            q.cursor ? lt(rebindRequests.createdAt, new Date(Buffer.from(q.cursor, 'base64url').toString())) : undefined,
          ),
        )
        .orderBy(desc(rebindRequests.createdAt), desc(rebindRequests.id))
        .limit(q.limit + 1);
      const items = rows.slice(0, q.limit);
      const last = items[items.length - 1];
      return { items, nextCursor: rows.length > q.limit && last ? Buffer.from(last.createdAt.toISOString()).toString('base64url') : null };
    },

    async getRequest(id: string) {
      const [r] = await db.select().from(rebindRequests).where(eq(rebindRequests.id, id)).limit(1);
      if (!r) throw notFound(`rebind request ${id}`);
      return r;
    },

    async approve(id: string, actor: Actor, note?: string) {
      const req = await decideChecks(id, actor);
      const m = await merchantOrThrow(req.merchantId);
      requireActive(m);
      const deviceId = req.deviceId;
      const result = await db.transaction(async (tx) => {
        // Only a pending request moves, once: two approvers racing get one winner.
        const [taken] = await tx
          .update(rebindRequests)
          .set({
            status: 'approved',
            decidedBy: actor.principal!.userId,
            decidedByName: actor.principal!.name,
            decidedAt: now(),
            decisionNote: note ?? null,
          })
          .where(and(eq(rebindRequests.id, id), eq(rebindRequests.status, 'pending')))
          .returning();
        if (!taken) throw conflict('request_decided', `rebind request ${id} was decided meanwhile`);
        const old = await openBinding(deviceId, tx);
        if (!old || old.id !== req.fromBindingId)
          throw conflict('binding_changed', 'the terminal binding changed since the request was filed');
        await tx
          .update(merchantBindings)
          .set({ closedAt: now(), closedBy: actor.principal!.userId, closeReason: `rebind ${id}` })
          .where(eq(merchantBindings.id, old.id));
        const epoch = await nextEpoch(tx, deviceId);
        const token = tokenFor(deviceId, m, req.tid, epoch);
        const b = await insertBinding(tx, {
          id: newId('bnd'),
          deviceId,
          merchantId: m.id,
          tid: req.tid,
          epoch,
          token,
          rebindRequestId: id,
          createdBy: actor.principal!.userId,
        });
        await tx.update(devices).set({ merchantId: m.id, updatedAt: now() }).where(eq(devices.id, deviceId));
        // The old merchant's suspension does not follow the terminal to its new merchant.
        const changes = await d.control.locks.releaseIn(tx, [deviceId], 'merchant_suspended', actor, { note: 'rebound' });
        await d.audit.append(
          {
            actor: actor.principal,
            ip: actor.ip,
            action: 'rebind.approve',
            target: deviceId,
            data: {
              requestId: id,
              requestedBy: req.requestedBy,
              closedBindingId: old.id,
              from: old.merchantId,
              bindingId: b.id,
              to: m.id,
              tid: b.tid,
              epoch,
              note,
            },
          },
          tx,
        );
        return { binding: b, old, changes };
      });
      const by = actor.principal?.userId ?? null;
      // Keys and merchant data off the terminal, then the new token (which also wipes).
      const zeroize = await d.commands.create(deviceId, {
        type: 'keys.zeroize',
        payload: { reason: 'rebind', requestId: id },
        ttlS: STATE_COMMAND_TTL_S,
        createdBy: by,
      });
      const bindCmd = await sendBinding(deviceId, result.binding.token, m, true, by);
      await d.control.locks.afterCommit(result.changes, actor);
      d.registry.setBinding(deviceId, m.id);
      d.timeline.add({
        deviceId,
        kind: 'binding',
        summary: `rebound from ${result.old.merchantId} to ${m.name} (TID ${result.binding.tid}), approved by ${actor.principal?.name}`,
        data: { requestId: id, epoch: result.binding.epoch, zeroizeCmd: zeroize.id, bindingCmd: bindCmd.id },
      });
      d.bus.emit('device.binding', { deviceId, merchantId: m.id, tid: result.binding.tid, epoch: result.binding.epoch });
      const [after] = await db.select().from(rebindRequests).where(eq(rebindRequests.id, id)).limit(1);
      return { request: after!, binding: bindingView(result.binding), commands: { zeroize: zeroize.id, binding: bindCmd.id } };
    },

    async reject(id: string, actor: Actor, note?: string) {
      await decideChecks(id, actor);
      return db.transaction(async (tx) => {
        const [r] = await tx
          .update(rebindRequests)
          .set({
            status: 'rejected',
            decidedBy: actor.principal!.userId,
            decidedByName: actor.principal!.name,
            decidedAt: now(),
            decisionNote: note ?? null,
          })
          .where(and(eq(rebindRequests.id, id), eq(rebindRequests.status, 'pending')))
          .returning();
        if (!r) throw conflict('request_decided', `rebind request ${id} was decided meanwhile`);
        await d.audit.append(
          { actor: actor.principal, ip: actor.ip, action: 'rebind.reject', target: r.deviceId, data: { requestId: id, note } },
          tx,
        );
        d.timeline.add({
          deviceId: r.deviceId,
          kind: 'binding',
          summary: `rebind request rejected by ${actor.principal?.name}`,
          data: { requestId: id },
        });
        return r;
      });
    },

    /** Undecided requests past their time become `expired` (BullMQ job scheduler). */
    async expireDue(): Promise<number> {
      const due = await db
        .select({ id: rebindRequests.id })
        .from(rebindRequests)
        .where(and(eq(rebindRequests.status, 'pending'), lt(rebindRequests.expiresAt, now())))
        .limit(1000);
      let n = 0;
      for (const { id } of due) {
        await db.transaction(async (tx) => {
          const [r] = await tx
            .update(rebindRequests)
            .set({ status: 'expired', decidedAt: now() })
            .where(and(eq(rebindRequests.id, id), eq(rebindRequests.status, 'pending')))
            .returning();
          if (!r) return;
          n++;
          await d.audit.append({ actor: null, action: 'rebind.expire', target: r.deviceId, data: { requestId: id } }, tx);
          d.timeline.add({ deviceId: r.deviceId, kind: 'binding', summary: 'rebind request expired undecided', data: { requestId: id } });
        });
      }
      return n;
    },

    /** New tokens (next epoch) for every terminal of a merchant, e.g. when its sub-merchants change. */
    async reissueFor(merchantId: string, actor: Actor) {
      const m = await merchantOrThrow(merchantId);
      const open = await db
        .select()
        .from(merchantBindings)
        .where(and(eq(merchantBindings.merchantId, merchantId), isNull(merchantBindings.closedAt)));
      for (const b of open) {
        const updated = await db.transaction(async (tx) => {
          const epoch = await nextEpoch(tx, b.deviceId);
          const token = tokenFor(b.deviceId, m, b.tid, epoch);
          const [row] = await tx
            .update(merchantBindings)
            .set({ epoch, token })
            .where(and(eq(merchantBindings.id, b.id), isNull(merchantBindings.closedAt)))
            .returning();
          if (row)
            await d.audit.append(
              { actor: actor.principal, ip: actor.ip, action: 'binding.reissue', target: b.deviceId, data: { bindingId: b.id, epoch } },
              tx,
            );
          return row;
        });
        if (updated) await sendBinding(b.deviceId, updated.token, m, false, actor.principal?.userId ?? null);
      }
      return open.length;
    },

    /** Pushes a merchant's policy to its terminals. */
    async pushPolicy(m: MerchantRow, createdBy: string | null) {
      const open = await db
        .select({ id: merchantBindings.deviceId })
        .from(merchantBindings)
        .where(and(eq(merchantBindings.merchantId, m.id), isNull(merchantBindings.closedAt)));
      if (!open.length) return null;
      return d.commands.createBatch(
        open.map((o) => o.id),
        { type: 'config.set', payload: { [CONFIG_KEY_POLICY]: terminalPolicyOf(m) }, ttlS: STATE_COMMAND_TTL_S, createdBy },
      );
    },

    async boundDevices(merchantId: string): Promise<string[]> {
      const rows = await db
        .select({ id: merchantBindings.deviceId })
        .from(merchantBindings)
        .where(and(eq(merchantBindings.merchantId, merchantId), isNull(merchantBindings.closedAt)));
      return rows.map((r) => r.id);
    },

    async countBindingsEver(merchantId: string) {
      const [r] = await db
        .select({ n: sql<number>`count(*)::int` })
        .from(merchantBindings)
        .where(eq(merchantBindings.merchantId, merchantId));
      return r?.n ?? 0;
    },
  };
}

export type BindingService = ReturnType<typeof createBindingService>;
