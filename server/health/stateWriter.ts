// Writes what the live state marked dirty, and the kept history samples, in chunked batches.
import { sql } from 'drizzle-orm';
import { deviceState, healthHistory } from '../../schemas/db.ts';
import type { HealthSample } from '../../schemas/wire.ts';
import type { Db } from '../db/database.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import type { DeviceLive, LiveState } from './liveState.ts';

// Small chunks keep each statement short, so API queries queued behind a flush wait little.
const CHUNK = 250;
const MAX_HISTORY_BUFFER = 200_000;

export interface StateWriter {
  keepHistory(deviceId: string, sample: HealthSample): void;
  flush(): Promise<void>;
}

const toDate = (ms: number | undefined) => (ms === undefined ? null : new Date(ms));

function stateRow(d: DeviceLive): typeof deviceState.$inferInsert {
  return {
    deviceId: d.deviceId,
    online: d.online,
    fwVersion: d.fwVersion ?? null,
    slot: d.slot ?? null,
    lastSeenAt: toDate(d.lastSeenMs),
    connectedAt: toDate(d.connectedAtMs),
    disconnectedAt: toDate(d.disconnectedAtMs),
    health: d.health ?? null,
    updatedAt: new Date(),
  };
}

export function createStateWriter(deps: { db: Db; live: LiveState; log: Logger; metrics: Metrics; isKnown: (id: string) => boolean }): StateWriter {
  let history: (typeof healthHistory.$inferInsert)[] = [];
  let running: Promise<void> | null = null;

  async function writeStates(rows: DeviceLive[]) {
    for (let i = 0; i < rows.length; i += CHUNK) {
      const chunk = rows.slice(i, i + CHUNK).filter((d) => deps.isKnown(d.deviceId)).map(stateRow);
      if (!chunk.length) continue;
      const end = deps.metrics.dbFlushSeconds.startTimer({ table: 'device_state' });
      await deps.db
        .insert(deviceState)
        .values(chunk)
        .onConflictDoUpdate({
          target: deviceState.deviceId,
          set: {
            online: sql`excluded.online`,
            fwVersion: sql`excluded.fw_version`,
            slot: sql`excluded.slot`,
            lastSeenAt: sql`excluded.last_seen_at`,
            connectedAt: sql`excluded.connected_at`,
            disconnectedAt: sql`excluded.disconnected_at`,
            health: sql`excluded.health`,
            updatedAt: sql`excluded.updated_at`,
          },
        })
        .finally(end);
    }
  }

  async function writeHistory(rows: (typeof healthHistory.$inferInsert)[]) {
    for (let i = 0; i < rows.length; i += CHUNK) {
      const end = deps.metrics.dbFlushSeconds.startTimer({ table: 'health_history' });
      await deps.db
        .insert(healthHistory)
        .values(rows.slice(i, i + CHUNK))
        .onConflictDoNothing()
        .finally(end);
    }
  }

  async function flushOnce() {
    const states = deps.live.takeDirty();
    const kept = history;
    history = [];
    try {
      await writeStates(states);
      await writeHistory(kept.filter((r) => deps.isKnown(r.deviceId)));
    } catch (err) {
      deps.log.error({ err }, 'telemetry flush failed; will retry');
      // Put the rows back so the next flush retries them; nothing is lost on a transient error.
      deps.live.markDirty(states.map((d) => d.deviceId));
      history = kept.concat(history).slice(-MAX_HISTORY_BUFFER);
    }
  }

  return {
    keepHistory(deviceId, sample) {
      if (history.length >= MAX_HISTORY_BUFFER) {
        deps.metrics.dropped.inc({ reason: 'history_buffer_full' });
        return;
      }
      history.push({ deviceId, ts: new Date(sample.ts), sample });
    },
    async flush() {
      while (running) await running;
      running = flushOnce().finally(() => (running = null));
      await running;
    },
  };
}
