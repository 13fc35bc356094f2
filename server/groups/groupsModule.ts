// Labels, static groups and saved filters (issue #14 item 2, docs/groups-and-filters.md). Target
// resolution for campaigns and command batches lives in targets.ts, reached through
// deviceService.idsForTarget, so it needs nothing from this module's start.
import type { ModuleContext, ServerModule } from '../moduleContract.ts';
import { createDeviceQueries } from './deviceQueries.ts';
import { registerFilterRoutes } from './filterRoutes.ts';
import { createFilterService } from './filterService.ts';
import { registerGroupRoutes } from './groupRoutes.ts';
import { createGroupService } from './groupService.ts';
import { registerLabelRoutes } from './labelRoutes.ts';
import { createLabelService } from './labelService.ts';

export function createGroupsModule(ctx: ModuleContext): ServerModule {
  const groups = createGroupService({ db: ctx.db, audit: ctx.audit });
  const filters = createFilterService({ db: ctx.db, audit: ctx.audit });
  const labels = createLabelService({ db: ctx.db, audit: ctx.audit, groups });
  const queries = createDeviceQueries(ctx.db);
  return {
    name: 'groups',
    routes(app) {
      registerLabelRoutes(app, labels);
      registerGroupRoutes(app, groups);
      registerFilterRoutes(app, { filters, queries });
    },
  };
}
