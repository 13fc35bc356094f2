// Remote diagnostics and log bundles of one terminal, and the signed upload link terminals PUT to.
import { createRoute, z } from '@hono/zod-openapi';
import type { AuditLog } from '../audit/auditLog.ts';
import { clientIp } from '../auth/middleware.ts';
import { readers, technicians } from '../auth/roleSets.ts';
import type { DeviceService } from '../devices/deviceService.ts';
import { errorResponses, jsonResponse, optionalJsonBody, page, pageQuery, pathParams } from '../http/schemas.ts';
import { routesTagged } from '../http/taggedRoutes.ts';
import type { AppRouter } from '../http/types.ts';
import { diagnosticsView, selfTestComponents, type Diagnostics } from './diagnostics.ts';
import { logBundleView, type LogBundles } from './logBundles.ts';
import { bundle, diagnostics } from './deviceJobSchemas.ts';

const deviceIdParams = pathParams('id');
const route = routesTagged('diagnostics');

const ttlS = z.number().int().min(60).max(24 * 3600).optional().openapi({ description: 'seconds the request (and upload link) stays valid; default 3600' });

const runDiagRoute = route.post('/v1/devices/{id}/diagnostics', technicians, 'Run self-tests on a terminal (diag.run); the result appears in the list', {
  request: { params: deviceIdParams, body: optionalJsonBody(z.object({ components: z.array(z.enum(selfTestComponents)).min(1).optional(), ttlS }).strict()) },
  responses: { 201: jsonResponse(diagnostics, 'requested'), ...errorResponses(400, 401, 403, 404, 422) },
});

const listDiagRoute = route.get('/v1/devices/{id}/diagnostics', readers, "A terminal's diagnostics results, newest first", {
  request: { params: deviceIdParams, query: z.object(pageQuery) },
  responses: { 200: jsonResponse(page(diagnostics), 'diagnostics'), ...errorResponses(400, 401, 403, 404) },
});

const requestLogsRoute = route.post('/v1/devices/{id}/logs', technicians, 'Ask a terminal for its logs (logs.upload to a signed, expiring link)', {
  request: { params: deviceIdParams, body: optionalJsonBody(z.object({ ttlS }).strict()) },
  responses: { 201: jsonResponse(bundle, 'requested'), ...errorResponses(400, 401, 403, 404, 422) },
});

const listLogsRoute = route.get('/v1/devices/{id}/logs', technicians, "A terminal's log bundles, newest first", {
  request: { params: deviceIdParams, query: z.object(pageQuery) },
  responses: { 200: jsonResponse(page(bundle), 'bundles'), ...errorResponses(400, 401, 403, 404) },
});

const downloadRoute = route.get('/v1/devices/{id}/logs/{bundleId}', technicians, 'Download an uploaded log bundle', {
  request: { params: pathParams('id', 'bundleId') },
  responses: {
    200: { description: 'the bundle', content: { 'application/octet-stream': { schema: z.string().openapi({ format: 'binary' }) } } },
    ...errorResponses(401, 403, 404, 409),
  },
});

const uploadRoute = createRoute({
  method: 'put',
  path: '/v1/uploads/logs/{bundleId}',
  tags: ['diagnostics'],
  summary: 'Terminal upload of a log bundle to its signed link (no bearer token: the signature is the credential)',
  security: [],
  request: {
    params: pathParams('bundleId'),
    query: z.object({ exp: z.string().max(20), sig: z.string().max(128) }),
  },
  responses: { 201: jsonResponse(z.object({ id: z.string(), sizeBytes: z.number(), sha256: z.string() }), 'stored'), ...errorResponses(400, 403, 404, 409, 413) },
});

const DEFAULT_TTL_S = 3600;

async function optionalJson(req: { json(): Promise<unknown>; header(name: string): string | undefined }): Promise<Record<string, unknown>> {
  if (!req.header('content-type')?.includes('json')) return {};
  return ((await req.json().catch(() => ({}))) ?? {}) as Record<string, unknown>;
}

export function registerDeviceJobRoutes(app: AppRouter, deps: { devices: DeviceService; diagnostics: Diagnostics; logs: LogBundles; audit: AuditLog }) {
  const { devices, audit } = deps;

  /** A page of one terminal's rows: an unknown terminal is a 404, not an empty page. */
  type ListOfTerminal<T> = (deviceId: string, limit: number, cursor?: string) => Promise<T>;
  async function pageOfTerminal<T>(id: string, q: { limit: number; cursor?: string }, list: ListOfTerminal<T>) {
    await devices.byId(id);
    return list(id, q.limit, q.cursor);
  }

  app.openapi(runDiagRoute, async (c) => {
    const { id } = c.req.valid('param');
    await devices.enrolledById(id);
    const body = (await optionalJson(c.req)) as { components?: (typeof selfTestComponents)[number][]; ttlS?: number };
    const principal = c.get('principal');
    const { row } = await deps.diagnostics.request(id, body.components, principal.userId, body.ttlS, (tx, cmd) =>
      audit.append({ actor: principal, action: 'device.diagnostics', target: id, ip: clientIp(c), data: { cmdId: cmd.id, components: body.components ?? 'all' } }, tx),
    );
    return c.json(diagnosticsView(row), 201);
  });

  app.openapi(listDiagRoute, async (c) =>
    c.json(await pageOfTerminal(c.req.valid('param').id, c.req.valid('query'), deps.diagnostics.list), 200),
  );

  app.openapi(requestLogsRoute, async (c) => {
    const { id } = c.req.valid('param');
    await devices.enrolledById(id);
    const body = (await optionalJson(c.req)) as { ttlS?: number };
    const principal = c.get('principal');
    const { bundle: row } = await deps.logs.request(id, principal.userId, body.ttlS ?? DEFAULT_TTL_S, (tx, made) =>
      audit.append({ actor: principal, action: 'device.logs_request', target: id, ip: clientIp(c), data: { bundleId: made.bundle.id, cmdId: made.cmd.id } }, tx),
    );
    return c.json(logBundleView(row), 201);
  });

  app.openapi(listLogsRoute, async (c) => c.json(await pageOfTerminal(c.req.valid('param').id, c.req.valid('query'), deps.logs.list), 200));

  app.openapi(downloadRoute, async (c) => {
    const { id, bundleId } = c.req.valid('param');
    const file = await deps.logs.open(id, bundleId);
    return new Response(file.stream(), {
      status: 200,
      headers: {
        'content-type': file.row.contentType?.startsWith('text/') ? file.row.contentType : 'application/octet-stream',
        'content-length': String(file.size),
        'content-disposition': `attachment; filename="${id}-${bundleId}.log"`,
        'x-content-type-options': 'nosniff',
        ...(file.row.sha256 ? { 'x-checksum-sha256': file.row.sha256 } : {}),
      },
    }) as never;
  });

  app.openapi(uploadRoute, async (c) => {
    const { bundleId } = c.req.valid('param');
    const { exp, sig } = c.req.valid('query');
    const len = c.req.header('content-length');
    const row = await deps.logs.receive({
      id: bundleId,
      exp,
      sig,
      contentLength: len !== undefined && /^[0-9]+$/.test(len) ? Number(len) : undefined,
      contentType: c.req.header('content-type'),
      body: c.req.raw.body as never,
    });
    return c.json({ id: row.id, sizeBytes: row.sizeBytes ?? 0, sha256: row.sha256 ?? '' }, 201);
  });
}
