// The answers of the device routes the console parses, in a leaf module: the route module's
// imports (auth middleware, the device service) must not be bundled into the page.
import { z } from '@hono/zod-openapi';
import { deviceStatuses } from '../../schemas/db.ts';

export const device = z
  .looseObject({
    id: z.string(),
    serial: z.string(),
    model: z.string(),
    status: z.enum(deviceStatuses),
    online: z.boolean(),
    merchantId: z.string().nullable(),
    orgId: z.string().openapi({ description: 'the organisation node the terminal belongs to (docs/organisations.md)' }),
  })
  .openapi('Device');

export const timelineEntry = z.object({
  id: z.number(),
  ts: z.string(),
  kind: z.string(),
  summary: z.string(),
  data: z.record(z.string(), z.unknown()),
});
