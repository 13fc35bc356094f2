// Tamper (SPEC §5): a tamper event marks the device compromised on the server: every key
// revoked, the terminal locked and told to zeroize, an alert raised (the faults module opens the
// critical `tamper` fault from the same event). The agent zeroizes by itself as well. The lock is
// terminal control's: one `tamper` reason, so the terminal gets one versioned lock command.
import { eq } from 'drizzle-orm';
import { compromisedDevices } from '../../schemas/tables/keys.ts';
import type { AuditLog } from '../audit/auditLog.ts';
import type { CommandService } from '../commands/commandService.ts';
import { SYSTEM, type Actor } from '../core/actor.ts';
import type { Tx } from '../core/transaction.ts';
import type { Db } from '../db/database.ts';
import type { TimelineWriter } from '../devices/timelineWriter.ts';
import type { EventBus } from '../events/eventBus.ts';
import type { Logger } from '../log.ts';
import type { Locks } from '../terminalControl/locks.ts';
import type { KeyService } from './keyService.ts';

export function createTamperHandler(deps: { db: Db; keys: KeyService; locks: Locks; commands: CommandService; bus: EventBus; timeline: TimelineWriter; audit: AuditLog; log: Logger; compromised: Set<string>; markedCompromised?: (deviceId: string) => void }) {
  const inFlight = new Map<string, Promise<void>>();

  /**
   * The mark, the revocations, the lock and their audit entries (and `by`'s, for an admin's mark)
   * commit together; the lock and zeroize commands go out only after the commit.
   */
  async function markCompromised(deviceId: string, reason: string, by?: Actor) {
    const done = await deps.db.transaction(async (tx) => {
      const [row] = await tx.insert(compromisedDevices).values({ deviceId, reason }).onConflictDoNothing().returning();
      const marked = row ? await compromiseIn(tx, deviceId, reason) : null; // null: already compromised
      if (by) await deps.audit.append({ actor: by.principal, action: 'device.mark_compromised', target: deviceId, ip: by.ip, data: { reason } }, tx);
      return marked;
    });
    deps.compromised.add(deviceId);
    if (!done) return;
    deps.markedCompromised?.(deviceId);
    const { revoked, lockChanges } = done;
    await deps.locks.afterCommit(lockChanges, SYSTEM);
    await deps.commands.create(deviceId, { type: 'keys.zeroize', payload: { reason: 'tamper' }, createdBy: null });
    deps.timeline.add({ deviceId, kind: 'security', summary: `device compromised (${reason}): ${revoked.length} keys revoked, lock and zeroize sent`, data: { keysRevoked: revoked.length } });
    deps.bus.emit('device.alert', { deviceId, code: 'key_compromise', severity: 'critical', summary: `tamper: ${revoked.length} keys revoked, terminal locked`, open: true, data: { keysRevoked: revoked.length, reason } });
    deps.log.warn({ deviceId, keysRevoked: revoked.length }, 'device compromised: keys revoked, lock and zeroize sent');
  }

  async function compromiseIn(tx: Tx, deviceId: string, reason: string) {
    const revoked = await deps.keys.revokeDevice(deviceId, `device compromised: ${reason}`, tx);
    const lockChanges = await deps.locks.systemLockIn(tx, deviceId, 'tamper', reason, 'tamper');
    await tx.update(compromisedDevices).set({ keysRevoked: revoked.length }).where(eq(compromisedDevices.deviceId, deviceId));
    await deps.audit.append({ actor: null, action: 'device.compromised', target: deviceId, data: { reason, keysRevoked: revoked.length } }, tx);
    return { revoked, lockChanges };
  }

  return {
    /** An admin's mark: errors reach the caller, and two at once are told apart by the row's insert. */
    markByAdmin: (deviceId: string, reason: string, by: Actor) => markCompromised(deviceId, reason, by),
    /** A tamper signal: one handling per device at a time; a failure is logged and the next signal tries again. */
    markCompromised(deviceId: string, reason: string): Promise<void> {
      const prev = inFlight.get(deviceId);
      if (prev) return prev;
      const job = markCompromised(deviceId, reason)
        .catch((err: unknown) => deps.log.error({ err, deviceId }, 'marking a device compromised failed'))
        .finally(() => inFlight.delete(deviceId));
      inFlight.set(deviceId, job);
      return job;
    },
    idle: () => Promise.all(inFlight.values()),
  };
}
