// Triage API: the fault queue and overview, the fault lifecycle, the rules, the webhook notifier.
import { z } from '@hono/zod-openapi';
import { and, eq } from 'drizzle-orm';
import { users } from '../../schemas/db.ts';
import { faultRuleSet, notifierSettingsInput, severities } from '../../schemas/faults.ts';
import type { AuditLog } from '../audit/auditLog.ts';
import { clientIp } from '../auth/middleware.ts';
import { admins, operators, readers, technicians } from '../auth/roleSets.ts';
import type { Tx } from '../core/transaction.ts';
import type { Db } from '../db/database.ts';
import { badRequest, unprocessable } from '../errors.ts';
import { errorResponses, jsonBody, jsonResponse, optionalJsonBody, page, pageQuery, pathParams } from '../http/schemas.ts';
import { routesTagged } from '../http/taggedRoutes.ts';
import type { AppRouter } from '../http/types.ts';
import { faultFilterOf, type FaultQueries } from './faultQueries.ts';
import { faultSorts } from './faultSort.ts';
import type { FaultService } from './faultService.ts';
import type { Notifier } from './notifier.ts';

import {
  fault,
  faultListPage,
  faultNote as note,
  faultRulesAnswer as rulesResponse,
  faultSummary,
  faultFilterQuery,
  faultWithNotes,
} from './faultSchemas.ts';

/** The CLI parses faults with it. */
export { fault };

export interface RulesControl {
  current(): {
    rules: z.infer<typeof faultRuleSet>['rules'];
    source: 'default' | 'stored';
    updatedAt: string | null;
    updatedBy: string | null;
  };
  /** Stores and applies the rules; `inTx` (the audit entry) commits with them or neither does. */
  replace(rules: z.infer<typeof faultRuleSet>['rules'], by: string, inTx: (tx: Tx) => Promise<unknown>): Promise<void>;
}

const listQuery = faultFilterQuery.extend({
  ...pageQuery,
  sort: z.enum(faultSorts).default('severity').openapi({
    description:
      '`severity` (default): worst first, then oldest; `oldest` / `newest`: by opening time; `updated`: most recently changed first. A cursor works only with the sort it came from.',
  }),
});

const idParams = pathParams('id');
const route = routesTagged('faults');

const listRoute = route.get(
  '/v1/faults',
  readers,
  'The fault queue: worst severity first, then oldest (or another `sort`); filtered and paged',
  {
    request: { query: listQuery },
    responses: {
      200: jsonResponse(faultListPage, 'a page of faults'),
      ...errorResponses(400, 401, 403),
    },
  },
);

const summaryRoute = route.get('/v1/faults/summary', readers, 'Unresolved faults counted by severity, state and code (the overview)', {
  request: { query: listQuery.pick({ merchantId: true, model: true, deviceId: true }) },
  responses: {
    200: jsonResponse(faultSummary, 'counts'),
    ...errorResponses(401, 403),
  },
});

const getRoute = route.get('/v1/faults/{id}', readers, 'One fault with its notes', {
  request: { params: idParams },
  responses: { 200: jsonResponse(faultWithNotes, 'the fault'), ...errorResponses(401, 403, 404) },
});

const ackRoute = route.post('/v1/faults/{id}/acknowledge', technicians, 'Acknowledge an open fault (someone is on it)', {
  request: { params: idParams },
  responses: { 200: jsonResponse(fault, 'acknowledged'), ...errorResponses(401, 403, 404, 409) },
});

const resolveRoute = route.post('/v1/faults/{id}/resolve', technicians, 'Resolve a fault by hand, optionally with a closing note', {
  request: { params: idParams, body: optionalJsonBody(z.object({ note: z.string().min(1).max(4000).optional() }).strict()) },
  responses: { 200: jsonResponse(fault, 'resolved'), ...errorResponses(400, 401, 403, 404, 409) },
});

const assignRoute = route.post('/v1/faults/{id}/assign', technicians, 'Assign an unresolved fault to a user (null unassigns)', {
  request: { params: idParams, body: jsonBody(z.object({ assigneeId: z.string().min(1).max(64).nullable() }).strict()) },
  responses: { 200: jsonResponse(fault, 'assigned'), ...errorResponses(400, 401, 403, 404, 409, 422) },
});

const noteRoute = route.post('/v1/faults/{id}/notes', technicians, 'Add a note to a fault', {
  request: { params: idParams, body: jsonBody(z.object({ text: z.string().trim().min(1).max(4000) }).strict()) },
  responses: { 201: jsonResponse(note, 'added'), ...errorResponses(400, 401, 403, 404) },
});

const getRulesRoute = route.get('/v1/fault-rules', readers, 'The rules that turn telemetry into faults', {
  responses: { 200: jsonResponse(rulesResponse, 'rules'), ...errorResponses(401, 403) },
});

const putRulesRoute = route.put('/v1/fault-rules', operators, 'Replace the rule set (validated; applied at once)', {
  request: { body: jsonBody(faultRuleSet) },
  responses: { 200: jsonResponse(rulesResponse, 'rules'), ...errorResponses(400, 401, 403) },
});

const notifierView = z.object({
  url: z.string().nullable(),
  minSeverity: z.enum(severities),
  secretSet: z.boolean(),
  source: z.enum(['env', 'api']),
  /** Only in the answer that generated it. */
  secret: z.string().optional(),
});

const getNotifierRoute = route.get('/v1/fault-notifier', admins, 'Webhook notifier settings (the secret is never shown)', {
  responses: { 200: jsonResponse(notifierView, 'settings'), ...errorResponses(401, 403) },
});

const putNotifierRoute = route.put(
  '/v1/fault-notifier',
  admins,
  'Set the webhook URL, severity floor and signing secret (a generated secret is shown once)',
  {
    request: { body: jsonBody(notifierSettingsInput) },
    responses: { 200: jsonResponse(notifierView, 'settings'), ...errorResponses(400, 401, 403) },
  },
);

const testNotifierRoute = route.post('/v1/fault-notifier/test', admins, 'Queue a signed test delivery to the webhook', {
  responses: { 202: jsonResponse(z.object({ queued: z.boolean() }), 'queued'), ...errorResponses(401, 403, 422) },
});

const json = <T>(v: T) => JSON.parse(JSON.stringify(v)) as T;

export function registerFaultRoutes(
  app: AppRouter,
  deps: { db: Db; service: FaultService; queries: FaultQueries; rules: RulesControl; notifier: Notifier; audit: AuditLog },
) {
  const { service, queries, audit } = deps;

  app.openapi(listRoute, async (c) => {
    const q = c.req.valid('query');
    await service.flush();
    const result = await queries.list(
      { ...faultFilterOf(q, c.get('principal').userId), scope: c.get('principal') },
      q.limit,
      q.cursor,
      q.sort,
    );
    return c.json(json(result), 200);
  });

  app.openapi(summaryRoute, async (c) => {
    await service.flush();
    return c.json(await queries.summary({ ...c.req.valid('query'), scope: c.get('principal') }), 200);
  });

  app.openapi(getRoute, async (c) => {
    await service.flush();
    return c.json(json(await queries.get(c.req.valid('param').id)), 200);
  });

  app.openapi(ackRoute, async (c) => {
    const { id } = c.req.valid('param');
    await service.acknowledge(id, c.get('principal'), clientIp(c));
    return c.json(json(await queries.get(id)), 200);
  });

  app.openapi(resolveRoute, async (c) => {
    const { id } = c.req.valid('param');
    const body = (await c.req.json().catch(() => ({}))) as { note?: unknown };
    if (body.note !== undefined && (typeof body.note !== 'string' || !body.note.trim() || body.note.length > 4000)) {
      throw badRequest('validation_failed', 'note must be a non-empty string of at most 4000 characters', [
        { path: 'note', message: 'invalid' },
      ]);
    }
    await service.resolve(id, c.get('principal'), body.note as string | undefined, clientIp(c));
    return c.json(json(await queries.get(id)), 200);
  });

  app.openapi(assignRoute, async (c) => {
    const { id } = c.req.valid('param');
    const { assigneeId } = c.req.valid('json');
    if (assigneeId) {
      const [u] = await deps.db
        .select({ id: users.id })
        .from(users)
        .where(and(eq(users.id, assigneeId), eq(users.disabled, false)))
        .limit(1);
      if (!u) throw unprocessable('unknown_assignee', `no active user ${assigneeId}`);
    }
    await service.assign(id, assigneeId, c.get('principal'), clientIp(c));
    return c.json(json(await queries.get(id)), 200);
  });

  app.openapi(noteRoute, async (c) => {
    const { id } = c.req.valid('param');
    const n = await service.addNote(id, c.req.valid('json').text, c.get('principal'), clientIp(c));
    return c.json(json(n), 201);
  });

  app.openapi(getRulesRoute, (c) => c.json(deps.rules.current(), 200));

  app.openapi(putRulesRoute, async (c) => {
    const { rules } = c.req.valid('json');
    const principal = c.get('principal');
    await deps.rules.replace(rules, principal.userId, (tx) =>
      audit.append(
        { actor: principal, action: 'fault_rules.update', ip: clientIp(c), data: { codes: rules.map((r) => r.code), count: rules.length } },
        tx,
      ),
    );
    return c.json(deps.rules.current(), 200);
  });

  const notifierState = () => {
    const s = deps.notifier.settings();
    return { url: s.url, minSeverity: s.minSeverity, secretSet: Boolean(s.secret), source: s.source };
  };

  app.openapi(getNotifierRoute, (c) => c.json(notifierState(), 200));

  app.openapi(putNotifierRoute, async (c) => {
    const body = c.req.valid('json');
    const principal = c.get('principal');
    const { generatedSecret } = await deps.notifier.update(body, principal.userId, (tx, out) =>
      audit.append(
        {
          actor: principal,
          action: 'fault_notifier.update',
          ip: clientIp(c),
          data: {
            url: body.url,
            minSeverity: body.minSeverity,
            secretChanged: body.secret !== undefined || out.generatedSecret !== undefined,
          },
        },
        tx,
      ),
    );
    return c.json({ ...notifierState(), ...(generatedSecret ? { secret: generatedSecret } : {}) }, 200);
  });

  app.openapi(testNotifierRoute, async (c) => {
    const s = deps.notifier.settings();
    if (!s.url || !s.secret) throw unprocessable('notifier_off', 'no webhook URL (and secret) is set');
    await deps.notifier.enqueue([{ event: 'test', fault: null }]);
    await audit.append({ actor: c.get('principal'), action: 'fault_notifier.test', ip: clientIp(c) });
    return c.json({ queued: true }, 202);
  });
}
