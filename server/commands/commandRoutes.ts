// Commands to one terminal or to many (a batch), and their state.
import { z } from '@hono/zod-openapi';
import { parseCommandPayload, redactCommand } from '../../schemas/commands.ts';
import { groupTarget, queryTarget, savedFilterTarget } from '../../schemas/fleetQuery.ts';
import { commandTypes } from '../../schemas/wire.ts';
import type { AuditLog } from '../audit/auditLog.ts';
import { clientIp } from '../auth/middleware.ts';
import { operators, readers, technicians } from '../auth/roleSets.ts';
import type { DeviceService } from '../devices/deviceService.ts';
import { badRequest, unprocessable } from '../errors.ts';
import { errorResponses, jsonBody, jsonResponse, page, pageQuery, pathParams } from '../http/schemas.ts';
import { routesTagged } from '../http/taggedRoutes.ts';
import type { AppEnv, AppRouter } from '../http/types.ts';
import type { MiddlewareHandler } from 'hono';
import { MAX_TTL_S, MIN_TTL_S, operatorCommandTypes, type OperatorCommandType } from './commandRules.ts';
import { command } from './commandSchemas.ts';
import type { CommandService } from './commandService.ts';

const commandInput = {
  type: z.enum(operatorCommandTypes),
  payload: z
    .record(z.string(), z.unknown())
    .optional()
    .openapi({ description: 'by type, see docs/protocol.md § Commands; checked against the type (400 validation_failed with the path under `payload`)' }),
  ttlS: z.number().int().min(MIN_TTL_S).max(MAX_TTL_S).optional().openapi({ description: 'seconds until the command expires' }),
};

const filter = z
  .object({
    model: z.string().max(64).optional(),
    fwVersion: z.string().max(64).optional(),
    merchantId: z.string().max(64).optional(),
    online: z.boolean().optional(),
    q: z.string().max(100).optional(),
  })
  .strict();

const MAX_BATCH = 100_000;
const deviceIdParams = pathParams('id');
const cmdParams = pathParams('id', 'cmdId');
const route = routesTagged('commands');

const sendRoute = route.post('/v1/devices/{id}/commands', technicians, 'Send a command to a terminal (delivered when it is online)', {
  request: { params: deviceIdParams, body: jsonBody(z.object(commandInput).openapi({ example: { type: 'diag.run', payload: { components: ['printer', 'network'] }, ttlS: 3600 } })) },
  responses: { 201: jsonResponse(command, 'created'), ...errorResponses(400, 401, 403, 404, 409) },
});

const listRoute = route.get('/v1/devices/{id}/commands', readers, "A terminal's commands, newest first", {
  request: { params: deviceIdParams, query: z.object(pageQuery) },
  responses: { 200: jsonResponse(page(command), 'commands'), ...errorResponses(401, 403, 404) },
});

const getRoute = route.get('/v1/devices/{id}/commands/{cmdId}', readers, 'State of one command', {
  request: { params: cmdParams },
  responses: { 200: jsonResponse(command, 'the command'), ...errorResponses(401, 403, 404) },
});

const cancelRoute = route.post('/v1/devices/{id}/commands/{cmdId}/cancel', technicians, 'Cancel a command that has not finished', {
  request: { params: cmdParams },
  responses: { 200: jsonResponse(command, 'cancelled'), ...errorResponses(401, 403, 404, 409) },
});

const batchRoute = route.post('/v1/commands', operators, 'Send one command to many terminals (by ids or by filter)', {
  request: {
    body: jsonBody(
      z.object({
        target: z.union([z.object({ deviceIds: z.array(z.string().min(1).max(64)).min(1).max(MAX_BATCH) }).strict(), z.object({ filter }).strict(), groupTarget, savedFilterTarget, queryTarget]),
        ...commandInput,
      }).openapi({ example: { target: { filter: { model: 'PAX-A920' } }, type: 'config.set', payload: { healthIntervalS: 300 } } }),
    ),
  },
  responses: {
    201: jsonResponse(z.object({ batchId: z.string(), total: z.number() }), 'batch created'),
    ...errorResponses(400, 401, 403, 422),
  },
});

const batchStatusRoute = route.get('/v1/command-batches/{batchId}', readers, 'Progress of a batch: counts by command state', {
  request: { params: pathParams('batchId') },
  responses: {
    200: jsonResponse(z.looseObject({ id: z.string(), type: z.enum(commandTypes), total: z.number(), counts: z.record(z.string(), z.number()) }), 'status'),
    ...errorResponses(401, 403, 404),
  },
});

/** An operator's type and payload, the payload checked by its type's schema (schemas/commands.ts). */
function operatorCommand<T extends OperatorCommandType>(type: T, payload: unknown = {}) {
  const parsed = parseCommandPayload(type, payload);
  if (!parsed.ok) {
    const details = parsed.issues.map((i) => ({ path: i.path ? `payload.${i.path}` : 'payload', message: i.message }));
    throw badRequest('validation_failed', 'request did not pass validation', details);
  }
  return { type, payload: parsed.payload };
}

export function registerCommandRoutes(
  app: AppRouter,
  deps: { commands: CommandService; devices: DeviceService; audit: AuditLog; idempotency: MiddlewareHandler<AppEnv> },
) {
  const { commands, devices, audit } = deps;
  // A retried POST with the same Idempotency-Key gets the first answer, not a second command.
  app.use('/v1/devices/:id/commands', async (c, next) => (c.req.method === 'POST' ? deps.idempotency(c, next) : next()));
  app.use('/v1/commands', async (c, next) => (c.req.method === 'POST' ? deps.idempotency(c, next) : next()));

  app.openapi(sendRoute, async (c) => {
    const { id } = c.req.valid('param');
    const body = c.req.valid('json');
    const input = operatorCommand(body.type, body.payload);
    await devices.enrolledById(id);
    const principal = c.get('principal');
    const cmd = await commands.create(id, { ...input, ttlS: body.ttlS, createdBy: principal.userId }, (tx, row) =>
      audit.append({ actor: principal, action: 'command.send', target: id, ip: clientIp(c), data: { cmdId: row.id, type: row.type } }, tx),
    );
    return c.json(cmd, 201);
  });

  app.openapi(listRoute, async (c) => {
    const { id } = c.req.valid('param');
    const q = c.req.valid('query');
    await devices.byId(id);
    const listed = await commands.list(id, q.limit, q.cursor);
    return c.json({ ...listed, items: listed.items.map(redactCommand) }, 200);
  });

  app.openapi(getRoute, async (c) => {
    const { id, cmdId } = c.req.valid('param');
    return c.json(redactCommand(await commands.get(id, cmdId)), 200);
  });

  app.openapi(cancelRoute, async (c) => {
    const { id, cmdId } = c.req.valid('param');
    const cmd = await commands.cancel(id, cmdId, {}, (tx) =>
      audit.append({ actor: c.get('principal'), action: 'command.cancel', target: id, ip: clientIp(c), data: { cmdId } }, tx),
    );
    return c.json(redactCommand(cmd), 200);
  });

  app.openapi(batchRoute, async (c) => {
    const body = c.req.valid('json');
    const input = operatorCommand(body.type, body.payload);
    let ids: string[];
    if ('deviceIds' in body.target) {
      const wanted = [...new Set(body.target.deviceIds)];
      // Terminals of another subtree are treated exactly like ids that never existed.
      const found = await devices.existing(wanted, c.get('principal'));
      const missing = wanted.filter((d) => !found.has(d));
      if (missing.length) throw badRequest('unknown_devices', `${missing.length} device ids do not exist`, { missing: missing.slice(0, 100) });
      const notEnrolled = wanted.filter((d) => found.get(d) !== 'enrolled');
      if (notEnrolled.length) {
        throw unprocessable('device_not_enrolled', `${notEnrolled.length} devices are not enrolled; commands go to enrolled terminals`, { devices: notEnrolled.slice(0, 100) });
      }
      ids = wanted;
    } else {
      ids = await devices.idsForTarget(body.target, MAX_BATCH, { scope: c.get('principal') });
    }
    if (!ids.length) throw unprocessable('no_target', 'the target matches no device');
    const principal = c.get('principal');
    const { batchId, total } = await commands.createBatch(ids, { ...input, ttlS: body.ttlS, createdBy: principal.userId }, (tx, batch) =>
      audit.append({ actor: principal, action: 'command.batch', target: batch.batchId, ip: clientIp(c), data: { type: body.type, total: batch.total } }, tx),
    );
    return c.json({ batchId, total }, 201);
  });

  app.openapi(batchStatusRoute, async (c) => c.json(await commands.batchStatus(c.req.valid('param').batchId), 200));
}
