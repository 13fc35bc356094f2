// HTTP for campaigns of one kind under one path: /v1/rollouts (firmware), /v1/key-rotations
// (keys)... Create (draft), start, pause, resume, cancel (idempotent), status, devices.
import { z } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import type { AuditLog } from '../audit/auditLog.ts';
import { clientIp, requireRole } from '../auth/middleware.ts';
import { readers } from '../auth/roleSets.ts';
import { errorResponses, jsonBody, jsonResponse, page, pageQuery, pathParams } from '../http/schemas.ts';
import { routesTagged } from '../http/taggedRoutes.ts';
import type { AppEnv, AppRouter } from '../http/types.ts';
import { campaignDeviceActions, campaignDeviceStates, campaignSpecShape } from '../../schemas/campaigns.ts';
import { campaignStates } from '../../schemas/tables/campaigns.ts';
import type { CampaignEngine } from './campaignEngine.ts';
import type { ControlActor } from './campaignRouting.ts';

const timestamp = z.string().openapi({ format: 'date-time' });
const stateCounts = z.record(z.string(), z.number().int()).openapi({ description: 'device state → count; states with no device left out' });

/** One phase of a campaign as `GET …/{id}` shows it (campaignSummary.ts). */
export const phaseView = z
  .object({
    index: z.number().int(),
    name: z.string(),
    percent: z.number(),
    started: z.boolean(),
    startedAt: timestamp.nullable(),
    devices: z.number().int().openapi({ description: 'members of the phase, whatever their state (a revert counts as its current state)' }),
    counts: stateCounts,
    total: z.number().int().openapi({ description: 'members minus skipped and cancelled: the base of both thresholds' }),
    succeeded: z.number().int(),
    errors: z.number().int().openapi({ description: 'failed + rolled_back + timed_out' }),
    passed: z.boolean().openapi({ description: 'started and succeeded/total ≥ successThreshold' }),
    overErrorThreshold: z.boolean(),
  })
  .openapi('CampaignPhase');

/** One member of a campaign (`GET …/{id}/devices`). */
export const memberView = z
  .object({
    deviceId: z.string(),
    serial: z.string().nullable().openapi({ description: 'the terminal\'s serial; null once the device was deleted' }),
    phase: z.number().int(),
    state: z.enum(campaignDeviceStates),
    action: z.enum(campaignDeviceActions).openapi({
      description: 'apply: the campaign\'s change; revert: the device is being taken back to fromVersion by a rollback',
    }),
    attempt: z.number().int().openapi({ description: 'commands sent so far (retries and re-sends after a deferral included)' }),
    commandId: z.string().nullable().openapi({ description: 'the current attempt\'s command' }),
    progress: z.number().int().nullable(),
    fromVersion: z.string().nullable().openapi({ description: 'rollouts: the version the device ran when the campaign first reached it' }),
    reportedVersion: z.string().nullable().openapi({ description: 'rollouts: the version the device last reported' }),
    note: z.string().nullable().openapi({ description: 'why it is in this state, e.g. `reverted by rollback`, `deferred: busy`' }),
    error: z.object({ code: z.string(), message: z.string() }).nullable(),
    nextAttemptAt: timestamp.nullable().openapi({ description: 'when a retry or re-send is due' }),
    sentAt: timestamp.nullable(),
    lastHeardAt: timestamp.nullable(),
    finishedAt: timestamp.nullable(),
  })
  .openapi('CampaignDevice');

/** `GET …/{id}/failures`: the error states' members by `error.code`. */
export const failuresView = z
  .object({
    total: z.number().int().openapi({ description: 'members failed, rolled back or timed out' }),
    byCode: z.array(
      z.object({
        code: z.string().openapi({ description: '`error.code` of the members (`unknown` for a member without one)' }),
        count: z.number().int(),
        message: z.string().openapi({ description: 'one of these members\' error messages, as an example' }),
      }),
    ),
  })
  .openapi('CampaignFailures');

// The answer of create, get and every control: the request's fields (spec and the kind's
// params) as stored, plus the state and per-phase counts.
export function campaignView(noun: string, paramsShape: Record<string, z.ZodType>) {
  return z
    .looseObject({
      id: z.string(),
      kind: z.string(),
      name: z.string(),
      state: z.enum(campaignStates).openapi({ description: 'draft → running ⇄ paused → succeeded | failed | cancelled' }),
      pausedReason: z.string().nullable().openapi({ description: '`error_threshold` when the campaign stopped itself' }),
      tripped: z
        .record(z.string(), z.unknown())
        .nullable()
        .openapi({ description: 'when the error threshold tripped: {reason, phase, the phase\'s counts, errorThreshold, at}' }),
      rollingBack: z.boolean(),
      seed: z.string().openapi({ description: 'seed of the random phase draw' }),
      summary: z.string().nullable().openapi({ description: 'one line on what it sends, while it runs' }),
      ...campaignSpecShape,
      ...paramsShape,
      phases: z.array(phaseView),
      counts: stateCounts,
      reverting: z.number().int().openapi({ description: 'members whose revert is not final yet' }),
      kindLane: z.string(),
      createdBy: z.string().nullable(),
      createdAt: timestamp,
      startedAt: timestamp.nullable(),
      finishedAt: timestamp.nullable(),
    })
    .openapi(`${noun}Campaign`);
}

export interface CampaignRouteOptions {
  engine: CampaignEngine;
  audit: AuditLog;
  idempotency: MiddlewareHandler<AppEnv>;
  /** Kind name in the engine. */
  kind: string;
  /** e.g. `/v1/rollouts`. */
  basePath: string;
  /** Audit verb prefix and OpenAPI tag, e.g. `rollout`. */
  noun: string;
  /** The kind's own fields of the create body (e.g. firmwareId, mode), merged flat into it. */
  paramsShape: Record<string, z.ZodType>;
  /** Roles that may create and control campaigns. */
  roles?: ('admin' | 'operator')[];
  /** A create body for /openapi.json, valid as it stands (ids aside). */
  example?: Record<string, unknown>;
}

export function registerCampaignRoutes(app: AppRouter, o: CampaignRouteOptions) {
  const controllers = requireRole(...(o.roles ?? ['admin', 'operator']));
  const route = routesTagged(`${o.noun}s`);
  const view = campaignView(o.noun, o.paramsShape);
  const idParams = pathParams('id');
  const body = z.object({ name: z.string().min(1).max(200), ...campaignSpecShape, ...o.paramsShape }).strict();
  const paramKeys = Object.keys(o.paramsShape);

  app.use(o.basePath, async (c, next) => (c.req.method === 'POST' ? o.idempotency(c, next) : next()));

  app.openapi(
    route.post(o.basePath, controllers, `Create a ${o.noun} (draft; start it with …/start)`, {
      request: { body: jsonBody(o.example ? body.openapi({ example: o.example }) : body) },
      responses: { 201: jsonResponse(view, 'created'), ...errorResponses(400, 401, 403, 404, 409, 422) },
    }),
    async (c) => {
      const { name, ...fields } = c.req.valid('json');
      const params: Record<string, unknown> = {};
      const spec: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(fields)) (paramKeys.includes(k) ? params : spec)[k] = v;
      const principal = c.get('principal');
      const created = await o.engine.create(o.kind, { name, spec, params }, principal, (tx, row) =>
        o.audit.append({ actor: principal, action: `${o.noun}.create`, target: row.id, ip: clientIp(c), data: { name: row.name, ...params } }, tx),
      );
      return c.json(created, 201);
    },
  );

  app.openapi(
    route.get(o.basePath, readers, `${o.noun}s, newest first`, {
      request: { query: z.object(pageQuery) },
      responses: { 200: jsonResponse(page(view), 'list'), ...errorResponses(401, 403) },
    }),
    async (c) => {
      const q = c.req.valid('query');
      return c.json(await o.engine.list(o.kind, c.get('principal'), q.limit, q.cursor), 200);
    },
  );

  app.openapi(
    route.get(`${o.basePath}/{id}`, readers, `A ${o.noun} with per-phase counts by device state`, {
      request: { params: idParams },
      responses: { 200: jsonResponse(view, 'status'), ...errorResponses(401, 403, 404) },
    }),
    async (c) => c.json(await o.engine.get(o.kind, c.req.valid('param').id), 200),
  );

  app.openapi(
    route.get(`${o.basePath}/{id}/devices`, readers, `Devices of a ${o.noun} and their states (paged)`, {
      request: {
        params: idParams,
        query: z.object({
          ...pageQuery,
          state: z.enum(campaignDeviceStates).optional(),
          phase: z.coerce.number().int().min(0).max(19).optional(),
          errorCode: z.string().min(1).max(64).optional().openapi({ description: 'only members whose last error has this `error.code`' }),
        }),
      },
      responses: {
        200: jsonResponse(page(memberView), 'devices'),
        ...errorResponses(401, 403, 404),
      },
    }),
    async (c) => {
      const q = c.req.valid('query');
      return c.json(await o.engine.devices(o.kind, c.req.valid('param').id, q), 200);
    },
  );

  app.openapi(
    route.get(`${o.basePath}/{id}/failures`, readers, `Why devices of a ${o.noun} failed: members in an error state counted by error.code`, {
      request: { params: idParams },
      responses: { 200: jsonResponse(failuresView, 'failures'), ...errorResponses(401, 403, 404) },
    }),
    async (c) => c.json(await o.engine.failures(o.kind, c.req.valid('param').id), 200),
  );

  // The engine writes the audit entry (from, to) with the change, on the instance that makes it,
  // and only when the state changes: a repeated control is answered without one.
  const controls = {
    start: (id: string, by: ControlActor) => o.engine.startCampaign(o.kind, id, by),
    pause: (id: string, by: ControlActor) => o.engine.pause(o.kind, id, by),
    resume: (id: string, by: ControlActor) => o.engine.resume(o.kind, id, by),
    cancel: (id: string, by: ControlActor) => o.engine.cancel(o.kind, id, by),
  } as const;
  for (const [verb, run] of Object.entries(controls)) {
    app.openapi(
      route.post(`${o.basePath}/{id}/${verb}`, controllers, `${verb[0]!.toUpperCase()}${verb.slice(1)} a ${o.noun} (idempotent)`, {
        request: { params: idParams },
        responses: { 200: jsonResponse(view, verb), ...errorResponses(401, 403, 404, 409, 422) },
      }),
      async (c) => {
        const id = c.req.valid('param').id;
        return c.json(await run(id, { actor: c.get('principal'), ip: clientIp(c), action: `${o.noun}.${verb}` }), 200);
      },
    );
  }
}
