// The device blacklist: a blacklisted terminal is refused at connect, its live connection closed,
// its pending work cancelled, and the domain rules ignore what it still sends. The set is kept in
// memory for the ingest hot path; in a cluster a change made elsewhere arrives as a device
// invalidation (server/cluster/invalidation.ts), and a periodic reload covers a lost one.
import { and, eq, inArray } from 'drizzle-orm';
import { devices, finalCommandStates, type DeviceStatus } from '../../schemas/db.ts';
import { terminalControl } from '../../schemas/tables/merchants.ts';
import type { AuditEntryInput, AuditLog } from '../audit/auditLog.ts';
import type { CommandService } from '../commands/commandService.ts';
import type { Actor } from '../core/actor.ts';
import type { Db } from '../db/database.ts';
import type { CredentialCache } from '../devices/credentialCache.ts';
import type { TimelineWriter } from '../devices/timelineWriter.ts';
import { conflict } from '../errors.ts';
import type { EventBus } from '../events/eventBus.ts';
import { deviceOrThrow, ensureControlRow } from './terminalState.ts';

export interface DeviceBlacklistDeps {
  db: Db;
  audit: AuditLog;
  commands: CommandService;
  timeline: TimelineWriter;
  bus: EventBus;
  credentials: CredentialCache;
  broker: { disconnect(deviceId: string): void };
  /** Tells the other instances of a cluster that these devices' status changed (after commit). */
  invalidated?: (deviceIds: string[]) => void;
  now?: () => number;
}

/** How many of a terminal's commands blacklisting looks at to cancel the open ones. */
const CANCEL_SCAN = 500;

export function createDeviceBlacklist(d: DeviceBlacklistDeps) {
  const { db } = d;
  const now = () => new Date(d.now?.() ?? Date.now());
  let blacklisted = new Set<string>();

  async function setStatus(deviceId: string, status: 'blacklisted' | 'enrolled' | 'registered', reason: string | null, audit: AuditEntryInput) {
    await db.transaction(async (tx) => {
      await tx.update(devices).set({ status, updatedAt: now() }).where(eq(devices.id, deviceId));
      await ensureControlRow(tx, deviceId);
      await tx.update(terminalControl).set({ blacklistReason: reason, updatedAt: now() }).where(eq(terminalControl.deviceId, deviceId));
      await d.audit.append(audit, tx);
    });
  }

  return {
    async load() {
      const rows = await db.select({ id: devices.id }).from(devices).where(eq(devices.status, 'blacklisted'));
      blacklisted = new Set(rows.map((r) => r.id));
    },

    /** Statuses another instance changed, as re-read from the database (a device missing is gone). */
    apply(deviceIds: readonly string[], statuses: ReadonlyMap<string, DeviceStatus>) {
      for (const id of deviceIds) {
        if (statuses.get(id) === 'blacklisted') blacklisted.add(id);
        else blacklisted.delete(id);
      }
    },

    /** On the ingest hot path: memory only. */
    isBlacklisted: (deviceId: string) => blacklisted.has(deviceId),

    /** Refused at connect, live connection closed, messages ignored, pending work cancelled. */
    async blacklist(deviceId: string, reason: string, actor: Actor) {
      const device = await deviceOrThrow(db, deviceId);
      if (device.status === 'blacklisted') throw conflict('already_blacklisted', `device ${deviceId} is already blacklisted`);
      await setStatus(deviceId, 'blacklisted', reason, {
        actor: actor.principal,
        ip: actor.ip,
        action: 'device.blacklist',
        target: deviceId,
        data: { reason, previousStatus: device.status },
      });
      blacklisted.add(deviceId);
      d.credentials.set(deviceId, { secretHash: device.secretHash, status: 'blacklisted' });
      d.invalidated?.([deviceId]);
      d.broker.disconnect(deviceId);
      // No downloads, keys or anything else queued for it.
      const open = await d.commands.list(deviceId, CANCEL_SCAN);
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
      const device = await deviceOrThrow(db, deviceId);
      if (device.status !== 'blacklisted') throw conflict('not_blacklisted', `device ${deviceId} is not blacklisted`);
      const status = device.secretHash ? ('enrolled' as const) : ('registered' as const);
      await setStatus(deviceId, status, null, {
        actor: actor.principal,
        ip: actor.ip,
        action: 'device.unblacklist',
        target: deviceId,
        data: { reason, status },
      });
      blacklisted.delete(deviceId);
      d.credentials.set(deviceId, { secretHash: device.secretHash, status });
      d.invalidated?.([deviceId]);
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

export type DeviceBlacklist = ReturnType<typeof createDeviceBlacklist>;
