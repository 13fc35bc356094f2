// Sending a campaign's commands: which pending members are due (phase, rate, window, screen),
// and the send itself. Sends are claimed in the database before the command is created, so a
// restart finds the command of a claimed send (by campaign and attempt) instead of sending twice.
import { retryDelay, retryStrategies } from '../../schemas/retry.ts';
import type { CampaignDeviceRecord } from '../../schemas/tables/campaigns.ts';
import type { CommandService } from '../commands/commandService.ts';
import type { Logger } from '../log.ts';
import type { LiveState } from '../telemetry/liveState.ts';
import type { CampaignLifecycle } from './campaignLifecycle.ts';
import { inWindow, sendBudget } from './campaignRules.ts';
import { governingWindows, inRecurringWindows, type WindowsByScope } from './recurringWindows.ts';
import type { MemberRecords } from './memberRecords.ts';
import { effectiveState, memberDevice, type CampaignMemory, type RunningCampaign } from './runningCampaign.ts';

/** Commands being created at once for a campaign whose kind does not say (CampaignKind.sendConcurrency). */
const SEND_CONCURRENCY = 32;
/** Members claimed ahead of their sends, a part at a time. */
const CLAIM_AHEAD = 1024;

export interface MemberSendsDeps extends CampaignMemory {
  records: MemberRecords;
  lifecycle: CampaignLifecycle;
  commands: CommandService;
  liveState: LiveState;
  log: Logger;
  /** First retry delay (CAMPAIGN_RETRY_BASE_MS). */
  retryBaseMs: number;
  tickMs: number;
  isStopped(): boolean;
  /** The recurring maintenance windows now in force (maintenanceWindowStore.ts). */
  windows(): WindowsByScope;
}

async function pool<T>(items: readonly T[], n: number, fn: (item: T) => Promise<void>) {
  let i = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, items.length) }, async () => {
      while (i < items.length) await fn(items[i++]!);
    }),
  );
}

/** A claimed send that did not go out: a first send stays pending, a re-send after a deferral is due again. */
export const unclaim = (r: CampaignDeviceRecord, retryAt: number): Partial<CampaignDeviceRecord> => ({
  sending: false,
  attempt: r.attempt - 1,
  ...(r.state === 'pending' ? {} : { nextAttemptAt: retryAt }),
});

export function createMemberSends(deps: MemberSendsDeps) {
  const { records } = deps;
  /** Sends under way, by campaign: a finish waits for them (`settled`). */
  const inFlight = new Map<string, Set<Promise<unknown>>>();

  async function sendOne(c: RunningCampaign, r: CampaignDeviceRecord) {
    // Stopped meanwhile (error threshold, pause, cancel): what is not sent yet stays unsent.
    if (deps.isStopped() || !deps.running.has(c.row.id) || c.ending || (r.action === 'apply' && effectiveState(c) !== 'running')) {
      records.patch(c, r, unclaim(r, Date.now()));
      return;
    }
    const ref = { campaignId: c.row.id, deviceId: r.deviceId, attempt: r.attempt, action: r.action };
    try {
      const dev = memberDevice(c, r, deps.liveState);
      const spec = r.action === 'apply' ? await c.open.command(dev, ref) : await c.open.revert!(dev, ref);
      if ('unavailable' in spec) {
        records.patch(c, r, {
          sending: false,
          state: 'failed',
          finishedAt: Date.now(),
          note: `revert unavailable: ${spec.unavailable}`,
          active: false,
        });
        return;
      }
      const cmd = await deps.commands.create(r.deviceId, {
        type: spec.type,
        payload: { ...spec.payload, campaignId: c.row.id, attempt: r.attempt },
        ttlS: spec.ttlS,
        createdBy: c.row.createdBy,
      });
      deps.byCommand.set(cmd.id, r);
      records.patch(c, r, {
        sending: false,
        commandId: cmd.id,
        state: 'sent',
        sentAt: Date.now(),
        lastHeardAt: null,
        progress: null,
        note: null,
        nextAttemptAt: null,
      });
    } catch (err) {
      deps.log.warn({ err, campaign: c.row.id, deviceId: r.deviceId }, 'could not send a campaign command; will retry');
      // Not the device's failure: a pause, not counted against retries.
      records.patch(c, r, {
        sending: false,
        attempt: r.attempt - 1,
        nextAttemptAt: Date.now() + retryDelay(retryStrategies.campaignDeferral(deps.retryBaseMs), 0),
      });
    }
  }

  /** Marks members claimed and writes the claims: no command is created before its claim is stored. */
  function claim(c: RunningCampaign, part: readonly CampaignDeviceRecord[], now: number, counted: boolean) {
    for (const r of part) {
      records.patch(c, r, {
        sending: true,
        attempt: r.attempt + 1,
        fromVersion: r.action === 'apply' ? (r.fromVersion ?? memberDevice(c, r, deps.liveState).reportedVersion) : r.fromVersion,
      });
      if (counted) c.sentTimes.push(now);
    }
    return records.flush();
  }

  /**
   * Claims the batch durably, a part at a time, and creates each part's commands once its claims
   * are stored; the next part is claimed while one sends (a phase of 10,000 members claimed whole
   * held every send back until 10,000 claims were written). `counted` sends use up the rate.
   */
  async function claimAndSend(c: RunningCampaign, batch: CampaignDeviceRecord[], now: number, counted: boolean) {
    const n = c.kind.sendConcurrency ?? SEND_CONCURRENCY;
    const part = (i: number) => batch.slice(i, i + CLAIM_AHEAD);
    let claimed = claim(c, part(0), now, counted);
    for (let i = 0; i < batch.length; i += CLAIM_AHEAD) {
      await claimed;
      claimed = i + CLAIM_AHEAD < batch.length ? claim(c, part(i + CLAIM_AHEAD), now, counted) : Promise.resolve();
      await pool(part(i), n, (r) => sendOne(c, r));
    }
    await claimed;
  }

  async function send(c: RunningCampaign, batch: CampaignDeviceRecord[], now: number, counted = true) {
    const going = claimAndSend(c, batch, now, counted);
    let set = inFlight.get(c.row.id);
    if (!set) inFlight.set(c.row.id, (set = new Set()));
    set.add(going);
    try {
      await going;
    } finally {
      set.delete(going);
      if (!set.size) inFlight.delete(c.row.id);
    }
    await records.flush();
  }

  /** Sends the pending members whose turn it is, within the rate and their windows. */
  async function sendDue(c: RunningCampaign, now: number) {
    const rollingBack = c.row.rollingBack;
    if (c.ending || (effectiveState(c) !== 'running' && !rollingBack)) return;
    const due = [...c.members.values()]
      .filter(
        (r) =>
          r.state === 'pending' &&
          !r.sending &&
          (r.nextAttemptAt === null || r.nextAttemptAt <= now) &&
          (rollingBack ? r.action === 'revert' : r.phase < c.row.phasesStarted),
      )
      .sort((a, b) => a.phase - b.phase || a.rank - b.rank);
    if (!due.length) return;
    c.sentTimes = c.sentTimes.filter((t) => now - t < 60_000);
    let budget = rollingBack ? Number.POSITIVE_INFINITY : sendBudget(c.spec.rate, c.row.phasesStarted - 1, c.sentTimes, now, deps.tickMs);
    const batch: CampaignDeviceRecord[] = [];
    for (const r of due) {
      if (budget <= 0) break;
      const dev = memberDevice(c, r, deps.liveState);
      if (r.action === 'apply') {
        const target = c.targets.get(r.deviceId);
        const skip = !target ? 'unknown_device' : target.status !== 'enrolled' ? `device_${target.status}` : c.open.screen(dev);
        if (skip) {
          records.patch(c, r, { state: 'skipped', note: skip, finishedAt: now, active: false, reportedVersion: dev.reportedVersion });
          continue;
        }
        const zone = dev.labels.timezone ?? dev.labels.tz;
        if (!inWindow(c.spec.window, zone, now)) continue;
        if (target && !c.spec.ignoreMaintenanceWindows && !inRecurringWindows(governingWindows(target, deps.windows()), zone ?? target.merchantTimezone ?? undefined, now))
          continue;
      }
      batch.push(r);
      budget--;
    }
    if (batch.length) await send(c, batch, now);
    deps.lifecycle.afterChange(c);
  }

  return {
    send,
    sendDue,
    /** Once every send under way for `c` has created its command or given up (none starts once `c.ending` is set). */
    settled: async (c: RunningCampaign) => void (await Promise.allSettled([...(inFlight.get(c.row.id) ?? [])])),
  };
}

export type MemberSends = ReturnType<typeof createMemberSends>;
