// The rollout view's failure breakdown: members that failed are counted by error.code
// (GET …/failures), each listed with its serial, and ?errorCode= lists exactly the members of a code.
import { describe, expect, it } from 'vitest';
import { databaseKinds } from '../helpers/databases.ts';
import { devicesOf, onePhaseRollout, rolloutUntil, useOtaRig } from './otaHarness.ts';

interface Failures {
  total: number;
  byCode: { code: string; count: number; message: string }[];
}

describe.each(databaseKinds())('failures by error code (%s)', (database) => {
  // A corrupt image and a failed self-test fail with different codes (docs/ota.md).
  const rig = useOtaRig(20, { database, faults: { 'ota-corrupt': 0.2, 'ota-selftest': 0.2 }, hookTimeoutMs: 120_000 });

  it('counts the failed members by code, names them by serial, and filters them by code', async () => {
    const { t, fleet, fw2 } = rig;
    const ids = fleet.agents.map((a) => a.deviceId!);
    const created = await t.api<{ id: string }>('POST', '/v1/rollouts', { ...onePhaseRollout('failures', fw2, ids), successThreshold: 0, errorThreshold: 100, retries: 0 });
    expect(created.status).toBe(201);
    const id = created.body.id;
    expect((await t.api('POST', `/v1/rollouts/${id}/start`)).status).toBe(200);
    await rolloutUntil(t, id, (r) => r.state !== 'running' && r.state !== 'draft', { timeoutMs: 90_000 });

    const members = await devicesOf(t, id);
    const serialOf = new Map(fleet.agents.map((a) => [a.deviceId!, a.serial]));
    for (const m of members) expect(m.serial).toBe(serialOf.get(m.deviceId));
    const failed = members.filter((m) => ['failed', 'rolled_back', 'timed_out'].includes(m.state));
    expect(failed.length).toBe(8);

    const f = await t.api<Failures>('GET', `/v1/rollouts/${id}/failures`);
    expect(f.status).toBe(200);
    expect(f.body.total).toBe(failed.length);
    const expected = new Map<string, number>();
    for (const m of failed) expected.set(m.error?.code ?? 'unknown', (expected.get(m.error?.code ?? 'unknown') ?? 0) + 1);
    expect(new Map(f.body.byCode.map((b) => [b.code, b.count]))).toEqual(expected);
    expect(f.body.byCode.length).toBeGreaterThanOrEqual(2);
    const counts = f.body.byCode.map((b) => b.count);
    expect(counts).toEqual([...counts].sort((a, b) => b - a));
    for (const b of f.body.byCode) expect(b.message.length).toBeGreaterThan(0);

    for (const { code } of f.body.byCode) {
      const page = await t.api<{ items: { deviceId: string; error: { code: string } | null }[] }>(
        'GET',
        `/v1/rollouts/${id}/devices?errorCode=${encodeURIComponent(code)}&limit=100`,
      );
      expect(page.status).toBe(200);
      expect(page.body.items.map((m) => m.deviceId).sort()).toEqual(failed.filter((m) => m.error?.code === code).map((m) => m.deviceId).sort());
    }
  });

  it('answers 404 for an unknown rollout', async () => {
    const r = await rig.t.api<{ error: { code: string } }>('GET', '/v1/rollouts/cmp_unknown000000000000/failures');
    expect(r.status).toBe(404);
    expect(r.body.error.code).toBe('not_found');
  });
});
