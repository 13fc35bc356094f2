// One campaign engine per server, in the module context (`ctx.campaigns`): kinds (firmware,
// keys...) register on it from their own module factories; this module starts and stops it,
// after every kind has registered, and serves the maintenance windows its sends honour.
import type { ModuleContext, ServerModule } from '../moduleContract.ts';
import { registerMaintenanceRoutes } from './maintenanceRoutes.ts';

export function createCampaignsModule(ctx: ModuleContext): ServerModule {
  return {
    name: 'campaigns',
    routes: (app) => registerMaintenanceRoutes(app, { windows: ctx.campaigns.maintenanceWindows, audit: ctx.audit }),
    start: () => ctx.campaigns.start(),
    stop: () => ctx.campaigns.stop(),
  };
}
