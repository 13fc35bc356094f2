// The answer of GET /v1/fleet/summary in a leaf module: the console's overview parses with it, and
// the route module's imports (database, live state) must not be bundled into the page.
import { z } from '@hono/zod-openapi';

export const fleetSummary = z.object({
  devices: z.number(),
  byStatus: z.record(z.string(), z.number()),
  online: z.number(),
  offline: z.number(),
  byFirmware: z.record(z.string(), z.number()),
  byModel: z.record(z.string(), z.number()),
});
