// Every simulated OTA fault, one terminal each, in one rollout: what the server records for it.
import { beforeAll, describe, expect, it } from 'vitest';
import type { OtaFaults } from '../../agent/ota/simulatedOta.ts';
import { devicesOf, rolloutUntil, useOtaRig } from './otaHarness.ts';

const plan: (OtaFaults | 'offline' | null)[] = [
  { cutDownloadAt: 0.5 },
  { corruptImage: true },
  { tamperManifest: true },
  { powerLossDuringInstall: true },
  { selftestFail: true },
  'offline',
  { neverAnswer: true },
  { busyChecks: 2 },
  null,
  null,
];

describe('OTA faults, one terminal each', () => {
  const rig = useOtaRig(plan.length);
  beforeAll(() => {
    plan.forEach((f, i) => {
      if (f && f !== 'offline') rig.fleet.agents[i]!.hardware.ota.inject(f);
    });
  });

  it('records each outcome as SPEC §4 says', async () => {
    const { t, fleet, fw2 } = rig;
    const ids = fleet.agents.map((a) => a.deviceId!);
    const offline = fleet.agents[5]!.agent!;
    await offline.stop();
    const created = await t.api<{ id: string }>('POST', '/v1/rollouts', {
      name: 'faults',
      firmwareId: fw2,
      target: { deviceIds: ids },
      phases: [{ name: 'all', percent: 100 }],
      successThreshold: 50,
      errorThreshold: 100,
      deviceTimeoutS: 8,
      retries: 2,
    });
    const id = created.body.id;
    await t.api('POST', `/v1/rollouts/${id}/start`);
    // Offline when its turn came: the command waits for it.
    await new Promise((r) => setTimeout(r, 2500));
    const waiting = (await devicesOf(t, id)).find((d) => d.deviceId === ids[5])!;
    expect(waiting.state).toBe('sent');
    await offline.start();

    const end = await rolloutUntil(t, id);
    expect(end.state).toBe('succeeded');
    const devs = new Map((await devicesOf(t, id)).map((d) => [d.deviceId, d]));
    const at = (i: number) => devs.get(ids[i]!)!;
    expect(at(0)).toMatchObject({ state: 'succeeded', reportedVersion: '2.0.0' });
    expect(fleet.agents[0]!.hardware.ota.stats.resumedFrom.length).toBe(1);
    expect(at(1)).toMatchObject({ state: 'failed', attempt: 1, error: { code: 'hash_mismatch' } });
    expect(at(2)).toMatchObject({ state: 'failed', attempt: 1, error: { code: 'bad_signature' } });
    expect(at(3)).toMatchObject({ state: 'succeeded', attempt: 2, reportedVersion: '2.0.0' });
    expect(at(4)).toMatchObject({ state: 'rolled_back', reportedVersion: '1.0.0', error: { code: 'selftest_failed' } });
    expect(at(5)).toMatchObject({ state: 'succeeded', reportedVersion: '2.0.0' });
    expect(at(6)).toMatchObject({ state: 'timed_out' });
    expect(at(7)).toMatchObject({ state: 'succeeded', reportedVersion: '2.0.0' });
    expect(at(7).attempt).toBeGreaterThan(1);
    expect(at(8)).toMatchObject({ state: 'succeeded' });

    // The terminal that rolled back reports its real version and can be targeted again.
    const dev = await t.api<{ reportedFwVersion: string }>('GET', `/v1/devices/${ids[4]}`);
    expect(dev.body.reportedFwVersion).toBe('1.0.0');
    const again = await t.api('POST', '/v1/rollouts', {
      name: 'retry one',
      firmwareId: fw2,
      target: { deviceIds: [ids[4]] },
      phases: [{ name: 'all', percent: 100 }],
      successThreshold: 100,
      errorThreshold: 0,
    });
    expect(again.status).toBe(201);
  }, 150_000);
});
