// Liveness, readiness, Prometheus metrics, the OpenAPI document and its browsable docs.
import type { z } from '@hono/zod-openapi';
import type { AppRouter } from '../http/types.ts';
import type { Metrics } from '../metrics.ts';
import { registerOpsOpenApi, type healthzBody, type readyzBody } from './opsOpenApi.ts';
import { registerDocsPage } from './swaggerUi.ts';

export interface ReadinessProbe {
  name: string;
  check(): Promise<boolean>;
}

export function registerOpsRoutes(app: AppRouter, deps: { metrics: Metrics; probes: ReadinessProbe[]; version: string }) {
  registerOpsOpenApi(app, deps.metrics.registry.contentType);
  app.get('/healthz', (c) => c.json<z.infer<typeof healthzBody>>({ status: 'ok' }));

  app.get('/readyz', async (c) => {
    // A dependency that hangs (Redis gone, with ioredis queueing) must read as not ready, not hang.
    const within = (check: Promise<boolean>) =>
      Promise.race([check.catch(() => false), new Promise<boolean>((ok) => setTimeout(() => ok(false), 2000).unref())]);
    const results = await Promise.all(deps.probes.map(async (p) => [p.name, await within(p.check())] as const));
    const ready = results.every(([, ok]) => ok);
    const body: z.infer<typeof readyzBody> = { status: ready ? 'ready' : 'not_ready', checks: Object.fromEntries(results) };
    return c.json(body, ready ? 200 : 503);
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
  registerDocsPage(app);
}
