// The test server starter itself: a database kind that cannot be had is an error, never a
// silent PGlite; a restart keeps every port, the data and the database and applies new settings;
// capture keeps the log lines and the answers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databaseKinds } from './databases.ts';
import { registerAndEnroll } from './devices.ts';
import { startTestServer, type TestServer } from './testServer.ts';

describe('startTestServer', () => {
  it('refuses database "postgres" without DATABASE_URL instead of falling back to PGlite', async () => {
    const saved = process.env.DATABASE_URL;
    delete process.env.DATABASE_URL;
    try {
      await expect(startTestServer({ database: 'postgres' })).rejects.toThrow(/DATABASE_URL is not set/);
    } finally {
      if (saved !== undefined) process.env.DATABASE_URL = saved;
    }
  });

  for (const database of databaseKinds()) {
    describe(`restart [${database}]`, () => {
      let t: TestServer;
      beforeAll(async () => {
        t = await startTestServer({ database, capture: true, env: { MQTT_WS_PORT: '0' } });
      });
      afterAll(() => t?.stop());

      it('runs on the engine asked for', () => {
        expect(t.started.databaseKind).toBe(database);
      });

      it('comes back on the same ports, data dir and database, with the new settings', async () => {
        const before = { ...t.started };
        const device = await registerAndEnroll(t);
        expect(t.config.COMMAND_DEFAULT_TTL_S).toBe(604_800);
        await t.restart({ COMMAND_DEFAULT_TTL_S: '60' });
        expect([t.started.httpPort, t.started.mqttPort, t.started.wsPort]).toEqual([before.httpPort, before.mqttPort, before.wsPort]);
        expect(t.started.wsPort).toBeGreaterThan(0);
        expect(t.config.COMMAND_DEFAULT_TTL_S).toBe(60);
        expect(t.started.databaseKind).toBe(database);
        const found = await t.api<{ serial: string; status: string }>('GET', `/v1/devices/${device.deviceId}`);
        expect([found.status, found.body.serial, found.body.status]).toEqual([200, device.serial, 'enrolled']);
      });

      it('captures every log line and every answer the client read', async () => {
        const answer = await t.api('GET', '/v1/me');
        expect(t.responses.at(-1)).toBe(answer.text);
        expect(t.logLines.length).toBeGreaterThan(0);
        expect(t.logLines.every((line) => typeof JSON.parse(line).level === 'number')).toBe(true);
      });
    });
  }
});
