// Database access of the campaign engine. Member records change at fleet speed, so their
// updates are batched into one UPDATE … FROM jsonb_to_recordset per chunk (server/core/jsonBulkWrite.ts).
import { and, asc, eq, gt, inArray, sql, type SQL } from 'drizzle-orm';
import { commands, devices, organisations, ROOT_ORG_ID, ROOT_ORG_PATH, users, type CommandRow } from '../../schemas/db.ts';
import { deviceGroupMembers } from '../../schemas/tables/groups.ts';
import { merchants } from '../../schemas/tables/merchants.ts';
import type { CampaignDeviceState } from '../../schemas/campaigns.ts';
import {
  campaignDevices,
  campaigns,
  type CampaignDeviceRecord,
  type CampaignDeviceRow,
  type CampaignRow,
  type CampaignState,
} from '../../schemas/tables/campaigns.ts';
import { createJsonBulkWriter, jsonRecordset } from '../core/jsonBulkWrite.ts';
import { errorDeviceStates } from './campaignRules.ts';
import type { InTx, Tx } from '../core/transaction.ts';
import type { Db } from '../db/database.ts';
import { createdInScope, type OrgScope } from '../orgs/scope.ts';
import { badCursor, isoInstant, keyMatching, publicIdPattern } from '../http/cursorParts.ts';

const CHUNK = 500;

export interface MemberPageQuery {
  limit: number;
  cursor?: string;
  state?: CampaignDeviceState;
  phase?: number;
  /** Only members whose last error has this code. */
  errorCode?: string;
}

/** What a start inserts of each member; the rest are the columns' defaults. */
export type NewMember = Pick<typeof campaignDevices.$inferInsert, 'campaignId' | 'deviceId' | 'lane' | 'phase' | 'rank'>;
const newMemberColumns = { campaign_id: 'text', device_id: 'text', lane: 'text', phase: 'int', rank: 'jsonb' } as const;
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

const ms = (d: Date | null) => (d ? d.getTime() : null);

export const recordFromRow = ({ lane: _lane, updatedAt: _updatedAt, ...r }: CampaignDeviceRow): CampaignDeviceRecord => ({
  ...r,
  nextAttemptAt: ms(r.nextAttemptAt),
  sentAt: ms(r.sentAt),
  lastHeardAt: ms(r.lastHeardAt),
  finishedAt: ms(r.finishedAt),
});

/** A member as the API shows it (`GET …/{id}/devices`). */
export const recordView = (r: CampaignDeviceRecord) => ({
  deviceId: r.deviceId,
  phase: r.phase,
  state: r.state,
  action: r.action,
  attempt: r.attempt,
  commandId: r.commandId,
  progress: r.progress,
  fromVersion: r.fromVersion,
  reportedVersion: r.reportedVersion,
  note: r.note,
  error: r.error,
  nextAttemptAt: iso(r.nextAttemptAt),
  sentAt: iso(r.sentAt),
  lastHeardAt: iso(r.lastHeardAt),
  finishedAt: iso(r.finishedAt),
});

export interface TargetInfo {
  id: string;
  model: string;
  status: string;
  fwVersion: string | null;
  labels: Record<string, string>;
  /** What a recurring maintenance window can be set for, and the bound merchant's time zone. */
  merchantId: string | null;
  merchantTimezone: string | null;
  orgPath: string | null;
  groupIds: string[];
}

/** Members of a campaign grouped by phase, action and state. */
export type MemberCount = Pick<CampaignDeviceRow, 'phase' | 'action' | 'state'> & { n: number };

export function createCampaignStore(db: Db) {
  // Member records change at fleet speed: each flush is one JSON parameter per chunk.
  const members = createJsonBulkWriter({
    db,
    columns: {
      campaign_id: 'text',
      device_id: 'text',
      state: 'text',
      action: 'text',
      attempt: 'int',
      deferrals: 'int',
      sending: 'boolean',
      command_id: 'text',
      next_attempt_at: 'timestamptz',
      sent_at: 'timestamptz',
      last_heard_at: 'timestamptz',
      finished_at: 'timestamptz',
      progress: 'int',
      reported_version: 'text',
      note: 'text',
      error: 'jsonb',
      active: 'boolean',
      from_version: 'text',
    },
    chunkSize: CHUNK,
    toRecord: (r: CampaignDeviceRecord) => ({
      campaign_id: r.campaignId,
      device_id: r.deviceId,
      state: r.state,
      action: r.action,
      attempt: r.attempt,
      deferrals: r.deferrals,
      sending: r.sending,
      command_id: r.commandId,
      next_attempt_at: iso(r.nextAttemptAt),
      sent_at: iso(r.sentAt),
      last_heard_at: iso(r.lastHeardAt),
      finished_at: iso(r.finishedAt),
      progress: r.progress,
      reported_version: r.reportedVersion,
      note: r.note,
      error: r.error,
      active: r.active,
      from_version: r.fromVersion,
    }),
    statement: (x) => sql`
      update ${campaignDevices} as d set
        state = x.state, action = x.action, attempt = x.attempt, deferrals = x.deferrals, sending = x.sending, command_id = x.command_id,
        next_attempt_at = x.next_attempt_at, sent_at = x.sent_at, last_heard_at = x.last_heard_at, finished_at = x.finished_at,
        progress = x.progress, reported_version = x.reported_version, note = x.note, error = x.error, active = x.active,
        from_version = x.from_version, updated_at = now()
      from ${x}
      where d.campaign_id = x.campaign_id and d.device_id = x.device_id`,
  });

  return {
    async insertCampaign(row: typeof campaigns.$inferInsert, tx?: Tx): Promise<CampaignRow> {
      const [r] = await (tx ?? db).insert(campaigns).values(row).returning();
      return r!;
    },
    /** `inTx` (a control's audit entry) runs in the update's transaction: both commit or neither. */
    async updateCampaign(id: string, patch: Partial<typeof campaigns.$inferInsert>, inTx?: InTx): Promise<void> {
      const update = (q: Db | Tx) =>
        q
          .update(campaigns)
          .set({ ...patch, updatedAt: new Date() })
          .where(eq(campaigns.id, id));
      if (!inTx) return void (await update(db));
      await db.transaction(async (tx) => {
        await update(tx);
        await inTx(tx);
      });
    },
    async campaign(id: string): Promise<CampaignRow | undefined> {
      const [r] = await db.select().from(campaigns).where(eq(campaigns.id, id)).limit(1);
      return r;
    },
    /** A page of `kind`'s campaigns whose creator's node is in `scope`'s subtree (ownerScope's rule). */
    async list(kind: string, scope: OrgScope, limit: number, cursor?: string): Promise<CampaignRow[]> {
      const where: SQL[] = [eq(campaigns.kind, kind)];
      const owned = createdInScope(scope, campaigns.createdBy);
      if (owned) where.push(owned);
      if (cursor) {
        const parts = cursor.split('|');
        if (parts.length !== 2) throw badCursor();
        const at = isoInstant(parts[0]!);
        const id = keyMatching(parts[1]!, publicIdPattern('cmp'));
        where.push(sql`(${campaigns.createdAt}, ${campaigns.id}) < (${at.toISOString()}::timestamptz, ${id})`);
      }
      return db
        .select()
        .from(campaigns)
        .where(and(...where))
        .orderBy(sql`${campaigns.createdAt} desc, ${campaigns.id} desc`)
        .limit(limit + 1);
    },
    async campaignsIn(states: CampaignState[]): Promise<CampaignRow[]> {
      return db.select().from(campaigns).where(inArray(campaigns.state, states));
    },
    async devicesOf(campaignId: string): Promise<CampaignDeviceRecord[]> {
      const rows = await db.select().from(campaignDevices).where(eq(campaignDevices.campaignId, campaignId));
      return rows.map(recordFromRow);
    },
    /** The campaign whose member `deviceId` was sent command `commandId`, if any. */
    async campaignOfCommand(commandId: string, deviceId: string): Promise<string | undefined> {
      const [row] = await db
        .select({ campaignId: campaignDevices.campaignId })
        .from(campaignDevices)
        .where(and(eq(campaignDevices.commandId, commandId), eq(campaignDevices.deviceId, deviceId)))
        .limit(1);
      return row?.campaignId;
    },
    async deviceInfo(ids: readonly string[]): Promise<Map<string, TargetInfo>> {
      const out = new Map<string, TargetInfo>();
      for (let i = 0; i < ids.length; i += 2000) {
        const chunk = ids.slice(i, i + 2000) as string[];
        const [rows, memberships] = await Promise.all([
          db
            .select({
              id: devices.id,
              model: devices.model,
              status: devices.status,
              fwVersion: devices.fwVersion,
              labels: devices.labels,
              merchantId: devices.merchantId,
              merchantTimezone: merchants.timezone,
              orgPath: organisations.path,
            })
            .from(devices)
            .leftJoin(merchants, eq(merchants.id, devices.merchantId))
            .leftJoin(organisations, eq(organisations.id, devices.orgId))
            .where(inArray(devices.id, chunk)),
          db.select().from(deviceGroupMembers).where(inArray(deviceGroupMembers.deviceId, chunk)),
        ]);
        for (const r of rows) out.set(r.id, { ...r, groupIds: [] });
        for (const m of memberships) out.get(m.deviceId)?.groupIds.push(m.groupId);
      }
      return out;
    },
    /**
     * Whose subtree a campaign's target is resolved in: its creator's node, whoever starts it (an
     * operator, the scheduler, a dynamic campaign's late joiners); the server's own campaigns, and
     * those of a user gone, the root's.
     */
    async ownerScope(createdBy: string | null): Promise<OrgScope> {
      if (createdBy) {
        const [row] = await db
          .select({ orgId: organisations.id, orgPath: organisations.path })
          .from(users)
          .innerJoin(organisations, eq(organisations.id, users.orgId))
          .where(eq(users.id, createdBy))
          .limit(1);
        if (row) return row;
      }
      return { orgId: ROOT_ORG_ID, orgPath: ROOT_ORG_PATH };
    },
    /** Devices among `ids` already in an active campaign of `lane` (other than `exceptCampaign`). */
    async busy(lane: string, ids: readonly string[], exceptCampaign?: string): Promise<Set<string>> {
      const out = new Set<string>();
      for (let i = 0; i < ids.length; i += 2000) {
        const rows = await db
          .select({ id: campaignDevices.deviceId })
          .from(campaignDevices)
          .where(
            and(
              eq(campaignDevices.lane, lane),
              eq(campaignDevices.active, true),
              inArray(campaignDevices.deviceId, ids.slice(i, i + 2000) as string[]),
              exceptCampaign ? sql`${campaignDevices.campaignId} <> ${exceptCampaign}` : undefined,
            ),
          );
        for (const r of rows) out.add(r.id);
      }
      return out;
    },
    /** Inserts members in one transaction: all or none (a unique violation means device_busy). */
    /** In `tx` when given (a start: with the state change and its audit entry), else a transaction of its own. */
    /** One JSON parameter per chunk: the query builder's bound values for a 10,000-terminal start held the broker's thread for over a second. */
    async insertDevices(list: readonly NewMember[], tx?: Tx): Promise<void> {
      const insert = async (t: Tx) => {
        for (let i = 0; i < list.length; i += CHUNK) {
          const rows = list.slice(i, i + CHUNK).map((m) => ({ campaign_id: m.campaignId, device_id: m.deviceId, lane: m.lane, phase: m.phase, rank: m.rank }));
          // The rank travels as a JSON number and is cast to the column's real, as a bound number would be.
          await t.execute(sql`
            insert into ${campaignDevices} (campaign_id, device_id, lane, phase, rank)
            select x.campaign_id, x.device_id, x.lane, x.phase, x.rank::real from ${jsonRecordset(newMemberColumns, rows)}`);
        }
      };
      await (tx ? insert(tx) : db.transaction(insert));
    },
    async insertDevice(row: typeof campaignDevices.$inferInsert): Promise<void> {
      await db.insert(campaignDevices).values(row);
    },
    /**
     * Writes the records' current values (every mutable column), as many as it can: a record that
     * can never be written comes back dropped, the rest to retry when the database is away.
     */
    writeDevices: (list: readonly CampaignDeviceRecord[]) => members.writeBehind(list),
    /** The command a claimed send created, if it got that far (found by campaign and attempt). */
    async commandFor(deviceId: string, campaignId: string, attempt: number): Promise<CommandRow | undefined> {
      const [row] = await db
        .select()
        .from(commands)
        .where(
          and(
            eq(commands.deviceId, deviceId),
            sql`${commands.payload}->>'campaignId' = ${campaignId}`,
            sql`(${commands.payload}->>'attempt')::int = ${attempt}`,
          ),
        )
        .limit(1);
      return row;
    },
    async commandsById(ids: readonly string[]): Promise<CommandRow[]> {
      const out: CommandRow[] = [];
      for (let i = 0; i < ids.length; i += 2000)
        out.push(
          ...(await db
            .select()
            .from(commands)
            .where(inArray(commands.id, ids.slice(i, i + 2000) as string[]))),
        );
      return out;
    },
    async countsFromDb(campaignId: string): Promise<MemberCount[]> {
      return db
        .select({
          phase: campaignDevices.phase,
          action: campaignDevices.action,
          state: campaignDevices.state,
          n: sql<number>`count(*)::int`,
        })
        .from(campaignDevices)
        .where(eq(campaignDevices.campaignId, campaignId))
        .groupBy(campaignDevices.phase, campaignDevices.action, campaignDevices.state);
    },
    /** A page of members by device id, each with its terminal's serial (null once the device is gone). */
    async pageDevices(campaignId: string, q: MemberPageQuery): Promise<{ member: CampaignDeviceRow; serial: string | null }[]> {
      const where: SQL[] = [eq(campaignDevices.campaignId, campaignId)];
      if (q.state) where.push(eq(campaignDevices.state, q.state));
      if (q.phase !== undefined) where.push(eq(campaignDevices.phase, q.phase));
      if (q.errorCode) where.push(sql`${campaignDevices.error}->>'code' = ${q.errorCode}`);
      if (q.cursor) where.push(gt(campaignDevices.deviceId, keyMatching(q.cursor, publicIdPattern('dev'))));
      return db
        .select({ member: campaignDevices, serial: devices.serial })
        .from(campaignDevices)
        .leftJoin(devices, eq(devices.id, campaignDevices.deviceId))
        .where(and(...where))
        .orderBy(asc(campaignDevices.deviceId))
        .limit(q.limit + 1);
    },

    /** The members that ended in error, counted by their error's code, with one message of each. */
    async failuresByCode(campaignId: string): Promise<{ code: string; count: number; message: string }[]> {
      const code = sql<string>`coalesce(${campaignDevices.error}->>'code', 'unknown')`;
      return db
        .select({ code, count: sql<number>`count(*)::int`, message: sql<string>`coalesce(min(${campaignDevices.error}->>'message'), '')` })
        .from(campaignDevices)
        .where(and(eq(campaignDevices.campaignId, campaignId), inArray(campaignDevices.state, [...errorDeviceStates])))
        .groupBy(code)
        .orderBy(sql`2 desc`, code);
    },
  };
}

export type CampaignStore = ReturnType<typeof createCampaignStore>;
