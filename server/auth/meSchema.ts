// The answer of GET /v1/me, in a module of its own: the console's entry and pages read it, and a
// leaf (zod and the user schemas only) keeps the route module's server imports out of their bundle.
import { z } from '@hono/zod-openapi';
import { RoleSchema } from './userSchemas.ts';

export const MeSchema = z.object({ id: z.string(), name: z.string(), role: RoleSchema }).openapi('Me');
