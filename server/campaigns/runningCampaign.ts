// A campaign while it runs, as the engine holds it in memory: its row, its members' records and
// the counts kept up to date with every change, so acks at fleet speed never wait on a query.
// Every part of the engine (records, answers, tick, sends, summary) works on this one shape.
import type { CampaignSpec } from '../../schemas/campaigns.ts';
import type { CampaignDeviceRecord, CampaignRow, CampaignState } from '../../schemas/tables/campaigns.ts';
import type { EventBus, LiveEvents } from '../events/eventBus.ts';
import type { LiveState } from '../telemetry/liveState.ts';
import type { CampaignDevice, CampaignKind, OpenCampaign } from './campaignKind.ts';
import type { StateCounts } from './campaignRules.ts';
import type { TargetInfo } from './campaignStore.ts';

export interface RunningCampaign {
  row: CampaignRow;
  spec: CampaignSpec;
  kind: CampaignKind;
  open: OpenCampaign;
  /** By device id. */
  members: Map<string, CampaignDeviceRecord>;
  /** What the devices table says of each member (model, status, labels). */
  targets: Map<string, TargetInfo>;
  /** Per phase, every member by its state (reverts included): always sums to the phase's size. */
  counts: StateCounts[];
  /** Members whose revert is not final yet. */
  revertsOpen: number;
  /** Send times of the last minute (the rate limit). */
  sentTimes: number[];
  lastDynamicMs: number;
  lastReconcileMs: number;
  /**
   * The final state a finish is writing. Decisions and sends stop at once, while reads keep
   * showing `row.state` until every record and every effect of the kind is stored.
   */
  ending: CampaignState | null;
}

/** By campaign id. */
export type RunningCampaigns = Map<string, RunningCampaign>;

/** What the engine's parts share in memory. */
export interface CampaignMemory {
  running: RunningCampaigns;
  /** Members with a command in flight, by command id. */
  byCommand: Map<string, CampaignDeviceRecord>;
}

/** The state the engine acts on: a finish under way counts as finished. */
export const effectiveState = (c: RunningCampaign): CampaignState => c.ending ?? c.row.state;

/** What the kind is told about a member; `reportedVersion` is what the device itself last said. */
export function campaignDevice(
  r: Pick<CampaignDeviceRecord, 'deviceId' | 'fromVersion'>,
  target: TargetInfo | undefined,
  reportedVersion: string | null | undefined,
): CampaignDevice {
  return {
    deviceId: r.deviceId,
    model: target?.model ?? '',
    reportedVersion: reportedVersion ?? target?.fwVersion ?? null,
    labels: target?.labels ?? {},
    fromVersion: r.fromVersion,
  };
}

/** A member of a running campaign as its kind sees it, with the version the device reports now. */
export const memberDevice = (c: RunningCampaign, r: CampaignDeviceRecord, liveState: LiveState): CampaignDevice =>
  campaignDevice(r, c.targets.get(r.deviceId), liveState.get(r.deviceId)?.fwVersion);

type CampaignEvent = LiveEvents['campaign.updated'];

export function emitCampaign(bus: EventBus, c: RunningCampaign | CampaignRow, extra: Partial<CampaignEvent> = {}) {
  const row = 'row' in c ? c.row : c;
  bus.emit('campaign.updated', {
    id: row.id,
    kind: row.kind,
    state: row.state,
    phasesStarted: row.phasesStarted,
    pausedReason: row.pausedReason,
    rollingBack: row.rollingBack,
    ...('row' in c ? { counts: c.counts } : {}),
    ...extra,
  });
}
