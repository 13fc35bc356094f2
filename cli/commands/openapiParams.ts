// Which query parameters a route of this server takes, read from its /openapi.json: options that
// need a newer server (`devices list --query`) are refused with a clear message rather than sent
// and silently ignored (an unknown query parameter is dropped by the API's schemas).
import { z } from 'zod';
import type { Ctx } from '../context.ts';

// Just the part of an OpenAPI 3 document read here.
const openapiDoc = z.looseObject({
  paths: z.record(
    z.string(),
    z.looseObject({
      get: z.looseObject({ parameters: z.array(z.looseObject({ name: z.string(), in: z.string() })).optional() }).optional(),
    }),
  ),
});

export async function queryParamsOf(ctx: Ctx, path: string): Promise<Set<string>> {
  const doc = await ctx.client().call(openapiDoc, 'GET', '/openapi.json');
  return new Set((doc.paths[path]?.get?.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name));
}
