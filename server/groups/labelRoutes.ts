// Labels in bulk over HTTP: a JSON change for a list of terminals or a fleet query, and a CSV of
// serial,key,value rows (docs/groups-and-filters.md#labels).
import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { queryText } from '../../schemas/fleetQuery.ts';
import { clientIp } from '../auth/middleware.ts';
import { operators } from '../auth/roleSets.ts';
import { badRequest } from '../errors.ts';
import { errorResponses, jsonBody, jsonResponse } from '../http/schemas.ts';
import { routesTagged } from '../http/taggedRoutes.ts';
import type { AppEnv, AppRouter } from '../http/types.ts';
import { MAX_LABEL_TARGET, type LabelService } from './labelService.ts';

const labelKey = z.string().min(1).max(64);
const route = routesTagged('devices');

const routes = {
  bulk: route.post('/v1/devices/labels', operators, 'Set and remove labels on many terminals (by ids or by a fleet query)', {
    request: {
      body: jsonBody(
        z
          .object({
            target: z.union([z.object({ deviceIds: z.array(z.string().min(1).max(64)).min(1).max(MAX_LABEL_TARGET) }).strict(), z.object({ query: queryText }).strict()]),
            set: z.record(labelKey, z.string().max(256)).optional(),
            remove: z.array(labelKey).max(100).optional(),
          })
          .strict()
          .openapi({ example: { target: { query: 'model = "PAX-A920" and label.region = "north"' }, set: { wave: '2' }, remove: ['pilot'] } }),
      ),
    },
    responses: {
      200: jsonResponse(z.object({ matched: z.number().int(), updated: z.number().int() }), 'how many terminals the target named and how many were written'),
      ...errorResponses(400, 401, 403),
    },
  }),
  csv: route.post('/v1/devices/labels.csv', operators, 'Set labels from CSV: header serial,key,value; an empty value removes the key', {
    request: { body: { required: true, content: { 'text/csv': { schema: z.string() } } } },
    responses: {
      200: jsonResponse(
        z.object({ rows: z.number().int(), updated: z.number().int(), errors: z.array(z.object({ row: z.number().int(), message: z.string() })) }),
        'rows read, terminals written, and the rows refused (by record number, the header being 1)',
      ),
      ...errorResponses(400, 401, 403, 413),
    },
  }),
};

const actorOf = (c: Context<AppEnv>) => ({ principal: c.get('principal'), ip: clientIp(c) });

export function registerLabelRoutes(app: AppRouter, labels: LabelService) {
  app.openapi(routes.bulk, async (c) => c.json(await labels.bulk(c.req.valid('json'), actorOf(c)), 200));
  app.openapi(routes.csv, async (c) => {
    const type = c.req.header('content-type') ?? '';
    if (!type.startsWith('text/csv') && !type.startsWith('text/plain')) throw badRequest('unsupported_media_type', 'send the file as text/csv');
    return c.json(await labels.csv(await c.req.text(), actorOf(c)), 200);
  });
}
