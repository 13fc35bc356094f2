// Saved filters and query previews over HTTP. A query is checked when saved (400 query_invalid
// with {position, expected}); its count and sample are live, read when asked.
import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { deviceStatuses } from '../../schemas/db.ts';
import { MAX_QUERY_LENGTH } from '../../schemas/fleetQuery.ts';
import { clientIp } from '../auth/middleware.ts';
import { operators, readers } from '../auth/roleSets.ts';
import { errorResponses, jsonBody, jsonResponse, page, pageQuery, pathParams } from '../http/schemas.ts';
import { routesTagged } from '../http/taggedRoutes.ts';
import type { AppEnv, AppRouter } from '../http/types.ts';
import { conditionOf, parsedOrRefused, type DeviceQueries } from './deviceQueries.ts';
import type { FilterService } from './filterService.ts';
import { printQuery } from './query/printer.ts';

const EXAMPLE = 'model = "PAX-A920" and fw < "2.1.0" and label.region in ("north", "south") and online';

const query = z.string().min(1).max(MAX_QUERY_LENGTH).openapi({ description: 'a fleet query (docs/groups-and-filters.md)', example: EXAMPLE });

export const savedFilter = z
  .looseObject({
    id: z.string(),
    name: z.string(),
    description: z.string(),
    query: z.string().openapi({ description: 'as written' }),
    canonical: z.string().openapi({ description: 'the same query in its canonical spelling' }),
    orgId: z.string(),
    createdBy: z.string().nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi('SavedFilter');

export const matchPreview = z
  .object({
    count: z.number().int().openapi({ description: 'terminals matching now, in the caller’s subtree' }),
    sample: z.array(z.object({ id: z.string(), serial: z.string(), model: z.string(), status: z.enum(deviceStatuses), online: z.boolean() })).openapi({ description: 'the first 10 by serial' }),
    canonical: z.string(),
  })
  .openapi('FilterMatches');

const name = z.string().trim().min(1).max(100);
const description = z.string().max(1000);
const route = routesTagged('filters');
const idParams = pathParams('id');

const routes = {
  create: route.post('/v1/filters', operators, 'Save a filter (a name and a fleet query, checked now)', {
    request: { body: jsonBody(z.object({ name, query, description: description.optional() }).strict()) },
    responses: { 201: jsonResponse(savedFilter, 'saved'), ...errorResponses(400, 401, 403, 409) },
  }),
  list: route.get('/v1/filters', readers, 'Saved filters of the caller’s organisation subtree', {
    request: { query: z.object(pageQuery) },
    responses: { 200: jsonResponse(page(savedFilter), 'a page of filters'), ...errorResponses(400, 401, 403) },
  }),
  get: route.get('/v1/filters/{id}', readers, 'A saved filter', {
    request: { params: idParams },
    responses: { 200: jsonResponse(savedFilter, 'the filter'), ...errorResponses(401, 403, 404) },
  }),
  update: route.patch('/v1/filters/{id}', operators, 'Rename a filter or change its query (checked again)', {
    request: { params: idParams, body: jsonBody(z.object({ name: name.optional(), query: query.optional(), description: description.optional() }).strict()) },
    responses: { 200: jsonResponse(savedFilter, 'changed'), ...errorResponses(400, 401, 403, 404, 409) },
  }),
  remove: route.delete('/v1/filters/{id}', operators, 'Delete a saved filter', {
    request: { params: idParams },
    responses: { 204: { description: 'deleted' }, ...errorResponses(401, 403, 404) },
  }),
  count: route.get('/v1/filters/{id}/count', readers, 'How many terminals a saved filter matches now, and the first 10', {
    request: { params: idParams },
    responses: { 200: jsonResponse(matchPreview, 'live count and sample'), ...errorResponses(401, 403, 404) },
  }),
  preview: route.post('/v1/filters/preview', readers, 'Count and sample of a query without saving it', {
    request: { body: jsonBody(z.object({ query }).strict()) },
    responses: { 200: jsonResponse(matchPreview, 'live count and sample'), ...errorResponses(400, 401, 403) },
  }),
};

const actorOf = (c: Context<AppEnv>) => ({ principal: c.get('principal'), ip: clientIp(c) });

export function registerFilterRoutes(app: AppRouter, deps: { filters: FilterService; queries: DeviceQueries }) {
  const { filters, queries } = deps;
  const matches = async (text: string, c: Context<AppEnv>) => ({
    ...(await queries.countAndSample(conditionOf(text), { scope: c.get('principal') })),
    canonical: printQuery(parsedOrRefused(text)),
  });

  app.openapi(routes.create, async (c) => c.json(await filters.create(c.req.valid('json'), actorOf(c)), 201));
  app.openapi(routes.list, async (c) => {
    const q = c.req.valid('query');
    return c.json(await filters.list(c.get('principal'), q.limit, q.cursor), 200);
  });
  app.openapi(routes.get, async (c) => c.json(await filters.get(c.req.valid('param').id, c.get('principal')), 200));
  app.openapi(routes.update, async (c) => c.json(await filters.update(c.req.valid('param').id, c.req.valid('json'), actorOf(c)), 200));
  app.openapi(routes.remove, async (c) => {
    await filters.remove(c.req.valid('param').id, actorOf(c));
    return c.body(null, 204);
  });
  app.openapi(routes.count, async (c) => {
    const row = await filters.row(c.req.valid('param').id, c.get('principal'));
    return c.json(await matches(row.query, c), 200);
  });
  app.openapi(routes.preview, async (c) => c.json(await matches(c.req.valid('json').query, c), 200));
}
