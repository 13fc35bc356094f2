// Bringing campaigns into memory: loading a running campaign (at start, after a restart, when it
// starts), settling what a restart interrupted, and letting late joiners into a dynamic campaign.
import { MAX_TARGET, campaignSpec } from '../../schemas/campaigns.ts';
import type { CampaignDeviceRecord, CampaignRow } from '../../schemas/tables/campaigns.ts';
import { isUniqueViolation } from '../core/sqlState.ts';
import type { DeviceService } from '../devices/deviceService.ts';
import type { CampaignKind } from './campaignKind.ts';
import { isFinalDeviceState, rankOf } from './campaignRules.ts';
import type { CampaignStore } from './campaignStore.ts';
import type { CommandChange } from './memberAnswers.ts';
import type { MemberRecords } from './memberRecords.ts';
import { unclaim } from './memberSends.ts';
import type { CampaignMemory, RunningCampaign } from './runningCampaign.ts';

export interface CampaignLoaderDeps extends CampaignMemory {
  store: CampaignStore;
  devices: DeviceService;
  records: MemberRecords;
  kindOf(name: string): CampaignKind;
  onCommandChange(e: CommandChange): void;
}

/** A member that has not been sent anything yet. */
export const newMember = (m: Pick<CampaignDeviceRecord, 'campaignId' | 'deviceId' | 'phase' | 'rank' | 'note'>): CampaignDeviceRecord => ({
  ...m,
  state: 'pending',
  action: 'apply',
  attempt: 0,
  deferrals: 0,
  sending: false,
  commandId: null,
  nextAttemptAt: null,
  sentAt: null,
  lastHeardAt: null,
  finishedAt: null,
  progress: null,
  fromVersion: null,
  reportedVersion: null,
  error: null,
  active: true,
});

export function createCampaignLoader(deps: CampaignLoaderDeps) {
  const { store, records } = deps;

  /**
   * Answers stored while nobody listened: the command rows of members in flight. Members are
   * listened for first, so an answer heard during the read is not lost (a final one stands: the
   * member leaves `byCommand` and the older row read after it is ignored).
   */
  async function catchUp(c: RunningCampaign) {
    const open = [...c.members.values()].filter((r) => r.commandId && !isFinalDeviceState(r.state) && r.state !== 'pending');
    for (const r of open) if (r.commandId) deps.byCommand.set(r.commandId, r);
    const cmds = await store.commandsById(open.flatMap((r) => (r.commandId ? [r.commandId] : [])));
    for (const cmd of cmds) {
      if (cmd.state === 'pending' || cmd.state === 'queued') continue;
      deps.onCommandChange({ id: cmd.id, state: cmd.state, stage: cmd.stage, progress: cmd.progress, error: cmd.error, result: cmd.result });
    }
    await records.flush();
  }

  return {
    async load(row: CampaignRow): Promise<RunningCampaign> {
      const kind = deps.kindOf(row.kind);
      const spec = campaignSpec.parse(row.spec);
      const open = await kind.open(kind.params.parse(row.params), row.id, spec);
      const members = await store.devicesOf(row.id);
      const c: RunningCampaign = {
        row,
        spec,
        kind,
        open,
        members: new Map(),
        targets: await store.deviceInfo(members.map((r) => r.deviceId)),
        counts: spec.phases.map(() => ({})),
        revertsOpen: 0,
        sentTimes: [],
        lastDynamicMs: 0,
        lastReconcileMs: 0,
        ending: null,
      };
      for (const r of members) records.add(c, r);
      deps.running.set(row.id, c);
      return c;
    },

    /** After a restart: settle claimed sends and pick up answers that arrived while we were away. */
    async reconcile(c: RunningCampaign) {
      for (const r of c.members.values()) {
        if (!r.sending) continue;
        const cmd = await store.commandFor(r.deviceId, c.row.id, r.attempt);
        if (cmd) records.patch(c, r, { sending: false, commandId: cmd.id, state: 'sent', sentAt: cmd.issuedAt.getTime() });
        else records.patch(c, r, unclaim(r, Date.now()));
      }
      await catchUp(c);
    },

    catchUp,

    /** A dynamic campaign takes in devices that match its target now and are free (a deleted group or filter: none). */
    async addLateJoiners(c: RunningCampaign) {
      if ('deviceIds' in c.spec.target) return;
      const scope = await store.ownerScope(c.row.createdBy);
      const ids = await deps.devices.idsForTarget(c.spec.target, MAX_TARGET, { gone: 'empty', scope });
      const fresh = ids.filter((id) => !c.members.has(id));
      if (!fresh.length) return;
      const busy = await store.busy(c.row.lane, fresh, c.row.id);
      const targets = await store.deviceInfo(fresh);
      const phase = Math.max(0, c.row.phasesStarted - 1);
      for (const id of fresh) {
        const target = targets.get(id);
        if (busy.has(id) || !target) continue;
        const row = { campaignId: c.row.id, deviceId: id, lane: c.row.lane, phase, rank: rankOf(c.row.seed, id) };
        try {
          await store.insertDevice(row);
        } catch (err) {
          if (isUniqueViolation(err)) continue;
          throw err;
        }
        c.targets.set(id, target);
        records.add(c, newMember({ campaignId: c.row.id, deviceId: id, phase, rank: row.rank, note: 'joined late' }));
      }
    },
  };
}

export type CampaignLoader = ReturnType<typeof createCampaignLoader>;
