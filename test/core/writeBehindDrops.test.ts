// A row that can never be written (JSON.stringify throws on it, or the database refuses it alone:
// SQLSTATE class 22) is dropped with a log line naming its buffer and key and a count, and the
// rest of its batch is written; a database that is away still keeps the whole batch for retry.
import { asc, sql } from 'drizzle-orm';
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { devices, deviceState, healthHistory, timeline } from '../../schemas/db.ts';
import { campaignDevices } from '../../schemas/tables/campaigns.ts';
import { newMember } from '../../server/campaigns/campaignLoader.ts';
import { createCampaignMetrics } from '../../server/campaigns/campaignMetrics.ts';
import { createCampaignStore } from '../../server/campaigns/campaignStore.ts';
import { createMemberRecords } from '../../server/campaigns/memberRecords.ts';
import { openDatabase, type Database, type Db } from '../../server/db/database.ts';
import { createTimelineWriter, type TimelineEntry } from '../../server/devices/timelineWriter.ts';
import { createEventBus } from '../../server/events/eventBus.ts';
import { createLogger } from '../../server/log.ts';
import { createMetrics, type Metrics } from '../../server/metrics.ts';
import { createLiveState } from '../../server/telemetry/liveState.ts';
import { createStateWriter } from '../../server/telemetry/stateWriter.ts';
import { createScratchPostgres, forEachDatabase, requiredDatabaseUrl, truncateAll, type ScratchDatabase } from '../helpers/databases.ts';

const ids = ['dev_a', 'dev_b', 'dev_c'];
// A secret-looking value in the refused row: it must reach no log line.
const SECRET = 'pin-4711-not-for-logs';

function capturedLog() {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger('info', { write: (line: string) => void lines.push(JSON.parse(line)) });
  const text = () => lines.map((l) => JSON.stringify(l)).join('\n');
  return { log, lines, text };
}

async function droppedCounts(metrics: Metrics): Promise<Record<string, number>> {
  const { values } = await metrics.writeBehindDropped.get();
  return Object.fromEntries(values.map((v) => [`${v.labels.buffer}/${v.labels.reason}`, v.value]));
}

async function timelineStatements(metrics: Metrics): Promise<number> {
  const { values } = await metrics.dbFlushSeconds.get();
  return values.find((v) => v.metricName === 'posfleet_db_flush_seconds_count' && v.labels.table === 'timeline')?.value ?? 0;
}

/** Values JSON.stringify throws on: a BigInt, a cycle, nesting deeper than the stack. */
function unserialisable(): Record<string, unknown>[] {
  const cycle: Record<string, unknown> = {};
  cycle.self = cycle;
  let deep: Record<string, unknown> = {};
  for (let i = 0; i < 30_000; i++) deep = { d: deep };
  return [{ amount: 10n }, cycle, deep];
}

const summaries = (db: Db) =>
  db
    .select({ summary: timeline.summary })
    .from(timeline)
    .orderBy(asc(timeline.id))
    .then((rows) => rows.map((r) => r.summary));

forEachDatabase('write-behind drops', (getDb) => {
  beforeEach(async () => {
    await truncateAll(getDb());
    await getDb()
      .insert(devices)
      .values(ids.map((id) => ({ id, serial: id, model: 'M' })));
  });

  it('drops the timeline rows JSON cannot hold and the one the database refuses, and writes every other in order', async () => {
    const { log, lines, text } = capturedLog();
    const metrics = createMetrics();
    const writer = createTimelineWriter({ db: getDb(), log, metrics });
    // 700 rows: the refused one in the first chunk of 500, the unserialisable ones in both chunks.
    const bad = unserialisable();
    const entries: TimelineEntry[] = Array.from({ length: 700 }, (_, i) => ({ deviceId: ids[i % 3]!, kind: 'event', summary: `ok ${i}` }));
    entries.splice(650, 0, { deviceId: ids[2]!, kind: 'fault', summary: 'deep', data: bad[2] });
    entries.splice(300, 0, { deviceId: ids[1]!, kind: 'logs', summary: `${SECRET} \u0000` });
    entries.splice(100, 0, { deviceId: ids[0]!, kind: 'event', summary: 'bigint', data: bad[0] });
    entries.splice(5, 0, { deviceId: ids[1]!, kind: 'command', summary: 'cycle', data: bad[1] });
    for (const e of entries) writer.add(e);

    await writer.flush();
    expect(await summaries(getDb())).toEqual(Array.from({ length: 700 }, (_, i) => `ok ${i}`));
    expect(writer.pending()).toBe(0);
    expect(await droppedCounts(metrics)).toEqual({ 'timeline/unserialisable': 3, 'timeline/refused': 1 });
    // The refused row was found by halving its chunk, not by writing its 500 rows one by one:
    // the failed chunk, two halves at each of 9 levels, and the second chunk.
    expect(await timelineStatements(metrics)).toBeLessThanOrEqual(20);

    const drops = lines.filter((l) => l.msg === 'write-behind row dropped: it can never be written');
    expect(drops.map((l) => [l.level, l.buffer, l.key, l.reason])).toEqual([
      // Chunk by chunk, in the order met.
      [50, 'timeline', `${ids[1]} command`, 'unserialisable'],
      [50, 'timeline', `${ids[0]} event`, 'unserialisable'],
      [50, 'timeline', `${ids[1]} logs`, 'refused'],
      [50, 'timeline', `${ids[2]} fault`, 'unserialisable'],
    ]);
    expect(text()).not.toContain(SECRET);

    // Nothing is left to retry: another flush writes nothing more.
    const before = await timelineStatements(metrics);
    await writer.flush();
    expect(await timelineStatements(metrics)).toBe(before);
    expect(await summaries(getDb())).toHaveLength(700);
  });

  it('the state writer names the buffer of a dropped row, not a deleted device', async () => {
    const { log, lines } = capturedLog();
    const metrics = createMetrics();
    const live = createLiveState({ historyIntervalMs: 300_000 });
    const writer = createStateWriter({ db: getDb(), live, log, metrics, isKnown: () => true });
    for (const id of ids) live.connected(id, 1000);
    live.state(ids[1]!, { online: true, fwVersion: `1.0 ${SECRET} \u0000` }, 1000);
    live.state(ids[2]!, { online: true, fwVersion: '2.0' }, 1000);
    // A sample object with a field the schema does not name, as any structural HealthSample may carry.
    const withBigInt = { ts: 2000, seq: 2, uptimeS: 5, counter: 1n };
    writer.keepHistory(ids[0]!, { ts: 1000, seq: 1, uptimeS: 4 });
    writer.keepHistory(ids[0]!, withBigInt);
    writer.keepHistory(ids[2]!, { ts: 3000, seq: 3, uptimeS: 6 });

    await writer.flush();
    const states = await getDb()
      .select({ id: deviceState.deviceId, fw: deviceState.fwVersion })
      .from(deviceState)
      .orderBy(asc(deviceState.deviceId));
    expect(states).toEqual([
      { id: ids[0], fw: null },
      { id: ids[2], fw: '2.0' },
    ]);
    const history = await getDb()
      .select({ id: healthHistory.deviceId, ts: healthHistory.ts })
      .from(healthHistory)
      .orderBy(asc(healthHistory.ts));
    expect(history.map((h) => [h.id, h.ts.getTime()])).toEqual([
      [ids[0], 1000],
      [ids[2], 3000],
    ]);
    expect(await droppedCounts(metrics)).toEqual({ 'device_state/refused': 1, 'health_history/unserialisable': 1 });
    const drops = lines.filter((l) => l.msg === 'write-behind row dropped: it can never be written');
    expect(drops.map((l) => [l.buffer, l.key, l.reason])).toEqual([
      ['device_state', ids[1], 'refused'],
      ['health_history', `${ids[0]} 1970-01-01T00:00:02.000Z`, 'unserialisable'],
    ]);
    expect(lines.some((l) => String(l.msg).includes('no longer stored'))).toBe(false);
    expect(JSON.stringify(lines)).not.toContain(SECRET);
  });

  it('campaign member records: one refused and one JSON cannot hold are dropped, the others written', async () => {
    const { log, lines } = capturedLog();
    const metrics = createMetrics();
    const store = createCampaignStore(getDb());
    await getDb().execute(
      sql`insert into campaigns (id, kind, lane, name, params, spec, seed) values ('cmp_1', 'ota', 'firmware', 'c', '{}'::jsonb, '{}'::jsonb, 's')`,
    );
    await store.insertDevices(ids.map((deviceId, i) => ({ campaignId: 'cmp_1', deviceId, lane: 'firmware', phase: 0, rank: i })));
    const member = (deviceId: string) => newMember({ campaignId: 'cmp_1', deviceId, phase: 0, rank: 0, note: null });
    const records = createMemberRecords({
      store,
      bus: createEventBus(),
      log,
      metrics: createCampaignMetrics(metrics.registry, () => []),
      drops: metrics,
    });
    const errorWithBigInt = { code: 'install_failed', message: 'x', at: 1n };
    records.patchEnded('ota', member(ids[0]!), { state: 'failed', note: `${SECRET} \u0000` });
    records.patchEnded('ota', member(ids[1]!), { state: 'failed', error: errorWithBigInt });
    records.patchEnded('ota', member(ids[2]!), { state: 'succeeded', note: 'done' });
    await records.flush();

    const rows = await getDb()
      .select({ id: campaignDevices.deviceId, state: campaignDevices.state, note: campaignDevices.note })
      .from(campaignDevices)
      .orderBy(asc(campaignDevices.deviceId));
    expect(rows).toEqual([
      { id: ids[0], state: 'pending', note: null },
      { id: ids[1], state: 'pending', note: null },
      { id: ids[2], state: 'succeeded', note: 'done' },
    ]);
    expect(await droppedCounts(metrics)).toEqual({ 'campaign_devices/refused': 1, 'campaign_devices/unserialisable': 1 });
    expect(lines.filter((l) => l.msg === 'write-behind row dropped: it can never be written').map((l) => l.key)).toEqual([
      `cmp_1 ${ids[1]}`,
      `cmp_1 ${ids[0]}`,
    ]);
    expect(lines.some((l) => l.msg === 'writing campaign device records failed; will retry')).toBe(false);
    expect(JSON.stringify(lines)).not.toContain(SECRET);
  });
});

// A database that cannot be reached is the database's failure, not the rows': the whole batch
// waits, and once the database is back it is written with only the unwritable rows left out.
describe('write-behind with the database away [postgres]', () => {
  let scratch: ScratchDatabase;
  let database: Database;
  let admin: pg.Client;
  let name: string;
  beforeAll(async () => {
    scratch = await createScratchPostgres(requiredDatabaseUrl());
    name = new URL(scratch.url).pathname.slice(1);
    database = await openDatabase({ url: scratch.url });
    admin = new pg.Client({ connectionString: requiredDatabaseUrl() });
    await admin.connect();
    await database.db.insert(devices).values(ids.map((id) => ({ id, serial: id, model: 'M' })));
  });
  afterAll(async () => {
    await admin.query(`alter database ${name} allow_connections true`);
    await admin.end();
    await database.close();
    await scratch.drop();
  });

  it('keeps every writable row while connections are refused and writes them once it is back', async () => {
    const { log, lines } = capturedLog();
    const metrics = createMetrics();
    const writer = createTimelineWriter({ db: database.db, log, metrics });
    writer.add({ deviceId: ids[0]!, kind: 'event', summary: 'one' });
    writer.add({ deviceId: ids[1]!, kind: 'event', summary: 'bigint', data: { n: 1n } });
    writer.add({ deviceId: ids[1]!, kind: 'event', summary: 'two' });
    writer.add({ deviceId: ids[2]!, kind: 'event', summary: 'nul \u0000' });
    writer.add({ deviceId: ids[2]!, kind: 'event', summary: 'three' });

    // Every connection of the pool ended, and no new one let in (SQLSTATE 57P01, then 55000).
    await admin.query(`alter database ${name} allow_connections false`);
    await admin.query('select pg_terminate_backend(pid) from pg_stat_activity where datname = $1', [name]);
    await writer.flush();
    await writer.flush();
    // Only the row JSON cannot hold is gone: the database never saw the NUL row, so it waits too.
    expect(writer.pending()).toBe(4);
    expect(lines.filter((l) => l.msg === 'writing the timeline failed; will retry')).toHaveLength(2);
    expect(await droppedCounts(metrics)).toEqual({ 'timeline/unserialisable': 1 });

    await admin.query(`alter database ${name} allow_connections true`);
    await writer.flush();
    expect(writer.pending()).toBe(0);
    expect(await summaries(database.db)).toEqual(['one', 'two', 'three']);
    expect(await droppedCounts(metrics)).toEqual({ 'timeline/unserialisable': 1, 'timeline/refused': 1 });
  });
});
