// The Hono application: validation failures (and strings the database cannot store) → 400 with
// field paths, one error mapper, a body limit, bearer auth on /v1, JSON 404s. Routes come in
// sub-apps mounted with `route()`; a route that authenticates otherwise or takes larger bodies is
// exempted by the one who mounts it.
import { OpenAPIHono } from '@hono/zod-openapi';
import { bodyLimit } from 'hono/body-limit';
import { TrieRouter } from 'hono/router/trie-router';
import type { AuthService } from '../auth/authService.ts';
import { authMiddleware, peerAddress } from '../auth/middleware.ts';
import { resolveClientAddress, type TrustedProxies } from './clientAddress.ts';
import type { Logger } from '../log.ts';
import { createErrorHandler, errorJson, refuseInvalid } from './errorHandler.ts';
import type { AppEnv, AppRouter, RouteExemption } from './types.ts';

export interface HttpApp {
  app: AppRouter;
  /** Mounts `routes` (paths in full, from the root) with the exemptions its owner declares. */
  mount(routes: AppRouter, exemptions?: readonly RouteExemption[]): void;
}

type Skipped = RouteExemption['skip'][number];

/** A router for one part of the API, validating like the HTTP app it is mounted on. */
export function createRouter(): AppRouter {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result) => refuseInvalid(result),
  });
}

export function createHttpApp(deps: { auth: AuthService; log: Logger; bodyLimitBytes: number; trustedProxies: TrustedProxies }): HttpApp {
  const app = createRouter();
  // Hono's own matcher, so an exemption's path means what the route's path means.
  const exempted = new TrieRouter<Skipped>();
  const skips = (c: { req: { method: string; path: string } }, what: Skipped) =>
    exempted.match(c.req.method, c.req.path)[0].some(([skipped]) => skipped === what);

  app.onError(createErrorHandler(deps.log));
  app.use('*', async (c, next) => {
    c.set('clientIp', resolveClientAddress(peerAddress(c), c.req.header('x-forwarded-for'), deps.trustedProxies));
    await next();
    // Answered before its body was read (a 401 or 403 ahead of validation): the rest of the body
    // is still on the connection, and @hono/node-server drops the socket under the client's next
    // request on it ("other side closed" on a POST a client cannot safely retry). Closing it
    // after this answer tells the client not to reuse it.
    if (hasBody(c.req.raw) && !c.req.raw.bodyUsed) c.header('Connection', 'close');
  });
  app.notFound((c) => errorJson(c, 404, 'not_found', `no route for ${c.req.method} ${c.req.path}`));
  const limitBody = bodyLimit({
    maxSize: deps.bodyLimitBytes,
    onError: (c) => errorJson(c, 413, 'payload_too_large', `request body over ${deps.bodyLimitBytes} bytes`),
  });
  // @hono/node-server gives a GET or HEAD no body, so the limit has nothing to count there; and
  // asking for the body built a whole fetch Request, once for each of a rollout's downloads.
  const bodiless = (method: string) => method === 'GET' || method === 'HEAD';
  app.use('*', async (c, next) => (bodiless(c.req.method) || skips(c, 'bodyLimit') ? next() : limitBody(c, next)));
  const requireAuth = authMiddleware(deps.auth);
  app.use('/v1/*', async (c, next) => (skips(c, 'auth') ? next() : requireAuth(c, next)));

  return {
    app,
    mount(routes, exemptions = []) {
      for (const e of exemptions) for (const method of e.methods) for (const what of e.skip) exempted.add(method, e.path, what);
      app.route('/', routes);
    },
  };
}

const hasBody = (req: Request) => req.headers.has('transfer-encoding') || Number(req.headers.get('content-length') ?? 0) > 0;
