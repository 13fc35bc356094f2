// The maintenance window as /v1/maintenance-windows answers it, in a leaf module: the console
// parses with it, and the route module's imports (audit, auth) must not be bundled into the page.
import { z } from '@hono/zod-openapi';
import { maintenanceScopes } from '../../schemas/maintenance.ts';

export const MaintenanceWindowSchema = z
  .object({
    id: z.string(),
    scope: z.enum(maintenanceScopes),
    targetId: z.string(),
    name: z.string().nullable(),
    days: z.array(z.number().int()).openapi({ description: 'ISO weekdays the window opens on: 1 Monday … 7 Sunday' }),
    start: z.string().openapi({ example: '22:00' }),
    end: z.string().openapi({ example: '04:00', description: 'before start: the window runs past midnight into the next day' }),
    createdBy: z.string().nullable(),
    createdAt: z.string().openapi({ format: 'date-time' }),
  })
  .openapi('MaintenanceWindow');
