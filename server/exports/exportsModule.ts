// The exports module (docs/exports.md): streamed CSV/NDJSON of devices, faults, keys, campaign
// members and the audit log under /v1/exports.
import type { ModuleContext, ServerModule } from '../moduleContract.ts';
import { registerExportRoutes } from './exportRoutes.ts';
import { createExportService, type ExportsInternals } from './exportService.ts';

export function createExportsModule(ctx: ModuleContext): ServerModule & { internals: ExportsInternals } {
  const service = createExportService({ db: ctx.db, live: ctx.live, campaigns: ctx.campaigns, audit: ctx.audit, log: ctx.log });
  return {
    name: 'exports',
    routes: (app) => registerExportRoutes(app, service),
    internals: service.internals,
  };
}
