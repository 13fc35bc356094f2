// The domain modules of this build. Only the wiring (server/app.ts) imports this list; the
// modules themselves import their contract from server/moduleContract.ts.
import type { ModuleFactory } from './moduleContract.ts';
import { createMerchantsModule } from './merchants/module.ts';
import { createFaultsModule } from './faults/module.ts';
import { createCampaignsModule } from './campaigns/campaignModule.ts';
import { createFirmwareModule } from './firmware/firmwareModule.ts';
import { createKeysModule } from './keys/keysModule.ts';
import { createParametersModule } from './parameters/parametersModule.ts';
import { createDashboardModule } from './dashboard/dashboardModule.tsx';
import { createTrustModule } from './trust/trustModule.ts';
import { createOrgsModule } from './orgs/module.ts';
import { createExportsModule } from './exports/exportsModule.ts';
import { createGroupsModule } from './groups/groupsModule.ts';
import { createAppsModule } from './apps/appsModule.ts';

/** The domain modules of this build, in start order. */
export const moduleFactories: ModuleFactory[] = [createMerchantsModule, (ctx) => createFaultsModule(ctx), createFirmwareModule, createKeysModule, createParametersModule, createCampaignsModule, createDashboardModule, createTrustModule, createOrgsModule, createExportsModule, createGroupsModule, createAppsModule];
