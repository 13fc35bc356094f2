// The one JSON bulk writer (server/core/jsonBulkWrite.ts) on both engines: chunks, order, values
// back as sent, and the write-behind policy: a row refused for its own content is dropped alone,
// anything else hands the rest back to retry.
import { asc, sql } from 'drizzle-orm';
import { beforeEach, describe, expect, it } from 'vitest';
import { timeline } from '../../schemas/db.ts';
import { createJsonBulkWriter, isRowError, jsonRecordset } from '../../server/core/jsonBulkWrite.ts';
import type { Db } from '../../server/db/database.ts';
import { forEachDatabase, truncateAll } from '../helpers/databases.ts';
import { insertDevices } from '../db/fixtures.ts';

interface Entry {
  deviceId: string;
  summary: string;
  data: Record<string, unknown>;
  ts: Date;
}

const COLUMNS = { device_id: 'text', kind: 'text', summary: 'text', data: 'jsonb', ts: 'timestamptz' } as const;
const T0 = Date.parse('2026-04-01T08:00:00.250Z');

function timelineWriter(db: Db, chunkSize: number, statements: { n: number }) {
  return createJsonBulkWriter({
    db,
    columns: COLUMNS,
    chunkSize,
    ordered: true,
    time: () => {
      statements.n += 1;
      return () => undefined;
    },
    toRecord: (e: Entry) => ({ device_id: e.deviceId, kind: 'event', summary: e.summary, data: e.data, ts: e.ts }),
    statement: (x) => sql`
      insert into ${timeline} (device_id, kind, summary, data, ts)
      select x.device_id, x.kind, x.summary, x.data, x.ts from ${x} order by x.n`,
  });
}

describe('jsonRecordset', () => {
  it('refuses a column name that is not a plain SQL name', () => {
    expect(() => jsonRecordset({ 'id; drop table devices': 'text' }, [])).toThrow(/not a plain column name/);
  });

  it('counts only data and integrity errors as the rows own', () => {
    expect(isRowError(Object.assign(new Error('fk'), { code: '23503' }))).toBe(true);
    expect(isRowError(Object.assign(new Error('nul'), { code: '22P05' }))).toBe(true);
    expect(isRowError(Object.assign(new Error('no table'), { code: '42P01' }))).toBe(false);
    expect(isRowError(new Error('connection terminated'))).toBe(false);
  });
});

forEachDatabase('JSON bulk writer', (getDb) => {
  let ids: string[] = [];
  beforeEach(async () => {
    await truncateAll(getDb());
    ids = await insertDevices(getDb(), 3);
  });
  const stored = () =>
    getDb()
      .select({ deviceId: timeline.deviceId, summary: timeline.summary, data: timeline.data, ts: timeline.ts })
      .from(timeline)
      .orderBy(asc(timeline.id));

  it('writes rows in chunks of chunkSize, in the order given, with their values exact', async () => {
    const statements = { n: 0 };
    const rows: Entry[] = Array.from({ length: 1234 }, (_, i) => ({
      deviceId: ids[i % 3]!,
      summary: `row ${i}`,
      data: { i, text: 'Café "q" \\ ☕', list: [1.5, null, true] },
      // Out of order on purpose: only the order given may decide the ids.
      ts: new Date(T0 + ((i * 7919) % 1234)),
    }));
    await timelineWriter(getDb(), 500, statements).writeAll(rows);
    expect(statements.n).toBe(3);
    expect(await stored()).toEqual(rows.map((r) => ({ deviceId: r.deviceId, summary: r.summary, data: r.data, ts: r.ts })));
  });

  it('drops alone a row of a deleted device and a row the column refuses, writing the rest in order', async () => {
    const statements = { n: 0 };
    const entry = (deviceId: string, summary: string): Entry => ({ deviceId, summary, data: {}, ts: new Date(T0) });
    const rows = [
      entry(ids[0]!, 'a'),
      entry('dev_gone', 'orphan'),
      entry(ids[1]!, 'b'),
      entry(ids[2]!, 'nul \u0000 byte'),
      entry(ids[2]!, 'c'),
      entry(ids[0]!, 'd'),
    ];
    const outcome = await timelineWriter(getDb(), 4, statements).writeBehind(rows);
    expect(outcome.retry).toEqual([]);
    expect(outcome.dropped.map((d) => [d.row.summary, d.reason])).toEqual([
      ['orphan', 'refused'],
      ['nul \u0000 byte', 'refused'],
    ]);
    expect(isRowError(outcome.error)).toBe(true);
    expect((await stored()).map((r) => r.summary)).toEqual(['a', 'b', 'c', 'd']);
    // The first chunk failed and was halved down to its bad rows (1 + 2 + 4), the second was whole (1).
    expect(statements.n).toBe(8);
  });

  it('hands every row back to retry when the failure is not the rows own', async () => {
    const broken = createJsonBulkWriter({
      db: getDb(),
      columns: { device_id: 'text' },
      chunkSize: 2,
      toRecord: (id: string) => ({ device_id: id }),
      // Stands for a database that cannot run the statement at all (42P01, undefined table).
      statement: (x) =>
        sql`insert into ${timeline} (device_id, kind, summary) select x.device_id, 'event', 'never' from ${x} cross join no_such_table`,
    });
    const outcome = await broken.writeBehind([ids[0]!, ids[1]!, ids[2]!]);
    expect(outcome.retry).toEqual([ids[0], ids[1], ids[2]]);
    expect(outcome.dropped).toEqual([]);
    expect(isRowError(outcome.error)).toBe(false);
    expect(await stored()).toEqual([]);
  });

  it('writeAll throws at the first failing chunk and keeps the chunks before it', async () => {
    const statements = { n: 0 };
    const rows: Entry[] = [ids[0]!, ids[1]!, 'dev_gone', ids[2]!].map((deviceId, i) => ({
      deviceId,
      summary: `r${i}`,
      data: {},
      ts: new Date(T0),
    }));
    await expect(timelineWriter(getDb(), 2, statements).writeAll(rows)).rejects.toSatisfy(isRowError);
    expect((await stored()).map((r) => r.summary)).toEqual(['r0', 'r1']);
  });
});
