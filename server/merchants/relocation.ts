// Relocation state of a terminal: the geofence verdict persisted from the ingest rules
// (server/merchants/monitor.ts) and the exemption an operator can set.
import { eq } from 'drizzle-orm';
import { terminalControl } from '../../schemas/tables/merchants.ts';
import type { Actor } from '../core/actor.ts';
import { deviceOrThrow, ensureControlRow } from '../terminalControl/terminalState.ts';
import type { MerchantDeps } from './merchantDeps.ts';
import type { Registry } from './registry.ts';

export function createRelocation(d: Pick<MerchantDeps, 'db' | 'audit' | 'timeline' | 'now'> & { registry: Registry }) {
  const { db } = d;
  const now = () => new Date(d.now?.() ?? Date.now());
  const controlOf = async (deviceId: string) =>
    (await db.select().from(terminalControl).where(eq(terminalControl.deviceId, deviceId)).limit(1))[0];

  return {
    async setExemption(deviceId: string, exempt: boolean, reason: string, actor: Actor) {
      await deviceOrThrow(db, deviceId);
      await db.transaction(async (tx) => {
        await ensureControlRow(tx, deviceId);
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

    async state(deviceId: string) {
      const c = await controlOf(deviceId);
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
      await ensureControlRow(db, deviceId);
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
  };
}

export type Relocation = ReturnType<typeof createRelocation>;
