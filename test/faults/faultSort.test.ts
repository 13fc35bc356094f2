// GET /v1/faults?sort=…: every order on PGlite and PostgreSQL, paged with keyset cursors across
// pages, with many faults sharing a millisecond (the fault id breaks ties, so the order is the same
// on every request and paging neither skips nor repeats). A cursor of one order is refused by
// another. The test never assumes which of two faults of the same millisecond comes first: it
// checks the order keys and that the pages add up to the whole list.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { severityRank, type Severity } from '../../schemas/faults.ts';
import { faults } from '../../schemas/tables/faults.ts';
import { faultSorts, type FaultSort } from '../../server/faults/faultSort.ts';
import { newFaultId } from '../../server/faults/faultService.ts';
import { databaseKinds } from '../helpers/databases.ts';
import { registerAndEnroll } from '../helpers/devices.ts';
import { startTestServer, type TestServer } from '../helpers/testServer.ts';

interface Item {
  id: string;
  code: string;
  severity: Severity;
  severityRank: number;
  state: string;
  openedAt: string;
  updatedAt: string;
}
interface Page {
  items: Item[];
  nextCursor: string | null;
}

const MODEL = 'SORT-TEST-1';
const ms = (iso: string) => Date.parse(iso);

/** a is allowed before b in this order (ties on every key are left to the id). */
const inOrder: Record<FaultSort, (a: Item, b: Item) => boolean> = {
  severity: (a, b) => a.severityRank > b.severityRank || (a.severityRank === b.severityRank && ms(a.openedAt) <= ms(b.openedAt)),
  oldest: (a, b) => ms(a.openedAt) <= ms(b.openedAt),
  newest: (a, b) => ms(a.openedAt) >= ms(b.openedAt),
  updated: (a, b) => ms(a.updatedAt) >= ms(b.updatedAt),
};

for (const database of databaseKinds()) {
  describe(`fault queue sorting [${database}]`, () => {
    let t: TestServer;
    const seeded: string[] = [];

    const list = (query: string) => t.api<Page>('GET', `/v1/faults?model=${MODEL}&${query}`);

    async function allPages(sort: FaultSort, limit: number) {
      const ids: string[] = [];
      let cursor: string | null = null;
      for (let pages = 0; pages < 100; pages++) {
        const res: { status: number; body: Page } = await list(`sort=${sort}&limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`);
        expect(res.status, JSON.stringify(res.body)).toBe(200);
        expect(res.body.items.length).toBeLessThanOrEqual(limit);
        ids.push(...res.body.items.map((f) => f.id));
        cursor = res.body.nextCursor;
        if (!cursor) return ids;
      }
      throw new Error('paging did not end');
    }

    beforeAll(async () => {
      t = await startTestServer({ database });
      const devs = [];
      for (let i = 0; i < 3; i++) devs.push((await registerAndEnroll(t, { model: MODEL })).deviceId);
      // 15 open faults: groups of three share both severity and opening millisecond, and the
      // changes share milliseconds too; one resolved fault stays out of the default queue.
      const t0 = Date.now() - 3600_000;
      const severities: Severity[] = ['major', 'warning', 'critical', 'major', 'info'];
      const rows: (typeof faults.$inferInsert)[] = [];
      for (let i = 0; i < 15; i++) {
        const group = Math.floor(i / 3);
        const severity = severities[group]!;
        rows.push({
          id: newFaultId(),
          deviceId: devs[i % 3]!,
          code: `sort_case_${i}`,
          title: `case ${i}`,
          severity,
          severityRank: severityRank[severity],
          state: 'open',
          openedAt: new Date(t0 + group * 1000),
          updatedAt: new Date(t0 + 60_000 + ((i * 7) % 4) * 1000),
        });
      }
      rows.push({
        id: newFaultId(),
        deviceId: devs[0]!,
        code: 'sort_case_resolved',
        title: 'resolved',
        severity: 'critical',
        severityRank: severityRank.critical,
        state: 'resolved',
        openedAt: new Date(t0 - 1000),
        updatedAt: new Date(t0 + 120_000),
        resolvedAt: new Date(t0 + 120_000),
        resolution: 'manual',
      });
      await t.server.parts.db.insert(faults).values(rows);
      seeded.push(...rows.filter((r) => r.state === 'open').map((r) => r.id));
    }, 120_000);
    afterAll(async () => t?.stop(), 60_000);

    it.each(faultSorts)('sort=%s: ordered by its keys, the same on every request, paged exactly', async (sort) => {
      const whole = await list(`sort=${sort}&limit=500`);
      expect(whole.status).toBe(200);
      const items = whole.body.items;
      expect(items.map((f) => f.id).sort()).toEqual([...seeded].sort());
      expect(whole.body.nextCursor).toBeNull();
      for (let i = 1; i < items.length; i++) expect(inOrder[sort](items[i - 1]!, items[i]!), `${sort} at ${i}`).toBe(true);

      const again = await list(`sort=${sort}&limit=500`);
      expect(again.body.items.map((f) => f.id)).toEqual(items.map((f) => f.id));

      // Pages of 4 and of 1 cross every tie group: the same faults in the same order.
      expect(await allPages(sort, 4)).toEqual(items.map((f) => f.id));
      expect(await allPages(sort, 1)).toEqual(items.map((f) => f.id));
    });

    it('defaults to worst first, then oldest (sort=severity)', async () => {
      const byDefault = await list('limit=500');
      const bySeverity = await list('sort=severity&limit=500');
      expect(byDefault.body.items.map((f) => f.id)).toEqual(bySeverity.body.items.map((f) => f.id));
      expect(byDefault.body.items[0]!.severity).toBe('critical');
      expect(byDefault.body.items.at(-1)!.severity).toBe('info');
      // The orders really differ on this data.
      const oldest = (await list('sort=oldest&limit=500')).body.items;
      const newest = (await list('sort=newest&limit=500')).body.items;
      expect(ms(oldest[0]!.openedAt)).toBeLessThan(ms(newest[0]!.openedAt));
      expect(oldest[0]!.severity).toBe('major');
      expect(newest[0]!.severity).toBe('info');
    });

    it('a cursor works only with the sort that made it; unknown sorts and forged cursors are 400', async () => {
      const cursors = new Map<FaultSort, string>();
      for (const sort of faultSorts) {
        const res = await list(`sort=${sort}&limit=2`);
        expect(res.body.nextCursor).toBeTruthy();
        cursors.set(sort, res.body.nextCursor!);
      }
      for (const [from, cursor] of cursors) {
        for (const to of faultSorts) {
          const res = await t.api<{ error: { code: string } }>('GET', `/v1/faults?model=${MODEL}&sort=${to}&limit=2&cursor=${encodeURIComponent(cursor)}`);
          if (from === to) expect(res.status).toBe(200);
          else {
            expect(res.status, `${from} cursor with sort=${to}`).toBe(400);
            expect(res.body.error.code).toBe('bad_cursor');
          }
        }
      }
      const bogus = await t.api<{ error: { code: string } }>('GET', '/v1/faults?sort=updated&cursor=updated.bm90LWEtY3Vyc29y');
      expect(bogus.status).toBe(400);
      expect(bogus.body.error.code).toBe('bad_cursor');
      expect((await t.api('GET', '/v1/faults?sort=sideways')).status).toBe(400);
      expect((await t.api('GET', '/v1/faults?sort=severity&cursor=bogus')).status).toBe(400);
    });

    it('sort=updated puts the fault someone just acknowledged or annotated first', async () => {
      const oldest = (await list('sort=oldest&limit=500')).body.items;
      const last = oldest.at(-1)!;
      const ack = await t.api('POST', `/v1/faults/${last.id}/acknowledge`);
      expect(ack.status).toBe(200);
      let updated = (await list('sort=updated&limit=500')).body.items;
      expect(updated[0]!.id).toBe(last.id);
      expect(updated[0]!.state).toBe('acknowledged');

      await new Promise((r) => setTimeout(r, 5)); // a later millisecond than the acknowledgement
      const first = oldest[0]!;
      expect((await t.api('POST', `/v1/faults/${first.id}/notes`, { text: 'on my way' })).status).toBe(201);
      updated = (await list('sort=updated&limit=500')).body.items;
      expect(updated.slice(0, 2).map((f) => f.id)).toEqual([first.id, last.id]);
      // Opening times do not change: the other orders stay as they were.
      expect((await list('sort=oldest&limit=500')).body.items.map((f) => f.id)).toEqual(oldest.map((f) => f.id));
    });
  });
}
