// Terminal parameters (server/parameters/, docs/parameters.md): versioned templates, the values
// assigned to them per tier, and the set each terminal last reported on its `state` topic.
// A template row is never updated: a new version is a new row, so what was assigned and pushed
// under a version stays what it was.
import { index, integer, jsonb, pgTable, primaryKey, text, uniqueIndex } from 'drizzle-orm/pg-core';
import { devices } from '../db.ts';
import type { AssignableTier, ParameterAppliesTo, ParameterField, ParameterValues } from '../parameters.ts';
import { createdAt, publicId, ts, updatedAt } from './columns.ts';

export const parameterTemplates = pgTable(
  'parameter_templates',
  {
    id: publicId(),
    name: text('name').notNull(),
    version: integer('version').notNull(),
    description: text('description'),
    appliesTo: jsonb('applies_to').$type<ParameterAppliesTo>().notNull(),
    fields: jsonb('fields').$type<ParameterField[]>().notNull(),
    createdBy: text('created_by'),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('parameter_templates_name_version_uq').on(t.name, t.version)],
);
export type ParameterTemplateRow = typeof parameterTemplates.$inferSelect;

export const parameterAssignments = pgTable(
  'parameter_assignments',
  {
    templateId: text('template_id')
      .notNull()
      .references(() => parameterTemplates.id, { onDelete: 'cascade' }),
    tier: text('tier').$type<AssignableTier>().notNull(),
    /** A model name, or an organisation, group, merchant or device id, by tier. */
    targetId: text('target_id').notNull(),
    values: jsonb('values').$type<Record<string, unknown>>().notNull(),
    updatedBy: text('updated_by'),
    updatedAt: updatedAt(),
  },
  (t) => [primaryKey({ columns: [t.templateId, t.tier, t.targetId] })],
);
export type ParameterAssignmentRow = typeof parameterAssignments.$inferSelect;

/** The set a terminal last reported (one per terminal: the template it was last pushed). */
export const deviceParameters = pgTable(
  'device_parameters',
  {
    deviceId: text('device_id')
      .primaryKey()
      .references(() => devices.id, { onDelete: 'cascade' }),
    templateId: text('template_id').notNull(),
    version: integer('version').notNull(),
    digest: text('digest').notNull(),
    values: jsonb('values').$type<ParameterValues>().notNull(),
    reportedAt: ts('reported_at').notNull(),
  },
  (t) => [index('device_parameters_template_idx').on(t.templateId)],
);
export type DeviceParametersRow = typeof deviceParameters.$inferSelect;
