// Terminal control (SPEC §6): locks with reasons (locked while any reason is open), the lock and
// unlock commands that carry them (queued for offline terminals, ordered by a version), merchant
// alerts, relocation exemptions, and the device blacklist.
import { and, asc, desc, eq, inArray, isNull, sql } from 'drizzle-orm';
import { devices, finalCommandStates } from '../../schemas/db.ts';
import {
  merchantAlerts,
  terminalControl,
  terminalLocks,
  type AlertCode,
  type LockReason,
  type MerchantAlertRow,
} from '../../schemas/tables/merchants.ts';
import type { Severity } from '../../schemas/wire.ts';
import type { Tx } from '../core/transaction.ts';
import { conflict, notFound } from '../errors.ts';
import { LONG_TTL_S, SYSTEM, type Actor, type MerchantDeps } from './deps.ts';
import type { Registry } from './registry.ts';

interface LockChange {
  deviceId: string;
  locked: boolean;
  version: number;
  reasons: string[];
}

export interface AlertInput {
  deviceId: string;
  merchantId?: string | null;
  code: AlertCode;
  severity: Severity;
  summary: string;
  data?: Record<string, unknown>;
}

export function createControlService(d: MerchantDeps & { registry: Registry }) {
  const { db } = d;
  const now = () => new Date(d.now?.() ?? Date.now());

  const ensureControl = (tx: Tx, deviceId: string) => tx.insert(terminalControl).values({ deviceId }).onConflictDoNothing();

  /** Brings `locked` in line with the open reasons; a change bumps the version. */
  async function syncLockIn(tx: Tx, deviceId: string): Promise<LockChange | null> {
    await ensureControl(tx, deviceId);
    const open = await tx
      .select({ reason: terminalLocks.reason })
      .from(terminalLocks)
      .where(and(eq(terminalLocks.deviceId, deviceId), isNull(terminalLocks.releasedAt)));
    const want = open.length > 0;
    const [row] = await tx
      .update(terminalControl)
      .set({ locked: want, lockVersion: sql`${terminalControl.lockVersion} + 1`, updatedAt: now() })
      .where(and(eq(terminalControl.deviceId, deviceId), eq(terminalControl.locked, !want)))
      .returning({ version: terminalControl.lockVersion });
    return row ? { deviceId, locked: want, version: row.version, reasons: open.map((o) => o.reason) } : null;
  }

  async function sendLock(change: LockChange, createdBy: string | null) {
    const cmd = await d.commands.create(change.deviceId, {
      type: change.locked ? 'lock' : 'unlock',
      payload: { version: change.version, reasons: change.reasons },
      ttlS: LONG_TTL_S,
      createdBy,
    });
    await db.update(terminalControl).set({ lastLockCommandId: cmd.id }).where(eq(terminalControl.deviceId, change.deviceId));
    d.timeline.add({
      deviceId: change.deviceId,
      kind: 'lock',
      summary: change.locked ? `locked (${change.reasons.join(', ')})` : 'unlocked',
      data: { cmdId: cmd.id, version: change.version, reasons: change.reasons },
    });
  }

  async function afterCommit(changes: (LockChange | null)[], actor: Actor) {
    for (const c of changes) if (c) await sendLock(c, actor.principal?.userId ?? null);
  }

  /** Opens `reason` on each terminal (inside `tx`); returns the lock commands to send after commit. */
  async function lockIn(tx: Tx, deviceIds: string[], reason: LockReason, actor: Actor, extra: { note?: string; merchantId?: string } = {}) {
    const changes: LockChange[] = [];
    for (const deviceId of deviceIds) {
      await tx
        .insert(terminalLocks)
        .values({
          deviceId,
          reason,
          note: extra.note ?? null,
          merchantId: extra.merchantId ?? null,
          createdBy: actor.principal?.userId ?? null,
        })
        .onConflictDoNothing();
      const change = await syncLockIn(tx, deviceId);
      if (change) changes.push(change);
    }
    return changes;
  }

  async function releaseIn(
    tx: Tx,
    deviceIds: string[],
    reason: LockReason,
    actor: Actor,
    extra: { note?: string; merchantId?: string } = {},
  ) {
    const changes: LockChange[] = [];
    for (const deviceId of deviceIds) {
      await tx
        .update(terminalLocks)
        .set({ releasedAt: now(), releasedBy: actor.principal?.userId ?? null, releaseNote: extra.note ?? null })
        .where(
          and(
            eq(terminalLocks.deviceId, deviceId),
            eq(terminalLocks.reason, reason),
            isNull(terminalLocks.releasedAt),
            extra.merchantId ? eq(terminalLocks.merchantId, extra.merchantId) : undefined,
          ),
        );
      const change = await syncLockIn(tx, deviceId);
      if (change) changes.push(change);
    }
    return changes;
  }

  async function lockState(deviceId: string) {
    const [control] = await db.select().from(terminalControl).where(eq(terminalControl.deviceId, deviceId)).limit(1);
    const reasons = await db
      .select()
      .from(terminalLocks)
      .where(and(eq(terminalLocks.deviceId, deviceId), isNull(terminalLocks.releasedAt)))
      .orderBy(asc(terminalLocks.id));
    let command: { id: string; type: string; state: string; queued: boolean } | null = null;
    if (control?.lastLockCommandId) {
      const c = await d.commands.get(deviceId, control.lastLockCommandId).catch(() => null);
      if (c) command = { id: c.id, type: c.type, state: c.state, queued: !finalCommandStates.includes(c.state) };
    }
    return {
      // Locked while any reason is open (what syncLockIn keeps `terminal_control.locked` equal to).
      locked: reasons.length > 0,
      version: control?.lockVersion ?? 0,
      reasons: reasons.map((r) => ({ reason: r.reason, note: r.note, merchantId: r.merchantId, by: r.createdBy, since: r.createdAt })),
      /** The last lock/unlock command: `queued` while the terminal has not applied it. */
      command,
    };
  }

  /** Re-sends the desired lock state when a terminal reports something else and nothing is on its way. */
  async function reconcile(deviceId: string, reportedLocked: boolean) {
    const [control] = await db.select().from(terminalControl).where(eq(terminalControl.deviceId, deviceId)).limit(1);
    if (!control || control.locked === reportedLocked) return;
    if (control.lastLockCommandId) {
      const c = await d.commands.get(deviceId, control.lastLockCommandId).catch(() => null);
      if (c && !finalCommandStates.includes(c.state)) return;
    }
    const reasons = await db
      .select({ reason: terminalLocks.reason })
      .from(terminalLocks)
      .where(and(eq(terminalLocks.deviceId, deviceId), isNull(terminalLocks.releasedAt)));
    await sendLock({ deviceId, locked: control.locked, version: control.lockVersion, reasons: reasons.map((r) => r.reason) }, null);
  }

  async function raiseAlert(a: AlertInput): Promise<MerchantAlertRow | null> {
    const [row] = await db
      .insert(merchantAlerts)
      .values({
        deviceId: a.deviceId,
        merchantId: a.merchantId ?? null,
        code: a.code,
        severity: a.severity,
        summary: a.summary,
        data: a.data ?? {},
      })
      .onConflictDoNothing()
      .returning();
    if (!row) return null;
    d.timeline.add({
      deviceId: a.deviceId,
      kind: 'alert',
      summary: a.summary,
      data: { code: a.code, severity: a.severity, alertId: row.id, ...a.data },
    });
    d.bus.emit('device.alert', {
      deviceId: a.deviceId,
      code: a.code,
      severity: a.severity,
      summary: a.summary,
      open: true,
      data: a.data ?? {},
    });
    return row;
  }

  async function resolveAlert(deviceId: string, code: AlertCode, summary: string) {
    const rows = await db
      .update(merchantAlerts)
      .set({ resolvedAt: now() })
      .where(and(eq(merchantAlerts.deviceId, deviceId), eq(merchantAlerts.code, code), isNull(merchantAlerts.resolvedAt)))
      .returning({ id: merchantAlerts.id, severity: merchantAlerts.severity });
    for (const r of rows) {
      d.timeline.add({ deviceId, kind: 'alert', summary, data: { code, alertId: r.id, resolved: true } });
      d.bus.emit('device.alert', { deviceId, code, severity: r.severity, summary, open: false, data: {} });
    }
  }

  async function deviceOrThrow(deviceId: string) {
    const [row] = await db.select().from(devices).where(eq(devices.id, deviceId)).limit(1);
    if (!row) throw notFound(`device ${deviceId}`);
    return row;
  }

  return {
    lockIn,
    releaseIn,
    afterCommit,
    lockState,
    reconcile,
    raiseAlert,
    resolveAlert,

    async lock(deviceId: string, reason: LockReason, actor: Actor, note?: string) {
      await deviceOrThrow(deviceId);
      const changes = await db.transaction(async (tx) => {
        const c = await lockIn(tx, [deviceId], reason, actor, { note });
        await d.audit.append({ actor: actor.principal, ip: actor.ip, action: 'device.lock', target: deviceId, data: { reason, note } }, tx);
        return c;
      });
      await afterCommit(changes, actor);
      return lockState(deviceId);
    },

    /**
     * A bare `lock` command (no version: the key module on tamper, an operator through the
     * commands API) becomes a lock reason here, so that no unlock of ours lifts it by accident and
     * the lock state shows it. The terminal then gets the versioned state.
     */
    async adoptBareLock(deviceId: string, cmdId: string) {
      const cmd = await d.commands.get(deviceId, cmdId).catch(() => null);
      if (!cmd || cmd.type !== 'lock' || cmd.payload.version !== undefined) return false;
      const reason: LockReason = cmd.payload.reason === 'tamper' ? 'tamper' : 'external';
      const note = `lock command ${cmdId}${typeof cmd.payload.reason === 'string' ? `: ${cmd.payload.reason}` : ''}`;
      const changes = await db.transaction(async (tx) => {
        const c = await lockIn(tx, [deviceId], reason, { principal: null }, { note });
        await d.audit.append(
          { actor: null, action: 'device.lock', target: deviceId, data: { reason, note, by: cmd.createdBy ?? 'system' } },
          tx,
        );
        return c;
      });
      await afterCommit(changes, SYSTEM);
      return true;
    },

    /** Sends the current lock state again (a terminal that lost its state). */
    async resendLock(deviceId: string) {
      const [control] = await db.select().from(terminalControl).where(eq(terminalControl.deviceId, deviceId)).limit(1);
      if (!control || control.lockVersion === 0) return;
      const reasons = await db
        .select({ reason: terminalLocks.reason })
        .from(terminalLocks)
        .where(and(eq(terminalLocks.deviceId, deviceId), isNull(terminalLocks.releasedAt)));
      await sendLock({ deviceId, locked: control.locked, version: control.lockVersion, reasons: reasons.map((r) => r.reason) }, null);
    },

    /** A lock placed by a rule (relocation, limits): audited with no user. */
    async systemLock(deviceId: string, reason: LockReason, note: string) {
      const changes = await db.transaction(async (tx) => {
        const c = await lockIn(tx, [deviceId], reason, SYSTEM, { note });
        await d.audit.append({ actor: null, action: 'device.lock', target: deviceId, data: { reason, note, by: 'rule' } }, tx);
        return c;
      });
      await afterCommit(changes, SYSTEM);
    },

    async unlock(deviceId: string, reason: LockReason, actor: Actor, note?: string) {
      await deviceOrThrow(deviceId);
      const changes = await db.transaction(async (tx) => {
        const c = await releaseIn(tx, [deviceId], reason, actor, { note });
        await d.audit.append(
          { actor: actor.principal, ip: actor.ip, action: 'device.unlock', target: deviceId, data: { reason, note } },
          tx,
        );
        return c;
      });
      await afterCommit(changes, actor);
      return lockState(deviceId);
    },

    async setExemption(deviceId: string, exempt: boolean, reason: string, actor: Actor) {
      await deviceOrThrow(deviceId);
      await db.transaction(async (tx) => {
        await ensureControl(tx, deviceId);
        await tx
          .update(terminalControl)
          .set({ relocationExempt: exempt, exemptReason: exempt ? reason : null, consecutiveOut: 0, updatedAt: now() })
          .where(eq(terminalControl.deviceId, deviceId));
        await d.audit.append(
          {
            actor: actor.principal,
            ip: actor.ip,
            action: exempt ? 'device.relocation_exempt' : 'device.relocation_unexempt',
            target: deviceId,
            data: { reason },
          },
          tx,
        );
      });
      const t = d.registry.track(deviceId);
      d.registry.setTrack(deviceId, { ...t, consecutiveOut: 0, exempt });
      d.timeline.add({
        deviceId,
        kind: 'binding',
        summary: exempt ? `relocation checks off: ${reason}` : 'relocation checks on',
        data: { reason },
      });
      return { deviceId, exempt, reason: exempt ? reason : null };
    },

    async relocationState(deviceId: string) {
      const [c] = await db.select().from(terminalControl).where(eq(terminalControl.deviceId, deviceId)).limit(1);
      const mem = d.registry.track(deviceId);
      return {
        exempt: c?.relocationExempt ?? false,
        exemptReason: c?.exemptReason ?? null,
        relocated: mem.relocated,
        consecutiveOut: mem.consecutiveOut,
        lastDistanceM: c?.lastDistanceM ?? null,
        lastFixAt: c?.lastFixAt ?? null,
      };
    },

    async persistTrack(deviceId: string, fields: { consecutiveOut: number; relocated: boolean; lastDistanceM?: number }) {
      await db.insert(terminalControl).values({ deviceId }).onConflictDoNothing();
      await db
        .update(terminalControl)
        .set({
          consecutiveOut: fields.consecutiveOut,
          relocated: fields.relocated,
          lastDistanceM: fields.lastDistanceM ?? null,
          lastFixAt: now(),
          updatedAt: now(),
        })
        .where(eq(terminalControl.deviceId, deviceId));
    },

    async alerts(q: { deviceId?: string; open?: boolean; limit: number; cursor?: string }) {
      const rows = await db
        .select()
        .from(merchantAlerts)
        .where(
          and(
            q.deviceId ? eq(merchantAlerts.deviceId, q.deviceId) : undefined,
            q.open === undefined ? undefined : q.open ? isNull(merchantAlerts.resolvedAt) : sql`${merchantAlerts.resolvedAt} is not null`,
            q.cursor ? sql`${merchantAlerts.id} < ${Number(q.cursor)}` : undefined,
          ),
        )
        .orderBy(desc(merchantAlerts.id))
        .limit(q.limit + 1);
      const items = rows.slice(0, q.limit);
      const last = items[items.length - 1];
      return { items, nextCursor: rows.length > q.limit && last ? String(last.id) : null };
    },

    /** Refused at connect, live connection closed, messages ignored, pending work cancelled. */
    async blacklist(deviceId: string, reason: string, actor: Actor) {
      const device = await deviceOrThrow(deviceId);
      if (device.status === 'blacklisted') throw conflict('already_blacklisted', `device ${deviceId} is already blacklisted`);
      await db.transaction(async (tx) => {
        await tx.update(devices).set({ status: 'blacklisted', updatedAt: now() }).where(eq(devices.id, deviceId));
        await ensureControl(tx, deviceId);
        await tx.update(terminalControl).set({ blacklistReason: reason, updatedAt: now() }).where(eq(terminalControl.deviceId, deviceId));
        await d.audit.append(
          {
            actor: actor.principal,
            ip: actor.ip,
            action: 'device.blacklist',
            target: deviceId,
            data: { reason, previousStatus: device.status },
          },
          tx,
        );
      });
      d.registry.setBlacklisted(deviceId, true);
      d.credentials.set(deviceId, { secretHash: device.secretHash, status: 'blacklisted' });
      d.broker.disconnect(deviceId);
      // No downloads, keys or anything else queued for it.
      const open = await d.commands.list(deviceId, 500);
      const cancelled: string[] = [];
      for (const c of open.items.filter((c) => !finalCommandStates.includes(c.state))) {
        await d.commands.cancel(deviceId, c.id).then(
          () => cancelled.push(c.id),
          () => undefined,
        );
      }
      d.timeline.add({ deviceId, kind: 'blacklist', summary: `blacklisted: ${reason}`, data: { reason, cancelled } });
      d.bus.emit('device.revoked', { deviceId });
      return { deviceId, status: 'blacklisted' as const, reason, cancelledCommands: cancelled.length };
    },

    async unblacklist(deviceId: string, reason: string, actor: Actor) {
      const device = await deviceOrThrow(deviceId);
      if (device.status !== 'blacklisted') throw conflict('not_blacklisted', `device ${deviceId} is not blacklisted`);
      const status = device.secretHash ? ('enrolled' as const) : ('registered' as const);
      await db.transaction(async (tx) => {
        await tx.update(devices).set({ status, updatedAt: now() }).where(eq(devices.id, deviceId));
        await ensureControl(tx, deviceId);
        await tx.update(terminalControl).set({ blacklistReason: null, updatedAt: now() }).where(eq(terminalControl.deviceId, deviceId));
        await d.audit.append(
          { actor: actor.principal, ip: actor.ip, action: 'device.unblacklist', target: deviceId, data: { reason, status } },
          tx,
        );
      });
      d.registry.setBlacklisted(deviceId, false);
      d.credentials.set(deviceId, { secretHash: device.secretHash, status });
      d.timeline.add({ deviceId, kind: 'blacklist', summary: `taken off the blacklist: ${reason}`, data: { reason } });
      return { deviceId, status, reason };
    },

    /** Devices among `ids` that are blacklisted (for callers that must refuse them work). */
    async blacklistedAmong(ids: string[]) {
      if (!ids.length) return new Set<string>();
      const rows = await db
        .select({ id: devices.id })
        .from(devices)
        .where(and(inArray(devices.id, ids), eq(devices.status, 'blacklisted')));
      return new Set(rows.map((r) => r.id));
    },
  };
}

export type ControlService = ReturnType<typeof createControlService>;
