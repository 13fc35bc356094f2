// Bearer-token authentication and role checks for the control-plane API (SPEC §8).
import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context, MiddlewareHandler } from 'hono';
import type { Role } from '../../schemas/db.ts';
import { forbidden, unauthorized } from '../errors.ts';
import type { AppEnv, Principal } from '../http/types.ts';
import type { AuthService } from './authService.ts';

const BEARER = /^Bearer[ \t]+([^\s]+)[ \t]*$/i;

/** Sets `principal` from `Authorization: Bearer <token>`; 401 `unauthorized` otherwise. */
export function authMiddleware(auth: Pick<AuthService, 'authenticate'>): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    c.header('WWW-Authenticate', 'Bearer');
    const header = c.req.header('authorization');
    if (!header) throw unauthorized('missing bearer token');
    const token = BEARER.exec(header)?.[1];
    if (!token) throw unauthorized('Authorization must be "Bearer <token>"');
    const principal = await auth.authenticate(token);
    if (!principal) throw unauthorized('invalid, revoked or disabled token');
    c.header('WWW-Authenticate', undefined);
    c.set('principal', principal);
    await next();
  };
}

/**
 * 403 `forbidden` unless the caller's role is listed. No role is implied: list `admin` where
 * admins may act too.
 */
export function requireRole(...roles: Role[]): MiddlewareHandler<AppEnv> {
  const allowed = new Set<Role>(roles);
  return async (c, next) => {
    const principal: Principal | undefined = c.get('principal');
    if (!principal) throw unauthorized();
    if (!allowed.has(principal.role)) {
      throw forbidden(`requires role ${roles.join(' or ')}`);
    }
    await next();
  };
}

/**
 * The client's address as the HTTP app resolved it (server/http/clientAddress.ts: the peer, or
 * behind a trusted proxy the X-Forwarded-For hop it vouches for); 'unknown' when there is no
 * connection, e.g. `app.request` in tests.
 */
export function clientIp(c: Context): string {
  const resolved: unknown = c.get('clientIp');
  return typeof resolved === 'string' ? resolved : peerAddress(c);
}

export function peerAddress(c: Context): string {
  try {
    return getConnInfo(c).remote.address ?? 'unknown';
  } catch {
    return 'unknown';
  }
}
