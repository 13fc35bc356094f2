// The parameters API (docs/parameters.md): templates (create = a new version, read), values per
// tier, a terminal's desired / reported / drift, and the terminals that drift.
import { z } from '@hono/zod-openapi';
import { eq } from 'drizzle-orm';
import { organisations } from '../../schemas/db.ts';
import { parameterTemplateInput, valueIssues } from '../../schemas/parameters.ts';
import { deviceGroups } from '../../schemas/tables/groups.ts';
import { merchants } from '../../schemas/tables/merchants.ts';
import type { AuditLog } from '../audit/auditLog.ts';
import { clientIp } from '../auth/middleware.ts';
import { operators, readers } from '../auth/roleSets.ts';
import { idPrefixes } from '../core/ids.ts';
import type { Db } from '../db/database.ts';
import { badRequest, notFound, unprocessable } from '../errors.ts';
import { fromBase64url, keyMatching, publicIdPattern, toBase64url } from '../http/cursorParts.ts';
import { errorResponses, jsonBody, jsonResponse, page, pageQuery, pathParams } from '../http/schemas.ts';
import { routesTagged } from '../http/taggedRoutes.ts';
import type { AppRouter, Principal } from '../http/types.ts';
import { inScope } from '../orgs/scope.ts';
import { PARAMETER_TEMPLATE_PREFIX, type FactsWithPath, type ParameterStore } from './parameterStore.ts';
import {
  assignmentAnswer,
  assignmentBody,
  deviceParametersView,
  driftItem,
  parameterTemplateView,
  templateDetail,
} from './parameterSchemas.ts';
import { desiredFor, driftOf, templateView } from './parameterViews.ts';
import type { ReportedSets } from './reportedSets.ts';

const route = routesTagged('parameters');
const idParams = pathParams('id');

const createRoute = route.post(
  '/v1/parameter-templates',
  operators,
  'Create a parameter template (a name already used makes its next version)',
  {
    request: { body: jsonBody(parameterTemplateInput) },
    responses: { 201: jsonResponse(parameterTemplateView, 'created'), ...errorResponses(400, 401, 403, 409) },
  },
);
const listRoute = route.get('/v1/parameter-templates', readers, 'Parameter templates, by id (every version is one)', {
  request: {
    query: z.object({ ...pageQuery, name: z.string().max(100).optional().openapi({ description: 'only the versions of this name' }) }),
  },
  responses: { 200: jsonResponse(page(parameterTemplateView), 'templates'), ...errorResponses(400, 401, 403) },
});
const getRoute = route.get('/v1/parameter-templates/{id}', readers, 'A parameter template with its assignments', {
  request: { params: idParams },
  responses: { 200: jsonResponse(templateDetail, 'the template'), ...errorResponses(401, 403, 404) },
});
const assignRoute = route.put(
  '/v1/parameter-templates/{id}/assignments',
  operators,
  "Set (or remove, values null) one tier's values for a template",
  {
    request: { params: idParams, body: jsonBody(assignmentBody) },
    responses: { 200: jsonResponse(assignmentAnswer, 'the assignment'), ...errorResponses(400, 401, 403, 404, 422) },
  },
);
const deviceRoute = route.get(
  '/v1/devices/{id}/parameters',
  readers,
  "A terminal's desired parameters (with the tier of each value), what it reports, and the drift",
  {
    request: {
      params: idParams,
      query: z.object({
        templateId: z
          .string()
          .max(64)
          .optional()
          .openapi({ description: 'default: the template it reports, else the newest for its model' }),
      }),
    },
    responses: { 200: jsonResponse(deviceParametersView, 'parameters'), ...errorResponses(401, 403, 404) },
  },
);
const driftRoute = route.get(
  '/v1/parameters/drift',
  readers,
  'Terminals whose reported parameters differ from their desired ones, by device id',
  {
    request: { query: z.object(pageQuery) },
    responses: { 200: jsonResponse(page(driftItem), 'drifting terminals'), ...errorResponses(400, 401, 403) },
  },
);

const templateCursor = (c: string) => keyMatching(fromBase64url(c), publicIdPattern(PARAMETER_TEMPLATE_PREFIX));
const deviceCursor = (c: string) => keyMatching(fromBase64url(c), publicIdPattern(idPrefixes.device));

export interface ParameterRouteDeps {
  db: Db;
  store: ParameterStore;
  reported: ReportedSets;
  audit: AuditLog;
}

export function registerParameterRoutes(app: AppRouter, deps: ParameterRouteDeps) {
  const { db, store, audit } = deps;

  /** A terminal the caller may see, with its facts; another subtree's is a 404 like a missing one. */
  async function scopedFacts(principal: Principal, deviceId: string): Promise<FactsWithPath> {
    const facts = (await store.facts([deviceId])).get(deviceId);
    if (!facts || !inScope(principal, facts.orgPathText)) throw notFound(`device ${deviceId}`);
    return facts;
  }

  /** The target of an assignment exists and is the caller's to set (a model is any name). */
  async function checkTarget(principal: Principal, tier: string, targetId: string): Promise<void> {
    const unknown = (what: string) => unprocessable('unprocessable', `${what} ${targetId} does not exist`);
    if (tier === 'terminal') {
      const facts = (await store.facts([targetId])).get(targetId);
      if (!facts || !inScope(principal, facts.orgPathText)) throw unprocessable('unknown_device', `device ${targetId} does not exist`);
    } else if (tier === 'organisation') {
      const [org] = await db.select({ path: organisations.path }).from(organisations).where(eq(organisations.id, targetId)).limit(1);
      if (!org || !inScope(principal, org.path)) throw unknown('organisation');
    } else if (tier === 'merchant') {
      const [m] = await db
        .select({ path: organisations.path })
        .from(merchants)
        .innerJoin(organisations, eq(organisations.id, merchants.orgId))
        .where(eq(merchants.id, targetId))
        .limit(1);
      if (!m || !inScope(principal, m.path)) throw unknown('merchant');
    } else if (tier === 'group') {
      const [g] = await db
        .select({ path: organisations.path })
        .from(deviceGroups)
        .innerJoin(organisations, eq(organisations.id, deviceGroups.orgId))
        .where(eq(deviceGroups.id, targetId))
        .limit(1);
      if (!g || !inScope(principal, g.path)) throw unprocessable('unknown_group', `group ${targetId} does not exist`);
    }
  }

  app.openapi(createRoute, async (c) => {
    const input = c.req.valid('json');
    const principal = c.get('principal');
    const row = await db.transaction(async (tx) => {
      const made = await store.createTemplate(input, principal.userId, tx);
      await audit.append(
        {
          actor: principal,
          action: 'parameters.template_create',
          target: made.id,
          ip: clientIp(c),
          data: { name: made.name, version: made.version, fields: made.fields.length },
        },
        tx,
      );
      return made;
    });
    return c.json(templateView(row), 201);
  });

  app.openapi(listRoute, async (c) => {
    const q = c.req.valid('query');
    const rows = await store.listTemplates(q.limit, q.cursor === undefined ? undefined : templateCursor(q.cursor), q.name);
    const items = rows.slice(0, q.limit);
    const last = items[items.length - 1];
    return c.json({ items: items.map(templateView), nextCursor: rows.length > q.limit && last ? toBase64url(last.id) : null }, 200);
  });

  app.openapi(getRoute, async (c) => {
    const t = await store.template(c.req.valid('param').id);
    return c.json({ ...templateView(t), assignments: await store.assignments(t.id) }, 200);
  });

  app.openapi(assignRoute, async (c) => {
    const { id } = c.req.valid('param');
    const body = c.req.valid('json');
    const principal = c.get('principal');
    const t = await store.template(id);
    if (body.values !== null) {
      const issues = valueIssues(t.fields, body.values);
      if (issues.length) throw badRequest('validation_failed', `values do not fit template ${t.name} v${t.version}`, issues);
    }
    await checkTarget(principal, body.tier, body.targetId);
    await db.transaction(async (tx) => {
      const had = await store.setAssignment(t.id, body.tier, body.targetId, body.values, principal.userId, tx);
      // Removing what is not there changes nothing: thrown inside, so no audit entry stays either.
      if (body.values === null && !had) throw notFound(`assignment ${body.tier}/${body.targetId} of ${t.id}`);
      await audit.append(
        {
          actor: principal,
          action: body.values === null ? 'parameters.assignment_remove' : 'parameters.assignment_set',
          target: t.id,
          ip: clientIp(c),
          data: { tier: body.tier, targetId: body.targetId, keys: Object.keys(body.values ?? {}) },
        },
        tx,
      );
    });
    return c.json({ tier: body.tier, targetId: body.targetId, values: body.values ?? {}, removed: body.values === null }, 200);
  });

  app.openapi(deviceRoute, async (c) => {
    const { id } = c.req.valid('param');
    const { templateId } = c.req.valid('query');
    const facts = await scopedFacts(c.get('principal'), id);
    const reported = deps.reported.get(id) ?? null;
    const chosenId = templateId ?? reported?.templateId;
    const template = chosenId ? await store.template(chosenId) : await store.newestForModel(facts.model);
    const reportedView = reported && {
      templateId: reported.templateId,
      version: reported.version,
      digest: reported.digest,
      values: reported.values,
      reportedAt: reported.reportedAt.toISOString(),
    };
    if (!template) return c.json({ deviceId: id, template: null, desired: null, reported: reportedView, drift: null }, 200);
    const desired = desiredFor(template, await store.assignments(template.id), facts);
    return c.json(
      {
        deviceId: id,
        template: { id: template.id, name: template.name, version: template.version },
        desired,
        reported: reportedView,
        drift: driftOf(template, desired, reported),
      },
      200,
    );
  });

  app.openapi(driftRoute, async (c) => {
    const q = c.req.valid('query');
    const principal = c.get('principal');
    const after = q.cursor === undefined ? undefined : deviceCursor(q.cursor);
    const all = deps.reported.all();
    const ids = [...all.keys()].filter((d) => after === undefined || d > after).sort();
    const items: z.infer<typeof driftItem>[] = [];
    let scanned = 0;
    // Scanned in chunks until a page is full: most terminals of a healthy fleet do not drift.
    while (scanned < ids.length && items.length < q.limit) {
      const chunk = ids.slice(scanned, scanned + 500);
      const facts = await store.facts(chunk);
      const templates = await store.templates([...new Set(chunk.map((d) => all.get(d)?.templateId ?? ''))]);
      const assignments = await store.allAssignments([...templates.keys()]);
      for (const d of chunk) {
        scanned++;
        const r = all.get(d);
        const f = facts.get(d);
        const t = r && templates.get(r.templateId);
        if (!r || !f || !t || !inScope(principal, f.orgPathText)) continue;
        const drift = driftOf(t, desiredFor(t, assignments.get(t.id) ?? [], f), r);
        if (!drift.inSync)
          items.push({
            deviceId: d,
            serial: f.serial,
            templateId: t.id,
            version: t.version,
            keys: drift.keys,
            templateMismatch: drift.templateMismatch,
            reportedAt: r.reportedAt.toISOString(),
          });
        if (items.length >= q.limit) break;
      }
    }
    const last = items[items.length - 1];
    return c.json({ items, nextCursor: scanned < ids.length && last ? toBase64url(last.deviceId) : null }, 200);
  });
}
