// Who may download a package's content and how it is served: the same for firmware images
// (/v1/firmware/{id}/content) and payment-app packages (/v1/apps/{id}/content). A terminal comes
// with a signed link made for it or its own HTTP Basic credentials; staff with a token of a role
// that ships packages. Served by Range (a resumed download), with the sha256 as the ETag.
import type { Context } from 'hono';
import type { AuthService } from '../auth/authService.ts';
import { byteStream } from '../core/byteStream.ts';
import type { CredentialCache } from '../devices/credentialCache.ts';
import { AppError, forbidden, unauthorized } from '../errors.ts';
import type { AppEnv } from '../http/types.ts';
import type { ArtifactStorage } from './artifactStorage.ts';
import { parseRange } from './byteRange.ts';
import type { DownloadLinks } from './downloadLinks.ts';

export interface ContentAccessDeps {
  links: DownloadLinks;
  credentials: CredentialCache;
  auth: AuthService;
  deviceAllowed(deviceId: string): Promise<boolean>;
}

const STAFF_ROLES = ['admin', 'operator', 'technician'];

function basicAuth(header: string | undefined): { user: string; pass: string } | null {
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '');
  if (!m) return null;
  const text = Buffer.from(m[1]!, 'base64').toString('utf8');
  const i = text.indexOf(':');
  return i > 0 ? { user: text.slice(0, i), pass: text.slice(i + 1) } : null;
}

/** Throws 401/403 unless the caller may download package `id`; `realm` names the Basic challenge. */
export async function authorizeContentDownload(deps: ContentAccessDeps, c: Context<AppEnv>, id: string, realm: string): Promise<void> {
  const q = c.req.query();
  if (q.sig !== undefined) {
    const v = deps.links.verify(id, q, Date.now());
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
    if (principal && STAFF_ROLES.includes(principal.role)) return;
    // A valid token of another role is a 403, as on every route: asking it again will not help.
    if (principal) throw forbidden(`requires role ${STAFF_ROLES.join(' or ')}`);
  }
  c.header('WWW-Authenticate', `Basic realm="${realm}"`);
  throw unauthorized('a signed link, device credentials (HTTP Basic) or an operator token is needed');
}

/**
 * Answers GET/HEAD for a ready package's bytes, whole or by Range. `inMemory`, when it has the
 * bytes, saves a read from storage (small images at fleet scale).
 */
export function serveContent(
  c: Context<AppEnv>,
  row: { size: number; sha256: string },
  deps: { storage: ArtifactStorage; inMemory?: Buffer<ArrayBuffer> | null },
): Response {
  const size = row.size;
  const range = parseRange(c.req.header('range'), size);
  c.header('Accept-Ranges', 'bytes');
  c.header('ETag', `"${row.sha256}"`);
  c.header('Cache-Control', 'private, no-store');
  // A terminal downloads once: a kept-alive socket would only hold a descriptor beside the
  // fleet's MQTT sockets, and a client reusing it just as the server times it out gets a
  // 'socket hang up' (hundreds of failed downloads, each retried a backoff later, in the
  // 10,000-terminal rollout).
  c.header('Connection', 'close');
  // A resume must not stitch two different images: If-Range with another ETag gets it all.
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
  if (deps.inMemory) return c.body(deps.inMemory.subarray(start, end + 1));
  // Too large to hold: streamed from storage with back-pressure, never the whole image in memory.
  return c.body(byteStream(deps.storage.read(row.sha256, { start, end })));
}
