// Campaigns (server/campaigns/): firmware rollouts and key rotations share these tables. The
// database is the truth: a restart reloads every running campaign from here.
import { sql } from 'drizzle-orm';
import { boolean, index, integer, jsonb, pgTable, primaryKey, real, text, uniqueIndex } from 'drizzle-orm/pg-core';
import { createdAt, publicId, ts, updatedAt } from './columns.ts';
import { campaignDeviceActions, campaignDeviceStates, type CampaignSpec } from '../campaigns.ts';
import type { ErrorInfo } from '../wire.ts';

export const campaignStates = ['draft', 'running', 'paused', 'succeeded', 'failed', 'cancelled'] as const;
export type CampaignState = (typeof campaignStates)[number];

export const campaigns = pgTable(
  'campaigns',
  {
    id: publicId(),
    kind: text('kind').notNull(),
    lane: text('lane').notNull(),
    name: text('name').notNull(),
    state: text('state', { enum: campaignStates }).notNull().default('draft'),
    /** Kind-specific part of the request (firmwareId, mode...). */
    params: jsonb('params').$type<Record<string, unknown>>().notNull(),
    /** Generic part: target, phases, thresholds, rate, window, timeouts, retries (CampaignSpec). */
    spec: jsonb('spec').$type<CampaignSpec>().notNull(),
    /** Seed of the random phase draw (reproducible). */
    seed: text('seed').notNull(),
    /** Phases started so far (0 until start). */
    phasesStarted: integer('phases_started').notNull().default(0),
    phaseStartedAt: jsonb('phase_started_at').$type<string[]>().notNull().default([]),
    pausedReason: text('paused_reason'),
    /** Counts at the moment a threshold tripped. */
    tripped: jsonb('tripped').$type<Record<string, unknown>>(),
    /** Errors per phase already seen by an operator who resumed (the threshold re-arms above them). */
    errorBaseline: jsonb('error_baseline').$type<number[]>().notNull().default([]),
    rollingBack: boolean('rolling_back').notNull().default(false),
    createdBy: text('created_by'),
    createdAt: createdAt(),
    startedAt: ts('started_at'),
    finishedAt: ts('finished_at'),
    updatedAt: updatedAt(),
  },
  (t) => [index('campaigns_kind_state_idx').on(t.kind, t.state)],
);

export const campaignDevices = pgTable(
  'campaign_devices',
  {
    campaignId: text('campaign_id')
      .notNull()
      .references(() => campaigns.id, { onDelete: 'cascade' }),
    deviceId: text('device_id').notNull(),
    lane: text('lane').notNull(),
    phase: integer('phase').notNull(),
    /** Position in the seeded draw: lower goes first. */
    rank: real('rank').notNull(),
    state: text('state', { enum: campaignDeviceStates }).notNull().default('pending'),
    action: text('action', { enum: campaignDeviceActions }).notNull().default('apply'),
    attempt: integer('attempt').notNull().default(0),
    /** Re-sends after the device deferred (busy, outside its window): not counted against `retries`. */
    deferrals: integer('deferrals').notNull().default(0),
    /** True while claimed for sending: a restart finds the command by (campaign, attempt) or sends nothing. */
    sending: boolean('sending').notNull().default(false),
    commandId: text('command_id'),
    nextAttemptAt: ts('next_attempt_at'),
    sentAt: ts('sent_at'),
    lastHeardAt: ts('last_heard_at'),
    finishedAt: ts('finished_at'),
    progress: integer('progress'),
    fromVersion: text('from_version'),
    reportedVersion: text('reported_version'),
    /** Why skipped / deferred / failed. */
    note: text('note'),
    error: jsonb('error').$type<ErrorInfo>(),
    /** Holds the device's one active campaign per lane (409 device_busy). */
    active: boolean('active').notNull().default(true),
    updatedAt: updatedAt(),
  },
  (t) => [
    primaryKey({ columns: [t.campaignId, t.deviceId] }),
    uniqueIndex('campaign_devices_active_uq')
      .on(t.lane, t.deviceId)
      .where(sql`${t.active}`),
    index('campaign_devices_command_idx').on(t.commandId),
    index('campaign_devices_state_idx').on(t.campaignId, t.state),
  ],
);

export type CampaignRow = typeof campaigns.$inferSelect;
export type CampaignDeviceRow = typeof campaignDevices.$inferSelect;

/** Times as epoch milliseconds: the engine compares them on every tick. */
type TimesInMs<T> = { [K in keyof T]: T[K] extends Date ? number : T[K] extends Date | null ? number | null : T[K] };

/**
 * A campaign member as the engine holds it while its campaign runs: the row without the columns
 * only the database keeps (`lane`, `updatedAt`), times in ms. The one device shape of campaigns.
 */
export type CampaignDeviceRecord = TimesInMs<Omit<CampaignDeviceRow, 'lane' | 'updatedAt'>>;
