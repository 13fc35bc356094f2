// The answers of the fault routes, in a leaf module: the console parses with them, and the route
// module's imports (audit, auth middleware, database) must not be bundled into the page.
import { z } from '@hono/zod-openapi';
import { faultCode, faultStates, severities } from '../../schemas/faults.ts';
import { commaList, page } from '../http/schemas.ts';

export const fault = z
  .looseObject({
    id: z.string(),
    deviceId: z.string(),
    code: z.string(),
    title: z.string(),
    severity: z.enum(severities),
    state: z.enum(faultStates),
    detail: z.string().nullable(),
    openedAt: z.string(),
    assigneeId: z.string().nullable(),
  })
  .openapi('Fault');

export const faultListPage = page(fault).extend({
  total: z.number().int().optional().openapi({ description: 'how many faults match the filters; on the first page (no cursor) only' }),
});

export const faultNote = z
  .object({
    id: z.number(),
    faultId: z.string(),
    authorId: z.string().nullable(),
    authorName: z.string().nullable(),
    text: z.string(),
    ts: z.string(),
  })
  .openapi('FaultNote');

export const faultWithNotes = fault.extend({ notes: z.array(faultNote) });

export const faultRulesAnswer = z.object({
  rules: z.array(
    z.looseObject({ code: z.string(), title: z.string(), severity: z.enum(severities), enabled: z.boolean(), autoResolve: z.boolean() }),
  ),
  source: z.enum(['default', 'stored']),
  updatedAt: z.string().nullable(),
  updatedBy: z.string().nullable(),
});

/** `GET /v1/faults/summary`: the unresolved faults counted, for the overview. */
export const faultSummary = z.object({
  total: z.number(),
  devicesAffected: z.number(),
  bySeverity: z.record(z.string(), z.number()),
  byState: z.record(z.string(), z.number()),
  byCode: z.record(z.string(), z.object({ total: z.number(), severity: z.string(), bySeverity: z.record(z.string(), z.number()) })),
});

/** The fault queue's filters, as GET /v1/faults and GET /v1/exports/faults read them. */
export const faultFilterQuery = z.object({
  state: z
    .union([z.literal('all'), commaList(z.enum(faultStates))])
    .optional()
    .openapi({ type: 'string', description: 'comma-separated states, or `all`; default `open,acknowledged`' }),
  severity: commaList(z.enum(severities)).optional().openapi({ type: 'string', description: 'comma-separated severities' }),
  code: commaList(faultCode).optional().openapi({ type: 'string', description: 'comma-separated fault codes' }),
  deviceId: z.string().min(1).max(64).optional(),
  merchantId: z.string().min(1).max(64).optional(),
  model: z.string().min(1).max(64).optional(),
  serial: z.string().min(1).max(64).optional().openapi({ description: 'part of the terminal serial, case-insensitive' }),
  assignee: z.string().min(1).max(64).optional().openapi({ description: 'a user id, `me` or `none`' }),
});
export type FaultFilterQuery = z.output<typeof faultFilterQuery>;
