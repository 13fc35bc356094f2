// Timeline entries are buffered and written in batches: a device that misbehaves must not turn
// every bad message into a database write. Repeats of the same rejection are coalesced.
import { sql } from 'drizzle-orm';
import { timeline } from '../../schemas/db.ts';
import { reportDropped } from '../core/droppedRows.ts';
import { createJsonBulkWriter } from '../core/jsonBulkWrite.ts';
import { serialWrites } from '../core/writeBehind.ts';
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
  /** The timer's write: skipped while one is under way (its entries wait for the next tick), never queued behind it. */
  tick(): Promise<void>;
  pending(): number;
}

type TimelineRow = typeof timeline.$inferInsert;

const CHUNK = 500;
const COALESCE_WINDOW_MS = 60_000;
const MAX_BUFFER = 100_000;

export function createTimelineWriter(deps: { db: Db; log: Logger; metrics: Metrics; now?: () => number }): TimelineWriter {
  const now = deps.now ?? Date.now;
  let buffer: TimelineRow[] = [];
  const coalesce = new Map<string, { lastMs: number; suppressed: number }>();
  deps.metrics.watchBuffer('timeline', () => buffer.length);

  const add = (e: TimelineEntry) => {
    if (buffer.length >= MAX_BUFFER) {
      deps.metrics.dropped.inc({ reason: 'timeline_buffer_full' });
      return;
    }
    buffer.push({ deviceId: e.deviceId, kind: e.kind, summary: e.summary, data: e.data ?? {}, ts: e.ts ?? new Date(now()) });
  };

  // A fleet-wide command adds thousands of entries at once: they go as one JSON parameter per
  // chunk (server/core/jsonBulkWrite.ts). Ordinality keeps the ids (the timeline's order) in the
  // order added.
  const rows = createJsonBulkWriter({
    db: deps.db,
    columns: { device_id: 'text', kind: 'text', summary: 'text', data: 'jsonb', ts: 'timestamptz' },
    chunkSize: CHUNK,
    ordered: true,
    time: () => deps.metrics.dbFlushSeconds.startTimer({ table: 'timeline' }),
    toRecord: (r: TimelineRow) => ({ device_id: r.deviceId, kind: r.kind, summary: r.summary, data: r.data ?? {}, ts: r.ts ?? new Date() }),
    statement: (x) => sql`
      insert into ${timeline} (device_id, kind, summary, data, ts)
      select x.device_id, x.kind, x.summary, x.data, x.ts from ${x} order by x.n`,
  });

  async function writeAll(): Promise<void> {
    while (buffer.length) {
      const batch = buffer;
      buffer = [];
      const outcome = await rows.writeBehind(batch);
      if (outcome.dropped.length) {
        // A row for a device deleted meanwhile, or one that cannot be stored, is dropped alone; it must not lose the others.
        reportDropped(outcome.dropped, { buffer: 'timeline', key: (r) => `${r.deviceId} ${r.kind}`, log: deps.log, metrics: deps.metrics });
        deps.metrics.dropped.inc({ reason: 'timeline_write_failed' }, outcome.dropped.length);
      }
      if (outcome.retry.length) {
        deps.log.error({ err: outcome.error }, 'writing the timeline failed; will retry');
        buffer = outcome.retry.concat(buffer).slice(0, MAX_BUFFER);
        return;
      }
    }
  }
  const writes = serialWrites(writeAll);

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
    flush: () => writes.flush(),
    tick: () => writes.tick().then(() => undefined),
    pending: () => buffer.length,
  };
}
