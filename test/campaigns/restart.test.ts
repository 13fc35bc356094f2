// A server restart in the middle of a rollout loses nothing, and no terminal is sent the same
// update twice.
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FleetHandle } from '../../scripts/simulate/fleet.ts';
import { databaseKinds } from '../helpers/databases.ts';
import { eventually } from '../helpers/eventually.ts';
import type { TestServer } from '../helpers/testServer.ts';
import { devicesOf, publishFirmware, rollout, startOtaFleet, startOtaServer } from './otaHarness.ts';

for (const database of databaseKinds()) {
  describe(`rollout across a server restart [${database}]`, () => {
    let t: TestServer;
    let fleet: FleetHandle;
    let fw2 = '';

    beforeAll(async () => {
      t = await startOtaServer({ database });
      fw2 = await publishFirmware(t, '2.0.0');
      fleet = await startOtaFleet(t, 40);
    }, 120_000);
    afterAll(async () => {
      await fleet?.stop();
      await t?.stop();
    });

    it('continues where it was after a restart', async () => {
      const created = await t.api<{ id: string }>('POST', '/v1/rollouts', {
        name: 'through a restart',
        firmwareId: fw2,
        target: { deviceIds: fleet.agents.map((a) => a.deviceId!) },
        phases: [
          { name: 'a', percent: 25 },
          { name: 'b', percent: 75 },
        ],
        successThreshold: 90,
        errorThreshold: 10,
        // Slow enough that the restart falls in the middle: 5 devices a second.
        rate: { maxPerMinute: 300 },
      });
      const id = created.body.id;
      await t.api('POST', `/v1/rollouts/${id}/start`);
      await eventually(async () => ((await rollout(t, id)).counts.succeeded ?? 0) >= 5 || undefined, { timeoutMs: 60_000, stepMs: 200, what: 'some devices done' });
      const before = await rollout(t, id);
      expect(before.state).toBe('running');
      expect(before.counts.pending ?? 0).toBeGreaterThan(0);

      await t.restart();

      const end = await eventually(
        async () => {
          const r = await rollout(t, id);
          return r.state === 'running' ? undefined : r;
        },
        { timeoutMs: 90_000, stepMs: 200, what: 'the rollout to end' },
      );
      expect(end.state).toBe('succeeded');
      expect(end.counts).toEqual({ succeeded: 40 });
      const devs = await devicesOf(t, id);
      expect(devs.every((d) => d.attempt === 1 && d.reportedVersion === '2.0.0')).toBe(true);
      // One ota.install command per terminal, and each terminal acted on one.
      const rows = await t.server.parts.db.execute<{ n: number }>(
        sql`select count(*)::int as n from commands where type = 'ota.install' group by device_id`,
      );
      const counts = (rows as unknown as { rows?: { n: number }[] }).rows ?? (rows as unknown as { n: number }[]);
      expect(counts.length).toBe(40);
      expect(counts.every((r) => r.n === 1)).toBe(true);
      for (const a of fleet.agents) expect(a.agent!.stats().commands['ota.install']).toBe(1);
    }, 180_000);
  });
}
