// A campaign that reports a final state has every effect readable (issue #11, item 9), on every
// database engine: the next key rotation, started the instant the first says `succeeded`, finds
// the TMK installed and sends no second one; and while a rollout rolls back after tripping its
// error threshold, each phase's counts cover every member at every moment.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CampaignRow } from '../../schemas/tables/campaigns.ts';
import type { KeyRow } from '../../schemas/tables/keys.ts';
import type { FleetHandle } from '../../scripts/simulate/fleet.ts';
import { databaseKinds } from '../helpers/databases.ts';
import { registerAndEnroll } from '../helpers/devices.ts';
import { eventually } from '../helpers/eventually.ts';
import type { TestServer } from '../helpers/testServer.ts';
import { publishFirmware, rollout, startOtaFleet, startOtaServer, type RolloutView } from './otaHarness.ts';

/** GET /v1/key-rotations/{id}. */
type RotationView = Pick<CampaignRow, 'id' | 'state'>;
/** GET /v1/devices/{id}/keys?history=true. */
interface KeyInventory {
  slots: Array<Pick<KeyRow, 'slot' | 'usage'>>;
  history: Array<Pick<KeyRow, 'id' | 'usage' | 'state'>>;
}

const KEY_DEVICES = 10;
const PHASE_SIZE = 5;

for (const database of databaseKinds()) {
  describe(`a finished campaign is readable [${database}]`, () => {
    let t: TestServer;
    let keyFleet: FleetHandle;
    let otaFleet: FleetHandle;

    beforeAll(async () => {
      t = await startOtaServer({ database });
      // The OTA harness' fleet: the same real agents, which install keys as well.
      keyFleet = await startOtaFleet(t, KEY_DEVICES, {}, `FK${database}`);
      await eventually(() => keyFleet.agents.every((a) => a.status === 'connected'), {
        timeoutMs: 30_000,
        what: 'the key fleet to connect',
      });
    }, 180_000);
    afterAll(async () => {
      await keyFleet?.stop();
      await otaFleet?.stop();
      await t?.stop();
    });

    async function startRotation(usages: string[], deviceIds: string[]): Promise<string> {
      const created = await t.api<RotationView>('POST', '/v1/key-rotations', {
        name: `rotate ${usages.join('+')}`,
        usages,
        target: { deviceIds },
        phases: [{ name: 'all', percent: 100 }],
        successThreshold: 100,
        errorThreshold: 0,
      });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      const started = await t.api('POST', `/v1/key-rotations/${created.body.id}/start`);
      expect(started.status, JSON.stringify(started.body)).toBe(200);
      return created.body.id;
    }

    /** Polls as fast as the API answers: the first final state read is the moment that matters. */
    const finished = (id: string) =>
      eventually(
        async () => {
          const r = await t.api<RotationView>('GET', `/v1/key-rotations/${id}`);
          if (r.body.state !== 'running') return r.body;
          return undefined;
        },
        { timeoutMs: 60_000, stepMs: 5, what: `rotation ${id} to finish` },
      );

    it('a TPK rotation that says succeeded has its TMK installed, and the next rotation sends no second TMK', async () => {
      const ids = keyFleet.agents.map((a) => a.deviceId!);
      const first = await finished(await startRotation(['TPK'], ids));
      expect(first.state).toBe('succeeded');
      // The instant it says so: the keys it installed (the device's first TMK included) read installed.
      const inventories = await Promise.all(ids.map((id) => t.api<KeyInventory>('GET', `/v1/devices/${id}/keys?history=true`)));
      for (const inv of inventories) {
        expect(inv.body.slots.map((s) => s.usage).sort()).toEqual(['TMK', 'TPK']);
        expect(inv.body.history.filter((h) => h.state === 'pending')).toEqual([]);
      }
      const second = await finished(await startRotation(['TAK'], ids));
      expect(second.state).toBe('succeeded');
      for (const id of ids) {
        const inv = await t.api<KeyInventory>('GET', `/v1/devices/${id}/keys?history=true`);
        expect(inv.body.slots.map((s) => s.usage).sort()).toEqual(['TAK', 'TMK', 'TPK']);
        // One TMK ever: the TAK went under the TMK the first rotation installed.
        expect(inv.body.history.filter((h) => h.usage === 'TMK').map((h) => h.state)).toEqual(['installed']);
      }
    }, 180_000);

    it('a rotation cancelled while its terminals are away says cancelled only once their pending keys are released', async () => {
      // Enrolled but never connected: their installs wait in the command queue.
      const away = [await registerAndEnroll(t), await registerAndEnroll(t)].map((d) => d.deviceId);
      const id = await startRotation(['TPK'], away);
      await eventually(
        async () => {
          const inv = await Promise.all(away.map((d) => t.api<KeyInventory>('GET', `/v1/devices/${d}/keys?history=true`)));
          return inv.every((i) => i.body.history.some((h) => h.state === 'pending'));
        },
        { timeoutMs: 30_000, what: 'pending keys for both terminals' },
      );
      // Read as the cancel runs: the first `cancelled` any reader sees is the moment that matters.
      const cancelling = t.api<RotationView>('POST', `/v1/key-rotations/${id}/cancel`);
      expect((await finished(id)).state).toBe('cancelled');
      for (const d of away) {
        const inv = await t.api<KeyInventory>('GET', `/v1/devices/${d}/keys?history=true`);
        expect(inv.body.history.filter((h) => h.state === 'pending')).toEqual([]);
      }
      expect((await cancelling).body.state).toBe('cancelled');
    }, 120_000);

    it('while a rollout rolls back, its phase counts always sum to the phase size', async () => {
      await publishFirmware(t, '1.0.0');
      const fw2 = await publishFirmware(t, '2.0.0');
      // Two of five fail their self-test (rolled_back): 40 % > 30 % trips the rule at the second.
      otaFleet = await startOtaFleet(t, PHASE_SIZE, { 'ota-selftest': 0.4 });
      const created = await t.api<{ id: string }>('POST', '/v1/rollouts', {
        name: 'v2 with rollback',
        firmwareId: fw2,
        target: { deviceIds: otaFleet.agents.map((a) => a.deviceId!) },
        phases: [{ name: 'all', percent: 100 }],
        successThreshold: 100,
        errorThreshold: 30,
        onErrorThreshold: 'rollback',
        retries: 0,
      });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      const id = created.body.id;
      expect((await t.api('POST', `/v1/rollouts/${id}/start`)).status).toBe(200);
      const seen: RolloutView[] = [];
      const done = await eventually(
        async () => {
          const r = await rollout(t, id);
          seen.push(r);
          return r.state === 'failed' ? r : undefined;
        },
        { timeoutMs: 120_000, stepMs: 20, what: 'the rollback to finish' },
      );
      const reverting = seen.filter((r) => r.rollingBack && r.state !== 'failed' && r.reverting > 0);
      // The rollback was watched while reverts were open, not only before or after it.
      expect(reverting.length).toBeGreaterThan(0);
      for (const r of seen) {
        const [phase] = r.phases;
        const sum = Object.values(phase!.counts).reduce((a, b) => a + b, 0);
        expect({ devices: phase!.devices, sum }).toEqual({ devices: PHASE_SIZE, sum: PHASE_SIZE });
      }
      // Every member final: back on the old version (the two self-test failures at least), or its revert failed.
      const counts = done.phases[0]!.counts;
      for (const state of Object.keys(counts)) expect(['rolled_back', 'failed']).toContain(state);
      expect(counts.rolled_back).toBeGreaterThanOrEqual(2);
    }, 240_000);
  });
}
