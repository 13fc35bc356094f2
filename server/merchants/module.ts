// The merchant binding lock (SPEC §6) as a server module: services, routes, rules on telemetry,
// and the BullMQ job scheduler that expires undecided re-binding requests.
import { idempotency } from '../http/idempotency.ts';
import type { ModuleContext, ServerModule } from '../moduleContract.ts';
import { createBindingService, type BindingService } from './bindingService.ts';
import { registerBindingRoutes } from './bindingRoutes.ts';
import { createCardBlacklist, type CardBlacklistService } from './cardBlacklist.ts';
import { createControlService, type ControlService } from './controlService.ts';
import type { MerchantDeps } from './deps.ts';
import { registerMerchantRoutes } from './merchantRoutes.ts';
import { createMerchantService, type MerchantService } from './merchantService.ts';
import { createMonitor } from './monitor.ts';
import { createRegistry } from './registry.ts';

export const MERCHANT_QUEUE = 'merchants';
const EXPIRY_EVERY_MS = 60_000;
const REGISTRY_RELOAD_MS = 30_000;

export interface MerchantsModule extends ServerModule {
  merchants: MerchantService;
  bindings: BindingService;
  control: ControlService;
  cards: CardBlacklistService;
  /** Waits for rule actions started by telemetry (tests, shutdown). */
  idle(): Promise<void>;
}

export function createMerchantsModule(ctx: ModuleContext): MerchantsModule {
  const deps: MerchantDeps = {
    db: ctx.db,
    audit: ctx.audit,
    commands: ctx.commands,
    timeline: ctx.timeline,
    bus: ctx.bus,
    bindingKey: ctx.bindingKey,
    credentials: ctx.credentials,
    devices: ctx.devices,
    broker: ctx.broker,
    log: ctx.log.child({ module: 'merchants' }),
  };
  const registry = createRegistry(ctx.db);
  const control = createControlService({ ...deps, registry });
  const cards = createCardBlacklist(deps);
  const bindings = createBindingService({ ...deps, registry, control, cards });
  const merchants = createMerchantService({ ...deps, registry, control, bindings });
  const monitor = createMonitor({ registry, control, cards, log: deps.log });
  let reload: NodeJS.Timeout | undefined;
  let unsubscribe: (() => void) | undefined;

  return {
    name: 'merchants',
    merchants,
    bindings,
    control,
    cards,
    idle: monitor.idle,
    routes(app) {
      // A retried POST with the same Idempotency-Key gets the first answer, not a second merchant/request.
      const idem = idempotency(ctx.db, { log: deps.log });
      for (const path of ['/v1/merchants', '/v1/devices/:id/rebind-requests', '/v1/card-blacklist']) {
        app.use(path, async (c, next) => (c.req.method === 'POST' ? idem(c, next) : next()));
      }
      registerMerchantRoutes(app, { merchants, bindings });
      registerBindingRoutes(app, { bindings, control, cards });
    },
    async start() {
      await registry.load();
      await cards.meta();
      const queue = ctx.queues.queue(MERCHANT_QUEUE);
      ctx.queues.worker(
        MERCHANT_QUEUE,
        async (job) => {
          if (job.name === 'expire-rebind-requests') return { expired: await bindings.expireDue() };
          return undefined;
        },
        { concurrency: 1 },
      );
      await queue.upsertJobScheduler('expire-rebind-requests', { every: EXPIRY_EVERY_MS }, { name: 'expire-rebind-requests' });
      reload = setInterval(
        () => void registry.load().catch((err: unknown) => deps.log.warn({ err }, 'merchant registry reload failed')),
        REGISTRY_RELOAD_MS,
      );
      reload.unref();
      // Bare lock commands from elsewhere become lock reasons (see controlService.adoptBareLock).
      const adopted = new Set<string>();
      // A terminal enrolled afresh (after a reset) has lost its binding: send it the current one.
      const offEnrolled = ctx.bus.on('device.enrolled', (e) => {
        void bindings
          .resend(e.deviceId)
          .catch((err: unknown) => deps.log.warn({ err, deviceId: e.deviceId }, 'resending the binding failed'));
      });
      const offCommands = ctx.bus.on('command.updated', (e) => {
        if (e.type !== 'lock' || adopted.has(e.id)) return;
        adopted.add(e.id);
        if (adopted.size > 10_000) adopted.clear();
        void control
          .adoptBareLock(e.deviceId, e.id)
          .catch((err: unknown) => deps.log.warn({ err, cmdId: e.id }, 'adopting a lock command failed'));
      });
      unsubscribe = () => {
        offEnrolled();
        offCommands();
      };
    },
    async stop() {
      if (reload) clearInterval(reload);
      unsubscribe?.();
      await monitor.idle();
    },
    onHealth: monitor.onHealth,
    onEvent: monitor.onEvent,
  };
}
