// HTTP for key management. Nothing here ever answers with key material, wrapped or clear:
// inventories carry ids, versions and KCVs only. Rotations are campaign routes (keysModule.ts).
import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { keyUsages, rotatableUsages } from '../../schemas/keyCrypto/header.ts';
import { dualControlActions } from '../../schemas/tables/keys.ts';
import type { AuditLog } from '../audit/auditLog.ts';
import { clientIp } from '../auth/middleware.ts';
import type { Actor } from '../core/actor.ts';
import { admins, operators, readers } from '../auth/roleSets.ts';
import type { InCommandTx } from '../commands/commandService.ts';
import type { DeviceService } from '../devices/deviceService.ts';
import { conflict } from '../errors.ts';
import { errorResponses, jsonBody, jsonResponse, pathParams } from '../http/schemas.ts';
import { routesTagged } from '../http/taggedRoutes.ts';
import type { AppEnv, AppRouter } from '../http/types.ts';
import { bdkComponentHex, bdkGenerateRequest, bdkImportRequest, type BdkCeremony } from './dukpt/bdkCeremony.ts';
import type { DualControl } from './dualControl.ts';
import { COMPONENT_HEX } from './keyComponents.ts';
import type { MasterKeyImport } from './masterKeyImport.ts';
import type { KeyService } from './keyService.ts';
import type { KeyVault } from './keyVault.ts';
import { listPolicies, setPolicy } from './rotationPolicy.ts';
import type { Db } from '../db/database.ts';
import { keyApproval, keyInventory } from './keySchemas.ts';

// The answer schemas live in keySchemas.ts (the console imports them from there); kept here too for the CLI and tests.
export { keyApproval, keyInventory };

const deviceParams = pathParams('id');
const reqParams = pathParams('id');
const anyObject = z.looseObject({});
const route = routesTagged('keys');
const keyReportSent = z
  .object({ commandId: z.string().openapi({ description: 'the keys.install {items: []} command; its result.inventory is the terminal\'s own list' }) })
  .openapi('KeyReportSent');

export const bulkRevokeParams = z
  .object({
    deviceIds: z.array(z.string().min(1).max(64)).min(1).max(100_000),
    /** Only these key types (a TMK takes every key under it along); all when absent. */
    usages: z.array(z.enum(keyUsages)).min(1).optional(),
  })
  .strict();

/** A key component for a master-key import: 32 bytes as 64 hex digits. Never stored or returned. */
const keyComponent = z.string().regex(COMPONENT_HEX, 'a key component is 64 hex digits (32 bytes)').openapi({ description: 'key component: 64 hex digits; only its KCV is ever returned', format: 'password' });

export interface KeyRouteDeps {
  db: Db;
  keys: KeyService;
  vault: KeyVault;
  dual: DualControl;
  masterImport: MasterKeyImport;
  bdkCeremony: BdkCeremony;
  devices: DeviceService;
  audit: AuditLog;
  vaultState(): { replacing: boolean; masterKeyFrom: 'env' | 'file' | 'hsm'; masterKcv: string };
  /** `inTx` (the audit entry) commits with the command. */
  report(deviceId: string, by: string, inTx?: InCommandTx<{ commandId: string }>): Promise<{ commandId: string }>;
  /** The revocation and its `keys.revoke` entry by `actor` commit together; the zeroize command follows. */
  revokeOnDevice(deviceId: string, keyIds: string[] | undefined, reason: string, actor: Actor): Promise<{ revoked: number; commandId: string | null }>;
  /** With its `device.mark_compromised` entry by `actor`, in one transaction. */
  markCompromised(deviceId: string, reason: string, actor: Actor): Promise<void>;
  /** With its `device.clear_compromised` entry by `actor`, in one transaction. */
  clearCompromised(deviceId: string, actor: Actor): Promise<boolean>;
}

const actorOf = (c: Context<AppEnv>): Actor => ({ principal: c.get('principal'), ip: clientIp(c) });

export function registerKeyRoutes(app: AppRouter, d: KeyRouteDeps) {
  app.openapi(
    route.get('/v1/key-vault', readers, 'Which key vault runs (the software vault says it is a simulation, not an HSM)', {
      responses: { 200: jsonResponse(anyObject, 'vault'), ...errorResponses(401, 403) },
    }),
    (c) => c.json({ ...d.vault.info(), ...d.vaultState() }, 200),
  );

  app.openapi(
    route.get('/v1/devices/{id}/keys', readers, "A terminal's key inventory per slot: key id, version, KCV, installed at — never the key", {
      request: { params: deviceParams, query: z.object({ history: z.enum(['true', 'false']).optional() }) },
      responses: { 200: jsonResponse(keyInventory, 'inventory'), ...errorResponses(401, 403, 404) },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      await d.devices.byId(id);
      const history = c.req.valid('query').history === 'true';
      return c.json({ deviceId: id, slots: await d.keys.inventory(id), ...(history ? { history: await d.keys.history(id) } : {}) }, 200);
    },
  );

  app.openapi(
    route.post('/v1/devices/{id}/keys/report', operators, 'Ask the terminal for its own key inventory (ids, versions, KCVs), answered in the command result', {
      request: { params: deviceParams },
      responses: { 202: jsonResponse(keyReportSent, 'sent'), ...errorResponses(401, 403, 404, 422) },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      await d.devices.enrolledById(id);
      const principal = c.get('principal');
      const out = await d.report(id, principal.userId, (tx, sent) =>
        d.audit.append({ actor: principal, action: 'keys.report', target: id, ip: clientIp(c), data: sent }, tx),
      );
      return c.json(out, 202);
    },
  );

  app.openapi(
    route.post('/v1/devices/{id}/keys/revoke', admins, "Revoke one terminal's keys (all, or the ones listed; a TMK takes its working keys along) and zeroize them on the terminal", {
      request: { params: deviceParams, body: jsonBody(z.object({ keyIds: z.array(z.string().min(1).max(64)).min(1).max(64).optional(), reason: z.string().min(1).max(200) }).strict()) },
      responses: { 200: jsonResponse(anyObject, 'revoked'), ...errorResponses(400, 401, 403, 404) },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const body = c.req.valid('json');
      await d.devices.byId(id);
      const out = await d.revokeOnDevice(id, body.keyIds, body.reason, actorOf(c));
      return c.json(out, 200);
    },
  );

  app.openapi(
    route.post('/v1/devices/{id}/compromised', admins, 'Mark a terminal compromised: keys revoked, terminal locked and zeroized', {
      request: { params: deviceParams, body: jsonBody(z.object({ reason: z.string().min(1).max(200) }).strict()) },
      responses: { 200: jsonResponse(anyObject, 'marked'), ...errorResponses(400, 401, 403, 404) },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      await d.devices.byId(id);
      const { reason } = c.req.valid('json');
      await d.markCompromised(id, reason, actorOf(c));
      return c.json({ deviceId: id, compromised: true }, 200);
    },
  );

  app.openapi(
    route.post('/v1/devices/{id}/compromised/clear', admins, 'Clear the compromised mark (after inspection); new keys can then be loaded', {
      request: { params: deviceParams },
      responses: { 200: jsonResponse(anyObject, 'cleared'), ...errorResponses(401, 403, 404) },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      await d.devices.byId(id);
      const cleared = await d.clearCompromised(id, actorOf(c));
      return c.json({ deviceId: id, compromised: false, cleared }, 200);
    },
  );

  app.openapi(
    route.get('/v1/key-policies', readers, 'Rotation policies: max key age in days per key type', {
      responses: { 200: jsonResponse(anyObject, 'policies'), ...errorResponses(401, 403) },
    }),
    async (c) => c.json({ items: await listPolicies(d.db) }, 200),
  );

  app.openapi(
    route.put('/v1/key-policies/{usage}', operators, 'Set (or with null, remove) the max age of a key type; due keys are rotated by a campaign', {
      request: { params: z.object({ usage: z.enum(rotatableUsages).openapi({ param: { name: 'usage', in: 'path' } }) }), body: jsonBody(z.object({ maxAgeDays: z.number().int().min(1).max(3650).nullable() }).strict()) },
      responses: { 200: jsonResponse(anyObject, 'policy'), ...errorResponses(400, 401, 403) },
    }),
    async (c) => {
      const { usage } = c.req.valid('param');
      const { maxAgeDays } = c.req.valid('json');
      const p = c.get('principal');
      const row = await d.db.transaction(async (tx) => {
        const r = await setPolicy(tx, usage, maxAgeDays, p.userId);
        await d.audit.append({ actor: p, action: 'key_policy.set', target: usage, ip: clientIp(c), data: { maxAgeDays } }, tx);
        return r;
      });
      return c.json({ usage, maxAgeDays: row ? row.maxAgeDays : null }, 200);
    },
  );

  const requestBody = z.discriminatedUnion('action', [
    z.object({ action: z.literal('master_key.replace'), reason: z.string().min(1).max(500) }).strict(),
    z.object({ action: z.literal('master_key.import'), reason: z.string().min(1).max(500), component: keyComponent }).strict(),
    z.object({ action: z.literal('keys.bulk_revoke'), reason: z.string().min(1).max(500), params: bulkRevokeParams }).strict(),
    bdkImportRequest.extend({ component: bdkImportRequest.shape.component.openapi({ description: 'BDK component 1: 32 hex digits (AES-128, TDES) or 64 (AES-256); only its KCV is returned', format: 'password' }) }),
    bdkGenerateRequest,
  ]);
  /** Component 2 of a master-key import (64 hex digits) or of a BDK import (32 or 64). */
  const approvalComponent = z
    .string()
    .regex(new RegExp(`${COMPONENT_HEX.source}|${bdkComponentHex.source}`), 'a key component is 32 or 64 hex digits')
    .openapi({ description: 'key component 2: 64 hex digits (master key, AES-256 BDK) or 32 (AES-128 or TDES BDK); only its KCV is ever returned', format: 'password' });
  app.openapi(
    route.post('/v1/key-vault/requests', admins, `Dual control: request ${dualControlActions.join(' or ')}; another admin approves`, {
      request: { body: jsonBody(requestBody) },
      responses: { 201: jsonResponse(anyObject, 'requested'), ...errorResponses(400, 401, 403, 409) },
    }),
    async (c) => {
      const b = c.req.valid('json');
      if (b.action === 'master_key.replace' && d.vaultState().masterKeyFrom === 'env') {
        throw conflict('master_key_external', 'the master key comes from KEY_VAULT_MASTER_KEY; replacement by the server needs DATA_DIR/master.key (docs/keys.md)');
      }
      if (b.action === 'master_key.import') {
        // Component 1: only its KCV (params) and its sealed form (the row) are kept.
        const part = d.masterImport.request(b.component);
        try {
          return c.json(await d.dual.request(c.get('principal'), b.action, part.params, b.reason, clientIp(c), part.secret), 201);
        } finally {
          part.dispose();
        }
      }
      if (b.action === 'bdk.import' || b.action === 'bdk.generate') {
        const part = await d.bdkCeremony.request(b);
        try {
          return c.json(await d.dual.request(c.get('principal'), b.action, part.params, b.reason, clientIp(c), part.secret), 201);
        } finally {
          part.dispose();
        }
      }
      const params = b.action === 'keys.bulk_revoke' ? b.params : {};
      return c.json(await d.dual.request(c.get('principal'), b.action, params, b.reason, clientIp(c)), 201);
    },
  );
  app.openapi(
    route.get('/v1/key-vault/requests', readers, 'Dual-control requests, newest first', {
      responses: { 200: jsonResponse(z.object({ items: z.array(keyApproval) }), 'requests'), ...errorResponses(401, 403) },
    }),
    async (c) => c.json({ items: await d.dual.list(200) }, 200),
  );
  app.openapi(
    route.get('/v1/key-vault/requests/{id}', readers, 'One dual-control request and its progress', {
      request: { params: reqParams },
      responses: { 200: jsonResponse(keyApproval, 'request'), ...errorResponses(401, 403, 404) },
    }),
    async (c) => c.json(await d.dual.get(c.req.valid('param').id), 200),
  );
  app.openapi(
    route.post('/v1/key-vault/requests/{id}/approve', admins, 'Approve a dual-control request (an admin other than the requester); a master-key or BDK import takes key component 2', {
      request: { params: reqParams, body: { ...jsonBody(z.object({ component: approvalComponent.optional() }).strict()), required: false } },
      responses: { 200: jsonResponse(anyObject, 'decided'), ...errorResponses(400, 401, 403, 404, 409) },
    }),
    async (c) => {
      // The body is optional: absent (no content-type) it is not validated and reads as undefined.
      const body: { component?: string } | undefined = c.req.valid('json');
      return c.json(await d.dual.decide(c.req.valid('param').id, c.get('principal'), true, clientIp(c), body), 200);
    },
  );
  app.openapi(
    route.post('/v1/key-vault/requests/{id}/reject', admins, 'Reject a dual-control request (an admin other than the requester); its sealed input is wiped', {
      request: { params: reqParams },
      responses: { 200: jsonResponse(anyObject, 'decided'), ...errorResponses(401, 403, 404, 409) },
    }),
    async (c) => c.json(await d.dual.decide(c.req.valid('param').id, c.get('principal'), false, clientIp(c)), 200),
  );
}
