// Recurring maintenance windows (docs/maintenance-windows.md): the hours of the week in which a
// terminal may be sent a campaign's change, set for a merchant, a group or an organisation and
// read in the terminal's own time zone. Shared by the server, the console and the CLI.
import { z } from 'zod';
import { maintenanceWindow } from './ota.ts';

export const maintenanceScopes = ['merchant', 'group', 'org'] as const;
export type MaintenanceScope = (typeof maintenanceScopes)[number];

/** ISO weekdays: 1 Monday … 7 Sunday. */
export const isoWeekday = z.number().int().min(1).max(7);

/** One window: from `start` to `end` (it may cross midnight) on each of `days`, terminal local time. */
export const recurringWindow = maintenanceWindow.extend({
  /** The days a window opens on; a window crossing midnight runs on into the next day. */
  days: z
    .array(isoWeekday)
    .min(1)
    .max(7)
    .refine((d) => new Set(d).size === d.length, 'days must not repeat'),
});
export type RecurringWindow = z.infer<typeof recurringWindow>;

export const newMaintenanceWindow = recurringWindow
  .extend({
    scope: z.enum(maintenanceScopes),
    /** The merchant, group or organisation id the window is set for. */
    targetId: z.string().min(1).max(64),
    name: z.string().min(1).max(100).optional(),
  })
  .strict();
export type NewMaintenanceWindow = z.infer<typeof newMaintenanceWindow>;
