// Request/response pieces shared by the route modules.
import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { refuseInvalid } from './errorHandler.ts';

export const errorResponse = z
  .object({
    error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }),
  })
  .openapi('Error');

/** An error answer described for its route (`no such user`), the body always `Error`. */
export const errorAnswer = (description: string) => ({
  description,
  content: { 'application/json': { schema: errorResponse } },
});

export const errorResponses = (...statuses: (400 | 401 | 403 | 404 | 409 | 413 | 416 | 422 | 429)[]) =>
  Object.fromEntries(statuses.map((s) => [s, errorAnswer(`error ${s}`)]));

export const pageQuery = {
  limit: z.coerce.number().int().min(1).max(500).default(50).openapi({ description: 'page size' }),
  cursor: z.string().max(500).optional().openapi({ description: 'from nextCursor of the previous page' }),
};

/** `a,b,c` → [a, b, c], each checked against `item`; a part it refuses names itself in the 400. */
export const commaList = <T extends z.ZodType>(item: T) =>
  z
    .string()
    .max(500)
    .transform((s, ctx) => {
      const out: z.output<T>[] = [];
      for (const part of s
        .split(',')
        .map((p) => p.trim())
        .filter(Boolean)) {
        const r = item.safeParse(part);
        if (!r.success) {
          ctx.addIssue({ code: 'custom', message: `"${part}" is not allowed` });
          return z.NEVER;
        }
        out.push(r.data);
      }
      return out;
    });

export const page = <T extends z.ZodType>(item: T) => z.object({ items: z.array(item), nextCursor: z.string().nullable() });

export const jsonBody = <T extends z.ZodType>(schema: T) => ({
  required: true,
  content: { 'application/json': { schema } },
});

/** A JSON body the caller may leave out (routes that read it themselves, defaults when absent). */
export const optionalJsonBody = <T extends z.ZodType>(schema: T) => ({
  required: false,
  content: { 'application/json': { schema } },
});

export const jsonResponse = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { 'application/json': { schema } },
});

/** A public id in a path (`dev_…`, `mer_…`, `cmd_…`); `{hash}` and `{usage}` segments have schemas of their own. */
const pathId = (name: string) =>
  z
    .string()
    .min(1)
    .max(64)
    .openapi({ param: { name, in: 'path' } });

/** The path parameters of a route, each a public id: `pathParams('id', 'cmdId')` for `/v1/devices/{id}/commands/{cmdId}`. */
export const pathParams = <const K extends readonly string[]>(...names: K) =>
  z.object(Object.fromEntries(names.map((name) => [name, pathId(name)])) as Record<K[number], ReturnType<typeof pathId>>);

/**
 * The ids of a route declared without createRoute (a streamed body or answer), checked as
 * `pathParams` and the validation hook check a declared route's. The schema is built once with
 * the route (`pathParams('id')`): building it per request compiled a new zod parser for each
 * of a rollout's thousands of downloads.
 */
export function checkedPathParams<S extends ReturnType<typeof pathParams>>(c: Context, schema: S): z.output<S> {
  const result = schema.safeParse(c.req.param());
  refuseInvalid(result);
  return result.data;
}
