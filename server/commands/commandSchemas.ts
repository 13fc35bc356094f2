// The command answer in a leaf module: the console parses with it, and the route module's imports
// (audit, auth middleware, the command service) must not be bundled into the page.
import { z } from '@hono/zod-openapi';
import { commandStates } from '../../schemas/db.ts';
import { commandTypes } from '../../schemas/wire.ts';

export const command = z
  .looseObject({
    id: z.string(),
    deviceId: z.string(),
    type: z.enum(commandTypes),
    state: z.enum(commandStates),
    batchId: z.string().nullable(),
  })
  .openapi('Command');
