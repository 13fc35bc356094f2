// The declaration of an API route in one call: what every route of a tag shares (the tag, the
// createRoute fields) is written here once, so a route reads as its method, path, the role that
// may call it, its summary, and then its request and answers.
import { createRoute, type RouteConfig } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import { AppError } from '../errors.ts';
import type { AppEnv } from './types.ts';

/** What a route declares besides its method, path, tag, role and summary: request, answers, `security`. */
type RouteDetails = Omit<RouteConfig, 'method' | 'path' | 'tags' | 'summary' | 'middleware'>;

/** What every route of a tag may share besides the tag: an explicit `security` of its own. */
type SharedDetails = Pick<RouteConfig, 'security'>;

// Hono's own test for a JSON body (hono/validator): a body it does not take for JSON it reads as `{}`.
const JSON_TYPE = /^application\/([a-z-.]+\+)?json(;\s*[a-zA-Z0-9-]+=([^;]+))*$/;

/**
 * A required JSON body sent without a JSON Content-Type (or not at all) is `400 bad_content_type`:
 * the validator took it for `{}`, so a PATCH whose fields are all optional answered 200 to nothing.
 */
const jsonBodyRequired: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (!JSON_TYPE.test(c.req.header('content-type') ?? ''))
    throw new AppError(400, 'bad_content_type', 'this route takes a JSON body (Content-Type: application/json)');
  await next();
};

const takesJsonBody = (details: RouteDetails) =>
  details.request?.body?.required === true && details.request.body.content['application/json'] !== undefined;

const declareWith =
  <M extends RouteConfig['method']>(method: M, tags: string[], shared: SharedDetails) =>
  <P extends string, D extends RouteDetails>(path: P, allowed: MiddlewareHandler<AppEnv>, summary: string, details: D) =>
    createRoute({
      method,
      path,
      tags,
      summary,
      middleware: takesJsonBody(details) ? [allowed, jsonBodyRequired] : [allowed],
      ...shared,
      ...details,
    });

/**
 * Route declarations under one OpenAPI tag, by method:
 * `routesTagged('devices').get('/v1/devices/{id}', readers, 'A terminal', { request, responses })`.
 * `allowed` is the role check (a set of auth/roleSets.ts), run before the request is validated, so a
 * caller without the role gets 403 whatever it sent.
 */
export function routesTagged(tag: string, shared: SharedDetails = {}) {
  const tags = [tag];
  return {
    get: declareWith('get', tags, shared),
    post: declareWith('post', tags, shared),
    put: declareWith('put', tags, shared),
    patch: declareWith('patch', tags, shared),
    delete: declareWith('delete', tags, shared),
  };
}
