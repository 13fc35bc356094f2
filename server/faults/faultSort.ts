// The orders of the fault queue and their keyset cursors. Every order ends on the fault id, so it
// is total even when many faults share a millisecond, and paging never skips or repeats one. A
// cursor names the order it was made for: one from another order is a 400, never a wrong page.
import { asc, desc, sql, type SQL } from 'drizzle-orm';
import { faults, type FaultRow } from '../../schemas/tables/faults.ts';
import { badRequest } from '../errors.ts';
import { isoInstant, keyMatching, publicIdPattern } from '../http/cursorParts.ts';
import { decodeTimeCursor, encodeTimeCursor, newerThan, olderThan, type TimeCursor } from '../http/timeCursor.ts';

/**
 * `severity`: worst first, then oldest (the queue: what to look at next);
 * `oldest` / `newest`: by when the fault opened; `updated`: most recently changed first.
 */
export const faultSorts = ['severity', 'oldest', 'newest', 'updated'] as const;
export type FaultSort = (typeof faultSorts)[number];

type SortRow = Pick<FaultRow, 'id' | 'severityRank' | 'openedAt' | 'updatedAt'>;

const badCursor = () => badRequest('bad_cursor', 'cursor is not one this API handed out for this sort');

// --- severity: (rank desc, openedAt asc, id asc); the cursor keeps its original shape ---------

interface SeverityCursor {
  rank: number;
  openedAt: Date;
  id: string;
}

const encodeSeverity = (c: SeverityCursor) => Buffer.from(JSON.stringify([c.rank, c.openedAt.toISOString(), c.id])).toString('base64url');

function decodeSeverity(s: string): SeverityCursor {
  if (s.includes('.')) throw badCursor(); // a cursor of a time order
  try {
    const v: unknown = JSON.parse(Buffer.from(s, 'base64url').toString());
    if (Array.isArray(v) && v.length === 3) {
      const [rank, openedAt, id] = v as unknown[];
      // The rank is a smallint column.
      if (typeof rank === 'number' && Number.isInteger(rank) && Math.abs(rank) <= 32_767 && typeof openedAt === 'string' && typeof id === 'string') {
        return { rank, openedAt: isoInstant(openedAt), id: keyMatching(id, publicIdPattern('flt')) };
      }
    }
  } catch {
    /* fall through */
  }
  throw badCursor();
}

// --- time orders: `<sort>.<time cursor>` ------------------------------------------------------

const encodeTime = (sort: FaultSort, c: TimeCursor) => `${sort}.${encodeTimeCursor(c)}`;

function decodeTime(sort: FaultSort, s: string): TimeCursor {
  const dot = s.indexOf('.');
  if (dot < 0 || s.slice(0, dot) !== sort) throw badCursor();
  try {
    return decodeTimeCursor(s.slice(dot + 1));
  } catch {
    throw badCursor();
  }
}

interface SortSpec {
  orderBy: SQL[];
  /** The condition for rows after `cursor`; throws `bad_cursor` for a cursor of another sort. */
  after(cursor: string): SQL | undefined;
  cursorOf(row: SortRow): string;
}

export const sortSpecs: Record<FaultSort, SortSpec> = {
  severity: {
    orderBy: [desc(faults.severityRank), asc(faults.openedAt), asc(faults.id)],
    after(cursor) {
      const c = decodeSeverity(cursor);
      return sql`(${faults.severityRank} < ${c.rank} or (${faults.severityRank} = ${c.rank} and (${faults.openedAt} > ${c.openedAt} or (${faults.openedAt} = ${c.openedAt} and ${faults.id} > ${c.id}))))`;
    },
    cursorOf: (r) => encodeSeverity({ rank: r.severityRank, openedAt: r.openedAt, id: r.id }),
  },
  oldest: {
    orderBy: [asc(faults.openedAt), asc(faults.id)],
    after: (cursor) => newerThan(faults.openedAt, faults.id, decodeTime('oldest', cursor)),
    cursorOf: (r) => encodeTime('oldest', { at: r.openedAt, id: r.id }),
  },
  newest: {
    orderBy: [desc(faults.openedAt), desc(faults.id)],
    after: (cursor) => olderThan(faults.openedAt, faults.id, decodeTime('newest', cursor)),
    cursorOf: (r) => encodeTime('newest', { at: r.openedAt, id: r.id }),
  },
  updated: {
    orderBy: [desc(faults.updatedAt), desc(faults.id)],
    after: (cursor) => olderThan(faults.updatedAt, faults.id, decodeTime('updated', cursor)),
    cursorOf: (r) => encodeTime('updated', { at: r.updatedAt, id: r.id }),
  },
};
