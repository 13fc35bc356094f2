// /v1/maintenance-windows: the recurring hours per merchant, group or organisation in which
// campaigns may serve a terminal (docs/maintenance-windows.md). Changes are audited.
import { z } from '@hono/zod-openapi';
import { maintenanceScopes, newMaintenanceWindow } from '../../schemas/maintenance.ts';
import type { MaintenanceWindowRow } from '../../schemas/tables/maintenanceWindows.ts';
import type { AuditLog } from '../audit/auditLog.ts';
import { clientIp } from '../auth/middleware.ts';
import { operators, readers } from '../auth/roleSets.ts';
import { errorResponses, jsonBody, jsonResponse, page, pageQuery, pathParams } from '../http/schemas.ts';
import { routesTagged } from '../http/taggedRoutes.ts';
import type { AppRouter } from '../http/types.ts';
import { MaintenanceWindowSchema } from './maintenanceSchemas.ts';
import type { MaintenanceWindowStore } from './maintenanceWindowStore.ts';

export { MaintenanceWindowSchema };

const view = (r: MaintenanceWindowRow) => ({ ...r, createdAt: r.createdAt.toISOString() });

const route = routesTagged('maintenance-windows');
const idParams = pathParams('id');

export function registerMaintenanceRoutes(app: AppRouter, deps: { windows: MaintenanceWindowStore; audit: AuditLog }) {
  app.openapi(
    route.post('/v1/maintenance-windows', operators, 'Set a recurring maintenance window for a merchant, group or organisation', {
      request: {
        body: jsonBody(
          z
            .object(newMaintenanceWindow.shape)
            .strict()
            .openapi('NewMaintenanceWindow', {
              example: { scope: 'merchant', targetId: 'mer_3q2mX0f1cQ9kZb7T', days: [1, 2, 3, 4, 5], start: '22:00', end: '04:00' },
            }),
        ),
      },
      responses: { 201: jsonResponse(MaintenanceWindowSchema, 'created'), ...errorResponses(400, 401, 403, 404) },
    }),
    async (c) => {
      const principal = c.get('principal');
      const input = c.req.valid('json');
      const row = await deps.windows.create(input, principal, (tx, r) =>
        deps.audit.append({ actor: principal, action: 'maintenance_window.create', target: r.id, ip: clientIp(c), data: input }, tx),
      );
      return c.json(view(row), 201);
    },
  );

  app.openapi(
    route.get('/v1/maintenance-windows', readers, "Maintenance windows of the caller's subtree (paged by id)", {
      request: { query: z.object({ ...pageQuery, scope: z.enum(maintenanceScopes).optional(), targetId: z.string().max(64).optional() }) },
      responses: { 200: jsonResponse(page(MaintenanceWindowSchema), 'windows'), ...errorResponses(400, 401, 403) },
    }),
    async (c) => {
      const result = await deps.windows.list(c.get('principal'), c.req.valid('query'));
      return c.json({ items: result.items.map(view), nextCursor: result.nextCursor }, 200);
    },
  );

  app.openapi(
    route.get('/v1/maintenance-windows/{id}', readers, 'A maintenance window', {
      request: { params: idParams },
      responses: { 200: jsonResponse(MaintenanceWindowSchema, 'window'), ...errorResponses(401, 403, 404) },
    }),
    async (c) => c.json(view(await deps.windows.get(c.get('principal'), c.req.valid('param').id)), 200),
  );

  app.openapi(
    route.delete('/v1/maintenance-windows/{id}', operators, 'Remove a maintenance window', {
      request: { params: idParams },
      responses: { 200: jsonResponse(MaintenanceWindowSchema, 'removed'), ...errorResponses(401, 403, 404) },
    }),
    async (c) => {
      const principal = c.get('principal');
      const row = await deps.windows.remove(principal, c.req.valid('param').id, (tx, r) =>
        deps.audit.append(
          {
            actor: principal,
            action: 'maintenance_window.delete',
            target: r.id,
            ip: clientIp(c),
            data: { scope: r.scope, targetId: r.targetId },
          },
          tx,
        ),
      );
      return c.json(view(row), 200);
    },
  );
}
