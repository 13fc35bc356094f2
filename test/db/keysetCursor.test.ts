// Keyset paging by a row comparison `(time, id) < (cursor)` (server/http/timeCursor.ts) pages
// through rows that share a timestamp exactly once each, in (time desc, id desc) order, on both
// engines; the ascending form likewise.
import { asc, desc } from 'drizzle-orm';
import { beforeAll, expect, it } from 'vitest';
import { users } from '../../schemas/db.ts';
import { decodeTimeCursor, newerThan, newestFirstPage, olderThan, type TimeCursor } from '../../server/http/timeCursor.ts';
import { forEachDatabase, truncateAll } from '../helpers/databases.ts';

const BASE = Date.parse('2026-01-01T00:00:00.000Z');
// 23 users over 5 milliseconds, most sharing one with others; ids not in time order.
const rows = Array.from({ length: 23 }, (_, i) => ({
  id: `usr_${String((i * 7) % 23).padStart(2, '0')}`,
  name: `u${i}`,
  role: 'auditor' as const,
  createdAt: new Date(BASE + (i % 5)),
}));
const key = (r: { id: string; createdAt: Date }): TimeCursor => ({ at: r.createdAt, id: r.id });
const newestFirst = [...rows].sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? 1 : -1)).map((r) => r.id);

forEachDatabase('keyset cursors', (getDb) => {
  beforeAll(async () => {
    await truncateAll(getDb());
    await getDb().insert(users).values(rows);
  });

  async function pageAfter(limit: number, cursor: string | null) {
    const rowsPlusOne = await getDb()
      .select({ id: users.id, createdAt: users.createdAt })
      .from(users)
      .where(olderThan(users.createdAt, users.id, cursor ? decodeTimeCursor(cursor) : undefined))
      .orderBy(desc(users.createdAt), desc(users.id))
      .limit(limit + 1);
    return newestFirstPage(rowsPlusOne, limit, key);
  }

  it('pages newest first through rows sharing a millisecond, each row once', async () => {
    for (const limit of [1, 4, 5, 22, 23, 50]) {
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const page = await pageAfter(limit, cursor);
        seen.push(...page.items.map((r) => r.id));
        cursor = page.nextCursor;
        pages++;
      } while (cursor);
      expect(seen, `limit ${limit}`).toEqual(newestFirst);
      expect(pages).toBe(Math.max(1, Math.ceil(rows.length / limit)));
    }
  });

  it('compares the id only among rows of the same time', async () => {
    const pivot = rows.find((r) => r.id === newestFirst[10])!;
    const after = await getDb()
      .select({ id: users.id })
      .from(users)
      .where(olderThan(users.createdAt, users.id, key(pivot)))
      .orderBy(desc(users.createdAt), desc(users.id));
    expect(after.map((r) => r.id)).toEqual(newestFirst.slice(11));
  });

  it('pages oldest first with the ascending comparison', async () => {
    const oldestFirst = [...newestFirst].reverse();
    const seen: string[] = [];
    let cursor: TimeCursor = { at: new Date(BASE - 1), id: '' };
    for (;;) {
      const page = await getDb()
        .select({ id: users.id, createdAt: users.createdAt })
        .from(users)
        .where(newerThan(users.createdAt, users.id, cursor))
        .orderBy(asc(users.createdAt), asc(users.id))
        .limit(6);
      if (!page.length) break;
      seen.push(...page.map((r) => r.id));
      cursor = key(page[page.length - 1]!);
    }
    expect(seen).toEqual(oldestFirst);
  });
});
