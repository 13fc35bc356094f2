// At start, the live state is seeded from device_state: firmware, slot, last-seen time and the
// latest health sample come back, presence does not (every terminal is offline until it
// connects again), so rows stored as online are marked for rewriting as offline.
import { deviceState } from '../../schemas/db.ts';
import type { Db } from '../db/database.ts';
import type { LiveState } from './liveState.ts';

export async function restoreLiveState(db: Db, live: LiveState): Promise<void> {
  const rows = await db.select().from(deviceState);
  for (const r of rows) {
    live.restore({
      deviceId: r.deviceId,
      fwVersion: r.fwVersion,
      slot: r.slot,
      lastSeenMs: r.lastSeenAt?.getTime() ?? null,
      health: r.health,
    });
  }
  live.markDirty(rows.filter((r) => r.online).map((r) => r.deviceId));
}
