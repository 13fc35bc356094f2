// App packages over HTTP: the signed manifest, the streamed upload, and a terminal's inventory.
// The content download (signed link, device Basic or staff token) is server/apps/appDownload.ts.
import { Readable } from 'node:stream';
import type { ReadableStream } from 'node:stream/web';
import { z } from '@hono/zod-openapi';
import { eq } from 'drizzle-orm';
import { appManifest, installedApp } from '../../schemas/apps.ts';
import { devices, organisations } from '../../schemas/db.ts';
import type { AuditLog } from '../audit/auditLog.ts';
import { clientIp } from '../auth/middleware.ts';
import { operators, readers } from '../auth/roleSets.ts';
import type { Db } from '../db/database.ts';
import { AppError, badRequest } from '../errors.ts';
import { checkedPathParams, errorResponses, jsonBody, jsonResponse, page, pageQuery, pathParams } from '../http/schemas.ts';
import { routesTagged } from '../http/taggedRoutes.ts';
import type { AppRouter } from '../http/types.ts';
import { assertInScope } from '../orgs/scope.ts';
import { appView, type AppService } from './appService.ts';
import type { AppInventoryStore } from './inventory.ts';

export const appSchema = z
  .looseObject({
    id: z.string(),
    packageName: z.string(),
    version: z.string(),
    models: z.array(z.string()),
    minFirmware: z.string(),
    state: z.enum(['awaiting_content', 'ready']),
    sha256: z.string(),
    size: z.number(),
  })
  .openapi('AppPackage');
export const packageSummary = z
  .object({
    packageName: z.string(),
    installs: z.number().int().openapi({ description: "terminals of the caller's subtree reporting any version" }),
    versions: z.array(
      z.object({
        version: z.string(),
        id: z.string().nullable().openapi({ description: 'the registered package version; null: only reported by terminals' }),
        state: z.enum(['awaiting_content', 'ready']).nullable(),
        models: z.array(z.string()).nullable(),
        minFirmware: z.string().nullable(),
        installs: z.number().int(),
      }),
    ),
  })
  .openapi('AppPackageSummary');
export const inventoryView = z.object({ deviceId: z.string(), apps: z.array(installedApp) }).openapi('AppInventory');
const idParams = pathParams('id');
const route = routesTagged('apps');

const createRoute = route.post('/v1/apps', operators, 'Register a payment-app package version by its signed manifest (content follows with PUT …/content)', {
  request: { body: jsonBody(z.object({ manifest: appManifest, signature: z.string().min(1).max(200) })) },
  responses: {
    201: jsonResponse(appSchema, 'awaiting content'),
    200: jsonResponse(appSchema, 'the same manifest was registered before'),
    ...errorResponses(400, 401, 403, 409, 422),
  },
});
const listRoute = route.get('/v1/apps', readers, 'App packages by name, with their versions and install counts across the fleet', {
  request: { query: z.object(pageQuery) },
  responses: { 200: jsonResponse(page(packageSummary), 'packages'), ...errorResponses(400, 401, 403) },
});
const getRoute = route.get('/v1/apps/{id}', readers, 'One app package version', {
  request: { params: idParams },
  responses: { 200: jsonResponse(appSchema, 'the package version'), ...errorResponses(401, 403, 404) },
});
const deviceRoute = route.get('/v1/devices/{id}/apps', readers, 'The apps a terminal reports installed (its state topic)', {
  request: { params: idParams },
  responses: { 200: jsonResponse(inventoryView, 'the inventory'), ...errorResponses(401, 403, 404) },
});

export interface AppRouteDeps {
  db: Db;
  service: AppService;
  inventory: AppInventoryStore;
  audit: AuditLog;
}

export function registerAppRoutes(app: AppRouter, deps: AppRouteDeps) {
  const { service } = deps;

  app.openapi(createRoute, async (c) => {
    const body = c.req.valid('json');
    const principal = c.get('principal');
    const { row, created } = await service.create(body, principal.userId, (tx, r) =>
      deps.audit.append(
        { actor: principal, action: 'app.create', target: r.id, ip: clientIp(c), data: { packageName: r.packageName, version: r.version, sha256: r.sha256 } },
        tx,
      ),
    );
    return c.json(appView(row), created ? 201 : 200);
  });

  app.openapi(listRoute, async (c) => {
    const q = c.req.valid('query');
    return c.json(await service.list(c.get('principal'), q.limit, q.cursor), 200);
  });

  app.openapi(getRoute, async (c) => c.json(appView(await service.byId(c.req.valid('param').id)), 200));

  app.openapi(deviceRoute, async (c) => {
    const { id } = c.req.valid('param');
    const [d] = await deps.db
      .select({ path: organisations.path })
      .from(devices)
      .leftJoin(organisations, eq(organisations.id, devices.orgId))
      .where(eq(devices.id, id))
      .limit(1);
    // Another subtree's terminal is answered like a missing one.
    assertInScope(c.get('principal'), d ? (d.path ?? '/') : null, `device ${id}`);
    return c.json({ deviceId: id, apps: await deps.inventory.of(id) }, 200);
  });

  app.openAPIRegistry.registerPath({
    method: 'put',
    path: '/v1/apps/{id}/content',
    tags: ['apps'],
    summary: 'Upload the package image (application/octet-stream), streamed and hashed on the way',
    request: { params: idParams, body: { content: { 'application/octet-stream': { schema: z.string().openapi({ format: 'binary' }) } } } },
    responses: { 200: jsonResponse(appSchema, 'ready'), ...errorResponses(400, 401, 403, 404, 422) },
  });
  app.put('/v1/apps/:id/content', operators, async (c) => {
    const { id } = checkedPathParams(c, idParams);
    if (!(c.req.header('content-type') ?? '').startsWith('application/octet-stream'))
      throw new AppError(400, 'bad_content_type', 'send the image as application/octet-stream');
    const body = c.req.raw.body;
    if (!body) throw badRequest('empty_body', 'no content');
    const row = await service.upload(id, Readable.fromWeb(body as ReadableStream<Uint8Array>), (tx, r) =>
      deps.audit.append({ actor: c.get('principal'), action: 'app.upload', target: id, ip: clientIp(c), data: { sha256: r.sha256, size: r.size } }, tx),
    );
    return c.json(appView(row), 200);
  });
}
