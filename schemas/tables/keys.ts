// Key management (server/keys/): keys as vault ciphertext only, the vault's master-key
// generations, rotation policies, compromised devices and dual-control requests (rotations themselves are campaigns).
import { sql } from 'drizzle-orm';
import { bigint, boolean, index, integer, jsonb, pgTable, text, uniqueIndex } from 'drizzle-orm/pg-core';
import { deviceKey, deviceRef } from '../db.ts';
import { keyUsages } from '../keyCrypto/header.ts';
import { dukptSchemes } from '../keys.ts';
import type { ErrorInfo } from '../wire.ts';
import { createdAt, publicId, ts, updatedAt } from './columns.ts';

export const keyStates = ['pending', 'installed', 'failed', 'superseded', 'revoked'] as const;
export type KeyState = (typeof keyStates)[number];

export const keys = pgTable(
  'keys',
  {
    id: publicId(),
    deviceId: deviceRef({ onDelete: 'cascade' }),
    usage: text('usage', { enum: keyUsages }).notNull(),
    slot: text('slot').notNull(),
    version: integer('version').notNull(),
    state: text('state', { enum: keyStates }).notNull().default('pending'),
    /** `cmac:XXXXXX` computed by the vault. */
    kcv: text('kcv').notNull(),
    /** Vault ciphertext (software vault: gen ‖ nonce ‖ ct ‖ tag, base64); null once destroyed. */
    sealed: text('sealed'),
    /** Master-key generation `sealed` is under (resumable re-encryption works through this). */
    masterGen: integer('master_gen').notNull(),
    /** For working keys: the TMK they are wrapped under on the device. */
    parentKeyId: text('parent_key_id'),
    /** The key-rotation campaign (or the ad-hoc install) that sent it. */
    rotationId: text('rotation_id'),
    commandId: text('command_id'),
    error: jsonb('error').$type<ErrorInfo>(),
    createdAt: createdAt(),
    installedAt: ts('installed_at'),
    endedAt: ts('ended_at'),
    endReason: text('end_reason'),
  },
  (t) => [
    uniqueIndex('keys_device_slot_version_uq').on(t.deviceId, t.slot, t.version),
    index('keys_device_state_idx').on(t.deviceId, t.state),
    index('keys_command_idx').on(t.commandId),
    index('keys_master_gen_idx').on(t.masterGen),
    index('keys_parent_idx').on(t.parentKeyId),
    index('keys_installed_age_idx').on(t.usage, t.installedAt).where(sql`${t.state} = 'installed'`),
  ],
);
export type KeyRow = typeof keys.$inferSelect;

/** Master-key generations: a KCV per generation, so a wrong master key is refused at start. */
export const keyVaultMasters = pgTable('key_vault_masters', {
  gen: integer('gen').primaryKey(),
  kcv: text('kcv').notNull(),
  /** active | next (replacement under way) | retired */
  state: text('state').notNull(),
  createdAt: createdAt(),
  activatedAt: ts('activated_at'),
});

export const keyPolicies = pgTable('key_policies', {
  usage: text('usage').primaryKey(),
  maxAgeDays: integer('max_age_days').notNull(),
  updatedBy: text('updated_by'),
  updatedAt: updatedAt(),
});

/** Devices marked compromised (tamper): no keys go to them until an admin clears the mark. */
export const compromisedDevices = pgTable('compromised_devices', {
  deviceId: deviceKey({ onDelete: 'cascade' }),
  reason: text('reason').notNull(),
  keysRevoked: integer('keys_revoked').notNull().default(0),
  markedAt: ts('marked_at').notNull().defaultNow(),
});

export const dualControlActions = ['master_key.replace', 'master_key.import', 'keys.bulk_revoke', 'bdk.import', 'bdk.generate'] as const;
export type DualControlAction = (typeof dualControlActions)[number];

export const keyApprovals = pgTable(
  'key_approvals',
  {
    id: publicId(),
    action: text('action', { enum: dualControlActions }).notNull(),
    params: jsonb('params').$type<Record<string, unknown>>().notNull(),
    reason: text('reason').notNull(),
    /** pending | rejected | expired | running | done | failed */
    state: text('state').notNull().default('pending'),
    requestedBy: text('requested_by').notNull(),
    decidedBy: text('decided_by'),
    decidedAt: ts('decided_at'),
    progress: jsonb('progress').$type<Record<string, unknown>>().notNull().default({}),
    /** Secret input of the request (master_key.import: key component 1), sealed under the master
     *  key with AAD naming the request; null once the request is decided or expired. Never in a view. */
    sealed: text('sealed'),
    /** A pending request past this is expired (its `sealed` wiped); null: does not expire. */
    expiresAt: ts('expires_at'),
    createdAt: createdAt(),
  },
  (t) => [index('key_approvals_state_idx').on(t.state)],
);
export type KeyApprovalRow = typeof keyApprovals.$inferSelect;

export const bdkStates = ['active', 'retired'] as const;

/** DUKPT base derivation keys (docs/keys.md, "BDK ceremony"): only sealed, made under dual control. */
export const bdks = pgTable(
  'bdks',
  {
    id: publicId(),
    name: text('name').notNull(),
    scheme: text('scheme', { enum: dukptSchemes }).notNull(),
    /** Upper-case hex: AES the BDK id (4 bytes, first half of every initial key id); TDES the key set id (5 bytes, first of every KSN). */
    keySetId: text('key_set_id').notNull(),
    /** KCV of the BDK with its method (`cmac:` AES, `enc0:` TDES). */
    kcv: text('kcv').notNull(),
    sealed: text('sealed'),
    /** TDES only: the BDK xor C0C0C0C000000000C0C0C0C000000000, sealed at the ceremony (it makes the IPEK's right half). */
    variantSealed: text('variant_sealed'),
    masterGen: integer('master_gen').notNull(),
    state: text('state', { enum: bdkStates }).notNull().default('active'),
    origin: text('origin', { enum: ['imported', 'generated'] }).notNull(),
    /** The next derivation id handed out (AES 32 bits, TDES 19 bits); never reused. */
    nextDerivationId: bigint('next_derivation_id', { mode: 'number' }).notNull(),
    requestId: text('request_id').notNull(),
    createdBy: text('created_by').notNull(),
    /** Set once the approval's action runs (the approval hook does not know the approver). */
    approvedBy: text('approved_by'),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('bdks_name_uq').on(t.name), uniqueIndex('bdks_key_set_uq').on(t.keySetId), uniqueIndex('bdks_request_uq').on(t.requestId)],
);
export type BdkRow = typeof bdks.$inferSelect;

/**
 * DUKPT facts of an initial key (its lifecycle, version and KCV are its `keys` row, usage IK, which
 * holds no key: the server derives from the BDK again when it needs one).
 */
export const dukptKeys = pgTable(
  'dukpt_keys',
  {
    keyId: text('key_id').primaryKey(),
    deviceId: deviceRef({ onDelete: 'cascade' }),
    slot: text('slot').notNull(),
    bdkId: text('bdk_id').notNull(),
    scheme: text('scheme', { enum: dukptSchemes }).notNull(),
    /** Initial KSN, upper-case hex (AES: initial key id ‖ 00000000). */
    initialKsn: text('initial_ksn').notNull(),
    /** As the terminal last reported them. */
    ksn: text('ksn'),
    counter: bigint('counter', { mode: 'number' }),
    countersLeft: bigint('counters_left', { mode: 'number' }),
    reportedAt: ts('reported_at'),
    /** The counter-low alert is open for this key. */
    counterLow: boolean('counter_low').notNull().default(false),
    verifiedAt: ts('verified_at'),
    verifyError: jsonb('verify_error').$type<ErrorInfo>(),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('dukpt_keys_initial_ksn_uq').on(t.initialKsn), index('dukpt_keys_device_idx').on(t.deviceId), index('dukpt_keys_bdk_idx').on(t.bdkId)],
);
export type DukptKeyRow = typeof dukptKeys.$inferSelect;
