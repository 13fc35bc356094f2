// Static groups over HTTP: create, list, read, rename, delete, and add/remove members. Thin: the
// rules (scope, unknown devices, names) are in groupService.ts.
import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { clientIp } from '../auth/middleware.ts';
import { operators, readers } from '../auth/roleSets.ts';
import { errorResponses, jsonBody, jsonResponse, page, pageQuery, pathParams } from '../http/schemas.ts';
import { routesTagged } from '../http/taggedRoutes.ts';
import type { AppEnv, AppRouter } from '../http/types.ts';
import type { GroupService } from './groupService.ts';

export const MAX_MEMBER_CHANGE = 10_000;

export const groupMember = z
  .object({
    id: z.string(),
    serial: z.string(),
    model: z.string(),
    status: z.string(),
    addedAt: z.string().openapi({ format: 'date-time' }),
  })
  .openapi('GroupMember');

export const group = z
  .looseObject({
    id: z.string(),
    name: z.string(),
    description: z.string(),
    orgId: z.string(),
    members: z.number().int().openapi({ description: 'how many terminals the group holds' }),
    createdBy: z.string().nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi('DeviceGroup');

/** The answer to a members change: the group after it, and how many were added and removed. */
export const groupMembersChanged = group.extend({ added: z.number().int(), removed: z.number().int() });

const name = z.string().trim().min(1).max(100);
const description = z.string().max(1000);
const ids = z.array(z.string().min(1).max(64)).max(MAX_MEMBER_CHANGE);
const route = routesTagged('groups');
const idParams = pathParams('id');

const routes = {
  create: route.post('/v1/groups', operators, 'Create a static group of terminals', {
    request: {
      body: jsonBody(
        z
          .object({ name, description: description.optional() })
          .strict()
          .openapi({ example: { name: 'Pilot stores', description: 'first wave' } }),
      ),
    },
    responses: { 201: jsonResponse(group, 'created'), ...errorResponses(400, 401, 403, 409) },
  }),
  list: route.get('/v1/groups', readers, 'Groups of the caller’s organisation subtree, with member counts', {
    request: { query: z.object(pageQuery) },
    responses: { 200: jsonResponse(page(group), 'a page of groups'), ...errorResponses(400, 401, 403) },
  }),
  get: route.get('/v1/groups/{id}', readers, 'A group with its member count', {
    request: { params: idParams },
    responses: { 200: jsonResponse(group, 'the group'), ...errorResponses(401, 403, 404) },
  }),
  update: route.patch('/v1/groups/{id}', operators, 'Rename a group or change its description', {
    request: { params: idParams, body: jsonBody(z.object({ name: name.optional(), description: description.optional() }).strict()) },
    responses: { 200: jsonResponse(group, 'changed'), ...errorResponses(400, 401, 403, 404, 409) },
  }),
  remove: route.delete('/v1/groups/{id}', operators, 'Delete a group (its terminals stay, only the grouping goes)', {
    request: { params: idParams },
    responses: { 204: { description: 'deleted' }, ...errorResponses(401, 403, 404) },
  }),
  listMembers: route.get('/v1/groups/{id}/members', readers, "The group's terminals, by device id (paged)", {
    request: { params: idParams, query: z.object(pageQuery) },
    responses: {
      200: jsonResponse(page(groupMember), 'a page of members'),
      ...errorResponses(400, 401, 403, 404),
    },
  }),
  members: route.post('/v1/groups/{id}/members', operators, 'Add and remove terminals by id (adding a member twice changes nothing)', {
    request: {
      params: idParams,
      body: jsonBody(
        z
          .object({ add: ids.optional(), remove: ids.optional() })
          .strict()
          .openapi({ example: { add: ['dev_Xk2…'], remove: [] } }),
      ),
    },
    responses: {
      200: jsonResponse(groupMembersChanged, 'the group after the change'),
      ...errorResponses(400, 401, 403, 404),
    },
  }),
};

const actorOf = (c: Context<AppEnv>) => ({ principal: c.get('principal'), ip: clientIp(c) });

export function registerGroupRoutes(app: AppRouter, groups: GroupService) {
  app.openapi(routes.create, async (c) => c.json(await groups.create(c.req.valid('json'), actorOf(c)), 201));
  app.openapi(routes.list, async (c) => {
    const q = c.req.valid('query');
    return c.json(await groups.list(c.get('principal'), q.limit, q.cursor), 200);
  });
  app.openapi(routes.get, async (c) => c.json(await groups.get(c.req.valid('param').id, c.get('principal')), 200));
  app.openapi(routes.update, async (c) => c.json(await groups.update(c.req.valid('param').id, c.req.valid('json'), actorOf(c)), 200));
  app.openapi(routes.remove, async (c) => {
    await groups.remove(c.req.valid('param').id, actorOf(c));
    return c.body(null, 204);
  });
  app.openapi(routes.listMembers, async (c) => {
    const q = c.req.valid('query');
    return c.json(await groups.members(c.req.valid('param').id, c.get('principal'), q.limit, q.cursor), 200);
  });
  app.openapi(routes.members, async (c) =>
    c.json(await groups.changeMembers(c.req.valid('param').id, c.req.valid('json'), actorOf(c)), 200),
  );
}
