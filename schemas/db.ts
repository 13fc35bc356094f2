// The one drizzle schema, shared by PGlite (embedded) and PostgreSQL (production).
import { sql } from 'drizzle-orm';
import { bigserial, boolean, index, integer, jsonb, pgTable, primaryKey, text, uniqueIndex } from 'drizzle-orm/pg-core';
import { createdAt, publicId, ts, updatedAt } from './tables/columns.ts';
import { organisations, ROOT_ORG_ID } from './tables/organisations.ts';
import type { AckResult, CommandType, ErrorInfo, HealthSample } from './wire.ts';

export { organisations, ROOT_ORG_ID, ROOT_ORG_PATH, type OrganisationRow } from './tables/organisations.ts';

/** `org_id`: the organisation a user, merchant or terminal belongs to (docs/organisations.md). */
export const orgRef = () =>
  text('org_id')
    .notNull()
    .default(ROOT_ORG_ID)
    .references(() => organisations.id);

export const roles = ['admin', 'operator', 'technician', 'auditor'] as const;
export type Role = (typeof roles)[number];

export const users = pgTable(
  'users',
  {
    id: publicId(),
    name: text('name').notNull(),
    role: text('role', { enum: roles }).notNull(),
    disabled: boolean('disabled').notNull().default(false),
    orgId: orgRef(),
    createdBy: text('created_by'),
    createdAt: createdAt(),
  },
  (t) => [index('users_org_idx').on(t.orgId)],
);

export const apiTokens = pgTable(
  'api_tokens',
  {
    id: publicId(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id),
    tokenHash: text('token_hash').notNull(),
    createdAt: createdAt(),
    revokedAt: ts('revoked_at'),
  },
  (t) => [uniqueIndex('api_tokens_hash_uq').on(t.tokenHash)],
);

export const deviceStatuses = ['registered', 'enrolled', 'revoked', 'blacklisted'] as const;
export type DeviceStatus = (typeof deviceStatuses)[number];

export const devices = pgTable(
  'devices',
  {
    id: publicId(),
    serial: text('serial').notNull(),
    model: text('model').notNull(),
    status: text('status', { enum: deviceStatuses }).notNull().default('registered'),
    /** Keyed hash (HMAC-SHA256 with the server pepper) of the MQTT secret; never the secret. */
    secretHash: text('secret_hash'),
    kekPublicKey: text('kek_public_key'),
    fwVersion: text('fw_version'),
    merchantId: text('merchant_id'),
    orgId: orgRef(),
    labels: jsonb('labels').$type<Record<string, string>>().notNull().default({}),
    enrolledAt: ts('enrolled_at'),
    revokedAt: ts('revoked_at'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex('devices_serial_uq').on(t.serial),
    index('devices_model_idx').on(t.model),
    index('devices_merchant_idx').on(t.merchantId),
    index('devices_org_idx').on(t.orgId),
  ],
);

/**
 * `device_id`: the device a row belongs to. `onDelete: 'cascade'` where the row is the device's own
 * data and goes with it; without, the row is history kept for ever and holds the device.
 */
export const deviceRef = (actions: { onDelete?: 'cascade' } = {}) =>
  text('device_id')
    .notNull()
    .references(() => devices.id, actions);
/** `device_id` as the primary key: a table of one row per device. */
export const deviceKey = (actions: { onDelete?: 'cascade' } = {}) =>
  text('device_id')
    .primaryKey()
    .references(() => devices.id, actions);

/** Latest known state of each device: written behind, in batches, from memory. */
export const deviceState = pgTable(
  'device_state',
  {
    deviceId: deviceKey({ onDelete: 'cascade' }),
    online: boolean('online').notNull().default(false),
    fwVersion: text('fw_version'),
    slot: text('slot'),
    lastSeenAt: ts('last_seen_at'),
    connectedAt: ts('connected_at'),
    disconnectedAt: ts('disconnected_at'),
    health: jsonb('health').$type<HealthSample>(),
    /** Cluster mode: the instance holding the terminal's connection, the only one writing the row. */
    heldBy: text('held_by'),
    updatedAt: updatedAt(),
  },
  (t) => [index('device_state_online_idx').on(t.online)],
);

/** Health history, downsampled (one sample per device per interval). */
export const healthHistory = pgTable(
  'health_history',
  {
    deviceId: deviceRef({ onDelete: 'cascade' }),
    ts: ts('ts').notNull(),
    sample: jsonb('sample').$type<HealthSample>().notNull(),
  },
  (t) => [primaryKey({ columns: [t.deviceId, t.ts] })],
);

/** Everything that happened to a device, in order: connects, commands, rejected messages... */
export const timeline = pgTable(
  'timeline',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    deviceId: deviceRef({ onDelete: 'cascade' }),
    ts: ts('ts').notNull().defaultNow(),
    kind: text('kind').notNull(),
    summary: text('summary').notNull(),
    data: jsonb('data').$type<Record<string, unknown>>().notNull().default({}),
  },
  (t) => [index('timeline_device_idx').on(t.deviceId, t.id)],
);

export const commandStates = [
  'pending',
  'queued',
  'sent',
  'received',
  'in_progress',
  'deferred',
  'succeeded',
  'failed',
  'rejected',
  'expired',
  'cancelled',
] as const;
export type CommandState = (typeof commandStates)[number];
export const finalCommandStates: readonly CommandState[] = ['succeeded', 'failed', 'rejected', 'expired', 'cancelled'];

export const commandBatches = pgTable('command_batches', {
  id: publicId(),
  type: text('type').$type<CommandType>().notNull(),
  payload: jsonb('payload').$type<Record<string, unknown>>().notNull().default({}),
  total: integer('total').notNull(),
  createdBy: text('created_by'),
  createdAt: createdAt(),
});

export const commands = pgTable(
  'commands',
  {
    id: publicId(),
    deviceId: deviceRef({ onDelete: 'cascade' }),
    batchId: text('batch_id'),
    // Typed for the code, not constrained in SQL (no migration): only the command service writes it.
    type: text('type').$type<CommandType>().notNull(),
    payload: jsonb('payload').$type<Record<string, unknown>>().notNull().default({}),
    state: text('state', { enum: commandStates }).notNull().default('pending'),
    stage: text('stage'),
    progress: integer('progress'),
    error: jsonb('error').$type<ErrorInfo>(),
    result: jsonb('result').$type<AckResult>(),
    attempts: integer('attempts').notNull().default(0),
    issuedAt: ts('issued_at').notNull().defaultNow(),
    expiresAt: ts('expires_at'),
    sentAt: ts('sent_at'),
    finishedAt: ts('finished_at'),
    createdBy: text('created_by'),
    updatedAt: updatedAt(),
  },
  (t) => [
    index('commands_device_idx').on(t.deviceId, t.issuedAt),
    index('commands_batch_idx').on(t.batchId),
    index('commands_open_idx')
      .on(t.deviceId)
      .where(sql`${t.state} in ('pending','queued','sent','received','in_progress','deferred')`),
  ],
);

/** Append-only, hash-chained audit log (server/audit/auditLog.ts, docs/audit.md). */
export const auditLog = pgTable(
  'audit_log',
  {
    seq: bigserial('seq', { mode: 'number' }).primaryKey(),
    ts: ts('ts').notNull(),
    actorId: text('actor_id'),
    actorName: text('actor_name'),
    action: text('action').notNull(),
    target: text('target'),
    ip: text('ip'),
    data: jsonb('data').$type<Record<string, unknown>>().notNull().default({}),
    prevHash: text('prev_hash').notNull(),
    hash: text('hash').notNull(),
  },
  // GET /v1/audit filters, newest first.
  (t) => [
    index('audit_log_action_idx').on(t.action, t.seq),
    index('audit_log_actor_idx').on(t.actorId, t.seq),
    index('audit_log_target_idx').on(t.target, t.seq),
    index('audit_log_ts_idx').on(t.ts),
  ],
);

export const idempotencyKeys = pgTable(
  'idempotency_keys',
  {
    key: text('key').notNull(),
    userId: text('user_id').notNull(),
    route: text('route').notNull(),
    status: integer('status').notNull(),
    body: jsonb('body').$type<unknown>().notNull(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.route, t.key] }), index('idempotency_keys_created_idx').on(t.createdAt)],
);

export type UserRow = typeof users.$inferSelect;
export type DeviceRow = typeof devices.$inferSelect;
export type DeviceStateRow = typeof deviceState.$inferSelect;
export type CommandRow = typeof commands.$inferSelect;
export type TimelineRow = typeof timeline.$inferSelect;
export type AuditRow = typeof auditLog.$inferSelect;
