// Changes to campaign members, kept in memory and written behind: every change goes through
// `patch`, which keeps the campaign's counts in step, announces state changes on the bus and
// marks the record for the next write (one UPDATE … FROM (VALUES …) per flush, campaignStore.ts).
import type { CampaignDeviceRecord, CampaignRow } from '../../schemas/tables/campaigns.ts';
import { reportDropped } from '../core/droppedRows.ts';
import type { InTx } from '../core/transaction.ts';
import { serialWrites } from '../core/writeBehind.ts';
import type { EventBus } from '../events/eventBus.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import type { CampaignMetrics } from './campaignMetrics.ts';
import { isFinalDeviceState } from './campaignRules.ts';
import type { CampaignStore } from './campaignStore.ts';
import type { RunningCampaign } from './runningCampaign.ts';

export interface MemberRecordsDeps {
  store: CampaignStore;
  bus: EventBus;
  log: Logger;
  metrics: CampaignMetrics;
  /** Where the records dropped as never writable are counted. */
  drops: Pick<Metrics, 'writeBehindDropped'>;
}

export function createMemberRecords(deps: MemberRecordsDeps) {
  const dirty = new Set<CampaignDeviceRecord>();

  const count = (c: RunningCampaign, r: CampaignDeviceRecord, delta: 1 | -1) => {
    if (r.action === 'revert' && !isFinalDeviceState(r.state)) c.revertsOpen += delta;
    const phase = (c.counts[r.phase] ??= {});
    phase[r.state] = (phase[r.state] ?? 0) + delta;
  };

  const announce = (kind: string, r: CampaignDeviceRecord) =>
    deps.bus.emit('campaign.device', {
      campaignId: r.campaignId,
      kind,
      deviceId: r.deviceId,
      phase: r.phase,
      state: r.state,
      action: r.action,
      progress: r.progress,
      error: r.error,
    });

  async function writeDirty() {
    const list = [...dirty];
    dirty.clear();
    if (!list.length) return;
    const outcome = await deps.store.writeDevices(list);
    reportDropped(outcome.dropped, { buffer: 'campaign_devices', key: (r) => `${r.campaignId} ${r.deviceId}`, log: deps.log, metrics: deps.drops });
    if (outcome.retry.length) {
      for (const r of outcome.retry) dirty.add(r);
      deps.log.error({ err: outcome.error }, 'writing campaign device records failed; will retry');
    }
  }

  const writes = serialWrites(writeDirty);

  return {
    /** A member joins the campaign's records and counts (already stored). */
    add(c: RunningCampaign, r: CampaignDeviceRecord) {
      c.members.set(r.deviceId, r);
      count(c, r, 1);
    },

    patch(c: RunningCampaign, r: CampaignDeviceRecord, change: Partial<CampaignDeviceRecord>) {
      const before = r.state;
      count(c, r, -1);
      Object.assign(r, change);
      count(c, r, 1);
      dirty.add(r);
      if (r.state === before) return;
      announce(c.kind.name, r);
      if (isFinalDeviceState(r.state) && r.sentAt) deps.metrics.deviceFinished(c.kind.name, r.state, (Date.now() - r.sentAt) / 1000);
    },

    /** A change to a member of a campaign that has ended (no counts to keep in memory). */
    patchEnded(kind: string, r: CampaignDeviceRecord, change: Partial<CampaignDeviceRecord>) {
      const before = r.state;
      Object.assign(r, change);
      dirty.add(r);
      if (r.state !== before) announce(kind, r);
    },

    /** Writes every changed record (after the write under way): a read that needs the database current. */
    flush: () => writes.flush(),
    /** The timer's write: skipped while one is under way. */
    tick: () => writes.tick(),

    /**
     * Stores a change of the campaign's row. With `inTx` (its audit entry) both commit together
     * and memory follows the commit, so a refused entry leaves the campaign as it was; without,
     * memory goes first.
     */
    async saveRow(c: RunningCampaign, change: Partial<CampaignRow>, inTx?: InTx) {
      if (!inTx) Object.assign(c.row, change);
      await deps.store.updateCampaign(c.row.id, change, inTx);
      Object.assign(c.row, change);
    },
  };
}

export type MemberRecords = ReturnType<typeof createMemberRecords>;
