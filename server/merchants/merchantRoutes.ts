// /v1/merchants: CRUD, review (approve/reject by another admin), suspension, policy.
import { z } from '@hono/zod-openapi';
import { merchantStatuses } from '../../schemas/tables/merchants.ts';
import { clientIp } from '../auth/middleware.ts';
import { admins, operators, readers } from '../auth/roleSets.ts';
import { badRequest } from '../errors.ts';
import { errorResponses, jsonBody, jsonResponse, optionalJsonBody, page, pageQuery, pathParams } from '../http/schemas.ts';
import { routesTagged } from '../http/taggedRoutes.ts';
import type { AppRouter } from '../http/types.ts';
import {
  bindingOut,
  merchantCreate,
  merchantOut,
  merchantPatch,
  noteBody,
  policyInput,
  reasonBody,
} from './apiSchemas.ts';
import type { BindingService } from './bindingService.ts';
import type { Actor } from '../core/actor.ts';
import { DEFAULT_POLICY, merchantView, type MerchantService } from './merchantService.ts';
import type { Context } from 'hono';
import type { AppEnv } from '../http/types.ts';
import { refuseUnstorable } from '../http/storableText.ts';

const route = routesTagged('merchants');
const params = pathParams('id');

export const actorOf = (c: Context<AppEnv>): Actor => ({ principal: c.get('principal'), ip: clientIp(c) });
/** A JSON body that may be absent, validated against `schema`. */
export async function optionalBodyOf<T extends z.ZodType>(c: Context<AppEnv>, schema: T): Promise<z.infer<T>> {
  const text = await c.req.text();
  let json: unknown = {};
  if (text.trim()) {
    try {
      json = JSON.parse(text);
    } catch (err) {
      throw badRequest('bad_json', 'request body is not valid JSON', undefined, { cause: err });
    }
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success)
    throw badRequest(
      'validation_failed',
      'invalid request body',
      parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
    );
  refuseUnstorable(parsed.data);
  return parsed.data;
}

const r = {
  create: route.post('/v1/merchants', operators, 'Register a merchant (starts pending_review)', {
    request: { body: jsonBody(merchantCreate) },
    responses: { 201: jsonResponse(merchantOut, 'created'), ...errorResponses(400, 401, 403, 409, 422) },
  }),
  list: route.get('/v1/merchants', readers, 'List merchants', {
    request: { query: z.object({ ...pageQuery, status: z.enum(merchantStatuses).optional(), q: z.string().max(100).optional() }) },
    responses: { 200: jsonResponse(page(merchantOut), 'merchants'), ...errorResponses(400, 401, 403) },
  }),
  get: route.get('/v1/merchants/{id}', readers, 'One merchant', {
    request: { params },
    responses: { 200: jsonResponse(merchantOut, 'the merchant'), ...errorResponses(401, 403, 404) },
  }),
  update: route.patch('/v1/merchants/{id}', operators, 'Change a merchant (MID and kind are fixed)', {
    request: { params, body: jsonBody(merchantPatch) },
    responses: { 200: jsonResponse(merchantOut, 'updated'), ...errorResponses(400, 401, 403, 404, 409, 422) },
  }),
  remove: route.delete('/v1/merchants/{id}', admins, 'Delete a merchant that never had a terminal', {
    request: { params },
    responses: { 204: { description: 'deleted' }, ...errorResponses(401, 403, 404, 409) },
  }),
  approve: route.post('/v1/merchants/{id}/approve', admins, 'Approve onboarding (an admin other than the creator)', {
    request: { params, body: optionalJsonBody(noteBody) },
    responses: { 200: jsonResponse(merchantOut, 'active'), ...errorResponses(401, 403, 404, 409) },
  }),
  reject: route.post('/v1/merchants/{id}/reject', admins, 'Reject onboarding (an admin other than the creator)', {
    request: { params, body: jsonBody(reasonBody) },
    responses: { 200: jsonResponse(merchantOut, 'rejected'), ...errorResponses(400, 401, 403, 404, 409) },
  }),
  suspend: route.post('/v1/merchants/{id}/suspend', operators, 'Suspend a merchant: every terminal of it is locked', {
    request: { params, body: jsonBody(reasonBody) },
    responses: {
      200: jsonResponse(z.object({ merchant: merchantOut, lockedTerminals: z.number() }), 'suspended'),
      ...errorResponses(400, 401, 403, 404, 409),
    },
  }),
  reactivate: route.post('/v1/merchants/{id}/reactivate', operators, 'Reactivate: unlocks what the suspension locked, nothing else', {
    request: { params, body: optionalJsonBody(noteBody) },
    responses: {
      200: jsonResponse(z.object({ merchant: merchantOut, releasedTerminals: z.number() }), 'active again'),
      ...errorResponses(401, 403, 404, 409),
    },
  }),
  getPolicy: route.get('/v1/merchants/{id}/policy', readers, 'Transaction policy', {
    request: { params },
    responses: { 200: jsonResponse(z.looseObject({ currency: z.string() }), 'policy'), ...errorResponses(401, 403, 404) },
  }),
  putPolicy: route.put('/v1/merchants/{id}/policy', operators, 'Set the transaction policy; pushed to the terminals with config.set', {
    request: { params, body: jsonBody(policyInput) },
    responses: { 200: jsonResponse(z.looseObject({ policy: z.looseObject({}) }), 'set'), ...errorResponses(400, 401, 403, 404) },
  }),
  terminals: route.get('/v1/merchants/{id}/terminals', readers, 'Terminals bound to the merchant now', {
    request: { params },
    responses: { 200: jsonResponse(z.object({ items: z.array(bindingOut) }), 'bindings'), ...errorResponses(401, 403, 404) },
  }),
};

export function registerMerchantRoutes(app: AppRouter, deps: { merchants: MerchantService; bindings: BindingService }) {
  const { merchants } = deps;
  app.openapi(r.create, async (c) => {
    const body = c.req.valid('json');
    return c.json(
      merchantView(
        await merchants.create({ ...body, policy: body.policy ? { ...DEFAULT_POLICY, ...body.policy } : undefined }, actorOf(c)),
      ),
      201,
    );
  });
  app.openapi(r.list, async (c) => c.json(await merchants.list({ ...c.req.valid('query'), scope: c.get('principal') }), 200));
  app.openapi(r.get, async (c) => c.json(merchantView(await merchants.get(c.req.valid('param').id)), 200));
  app.openapi(r.update, async (c) =>
    c.json(merchantView(await merchants.update(c.req.valid('param').id, c.req.valid('json'), actorOf(c))), 200),
  );
  app.openapi(r.remove, async (c) => {
    await merchants.remove(c.req.valid('param').id, actorOf(c));
    return c.body(null, 204);
  });
  app.openapi(r.approve, async (c) => {
    const body = await optionalBodyOf(c, noteBody);
    return c.json(merchantView(await merchants.approve(c.req.valid('param').id, actorOf(c), body.note)), 200);
  });
  app.openapi(r.reject, async (c) =>
    c.json(merchantView(await merchants.reject(c.req.valid('param').id, actorOf(c), c.req.valid('json').reason)), 200),
  );
  app.openapi(r.suspend, async (c) => {
    const out = await merchants.suspend(c.req.valid('param').id, actorOf(c), c.req.valid('json').reason);
    return c.json({ merchant: merchantView(out.merchant), lockedTerminals: out.lockedTerminals }, 200);
  });
  app.openapi(r.reactivate, async (c) => {
    const body = await optionalBodyOf(c, noteBody);
    const out = await merchants.reactivate(c.req.valid('param').id, actorOf(c), body.note);
    return c.json({ merchant: merchantView(out.merchant), releasedTerminals: out.releasedTerminals }, 200);
  });
  app.openapi(r.getPolicy, async (c) => c.json((await merchants.get(c.req.valid('param').id)).policy, 200));
  app.openapi(r.putPolicy, async (c) => {
    const body = c.req.valid('json');
    return c.json(await merchants.setPolicy(c.req.valid('param').id, { ...DEFAULT_POLICY, ...body }, actorOf(c)), 200);
  });
  app.openapi(r.terminals, async (c) => c.json(await deps.bindings.terminalsOf(c.req.valid('param').id), 200));
}
