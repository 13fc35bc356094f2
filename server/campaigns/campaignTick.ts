// One tick of the engine over every running campaign: timeouts, re-sends after deferrals,
// device-reported truth, the phase decisions until nothing changes, late joiners, then the sends.
import type { CommandService } from '../commands/commandService.ts';
import type { EventBus } from '../events/eventBus.ts';
import type { Logger } from '../log.ts';
import type { LiveState } from '../telemetry/liveState.ts';
import type { AbortWatch } from './abortWatch.ts';
import type { CampaignLifecycle } from './campaignLifecycle.ts';
import type { CampaignLoader } from './campaignLoader.ts';
import { isDeferralDue, isTimedOut } from './campaignRules.ts';
import type { MemberRecords } from './memberRecords.ts';
import type { MemberSends } from './memberSends.ts';
import { effectiveState, emitCampaign, memberDevice, type CampaignMemory, type RunningCampaign } from './runningCampaign.ts';

const DYNAMIC_EVERY_MS = 5000;
const RECONCILE_EVERY_MS = 5000;
/** Decisions applied in one step at most (each changes the counts the next one reads). */
const MAX_DECISIONS_PER_STEP = 50;

export interface CampaignTickDeps extends CampaignMemory {
  records: MemberRecords;
  lifecycle: CampaignLifecycle;
  sends: MemberSends;
  loader: CampaignLoader;
  aborts: AbortWatch;
  commands: CommandService;
  liveState: LiveState;
  bus: EventBus;
  log: Logger;
}

export function createCampaignTick(deps: CampaignTickDeps) {
  const { records, lifecycle } = deps;

  /** Device-reported truth: a succeeded device that now reports something else rolled back; a timed-out one that reports the target succeeded. */
  function deviceTruth(c: RunningCampaign) {
    if (!c.open.isDone) return;
    for (const r of c.members.values()) {
      if (r.action !== 'apply' || (r.state !== 'succeeded' && r.state !== 'timed_out')) continue;
      const reported = deps.liveState.get(r.deviceId);
      if (!reported?.online || !reported.fwVersion) continue;
      const done = c.open.isDone(memberDevice(c, r, deps.liveState));
      // Back on the version it had (not moved on by a later rollout): it rolled back by itself.
      if (done === false && r.state === 'succeeded' && reported.fwVersion === r.fromVersion)
        records.patch(c, r, {
          state: 'rolled_back',
          reportedVersion: reported.fwVersion,
          note: `device now reports ${reported.fwVersion}`,
        });
      else if (done === true && r.state === 'timed_out')
        records.patch(c, r, { state: 'succeeded', reportedVersion: reported.fwVersion, note: 'device reports the target after a timeout' });
    }
    lifecycle.afterChange(c);
  }

  async function timeOutSilent(c: RunningCampaign, now: number) {
    for (const r of c.members.values()) {
      if (!isTimedOut(r, c.spec.deviceTimeoutS, now)) continue;
      const cmdId = r.commandId;
      records.patch(c, r, {
        state: 'timed_out',
        finishedAt: now,
        error: { code: 'timeout', message: `silent for over ${c.spec.deviceTimeoutS} s` },
        active: false,
      });
      if (cmdId) {
        deps.byCommand.delete(cmdId);
        // Not asked to abort: if it finishes after all, deviceTruth counts it succeeded.
        await deps.commands.cancel(r.deviceId, cmdId, { abort: false }).catch(() => undefined);
      }
    }
  }

  /** Deferred members whose pause is over get the command again (a new one: the agent forgot the old). */
  async function resendDeferred(c: RunningCampaign, now: number) {
    const again = [...c.members.values()].filter(
      (r) => !r.sending && isDeferralDue(r, now) && (effectiveState(c) === 'running' || r.action === 'revert'),
    );
    if (!again.length) return;
    for (const r of again) {
      const cmdId = r.commandId;
      if (cmdId) {
        deps.byCommand.delete(cmdId);
        await deps.commands.cancel(r.deviceId, cmdId).catch(() => undefined);
      }
      records.patch(c, r, { deferrals: r.deferrals + 1, nextAttemptAt: null });
    }
    await deps.sends.send(c, again, now, false);
  }

  /** Applies the decisions in order until nothing changes; false once the campaign finished. */
  async function applyDecisions(c: RunningCampaign, now: number): Promise<boolean> {
    for (let i = 0; i < MAX_DECISIONS_PER_STEP; i++) {
      const d = lifecycle.decision(c);
      if (d.kind === 'none') break;
      if (d.kind === 'trip') await lifecycle.trip(c, d);
      else if (d.kind === 'start_phase') {
        await records.saveRow(c, { phasesStarted: d.phase + 1, phaseStartedAt: [...c.row.phaseStartedAt, new Date(now).toISOString()] });
        deps.log.info({ campaign: c.row.id, phase: d.phase }, 'campaign phase started');
        emitCampaign(deps.bus, c, { reason: 'phase_started' });
      } else {
        await lifecycle.finish(c, d.state);
        return false;
      }
    }
    return true;
  }

  async function step(c: RunningCampaign) {
    const now = Date.now();
    await timeOutSilent(c, now);
    await resendDeferred(c, now);
    if (now - c.lastReconcileMs > RECONCILE_EVERY_MS) {
      c.lastReconcileMs = now;
      deviceTruth(c);
    }
    if (!(await applyDecisions(c, now))) return;
    if (effectiveState(c) === 'running' && c.spec.dynamic && now - c.lastDynamicMs > DYNAMIC_EVERY_MS) {
      c.lastDynamicMs = now;
      await deps.loader.addLateJoiners(c);
    }
    await deps.sends.sendDue(c, now);
  }

  return async function tickAll() {
    for (const c of [...deps.running.values()]) {
      try {
        await step(c);
      } catch (err) {
        deps.log.error({ err, campaign: c.row.id }, 'campaign step failed');
      }
    }
    deps.aborts.settle();
    await records.flush();
  };
}
