// GET /v1/apps/{id}/content: the package image, authorised as firmware images are (a signed link
// for one terminal, device HTTP Basic, or a staff token) and served from the same store with the
// same Range handling (server/firmware/byteRange.ts, server/core/byteStream.ts).
import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { AuthService } from '../auth/authService.ts';
import { byteStream } from '../core/byteStream.ts';
import type { CredentialCache } from '../devices/credentialCache.ts';
import { AppError, forbidden, unauthorized } from '../errors.ts';
import type { ArtifactStorage } from '../firmware/artifactStorage.ts';
import { parseRange } from '../firmware/byteRange.ts';
import type { DownloadLinks } from '../firmware/downloadLinks.ts';
import { checkedPathParams, errorResponses, pathParams } from '../http/schemas.ts';
import type { AppEnv, AppRouter } from '../http/types.ts';
import type { AppService } from './appService.ts';

export interface AppDownloadDeps {
  service: AppService;
  storage: ArtifactStorage;
  links: DownloadLinks;
  credentials: CredentialCache;
  auth: AuthService;
  deviceAllowed(deviceId: string): Promise<boolean>;
}

function basicAuth(header: string | undefined): { user: string; pass: string } | null {
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '');
  if (!m) return null;
  const text = Buffer.from(m[1]!, 'base64').toString('utf8');
  const i = text.indexOf(':');
  return i > 0 ? { user: text.slice(0, i), pass: text.slice(i + 1) } : null;
}

const binary = { 'application/octet-stream': { schema: z.string().openapi({ format: 'binary' }) } };
const idParams = pathParams('id');

export function registerAppDownload(app: AppRouter, deps: AppDownloadDeps) {
  app.openAPIRegistry.registerPath({
    method: 'get',
    path: '/v1/apps/{id}/content',
    tags: ['apps'],
    summary: 'Download the package image: signed link (?device&exp&sig), HTTP Basic deviceId:secret, or a bearer token; Range supported',
    request: { params: idParams },
    responses: {
      200: { description: 'the image', content: binary },
      206: { description: 'the requested range', content: binary },
      ...errorResponses(401, 403, 404, 409, 416),
    },
  });

  async function authorize(c: Context<AppEnv>, appId: string) {
    const q = c.req.query();
    if (q.sig !== undefined) {
      const v = deps.links.verify(appId, q, Date.now());
      if (!v.ok)
        throw forbidden(
          v.reason === 'expired' ? 'the download link has expired' : 'the download link is not valid',
          v.reason === 'expired' ? 'link_expired' : 'bad_link',
        );
      if (!(await deps.deviceAllowed(v.deviceId))) throw forbidden('this device may not download', 'device_not_allowed');
      return;
    }
    const authz = c.req.header('authorization');
    const basic = basicAuth(authz);
    if (basic) {
      const check = await deps.credentials.check(basic.user, basic.pass);
      if (check !== 'ok') throw unauthorized(check === 'revoked' ? 'device revoked' : 'bad device credentials');
      if (!(await deps.deviceAllowed(basic.user))) throw forbidden('this device may not download', 'device_not_allowed');
      return;
    }
    const bearer = /^Bearer\s+(\S+)\s*$/i.exec(authz ?? '');
    if (bearer) {
      const principal = await deps.auth.authenticate(bearer[1]!);
      if (principal && ['admin', 'operator', 'technician'].includes(principal.role)) return;
      if (principal) throw forbidden('requires role admin or operator or technician');
    }
    c.header('WWW-Authenticate', 'Basic realm="apps"');
    throw unauthorized('a signed link, device credentials (HTTP Basic) or an operator token is needed');
  }

  app.get('/v1/apps/:id/content', async (c) => {
    // Who asks comes first: a caller without access learns nothing of the id.
    await authorize(c, c.req.param('id'));
    const { id } = checkedPathParams(c, idParams);
    const row = await deps.service.byId(id);
    if (row.state !== 'ready') throw new AppError(409, 'not_ready', `app ${id} has no content yet`);
    const size = row.size;
    const range = parseRange(c.req.header('range'), size);
    c.header('Accept-Ranges', 'bytes');
    c.header('ETag', `"${row.sha256}"`);
    c.header('Cache-Control', 'private, no-store');
    c.header('Connection', 'close');
    const ifRange = c.req.header('if-range');
    const honourRange = !ifRange || ifRange === `"${row.sha256}"`;
    if (range.kind === 'unsatisfiable' && honourRange) {
      c.header('Content-Range', `bytes */${size}`);
      throw new AppError(416, 'range_not_satisfiable', `the range is outside the image's ${size} bytes`);
    }
    c.header('Content-Type', 'application/octet-stream');
    const part = range.kind === 'partial' && honourRange ? range : null;
    const start = part?.start ?? 0;
    const end = part?.end ?? size - 1;
    c.header('Content-Length', String(end - start + 1));
    if (part) c.header('Content-Range', `bytes ${start}-${end}/${size}`);
    c.status(part ? 206 : 200);
    if (c.req.method === 'HEAD') return c.body(null);
    return c.body(byteStream(deps.storage.read(row.sha256, { start, end })));
  });
}
