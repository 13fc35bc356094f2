// Request/response pieces shared by the route modules.
import { z } from '@hono/zod-openapi';

export const errorResponse = z
  .object({
    error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }),
  })
  .openapi('Error');

export const errorResponses = (...statuses: (400 | 401 | 403 | 404 | 409 | 413 | 422 | 429)[]) =>
  Object.fromEntries(
    statuses.map((s) => [s, { description: `error ${s}`, content: { 'application/json': { schema: errorResponse } } }]),
  );

export const pageQuery = {
  limit: z.coerce.number().int().min(1).max(500).default(50).openapi({ description: 'page size' }),
  cursor: z.string().max(500).optional().openapi({ description: 'from nextCursor of the previous page' }),
};

export const page = <T extends z.ZodType>(item: T) => z.object({ items: z.array(item), nextCursor: z.string().nullable() });

export const jsonBody = <T extends z.ZodType>(schema: T) => ({
  required: true,
  content: { 'application/json': { schema } },
});

export const jsonResponse = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { 'application/json': { schema } },
});

export const idParam = (name: string) => z.object({ [name]: z.string().min(1).max(100) });
