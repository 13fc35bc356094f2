// The API of the rooms that are not domain modules (operations, enrollment, users, audit,
// devices, fleet views, health history, commands, the live stream), mounted on the server's
// HTTP app; the modules mount their own routes (moduleContract.ts).
import { registerAuditRoutes } from './audit/routes.ts';
import type { AuditLog } from './audit/auditLog.ts';
import type { AuthService } from './auth/authService.ts';
import { registerUserRoutes } from './auth/routes.ts';
import { createUserRequests } from './auth/userRequests.ts';
import { registerCommandRoutes } from './commands/commandRoutes.ts';
import type { CommandService } from './commands/commandService.ts';
import type { Db } from './db/database.ts';
import { pathScopeMiddleware } from './orgs/pathScope.ts';
import { registerDeviceRoutes } from './devices/deviceRoutes.ts';
import type { DeviceService } from './devices/deviceService.ts';
import { registerEnrollRoutes } from './devices/enrollRoutes.ts';
import { registerFleetRoutes } from './devices/fleetRoutes.ts';
import { createTimelineReader } from './devices/timelineReader.ts';
import type { TimelineWriter } from './devices/timelineWriter.ts';
import type { EventBus } from './events/eventBus.ts';
import { registerStreamRoutes } from './events/streamRoutes.ts';
import { createStreamScope } from './orgs/streamScope.ts';
import { createRouter, type HttpApp } from './http/httpApp.ts';
import { idempotency } from './http/idempotency.ts';
import type { JobQueues } from './jobs/jobQueues.ts';
import type { Logger } from './log.ts';
import type { Metrics } from './metrics.ts';
import { registerOpsRoutes } from './ops/opsRoutes.ts';
import type { SecretHasher } from './security/secretHasher.ts';
import { registerHealthHistoryRoutes } from './telemetry/historyRoutes.ts';
import type { LiveState } from './telemetry/liveState.ts';

export interface CoreRoutesDeps {
  version: string;
  maxBodyBytes: number;
  metrics: Metrics;
  log: Logger;
  db: Db;
  queues: JobQueues;
  /** Whether the broker is up yet (the readiness probe). */
  brokerStarted: () => boolean;
  auth: AuthService;
  audit: AuditLog;
  hasher: SecretHasher;
  devices: DeviceService;
  timeline: TimelineWriter;
  live: LiveState;
  commands: CommandService;
  bus: EventBus;
}

export function mountCoreRoutes(http: HttpApp, deps: CoreRoutesDeps): void {
  const { app } = http;
  const { db, log, audit, devices } = deps;
  registerOpsRoutes(app, {
    metrics: deps.metrics,
    version: deps.version,
    probes: [
      { name: 'database', check: async () => (await db.execute('select 1'), true) },
      { name: 'redis', check: () => deps.queues.ping() },
      { name: 'mqtt', check: async () => deps.brokerStarted() },
    ],
  });
  // Before every route of every module: an object id in a path outside the caller's subtree is a 404.
  app.use('/v1/*', pathScopeMiddleware(db));
  const enrollRoutes = createRouter();
  registerEnrollRoutes(enrollRoutes, { devices });
  // Terminals enroll with the fleet's enrollment token, not a bearer token.
  http.mount(enrollRoutes, [{ methods: ['ALL'], path: '/v1/enroll', skip: ['auth'] }]);
  registerUserRoutes(app, { auth: deps.auth, audit, userRequests: createUserRequests({ db, hasher: deps.hasher, audit, log }) });
  registerAuditRoutes(app, { audit });
  registerDeviceRoutes(app, {
    devices,
    timeline: createTimelineReader({ db, writer: deps.timeline }),
    maxImportBytes: deps.maxBodyBytes,
  });
  registerFleetRoutes(app, { db, live: deps.live });
  registerHealthHistoryRoutes(app, { db, devices });
  registerCommandRoutes(app, { commands: deps.commands, devices, audit, idempotency: idempotency(db, { log }) });
  registerStreamRoutes(app, { bus: deps.bus, scope: createStreamScope(db) });
}
