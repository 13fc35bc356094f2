// /v1/orgs: the organisation tree, allocation of terminals, and moving a merchant with its
// terminals. Every route acts within the caller's subtree; outside it answers 404.
import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { clientIp } from '../auth/middleware.ts';
import { admins, operators, readers } from '../auth/roleSets.ts';
import { errorResponses, jsonBody, jsonResponse, page, pageQuery, pathParams } from '../http/schemas.ts';
import { routesTagged } from '../http/taggedRoutes.ts';
import type { AppEnv, AppRouter, Principal } from '../http/types.ts';
import type { Allocation } from './allocation.ts';
import type { OrgService } from './orgService.ts';
import { allocationBody, allocationOut, merchantMoveBody, merchantMoveOut, orgCreate, orgIdField, orgOut, orgPatch } from './orgSchemas.ts';

const route = routesTagged('orgs');
const params = pathParams('id');

const r = {
  create: route.post('/v1/orgs', admins, 'Create a node below a node of the caller’s subtree', {
    request: { body: jsonBody(orgCreate) },
    responses: { 201: jsonResponse(orgOut, 'created'), ...errorResponses(400, 401, 403, 404) },
  }),
  list: route.get('/v1/orgs', readers, 'The caller’s subtree, its own node first, a parent before its children', {
    request: { query: z.object({ ...pageQuery, parentId: orgIdField.optional().openapi({ description: 'only the children of this node' }) }) },
    responses: { 200: jsonResponse(page(orgOut), 'nodes'), ...errorResponses(400, 401, 403) },
  }),
  get: route.get('/v1/orgs/{id}', readers, 'One node of the caller’s subtree', {
    request: { params },
    responses: { 200: jsonResponse(orgOut, 'the node'), ...errorResponses(401, 403, 404) },
  }),
  rename: route.patch('/v1/orgs/{id}', admins, 'Rename a node', {
    request: { params, body: jsonBody(orgPatch) },
    responses: { 200: jsonResponse(orgOut, 'renamed'), ...errorResponses(400, 401, 403, 404) },
  }),
  allocate: route.post('/v1/orgs/{id}/allocations', operators, 'Move unbound terminals of the caller’s subtree to this node (a bound one moves only with its merchant)', {
    request: { params, body: jsonBody(allocationBody) },
    responses: { 200: jsonResponse(allocationOut, 'per-terminal outcome'), ...errorResponses(400, 401, 403, 404) },
  }),
  moveMerchant: route.post('/v1/merchants/{id}/move', operators, 'Move a merchant and every terminal bound to it to another node, in one transaction', {
    request: { params, body: jsonBody(merchantMoveBody) },
    responses: { 200: jsonResponse(merchantMoveOut, 'moved'), ...errorResponses(400, 401, 403, 404) },
  }),
};

const actorOf = (c: Context<AppEnv>): { principal: Principal; ip: string } => ({ principal: c.get('principal'), ip: clientIp(c) });

export function registerOrgRoutes(app: AppRouter, deps: { orgs: OrgService; allocation: Allocation }): void {
  const { orgs, allocation } = deps;
  app.openapi(r.create, async (c) => c.json(await orgs.create(c.req.valid('json'), actorOf(c)), 201));
  app.openapi(r.list, async (c) => c.json(await orgs.list(c.get('principal'), c.req.valid('query')), 200));
  app.openapi(r.get, async (c) => c.json(await orgs.get(c.get('principal'), c.req.valid('param').id), 200));
  app.openapi(r.rename, async (c) => c.json(await orgs.rename(c.req.valid('param').id, c.req.valid('json').name, actorOf(c)), 200));
  app.openapi(r.allocate, async (c) => c.json(await allocation.allocate(c.req.valid('param').id, c.req.valid('json'), actorOf(c)), 200));
  app.openapi(r.moveMerchant, async (c) =>
    c.json(await allocation.moveMerchant(c.req.valid('param').id, c.req.valid('json').orgId, actorOf(c)), 200),
  );
}
