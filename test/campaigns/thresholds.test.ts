// SPEC §4 over 300 simulated terminals with 10 % injected self-test failures: the error rule
// stops the rollout exactly at the crossing answer; with onErrorThreshold=rollback the devices it
// updated go back to the old version.
import { describe, expect, it } from 'vitest';
import { eventually } from '../helpers/eventually.ts';
import { devicesOf, rollout, rolloutUntil, useOtaRig, type OtaRig, type RolloutView } from './otaHarness.ts';

const N = 300;
const PHASES = [
  { name: 'canary', percent: 10 },
  { name: 'early', percent: 30 },
  { name: 'rest', percent: 60 },
];
const ERROR_THRESHOLD = 4;

async function runToStop({ t, fleet, fw2 }: OtaRig, onErrorThreshold: 'pause' | 'rollback') {
  const created = await t.api<{ id: string }>('POST', '/v1/rollouts', {
    name: `v2 ${onErrorThreshold}`,
    firmwareId: fw2,
    target: { deviceIds: fleet.agents.map((a) => a.deviceId!) },
    phases: PHASES,
    successThreshold: 80,
    errorThreshold: ERROR_THRESHOLD,
    onErrorThreshold,
    retries: 1,
  });
  expect(created.status).toBe(201);
  const id = created.body.id;
  expect((await t.api('POST', `/v1/rollouts/${id}/start`)).status).toBe(200);
  const stopped = await rolloutUntil(t, id, undefined, { timeoutMs: 120_000, what: 'the rollout to stop' });
  return { id, stopped };
}

function expectExactTrip(r: RolloutView) {
  expect(r.pausedReason).toBe('error_threshold');
  const trip = r.tripped!;
  // Strictly over the threshold at the answer that stopped it, and not over it one error before.
  expect(trip.errors * 100).toBeGreaterThan(ERROR_THRESHOLD * trip.total);
  expect((trip.errors - 1) * 100).toBeLessThanOrEqual(ERROR_THRESHOLD * trip.total);
}

describe('error threshold over 300 terminals', () => {
  const rig = useOtaRig(N, { faults: { 'ota-selftest': 0.1 }, hookTimeoutMs: 180_000 });

  it('pauses by itself at the error threshold, sends nothing more, and phases not started stay untouched', async () => {
    const { t } = rig;
    const { id, stopped } = await runToStop(rig, 'pause');
    expect(stopped.state).toBe('paused');
    expectExactTrip(stopped);
    // Let in-flight devices finish: nothing new may be sent while paused.
    await eventually(
      async () =>
        (await devicesOf(t, id)).some((d) => ['sent', 'downloading', 'installing', 'rebooting'].includes(d.state)) ? undefined : true,
      { timeoutMs: 60_000, stepMs: 200, what: 'in-flight devices to finish' },
    );
    const devs = await devicesOf(t, id);
    const r = await rollout(t, id);
    const started = r.phases.filter((p) => p.started).length;
    for (const d of devs) if (d.phase >= started) expect(d).toMatchObject({ state: 'pending', attempt: 0 });
    const touched = devs.filter((d) => d.state !== 'pending').length;
    await new Promise((res) => setTimeout(res, 1500));
    expect((await devicesOf(t, id)).filter((d) => d.state !== 'pending').length).toBe(touched);
    // Failed self-tests are counted as rolled back, with the version the device really runs.
    const rolledBack = devs.filter((d) => d.state === 'rolled_back');
    expect(rolledBack.length).toBeGreaterThan(0);
    for (const d of rolledBack) expect(d.reportedVersion).toBe('1.0.0');
    for (const d of devs.filter((x) => x.state === 'succeeded')) expect(d.reportedVersion).toBe('2.0.0');
    // Idempotent controls; cancel ends it and frees the devices.
    expect((await t.api<{ state: string }>('POST', `/v1/rollouts/${id}/pause`)).body.state).toBe('paused');
    expect((await t.api<{ state: string }>('POST', `/v1/rollouts/${id}/cancel`)).body.state).toBe('cancelled');
    expect((await t.api<{ state: string }>('POST', `/v1/rollouts/${id}/cancel`)).body.state).toBe('cancelled');
    expect((await t.api('POST', `/v1/rollouts/${id}/resume`)).status).toBe(409);
  }, 240_000);

  it('with onErrorThreshold=rollback, returns the devices it updated to the old version', async () => {
    const { t } = rig;
    const { id, stopped } = await runToStop(rig, 'rollback');
    expectExactTrip(stopped);
    expect(stopped.rollingBack).toBe(true);
    const done = await rolloutUntil(t, id, (r) => r.state === 'failed', { timeoutMs: 120_000, what: 'the rollback to finish' });
    expect(done.counts.succeeded ?? 0).toBe(0);
    const devs = await devicesOf(t, id);
    const back = devs.filter((d) => d.state === 'rolled_back');
    expect(back.length).toBeGreaterThan(0);
    for (const d of back) expect(d.reportedVersion).toBe('1.0.0');
    // And the terminals themselves say so.
    for (const d of back.slice(0, 40)) {
      const dev = await t.api<{ reportedFwVersion: string }>('GET', `/v1/devices/${d.deviceId}`);
      expect(dev.body.reportedFwVersion).toBe('1.0.0');
    }
  }, 240_000);
});
