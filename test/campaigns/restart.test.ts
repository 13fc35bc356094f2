// A server restart in the middle of a rollout loses nothing, and no terminal is sent the same
// update twice.
import { count, eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { commands } from '../../schemas/db.ts';
import { databaseKinds } from '../helpers/databases.ts';
import { devicesOf, rollout, rolloutUntil, useOtaRig } from './otaHarness.ts';

for (const database of databaseKinds()) {
  describe(`rollout across a server restart [${database}]`, () => {
    const rig = useOtaRig(40, { database, currentImage: false });

    it('continues where it was after a restart', async () => {
      const { t, fleet, fw2 } = rig;
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
      await rolloutUntil(t, id, (r) => (r.counts.succeeded ?? 0) >= 5, { timeoutMs: 60_000, what: 'some devices done' });
      const before = await rollout(t, id);
      expect(before.state).toBe('running');
      expect(before.counts.pending ?? 0).toBeGreaterThan(0);

      await t.restart();

      const end = await rolloutUntil(t, id);
      expect(end.state).toBe('succeeded');
      expect(end.counts).toEqual({ succeeded: 40 });
      const devs = await devicesOf(t, id);
      expect(devs.every((d) => d.attempt === 1 && d.reportedVersion === '2.0.0')).toBe(true);
      // One ota.install command per terminal, and each terminal acted on one.
      const counts = await t.server.parts.db
        .select({ n: count() })
        .from(commands)
        .where(eq(commands.type, 'ota.install'))
        .groupBy(commands.deviceId);
      expect(counts.length).toBe(40);
      expect(counts.every((r) => r.n === 1)).toBe(true);
      for (const a of fleet.agents) expect(a.agent!.stats().commands['ota.install']).toBe(1);
    }, 180_000);
  });
}
