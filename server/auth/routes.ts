// People and tokens: /v1/users (admin) and /v1/me (SPEC §8). Tokens appear once, in the answer
// that creates them; their hashes never leave the database.
import { createRoute, z } from '@hono/zod-openapi';
import type { AuditLog } from '../audit/auditLog.ts';
import { errorAnswer, jsonBody, jsonResponse } from '../http/schemas.ts';
import { routesTagged } from '../http/taggedRoutes.ts';
import type { AppRouter } from '../http/types.ts';
import { orgIdField } from '../orgs/orgSchemas.ts';
import type { AuthService } from './authService.ts';
import { clientIp } from './middleware.ts';
import { admins, readers } from './roleSets.ts';
import type { UserRequests } from './userRequests.ts';
import { registerUserRequestRoutes } from './userRequestRoutes.ts';
import { MeSchema } from './meSchema.ts';
import {
  bearerSecurity,
  CreatedUserSchema,
  DisabledUserSchema,
  IssuedTokenSchema,
  RoleSchema,
  UserPageSchema,
  UserRequestedSchema,
} from './userSchemas.ts';

/** The error answers every authenticated route may give. */
export const authErrors = {
  401: errorAnswer('missing or invalid credentials'),
  403: errorAnswer('the caller’s role may not do this'),
} as const;

export { bearerSecurity } from './userSchemas.ts';

export const PageQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(50).openapi({ param: { name: 'limit', in: 'query' } }),
  cursor: z
    .string()
    .min(1)
    .optional()
    .openapi({ param: { name: 'cursor', in: 'query' }, description: '`nextCursor` of the previous page' }),
});

const UserIdParam = z.object({
  id: z.string().min(1).max(100).openapi({ param: { name: 'id', in: 'path' }, example: 'usr_3q2mX0f1cQ9kZb7T' }),
});

const CreateUserBody = z
  .object({
    name: z.string().trim().min(1).max(100),
    role: RoleSchema,
    orgId: orgIdField.optional().openapi({ description: 'the organisation node of the new user; default the creator’s own node' }),
  })
  .strict()
  .openapi('CreateUser');

const route = routesTagged('users', { security: bearerSecurity });

/** The errors of a route on one user: the caller's, 404 for an unknown id, 409 for the conflict named. */
const oneUserErrors = (conflict: string) => ({ ...authErrors, 404: errorAnswer('no such user'), 409: errorAnswer(conflict) });

const createUserRoute = route.post('/v1/users', admins, 'Create a user and its first API token; with two admins enabled, a new admin is a request another admin decides', {
  request: { body: jsonBody(CreateUserBody) },
  responses: {
    201: jsonResponse(CreatedUserSchema, 'created; the token is shown once'),
    202: jsonResponse(UserRequestedSchema, 'an admin: filed as a request, `POST /v1/user-requests/{id}/approve` by another admin creates it'),
    400: errorAnswer('invalid body'),
    ...authErrors,
  },
});

const listUsersRoute = route.get('/v1/users', admins, 'List users, oldest first', {
  request: { query: PageQuerySchema },
  responses: { 200: jsonResponse(UserPageSchema, 'a page of users'), 400: errorAnswer('invalid query'), ...authErrors },
});

const issueTokenRoute = route.post('/v1/users/{id}/tokens', readers, 'Issue a new API token for the caller itself (older tokens stay valid)', {
  request: { params: UserIdParam },
  responses: {
    201: jsonResponse(IssuedTokenSchema, 'issued; the token is shown once'),
    ...oneUserErrors('the user is disabled (`user_disabled`)'),
    403: errorAnswer('the id is not the caller’s (`own_tokens_only`): a token reaches only its owner'),
  },
});

const disableUserRoute = route.post('/v1/users/{id}/disable', admins, 'Disable a user and revoke all its tokens', {
  request: { params: UserIdParam },
  responses: { 200: jsonResponse(DisabledUserSchema, 'disabled'), ...oneUserErrors('the last enabled admin (`last_admin`)') },
});

const meRoute = createRoute({
  method: 'get',
  path: '/v1/me',
  tags: ['users'],
  summary: 'Who the token belongs to',
  security: bearerSecurity,
  responses: {
    200: jsonResponse(MeSchema, 'the caller'),
    401: authErrors[401],
  },
});

export function registerUserRoutes(app: AppRouter, deps: { auth: AuthService; audit: AuditLog; userRequests: UserRequests }): void {
  const { auth, audit, userRequests } = deps;
  registerUserRequestRoutes(app, userRequests);

  app.openapi(createUserRoute, async (c) => {
    const outcome = await userRequests.create(c.req.valid('json'), c.get('principal'), clientIp(c));
    if ('requested' in outcome) return c.json({ request: outcome.requested }, 202);
    const { id, name, role, token } = outcome.created;
    return c.json({ id, name, role, token }, 201);
  });

  app.openapi(listUsersRoute, async (c) => {
    const page = await auth.listUsers({ ...c.req.valid('query'), scope: c.get('principal') });
    return c.json(
      {
        items: page.items.map((u) => ({ ...u, createdAt: u.createdAt.toISOString() })),
        nextCursor: page.nextCursor,
      },
      200,
    );
  });

  app.openapi(issueTokenRoute, async (c) => {
    const by = c.get('principal');
    const { id } = c.req.valid('param');
    const ip = clientIp(c);
    const issued = await auth.issueToken(id, by, {
      inTx: (tx, t) => audit.append({ actor: by, action: 'user.token.issue', target: id, ip, data: { tokenId: t.tokenId } }, tx),
    });
    return c.json({ token: issued.token }, 201);
  });

  app.openapi(disableUserRoute, async (c) => {
    const by = c.get('principal');
    const { id } = c.req.valid('param');
    const ip = clientIp(c);
    await auth.disableUser(id, by, {
      inTx: (tx, r) =>
        audit.append(
          {
            actor: by,
            action: 'user.disable',
            target: id,
            ip,
            data: { tokensRevoked: r.tokensRevoked, alreadyDisabled: r.alreadyDisabled },
          },
          tx,
        ),
    });
    return c.json({ id, disabled: true as const }, 200);
  });

  app.openapi(meRoute, (c) => {
    const me = c.get('principal');
    return c.json({ id: me.userId, name: me.name, role: me.role }, 200);
  });
}
