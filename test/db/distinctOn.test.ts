// DISTINCT ON keeps the first row of each group in ORDER BY order, on both engines: the latest
// sample per device, and the first sample per time bucket as the health-history route downsamples
// (server/telemetry/historyRoutes.ts, bucket bounds as literals).
import { asc, desc, sql } from 'drizzle-orm';
import { beforeAll, expect, it } from 'vitest';
import { healthHistory } from '../../schemas/db.ts';
import { forEachDatabase } from '../helpers/databases.ts';
import { onlyDevices } from './fixtures.ts';

const T0 = Date.parse('2026-03-01T10:00:00.000Z');

forEachDatabase('DISTINCT ON', (getDb) => {
  let ids: string[] = [];

  beforeAll(async () => {
    ids = await onlyDevices(getDb(), 3);
    // Device i has samples at T0 + k*10 s for k < 4 + i; `seq` says which one it is.
    const samples = ids.flatMap((deviceId, i) =>
      Array.from({ length: 4 + i }, (_, k) => ({ deviceId, ts: new Date(T0 + k * 10_000), sample: { ts: T0 + k * 10_000, seq: i * 100 + k } })),
    );
    await getDb().insert(healthHistory).values(samples);
  });

  it('gives the latest sample of each device', async () => {
    const latest = await getDb()
      .selectDistinctOn([healthHistory.deviceId], { deviceId: healthHistory.deviceId, ts: healthHistory.ts, sample: healthHistory.sample })
      .from(healthHistory)
      .orderBy(healthHistory.deviceId, desc(healthHistory.ts));
    expect(latest).toEqual(ids.map((deviceId, i) => ({ deviceId, ts: new Date(T0 + (3 + i) * 10_000), sample: { ts: T0 + (3 + i) * 10_000, seq: i * 100 + 3 + i } })));
  });

  it('gives the first sample of each 25 s bucket of one device, in time order', async () => {
    const bucketMs = 25_000;
    const bucket = sql`floor((extract(epoch from ${healthHistory.ts}) * 1000 - ${sql.raw(String(T0))}) / ${sql.raw(String(bucketMs))})`;
    const points = await getDb()
      .selectDistinctOn([bucket], { ts: healthHistory.ts, sample: healthHistory.sample })
      .from(healthHistory)
      .where(sql`${healthHistory.deviceId} = ${ids[2]}`)
      .orderBy(bucket, asc(healthHistory.ts));
    // Samples at 0,10,20 | 30,40 | 50 s: buckets [0,25) [25,50) [50,75).
    expect(points.map((p) => p.sample.seq)).toEqual([200, 203, 205]);
  });
});
