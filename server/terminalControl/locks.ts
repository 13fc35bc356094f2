// Terminal locks (SPEC §6): a terminal is locked while any reason is open; the lock and unlock
// commands that carry the state are ordered by a version and queued for offline terminals.
import { and, asc, eq, isNull, sql } from 'drizzle-orm';
import { finalCommandStates } from '../../schemas/db.ts';
import { terminalControl, terminalLocks, type LockReason } from '../../schemas/tables/merchants.ts';
import type { AuditLog } from '../audit/auditLog.ts';
import type { CommandService } from '../commands/commandService.ts';
import { SYSTEM, type Actor } from '../core/actor.ts';
import type { Tx } from '../core/transaction.ts';
import type { Db } from '../db/database.ts';
import type { TimelineWriter } from '../devices/timelineWriter.ts';
import { deviceOrThrow, ensureControlRow, STATE_COMMAND_TTL_S } from './terminalState.ts';

/** A terminal whose lock state moved inside a transaction: what to send once it commits. */
export interface LockChange {
  deviceId: string;
  locked: boolean;
  version: number;
  reasons: string[];
}

export interface LockDeps {
  db: Db;
  audit: AuditLog;
  commands: CommandService;
  timeline: TimelineWriter;
  now?: () => number;
}

interface LockNote {
  note?: string;
  merchantId?: string;
}

export function createLocks(d: LockDeps) {
  const { db } = d;
  const now = () => new Date(d.now?.() ?? Date.now());

  const openReasons = (tx: Tx | Db, deviceId: string) =>
    tx
      .select({ reason: terminalLocks.reason })
      .from(terminalLocks)
      .where(and(eq(terminalLocks.deviceId, deviceId), isNull(terminalLocks.releasedAt)));

  const controlOf = async (deviceId: string) =>
    (await db.select().from(terminalControl).where(eq(terminalControl.deviceId, deviceId)).limit(1))[0];

  /** Brings `locked` in line with the open reasons; a change bumps the version. */
  async function syncLockIn(tx: Tx, deviceId: string): Promise<LockChange | null> {
    await ensureControlRow(tx, deviceId);
    const open = await openReasons(tx, deviceId);
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
      ttlS: STATE_COMMAND_TTL_S,
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

  /** Sends the terminal's current lock state as it is in the database. */
  async function sendCurrent(deviceId: string, locked: boolean, version: number) {
    const reasons = await openReasons(db, deviceId);
    await sendLock({ deviceId, locked, version, reasons: reasons.map((r) => r.reason) }, null);
  }

  async function afterCommit(changes: (LockChange | null)[], actor: Actor) {
    for (const c of changes) if (c) await sendLock(c, actor.principal?.userId ?? null);
  }

  /** Opens `reason` on each terminal (inside `tx`); returns the lock commands to send after commit. */
  async function lockIn(tx: Tx, deviceIds: string[], reason: LockReason, actor: Actor, extra: LockNote = {}) {
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

  async function releaseIn(tx: Tx, deviceIds: string[], reason: LockReason, actor: Actor, extra: LockNote = {}) {
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
    const control = await controlOf(deviceId);
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

  /** Opens or releases one reason on one terminal with its audit entry, inside `tx`; returns what to send after commit. */
  async function changeIn(tx: Tx, deviceId: string, open: boolean, reason: LockReason, actor: Actor, audit: { note?: string; by?: string }) {
    const c = await (open ? lockIn : releaseIn)(tx, [deviceId], reason, actor, { note: audit.note });
    await d.audit.append(
      {
        actor: actor.principal,
        ip: actor.ip,
        action: open ? 'device.lock' : 'device.unlock',
        target: deviceId,
        data: { reason, note: audit.note, ...(audit.by ? { by: audit.by } : {}) },
      },
      tx,
    );
    return c;
  }

  /** Opens or releases one reason on one terminal, audited, then sends what changed. */
  async function change(deviceId: string, open: boolean, reason: LockReason, actor: Actor, audit: { note?: string; by?: string }) {
    const changes = await db.transaction((tx) => changeIn(tx, deviceId, open, reason, actor, audit));
    await afterCommit(changes, actor);
  }

  return {
    lockIn,
    releaseIn,
    afterCommit,
    lockState,

    async lock(deviceId: string, reason: LockReason, actor: Actor, note?: string) {
      await deviceOrThrow(db, deviceId);
      await change(deviceId, true, reason, actor, { note });
      return lockState(deviceId);
    },

    async unlock(deviceId: string, reason: LockReason, actor: Actor, note?: string) {
      await deviceOrThrow(db, deviceId);
      await change(deviceId, false, reason, actor, { note });
      return lockState(deviceId);
    },

    /** A lock placed by the system (a merchant rule, tamper): audited with no user, `by` naming the part. */
    systemLock: (deviceId: string, reason: LockReason, note: string, by = 'rule') => change(deviceId, true, reason, SYSTEM, { note, by }),
    /** `systemLock` inside the caller's transaction; hand what it returns to `afterCommit` once that commits. */
    systemLockIn: (tx: Tx, deviceId: string, reason: LockReason, note: string, by = 'rule') => changeIn(tx, deviceId, true, reason, SYSTEM, { note, by }),

    /**
     * A bare `lock` command (no version: an operator through the commands API) becomes a lock
     * reason here, so that no unlock of ours lifts it by accident and the lock state shows it.
     * The terminal then gets the versioned state.
     */
    async adoptBareLock(deviceId: string, cmdId: string) {
      const cmd = await d.commands.get(deviceId, cmdId).catch(() => null);
      if (!cmd || cmd.type !== 'lock' || cmd.payload.version !== undefined) return false;
      const reason: LockReason = cmd.payload.reason === 'tamper' ? 'tamper' : 'external';
      const note = `lock command ${cmdId}${typeof cmd.payload.reason === 'string' ? `: ${cmd.payload.reason}` : ''}`;
      await change(deviceId, true, reason, SYSTEM, { note, by: cmd.createdBy ?? 'system' });
      return true;
    },

    /** Re-sends the desired lock state when a terminal reports something else and nothing is on its way. */
    async reconcile(deviceId: string, reportedLocked: boolean) {
      const control = await controlOf(deviceId);
      if (!control || control.locked === reportedLocked) return;
      if (control.lastLockCommandId) {
        const c = await d.commands.get(deviceId, control.lastLockCommandId).catch(() => null);
        if (c && !finalCommandStates.includes(c.state)) return;
      }
      await sendCurrent(deviceId, control.locked, control.lockVersion);
    },

    /** Sends the current lock state again (a terminal that lost its state). */
    async resendLock(deviceId: string) {
      const control = await controlOf(deviceId);
      if (!control || control.lockVersion === 0) return;
      await sendCurrent(deviceId, control.locked, control.lockVersion);
    },
  };
}

export type Locks = ReturnType<typeof createLocks>;
