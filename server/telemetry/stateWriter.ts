// Writes what the live state marked dirty, and the kept history samples, in chunked batches.
import { sql } from 'drizzle-orm';
import { deviceState, healthHistory } from '../../schemas/db.ts';
import type { HealthSample } from '../../schemas/wire.ts';
import type { Db } from '../db/database.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import type { DeviceLive, LiveState } from './liveState.ts';

// Chunks keep each statement short, so API queries queued behind a flush wait little.
const HISTORY_CHUNK = 500;
const STATE_CHUNK = 1000;
const MAX_HISTORY_BUFFER = 200_000;

export interface StateWriter {
  keepHistory(deviceId: string, sample: HealthSample): void;
  /** Writes everything pending (reads that need the database current, shutdown). */
  flush(): Promise<void>;
  /**
   * The periodic write: presence and version changes and health history every time, the latest
   * sample and last-seen time of every reporting device only every QUIET_EVERY ticks. Those are
   * served from memory; writing 10,000 of them each second kept the database thread busy for
   * nothing but crash recovery.
   */
  tick(): Promise<void>;
}

/** With the default 1 s flush period, a device's latest sample reaches the database within ~10 s. */
export const QUIET_EVERY = 10;

const toIso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());

/** One device_state row, with the column names jsonb_to_recordset reads. */
function stateRow(d: DeviceLive) {
  return {
    device_id: d.deviceId,
    online: d.online,
    fw_version: d.fwVersion ?? null,
    slot: d.slot ?? null,
    last_seen_at: toIso(d.lastSeenMs),
    connected_at: toIso(d.connectedAtMs),
    disconnected_at: toIso(d.disconnectedAtMs),
    health: d.health ?? null,
  };
}

export function createStateWriter(deps: { db: Db; live: LiveState; log: Logger; metrics: Metrics; isKnown: (id: string) => boolean }): StateWriter {
  let history: (typeof healthHistory.$inferInsert)[] = [];
  let running: Promise<void> | null = null;

  // Rows travel as one JSON parameter per chunk: building ten bound parameters a row for
  // thousands of rows would hold the broker's thread far longer than one JSON.stringify.
  async function writeStates(rows: DeviceLive[]) {
    for (let i = 0; i < rows.length; i += STATE_CHUNK) {
      const chunk = rows.slice(i, i + STATE_CHUNK).filter((d) => deps.isKnown(d.deviceId)).map(stateRow);
      if (!chunk.length) continue;
      const end = deps.metrics.dbFlushSeconds.startTimer({ table: 'device_state' });
      await deps.db
        .execute(
          sql`
          insert into ${deviceState} (device_id, online, fw_version, slot, last_seen_at, connected_at, disconnected_at, health, updated_at)
          select x.device_id, x.online, x.fw_version, x.slot, x.last_seen_at, x.connected_at, x.disconnected_at, x.health, now()
          from jsonb_to_recordset(${JSON.stringify(chunk)}::jsonb) as x(
            device_id text, online boolean, fw_version text, slot text, last_seen_at timestamptz,
            connected_at timestamptz, disconnected_at timestamptz, health jsonb)
          on conflict (device_id) do update set
            online = excluded.online, fw_version = excluded.fw_version, slot = excluded.slot,
            last_seen_at = excluded.last_seen_at, connected_at = excluded.connected_at,
            disconnected_at = excluded.disconnected_at, health = excluded.health, updated_at = excluded.updated_at`,
        )
        .finally(end);
    }
  }

  async function writeHistory(rows: (typeof healthHistory.$inferInsert)[]) {
    for (let i = 0; i < rows.length; i += HISTORY_CHUNK) {
      const json = JSON.stringify(rows.slice(i, i + HISTORY_CHUNK).map((r) => ({ device_id: r.deviceId, ts: r.ts.toISOString(), sample: r.sample })));
      const end = deps.metrics.dbFlushSeconds.startTimer({ table: 'health_history' });
      await deps.db
        .execute(
          sql`
          insert into ${healthHistory} (device_id, ts, sample)
          select x.device_id, x.ts, x.sample from jsonb_to_recordset(${json}::jsonb) as x(device_id text, ts timestamptz, sample jsonb)
          on conflict do nothing`,
        )
        .finally(end);
    }
  }

  let ticks = 0;

  async function flushOnce(all: boolean) {
    const states = deps.live.takeDirty(all);
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
      running = flushOnce(true).finally(() => (running = null));
      await running;
    },
    async tick() {
      if (running) return; // the previous write is still going: this tick's rows wait for the next
      ticks += 1;
      running = flushOnce(ticks % QUIET_EVERY === 0).finally(() => (running = null));
      await running;
    },
  };
}
