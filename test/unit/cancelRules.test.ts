// The pure decisions behind cancelling a command a device may be working on: whether to ask it to
// abort (and for how long), and what its answer and its reported version do to a campaign record.
import { describe, expect, it } from 'vitest';
import { abortNotes, afterAbortAnswer, truthAfterCancel } from '../../server/campaigns/campaignRules.ts';
import { ABORT_MAX_TTL_S, abortRequest } from '../../server/commands/commandRules.ts';

describe('abortRequest', () => {
  const now = 1_000_000;
  const inS = (s: number) => new Date(now + s * 1000);

  it('asks only for a delivered long-running command', () => {
    for (const state of ['sent', 'received', 'in_progress'] as const)
      expect(abortRequest({ type: 'ota.install', state, expiresAt: inS(600) }, now)).toEqual({ ttlS: 600 });
    for (const state of ['pending', 'queued', 'deferred', 'succeeded', 'cancelled'] as const)
      expect(abortRequest({ type: 'ota.install', state, expiresAt: inS(600) }, now)).toBeNull();
    expect(abortRequest({ type: 'reboot', state: 'in_progress', expiresAt: inS(600) }, now)).toBeNull();
    expect(abortRequest({ type: 'diag.run', state: 'received', expiresAt: inS(600) }, now)).toBeNull();
  });

  it('lives no longer than the command could still run, capped', () => {
    expect(abortRequest({ type: 'ota.install', state: 'in_progress', expiresAt: inS(86_400) }, now)).toEqual({ ttlS: ABORT_MAX_TTL_S });
    expect(abortRequest({ type: 'ota.install', state: 'in_progress', expiresAt: null }, now)).toEqual({ ttlS: ABORT_MAX_TTL_S });
    expect(abortRequest({ type: 'ota.install', state: 'in_progress', expiresAt: inS(-1) }, now)).toBeNull();
  });
});

describe('afterAbortAnswer', () => {
  it('notes the answer and keeps watching only when the device may have finished after all', () => {
    expect(afterAbortAnswer('succeeded', null)).toEqual({ note: abortNotes.aborted, watch: false });
    expect(afterAbortAnswer('rejected', 'too_late')).toEqual({ note: abortNotes.tooLate, watch: true });
    expect(afterAbortAnswer('rejected', 'not_running')).toEqual({ note: abortNotes.notRunning, watch: false });
    expect(afterAbortAnswer('expired', null)).toMatchObject({ watch: true });
    expect(afterAbortAnswer('failed', 'interrupted')).toMatchObject({ watch: true });
    for (const s of ['pending', 'queued', 'sent', 'received', 'in_progress']) expect(afterAbortAnswer(s, null)).toBeNull();
  });
});

describe('truthAfterCancel', () => {
  it('believes the version the device reports', () => {
    expect(truthAfterCancel({ state: 'cancelled', fromVersion: '1.0.0' }, '2.0.0', true)).toMatchObject({
      state: 'succeeded',
      reportedVersion: '2.0.0',
      note: abortNotes.completed,
    });
    expect(truthAfterCancel({ state: 'cancelled', fromVersion: '1.0.0' }, '1.0.0', false)).toBeNull();
    expect(truthAfterCancel({ state: 'cancelled', fromVersion: '1.0.0' }, '2.0.0', null)).toBeNull();
    // Counted succeeded, then back on its old version (a failed self-test after the trial boot).
    expect(truthAfterCancel({ state: 'succeeded', fromVersion: '1.0.0' }, '1.0.0', false)).toMatchObject({ state: 'rolled_back' });
    expect(truthAfterCancel({ state: 'succeeded', fromVersion: '1.0.0' }, '2.0.0', true)).toBeNull();
  });
});
