// Firmware artifacts (SPEC §4): a signed manifest, then content stored by sha256.
import { bigint, index, jsonb, pgTable, text, uniqueIndex } from 'drizzle-orm/pg-core';
import { createdAt, publicId, ts } from './columns.ts';
import type { FirmwareManifest } from '../ota.ts';

export const firmwareStates = ['awaiting_content', 'ready'] as const;
export type FirmwareState = (typeof firmwareStates)[number];

export const firmware = pgTable(
  'firmware',
  {
    id: publicId(),
    name: text('name').notNull(),
    version: text('version').notNull(),
    models: jsonb('models').$type<string[]>().notNull(),
    size: bigint('size', { mode: 'number' }).notNull(),
    sha256: text('sha256').notNull(),
    manifest: jsonb('manifest').$type<FirmwareManifest>().notNull(),
    /** base64 Ed25519 signature over the manifest's canonical JSON. */
    signature: text('signature').notNull(),
    /** The trusted publisher key (base64 raw) the signature verified with. */
    publisherKey: text('publisher_key').notNull(),
    state: text('state', { enum: firmwareStates }).notNull().default('awaiting_content'),
    createdBy: text('created_by'),
    createdAt: createdAt(),
    readyAt: ts('ready_at'),
  },
  (t) => [uniqueIndex('firmware_name_version_uq').on(t.name, t.version), index('firmware_sha256_idx').on(t.sha256)],
);

export type FirmwareRow = typeof firmware.$inferSelect;
