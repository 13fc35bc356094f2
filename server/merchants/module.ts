// The merchant binding lock (SPEC §6) as a server module: services, routes, rules on telemetry,
// and the BullMQ job scheduler that expires undecided re-binding requests.
import type { Queue } from 'bullmq';
import { createInvalidations, onModuleInvalidated } from '../cluster/invalidation.ts';
import { upsertSchedulerOnce } from '../cluster/schedulers.ts';
import { idempotency } from '../http/idempotency.ts';
import type { ModuleContext, ServerModule } from '../moduleContract.ts';
import { createMerchantAlerts, type MerchantAlerts } from './alerts.ts';
import { createBindingService, type BindingService } from './bindingService.ts';
import { registerBindingRoutes } from './bindingRoutes.ts';
import { createCardBlacklist, type CardBlacklistService } from './cardBlacklist.ts';
import type { MerchantDeps } from './merchantDeps.ts';
import { registerMerchantRoutes } from './merchantRoutes.ts';
import { createMerchantService, type MerchantService } from './merchantService.ts';
import { createMonitor } from './monitor.ts';
import { createRebindRequests, type RebindRequests } from './rebindRequests.ts';
import { createRegistry, type Registry } from './registry.ts';
import { createRelocation } from './relocation.ts';

export const MERCHANT_QUEUE = 'merchants';
const EXPIRY_JOB = 'expire-rebind-requests';
const EXPIRY_EVERY_MS = 60_000;
const REGISTRY_RELOAD_MS = 30_000;

export interface MerchantsModule extends ServerModule {
  merchants: MerchantService;
  bindings: BindingService;
  rebinds: RebindRequests;
  alerts: MerchantAlerts;
  cards: CardBlacklistService;
  /** Waits for rule actions started by telemetry (tests, shutdown). */
  idle(): Promise<void>;
  /** The BullMQ job scheduler that expires rebind requests, once started. */
  expiryScheduler(): Promise<{ key: string; every?: number | null } | undefined>;
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
    control: ctx.terminalControl,
    log: ctx.log.child({ module: 'merchants' }),
  };
  const registry = createRegistry(ctx.db);
  // The services change the registry after their commits (a binding, a merchant, an exemption):
  // in a cluster each such change is announced and every peer reloads its registry from the
  // database. The monitor's own track updates (telemetry, per instance) are not announced.
  const announce = createInvalidations(ctx.cluster.link);
  const changed = (id: string) => announce.module('merchants', [id]);
  const announcing: Registry = {
    ...registry,
    setBinding(deviceId, merchantId) {
      registry.setBinding(deviceId, merchantId);
      changed(deviceId);
    },
    setMerchant(m) {
      registry.setMerchant(m);
      changed(m.id);
    },
    setTrack(deviceId, t) {
      registry.setTrack(deviceId, t);
      changed(deviceId);
    },
  };
  const alerts = createMerchantAlerts(deps);
  const relocation = createRelocation({ ...deps, registry: announcing });
  const cards = createCardBlacklist(deps);
  const bindings = createBindingService({ ...deps, registry: announcing, relocation, cards });
  const rebinds = createRebindRequests({ ...deps, bindings });
  const merchants = createMerchantService({ ...deps, registry: announcing, bindings });
  const monitor = createMonitor({ registry, control: ctx.terminalControl, alerts, relocation, cards, log: deps.log });
  let queue: Queue | undefined;
  let reload: NodeJS.Timeout | undefined;
  let unsubscribe: (() => void) | undefined;
  let offInvalidate: (() => void) | undefined;
  // A burst of peers' changes costs one reload, plus one for those that arrive during it.
  let reloading: Promise<void> | undefined;
  let reloadAgain = false;
  function reloadSoon() {
    if (reloading) {
      reloadAgain = true;
      return;
    }
    reloading = (async () => {
      do {
        reloadAgain = false;
        await registry.load();
      } while (reloadAgain);
    })()
      .catch((err: unknown) => deps.log.warn({ err }, 'merchant registry reload failed'))
      .finally(() => (reloading = undefined));
  }

  return {
    name: 'merchants',
    merchants,
    bindings,
    rebinds,
    alerts,
    cards,
    idle: monitor.idle,
    expiryScheduler: async () => (await queue?.getJobScheduler(EXPIRY_JOB)) ?? undefined,
    routes(app) {
      // A retried POST with the same Idempotency-Key gets the first answer, not a second merchant/request.
      const idem = idempotency(ctx.db, { log: deps.log });
      for (const path of ['/v1/merchants', '/v1/devices/:id/rebind-requests', '/v1/card-blacklist']) {
        app.use(path, async (c, next) => (c.req.method === 'POST' ? idem(c, next) : next()));
      }
      registerMerchantRoutes(app, { merchants, bindings });
      registerBindingRoutes(app, { bindings, rebinds, control: ctx.terminalControl, alerts, relocation, cards });
    },
    async start() {
      await registry.load();
      await cards.meta();
      queue = ctx.queues.queue(MERCHANT_QUEUE);
      ctx.queues.worker(
        MERCHANT_QUEUE,
        async (job) => {
          if (job.name === EXPIRY_JOB) return { expired: await rebinds.expireDue() };
          return undefined;
        },
        { concurrency: 1 },
      );
      await upsertSchedulerOnce(ctx.cluster, queue, EXPIRY_JOB, { every: EXPIRY_EVERY_MS }, { name: EXPIRY_JOB });
      reload = setInterval(
        () => void registry.load().catch((err: unknown) => deps.log.warn({ err }, 'merchant registry reload failed')),
        REGISTRY_RELOAD_MS,
      );
      reload.unref();
      offInvalidate = onModuleInvalidated(ctx.cluster.link, 'merchants', async () => reloadSoon(), deps.log);
      // A terminal enrolled afresh (after a reset) has lost its binding: send it the current one.
      unsubscribe = ctx.bus.on('device.enrolled', (e) => {
        void bindings
          .resend(e.deviceId)
          .catch((err: unknown) => deps.log.warn({ err, deviceId: e.deviceId }, 'resending the binding failed'));
      });
    },
    async stop() {
      if (reload) clearInterval(reload);
      unsubscribe?.();
      offInvalidate?.();
      await monitor.idle();
    },
    onHealth: monitor.onHealth,
    onEvent: monitor.onEvent,
  };
}
