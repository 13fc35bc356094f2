// Thin HTTP layer over the device service: validation, roles, audit.
import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { severities } from '../../schemas/faults.ts';
import type { Actor } from '../core/actor.ts';
import { clientIp } from '../auth/middleware.ts';
import { operators, readers } from '../auth/roleSets.ts';
import { badRequest } from '../errors.ts';
import { errorResponses, jsonBody, jsonResponse, optionalJsonBody, page, pageQuery, pathParams } from '../http/schemas.ts';
import { routesTagged } from '../http/taggedRoutes.ts';
import type { AppEnv, AppRouter } from '../http/types.ts';
import { MODEL_PATTERN, SERIAL_PATTERN } from './csvImport.ts';
import { deviceFilterOf, deviceFilterQuery } from './deviceFilterQuery.ts';
import { device, timelineEntry } from './deviceSchemas.ts';
import type { DeviceService } from './deviceService.ts';
import { orgIdField } from '../orgs/orgSchemas.ts';
import type { TimelineReader } from './timelineReader.ts';

export { device };

/** A listed terminal: the device with its unresolved faults, worst first. */
export const listedDevice = device
  .extend({
    openFaults: z
      .array(z.object({ code: z.string(), severity: z.enum(severities), title: z.string() }))
      .openapi({ description: 'unresolved (open or acknowledged) faults, worst severity first, then oldest' }),
  })
  .openapi('ListedDevice');

export const devicePage = page(listedDevice).extend({
  total: z.number().int().optional().openapi({ description: 'how many terminals match the filters; on the first page (no cursor) only' }),
});

export const importReport = z.object({
  created: z.number(),
  skipped: z.array(z.object({ line: z.number(), serial: z.string(), reason: z.string() })),
  errors: z.array(z.object({ line: z.number(), message: z.string() })),
});

const deviceIdParams = pathParams('id');
const route = routesTagged('devices');

const registerRoute = route.post('/v1/devices', operators, 'Pre-register a terminal by serial and model', {
  request: {
    body: jsonBody(
      z
        .object({
          serial: z.string().regex(SERIAL_PATTERN, 'letters, digits, . _ - (max 64)'),
          model: z.string().regex(MODEL_PATTERN, 'letters, digits, space . _ / - (max 64)'),
          labels: z.record(z.string().max(64), z.string().max(256)).optional(),
          orgId: orgIdField.optional().openapi({ description: 'the node it belongs to; default the caller’s own node' }),
        })
        .openapi({ example: { serial: 'PAX-0001', model: 'PAX-A920', labels: { store: 'berlin-12' } } }),
    ),
  },
  responses: { 201: jsonResponse(device, 'registered'), ...errorResponses(400, 401, 403, 409) },
});

const importRoute = route.post('/v1/devices/import', operators, 'Register terminals from CSV (header: serial,model[,label columns])', {
  request: {
    query: z.object({
      orgId: orgIdField.optional().openapi({ description: 'the node every imported terminal belongs to; default the caller’s own node' }),
    }),
    body: { required: true, content: { 'text/csv': { schema: z.string() } } },
  },
  responses: {
    200: jsonResponse(importReport, 'import report'),
    ...errorResponses(400, 401, 403, 413),
  },
});

const listRoute = route.get('/v1/devices', readers, 'List terminals with filters and cursor paging', {
  request: {
    query: deviceFilterQuery.extend(pageQuery),
  },
  responses: { 200: jsonResponse(devicePage, 'a page of devices'), ...errorResponses(400, 401, 403) },
});

const getRoute = route.get('/v1/devices/{id}', readers, 'A terminal with its latest state and health', {
  request: { params: deviceIdParams },
  responses: { 200: jsonResponse(device, 'the device'), ...errorResponses(401, 403, 404) },
});

const timelineRoute = route.get('/v1/devices/{id}/timeline', readers, 'Everything that happened to a terminal, newest first', {
  request: { params: deviceIdParams, query: z.object({ ...pageQuery, kind: z.string().max(32).optional() }) },
  responses: {
    200: jsonResponse(
      page(timelineEntry),
      'timeline',
    ),
    ...errorResponses(401, 403, 404),
  },
});

const reasonBody = optionalJsonBody(z.object({ reason: z.string().max(500).optional() }));

const revokeRoute = route.post('/v1/devices/{id}/revoke', operators, 'Revoke a terminal: refused at connect, live connection closed', {
  request: { params: deviceIdParams, body: reasonBody },
  responses: { 200: jsonResponse(device, 'revoked'), ...errorResponses(401, 403, 404) },
});

const resetRoute = route.post('/v1/devices/{id}/reset-enrollment', operators, 'Allow a terminal to enroll again (new credentials)', {
  request: { params: deviceIdParams, body: reasonBody },
  responses: { 200: jsonResponse(device, 'reset'), ...errorResponses(401, 403, 404) },
});

const actorOf = (c: Context<AppEnv>): Actor => ({ principal: c.get('principal'), ip: clientIp(c) });

export function registerDeviceRoutes(app: AppRouter, deps: { devices: DeviceService; timeline: TimelineReader; maxImportBytes: number }) {
  const { devices } = deps;

  app.openapi(registerRoute, async (c) => {
    const body = c.req.valid('json');
    const row = await devices.register(body, actorOf(c));
    return c.json(await devices.detail(row.id), 201);
  });

  app.openapi(importRoute, async (c) => {
    const type = c.req.header('content-type') ?? '';
    if (!type.startsWith('text/csv') && !type.startsWith('text/plain'))
      throw badRequest('unsupported_media_type', 'send the file as text/csv');
    const text = await c.req.text();
    const report = await devices.importCsv(text, actorOf(c), { orgId: c.req.valid('query').orgId });
    return c.json(report, 200);
  });

  app.openapi(listRoute, async (c) => {
    const q = c.req.valid('query');
    const filter = { ...deviceFilterOf(q), scope: c.get('principal') };
    const result = await devices.list(filter, q.limit, q.cursor);
    return c.json(result, 200);
  });

  app.openapi(getRoute, async (c) => c.json(await devices.detail(c.req.valid('param').id), 200));

  app.openapi(timelineRoute, async (c) => {
    const { id } = c.req.valid('param');
    const q = c.req.valid('query');
    await devices.byId(id);
    return c.json(await deps.timeline.list(id, q.limit, q.cursor, q.kind), 200);
  });

  app.openapi(revokeRoute, async (c) => {
    const { id } = c.req.valid('param');
    const reason = (await c.req.json().catch(() => ({}))) as { reason?: string };
    const row = await devices.revoke(id, reason.reason, actorOf(c));
    return c.json(row, 200);
  });

  app.openapi(resetRoute, async (c) => {
    const { id } = c.req.valid('param');
    const reason = (await c.req.json().catch(() => ({}))) as { reason?: string };
    const row = await devices.resetEnrollment(id, reason.reason, actorOf(c));
    return c.json(row, 200);
  });
}
