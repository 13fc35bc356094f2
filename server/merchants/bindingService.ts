// Binding terminals to merchants (SPEC §6): one open binding per terminal and TID unique within
// a merchant, guaranteed by partial unique indexes; history kept forever; a signed token with a
// per-terminal epoch that only grows. Re-binding goes through a request a second admin approves
// (rebindRequests.ts), which moves the binding with `rebindIn` and `afterRebind` here.
import { assertOwnedWithin } from '../orgs/orgLookup.ts';
import { and, asc, desc, eq, isNull, sql } from 'drizzle-orm';
import { CONFIG_KEY_POLICY, signBindingToken, type BindingClaims, type TerminalPolicy } from '../../schemas/binding.ts';
import { devices } from '../../schemas/db.ts';
import {
  bindingEpochs,
  merchantBindings,
  merchants,
  rebindRequests,
  type BindingRow,
  type MerchantRow,
  type RebindRequestRow,
} from '../../schemas/tables/merchants.ts';
import { firstOrNotFound } from '../core/firstOrNotFound.ts';
import type { Actor } from '../core/actor.ts';
import { newId } from '../core/ids.ts';
import { isUniqueViolation, violatedConstraint } from '../core/sqlState.ts';
import type { Tx } from '../core/transaction.ts';
import type { Db } from '../db/database.ts';
import { conflict } from '../errors.ts';
import type { LockChange } from '../terminalControl/locks.ts';
import { deviceOrThrow, STATE_COMMAND_TTL_S } from '../terminalControl/terminalState.ts';
import type { CardBlacklistService } from './cardBlacklist.ts';
import type { MerchantDeps } from './merchantDeps.ts';
import type { Registry } from './registry.ts';
import type { Relocation } from './relocation.ts';

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

export const merchantOrThrow = (db: Tx | Db, id: string): Promise<MerchantRow> =>
  firstOrNotFound(db.select().from(merchants).where(eq(merchants.id, id)).limit(1), `merchant ${id}`);

export function requireActive(m: MerchantRow) {
  if (m.status !== 'active') throw conflict('merchant_not_active', `merchant ${m.id} is ${m.status}; only an active merchant can be bound`);
}

/** What a rebind changed inside its transaction, for `afterRebind` to send once it commits. */
export interface Rebound {
  old: BindingRow;
  binding: BindingRow;
  changes: LockChange[];
}

export function createBindingService(d: MerchantDeps & { registry: Registry; relocation: Relocation; cards: CardBlacklistService }) {
  const { db } = d;
  const now = () => new Date(d.now?.() ?? Date.now());

  async function openBinding(deviceId: string, tx: Tx | Db = db): Promise<BindingRow | undefined> {
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

  /** Opens the terminal's binding at the next epoch; maps the two unique indexes to their API errors. */
  async function openNewBinding(tx: Tx, deviceId: string, m: MerchantRow, tid: string, actor: Actor, rebindRequestId?: string): Promise<BindingRow> {
    const epoch = await nextEpoch(tx, deviceId);
    const row = {
      id: newId('bnd'),
      deviceId,
      merchantId: m.id,
      tid,
      epoch,
      token: tokenFor(deviceId, m, tid, epoch),
      ...(rebindRequestId ? { rebindRequestId } : {}),
      createdBy: actor.principal?.userId ?? null,
    };
    let b: BindingRow | undefined;
    try {
      [b] = await tx.insert(merchantBindings).values(row).returning();
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
      if (violatedConstraint(err) === 'merchant_bindings_tid_uq') throw conflict('tid_taken', `TID ${tid} is already in use at merchant ${m.id}`, undefined, { cause: err });
      throw conflict('binding_locked', `device ${deviceId} is already bound; re-binding needs an approved rebind request`, undefined, { cause: err });
    }
    // A bound terminal lives in its merchant's organisation node, and moves only with it (docs/organisations.md).
    await tx.update(devices).set({ merchantId: m.id, orgId: m.orgId, updatedAt: now() }).where(eq(devices.id, deviceId));
    return b!;
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

  /** A new binding is in force: the registry, the timeline and the event bus hear of it. */
  function announce(b: BindingRow, summary: string, data: Record<string, unknown>) {
    d.registry.setBinding(b.deviceId, b.merchantId);
    d.timeline.add({ deviceId: b.deviceId, kind: 'binding', summary, data });
    d.bus.emit('device.binding', { deviceId: b.deviceId, merchantId: b.merchantId, tid: b.tid, epoch: b.epoch });
  }

  const openBindingsOf = (merchantId: string) =>
    db
      .select()
      .from(merchantBindings)
      .where(and(eq(merchantBindings.merchantId, merchantId), isNull(merchantBindings.closedAt)));

  return {
    openBinding,
    tokenFor,

    async current(deviceId: string) {
      await deviceOrThrow(db, deviceId);
      const b = await openBinding(deviceId);
      const [lock, relocation] = await Promise.all([d.control.locks.lockState(deviceId), d.relocation.state(deviceId)]);
      let merchant: { id: string; mid: string; name: string; status: string } | null = null;
      if (b) {
        const m = await merchantOrThrow(db, b.merchantId);
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
    },

    async bind(deviceId: string, input: { merchantId: string; tid: string }, actor: Actor) {
      const device = await deviceOrThrow(db, deviceId);
      if (device.status === 'blacklisted' || device.status === 'revoked') throw conflict('device_unavailable', `device ${deviceId} is ${device.status}`);
      const m = await merchantOrThrow(db, input.merchantId);
      await assertOwnedWithin(db, actor.principal, m.orgId, `merchant ${m.id}`);
      requireActive(m);
      const created = await db.transaction(async (tx) => {
        if (await openBinding(deviceId, tx))
          throw conflict('binding_locked', `device ${deviceId} is already bound; re-binding needs an approved rebind request`);
        const b = await openNewBinding(tx, deviceId, m, input.tid, actor);
        await d.audit.append(
          {
            actor: actor.principal,
            ip: actor.ip,
            action: 'binding.create',
            target: deviceId,
            data: { bindingId: b.id, merchantId: m.id, mid: m.mid, tid: b.tid, epoch: b.epoch },
          },
          tx,
        );
        return b;
      });
      const cmd = await sendBinding(deviceId, created.token, m, false, actor.principal?.userId ?? null);
      announce(created, `bound to ${m.name} (MID ${m.mid}, TID ${created.tid})`, { bindingId: created.id, epoch: created.epoch, cmdId: cmd.id });
      return { ...bindingView(created), commandId: cmd.id };
    },

    /**
     * Inside an approved rebind's transaction: closes the binding the request was filed against
     * and opens the new one; the old merchant's suspension does not follow the terminal.
     */
    async rebindIn(tx: Tx, req: RebindRequestRow, m: MerchantRow, actor: Actor): Promise<Rebound> {
      const old = await openBinding(req.deviceId, tx);
      if (!old || old.id !== req.fromBindingId) throw conflict('binding_changed', 'the terminal binding changed since the request was filed');
      await tx
        .update(merchantBindings)
        .set({ closedAt: now(), closedBy: actor.principal!.userId, closeReason: `rebind ${req.id}` })
        .where(eq(merchantBindings.id, old.id));
      const binding = await openNewBinding(tx, req.deviceId, m, req.tid, actor, req.id);
      const changes = await d.control.locks.releaseIn(tx, [req.deviceId], 'merchant_suspended', actor, { note: 'rebound' });
      return { old, binding, changes };
    },

    /** After the rebind committed: keys and merchant data off the terminal, then the new token (which also wipes). */
    async afterRebind(req: RebindRequestRow, m: MerchantRow, r: Rebound, actor: Actor) {
      const by = actor.principal?.userId ?? null;
      const zeroize = await d.commands.create(req.deviceId, {
        type: 'keys.zeroize',
        payload: { reason: 'rebind', requestId: req.id },
        ttlS: STATE_COMMAND_TTL_S,
        createdBy: by,
      });
      const bindCmd = await sendBinding(req.deviceId, r.binding.token, m, true, by);
      await d.control.locks.afterCommit(r.changes, actor);
      announce(r.binding, `rebound from ${r.old.merchantId} to ${m.name} (TID ${r.binding.tid}), approved by ${actor.principal?.name}`, {
        requestId: req.id,
        epoch: r.binding.epoch,
        zeroizeCmd: zeroize.id,
        bindingCmd: bindCmd.id,
      });
      return { zeroize: zeroize.id, binding: bindCmd.id };
    },

    /** Sends the open binding (same token) and the lock state again, e.g. to a re-enrolled terminal. */
    async resend(deviceId: string) {
      const b = await openBinding(deviceId);
      if (b) await sendBinding(deviceId, b.token, await merchantOrThrow(db, b.merchantId), false, null);
      await d.control.locks.resendLock(deviceId);
      return Boolean(b);
    },

    async history(deviceId: string) {
      await deviceOrThrow(db, deviceId);
      const rows = await db
        .select()
        .from(merchantBindings)
        .where(eq(merchantBindings.deviceId, deviceId))
        .orderBy(desc(merchantBindings.createdAt), desc(merchantBindings.epoch));
      return { items: rows.map(bindingView) };
    },

    async terminalsOf(merchantId: string) {
      await merchantOrThrow(db, merchantId);
      const rows = await openBindingsOf(merchantId).orderBy(asc(merchantBindings.tid));
      return { items: rows.map(bindingView) };
    },

    /** New tokens (next epoch) for every terminal of a merchant, e.g. when its sub-merchants change. */
    async reissueFor(merchantId: string, actor: Actor) {
      const m = await merchantOrThrow(db, merchantId);
      const open = await openBindingsOf(merchantId);
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
      const open = await openBindingsOf(m.id);
      if (!open.length) return null;
      return d.commands.createBatch(
        open.map((o) => o.deviceId),
        { type: 'config.set', payload: { [CONFIG_KEY_POLICY]: terminalPolicyOf(m) }, ttlS: STATE_COMMAND_TTL_S, createdBy },
      );
    },

    async boundDevices(merchantId: string): Promise<string[]> {
      return (await openBindingsOf(merchantId)).map((r) => r.deviceId);
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
