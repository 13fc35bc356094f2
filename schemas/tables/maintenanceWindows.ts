// Recurring maintenance windows per merchant, group or organisation (schemas/maintenance.ts).
import { index, integer, pgTable, text } from 'drizzle-orm/pg-core';
import { maintenanceScopes } from '../maintenance.ts';
import { createdAt, publicId } from './columns.ts';

export const maintenanceWindows = pgTable(
  'maintenance_windows',
  {
    id: publicId(),
    scope: text('scope', { enum: maintenanceScopes }).notNull(),
    targetId: text('target_id').notNull(),
    name: text('name'),
    /** ISO weekdays (1 Monday … 7 Sunday) the window opens on. */
    days: integer('days').array().notNull(),
    start: text('start').notNull(),
    end: text('end').notNull(),
    createdBy: text('created_by'),
    createdAt: createdAt(),
  },
  (t) => [index('maintenance_windows_target_idx').on(t.scope, t.targetId)],
);
export type MaintenanceWindowRow = typeof maintenanceWindows.$inferSelect;
