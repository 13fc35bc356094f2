// Writes what the live state marked dirty, and the kept history samples, in chunked batches.
import { eq, inArray, sql } from 'drizzle-orm';
import { deviceState, healthHistory } from '../../schemas/db.ts';
import type { HealthSample } from '../../schemas/wire.ts';
import { reportDropped } from '../core/droppedRows.ts';
import { createJsonBulkWriter, type WriteBehindOutcome } from '../core/jsonBulkWrite.ts';
import { serialWrites } from '../core/writeBehind.ts';
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
  /** Cluster mode: the rows a dead instance held, written offline (no longer anyone's). */
  releaseHeldBy(instanceId: string): Promise<void>;
}

const RELEASE_BATCH = 1_000;
const RELEASE_PASSES = 200;

/** With the default 1 s flush period, a device's latest sample reaches the database within ~10 s. */
export const QUIET_EVERY = 10;

const toIso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());

const STATE_COLUMNS = {
  device_id: 'text',
  online: 'boolean',
  fw_version: 'text',
  slot: 'text',
  last_seen_at: 'timestamptz',
  connected_at: 'timestamptz',
  disconnected_at: 'timestamptz',
  health: 'jsonb',
  held_by: 'text',
} as const;

const HISTORY_COLUMNS = { device_id: 'text', ts: 'timestamptz', sample: 'jsonb' } as const;

type HistoryRow = typeof healthHistory.$inferInsert;

export interface StateWriterDeps {
  db: Db;
  live: LiveState;
  log: Logger;
  metrics: Metrics;
  isKnown: (id: string) => boolean;
  /** Cluster mode only: this instance's id, written as `held_by` of the terminals it holds. */
  instanceId?: string;
}

export function createStateWriter(deps: StateWriterDeps): StateWriter {
  let history: HistoryRow[] = [];
  deps.metrics.watchBuffer('health_history', () => history.length);
  const self = deps.instanceId;
  const heldByThis = (d: DeviceLive) => self !== undefined && d.holder === self && d.connected;
  // Only the holder writes a terminal's row: the old holder's late "offline" after a takeover
  // must not overwrite the new holder's "online". A row is taken over by a holder whose
  // connection is at least as recent, else only written while nobody or this instance holds it.
  // A single instance writes as it always did (held_by stays null, last writer wins).
  const guard = self === undefined
    ? sql``
    : sql`where ${deviceState.heldBy} is null or ${deviceState.heldBy} = ${self}
        or (excluded.held_by is not null and (${deviceState.connectedAt} is null or excluded.connected_at >= ${deviceState.connectedAt}))`;

  const states = createJsonBulkWriter({
    db: deps.db,
    columns: STATE_COLUMNS,
    chunkSize: STATE_CHUNK,
    time: () => deps.metrics.dbFlushSeconds.startTimer({ table: 'device_state' }),
    toRecord: (d: DeviceLive) => ({
      device_id: d.deviceId,
      online: d.online,
      fw_version: d.fwVersion ?? null,
      slot: d.slot ?? null,
      last_seen_at: toIso(d.lastSeenMs),
      connected_at: toIso(d.connectedAtMs),
      disconnected_at: toIso(d.disconnectedAtMs),
      health: d.health ?? null,
      held_by: heldByThis(d) ? (self ?? null) : null,
    }),
    statement: (x) => sql`
      insert into ${deviceState} (device_id, online, fw_version, slot, last_seen_at, connected_at, disconnected_at, health, held_by, updated_at)
      select x.device_id, x.online, x.fw_version, x.slot, x.last_seen_at, x.connected_at, x.disconnected_at, x.health, x.held_by, now()
      from ${x}
      on conflict (device_id) do update set
        online = excluded.online, fw_version = excluded.fw_version, slot = excluded.slot,
        last_seen_at = excluded.last_seen_at, connected_at = excluded.connected_at,
        disconnected_at = excluded.disconnected_at, health = excluded.health, held_by = excluded.held_by,
        updated_at = excluded.updated_at
      ${guard}`,
  });

  const historyRows = createJsonBulkWriter({
    db: deps.db,
    columns: HISTORY_COLUMNS,
    chunkSize: HISTORY_CHUNK,
    time: () => deps.metrics.dbFlushSeconds.startTimer({ table: 'health_history' }),
    toRecord: (r: HistoryRow) => ({ device_id: r.deviceId, ts: r.ts, sample: r.sample }),
    statement: (x) => sql`
      insert into ${healthHistory} (device_id, ts, sample)
      select x.device_id, x.ts, x.sample from ${x}
      on conflict do nothing`,
  });

  async function flushOnce(all: boolean) {
    // A terminal held by a peer is that peer's to write (its holder changed since it was marked).
    const dirty = deps.live.takeDirty(all).filter((d) => deps.isKnown(d.deviceId) && (d.holder === undefined || d.holder === self || self === undefined));
    const kept = history.filter((r) => deps.isKnown(r.deviceId));
    history = [];
    const stateOutcome = await states.writeBehind(dirty);
    // With the database away, the history is not even tried: it all waits for the next flush.
    const historyOutcome: WriteBehindOutcome<HistoryRow> = stateOutcome.retry.length ? { retry: kept, dropped: [] } : await historyRows.writeBehind(kept);
    // Rows of deleted devices are filtered out above: what is dropped here can never be written.
    reportDropped(stateOutcome.dropped, { buffer: 'device_state', key: (d) => d.deviceId, log: deps.log, metrics: deps.metrics });
    reportDropped(historyOutcome.dropped, { buffer: 'health_history', key: (r) => `${r.deviceId} ${r.ts.toISOString()}`, log: deps.log, metrics: deps.metrics });
    if (stateOutcome.retry.length || historyOutcome.retry.length) {
      deps.log.error({ err: stateOutcome.error ?? historyOutcome.error }, 'telemetry flush failed; will retry');
      // Put the rows back so the next flush retries them; nothing is lost on a transient error.
      deps.live.markDirty(stateOutcome.retry.map((d) => d.deviceId));
      history = historyOutcome.retry.concat(history).slice(-MAX_HISTORY_BUFFER);
    }
  }

  let ticks = 0;
  const writes = serialWrites(flushOnce);

  return {
    keepHistory(deviceId, sample) {
      if (history.length >= MAX_HISTORY_BUFFER) {
        deps.metrics.dropped.inc({ reason: 'history_buffer_full' });
        return;
      }
      history.push({ deviceId, ts: new Date(sample.ts), sample });
    },
    flush: () => writes.flush(true),
    async releaseHeldBy(instanceId) {
      // In small batches, skipping rows a flush has locked: one UPDATE over a dead instance's
      // 17,000 rows deadlocked with the new holders' flushes writing the same rows online. A
      // skipped row is taken at a later pass, unless its new holder wrote it meanwhile.
      for (let pass = 0; pass < RELEASE_PASSES; pass++) {
        const batch = deps.db
          .select({ id: deviceState.deviceId })
          .from(deviceState)
          .where(eq(deviceState.heldBy, instanceId))
          .orderBy(deviceState.deviceId)
          .limit(RELEASE_BATCH)
          .for('update', { skipLocked: true });
        const released = await deps.db
          .update(deviceState)
          .set({ online: false, heldBy: null, disconnectedAt: sql`now()`, updatedAt: sql`now()` })
          .where(inArray(deviceState.deviceId, batch))
          .returning({ id: deviceState.deviceId });
        if (released.length > 0) continue;
        const [left] = await deps.db.select({ n: sql<number>`count(*)::int` }).from(deviceState).where(eq(deviceState.heldBy, instanceId));
        if (!left?.n) return;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`rows still held by ${instanceId} after ${RELEASE_PASSES} passes`);
    },
    async tick() {
      // A tick skipped while the previous write goes on does not count towards QUIET_EVERY.
      if (await writes.tick((ticks + 1) % QUIET_EVERY === 0)) ticks += 1;
    },
  };
}
