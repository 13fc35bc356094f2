// Static groups of terminals and saved filters (fleet queries, docs/groups-and-filters.md). Both
// belong to an organisation like users and terminals do: a user sees those of its subtree.
import { index, pgTable, primaryKey, text, uniqueIndex } from 'drizzle-orm/pg-core';
import { deviceRef, orgRef } from '../db.ts';
import { createdAt, publicId, ts, updatedAt } from './columns.ts';

export const deviceGroups = pgTable(
  'device_groups',
  {
    id: publicId(),
    name: text('name').notNull(),
    description: text('description').notNull().default(''),
    orgId: orgRef(),
    createdBy: text('created_by'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [uniqueIndex('device_groups_name_uq').on(t.name), index('device_groups_org_idx').on(t.orgId)],
);

/** A terminal leaves every group when it is deleted; a group's deletion takes its member rows. */
export const deviceGroupMembers = pgTable(
  'device_group_members',
  {
    groupId: text('group_id')
      .notNull()
      .references(() => deviceGroups.id, { onDelete: 'cascade' }),
    deviceId: deviceRef({ onDelete: 'cascade' }),
    addedAt: ts('added_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.groupId, t.deviceId] }), index('device_group_members_device_idx').on(t.deviceId)],
);

/** The query text as written (validated when saved); it is parsed again on every use. */
export const savedFilters = pgTable(
  'saved_filters',
  {
    id: publicId(),
    name: text('name').notNull(),
    description: text('description').notNull().default(''),
    query: text('query').notNull(),
    orgId: orgRef(),
    createdBy: text('created_by'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [uniqueIndex('saved_filters_name_uq').on(t.name), index('saved_filters_org_idx').on(t.orgId)],
);

export type DeviceGroupRow = typeof deviceGroups.$inferSelect;
export type SavedFilterRow = typeof savedFilters.$inferSelect;
