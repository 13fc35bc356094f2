// The answers about users that the user routes and the user-request routes give. A leaf (zod and
// schemas/ only): the console and the CLI parse answers with these without the routes' server imports.
import { z } from '@hono/zod-openapi';
import { roles } from '../../schemas/db.ts';
import { userRequestStates } from '../../schemas/tables/users.ts';

export const bearerSecurity = [{ bearerAuth: [] }];

export const RoleSchema = z.enum(roles).openapi('Role');

export const CreatedUserSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    role: RoleSchema,
    token: z.string().openapi({ description: 'API token, shown only in this answer' }),
  })
  .openapi('CreatedUser');

export const UserRequestSchema = z
  .object({
    id: z.string(),
    action: z.literal('user.create'),
    name: z.string(),
    role: RoleSchema,
    orgId: z.string().openapi({ description: 'the organisation node the approval creates the user in' }),
    state: z.enum(userRequestStates),
    requestedBy: z.string(),
    decidedBy: z.string().nullable(),
    decidedAt: z.string().nullable().openapi({ format: 'date-time' }),
    userId: z.string().nullable().openapi({ description: 'the user the approval created' }),
    expiresAt: z.string().openapi({ format: 'date-time' }),
    createdAt: z.string().openapi({ format: 'date-time' }),
  })
  .openapi('UserRequest');

export const UserRequestPageSchema = z
  .object({ items: z.array(UserRequestSchema), nextCursor: z.string().nullable() })
  .openapi('UserRequestPage');

export const UserSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    role: RoleSchema,
    disabled: z.boolean(),
    orgId: z.string().openapi({ description: 'the organisation node the user belongs to; it sees and acts within its subtree' }),
    createdBy: z.string().nullable(),
    createdAt: z.string().openapi({ format: 'date-time' }),
  })
  .openapi('User');

export const UserPageSchema = z.object({ items: z.array(UserSchema), nextCursor: z.string().nullable() }).openapi('UserPage');

export const IssuedTokenSchema = z
  .object({ token: z.string().openapi({ description: 'API token, shown only in this answer' }) })
  .openapi('IssuedToken');

export const DisabledUserSchema = z.object({ id: z.string(), disabled: z.literal(true) }).openapi('DisabledUser');

/** The answer of `POST /v1/users` for an admin that needs a second admin's approval. */
export const UserRequestedSchema = z.object({ request: UserRequestSchema }).openapi('UserRequested');
