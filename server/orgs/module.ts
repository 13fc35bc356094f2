// Organisations as a server module: the tree's routes and allocation. Scoping itself is not here:
// it is in every query (scope.ts) and in the path check every route passes (pathScope.ts).
import type { ModuleContext, ServerModule } from '../moduleContract.ts';
import { createAllocation } from './allocation.ts';
import { registerOrgRoutes } from './orgRoutes.ts';
import { createOrgService } from './orgService.ts';

export function createOrgsModule(ctx: ModuleContext): ServerModule {
  const orgs = createOrgService({ db: ctx.db, audit: ctx.audit });
  const allocation = createAllocation({ db: ctx.db, audit: ctx.audit });
  return {
    name: 'orgs',
    routes: (app) => registerOrgRoutes(app, { orgs, allocation }),
  };
}
