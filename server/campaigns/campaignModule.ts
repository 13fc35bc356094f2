// One campaign engine per server: kinds (firmware, keys...) register on it from their own
// module factories through campaignEngineOf(ctx); this module starts and stops it.
import type { ModuleContext, ServerModule } from '../moduleContract.ts';
import { createCampaignEngine, type CampaignEngine } from './campaignEngine.ts';

// Keyed by the server's context, so several servers in one process (tests) each get their own.
const engines = new WeakMap<ModuleContext, CampaignEngine>();

export function campaignEngineOf(ctx: ModuleContext): CampaignEngine {
  let engine = engines.get(ctx);
  if (!engine) {
    engine = createCampaignEngine({
      db: ctx.db,
      queues: ctx.queues,
      bus: ctx.bus,
      commands: ctx.commands,
      devices: ctx.devices,
      live: ctx.live,
      audit: ctx.audit,
      log: ctx.log,
      metrics: ctx.metrics,
      retryBaseMs: ctx.config.CAMPAIGN_RETRY_BASE_MS,
      tickMs: ctx.config.CAMPAIGN_TICK_MS,
    });
    engines.set(ctx, engine);
  }
  return engine;
}

export function createCampaignsModule(ctx: ModuleContext): ServerModule {
  const engine = campaignEngineOf(ctx);
  return {
    name: 'campaigns',
    start: () => engine.start(),
    stop: () => engine.stop(),
  };
}
