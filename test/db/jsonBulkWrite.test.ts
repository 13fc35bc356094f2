// What the one JSON bulk writer (server/core/jsonBulkWrite.ts) relies on the engines for: a
// chunk's rows in one JSON parameter, unpacked by jsonb_to_recordset. On both engines: thousands of
// rows from one parameter, row order kept by ordinality, jsonb values, text and timestamps back
// exactly as sent, an upsert from the record set, and one bad row failing its whole statement with
// the SQLSTATE that tells the writer it was the row (class 22/23). The writer's own chunking and
// retries are tested in test/core/jsonBulkWriter.test.ts.
import { asc, eq, sql } from 'drizzle-orm';
import { beforeEach, expect, it } from 'vitest';
import { deviceState, timeline } from '../../schemas/db.ts';
import { isRowError, jsonRecordset, type RecordOf } from '../../server/core/jsonBulkWrite.ts';
import { sqlState } from '../../server/core/sqlState.ts';
import type { Db } from '../../server/db/database.ts';
import { forEachDatabase } from '../helpers/databases.ts';
import { onlyDevices, rejection } from './fixtures.ts';

const timelineColumns = { device_id: 'text', kind: 'text', summary: 'text', data: 'jsonb', ts: 'timestamptz' } as const;
type TimelineJson = RecordOf<typeof timelineColumns>;

// The statement of server/devices/timelineWriter.ts: one parameter, rows in the order given.
const insertTimeline = (db: Db, rows: TimelineJson[]) =>
  db.execute(sql`
    insert into ${timeline} (device_id, kind, summary, data, ts)
    select x.device_id, x.kind, x.summary, x.data, x.ts from ${jsonRecordset(timelineColumns, rows, { ordered: true })}
    order by x.n`);

const T0 = Date.parse('2026-02-01T12:00:00.123Z');

forEachDatabase('JSON bulk writes', (getDb) => {
  let ids: string[] = [];
  beforeEach(async () => {
    ids = await onlyDevices(getDb(), 3);
  });

  it('writes 2,000 rows from one parameter, ids in the order given', async () => {
    const rows = Array.from({ length: 2000 }, (_, i) => ({
      device_id: ids[i % 3]!,
      kind: 'log',
      summary: `row ${i}`,
      data: { i },
      // Times out of order on purpose: only ordinality may decide the ids.
      ts: new Date(T0 + ((i * 37) % 2000)).toISOString(),
    }));
    await insertTimeline(getDb(), rows);
    const back = await getDb().select({ summary: timeline.summary, data: timeline.data, ts: timeline.ts }).from(timeline).orderBy(asc(timeline.id));
    expect(back).toEqual(rows.map((r) => ({ summary: r.summary, data: r.data, ts: new Date(r.ts) })));
  });

  it('keeps jsonb values, text and millisecond timestamps exactly', async () => {
    const data = { nested: { list: [1, 2.5, -0.001, null, true], empty: {} }, text: 'Café ☕ 𝄞 "quoted" \\ back\nslash', big: 9007199254740991 };
    await insertTimeline(getDb(), [{ device_id: ids[0]!, kind: 'event', summary: 'Zürich — 東京', data, ts: new Date(T0).toISOString() }]);
    const [row] = await getDb().select().from(timeline);
    expect(row).toMatchObject({ deviceId: ids[0], kind: 'event', summary: 'Zürich — 東京', data, ts: new Date(T0) });
  });

  it('upserts from the record set, nulls included', async () => {
    // The statement shape of server/telemetry/stateWriter.ts, reduced to the columns read here.
    const columns = { device_id: 'text', online: 'boolean', fw_version: 'text', last_seen_at: 'timestamptz', health: 'jsonb' } as const;
    const upsert = (rows: RecordOf<typeof columns>[]) =>
      getDb().execute(sql`
        insert into ${deviceState} (device_id, online, fw_version, last_seen_at, health, updated_at)
        select x.device_id, x.online, x.fw_version, x.last_seen_at, x.health, now() from ${jsonRecordset(columns, rows)}
        on conflict (device_id) do update set online = excluded.online, fw_version = excluded.fw_version, last_seen_at = excluded.last_seen_at, health = excluded.health`);
    await upsert(ids.map((id) => ({ device_id: id, online: true, fw_version: '1.0.0', last_seen_at: new Date(T0).toISOString(), health: { battery: 50 } })));
    await upsert([{ device_id: ids[1]!, online: false, fw_version: null, last_seen_at: null, health: null }]);
    const rows = await getDb().select().from(deviceState).orderBy(asc(deviceState.deviceId));
    expect(rows.map((r) => [r.deviceId, r.online, r.fwVersion, r.lastSeenAt, r.health])).toEqual([
      [ids[0], true, '1.0.0', new Date(T0), { battery: 50 }],
      [ids[1], false, null, null, null],
      [ids[2], true, '1.0.0', new Date(T0), { battery: 50 }],
    ]);
  });

  it('one row of a deleted device fails its chunk with 23503, a row error, and writes none of it', async () => {
    const good = { device_id: ids[0]!, kind: 'log', summary: 'kept?', data: {}, ts: new Date(T0).toISOString() };
    const err = await rejection(() => insertTimeline(getDb(), [good, { ...good, device_id: 'dev_gone' }]));
    expect(sqlState(err)).toBe('23503');
    expect(isRowError(err)).toBe(true);
    expect(await getDb().select().from(timeline)).toEqual([]);
    await insertTimeline(getDb(), [good]);
    expect(await getDb().select({ summary: timeline.summary }).from(timeline).where(eq(timeline.deviceId, ids[0]!))).toEqual([{ summary: 'kept?' }]);
  });

  it('a \\u0000 in any string of the chunk fails it with 22P05, a row error', async () => {
    const row = { device_id: ids[0]!, kind: 'log', summary: 'ok', data: {}, ts: new Date(T0).toISOString() };
    const err = await rejection(() => insertTimeline(getDb(), [row, { ...row, summary: 'nul \u0000 here' }]));
    expect(sqlState(err)).toBe('22P05');
    expect(isRowError(err)).toBe(true);
    expect(sqlState(await rejection(() => insertTimeline(getDb(), [{ ...row, data: { text: '\u0000' } }])))).toBe('22P05');
    expect(await getDb().select().from(timeline)).toEqual([]);
  });

  it('a missing table is 42P01, which the writer does not blame on the rows', async () => {
    const err = await rejection(() => getDb().execute(sql`insert into no_such_table select * from ${jsonRecordset({ a: 'int' }, [{ a: 1 }])}`));
    expect(sqlState(err)).toBe('42P01');
    expect(isRowError(err)).toBe(false);
  });
});
