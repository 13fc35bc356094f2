// Liveness, readiness, Prometheus metrics, the OpenAPI document and its browsable docs.
import { swaggerUI } from '@hono/swagger-ui';
import type { AppRouter } from '../http/types.ts';
import type { Metrics } from '../metrics.ts';

export interface ReadinessProbe {
  name: string;
  check(): Promise<boolean>;
}

export function registerOpsRoutes(app: AppRouter, deps: { metrics: Metrics; probes: ReadinessProbe[]; version: string }) {
  app.get('/healthz', (c) => c.json({ status: 'ok' }));

  app.get('/readyz', async (c) => {
    // A dependency that hangs (Redis gone, with ioredis queueing) must read as not ready, not hang.
    const within = (check: Promise<boolean>) =>
      Promise.race([check.catch(() => false), new Promise<boolean>((ok) => setTimeout(() => ok(false), 2000).unref())]);
    const results = await Promise.all(deps.probes.map(async (p) => [p.name, await within(p.check())] as const));
    const ready = results.every(([, ok]) => ok);
    return c.json({ status: ready ? 'ready' : 'not_ready', checks: Object.fromEntries(results) }, ready ? 200 : 503);
  });

  app.get('/metrics', async (c) => {
    c.header('Content-Type', deps.metrics.registry.contentType);
    return c.body(await deps.metrics.registry.metrics());
  });

  app.openAPIRegistry.registerComponent('securitySchemes', 'bearerAuth', { type: 'http', scheme: 'bearer' });
  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: {
      title: 'posfleet control plane',
      version: deps.version,
      description: 'Terminal management for payment terminal fleets. Errors are `{error: {code, message, details?}}`.',
    },
    security: [{ bearerAuth: [] }],
  });
  app.get('/docs', swaggerUI({ url: '/openapi.json' }));
}
