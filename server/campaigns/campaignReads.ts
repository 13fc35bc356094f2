// What the campaign API and the kinds' modules read of campaigns: a campaign's summary and its
// members, from memory while it runs here (the database lags it by one write-behind flush), from
// the database otherwise. Nothing here changes a campaign.
import { campaignSpec } from '../../schemas/campaigns.ts';
import type { CampaignRow } from '../../schemas/tables/campaigns.ts';
import { notFound } from '../errors.ts';
import type { OrgScope } from '../orgs/scope.ts';
import { inFlightDeviceStates } from './campaignRules.ts';
import { recordFromRow, recordView, type CampaignStore, type MemberPageQuery } from './campaignStore.ts';
import { campaignSummary, countsFromGroups, type CampaignSummary } from './campaignSummary.ts';
import type { MemberRecords } from './memberRecords.ts';
import type { RunningCampaigns } from './runningCampaign.ts';

export interface CampaignReadsDeps {
  store: CampaignStore;
  running: RunningCampaigns;
  records: MemberRecords;
  /** The lane of a registered kind (a stored campaign's own lane stands for an unregistered one). */
  laneOf: (kindName: string) => string | undefined;
}

export function createCampaignReads({ store, running, records, laneOf }: CampaignReadsDeps) {
  async function mustGet(id: string, kind: string): Promise<CampaignRow> {
    const row = running.get(id)?.row ?? (await store.campaign(id));
    if (!row || row.kind !== kind) throw notFound(`${kind} campaign ${id}`);
    return row;
  }

  async function summary(row: CampaignRow): Promise<CampaignSummary> {
    const c = running.get(row.id);
    const spec = c?.spec ?? campaignSpec.parse(row.spec);
    if (c) await records.flush();
    const counts = c
      ? { phases: c.counts, reverting: c.revertsOpen }
      : countsFromGroups(await store.countsFromDb(row.id), spec.phases.length);
    return campaignSummary({ row, spec, counts, openSummary: c?.open.summary ?? null, kindLane: laneOf(row.kind) ?? row.lane });
  }

  return {
    mustGet,
    summary,

    async get(kindName: string, id: string) {
      return summary(await mustGet(id, kindName));
    },

    async list(kindName: string, scope: OrgScope, limit: number, cursor?: string) {
      const rows = await store.list(kindName, scope, limit, cursor);
      const items = await Promise.all(rows.slice(0, limit).map((r) => summary(running.get(r.id)?.row ?? r)));
      const last = rows[limit - 1];
      return { items, nextCursor: rows.length > limit && last ? `${last.createdAt.toISOString()}|${last.id}` : null };
    },

    async devices(kindName: string, id: string, q: MemberPageQuery) {
      await mustGet(id, kindName);
      await records.flush();
      const rows = await store.pageDevices(id, q);
      const c = running.get(id);
      const items = rows
        .slice(0, q.limit)
        .map(({ member, serial }) => ({ ...recordView(c?.members.get(member.deviceId) ?? recordFromRow(member)), serial }));
      const last = items[items.length - 1];
      return { items, nextCursor: rows.length > q.limit && last ? last.deviceId : null };
    },

    /** Why members failed: the error codes of the members in an error state, most frequent first. */
    async failures(kindName: string, id: string) {
      await mustGet(id, kindName);
      await records.flush();
      const byCode = await store.failuresByCode(id);
      return { total: byCode.reduce((n, f) => n + f.count, 0), byCode };
    },

    /** For tests and metrics: in-flight devices of a running campaign. */
    inFlight(id: string): number {
      const c = running.get(id);
      return c ? [...c.members.values()].filter((r) => inFlightDeviceStates.includes(r.state)).length : 0;
    },

    /**
     * The campaign whose member `deviceId` was sent command `commandId`, if any. Memory first: a
     * running campaign's member records reach the database write-behind, so a command cancelled
     * right after it was sent may not be in `campaign_devices` yet.
     */
    async campaignOfCommand(commandId: string, deviceId: string): Promise<string | undefined> {
      for (const c of running.values()) if (c.members.get(deviceId)?.commandId === commandId) return c.row.id;
      return store.campaignOfCommand(commandId, deviceId);
    },
  };
}
