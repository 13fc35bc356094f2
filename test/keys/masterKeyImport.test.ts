// Master-key import under dual control and split knowledge, through the real server, MQTT, Redis,
// agents and database (both engines): two admins, one component each; the key (their XOR) becomes
// the vault's master key by the resumable re-encryption of every stored key; keys installed before
// still open and verify by KCV, on the server and on the terminals; the requester cannot approve;
// rejected and expired requests lose their sealed component; the vault works after a restart with
// the imported key (from DATA_DIR/master.key, then supplied as KEY_VAULT_MASTER_KEY); and no
// component or key, in any encoding, is in an API response or a log line.
import { createDecipheriv, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { eq, isNotNull } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSecureStore } from '../../agent/keys/secureStore.ts';
import type { AuditRow } from '../../schemas/db.ts';
import { keyCheckValue } from '../../schemas/keyCrypto/cmac.ts';
import type { CampaignRow } from '../../schemas/tables/campaigns.ts';
import { keyApprovals, keys, type KeyApprovalRow } from '../../schemas/tables/keys.ts';
import type { FleetHandle } from '../../scripts/simulate/fleet.ts';
import type { ErrorBody } from '../../server/http/errorHandler.ts';
import { combineComponents } from '../../server/keys/keyComponents.ts';
import type { KeyRouteDeps } from '../../server/keys/keyRoutes.ts';
import type { VaultInfo } from '../../server/keys/keyVault.ts';
import { databaseKinds } from '../helpers/databases.ts';
import { eventually } from '../helpers/eventually.ts';
import { startTestFleet } from '../helpers/fleet.ts';
import { moduleInternals } from '../helpers/moduleInternals.ts';
import { startTestServer, type TestServer } from '../helpers/testServer.ts';
import { findKeyMaterial } from './keyMaterial.ts';

// Response bodies, as far as these tests read them (JSON: dates are strings).
/** A key rotation (a campaign): POST/GET /v1/key-rotations[/{id}]. */
type RotationView = Pick<CampaignRow, 'id' | 'state'>;
/** GET /v1/key-vault. */
type VaultView = VaultInfo & ReturnType<KeyRouteDeps['vaultState']>;
/** A dual-control request: /v1/key-vault/requests[/{id}[/approve|/reject]]; a master-key import expires. */
type ApprovalView = Pick<KeyApprovalRow, 'id' | 'action' | 'state' | 'params' | 'progress'> & { expiresAt: string };
/** GET /v1/key-vault/requests. */
interface ApprovalPage {
  items: ApprovalView[];
}
/** GET /v1/audit. */
interface AuditPage {
  items: Array<Pick<AuditRow, 'action' | 'actorName' | 'target' | 'data'>>;
}
/** The parts of GET /openapi.json read here. */
interface OpenApiDoc {
  paths: {
    '/v1/key-vault/requests': { post: { requestBody: unknown } };
    '/v1/key-vault/requests/{id}/approve': { post: { requestBody: unknown } };
  };
}

/** Opens a vault-sealed key with a known master key, from the layout in docs/keys.md. */
function openSealed(master: Buffer, k: { id: string; deviceId: string; usage: string; version: number; sealed: string }): Buffer {
  const b = Buffer.from(k.sealed, 'base64');
  const d = createDecipheriv('aes-256-gcm', master, b.subarray(4, 16));
  d.setAAD(Buffer.from(`posfleet-vault/v1;kid=${k.id};dev=${k.deviceId};usage=${k.usage};ver=${k.version}`, 'utf8'));
  d.setAuthTag(b.subarray(48));
  return Buffer.concat([d.update(b.subarray(16, 48)), d.final()]);
}

for (const kind of databaseKinds()) {
  describe(`master-key import [${kind}]`, () => {
    let t: TestServer;
    let fleet: FleetHandle;
    let stateDir: string;
    let admin2: string;
    let operator: string;
    // Every secret the ceremony handled, for the final grep.
    const secrets: Buffer[] = [];
    const c1 = randomBytes(32);
    const c2 = randomBytes(32);
    const imported = combineComponents(c1, c2);
    secrets.push(c1, c2, imported);

    beforeAll(async () => {
      t = await startTestServer({ database: kind, capture: true });
      ({ fleet, stateDir } = await startTestFleet(t, { devices: 2, prefix: `KI${kind}` }));
      admin2 = (await t.api<{ token: string }>('POST', '/v1/users', { name: 'second custodian', role: 'admin' })).body.token;
      operator = (await t.api<{ token: string }>('POST', '/v1/users', { name: 'an operator', role: 'operator' })).body.token;
      await rotate(['TPK', 'TAK'], fleet.agents.map((a) => a.deviceId!));
    }, 180_000);
    afterAll(async () => {
      await fleet?.stop();
      await t?.stop();
      rmSync(stateDir, { recursive: true, force: true });
    });

    const db = () => t.server.parts.db;
    const store = (i: number) => openSecureStore(join(stateDir, fleet.agents[i]!.serial));
    const masterFile = () => Buffer.from(readFileSync(join(t.dataDir, 'master.key'), 'utf8').trim(), 'hex');
    const hex = (b: Buffer) => b.toString('hex');

    async function rotate(usages: string[], deviceIds: string[]) {
      const rot = await t.api<RotationView>('POST', '/v1/key-rotations', { name: `rotate ${usages.join('+')}`, usages, target: { deviceIds }, phases: [{ name: 'all', percent: 100 }], successThreshold: 100, errorThreshold: 0 });
      expect(rot.status, JSON.stringify(rot.body)).toBe(201);
      await t.api('POST', `/v1/key-rotations/${rot.body.id}/start`);
      await eventually(async () => (await t.api<RotationView>('GET', `/v1/key-rotations/${rot.body.id}`)).body.state === 'succeeded', { timeoutMs: 30_000 });
      await moduleInternals(t, 'keys').settling();
    }

    /** Every sealed key opens under `master`, and its KCV is the one recorded; installed ones are the terminal's. */
    async function everyKeyOpensUnder(master: Buffer) {
      const rows = await db().select().from(keys).where(isNotNull(keys.sealed));
      expect(rows.length).toBeGreaterThanOrEqual(6);
      for (const r of rows) {
        const clear = openSealed(master, { ...r, sealed: r.sealed! });
        expect(keyCheckValue(clear)).toBe(r.kcv);
        if (r.state !== 'installed') continue;
        const i = fleet.agents.findIndex((a) => a.deviceId === r.deviceId);
        expect(store(i).keyOf(r.slot)?.equals(clear)).toBe(true);
        expect(store(i).inventory().find((e) => e.slot === r.slot)?.kcv).toBe(r.kcv);
      }
      return rows;
    }

    it('refuses badly formed and all-zero components, and non-admins', async () => {
      const bad = [hex(c1).slice(1), `${hex(c1).slice(0, 62)}zz`, `${hex(c1).slice(0, 32)} ${hex(c1).slice(32)}`, c1.toString('base64')];
      for (const component of bad) {
        const r = await t.api<ErrorBody>('POST', '/v1/key-vault/requests', { action: 'master_key.import', reason: 'ceremony', component });
        expect(r.status).toBe(400);
        expect(r.body.error.code).toBe('validation_failed');
      }
      const zero = await t.api<ErrorBody>('POST', '/v1/key-vault/requests', { action: 'master_key.import', reason: 'ceremony', component: '0'.repeat(64) });
      expect(zero.status).toBe(409);
      expect(zero.body.error.code).toBe('component_zero');
      expect((await t.api('POST', '/v1/key-vault/requests', { action: 'master_key.import', reason: 'ceremony', component: hex(c1) }, { token: operator })).status).toBe(403);
      expect((await db().select().from(keyApprovals)).length).toBe(0);
      // The OpenAPI document describes the component on the request and on the approval.
      const doc = await t.api<OpenApiDoc>('GET', '/openapi.json', undefined, { token: null });
      expect(doc.status).toBe(200);
      expect(JSON.stringify(doc.body.paths['/v1/key-vault/requests/{id}/approve'].post.requestBody)).toContain('component');
      expect(JSON.stringify(doc.body.paths['/v1/key-vault/requests'].post.requestBody)).toContain('master_key.import');
    });

    it('imports c1 XOR c2 with two admins; every stored key is re-encrypted and still verifies', async () => {
      const before = await everyKeyOpensUnder(masterFile());
      const vaultBefore = (await t.api<VaultView>('GET', '/v1/key-vault')).body;
      secrets.push(masterFile());

      const req = await t.api<ApprovalView>('POST', '/v1/key-vault/requests', { action: 'master_key.import', reason: 'key ceremony 2024-06', component: hex(c1).toUpperCase() });
      expect(req.status, JSON.stringify(req.body)).toBe(201);
      expect(req.body).toMatchObject({ action: 'master_key.import', state: 'pending', params: { component1Kcv: keyCheckValue(c1) } });
      expect(Object.keys(req.body.params)).toEqual(['component1Kcv']);
      expect(new Date(req.body.expiresAt).getTime()).toBeGreaterThan(Date.now());
      // Component 1 waits only sealed under the master key, bound to this request.
      const [row] = await db().select().from(keyApprovals).where(eq(keyApprovals.id, req.body.id));
      // Sealed: the master key's 4-byte generation, a 12-byte nonce, the 32-byte component, a 16-byte tag.
      expect(Buffer.from(row!.sealed ?? '', 'base64')).toHaveLength(64);
      expect(Buffer.from(row!.sealed!, 'base64').includes(c1)).toBe(false);
      secrets.push(Buffer.from(row!.sealed!, 'base64'));

      // The requester cannot approve, with or without a component; nor can an operator.
      const self = await t.api<ErrorBody>('POST', `/v1/key-vault/requests/${req.body.id}/approve`, { component: hex(c2) });
      expect(self.status).toBe(403);
      expect(self.body.error.code).toBe('dual_control');
      expect((await t.api('POST', `/v1/key-vault/requests/${req.body.id}/approve`, { component: hex(c2) }, { token: operator })).status).toBe(403);
      // The second custodian: component 2 is required, well formed, not zero, not equal to
      // component 1, and the result must not be the current master key. Each refusal leaves the request pending.
      const refusals: Array<[unknown, number, string]> = [
        [undefined, 400, 'component_required'],
        [{ component: hex(c2).slice(2) }, 400, 'validation_failed'],
        [{ component: '0'.repeat(64) }, 409, 'component_zero'],
        [{ component: hex(c1) }, 409, 'key_zero'],
        [{ component: hex(combineComponents(c1, masterFile())) }, 409, 'key_is_current'],
      ];
      secrets.push(combineComponents(c1, masterFile()));
      for (const [body, status, code] of refusals) {
        const r = await t.api<ErrorBody>('POST', `/v1/key-vault/requests/${req.body.id}/approve`, body, { token: admin2 });
        expect([r.status, r.body.error?.code]).toEqual([status, code]);
      }
      expect((await t.api<ApprovalView>('GET', `/v1/key-vault/requests/${req.body.id}`)).body.state).toBe('pending');

      const ok = await t.api<ApprovalView>('POST', `/v1/key-vault/requests/${req.body.id}/approve`, { component: hex(c2) }, { token: admin2 });
      expect(ok.status, JSON.stringify(ok.body)).toBe(200);
      expect(ok.body.params).toEqual({ component1Kcv: keyCheckValue(c1), component2Kcv: keyCheckValue(c2), keyKcv: keyCheckValue(imported) });
      // Decided: the sealed component is gone at once.
      expect((await db().select().from(keyApprovals).where(eq(keyApprovals.id, req.body.id)))[0]!.sealed).toBeNull();
      expect((await t.api('POST', `/v1/key-vault/requests/${req.body.id}/approve`, { component: hex(c2) }, { token: admin2 })).status).toBe(409);
      const done = await eventually(async () => {
        const r = await t.api<ApprovalView>('GET', `/v1/key-vault/requests/${req.body.id}`);
        return r.body.state === 'done' ? r.body : undefined;
      }, { timeoutMs: 20_000 });
      expect(done.progress.resealed).toBe(before.length);

      const vault = (await t.api<VaultView>('GET', '/v1/key-vault')).body;
      expect(vault).toMatchObject({ masterGen: vaultBefore.masterGen + 1, masterKcv: keyCheckValue(imported), replacing: false, masterKeyFrom: 'file' });
      expect(masterFile().equals(imported)).toBe(true);
      expect(existsSync(join(t.dataDir, 'master.key.next'))).toBe(false);
      const after = await everyKeyOpensUnder(imported);
      expect(after.every((k) => k.masterGen === vault.masterGen)).toBe(true);
      expect(after.map((k) => `${k.id}:${k.kcv}`).sort()).toEqual(before.map((k) => `${k.id}:${k.kcv}`).sort());

      const audit = (await t.api<AuditPage>('GET', '/v1/audit?limit=200')).body.items as Array<{ action: string; actorName: string | null; target: string; data: Record<string, unknown> }>;
      const of = (action: string) => audit.filter((a) => a.target === req.body.id && a.action === action);
      expect(of('master_key.import.request')[0]?.actorName).toBe('admin');
      expect(of('master_key.import.approve')[0]).toMatchObject({ actorName: 'second custodian', data: { component2Kcv: keyCheckValue(c2), keyKcv: keyCheckValue(imported) } });
      // (The operator is stopped by the role check before the request is looked at; a malformed component by validation.)
      expect(of('master_key.import.refused').map((a) => a.data.code).sort()).toEqual(['already_decided', 'component_required', 'component_zero', 'dual_control', 'key_is_current', 'key_zero']);
      expect(of('master_key.import.done')).toHaveLength(1);
    });

    it('wipes the sealed component of a rejected or expired request', async () => {
      const other = randomBytes(32);
      secrets.push(other);
      const rejected = await t.api<ApprovalView>('POST', '/v1/key-vault/requests', { action: 'master_key.import', reason: 'wrong ceremony', component: hex(other) });
      secrets.push(Buffer.from((await db().select().from(keyApprovals).where(eq(keyApprovals.id, rejected.body.id)))[0]!.sealed!, 'base64'));
      expect((await t.api<ApprovalView>('POST', `/v1/key-vault/requests/${rejected.body.id}/reject`, undefined, { token: admin2 })).body.state).toBe('rejected');
      expect((await db().select().from(keyApprovals).where(eq(keyApprovals.id, rejected.body.id)))[0]!.sealed).toBeNull();
      expect((await t.api<ErrorBody>('POST', `/v1/key-vault/requests/${rejected.body.id}/approve`, { component: hex(c2) }, { token: admin2 })).body.error.code).toBe('already_decided');

      const stale = await t.api<ApprovalView>('POST', '/v1/key-vault/requests', { action: 'master_key.import', reason: 'left waiting', component: hex(other) });
      await db().update(keyApprovals).set({ expiresAt: new Date(Date.now() - 1000) }).where(eq(keyApprovals.id, stale.body.id));
      const listed = (await t.api<ApprovalPage>('GET', '/v1/key-vault/requests')).body.items as Array<{ id: string; state: string }>;
      expect(listed.find((r) => r.id === stale.body.id)?.state).toBe('expired');
      expect((await db().select().from(keyApprovals).where(eq(keyApprovals.id, stale.body.id)))[0]!.sealed).toBeNull();
      const late = await t.api<ErrorBody>('POST', `/v1/key-vault/requests/${stale.body.id}/approve`, { component: hex(c2) }, { token: admin2 });
      expect([late.status, late.body.error.code]).toEqual([409, 'expired']);
      // The master key is still the imported one.
      expect((await t.api<VaultView>('GET', '/v1/key-vault')).body.masterKcv).toBe(keyCheckValue(imported));
    });

    it('keeps working after a restart: from DATA_DIR/master.key, then with the key supplied as KEY_VAULT_MASTER_KEY', async () => {
      await t.restart();
      await eventually(async () => fleet.agents.every((a) => a.status === 'connected'), { timeoutMs: 30_000 });
      const tpkBefore = store(0).slot('tpk')!;
      // A TMK rotation re-sends the working keys: the vault must open every one of them.
      await rotate(['TMK'], [fleet.agents[0]!.deviceId!]);
      expect(store(0).slot('tpk')!.keyId).toBe(tpkBefore.keyId);
      expect(store(0).slot('tmk')!.version).toBe(2);
      await everyKeyOpensUnder(imported);

      // The operator moves the imported key to the environment (e.g. a secrets manager).
      await t.restart({ KEY_VAULT_MASTER_KEY: hex(imported) });
      await eventually(async () => fleet.agents.every((a) => a.status === 'connected'), { timeoutMs: 30_000 });
      expect((await t.api<VaultView>('GET', '/v1/key-vault')).body).toMatchObject({ masterKeyFrom: 'env', masterKcv: keyCheckValue(imported) });
      await rotate(['TMK', 'TAK'], [fleet.agents[1]!.deviceId!]);
      await everyKeyOpensUnder(imported);
      // With KEY_VAULT_MASTER_KEY the server cannot take an imported key: it says what to do.
      const refused = await t.api<ErrorBody>('POST', '/v1/key-vault/requests', { action: 'master_key.import', reason: 'again', component: hex(randomBytes(32)) });
      expect(refused.status).toBe(409);
      expect(refused.body.error.code).toBe('master_key_external');
      expect(refused.body.error.message).toMatch(/DATA_DIR\/master\.key.*KEY_VAULT_MASTER_KEY|KEY_VAULT_MASTER_KEY.*DATA_DIR\/master\.key/);
    });

    it('puts no component or key, in any encoding, in an API response or a log line', async () => {
      await t.api('GET', '/v1/key-vault/requests');
      await t.api('GET', '/v1/audit?limit=500');
      await t.api('GET', '/v1/key-vault');
      // A careless line with a request body, and one with a component in its text: the redactor catches both.
      t.server.parts.log.debug({ body: { action: 'master_key.import', component: hex(c1) }, component: hex(c2) }, 'careless debug line');
      t.server.parts.log.warn(`careless text line ${hex(c1)} ${hex(imported).toUpperCase()}`);
      const haystack = [...t.logLines, ...t.responses].join('\n');
      expect(t.logLines.length).toBeGreaterThan(10);
      expect(t.responses.length).toBeGreaterThan(20);
      expect(findKeyMaterial(haystack, secrets)).toEqual([]);
    });
  });
}
