// Faults, their notes, fault settings (rules, notifier), diagnostics results and log bundles.
import { sql } from 'drizzle-orm';
import { bigint, bigserial, index, integer, jsonb, pgTable, smallint, text, uniqueIndex } from 'drizzle-orm/pg-core';
import type { FaultState, Severity } from '../faults.ts';
import { deviceRef } from '../db.ts';
import type { AckResult, ErrorInfo } from '../wire.ts';
import { publicId, ts, updatedAt } from './columns.ts';

export const faults = pgTable(
  'faults',
  {
    id: publicId(),
    deviceId: deviceRef({ onDelete: 'cascade' }),
    code: text('code').notNull(),
    title: text('title').notNull(),
    severity: text('severity').$type<Severity>().notNull(),
    /** 3 critical … 0 info: the queue sorts on it. */
    severityRank: smallint('severity_rank').notNull(),
    state: text('state').$type<FaultState>().notNull().default('open'),
    detail: text('detail'),
    openedAt: ts('opened_at').notNull(),
    acknowledgedAt: ts('acknowledged_at'),
    acknowledgedBy: text('acknowledged_by'),
    resolvedAt: ts('resolved_at'),
    resolvedBy: text('resolved_by'),
    /** `auto` (the condition cleared) or `manual`. */
    resolution: text('resolution'),
    assigneeId: text('assignee_id'),
    assignedAt: ts('assigned_at'),
    updatedAt: updatedAt(),
  },
  (t) => [
    // One open fault per device and code (SPEC §7).
    uniqueIndex('faults_open_uq').on(t.deviceId, t.code).where(sql`${t.state} <> 'resolved'`),
    index('faults_queue_idx').on(t.state, t.severityRank, t.openedAt),
    // The queue's other orders (oldest/newest, updated) over what it shows by default: unresolved.
    index('faults_unresolved_opened_idx').on(t.openedAt, t.id).where(sql`${t.state} <> 'resolved'`),
    index('faults_unresolved_updated_idx').on(t.updatedAt, t.id).where(sql`${t.state} <> 'resolved'`),
    index('faults_device_idx').on(t.deviceId, t.openedAt),
    index('faults_assignee_idx').on(t.assigneeId),
  ],
);

export const faultNotes = pgTable(
  'fault_notes',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    faultId: text('fault_id')
      .notNull()
      .references(() => faults.id, { onDelete: 'cascade' }),
    authorId: text('author_id'),
    authorName: text('author_name'),
    text: text('text').notNull(),
    ts: ts('ts').notNull().defaultNow(),
  },
  (t) => [index('fault_notes_fault_idx').on(t.faultId, t.id)],
);

/** Key/value settings of the faults domain: `rules`, `notifier`. */
export const faultSettings = pgTable('fault_settings', {
  key: text('key').primaryKey(),
  /** Written by the faults schemas of its key (server/faults/settingsStore.ts), read back through them. */
  value: jsonb('value').$type<unknown>().notNull(),
  updatedBy: text('updated_by'),
  updatedAt: updatedAt(),
});

/** `diag.run` results, one row per command. */
export const deviceDiagnostics = pgTable(
  'device_diagnostics',
  {
    cmdId: text('cmd_id').primaryKey(),
    deviceId: deviceRef({ onDelete: 'cascade' }),
    state: text('state').notNull(),
    requestedBy: text('requested_by'),
    requestedAt: ts('requested_at').notNull(),
    finishedAt: ts('finished_at'),
    result: jsonb('result').$type<AckResult>(),
    error: jsonb('error').$type<ErrorInfo>(),
    updatedAt: updatedAt(),
  },
  (t) => [index('device_diagnostics_device_idx').on(t.deviceId, t.requestedAt)],
);

export const logBundleStates = ['requested', 'uploaded', 'failed'] as const;
export type LogBundleState = (typeof logBundleStates)[number];

/** Log bundles uploaded by `logs.upload` to a signed link, stored under DATA_DIR/logs. */
export const logBundles = pgTable(
  'log_bundles',
  {
    id: publicId(),
    deviceId: deviceRef({ onDelete: 'cascade' }),
    cmdId: text('cmd_id'),
    state: text('state').$type<LogBundleState>().notNull().default('requested'),
    requestedBy: text('requested_by'),
    requestedAt: ts('requested_at').notNull(),
    expiresAt: ts('expires_at').notNull(),
    uploadedAt: ts('uploaded_at'),
    sizeBytes: bigint('size_bytes', { mode: 'number' }),
    sha256: text('sha256'),
    contentType: text('content_type'),
    error: jsonb('error').$type<ErrorInfo>(),
    attempts: integer('attempts').notNull().default(0),
  },
  (t) => [index('log_bundles_device_idx').on(t.deviceId, t.requestedAt), index('log_bundles_cmd_idx').on(t.cmdId)],
);

export type FaultRow = typeof faults.$inferSelect;
export type FaultNoteRow = typeof faultNotes.$inferSelect;
export type DiagnosticsRow = typeof deviceDiagnostics.$inferSelect;
export type LogBundleRow = typeof logBundles.$inferSelect;
