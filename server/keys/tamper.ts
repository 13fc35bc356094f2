// Tamper (SPEC §5): a tamper event marks the device compromised on the server: every key
// revoked, the terminal locked and told to zeroize, an alert raised (the faults module opens the
// critical `tamper` fault from the same event). The agent zeroizes by itself as well. The lock is
// terminal control's: one `tamper` reason, so the terminal gets one versioned lock command.
import { eq } from 'drizzle-orm';
import { compromisedDevices } from '../../schemas/tables/keys.ts';
import type { AuditLog } from '../audit/auditLog.ts';
import type { CommandService } from '../commands/commandService.ts';
import type { Db } from '../db/database.ts';
import type { TimelineWriter } from '../devices/timelineWriter.ts';
import type { EventBus } from '../events/eventBus.ts';
import type { Logger } from '../log.ts';
import type { Locks } from '../terminalControl/locks.ts';
import type { KeyService } from './keyService.ts';

export function createTamperHandler(deps: { db: Db; keys: KeyService; locks: Locks; commands: CommandService; bus: EventBus; timeline: TimelineWriter; audit: AuditLog; log: Logger; compromised: Set<string> }) {
  const inFlight = new Map<string, Promise<void>>();

  async function markCompromised(deviceId: string, reason: string) {
    const [row] = await deps.db.insert(compromisedDevices).values({ deviceId, reason }).onConflictDoNothing().returning();
    deps.compromised.add(deviceId);
    if (!row) return; // already compromised: nothing more to do
    const revoked = await deps.keys.revokeDevice(deviceId, `device compromised: ${reason}`);
    await deps.locks.systemLock(deviceId, 'tamper', reason, 'tamper');
    await deps.commands.create(deviceId, { type: 'keys.zeroize', payload: { reason: 'tamper' }, createdBy: null });
    await deps.db.update(compromisedDevices).set({ keysRevoked: revoked.length }).where(eq(compromisedDevices.deviceId, deviceId));
    deps.timeline.add({ deviceId, kind: 'security', summary: `device compromised (${reason}): ${revoked.length} keys revoked, lock and zeroize sent`, data: { keysRevoked: revoked.length } });
    deps.bus.emit('device.alert', { deviceId, code: 'key_compromise', severity: 'critical', summary: `tamper: ${revoked.length} keys revoked, terminal locked`, open: true, data: { keysRevoked: revoked.length, reason } });
    await deps.audit.append({ actor: null, action: 'device.compromised', target: deviceId, data: { reason, keysRevoked: revoked.length } });
    deps.log.warn({ deviceId, keysRevoked: revoked.length }, 'device compromised: keys revoked, lock and zeroize sent');
  }

  return {
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
