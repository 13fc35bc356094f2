// The answers about users that both the user routes and the user-request routes give.
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
