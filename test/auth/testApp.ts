// A small control-plane app for route tests: the lead's conventions (error handler, 400 with
// field paths, authMiddleware on /v1/*) around the auth and audit routes.
import { randomBytes } from 'node:crypto';
import { OpenAPIHono } from '@hono/zod-openapi';
import { createAuditLog, type AuditLog } from '../../server/audit/auditLog.ts';
import { registerAuditRoutes } from '../../server/audit/routes.ts';
import { createAuthService, type AuthService } from '../../server/auth/authService.ts';
import { authMiddleware } from '../../server/auth/middleware.ts';
import { registerUserRoutes } from '../../server/auth/routes.ts';
import type { Db } from '../../server/db/database.ts';
import { createErrorHandler, errorJson, validationDetails } from '../../server/http/errorHandler.ts';
import type { AppEnv, AppRouter } from '../../server/http/types.ts';
import { createLogger } from '../../server/log.ts';
import { createSecretHasher } from '../../server/security/secretHasher.ts';

export interface TestApp {
  app: AppRouter;
  auth: AuthService;
  audit: AuditLog;
}

export function createTestApp(db: Db, extend?: (app: AppRouter, deps: { auth: AuthService; audit: AuditLog }) => void): TestApp {
  const log = createLogger('silent');
  const auth = createAuthService({ db, hasher: createSecretHasher(randomBytes(32)), log });
  const audit = createAuditLog({ db, log });
  const app: AppRouter = new OpenAPIHono<AppEnv>({
    defaultHook: (result, c) => {
      if (!result.success) {
        return errorJson(c, 400, 'validation_failed', 'request validation failed', validationDetails(result.error));
      }
    },
  });
  app.onError(createErrorHandler(log));
  app.use('/v1/*', authMiddleware(auth));
  registerUserRoutes(app, { auth, audit });
  registerAuditRoutes(app, { audit });
  extend?.(app, { auth, audit });
  return { app, auth, audit };
}

export interface CallOptions {
  token?: string;
  body?: unknown;
  headers?: Record<string, string>;
}

/** One request; `json` is the parsed body (undefined when there is none). */
export async function call(app: AppRouter, method: string, path: string, opts: CallOptions = {}) {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token !== undefined) headers.authorization = `Bearer ${opts.token}`;
  let body: string | undefined;
  if (opts.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
  }
  const res = await app.request(path, { method, headers, body });
  const text = await res.text();
  const json: unknown = text ? JSON.parse(text) : undefined;
  return { status: res.status, headers: res.headers, text, json };
}
