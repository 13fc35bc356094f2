// Firmware artifacts over HTTP: signed manifest, streamed upload, streamed download with Range.
import { Readable } from 'node:stream';
import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { firmwareManifest } from '../../schemas/ota.ts';
import type { AuditLog } from '../audit/auditLog.ts';
import type { AuthService } from '../auth/authService.ts';
import { clientIp } from '../auth/middleware.ts';
import { operators, readers } from '../auth/roleSets.ts';
import type { CredentialCache } from '../devices/credentialCache.ts';
import { AppError, badRequest } from '../errors.ts';
import { checkedPathParams, errorResponses, jsonBody, jsonResponse, page, pageQuery, pathParams } from '../http/schemas.ts';
import { routesTagged } from '../http/taggedRoutes.ts';
import type { AppEnv, AppRouter } from '../http/types.ts';
import type { ArtifactStorage } from './artifactStorage.ts';
import type { DownloadLinks } from './downloadLinks.ts';
import { authorizeContentDownload, serveContent } from './contentDownload.ts';
import type { FirmwareService } from './firmwareService.ts';
import { firmwareView } from './firmwareService.ts';
import type { ImageCache } from './imageCache.ts';

export const firmwareSchema = z
  .looseObject({
    id: z.string(),
    name: z.string(),
    version: z.string(),
    state: z.enum(['awaiting_content', 'ready']),
    sha256: z.string(),
    size: z.number(),
  })
  .openapi('Firmware');
const idParams = pathParams('id');
const route = routesTagged('firmware');

const createRouteDef = route.post(
  '/v1/firmware',
  operators,
  'Register a firmware artifact by its signed manifest (content follows with PUT …/content)',
  {
    request: { body: jsonBody(z.object({ manifest: firmwareManifest, signature: z.string().min(1).max(200) })) },
    responses: {
      201: jsonResponse(firmwareSchema, 'awaiting content'),
      200: jsonResponse(firmwareSchema, 'the same manifest was registered before'),
      ...errorResponses(400, 401, 403, 409, 422),
    },
  },
);

const listRoute = route.get('/v1/firmware', readers, 'Firmware artifacts, newest first', {
  request: { query: z.object(pageQuery) },
  responses: { 200: jsonResponse(page(firmwareSchema), 'artifacts'), ...errorResponses(401, 403) },
});

const getRoute = route.get('/v1/firmware/{id}', readers, 'One firmware artifact', {
  request: { params: idParams },
  responses: { 200: jsonResponse(firmwareSchema, 'the artifact'), ...errorResponses(401, 403, 404) },
});

export interface FirmwareRouteDeps {
  service: FirmwareService;
  storage: ArtifactStorage;
  /** Ready images held in memory: a rollout's thousands of downloads of one image read it once. */
  images: ImageCache;
  links: DownloadLinks;
  credentials: CredentialCache;
  auth: AuthService;
  audit: AuditLog;
  /** Whether a device may download (enrolled, not revoked or blacklisted). */
  deviceAllowed(deviceId: string): Promise<boolean>;
}

export function registerFirmwareRoutes(app: AppRouter, deps: FirmwareRouteDeps) {
  const { service } = deps;

  app.openapi(createRouteDef, async (c) => {
    const body = c.req.valid('json');
    const principal = c.get('principal');
    const { row, created } = await service.create(body, principal.userId, (tx, r) =>
      deps.audit.append(
        {
          actor: principal,
          action: 'firmware.create',
          target: r.id,
          ip: clientIp(c),
          data: { name: r.name, version: r.version, sha256: r.sha256 },
        },
        tx,
      ),
    );
    return c.json(firmwareView(row), created ? 201 : 200);
  });

  app.openapi(listRoute, async (c) => {
    const q = c.req.valid('query');
    return c.json(await service.list(q.limit, q.cursor), 200);
  });

  app.openapi(getRoute, async (c) => c.json(firmwareView(await service.byId(c.req.valid('param').id)), 200));

  app.openAPIRegistry.registerPath({
    method: 'put',
    path: '/v1/firmware/{id}/content',
    tags: ['firmware'],
    summary: 'Upload the image (application/octet-stream), streamed and hashed on the way',
    request: { params: idParams, body: { content: { 'application/octet-stream': { schema: z.string().openapi({ format: 'binary' }) } } } },
    responses: { 200: jsonResponse(firmwareSchema, 'ready'), ...errorResponses(400, 401, 403, 404, 422) },
  });
  app.put('/v1/firmware/:id/content', operators, async (c) => {
    const { id } = checkedPathParams(c, idParams);
    const type = c.req.header('content-type') ?? '';
    if (!type.startsWith('application/octet-stream'))
      throw new AppError(400, 'bad_content_type', 'send the image as application/octet-stream');
    const body = c.req.raw.body;
    if (!body) throw badRequest('empty_body', 'no content');
    const row = await service.upload(id, Readable.fromWeb(body as import('node:stream/web').ReadableStream<Uint8Array>), (tx, r) =>
      deps.audit.append(
        { actor: c.get('principal'), action: 'firmware.upload', target: id, ip: clientIp(c), data: { sha256: r.sha256, size: r.size } },
        tx,
      ),
    );
    return c.json(firmwareView(row), 200);
  });

  app.openAPIRegistry.registerPath({
    method: 'get',
    path: '/v1/firmware/{id}/content',
    tags: ['firmware'],
    summary: 'Download the image: signed link (?device&exp&sig), HTTP Basic deviceId:secret, or a bearer token; Range supported',
    request: { params: idParams },
    responses: {
      200: { description: 'the image', content: { 'application/octet-stream': { schema: z.string().openapi({ format: 'binary' }) } } },
      206: {
        description: 'the requested range',
        content: { 'application/octet-stream': { schema: z.string().openapi({ format: 'binary' }) } },
      },
      ...errorResponses(401, 403, 404, 416),
    },
  });
  const download = async (c: Context<AppEnv>) => {
    // Who asks comes first, as for every route: a caller without access learns nothing of the id.
    await authorizeContentDownload(deps, c, c.req.param('id') ?? '', 'firmware');
    const { id } = checkedPathParams(c, idParams);
    const row = await service.byId(id);
    if (row.state !== 'ready') throw new AppError(409, 'not_ready', `firmware ${id} has no content yet`);
    const inMemory = c.req.method === 'HEAD' ? null : await deps.images.get(row);
    return serveContent(c, row, { storage: deps.storage, inMemory });
  };
  app.get('/v1/firmware/:id/content', download);
}
