// Scheduled campaigns: a draft with startAt starts by itself (audited as the scheduler's), and
// sends honour the recurring maintenance windows set for the terminals' organisation unless the
// campaign ignores them.
import { inArray } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { devices } from '../../schemas/db.ts';
import { databaseKinds } from '../helpers/databases.ts';
import { eventually } from '../helpers/eventually.ts';
import { devicesOf, onePhaseRollout, rollout, rolloutUntil, useOtaRig } from './otaHarness.ts';

const hhmm = (ms: number) => new Date(ms).toISOString().slice(11, 16);
interface Audit {
  items: { action: string; target: string | null; actorId: string | null }[];
}

describe.each(databaseKinds())('scheduled starts and maintenance windows (%s)', (database) => {
  const rig = useOtaRig(6, { database, hookTimeoutMs: 120_000 });

  it('refuses a startAt in the past, and starts a draft by itself at its startAt', async () => {
    const { t, fleet, fw2 } = rig;
    const ids = fleet.agents.slice(0, 2).map((a) => a.deviceId!);
    const past = await t.api<{ error: { code: string } }>('POST', '/v1/rollouts', { ...onePhaseRollout('late', fw2, ids), startAt: new Date(Date.now() - 1000).toISOString() });
    expect(past.status).toBe(400);
    expect(past.body.error.code).toBe('validation_failed');

    const startAt = new Date(Date.now() + 2500).toISOString();
    const created = await t.api<{ id: string; state: string; startAt: string }>('POST', '/v1/rollouts', { ...onePhaseRollout('at', fw2, ids), startAt });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ state: 'draft', startAt });
    const id = created.body.id;
    expect((await rollout(t, id)).state).toBe('draft');
    const done = await rolloutUntil(t, id, (r) => r.state === 'succeeded', { timeoutMs: 60_000 });
    expect(done.state).toBe('succeeded');
    const started = await t.api<{ startedAt: string }>('GET', `/v1/rollouts/${id}`);
    expect(Date.parse(started.body.startedAt)).toBeGreaterThanOrEqual(Date.parse(startAt));
    const audit = await t.api<Audit>('GET', `/v1/audit?target=${id}&limit=50`);
    expect(audit.body.items.find((e) => e.action === 'campaign.scheduled_start')).toMatchObject({ actorId: null, target: id });
  });

  it('holds sends outside the organisation\'s window, serves campaigns that ignore it, and sends once it is removed', async () => {
    const { t, fleet, fw2 } = rig;
    const rest = fleet.agents.slice(2).map((a) => a.deviceId!);
    await t.server.parts.db.update(devices).set({ labels: { timezone: 'UTC' } }).where(inArray(devices.id, rest));
    // A window opening in two hours, every day: now is outside it.
    const now = Date.now();
    const bad = await t.api<{ error: { code: string } }>('POST', '/v1/maintenance-windows', { scope: 'org', targetId: 'org_root', days: [0], start: '01:00', end: '02:00' });
    expect(bad.status).toBe(400);
    const unknown = await t.api<{ error: { code: string } }>('POST', '/v1/maintenance-windows', { scope: 'org', targetId: 'org_nosuchnode0000000', days: [1], start: '01:00', end: '02:00' });
    expect(unknown.status).toBe(404);
    const win = await t.api<{ id: string }>('POST', '/v1/maintenance-windows', {
      scope: 'org',
      targetId: 'org_root',
      days: [1, 2, 3, 4, 5, 6, 7],
      start: hhmm(now + 2 * 3600_000),
      end: hhmm(now + 3 * 3600_000),
    });
    expect(win.status).toBe(201);
    expect((await t.api<{ items: { id: string }[] }>('GET', '/v1/maintenance-windows')).body.items.map((w) => w.id)).toContain(win.body.id);

    const held = await t.api<{ id: string }>('POST', '/v1/rollouts', onePhaseRollout('held', fw2, rest.slice(0, 2)));
    const urgent = await t.api<{ id: string }>('POST', '/v1/rollouts', { ...onePhaseRollout('urgent', fw2, rest.slice(2)), ignoreMaintenanceWindows: true });
    for (const r of [held, urgent]) expect((await t.api('POST', `/v1/rollouts/${r.body.id}/start`)).status).toBe(200);

    await rolloutUntil(t, urgent.body.id, (r) => r.state === 'succeeded', { timeoutMs: 60_000 });
    // The urgent one went through the same ticks: the held one has sent nothing meanwhile.
    const waiting = await devicesOf(t, held.body.id);
    expect(waiting.map((m) => [m.state, m.attempt])).toEqual(waiting.map(() => ['pending', 0]));

    expect((await t.api('DELETE', `/v1/maintenance-windows/${win.body.id}`)).status).toBe(200);
    await rolloutUntil(t, held.body.id, (r) => r.state === 'succeeded', { timeoutMs: 60_000 });
    const audit = await t.api<Audit>('GET', `/v1/audit?target=${win.body.id}&limit=10`);
    expect(audit.body.items.map((e) => e.action).sort()).toEqual(['maintenance_window.create', 'maintenance_window.delete']);
    await eventually(async () => ((await t.api('GET', `/v1/maintenance-windows/${win.body.id}`)).status === 404 ? true : undefined), { what: 'the window gone' });
  });
});
