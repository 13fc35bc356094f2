// The campaign engine's decisions, as plain functions over counts and records: which phase a
// device is in, how a phase tallies, how many devices may be sent now, whether a terminal is
// inside its window, what an answer does to a device. What a campaign does next from its tallies
// is phaseConditions.ts. No database, no Redis, no clock of their own: unit-tested directly.
import { createHash } from 'node:crypto';
import { finalDeviceStates, type CampaignDeviceState, type CampaignSpec } from '../../schemas/campaigns.ts';
import type { MaintenanceWindow } from '../../schemas/ota.ts';
import { retryDelay, retryStrategies } from '../../schemas/retry.ts';
import type { CampaignDeviceRecord } from '../../schemas/tables/campaigns.ts';
import type { Verdict } from './campaignKind.ts';
import { phaseSizes } from './phaseSizes.ts';

export const inFlightDeviceStates: readonly CampaignDeviceState[] = ['sent', 'downloading', 'installing', 'rebooting'];
/** Outcomes that count against the error threshold. */
export const errorDeviceStates: readonly CampaignDeviceState[] = ['failed', 'rolled_back', 'timed_out'];
const finalStates: readonly CampaignDeviceState[] = finalDeviceStates;
export const isFinalDeviceState = (s: CampaignDeviceState) => finalStates.includes(s);

export type StateCounts = Partial<Record<CampaignDeviceState, number>>;

/** A device's place in the seeded draw: uniform in [0, 1), the same for the same seed and id. */
export function rankOf(seed: string, deviceId: string): number {
  const h = createHash('sha256').update(`${seed}\0${deviceId}`).digest();
  return h.readUInt32BE(0) / 2 ** 32 + h.readUInt32BE(4) / 2 ** 64;
}

/**
 * Draws devices into phases at random (seeded, reproducible), not by age or id order, so no one
 * site fills a phase. Phase i takes the devices ranked in [cum(i-1), cum(i)) of the shuffled list.
 */
export function drawPhases(
  deviceIds: readonly string[],
  seed: string,
  phasePercents: readonly number[],
): Map<string, { phase: number; rank: number }> {
  const ranked = deviceIds.map((id) => ({ id, rank: rankOf(seed, id) })).sort((a, b) => a.rank - b.rank || (a.id < b.id ? -1 : 1));
  const out = new Map<string, { phase: number; rank: number }>();
  let from = 0;
  phaseSizes(ranked.length, phasePercents).forEach((size, i) => {
    for (let k = from; k < from + size; k++) out.set(ranked[k]!.id, { phase: i, rank: ranked[k]!.rank });
    from += size;
  });
  return out;
}

export interface PhaseTally {
  /** Devices that count: everything but skipped and cancelled. */
  total: number;
  succeeded: number;
  errors: number;
  inFlight: number;
  pending: number;
}

export function tally(counts: StateCounts): PhaseTally {
  const n = (s: CampaignDeviceState) => counts[s] ?? 0;
  const all = Object.values(counts).reduce((a, b) => a + (b ?? 0), 0);
  return {
    total: all - n('skipped') - n('cancelled'),
    succeeded: n('succeeded'),
    errors: errorDeviceStates.reduce((a, s) => a + n(s), 0),
    inFlight: inFlightDeviceStates.reduce((a, s) => a + n(s), 0),
    pending: n('pending'),
  };
}

/** succeeded/total ≥ successThreshold %. An empty phase has passed. */
export const phasePassed = (t: PhaseTally, successThreshold: number) => t.total === 0 || t.succeeded * 100 >= successThreshold * t.total;

/** errors/total > errorThreshold % (strictly), and more errors than an operator already resumed past. */
export const phaseTripped = (t: PhaseTally, errorThreshold: number, baseline = 0) =>
  t.total > 0 && t.errors * 100 > errorThreshold * t.total && t.errors > baseline;

/** Devices per minute while phase `phase` is the newest started: maxPerMinute · rampFactor^phase. */
export const rateFor = (rate: NonNullable<CampaignSpec['rate']>, phase: number) =>
  rate.maxPerMinute * rate.rampFactor ** Math.max(0, phase);

/**
 * How many devices may be sent now: at most the phase's rate over any sliding minute, spread
 * out at rate/60 per second of tick. `sentAtMs` are the send times of the last minute.
 */
export function sendBudget(rate: CampaignSpec['rate'], phase: number, sentAtMs: readonly number[], nowMs: number, tickMs = 1000): number {
  if (!rate) return Number.POSITIVE_INFINITY;
  const perMinute = Math.floor(rateFor(rate, phase));
  const lastMinute = sentAtMs.filter((t) => nowMs - t < 60_000).length;
  const perTick = Math.max(1, Math.ceil((perMinute * tickMs) / 60_000));
  return Math.max(0, Math.min(perMinute - lastMinute, perTick));
}

const toMinutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/** Minutes since local midnight in an IANA time zone; null for an unknown zone. */
export function localMinutes(nowMs: number, timeZone: string): number | null {
  try {
    const parts = new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).formatToParts(
      new Date(nowMs),
    );
    const h = Number(parts.find((p) => p.type === 'hour')?.value);
    const m = Number(parts.find((p) => p.type === 'minute')?.value);
    return Number.isFinite(h) && Number.isFinite(m) ? h * 60 + m : null;
  } catch {
    return null;
  }
}

/** Inside [start, end) in terminal local time; a window may cross midnight (22:00–04:00); start = end is all day. */
export function minutesInWindow(minutes: number, window: MaintenanceWindow): boolean {
  const s = toMinutes(window.start);
  const e = toMinutes(window.end);
  if (s === e) return true;
  return s < e ? minutes >= s && minutes < e : minutes >= s || minutes < e;
}

/** With no known zone the server cannot tell: it sends, and the agent checks its own clock. */
export function inWindow(window: MaintenanceWindow | undefined, timeZone: string | undefined, nowMs: number): boolean {
  if (!window || !timeZone) return true;
  const m = localMinutes(nowMs, timeZone);
  return m === null ? true : minutesInWindow(m, window);
}

/** The parts of a device record an answer changes. */
export type DeviceRecord = Pick<
  CampaignDeviceRecord,
  | 'state'
  | 'action'
  | 'attempt'
  | 'deferrals'
  | 'progress'
  | 'note'
  | 'error'
  | 'reportedVersion'
  | 'nextAttemptAt'
  | 'lastHeardAt'
  | 'finishedAt'
>;

/** What a verdict does to a device record (retry, final state, progress...). Returns the changes. */
export function applyVerdict(
  rec: DeviceRecord,
  v: Verdict,
  opts: { retries: number; retryBaseMs: number; nowMs: number },
): Partial<DeviceRecord> | null {
  if (isFinalDeviceState(rec.state) || rec.state === 'pending') return null;
  const now = opts.nowMs;
  const revert = rec.action === 'revert';
  switch (v.outcome) {
    case 'ignore':
      return null;
    case 'progress':
      return { state: v.state, progress: v.progress ?? rec.progress, lastHeardAt: now, nextAttemptAt: null };
    case 'deferred':
      // The device keeps nothing of a deferred command: it is sent again after a pause.
      return {
        note: `deferred: ${v.reason}`,
        lastHeardAt: now,
        nextAttemptAt: now + retryDelay(retryStrategies.campaignDeferral(opts.retryBaseMs), rec.deferrals),
      };
    case 'succeeded':
      return {
        state: revert ? 'rolled_back' : 'succeeded',
        progress: 100,
        reportedVersion: v.reported ?? rec.reportedVersion,
        finishedAt: now,
        lastHeardAt: now,
        error: null,
        note: revert ? 'reverted by rollback' : null,
      };
    case 'skipped':
      return {
        state: revert ? 'rolled_back' : 'skipped',
        note: v.reason,
        reportedVersion: v.reported ?? rec.reportedVersion,
        finishedAt: now,
        lastHeardAt: now,
      };
    case 'rolled_back':
      return {
        state: 'rolled_back',
        error: { code: v.code, message: v.message ?? v.code },
        reportedVersion: v.reported ?? rec.reportedVersion,
        finishedAt: now,
        lastHeardAt: now,
      };
    case 'failed': {
      const error = { code: v.code, message: v.message ?? v.code };
      if (!revert && v.transient && rec.attempt - rec.deferrals <= opts.retries) {
        return {
          state: 'pending',
          error,
          note: `retry after ${v.code}`,
          // Attempt n failed: retry n-1 of the strategy (base · 2^(n-1)).
          nextAttemptAt: now + retryDelay(retryStrategies.campaignRetry(opts.retryBaseMs), rec.attempt - 1),
          lastHeardAt: now,
          progress: null,
        };
      }
      return {
        state: 'failed',
        error,
        note: revert ? 'revert failed' : null,
        reportedVersion: v.reported ?? rec.reportedVersion,
        finishedAt: now,
        lastHeardAt: now,
      };
    }
  }
}

/** An in-flight device that deferred and whose pause is over: send it the command again. */
export const isDeferralDue = (rec: Pick<DeviceRecord, 'state' | 'nextAttemptAt'>, nowMs: number) =>
  inFlightDeviceStates.includes(rec.state) && rec.nextAttemptAt !== null && rec.nextAttemptAt <= nowMs;

/** Silent past the timeout since it last answered (or since the command reached it). */
export const isTimedOut = (rec: Pick<DeviceRecord, 'state' | 'lastHeardAt'>, timeoutS: number, nowMs: number) =>
  inFlightDeviceStates.includes(rec.state) && rec.lastHeardAt !== null && nowMs - rec.lastHeardAt > timeoutS * 1000;

// ---------- cancel: what became of the devices that were asked to abort ----------

/** Notes on the record of a device that was in flight when its campaign was cancelled. */
export const abortNotes = {
  requested: 'cancelled; the device was asked to abort',
  aborted: 'cancelled; the device aborted and kept its version',
  tooLate: 'cancel came too late: the device carries on; the version it reports decides',
  notRunning: 'cancelled; nothing of it was running on the device',
  completed: 'completed before the cancel reached it',
} as const;

/**
 * The device's final answer to an abort request (the `cancel` command's state and error code):
 * the note for its campaign record, and whether to keep watching the version it reports (it may
 * finish the update after all). Null while the answer is not final.
 */
export function afterAbortAnswer(state: string, code: string | null): { note: string; watch: boolean } | null {
  switch (state) {
    case 'succeeded':
      return { note: abortNotes.aborted, watch: false };
    case 'rejected':
      if (code === 'too_late') return { note: abortNotes.tooLate, watch: true };
      if (code === 'not_running') return { note: abortNotes.notRunning, watch: false };
      return { note: `cancelled; the device refused to abort (${code ?? 'rejected'})`, watch: true };
    case 'failed':
    case 'expired':
    case 'cancelled':
      return { note: `cancelled; the abort request ${state === 'failed' ? `failed (${code ?? 'failed'})` : state}`, watch: true };
    default:
      return null;
  }
}

/**
 * The server believes the version the device reports (SPEC §4): a device cancelled in flight that
 * now reports the target finished before the cancel reached it, and one counted so that is back
 * on its old version rolled back. `done` is the kind's reading of the report. Returns the changes.
 */
export function truthAfterCancel(
  rec: Pick<DeviceRecord, 'state'> & { fromVersion: string | null },
  reported: string,
  done: boolean | null,
): Partial<DeviceRecord> | null {
  if (rec.state === 'cancelled' && done === true)
    return { state: 'succeeded', reportedVersion: reported, progress: 100, error: null, note: abortNotes.completed };
  if (rec.state === 'succeeded' && done === false && rec.fromVersion !== null && reported === rec.fromVersion)
    return { state: 'rolled_back', reportedVersion: reported, note: `device now reports ${reported} (after the cancel)` };
  return null;
}
