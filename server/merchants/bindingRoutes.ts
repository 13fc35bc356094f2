// Binding, re-binding requests (maker-checker), lock/unlock, relocation exemptions, device and
// card blacklists, merchant alerts.
import { z } from '@hono/zod-openapi';
import { rebindStatuses } from '../../schemas/tables/merchants.ts';
import { admins, operators, readers, technicians } from '../auth/roleSets.ts';
import { errorResponses, jsonBody, jsonResponse, optionalJsonBody, page, pageQuery, pathParams } from '../http/schemas.ts';
import { routesTagged } from '../http/taggedRoutes.ts';
import type { AppRouter } from '../http/types.ts';
import type { TerminalControl } from '../terminalControl/terminalControl.ts';
import {
  hashParams,
  bindingInput,
  bindingOut,
  bindingState,
  boundOut,
  cardBlocked,
  cardInput,
  exemptionInput,
  lockInput,
  lockOut,
  noteBody,
  rebindApproval,
  rebindInput,
  rebindOut,
  reasonBody,
} from './apiSchemas.ts';
import type { BindingService } from './bindingService.ts';
import type { CardBlacklistService } from './cardBlacklist.ts';
import type { MerchantAlerts } from './alerts.ts';
import type { Relocation } from './relocation.ts';
import { actorOf, optionalBodyOf } from './merchantRoutes.ts';
import type { RebindRequests } from './rebindRequests.ts';

const params = pathParams('id');
const reqParams = pathParams('id');
const binding = routesTagged('binding');
const control = routesTagged('control');
const any = z.looseObject({});

const r = {
  bind: binding.put('/v1/devices/{id}/binding', operators, 'Bind an unbound terminal to an active merchant (409 binding_locked if bound)', {
    request: { params, body: jsonBody(bindingInput) },
    responses: { 200: jsonResponse(boundOut, 'bound; binding.set sent'), ...errorResponses(400, 401, 403, 404, 409) },
  }),
  binding: binding.get('/v1/devices/{id}/binding', readers, 'Binding, lock state (and why), relocation state', {
    request: { params },
    responses: { 200: jsonResponse(bindingState, 'binding state'), ...errorResponses(401, 403, 404) },
  }),
  history: binding.get('/v1/devices/{id}/binding/history', readers, 'Every binding the terminal ever had', {
    request: { params },
    responses: { 200: jsonResponse(z.object({ items: z.array(bindingOut) }), 'history'), ...errorResponses(401, 403, 404) },
  }),
  request: binding.post('/v1/devices/{id}/rebind-requests', operators, 'Ask to re-bind a terminal (approved by another admin)', {
    request: { params, body: jsonBody(rebindInput) },
    responses: { 201: jsonResponse(rebindOut, 'filed'), ...errorResponses(400, 401, 403, 404, 409) },
  }),
  requests: binding.get('/v1/rebind-requests', readers, 'Re-binding requests, newest first', {
    request: { query: z.object({ ...pageQuery, status: z.enum(rebindStatuses).optional(), deviceId: z.string().max(64).optional() }) },
    responses: { 200: jsonResponse(page(rebindOut), 'requests'), ...errorResponses(400, 401, 403) },
  }),
  getRequest: binding.get('/v1/rebind-requests/{id}', readers, 'One re-binding request', {
    request: { params: reqParams },
    responses: { 200: jsonResponse(rebindOut, 'request'), ...errorResponses(401, 403, 404) },
  }),
  approve: binding.post('/v1/rebind-requests/{id}/approve', admins, 'Approve (an admin other than the requester): old binding closed, keys and data wiped, new token sent', {
    request: { params: reqParams, body: optionalJsonBody(noteBody) },
    responses: { 200: jsonResponse(rebindApproval, 'approved'), ...errorResponses(401, 403, 404, 409) },
  }),
  reject: binding.post('/v1/rebind-requests/{id}/reject', admins, 'Reject (an admin other than the requester)', {
    request: { params: reqParams, body: optionalJsonBody(noteBody) },
    responses: { 200: jsonResponse(rebindOut, 'rejected'), ...errorResponses(401, 403, 404, 409) },
  }),
  lockGet: control.get('/v1/devices/{id}/lock', readers, 'Lock state, its reasons and the command carrying it', {
    request: { params },
    responses: { 200: jsonResponse(lockOut, 'lock state'), ...errorResponses(401, 403, 404) },
  }),
  lock: control.post('/v1/devices/{id}/lock', technicians, 'Lock a terminal for a reason (queued while it is offline)', {
    request: { params, body: optionalJsonBody(lockInput) },
    responses: { 200: jsonResponse(lockOut, 'lock state'), ...errorResponses(400, 401, 403, 404) },
  }),
  unlock: control.post('/v1/devices/{id}/unlock', operators, 'Release one lock reason; unlocked when none is left', {
    request: { params, body: optionalJsonBody(lockInput) },
    responses: { 200: jsonResponse(lockOut, 'lock state'), ...errorResponses(400, 401, 403, 404) },
  }),
  exempt: control.put('/v1/devices/{id}/relocation-exemption', operators, 'Exempt a terminal from relocation checks (mobile merchants) or not', {
    request: { params, body: jsonBody(exemptionInput) },
    responses: { 200: jsonResponse(any, 'set'), ...errorResponses(400, 401, 403, 404) },
  }),
  blacklist: control.post('/v1/devices/{id}/blacklist', operators, 'Blacklist a terminal: connection refused and cut, messages ignored, no downloads or keys', {
    request: { params, body: jsonBody(reasonBody) },
    responses: { 200: jsonResponse(any, 'blacklisted'), ...errorResponses(400, 401, 403, 404, 409) },
  }),
  unblacklist: control.delete('/v1/devices/{id}/blacklist', admins, 'Take a terminal off the blacklist', {
    request: { params, body: jsonBody(reasonBody) },
    responses: { 200: jsonResponse(any, 'restored'), ...errorResponses(400, 401, 403, 404, 409) },
  }),
  alerts: control.get('/v1/merchant-alerts', readers, 'Alerts of merchant rules (relocation, limits, suspicious cards), newest first', {
    request: { query: z.object({ ...pageQuery, deviceId: z.string().max(64).optional(), open: z.enum(['true', 'false']).optional() }) },
    responses: { 200: jsonResponse(page(any), 'alerts'), ...errorResponses(400, 401, 403) },
  }),
  cards: control.get('/v1/card-blacklist', readers, 'Blocked card tokens (salted hashes)', {
    request: { query: z.object(pageQuery) },
    responses: { 200: jsonResponse(page(any), 'cards'), ...errorResponses(400, 401, 403) },
  }),
  addCard: control.post('/v1/card-blacklist', operators, 'Block a card (give the PAN, hashed at once, or its token); pushed with config.set', {
    request: { body: jsonBody(cardInput) },
    responses: {
      201: jsonResponse(cardBlocked, 'blocked (or already blocked: added false)'),
      ...errorResponses(400, 401, 403, 409),
    },
  }),
  removeCard: control.delete('/v1/card-blacklist/{hash}', operators, 'Unblock a card token', {
    request: { params: hashParams, body: jsonBody(reasonBody) },
    responses: { 204: { description: 'removed' }, ...errorResponses(400, 401, 403, 404) },
  }),
};

export function registerBindingRoutes(
  app: AppRouter,
  deps: { bindings: BindingService; rebinds: RebindRequests; control: TerminalControl; alerts: MerchantAlerts; relocation: Relocation; cards: CardBlacklistService },
) {
  const { bindings, rebinds, cards, alerts, relocation } = deps;
  const { locks, blacklist } = deps.control;
  app.openapi(r.bind, async (c) => c.json(await bindings.bind(c.req.valid('param').id, c.req.valid('json'), actorOf(c)), 200));
  app.openapi(r.binding, async (c) => c.json(await bindings.current(c.req.valid('param').id), 200));
  app.openapi(r.history, async (c) => c.json(await bindings.history(c.req.valid('param').id), 200));
  app.openapi(r.request, async (c) => c.json(await rebinds.request(c.req.valid('param').id, c.req.valid('json'), actorOf(c)), 201));
  app.openapi(r.requests, async (c) => c.json(await rebinds.listRequests({ ...c.req.valid('query'), scope: c.get('principal') }), 200));
  app.openapi(r.getRequest, async (c) => c.json(await rebinds.getRequest(c.req.valid('param').id), 200));
  app.openapi(r.approve, async (c) => {
    const body = await optionalBodyOf(c, noteBody);
    return c.json(await rebinds.approve(c.req.valid('param').id, actorOf(c), body.note), 200);
  });
  app.openapi(r.reject, async (c) => {
    const body = await optionalBodyOf(c, noteBody);
    return c.json(await rebinds.reject(c.req.valid('param').id, actorOf(c), body.note), 200);
  });
  app.openapi(r.lockGet, async (c) => {
    const { id } = c.req.valid('param');
    await deps.bindings.current(id); // 404 for an unknown device
    return c.json(await locks.lockState(id), 200);
  });
  app.openapi(r.lock, async (c) => {
    const body = await optionalBodyOf(c, lockInput);
    return c.json(await locks.lock(c.req.valid('param').id, body.reason, actorOf(c), body.note), 200);
  });
  app.openapi(r.unlock, async (c) => {
    const body = await optionalBodyOf(c, lockInput);
    return c.json(await locks.unlock(c.req.valid('param').id, body.reason, actorOf(c), body.note), 200);
  });
  app.openapi(r.exempt, async (c) => {
    const body = c.req.valid('json');
    return c.json(await relocation.setExemption(c.req.valid('param').id, body.exempt, body.reason, actorOf(c)), 200);
  });
  app.openapi(r.blacklist, async (c) =>
    c.json(await blacklist.blacklist(c.req.valid('param').id, c.req.valid('json').reason, actorOf(c)), 200),
  );
  app.openapi(r.unblacklist, async (c) =>
    c.json(await blacklist.unblacklist(c.req.valid('param').id, c.req.valid('json').reason, actorOf(c)), 200),
  );
  app.openapi(r.alerts, async (c) => {
    const q = c.req.valid('query');
    return c.json(await alerts.list({ ...q, open: q.open === undefined ? undefined : q.open === 'true', scope: c.get('principal') }), 200);
  });
  app.openapi(r.cards, async (c) => {
    const q = c.req.valid('query');
    return c.json(await cards.list(q.limit, q.cursor), 200);
  });
  app.openapi(r.addCard, async (c) => {
    const body = c.req.valid('json');
    return c.json(await cards.add(body, actorOf(c)), 201);
  });
  app.openapi(r.removeCard, async (c) => {
    await cards.remove(c.req.valid('param').hash, c.req.valid('json').reason, actorOf(c));
    return c.body(null, 204);
  });
}
