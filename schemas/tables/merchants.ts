// Merchants, terminal bindings (kept forever), re-binding requests, terminal locks, relocation
// tracking, merchant alerts and the card blacklist (SPEC §6).
import { sql } from 'drizzle-orm';
import { bigserial, boolean, doublePrecision, index, integer, jsonb, pgTable, text, uniqueIndex } from 'drizzle-orm/pg-core';
import type { MerchantPolicy } from '../binding.ts';
import { deviceKey, deviceRef, orgRef } from '../db.ts';
import { createdAt, publicId, ts, updatedAt } from './columns.ts';

export const merchantStatuses = ['pending_review', 'active', 'suspended', 'rejected'] as const;
export type MerchantStatus = (typeof merchantStatuses)[number];

export interface SubMerchant {
  subId: string;
  name: string;
}
export interface MerchantDocuments {
  businessLicenceNo: string;
  taxId: string;
}

export const merchants = pgTable(
  'merchants',
  {
    id: publicId(),
    mid: text('mid').notNull(),
    name: text('name').notNull(),
    mcc: text('mcc').notNull(),
    address: text('address').notNull(),
    lat: doublePrecision('lat').notNull(),
    lon: doublePrecision('lon').notNull(),
    radiusM: integer('radius_m').notNull(),
    timezone: text('timezone').notNull(),
    kind: text('kind', { enum: ['single', 'marketplace'] }).notNull(),
    documents: jsonb('documents').$type<MerchantDocuments>().notNull(),
    subMerchants: jsonb('sub_merchants').$type<SubMerchant[]>().notNull().default([]),
    policy: jsonb('policy').$type<MerchantPolicy>().notNull(),
    status: text('status', { enum: merchantStatuses }).notNull().default('pending_review'),
    orgId: orgRef(),
    statusReason: text('status_reason'),
    createdBy: text('created_by'),
    reviewedBy: text('reviewed_by'),
    reviewedAt: ts('reviewed_at'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [uniqueIndex('merchants_mid_uq').on(t.mid), index('merchants_status_idx').on(t.status, t.id), index('merchants_org_idx').on(t.orgId)],
);

/** Every binding a terminal ever had; the open one has `closed_at` null. Never deleted. */
export const merchantBindings = pgTable(
  'merchant_bindings',
  {
    id: publicId(),
    deviceId: deviceRef(),
    merchantId: text('merchant_id')
      .notNull()
      .references(() => merchants.id),
    tid: text('tid').notNull(),
    /** Of the token last issued for this binding; grows per device across all its bindings. */
    epoch: integer('epoch').notNull(),
    token: text('token').notNull(),
    rebindRequestId: text('rebind_request_id'),
    createdBy: text('created_by'),
    createdAt: createdAt(),
    closedAt: ts('closed_at'),
    closedBy: text('closed_by'),
    closeReason: text('close_reason'),
  },
  (t) => [
    // One terminal, one merchant: at most one open binding per terminal, enforced by the database.
    uniqueIndex('merchant_bindings_one_open_uq')
      .on(t.deviceId)
      .where(sql`${t.closedAt} is null`),
    // A TID names one terminal within its merchant.
    uniqueIndex('merchant_bindings_tid_uq')
      .on(t.merchantId, t.tid)
      .where(sql`${t.closedAt} is null`),
    index('merchant_bindings_device_idx').on(t.deviceId, t.createdAt),
    index('merchant_bindings_merchant_idx').on(t.merchantId),
  ],
);

/** Highest binding epoch issued per terminal: the next token gets a larger one. */
export const bindingEpochs = pgTable('binding_epochs', {
  deviceId: deviceKey(),
  epoch: integer('epoch').notNull(),
});

export const rebindStatuses = ['pending', 'approved', 'rejected', 'expired'] as const;
export type RebindStatus = (typeof rebindStatuses)[number];

export const rebindRequests = pgTable(
  'rebind_requests',
  {
    id: publicId(),
    deviceId: deviceRef(),
    fromBindingId: text('from_binding_id').notNull(),
    fromMerchantId: text('from_merchant_id').notNull(),
    merchantId: text('merchant_id')
      .notNull()
      .references(() => merchants.id),
    tid: text('tid').notNull(),
    reason: text('reason').notNull(),
    status: text('status', { enum: rebindStatuses }).notNull().default('pending'),
    requestedBy: text('requested_by').notNull(),
    requestedByName: text('requested_by_name'),
    decidedBy: text('decided_by'),
    decidedByName: text('decided_by_name'),
    decisionNote: text('decision_note'),
    createdAt: createdAt(),
    expiresAt: ts('expires_at').notNull(),
    decidedAt: ts('decided_at'),
  },
  (t) => [
    uniqueIndex('rebind_requests_one_pending_uq')
      .on(t.deviceId)
      .where(sql`${t.status} = 'pending'`),
    index('rebind_requests_status_idx').on(t.status, t.createdAt),
  ],
);

/** `tamper` and `external`: a bare `lock` command sent by another module or through the commands API, adopted. */
export const lockReasons = ['operator', 'merchant_suspended', 'relocated', 'txn_limit', 'tamper', 'external'] as const;
export type LockReason = (typeof lockReasons)[number];

/** Why a terminal is locked: one open row per reason; locked while any is open. */
export const terminalLocks = pgTable(
  'terminal_locks',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    deviceId: deviceRef(),
    reason: text('reason', { enum: lockReasons }).notNull(),
    note: text('note'),
    /** The merchant whose suspension caused it (reason merchant_suspended). */
    merchantId: text('merchant_id'),
    createdBy: text('created_by'),
    createdAt: createdAt(),
    releasedAt: ts('released_at'),
    releasedBy: text('released_by'),
    releaseNote: text('release_note'),
  },
  (t) => [
    uniqueIndex('terminal_locks_open_uq')
      .on(t.deviceId, t.reason)
      .where(sql`${t.releasedAt} is null`),
    index('terminal_locks_merchant_idx')
      .on(t.merchantId)
      .where(sql`${t.releasedAt} is null`),
  ],
);

/** Lock commands issued per terminal: the agent ignores one older than what it applied. */
export const terminalControl = pgTable('terminal_control', {
  deviceId: deviceKey(),
  /** What the terminal should be: locked while any terminal_locks row is open. */
  locked: boolean('locked').notNull().default(false),
  lockVersion: integer('lock_version').notNull().default(0),
  lastLockCommandId: text('last_lock_command_id'),
  relocationExempt: boolean('relocation_exempt').notNull().default(false),
  exemptReason: text('exempt_reason'),
  /** Relocation tracking (in memory on the hot path, persisted on every change of verdict). */
  consecutiveOut: integer('consecutive_out').notNull().default(0),
  relocated: boolean('relocated').notNull().default(false),
  lastDistanceM: doublePrecision('last_distance_m'),
  lastFixAt: ts('last_fix_at'),
  blacklistReason: text('blacklist_reason'),
  updatedAt: updatedAt(),
});

export const alertCodes = ['relocation_warning', 'relocated', 'txn_limit_breach', 'suspicious_txn'] as const;
export type AlertCode = (typeof alertCodes)[number];

/** Faults raised by merchant rules; also emitted on the bus as `device.alert` for the faults module. */
export const merchantAlerts = pgTable(
  'merchant_alerts',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    deviceId: deviceRef(),
    merchantId: text('merchant_id'),
    code: text('code', { enum: alertCodes }).notNull(),
    severity: text('severity', { enum: ['info', 'warning', 'major', 'critical'] }).notNull(),
    summary: text('summary').notNull(),
    data: jsonb('data').$type<Record<string, unknown>>().notNull().default({}),
    openedAt: createdAt(),
    resolvedAt: ts('resolved_at'),
  },
  (t) => [
    uniqueIndex('merchant_alerts_open_uq')
      .on(t.deviceId, t.code)
      .where(sql`${t.resolvedAt} is null`),
    index('merchant_alerts_device_idx').on(t.deviceId, t.id),
  ],
);

/** Blocked card tokens (salted hashes; never card numbers). */
export const cardBlacklist = pgTable('card_blacklist', {
  cardHash: text('card_hash').primaryKey(),
  reason: text('reason').notNull(),
  source: text('source', { enum: ['manual', 'auto'] }).notNull(),
  deviceId: text('device_id'),
  createdBy: text('created_by'),
  createdAt: createdAt(),
});

/** One row: the fleet salt for card tokens and the blacklist version pushed to terminals. */
export const cardBlacklistMeta = pgTable('card_blacklist_meta', {
  id: integer('id').primaryKey(),
  salt: text('salt').notNull(),
  version: integer('version').notNull().default(0),
});

export type MerchantRow = typeof merchants.$inferSelect;
export type BindingRow = typeof merchantBindings.$inferSelect;
export type RebindRequestRow = typeof rebindRequests.$inferSelect;
export type TerminalLockRow = typeof terminalLocks.$inferSelect;
export type TerminalControlRow = typeof terminalControl.$inferSelect;
export type MerchantAlertRow = typeof merchantAlerts.$inferSelect;
