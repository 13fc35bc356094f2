// Timeline entries are buffered and written in batches: a device that misbehaves must not turn
// every bad message into a database write. Repeats of the same rejection are coalesced.
import { sql } from 'drizzle-orm';
import { timeline } from '../../schemas/db.ts';
import type { Db } from '../db/database.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';

export type TimelineKind =
  | 'registered'
  | 'enrolled'
  | 'connect'
  | 'disconnect'
  | 'online'
  | 'offline'
  | 'event'
  | 'command'
  | 'ack'
  | 'rejected'
  | 'security'
  | 'revoked'
  | 'enrollment_reset'
  | 'fault'
  | 'diagnostics'
  | 'logs'
  | 'binding'
  | 'lock'
  | 'alert'
  | 'blacklist';

export interface TimelineEntry {
  deviceId: string;
  kind: TimelineKind;
  summary: string;
  data?: Record<string, unknown>;
  ts?: Date;
}

export interface TimelineWriter {
  add(entry: TimelineEntry): void;
  /** Adds at most one entry per key per window; the next one carries how many were suppressed. */
  addCoalesced(key: string, entry: TimelineEntry): void;
  flush(): Promise<void>;
  pending(): number;
}

const CHUNK = 500;
const COALESCE_WINDOW_MS = 60_000;
const MAX_BUFFER = 100_000;

export function createTimelineWriter(deps: { db: Db; log: Logger; metrics: Metrics; now?: () => number }): TimelineWriter {
  const now = deps.now ?? Date.now;
  let buffer: (typeof timeline.$inferInsert)[] = [];
  const coalesce = new Map<string, { lastMs: number; suppressed: number }>();
  let flushing: Promise<void> | null = null;

  const add = (e: TimelineEntry) => {
    if (buffer.length >= MAX_BUFFER) {
      deps.metrics.dropped.inc({ reason: 'timeline_buffer_full' });
      return;
    }
    buffer.push({ deviceId: e.deviceId, kind: e.kind, summary: e.summary, data: e.data ?? {}, ts: e.ts ?? new Date(now()) });
  };

  /**
   * One statement per chunk with the rows as one JSON parameter: five bound parameters a row,
   * built by the query builder for the thousands of entries of a fleet-wide command, held the
   * broker's thread. Ordinality keeps the ids (the timeline's order) in the order added.
   */
  async function insertRows(rows: readonly (typeof timeline.$inferInsert)[]) {
    const json = JSON.stringify(rows.map((r) => ({ device_id: r.deviceId, kind: r.kind, summary: r.summary, data: r.data ?? {}, ts: (r.ts ?? new Date()).toISOString() })));
    await deps.db.execute(sql`
      insert into ${timeline} (device_id, kind, summary, data, ts)
      select x.device_id, x.kind, x.summary, x.data, x.ts
      from rows from (jsonb_to_recordset(${json}::jsonb) as (device_id text, kind text, summary text, data jsonb, ts timestamptz))
        with ordinality as x(device_id, kind, summary, data, ts, n)
      order by x.n`);
  }

  async function writeAll(): Promise<void> {
    while (buffer.length) {
      const batch = buffer;
      buffer = [];
      for (let i = 0; i < batch.length; i += CHUNK) {
        const end = deps.metrics.dbFlushSeconds.startTimer({ table: 'timeline' });
        try {
          await insertRows(batch.slice(i, i + CHUNK));
        } catch (err) {
          // A row for a device deleted meanwhile must not lose the others: retry one by one.
          deps.log.warn({ err }, 'timeline batch failed; writing rows singly');
          for (const row of batch.slice(i, i + CHUNK)) {
            await insertRows([row]).catch(() => deps.metrics.dropped.inc({ reason: 'timeline_write_failed' }));
          }
        } finally {
          end();
        }
      }
    }
  }

  return {
    add,
    addCoalesced(key, entry) {
      const t = now();
      const seen = coalesce.get(key);
      if (seen && t - seen.lastMs < COALESCE_WINDOW_MS) {
        seen.suppressed += 1;
        return;
      }
      const suppressed = seen?.suppressed ?? 0;
      coalesce.set(key, { lastMs: t, suppressed: 0 });
      if (coalesce.size > 50_000) coalesce.clear();
      add(suppressed ? { ...entry, data: { ...entry.data, suppressedSinceLast: suppressed } } : entry);
    },
    flush() {
      // One flush at a time; a caller arriving mid-flush waits for it and then for its own rows.
      const run = async () => {
        if (flushing) await flushing;
        flushing = writeAll().finally(() => (flushing = null));
        await flushing;
      };
      return run();
    },
    pending: () => buffer.length,
  };
}
