// After a cancel: devices that were working on their command were asked to abort. Their answer
// (to the `cancel` command) and the version they report for a while afterwards settle their
// records, after the campaign itself has ended (a device the cancel reached too late is counted
// by what it reports).
import type { CampaignDeviceRecord } from '../../schemas/tables/campaigns.ts';
import type { Logger } from '../log.ts';
import type { LiveState } from '../telemetry/liveState.ts';
import type { OpenCampaign } from './campaignKind.ts';
import { afterAbortAnswer, truthAfterCancel } from './campaignRules.ts';
import type { TargetInfo } from './campaignStore.ts';
import type { MemberRecords } from './memberRecords.ts';
import { campaignDevice } from './runningCampaign.ts';

/** How long after a cancel the version a device reports may still correct its record. */
export const ABORT_WATCH_MS = 30 * 60_000;

/** A member of an ended campaign that was asked to abort. */
export interface AbortedMember {
  rec: CampaignDeviceRecord;
  kind: string;
  open: OpenCampaign;
  target: TargetInfo | undefined;
  until: number;
}

export interface AbortWatchDeps {
  records: MemberRecords;
  liveState: LiveState;
  log: Logger;
}

export function createAbortWatch(deps: AbortWatchDeps) {
  /** By the id of the `cancel` command sent to the device. */
  const byAbortCommand = new Map<string, AbortedMember>();
  /** Whose reported version is checked every tick until `until`. */
  const watched = new Set<AbortedMember>();

  return {
    watch(abortCommandId: string, m: AbortedMember) {
      byAbortCommand.set(abortCommandId, m);
      watched.add(m);
    },

    /** An update of a command; false when it is not an abort request this watch knows. */
    onAnswer(commandId: string, state: string, code: string | null): boolean {
      const m = byAbortCommand.get(commandId);
      if (!m) return false;
      const a = afterAbortAnswer(state, code);
      if (!a) return true;
      byAbortCommand.delete(commandId);
      if (!a.watch) watched.delete(m);
      // Already settled by what the device reports (it finished first): that stands.
      if (m.rec.state === 'cancelled') deps.records.patchEnded(m.kind, m.rec, { note: a.note });
      deps.log.info({ campaign: m.rec.campaignId, deviceId: m.rec.deviceId, state, code }, 'device answered the abort request');
      return true;
    },

    /** The server believes the version the device reports: a cancel that came too late is corrected. */
    settle(now = Date.now()) {
      for (const m of watched) {
        if (now > m.until) {
          watched.delete(m);
          continue;
        }
        const reported = deps.liveState.get(m.rec.deviceId);
        if (!reported?.online || !reported.fwVersion || !m.open.isDone) continue;
        const change = truthAfterCancel(m.rec, reported.fwVersion, m.open.isDone(campaignDevice(m.rec, m.target, reported.fwVersion)));
        if (change) {
          deps.records.patchEnded(m.kind, m.rec, { ...change, finishedAt: now });
          deps.log.info(
            { campaign: m.rec.campaignId, deviceId: m.rec.deviceId, state: m.rec.state },
            'device record corrected after the cancel',
          );
        }
      }
    },
  };
}

export type AbortWatch = ReturnType<typeof createAbortWatch>;
