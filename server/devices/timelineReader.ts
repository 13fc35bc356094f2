// Reads a device's timeline, newest first, after writing what is still buffered.
import { and, desc, eq, lt } from 'drizzle-orm';
import { timeline } from '../../schemas/db.ts';
import type { Db } from '../db/database.ts';
import { fromBase64url, serialNumber, toBase64url } from '../http/cursorParts.ts';
import type { TimelineWriter } from './timelineWriter.ts';

export function createTimelineReader(deps: { db: Db; writer: TimelineWriter }) {
  return {
    async list(deviceId: string, limit: number, cursor?: string, kind?: string) {
      await deps.writer.flush();
      const before = cursor ? serialNumber(fromBase64url(cursor)) : undefined;
      const rows = await deps.db
        .select()
        .from(timeline)
        .where(and(eq(timeline.deviceId, deviceId), before ? lt(timeline.id, before) : undefined, kind ? eq(timeline.kind, kind) : undefined))
        .orderBy(desc(timeline.id))
        .limit(limit + 1);
      const items = rows.slice(0, limit).map((r) => ({ id: r.id, ts: r.ts.toISOString(), kind: r.kind, summary: r.summary, data: r.data }));
      const last = items[items.length - 1];
      return { items, nextCursor: rows.length > limit && last ? toBase64url(String(last.id)) : null };
    },
  };
}

export type TimelineReader = ReturnType<typeof createTimelineReader>;
