// The audit log over HTTP (SPEC §8): read it, and prove the chain unbroken. Admins and auditors.
import { createRoute, z } from '@hono/zod-openapi';
import { requireRole } from '../auth/middleware.ts';
import { authErrors, bearerSecurity, PageQuerySchema } from '../auth/routes.ts';
import { errorResponse as ErrorSchema } from '../http/schemas.ts';
import type { AppRouter } from '../http/types.ts';
import type { AuditLog } from './auditLog.ts';

const AuditQuerySchema = PageQuerySchema.extend({
  action: z
    .string()
    .min(1)
    .max(200)
    .optional()
    .openapi({ param: { name: 'action', in: 'query' }, example: 'user.create' }),
  actorId: z.string().min(1).max(200).optional().openapi({ param: { name: 'actorId', in: 'query' } }),
  target: z.string().min(1).max(500).optional().openapi({ param: { name: 'target', in: 'query' } }),
  since: z.iso
    .datetime({ offset: true })
    .optional()
    .openapi({ param: { name: 'since', in: 'query' }, description: 'entries at or after this time' }),
  until: z.iso
    .datetime({ offset: true })
    .optional()
    .openapi({ param: { name: 'until', in: 'query' }, description: 'entries before this time' }),
});

const AuditEntrySchema = z
  .object({
    seq: z.number().int(),
    ts: z.string().openapi({ format: 'date-time' }),
    actorId: z.string().nullable(),
    actorName: z.string().nullable(),
    action: z.string(),
    target: z.string().nullable(),
    ip: z.string().nullable(),
    data: z.record(z.string(), z.unknown()),
    prevHash: z.string(),
    hash: z.string(),
  })
  .openapi('AuditEntry');

export const AuditPageSchema = z
  .object({ items: z.array(AuditEntrySchema), nextCursor: z.string().nullable() })
  .openapi('AuditPage');

export const AuditVerifySchema = z
  .object({
    ok: z.boolean(),
    checked: z.number().int(),
    firstBadSeq: z.number().int().optional(),
  })
  .openapi('AuditVerification');

const badQuery = { content: { 'application/json': { schema: ErrorSchema } }, description: 'invalid query' };

const listAuditRoute = createRoute({
  method: 'get',
  path: '/v1/audit',
  tags: ['audit'],
  summary: 'Audit entries, newest first',
  security: bearerSecurity,
  middleware: [requireRole('admin', 'auditor')] as const,
  request: { query: AuditQuerySchema },
  responses: {
    200: { content: { 'application/json': { schema: AuditPageSchema } }, description: 'a page of entries' },
    400: badQuery,
    ...authErrors,
  },
});

const verifyAuditRoute = createRoute({
  method: 'get',
  path: '/v1/audit/verify',
  tags: ['audit'],
  summary: 'Recompute the hash chain from the first entry',
  description: 'See docs/audit.md for the formula, to check the chain independently.',
  security: bearerSecurity,
  middleware: [requireRole('admin', 'auditor')] as const,
  responses: {
    200: { content: { 'application/json': { schema: AuditVerifySchema } }, description: 'the verdict' },
    ...authErrors,
  },
});

export function registerAuditRoutes(app: AppRouter, deps: { audit: AuditLog }): void {
  const { audit } = deps;

  app.openapi(listAuditRoute, async (c) => {
    const q = c.req.valid('query');
    const page = await audit.list({
      limit: q.limit,
      cursor: q.cursor,
      action: q.action,
      actorId: q.actorId,
      target: q.target,
      since: q.since === undefined ? undefined : new Date(q.since),
      until: q.until === undefined ? undefined : new Date(q.until),
      scope: c.get('principal'),
    });
    return c.json(
      {
        items: page.items.map((e) => ({ ...e, ts: e.ts.toISOString() })),
        nextCursor: page.nextCursor,
      },
      200,
    );
  });

  app.openapi(verifyAuditRoute, async (c) => {
    const result = await audit.verify();
    return c.json(result, 200);
  });
}
