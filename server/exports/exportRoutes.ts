// GET /v1/exports/…: streamed CSV or NDJSON of devices, faults, the key inventory, a campaign's
// members and the audit log, with the filters of the matching list route, scoped to the caller's
// organisation subtree, each export audited when it ends (who, what, filters, rows, complete).
import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { clientIp } from '../auth/middleware.ts';
import { campaignDeviceStates } from '../../schemas/campaigns.ts';
import { keyUsages } from '../../schemas/keyCrypto/header.ts';
import { keyStates } from '../../schemas/tables/keys.ts';
import { requireRole } from '../auth/middleware.ts';
import { readers } from '../auth/roleSets.ts';
import { errorResponses, pathParams } from '../http/schemas.ts';
import { routesTagged } from '../http/taggedRoutes.ts';
import type { AppEnv, AppRouter } from '../http/types.ts';
import { deviceFilterOf, deviceFilterQuery } from '../devices/deviceFilterQuery.ts';
import { faultFilterOf } from '../faults/faultQueries.ts';
import { faultFilterQuery } from '../faults/faultSchemas.ts';
import { exportFormats } from './exportFormat.ts';
import { auditExportRow, campaignMemberExportRow, deviceExportRow, faultExportRow, keyExportRow } from './rowSchemas.ts';
import type { ExportAnswer, ExportService } from './exportService.ts';

const formatQuery = {
  format: z
    .enum(exportFormats)
    .default('csv')
    .openapi({ description: '`csv` (text/csv, a header row) or `json` (NDJSON: one JSON object per line)' }),
};

const deviceQuery = deviceFilterQuery.extend(formatQuery);

const faultQuery = faultFilterQuery.extend(formatQuery);

const keyQuery = z.object({
  ...formatQuery,
  deviceId: z.string().min(1).max(64).optional(),
  usage: z.enum(keyUsages).optional(),
  slot: z.string().min(1).max(64).optional(),
  state: z.enum(keyStates).optional(),
  // The terminals whose keys are exported, as the console's key inventory filters them.
  q: deviceFilterQuery.shape.q,
  query: deviceFilterQuery.shape.query,
});

const memberQuery = z.object({
  ...formatQuery,
  state: z.enum(campaignDeviceStates).optional(),
  phase: z.coerce.number().int().min(0).max(19).optional(),
  errorCode: z.string().min(1).max(64).optional(),
});

const auditQuery = z.object({
  ...formatQuery,
  action: z.string().min(1).max(200).optional(),
  actorId: z.string().min(1).max(200).optional(),
  target: z.string().min(1).max(500).optional(),
  since: z.iso.datetime({ offset: true }).optional().openapi({ description: 'entries at or after this time' }),
  until: z.iso.datetime({ offset: true }).optional().openapi({ description: 'entries before this time' }),
});

const streamed = (row: z.ZodObject, what: string, rowName: string) => ({
  200: {
    description: `${what}, streamed: CSV with a header row (columns: the fields of ${rowName}, in order), or NDJSON, one row object per line`,
    content: {
      'text/csv': { schema: z.string() },
      'application/x-ndjson': { schema: row },
    },
  },
});

const route = routesTagged('exports');
const auditors = requireRole('admin', 'auditor');

const devicesRoute = route.get(
  '/v1/exports/devices',
  readers,
  'Export terminals (GET /v1/devices filters) with binding, presence, health, open faults, key versions',
  {
    request: { query: deviceQuery },
    responses: { ...streamed(deviceExportRow, 'terminals', 'DeviceExportRow'), ...errorResponses(400, 401, 403) },
  },
);

const faultsRoute = route.get('/v1/exports/faults', readers, 'Export faults (GET /v1/faults filters)', {
  request: { query: faultQuery },
  responses: { ...streamed(faultExportRow, 'faults', 'FaultExportRow'), ...errorResponses(400, 401, 403) },
});

const keysRoute = route.get(
  '/v1/exports/keys',
  readers,
  'Export the key inventory: versions, slots, states and KCVs (never key material)',
  {
    request: { query: keyQuery },
    responses: { ...streamed(keyExportRow, 'keys', 'KeyExportRow'), ...errorResponses(400, 401, 403) },
  },
);

const membersRoute = route.get(
  '/v1/exports/campaigns/{id}/devices',
  readers,
  "Export a campaign's per-terminal results (rollouts, key rotations, app deployments, parameter pushes): state, error code and message, serial",
  {
    request: { params: pathParams('id'), query: memberQuery },
    responses: { ...streamed(campaignMemberExportRow, 'members', 'CampaignMemberExportRow'), ...errorResponses(400, 401, 403, 404) },
  },
);

const auditRoute = route.get(
  '/v1/exports/audit',
  auditors,
  'Export the audit log oldest first, with the hash chain fields to verify it offline',
  {
    request: { query: auditQuery },
    responses: { ...streamed(auditExportRow, 'audit entries', 'AuditExportRow'), ...errorResponses(400, 401, 403) },
  },
);

/** The filters as the caller gave them, for the export's audit entry: the query without `format` and unset fields. */
const givenFilters = <T extends Record<string, unknown>>(query: T) =>
  Object.fromEntries(Object.entries(query).filter(([k, v]) => k !== 'format' && v !== undefined));

export function registerExportRoutes(app: AppRouter, service: ExportService) {
  const by = (c: Context<AppEnv>) => ({ principal: c.get('principal'), ip: clientIp(c) });
  const answer = (c: Context<AppEnv>, a: ExportAnswer) => c.body(a.stream, 200, a.headers);

  app.openapi(devicesRoute, async (c) => {
    const q = c.req.valid('query');
    return answer(c, service.devices(by(c), q.format, deviceFilterOf(q), givenFilters(q)));
  });

  app.openapi(faultsRoute, async (c) => {
    const q = c.req.valid('query');
    return answer(c, service.faults(by(c), q.format, faultFilterOf(q, c.get('principal').userId), givenFilters(q)));
  });

  app.openapi(keysRoute, async (c) => {
    const q = c.req.valid('query');
    return answer(
      c,
      service.keys(
        by(c),
        q.format,
        { deviceId: q.deviceId, usage: q.usage, slot: q.slot, state: q.state, q: q.q, query: q.query },
        givenFilters(q),
      ),
    );
  });

  app.openapi(membersRoute, async (c) => {
    const q = c.req.valid('query');
    const { id } = c.req.valid('param');
    const filter = { state: q.state, phase: q.phase, errorCode: q.errorCode };
    return answer(c, await service.campaignMembers(by(c), q.format, id, filter, givenFilters(q)));
  });

  app.openapi(auditRoute, async (c) => {
    const q = c.req.valid('query');
    const filter = {
      action: q.action,
      actorId: q.actorId,
      target: q.target,
      since: q.since === undefined ? undefined : new Date(q.since),
      until: q.until === undefined ? undefined : new Date(q.until),
    };
    return answer(c, service.audit(by(c), q.format, filter, givenFilters(q)));
  });
}
