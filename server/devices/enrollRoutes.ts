// POST /v1/enroll: the only device-facing HTTP call without a bearer token; the fleet
// enrollment secret is in the body. Failed attempts are rate limited per client address.
import { createRoute, z } from '@hono/zod-openapi';
import { enrollAnswer, enrollRequest } from '../../schemas/enrollment.ts';
import { clientIp } from '../auth/middleware.ts';
import { AppError, tooManyRequests } from '../errors.ts';
import { errorResponses, jsonBody, jsonResponse } from '../http/schemas.ts';
import type { AppRouter } from '../http/types.ts';
import type { DeviceService } from './deviceService.ts';

// schemas/ is plain zod, shared with the agent: `.openapi()` exists only on schemas made after
// @hono/zod-openapi loaded, so the shared shape is wrapped here to be named in the document.
const named = <S extends z.ZodRawShape>(schema: z.ZodObject<S>, name: string) => z.object(schema.shape).openapi(name);

const enrollRoute = createRoute({
  method: 'post',
  path: '/v1/enroll',
  tags: ['enrollment'],
  summary: 'Enroll a pre-registered terminal and receive its MQTT credentials (shown once)',
  security: [],
  request: {
    body: jsonBody(named(enrollRequest, 'EnrollRequest')),
  },
  responses: {
    201: jsonResponse(named(enrollAnswer, 'EnrollResponse'), 'enrolled'),
    ...errorResponses(400, 401, 403, 409, 429),
  },
});

const WINDOW_MS = 60_000;
const MAX_FAILURES = 20;

export function registerEnrollRoutes(app: AppRouter, deps: { devices: DeviceService }) {
  const failures = new Map<string, { count: number; since: number }>();

  app.openapi(enrollRoute, async (c) => {
    const ip = clientIp(c);
    const now = Date.now();
    const f = failures.get(ip);
    if (f && now - f.since < WINDOW_MS && f.count >= MAX_FAILURES) throw tooManyRequests('too many failed enrollments; wait a minute');
    try {
      return c.json(await deps.devices.enroll(c.req.valid('json')), 201);
    } catch (err) {
      if (err instanceof AppError && err.status === 401) {
        const entry = f && now - f.since < WINDOW_MS ? f : { count: 0, since: now };
        entry.count += 1;
        failures.set(ip, entry);
        if (failures.size > 10_000) failures.clear();
      }
      throw err;
    }
  });
}
