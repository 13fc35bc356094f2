// GET /v1/devices/{id}/health-history (the dashboard's chart data): range, order, thinning to
// maxPoints on the database, validation, roles.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseKinds } from '../helpers/databases.ts';
import { connectDevice, publish, registerAndEnroll } from '../helpers/devices.ts';
import { eventually } from '../helpers/eventually.ts';
import { startTestServer, type TestServer } from '../helpers/testServer.ts';
import { topicFor } from '../../schemas/wire.ts';
import { seedHealthHistory } from './helpers.ts';

interface History {
  deviceId: string;
  from: string;
  to: string;
  bucketMs: number | null;
  points: {
    ts: string;
    battery: number | null;
    charging: boolean | null;
    temperatureC: number | null;
    rssi: number | null;
    storageFreePct: number | null;
  }[];
}

for (const database of databaseKinds()) {
  describe(`health history API [${database}]`, () => {
    let t: TestServer;
    let deviceId = '';

    beforeAll(async () => {
      t = await startTestServer({ database });
      deviceId = (await registerAndEnroll(t)).deviceId;
      await seedHealthHistory(t, deviceId, 48); // 576 samples, one per 5 minutes
    });
    afterAll(async () => t?.stop());

    it('returns the last 24 hours by default, oldest first, as chart numbers', async () => {
      const res = await t.api<History>('GET', `/v1/devices/${deviceId}/health-history`);
      expect(res.status).toBe(200);
      expect(res.body.bucketMs).toBeNull();
      expect(res.body.points.length).toBeGreaterThanOrEqual(287);
      expect(res.body.points.length).toBeLessThanOrEqual(289);
      const ts = res.body.points.map((p) => Date.parse(p.ts));
      expect(ts).toEqual([...ts].sort((a, b) => a - b));
      expect(Date.parse(res.body.to) - Date.parse(res.body.from)).toBe(24 * 3600_000);
      const p = res.body.points[0]!;
      expect(typeof p.battery).toBe('number');
      expect(typeof p.temperatureC).toBe('number');
      expect(typeof p.rssi).toBe('number');
      expect(p.storageFreePct).toBeGreaterThan(0);
    });

    it('thins a long range to at most maxPoints on the database', async () => {
      const to = new Date();
      const from = new Date(to.getTime() - 48 * 3600_000);
      const res = await t.api<History>(
        'GET',
        `/v1/devices/${deviceId}/health-history?from=${from.toISOString()}&to=${to.toISOString()}&maxPoints=50`,
      );
      expect(res.status).toBe(200);
      expect(res.body.bucketMs).toBe(Math.ceil((48 * 3600_000) / 50));
      expect(res.body.points.length).toBeLessThanOrEqual(50);
      expect(res.body.points.length).toBeGreaterThanOrEqual(45);
      const ts = res.body.points.map((p) => Date.parse(p.ts));
      expect(ts).toEqual([...ts].sort((a, b) => a - b));
      expect(new Set(ts).size).toBe(ts.length);
    });

    it('keeps samples a terminal sends (one per history interval)', async () => {
      const d = await registerAndEnroll(t);
      const c = await connectDevice(d);
      await publish(c, topicFor(d.deviceId, 'health'), {
        ts: Date.now(),
        seq: 1,
        battery: { level: 55, charging: true },
        signal: { type: 'wifi', rssi: -48 },
      });
      const res = await eventually(async () => {
        const r = await t.api<History>('GET', `/v1/devices/${d.deviceId}/health-history`);
        return r.body.points.length ? r : null;
      });
      expect(res.body.points[0]).toMatchObject({ battery: 55, charging: true, rssi: -48, temperatureC: null });
      c.end(true);
    });

    it('refuses bad ranges, unknown devices and callers without a token', async () => {
      const now = new Date().toISOString();
      const backwards = await t.api<{ error: { code: string } }>(
        'GET',
        `/v1/devices/${deviceId}/health-history?from=${now}&to=2020-01-01T00:00:00Z`,
      );
      expect(backwards.status).toBe(400);
      const tooLong = await t.api('GET', `/v1/devices/${deviceId}/health-history?from=2020-01-01T00:00:00Z&to=${now}`);
      expect(tooLong.status).toBe(400);
      const notDate = await t.api('GET', `/v1/devices/${deviceId}/health-history?from=yesterday`);
      expect(notDate.status).toBe(400);
      expect((await t.api('GET', '/v1/devices/dev_missing/health-history')).status).toBe(404);
      expect((await t.api('GET', `/v1/devices/${deviceId}/health-history`, undefined, { token: null })).status).toBe(401);
    });
  });
}
