// The campaign engine's decisions, without Redis or a database.
import { describe, expect, it } from 'vitest';
import { retryDelay, retryStrategies } from '../../schemas/retry.ts';
import { judgeOta } from '../../server/firmware/firmwareKind.ts';
import {
  applyVerdict,
  drawPhases,
  inWindow,
  isDeferralDue,
  isTimedOut,
  minutesInWindow,
  phasePassed,
  phaseTripped,
  rateFor,
  sendBudget,
  tally,
  type DeviceRecord,
} from '../../server/campaigns/campaignRules.ts';
import { campaignSummary, countsFromGroups } from '../../server/campaigns/campaignSummary.ts';
import {
  allMembersFinal,
  decide,
  errorThresholdCrossed,
  rollbackDone,
  successThresholdReached,
  type EngineView,
} from '../../server/campaigns/phaseConditions.ts';
import type { CampaignRow } from '../../schemas/tables/campaigns.ts';

const ids = (n: number) => Array.from({ length: n }, (_, i) => `dev_${i}`);
const spec = { successThreshold: 90, errorThreshold: 5, onErrorThreshold: 'pause' as const };
const view = (over: Partial<EngineView>): EngineView => ({
  state: 'running',
  phasesStarted: 1,
  phases: [{}, {}, {}],
  errorBaseline: [],
  rollingBack: false,
  revertsOpen: 0,
  dynamic: false,
  ...over,
});

describe('phase draw', () => {
  it('splits exactly by percent, reproducibly from the seed, not by id order', () => {
    const a = drawPhases(ids(300), 'seed-1', [10, 30, 60]);
    const sizes = [0, 0, 0];
    for (const v of a.values()) sizes[v.phase]!++;
    expect(sizes).toEqual([30, 90, 180]);
    expect(drawPhases(ids(300), 'seed-1', [10, 30, 60])).toEqual(a);
    const b = drawPhases(ids(300), 'seed-2', [10, 30, 60]);
    const first = (m: typeof a) =>
      [...m]
        .filter(([, v]) => v.phase === 0)
        .map(([k]) => k)
        .sort();
    expect(first(a)).not.toEqual(first(b));
    // Not the first 30 ids: membership is random.
    expect(first(a)).not.toEqual(ids(30).sort());
  });
  it('gives every device a phase even for tiny fleets', () => {
    const m = drawPhases(ids(2), 's', [10, 30, 60]);
    expect(m.size).toBe(2);
  });
});

describe('thresholds', () => {
  it('passes a phase at succeeded/total ≥ successThreshold; skipped and cancelled do not count', () => {
    expect(phasePassed(tally({ succeeded: 27, failed: 3 }), 90)).toBe(true);
    expect(phasePassed(tally({ succeeded: 26, failed: 3, sent: 1 }), 90)).toBe(false);
    expect(phasePassed(tally({ succeeded: 9, skipped: 20 }), 90)).toBe(true);
    expect(phasePassed(tally({}), 90)).toBe(true);
  });
  it('trips only when errors/total is strictly over errorThreshold, counting rolled_back and timed_out', () => {
    expect(phaseTripped(tally({ succeeded: 95, failed: 5 }), 5)).toBe(false);
    expect(phaseTripped(tally({ succeeded: 94, failed: 5, timed_out: 1 }), 5)).toBe(true);
    expect(phaseTripped(tally({ pending: 28, rolled_back: 2 }), 5)).toBe(true);
    // An operator who resumed past 2 errors: the third trips it again.
    expect(phaseTripped(tally({ pending: 28, rolled_back: 2 }), 5, 2)).toBe(false);
    expect(phaseTripped(tally({ pending: 27, rolled_back: 3 }), 5, 2)).toBe(true);
  });
});

describe('decide', () => {
  it('starts the next phase once the current one passed, while its stragglers carry on', () => {
    expect(decide(view({ phases: [{ succeeded: 27, sent: 3 }, { pending: 90 }, { pending: 180 }] }), spec)).toEqual({
      kind: 'start_phase',
      phase: 1,
    });
    expect(decide(view({ phases: [{ succeeded: 26, sent: 4 }, { pending: 90 }, { pending: 180 }] }), spec)).toEqual({ kind: 'none' });
  });
  it('puts the error rule first, for any started phase', () => {
    const d = decide(view({ phasesStarted: 2, phases: [{ succeeded: 27, failed: 2, sent: 1 }, { pending: 90 }, { pending: 180 }] }), spec);
    expect(d).toMatchObject({ kind: 'trip', phase: 0, rollback: false });
    expect(
      decide(view({ phasesStarted: 2, phases: [{ succeeded: 27, failed: 2, sent: 1 }, {}, {}] }), {
        ...spec,
        onErrorThreshold: 'rollback',
      }),
    ).toMatchObject({ rollback: true });
  });
  it('does nothing while paused, and finishes when every device is final', () => {
    expect(decide(view({ state: 'paused', phases: [{ succeeded: 30 }, {}, {}] }), spec)).toEqual({ kind: 'none' });
    expect(
      decide(view({ phasesStarted: 3, phases: [{ succeeded: 30 }, { succeeded: 90 }, { succeeded: 179, skipped: 1 }] }), spec),
    ).toEqual({ kind: 'finish', state: 'succeeded' });
    expect(
      decide(view({ phasesStarted: 3, phases: [{ succeeded: 30 }, { succeeded: 90 }, { succeeded: 170, failed: 5, skipped: 5 }] }), {
        ...spec,
        errorThreshold: 50,
        successThreshold: 99,
      }),
    ).toEqual({
      kind: 'finish',
      state: 'failed',
    });
    // Dynamic campaigns stay open for late joiners.
    expect(
      decide(view({ dynamic: true, phasesStarted: 3, phases: [{ succeeded: 30 }, { succeeded: 90 }, { succeeded: 180 }] }), spec),
    ).toEqual({ kind: 'none' });
  });
  it('ends a rollback once every revert is final', () => {
    expect(decide(view({ state: 'paused', rollingBack: true, revertsOpen: 3, phases: [{ succeeded: 1 }, {}, {}] }), spec)).toEqual({
      kind: 'none',
    });
    expect(decide(view({ state: 'paused', rollingBack: true, revertsOpen: 0, phases: [{ rolled_back: 10 }, {}, {}] }), spec)).toEqual({
      kind: 'finish',
      state: 'failed',
    });
  });
});

describe('phase conditions, one at a time', () => {
  it('each answers for its own condition only', () => {
    const tripped = view({ phases: [{ succeeded: 27, failed: 3 }, {}, {}] });
    expect(errorThresholdCrossed(tripped, spec)).toMatchObject({ kind: 'trip', phase: 0 });
    // Passed its success threshold too: only the order in decide() puts the error rule first.
    expect(successThresholdReached(tripped, spec)).toEqual({ kind: 'start_phase', phase: 1 });
    expect(decide(tripped, spec)).toMatchObject({ kind: 'trip' });
    expect(successThresholdReached(view({ phasesStarted: 3 }), spec)).toBeNull();
    expect(allMembersFinal(view({ phasesStarted: 2, phases: [{ succeeded: 3 }, { succeeded: 3 }, {}] }), spec)).toBeNull();
    expect(allMembersFinal(view({ phasesStarted: 3, phases: [{ succeeded: 3 }, { succeeded: 3 }, { pending: 1 }] }), spec)).toBeNull();
  });
  it('a rollback is done only when no revert is open and nothing sent before the trip still works', () => {
    // A revert in flight counts in its phase (sent) and in revertsOpen.
    const reverting = view({
      state: 'paused',
      rollingBack: true,
      revertsOpen: 1,
      phases: [{ failed: 2, rolled_back: 2, sent: 1 }, {}, {}],
    });
    expect(rollbackDone(reverting, spec)).toBeNull();
    expect(rollbackDone({ ...reverting, revertsOpen: 0, phases: [{ failed: 2, installing: 1, rolled_back: 2 }, {}, {}] }, spec)).toBeNull();
    expect(rollbackDone({ ...reverting, revertsOpen: 0, phases: [{ failed: 2, rolled_back: 3 }, {}, {}] }, spec)).toEqual({
      kind: 'finish',
      state: 'failed',
    });
  });
});

describe('summary counts', () => {
  it('count every member in its phase, open reverts included (and in reverting)', () => {
    const counts = countsFromGroups(
      [
        { phase: 0, action: 'apply', state: 'failed', n: 2 },
        { phase: 0, action: 'revert', state: 'rolled_back', n: 1 },
        { phase: 0, action: 'revert', state: 'pending', n: 1 },
        { phase: 0, action: 'revert', state: 'installing', n: 1 },
        { phase: 1, action: 'apply', state: 'pending', n: 4 },
      ],
      2,
    );
    expect(counts).toEqual({ phases: [{ failed: 2, rolled_back: 1, pending: 1, installing: 1 }, { pending: 4 }], reverting: 2 });
    const row: CampaignRow = {
      id: 'cmp_1',
      kind: 'firmware',
      lane: 'firmware',
      name: 'r',
      state: 'paused',
      params: { firmwareId: 'fw_1' },
      spec: {
        target: { deviceIds: ['d'] },
        dynamic: false,
        phases: [
          { name: 'a', percent: 50 },
          { name: 'b', percent: 50 },
        ],
        successThreshold: 90,
        errorThreshold: 10,
        onErrorThreshold: 'rollback',
        ignoreMaintenanceWindows: false,
        deviceTimeoutS: 3600,
        retries: 2,
      },
      seed: 's',
      phasesStarted: 1,
      phaseStartedAt: ['2026-01-01T00:00:00.000Z'],
      pausedReason: 'error_threshold',
      tripped: null,
      errorBaseline: [],
      rollingBack: true,
      createdBy: null,
      createdAt: new Date(0),
      startedAt: new Date(0),
      finishedAt: null,
      updatedAt: new Date(0),
    };
    const s = campaignSummary({ row, spec: row.spec, counts, openSummary: null, kindLane: 'firmware' });
    expect(s.phases[0]).toMatchObject({ devices: 5, total: 5, errors: 3, started: true, passed: false, overErrorThreshold: true });
    expect(s.phases[1]).toMatchObject({ devices: 4, started: false, passed: false });
    expect(s.counts).toEqual({ pending: 5, installing: 1, failed: 2, rolled_back: 1 });
    expect(s.reverting).toBe(2);
    expect(s).toMatchObject({ firmwareId: 'fw_1', kindLane: 'firmware' });
  });
});

describe('rate and ramp', () => {
  it('grows the limit exponentially phase by phase', () => {
    expect(rateFor({ maxPerMinute: 10, rampFactor: 2 }, 0)).toBe(10);
    expect(rateFor({ maxPerMinute: 10, rampFactor: 2 }, 2)).toBe(40);
  });
  it('never sends more than the limit in any minute, spread over ticks', () => {
    const rate = { maxPerMinute: 120, rampFactor: 1 };
    const sent: number[] = [];
    for (let t = 0; t < 120_000; t += 1000) {
      const n = sendBudget(rate, 0, sent, t, 1000);
      for (let i = 0; i < n; i++) sent.push(t);
      expect(sent.filter((s) => t - s < 60_000).length).toBeLessThanOrEqual(120);
    }
    expect(sent.length).toBe(240);
    expect(sendBudget(undefined, 0, [], 0)).toBe(Number.POSITIVE_INFINITY);
  });
});

describe('maintenance windows (terminal local time)', () => {
  it('handles windows across midnight and all-day windows', () => {
    expect(minutesInWindow(23 * 60, { start: '22:00', end: '04:00' })).toBe(true);
    expect(minutesInWindow(3 * 60 + 59, { start: '22:00', end: '04:00' })).toBe(true);
    expect(minutesInWindow(4 * 60, { start: '22:00', end: '04:00' })).toBe(false);
    expect(minutesInWindow(12 * 60, { start: '01:00', end: '05:00' })).toBe(false);
    expect(minutesInWindow(12 * 60, { start: '00:00', end: '00:00' })).toBe(true);
  });
  it('uses the terminal time zone; unknown zones are left to the agent', () => {
    const noonUtc = Date.UTC(2026, 0, 15, 12, 0);
    expect(inWindow({ start: '01:00', end: '05:00' }, 'Asia/Tokyo', noonUtc)).toBe(false); // 21:00 in Tokyo
    expect(inWindow({ start: '20:00', end: '23:00' }, 'Asia/Tokyo', noonUtc)).toBe(true);
    expect(inWindow({ start: '01:00', end: '05:00' }, undefined, noonUtc)).toBe(true);
    expect(inWindow({ start: '01:00', end: '05:00' }, 'Not/AZone', noonUtc)).toBe(true);
  });
});

describe('device answers', () => {
  const rec = (over: Partial<DeviceRecord> = {}): DeviceRecord => ({
    state: 'downloading',
    action: 'apply',
    attempt: 1,
    deferrals: 0,
    progress: 50,
    note: null,
    error: null,
    reportedVersion: null,
    nextAttemptAt: null,
    lastHeardAt: 0,
    finishedAt: null,
    ...over,
  });
  const opts = { retries: 2, retryBaseMs: 1000, nowMs: 10_000 };
  it('retries transient failures with exponential backoff up to `retries`, never permanent ones', () => {
    expect(applyVerdict(rec(), { outcome: 'failed', code: 'download_failed', transient: true }, opts)).toMatchObject({
      state: 'pending',
      nextAttemptAt: 11_000,
    });
    expect(applyVerdict(rec({ attempt: 2 }), { outcome: 'failed', code: 'download_failed', transient: true }, opts)).toMatchObject({
      state: 'pending',
      nextAttemptAt: 12_000,
    });
    expect(applyVerdict(rec({ attempt: 3 }), { outcome: 'failed', code: 'download_failed', transient: true }, opts)).toMatchObject({
      state: 'failed',
    });
    expect(applyVerdict(rec(), { outcome: 'failed', code: 'bad_signature', transient: false }, opts)).toMatchObject({ state: 'failed' });
    // Deferral re-sends do not use up retries.
    expect(applyVerdict(rec({ attempt: 5, deferrals: 3 }), { outcome: 'failed', code: 'busy', transient: true }, opts)).toMatchObject({
      state: 'pending',
    });
    // base · 2^(attempt-1) (the campaignRetry strategy), capped at 30 minutes.
    expect(applyVerdict(rec({ attempt: 3 }), { outcome: 'failed', code: 'busy', transient: true }, { ...opts, retries: 5 })).toMatchObject({
      nextAttemptAt: 14_000,
    });
    expect(retryDelay(retryStrategies.campaignRetry(1000), 20)).toBe(30 * 60_000);
  });
  it('counts a device that came back on its old version as rolled_back, with that version', () => {
    expect(applyVerdict(rec(), { outcome: 'rolled_back', code: 'selftest_failed', reported: '1.0.0' }, opts)).toMatchObject({
      state: 'rolled_back',
      reportedVersion: '1.0.0',
    });
    expect(applyVerdict(rec({ action: 'revert' }), { outcome: 'succeeded', reported: '1.0.0' }, opts)).toMatchObject({
      state: 'rolled_back',
      reportedVersion: '1.0.0',
    });
  });
  it('ignores answers for finished devices, schedules deferred ones again, and times out silent ones', () => {
    expect(applyVerdict(rec({ state: 'succeeded' }), { outcome: 'failed', code: 'x', transient: false }, opts)).toBeNull();
    const d = applyVerdict(rec({ state: 'sent' }), { outcome: 'deferred', reason: 'busy' }, opts)!;
    expect(d).toMatchObject({ note: 'deferred: busy', nextAttemptAt: 11_000 });
    expect(isDeferralDue({ state: 'sent', nextAttemptAt: 11_000 }, 11_000)).toBe(true);
    expect(isTimedOut({ state: 'installing', lastHeardAt: 0 }, 60, 60_001)).toBe(true);
    expect(isTimedOut({ state: 'installing', lastHeardAt: 0 }, 60, 60_000)).toBe(false);
    // Never delivered (offline at its turn): waits for the device instead of timing out.
    expect(isTimedOut({ state: 'sent', lastHeardAt: null }, 60, 1e9)).toBe(false);
  });
});

describe('firmware acks (device-reported truth)', () => {
  const u = (over: object) => ({
    commandId: 'c',
    state: 'succeeded' as const,
    stage: null,
    progress: null,
    error: null,
    result: null,
    ...over,
  });
  it('maps stages to device states', () => {
    expect(judgeOta(u({ state: 'in_progress', stage: 'downloading', progress: 50 }), '2.0.0', 'forced', false)).toEqual({
      outcome: 'progress',
      state: 'downloading',
      progress: 50,
    });
    expect(judgeOta(u({ state: 'in_progress', stage: 'selftest' }), '2.0.0', 'forced', false)).toMatchObject({ state: 'rebooting' });
  });
  it('believes the version the device reports', () => {
    expect(judgeOta(u({ result: { version: '2.0.0', slot: 'B' } }), '2.0.0', 'forced', false)).toEqual({
      outcome: 'succeeded',
      reported: '2.0.0',
    });
    expect(judgeOta(u({ result: { version: '1.0.0', slot: 'A' } }), '2.0.0', 'forced', false)).toMatchObject({
      outcome: 'rolled_back',
      reported: '1.0.0',
    });
    expect(judgeOta(u({ state: 'failed', error: { code: 'selftest_failed', message: 'x' } }), '2.0.0', 'forced', false)).toMatchObject({
      outcome: 'rolled_back',
    });
  });
  it('classifies failures as transient or permanent', () => {
    expect(judgeOta(u({ state: 'failed', error: { code: 'download_failed', message: '' } }), '2.0.0', 'forced', false)).toMatchObject({
      transient: true,
    });
    expect(judgeOta(u({ state: 'failed', error: { code: 'bad_signature', message: '' } }), '2.0.0', 'forced', false)).toMatchObject({
      transient: false,
    });
    expect(judgeOta(u({ state: 'failed', error: { code: 'incompatible', message: '' } }), '2.0.0', 'forced', false)).toMatchObject({
      transient: false,
    });
    expect(judgeOta(u({ state: 'deferred', error: { code: 'busy', message: '' } }), '2.0.0', 'forced', false)).toEqual({
      outcome: 'deferred',
      reason: 'busy',
    });
  });
});
