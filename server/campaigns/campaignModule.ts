// One campaign engine per server, in the module context (`ctx.campaigns`): kinds (firmware,
// keys...) register on it from their own module factories; this module starts and stops it,
// after every kind has registered.
import type { ModuleContext, ServerModule } from '../moduleContract.ts';

export function createCampaignsModule(ctx: ModuleContext): ServerModule {
  return {
    name: 'campaigns',
    start: () => ctx.campaigns.start(),
    stop: () => ctx.campaigns.stop(),
  };
}
