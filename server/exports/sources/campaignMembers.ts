// A campaign's per-terminal results (rollouts, key rotations, any kind): state, the error's code
// and message, the serial. Read through the campaign engine, which answers a running campaign's
// members from memory (the database lags one write-behind flush), keyset-paged by device id.
import { and, eq, inArray, sql } from 'drizzle-orm';
import type { CampaignDeviceState } from '../../../schemas/campaigns.ts';
import { devices, users } from '../../../schemas/db.ts';
import { campaignDevices, campaigns } from '../../../schemas/tables/campaigns.ts';
import type { CampaignEngine } from '../../campaigns/campaignEngine.ts';
import type { Db } from '../../db/database.ts';
import { notFound } from '../../errors.ts';
import { scopedDevice, scopedTo, seesAll, type OrgScope } from '../../orgs/scope.ts';
import type { CampaignMemberExportRow } from '../rowSchemas.ts';

export interface CampaignMemberFilter {
  state?: CampaignDeviceState;
  phase?: number;
  errorCode?: string;
}

export interface CampaignMemberDeps {
  db: Db;
  campaigns: CampaignEngine;
  pageSize: number;
  onPage: () => void;
}

/**
 * The campaign's kind, or 404 as for an unknown id: outside the root a campaign is seen when its
 * creator or one of its members is in the caller's subtree.
 */
export async function campaignKindFor(db: Db, id: string, scope: OrgScope): Promise<string> {
  const [row] = await db
    .select({ kind: campaigns.kind, createdBy: campaigns.createdBy })
    .from(campaigns)
    .where(eq(campaigns.id, id))
    .limit(1);
  if (!row) throw notFound(`campaign ${id}`);
  if (seesAll(scope)) return row.kind;
  const byCreator = row.createdBy
    ? await db
        .select({ id: users.id })
        .from(users)
        .where(and(eq(users.id, row.createdBy), scopedTo(scope, users.orgId)))
        .limit(1)
    : [];
  const byMember = byCreator.length
    ? byCreator
    : await db
        .select({ id: campaignDevices.deviceId })
        .from(campaignDevices)
        .where(and(eq(campaignDevices.campaignId, id), scopedDevice(scope, campaignDevices.deviceId)))
        .limit(1);
  if (!byMember.length) throw notFound(`campaign ${id}`);
  return row.kind;
}

/** Of these devices, those in the caller's subtree (all of them for the root). */
async function inScope(db: Db, ids: string[], scope: OrgScope): Promise<Set<string> | undefined> {
  if (seesAll(scope) || ids.length === 0) return undefined;
  const rows = await db
    .select({ id: devices.id })
    .from(devices)
    .where(and(inArray(devices.id, ids), scopedTo(scope, devices.orgId) ?? sql`true`));
  return new Set(rows.map((r) => r.id));
}

export async function* campaignMemberPages(
  deps: CampaignMemberDeps,
  campaign: { id: string; kind: string },
  filter: CampaignMemberFilter,
  scope: OrgScope,
): AsyncGenerator<CampaignMemberExportRow[]> {
  let cursor: string | undefined;
  for (;;) {
    const page = await deps.campaigns.devices(campaign.kind, campaign.id, { limit: deps.pageSize, cursor, ...filter });
    deps.onPage();
    const visible = await inScope(
      deps.db,
      page.items.map((m) => m.deviceId),
      scope,
    );
    const rows = page.items
      .filter((m) => !visible || visible.has(m.deviceId))
      .map((m) => ({
        campaignId: campaign.id,
        deviceId: m.deviceId,
        serial: m.serial,
        phase: m.phase,
        state: m.state,
        action: m.action,
        attempt: m.attempt,
        commandId: m.commandId,
        progress: m.progress,
        fromVersion: m.fromVersion,
        reportedVersion: m.reportedVersion,
        note: m.note,
        errorCode: m.error?.code ?? null,
        errorMessage: m.error?.message ?? null,
        nextAttemptAt: m.nextAttemptAt,
        sentAt: m.sentAt,
        lastHeardAt: m.lastHeardAt,
        finishedAt: m.finishedAt,
      }));
    if (rows.length) yield rows;
    if (!page.nextCursor) return;
    cursor = page.nextCursor;
  }
}
