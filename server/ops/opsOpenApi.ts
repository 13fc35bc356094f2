// OpenAPI entries for the routes that are plain Hono handlers, not createRoute: probes, metrics
// (text/plain) and the live stream (text/event-stream). A reader of /openapi.json alone must find
// them, with the media types they really answer in.
import { z } from '@hono/zod-openapi';
import { streamQuery } from '../events/streamRoutes.ts';
import { errorResponses } from '../http/schemas.ts';
import type { AppRouter } from '../http/types.ts';

export const healthzBody = z.object({ status: z.literal('ok') }).openapi('Liveness');

export const readyzBody = z
  .object({
    status: z.enum(['ready', 'not_ready']),
    checks: z
      .record(z.string(), z.boolean())
      .openapi({ description: 'one entry per dependency; false when it failed or did not answer within 2 s' }),
  })
  .openapi('Readiness', { example: { status: 'ready', checks: { database: true, redis: true, mqtt: true } } });

const STREAM_EXAMPLE = [
  'event: hello',
  'data: {"ts":1764900000000,"health":[]}',
  '',
  'event: command.updated',
  'id: 1',
  'data: {"id":"cmd_ElhOUOuvJKCZfCq7","deviceId":"dev_lvw9CzIgB-zsfMlu","type":"lock","state":"succeeded","batchId":null,"stage":null,"progress":100,"error":null,"result":{"locked":true}}',
  '',
].join('\n');

/** `metricsType`: the registry's own Content-Type (prom-client's text exposition format). */
export function registerOpsOpenApi(app: AppRouter, metricsType: string) {
  const noToken: { bearerAuth: string[] }[] = [];
  app.openAPIRegistry.registerPath({
    method: 'get',
    path: '/healthz',
    tags: ['operations'],
    summary: 'Liveness: 200 whenever the process answers HTTP',
    security: noToken,
    responses: { 200: { description: 'alive', content: { 'application/json': { schema: healthzBody } } } },
  });
  app.openAPIRegistry.registerPath({
    method: 'get',
    path: '/readyz',
    tags: ['operations'],
    summary: 'Readiness: database, Redis and the MQTT listener each answer within 2 s',
    security: noToken,
    responses: {
      200: { description: 'ready', content: { 'application/json': { schema: readyzBody } } },
      503: { description: 'a dependency failed (its check is false)', content: { 'application/json': { schema: readyzBody } } },
    },
  });
  app.openAPIRegistry.registerPath({
    method: 'get',
    path: '/metrics',
    tags: ['operations'],
    summary: 'Prometheus metrics (text exposition format 0.0.4), prefixed posfleet_',
    security: noToken,
    responses: {
      200: {
        description: 'the metrics',
        content: {
          [metricsType]: {
            schema: z.string().openapi({
              example:
                '# HELP posfleet_connected_devices Devices connected to the broker\n# TYPE posfleet_connected_devices gauge\nposfleet_connected_devices 50\n',
            }),
          },
        },
      },
    },
  });
  app.openAPIRegistry.registerPath({
    method: 'get',
    path: '/v1/stream',
    tags: ['events'],
    summary: 'Live events as Server-Sent Events',
    description:
      'First `event: hello`, then one SSE event per domain event (`device.presence`, `command.updated`, `fault.opened`, `campaign.updated`…; ' +
      'see docs/api.md, "Live stream"), `data` JSON, `id` increasing; a `: keep-alive` comment after 15 s of silence. No replay. ' +
      'Roles: admin, operator, technician, auditor.',
    request: { query: streamQuery },
    responses: {
      200: {
        description: 'the event stream (kept open)',
        content: { 'text/event-stream': { schema: z.string().openapi({ example: STREAM_EXAMPLE }) } },
      },
      ...errorResponses(400, 401, 403),
    },
  });
}
