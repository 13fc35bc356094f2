// Payment-app packages (docs/apps.md): a signed manifest, content stored by sha256 as firmware's,
// and each terminal's reported inventory, one row per installed package.
import { bigint, index, jsonb, pgTable, primaryKey, text, uniqueIndex } from 'drizzle-orm/pg-core';
import { deviceRef } from '../db.ts';
import type { AppManifest } from '../apps.ts';
import { createdAt, publicId, ts, updatedAt } from './columns.ts';

export const appStates = ['awaiting_content', 'ready'] as const;
export type AppState = (typeof appStates)[number];

export const apps = pgTable(
  'apps',
  {
    id: publicId(),
    packageName: text('package_name').notNull(),
    version: text('version').notNull(),
    models: jsonb('models').$type<string[]>().notNull(),
    minFirmware: text('min_firmware').notNull(),
    size: bigint('size', { mode: 'number' }).notNull(),
    sha256: text('sha256').notNull(),
    manifest: jsonb('manifest').$type<AppManifest>().notNull(),
    /** base64 Ed25519 signature over the manifest's canonical JSON. */
    signature: text('signature').notNull(),
    /** The trusted publisher key (base64 raw) the signature verified with. */
    publisherKey: text('publisher_key').notNull(),
    state: text('state', { enum: appStates }).notNull().default('awaiting_content'),
    createdBy: text('created_by'),
    createdAt: createdAt(),
    readyAt: ts('ready_at'),
  },
  (t) => [uniqueIndex('apps_package_version_uq').on(t.packageName, t.version)],
);
export type AppRow = typeof apps.$inferSelect;

/**
 * What each terminal last reported on its state topic (`apps`): one row per installed package,
 * replaced whole on every report that differs. The fleet query's `app.<packageName>` reads
 * `version` here (EXISTS … WHERE package_name = $1 AND <version compare>).
 */
export const deviceApps = pgTable(
  'device_apps',
  {
    deviceId: deviceRef({ onDelete: 'cascade' }),
    packageName: text('package_name').notNull(),
    version: text('version').notNull(),
    updatedAt: updatedAt(),
  },
  (t) => [primaryKey({ columns: [t.deviceId, t.packageName] }), index('device_apps_package_idx').on(t.packageName, t.version)],
);
export type DeviceAppRow = typeof deviceApps.$inferSelect;
