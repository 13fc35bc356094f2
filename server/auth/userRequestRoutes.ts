// /v1/user-requests: the users that wait for a second admin (userRequests.ts). The approval answers
// like `POST /v1/users` (the new user and its token, shown once, to the approver only).
import { z } from '@hono/zod-openapi';
import { errorResponses, jsonResponse, pageQuery, pathParams } from '../http/schemas.ts';
import { routesTagged } from '../http/taggedRoutes.ts';
import type { AppRouter } from '../http/types.ts';
import { clientIp } from './middleware.ts';
import { admins } from './roleSets.ts';
import type { UserRequests } from './userRequests.ts';
import { bearerSecurity, CreatedUserSchema, UserRequestPageSchema, UserRequestSchema } from './userSchemas.ts';

const route = routesTagged('users', { security: bearerSecurity });
const requestParams = pathParams('id');
const decisionErrors = errorResponses(401, 403, 404, 409);

export function registerUserRequestRoutes(app: AppRouter, requests: UserRequests): void {
  app.openapi(
    route.get('/v1/user-requests', admins, 'User requests waiting for, or decided by, a second admin; newest first', {
      request: { query: z.object(pageQuery) },
      responses: { 200: jsonResponse(UserRequestPageSchema, 'one page of requests'), ...errorResponses(400, 401, 403) },
    }),
    async (c) => {
      const { limit, cursor } = c.req.valid('query');
      return c.json(await requests.list({ limit, cursor, scope: c.get('principal') }), 200);
    },
  );
  app.openapi(
    route.get('/v1/user-requests/{id}', admins, 'One user request', {
      request: { params: requestParams },
      responses: { 200: jsonResponse(UserRequestSchema, 'the request'), ...errorResponses(400, 401, 403, 404) },
    }),
    async (c) => c.json(await requests.get(c.req.valid('param').id), 200),
  );
  app.openapi(
    route.post('/v1/user-requests/{id}/approve', admins, 'Approve a user request (an admin other than the requester): creates the user', {
      request: { params: requestParams },
      responses: { 201: jsonResponse(CreatedUserSchema, 'created; the token is shown once, in this answer'), ...decisionErrors },
    }),
    async (c) => {
      const { id, name, role, token } = (await requests.approve(c.req.valid('param').id, c.get('principal'), clientIp(c))).user;
      return c.json({ id, name, role, token }, 201);
    },
  );
  app.openapi(
    route.post('/v1/user-requests/{id}/reject', admins, 'Reject a user request (an admin other than the requester)', {
      request: { params: requestParams },
      responses: { 200: jsonResponse(UserRequestSchema, 'rejected'), ...decisionErrors },
    }),
    async (c) => c.json(await requests.reject(c.req.valid('param').id, c.get('principal'), clientIp(c)), 200),
  );
}
