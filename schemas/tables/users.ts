// Requests for a user that needs a second admin's approval (server/auth/userRequests.ts): once two
// admins exist, a new admin is a request by one admin that another approves or rejects.
import { index, pgTable, text } from 'drizzle-orm/pg-core';
import { orgRef, roles, users } from '../db.ts';
import { createdAt, publicId, ts } from './columns.ts';

/** `pending` past `expiresAt` reads as `expired` (nothing rewrites the row). */
export const userRequestStates = ['pending', 'approved', 'rejected', 'expired'] as const;

export const userRequests = pgTable(
  'user_requests',
  {
    id: publicId(),
    name: text('name').notNull(),
    role: text('role', { enum: roles }).notNull(),
    /** The node the approval creates the user in; only an admin of that node or above decides. */
    orgId: orgRef(),
    state: text('state', { enum: userRequestStates }).notNull().default('pending'),
    requestedBy: text('requested_by')
      .notNull()
      .references(() => users.id),
    decidedBy: text('decided_by').references(() => users.id),
    decidedAt: ts('decided_at'),
    /** The user the approval created. */
    userId: text('user_id').references(() => users.id),
    expiresAt: ts('expires_at').notNull(),
    createdAt: createdAt(),
  },
  (t) => [index('user_requests_state_idx').on(t.state, t.createdAt)],
);
export type UserRequestRow = typeof userRequests.$inferSelect;
