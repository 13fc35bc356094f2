// Rollouts end to end: real server (MQTT, Redis, database), real agents on simulated hardware.
import { describe, expect, it } from 'vitest';
import { devicesOf, rolloutUntil, startOtaFleet, useOtaRig } from './otaHarness.ts';

describe('firmware rollout, small fleet', () => {
  const rig = useOtaRig(12, { faults: { 'ota-cut': 2 / 12, 'ota-busy': 2 / 12 } });

  it('updates every terminal through its phases, resuming cut downloads and waiting out busy terminals', async () => {
    const { t, fleet, fw2 } = rig;
    const ids = fleet.agents.map((a) => a.deviceId!);
    const created = await t.api<{ id: string; state: string }>('POST', '/v1/rollouts', {
      name: 'v2 to all',
      firmwareId: fw2,
      target: { deviceIds: ids },
      phases: [
        { name: 'canary', percent: 25 },
        { name: 'rest', percent: 75 },
      ],
      successThreshold: 80,
      errorThreshold: 20,
      retries: 2,
    });
    expect(created.status).toBe(201);
    expect(created.body.state).toBe('draft');
    const id = created.body.id;
    // A second active rollout for the same terminals is refused once this one runs.
    const started = await t.api<{ state: string }>('POST', `/v1/rollouts/${id}/start`);
    expect(started.body.state).toBe('running');
    expect((await t.api<{ state: string }>('POST', `/v1/rollouts/${id}/start`)).body.state).toBe('running');
    const busy = await t.api<{ error: { code: string } }>('POST', '/v1/rollouts', {
      name: 'clash',
      firmwareId: fw2,
      target: { deviceIds: ids.slice(0, 1) },
      phases: [{ name: 'all', percent: 100 }],
      successThreshold: 100,
      errorThreshold: 0,
    });
    expect(busy.status).toBe(409);
    expect(busy.body.error.code).toBe('device_busy');

    const done = await rolloutUntil(t, id, (r) => ['succeeded', 'failed', 'paused'].includes(r.state), { timeoutMs: 60_000 });
    expect(done.state).toBe('succeeded');
    expect(done.counts).toEqual({ succeeded: 12 });
    const devs = await devicesOf(t, id);
    expect(devs.every((d) => d.reportedVersion === '2.0.0')).toBe(true);
    // The cut downloads resumed with a Range request instead of starting over.
    const cut = fleet.agents.filter((a) => a.faults.includes('ota-cut'));
    expect(cut.length).toBe(2);
    for (const a of cut) expect(a.hardware.ota.stats.resumedFrom.length).toBeGreaterThan(0);
    for (const a of fleet.agents) expect(a.agent!.stats().acks['ota.install']?.succeeded).toBe(1);
  });

  it('keeps a dynamic rollout open to terminals that start to match its filter later', async () => {
    const { t, fw2 } = rig;
    const created = await t.api<{ id: string }>('POST', '/v1/rollouts', {
      name: 'late joiners',
      firmwareId: fw2,
      target: { filter: { model: 'PAX-A920', fwVersion: '1.0.0' } },
      dynamic: true,
      phases: [{ name: 'all', percent: 100 }],
      successThreshold: 90,
      errorThreshold: 10,
    });
    expect(created.status).toBe(201);
    const id = created.body.id;
    await t.api('POST', `/v1/rollouts/${id}/start`);
    const late = await startOtaFleet(t, 2);
    try {
      const r = await rolloutUntil(t, id, (v) => (v.counts.succeeded ?? 0) >= 2, { timeoutMs: 60_000, what: 'late joiners updated' });
      expect(r.state).toBe('running');
      const devs = await devicesOf(t, id);
      expect(devs.map((d) => d.deviceId).sort()).toEqual(late.agents.map((a) => a.deviceId!).sort());
      expect((await t.api<{ state: string }>('POST', `/v1/rollouts/${id}/cancel`)).body.state).toBe('cancelled');
    } finally {
      await late.stop();
    }
  });
});
