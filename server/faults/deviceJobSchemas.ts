// The diagnostics and log bundle answers in a leaf module: the console parses with them, and the
// route module's imports (audit, auth middleware, the device service) must not be bundled into the page.
import { z } from '@hono/zod-openapi';

export const diagnostics = z
  .object({
    cmdId: z.string(),
    deviceId: z.string(),
    state: z.string(),
    requestedBy: z.string().nullable(),
    requestedAt: z.string(),
    finishedAt: z.string().nullable(),
    components: z.record(z.string(), z.string()),
    details: z.record(z.string(), z.unknown()),
    passed: z.boolean().nullable(),
    error: z.object({ code: z.string(), message: z.string() }).nullable(),
  })
  .openapi('Diagnostics');

export const bundle = z
  .looseObject({
    id: z.string(),
    deviceId: z.string(),
    cmdId: z.string().nullable(),
    state: z.string(),
    sizeBytes: z.number().nullable(),
    downloadPath: z.string().nullable(),
  })
  .openapi('LogBundle');
