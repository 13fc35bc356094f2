// The Hono application: validation failures → 400 with field paths, one error mapper, a body
// limit, bearer auth on /v1 (enrollment excepted), JSON 404s.
import { OpenAPIHono } from '@hono/zod-openapi';
import { bodyLimit } from 'hono/body-limit';
import type { AuthService } from '../auth/authService.ts';
import { authMiddleware, peerAddress } from '../auth/middleware.ts';
import { resolveClientAddress, type TrustedProxies } from './clientAddress.ts';
import { AppError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { createErrorHandler, errorJson, validationDetails } from './errorHandler.ts';
import type { AppEnv, AppRouter } from './types.ts';

/** Routes under /v1 that authenticate otherwise (the enroll token, a signed link). */
const PUBLIC_V1 = [/^\/v1\/enroll$/];
/** Firmware images: GET/HEAD authenticate by signed link or device HTTP Basic (server/firmware/);
 *  PUT streams an image of any size to storage, so the JSON body limit does not apply. */
const FIRMWARE_CONTENT = /^\/v1\/firmware\/[^/]+\/content$/;
/** Log bundle uploads (server/faults/): the signed link is the credential; own size limit. */
const LOG_UPLOAD = /^\/v1\/uploads\/logs\/[^/]+$/;

export function createHttpApp(deps: { auth: AuthService; log: Logger; bodyLimitBytes: number; trustedProxies: TrustedProxies }): AppRouter {
  const app = new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) {
        throw new AppError(400, 'validation_failed', 'request did not pass validation', validationDetails(result.error));
      }
    },
  });
  app.onError(createErrorHandler(deps.log));
  app.use('*', async (c, next) => {
    c.set('clientIp', resolveClientAddress(peerAddress(c), c.req.header('x-forwarded-for'), deps.trustedProxies));
    await next();
  });
  app.notFound((c) => errorJson(c, 404, 'not_found', `no route for ${c.req.method} ${c.req.path}`));
  const limitBody = bodyLimit({
    maxSize: deps.bodyLimitBytes,
    onError: (c) => errorJson(c, 413, 'payload_too_large', `request body over ${deps.bodyLimitBytes} bytes`),
  });
  app.use('*', async (c, next) => (c.req.method === 'PUT' && (FIRMWARE_CONTENT.test(c.req.path) || LOG_UPLOAD.test(c.req.path)) ? next() : limitBody(c, next)));
  const requireAuth = authMiddleware(deps.auth);
  app.use('/v1/*', async (c, next) => {
    if (PUBLIC_V1.some((p) => p.test(c.req.path))) return next();
    if (c.req.method === 'PUT' && LOG_UPLOAD.test(c.req.path)) return next();
    if ((c.req.method === 'GET' || c.req.method === 'HEAD') && FIRMWARE_CONTENT.test(c.req.path)) return next();
    return requireAuth(c, next);
  });
  return app;
}
