// Keyset paging over (timestamp, id), newest first: exact even when many rows share a
// millisecond, and a forged cursor is a 400, never a 500.
import { sql, type SQL } from 'drizzle-orm';
import type { PgColumn } from 'drizzle-orm/pg-core';
import { badCursor, fromBase64url, isoInstant, keyMatching } from './cursorParts.ts';

export interface TimeCursor {
  at: Date;
  id: string;
}

export const encodeTimeCursor = (c: TimeCursor) => Buffer.from(`${c.at.toISOString()}|${c.id}`).toString('base64url');

// Row ids in these cursors are public ids (core/ids.ts), whatever their prefix.
const ROW_ID = /^[a-z]{1,8}_[A-Za-z0-9_-]{1,60}$/;

export function decodeTimeCursor(cursor: string): TimeCursor {
  const parts = fromBase64url(cursor).split('|');
  if (parts.length !== 2) throw badCursor();
  return { at: isoInstant(parts[0]!), id: keyMatching(parts[1]!, ROW_ID) };
}

// A row comparison rather than `time < at or (time = at and id < id)`: the same rows, but an
// index on (time, id) can start the scan at the cursor instead of skipping up to it.
const cursorRow = (c: TimeCursor) => sql`(${c.at.toISOString()}::timestamptz, ${c.id}::text)`;

/** Rows after the cursor in (time desc, id desc) order; no condition without a cursor. */
export function olderThan(time: PgColumn, id: PgColumn, c: TimeCursor | undefined): SQL | undefined {
  return c ? sql`(${time}, ${id}) < ${cursorRow(c)}` : undefined;
}

/** Rows after the cursor in (time asc, id asc) order. */
export function newerThan(time: PgColumn, id: PgColumn, c: TimeCursor): SQL {
  return sql`(${time}, ${id}) > ${cursorRow(c)}`;
}

/** One page from rows fetched with `limit + 1`: the extra row only says whether more follow. */
export function newestFirstPage<T>(rows: readonly T[], limit: number, key: (row: T) => TimeCursor): { items: T[]; nextCursor: string | null } {
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return { items, nextCursor: rows.length > limit && last ? encodeTimeCursor(key(last)) : null };
}
