// The server on a PKCS#11 vault (a fresh SoftHSM2 token) end to end: the master key is a token
// object and no master-key file is written, the import ceremony makes the combined components
// the next generation's token key and every stored key is resealed in the token, terminals keep
// getting keys that match their KCVs after a restart; a token without the recorded master key,
// and configurations that cannot open a token, are refused at start with a clear error.
import { randomBytes } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { eq, isNotNull } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSecureStore } from '../../agent/keys/secureStore.ts';
import { keyCheckValue } from '../../schemas/keyCrypto/cmac.ts';
import type { CampaignRow } from '../../schemas/tables/campaigns.ts';
import { keys, type KeyApprovalRow } from '../../schemas/tables/keys.ts';
import type { FleetHandle } from '../../scripts/simulate/fleet.ts';
import { ConfigError, loadConfig } from '../../server/config.ts';
import { combineComponents } from '../../server/keys/keyComponents.ts';
import type { KeyRouteDeps } from '../../server/keys/keyRoutes.ts';
import type { VaultInfo } from '../../server/keys/keyVault.ts';
import { eventually } from '../helpers/eventually.ts';
import { startTestFleet } from '../helpers/fleet.ts';
import { moduleInternals } from '../helpers/moduleInternals.ts';
import { createSoftToken, softhsmMissing, type SoftToken } from '../helpers/softhsm.ts';
import { startTestServer, type TestServer } from '../helpers/testServer.ts';

type RotationView = Pick<CampaignRow, 'id' | 'state'>;
type VaultView = VaultInfo & ReturnType<KeyRouteDeps['vaultState']>;
type ApprovalView = Pick<KeyApprovalRow, 'id' | 'state'> & { params: Record<string, string>; progress: Record<string, number> };

const missing = softhsmMissing();

describe.skipIf(missing)(`key vault on PKCS#11 (SoftHSM2)${missing ? ` — skipped: ${missing}` : ''}`, () => {
  let token: SoftToken;
  let t: TestServer;
  let fleet: FleetHandle;
  let stateDir: string;
  let admin2: string;
  const hex = (b: Buffer) => b.toString('hex');
  const store = (i: number) => openSecureStore(join(stateDir, fleet.agents[i]!.serial));

  async function rotate(usages: string[], deviceIds: string[]) {
    const rot = await t.api<RotationView>('POST', '/v1/key-rotations', { name: `rotate ${usages.join('+')}`, usages, target: { deviceIds }, phases: [{ name: 'all', percent: 100 }], successThreshold: 100, errorThreshold: 0 });
    expect(rot.status, JSON.stringify(rot.body)).toBe(201);
    await t.api('POST', `/v1/key-rotations/${rot.body.id}/start`);
    await eventually(async () => (await t.api<RotationView>('GET', `/v1/key-rotations/${rot.body.id}`)).body.state === 'succeeded', { timeoutMs: 30_000, what: `rotation ${usages.join('+')} succeeded` });
    await moduleInternals(t, 'keys').settling();
  }

  /** Every installed key's KCV, as the server recorded it, is what the terminal computes over the key it holds. */
  async function terminalsMatchServer() {
    const rows = await t.server.parts.db.select().from(keys).where(eq(keys.state, 'installed'));
    expect(rows.length).toBeGreaterThanOrEqual(4);
    for (const r of rows) {
      const i = fleet.agents.findIndex((a) => a.deviceId === r.deviceId);
      expect(store(i).inventory().find((e) => e.slot === r.slot)?.kcv).toBe(r.kcv);
    }
  }

  beforeAll(async () => {
    token = createSoftToken();
    t = await startTestServer({ env: token.env });
    ({ fleet, stateDir } = await startTestFleet(t, { devices: 2, prefix: 'KH' }));
    admin2 = (await t.api<{ token: string }>('POST', '/v1/users', { name: 'second custodian', role: 'admin' })).body.token;
    await rotate(['TPK', 'TAK'], fleet.agents.map((a) => a.deviceId!));
  }, 180_000);
  afterAll(async () => {
    await fleet?.stop();
    await t?.stop();
    token?.dispose();
    if (stateDir) rmSync(stateDir, { recursive: true, force: true });
  });

  it('says which token holds the keys, writes no master-key file, and delivers keys whose KCVs the terminals confirm', async () => {
    const v = (await t.api<VaultView>('GET', '/v1/key-vault')).body;
    expect(v).toMatchObject({ kind: 'pkcs11', simulated: true, masterGen: 1, masterKeyFrom: 'hsm', token: { label: token.label, manufacturer: 'SoftHSM project', model: 'SoftHSM v2' } });
    expect(v.notice).toMatch(/SoftHSM2 is itself software, NOT an HSM/);
    expect(existsSync(join(t.dataDir, 'master.key'))).toBe(false);
    await terminalsMatchServer();
  });

  it('imports a master key from two components into the token and reseals every stored key there', async () => {
    const c1 = randomBytes(32);
    const c2 = randomBytes(32);
    const imported = combineComponents(c1, c2);
    const req = await t.api<ApprovalView>('POST', '/v1/key-vault/requests', { action: 'master_key.import', reason: 'ceremony', component: hex(c1) });
    expect(req.status, JSON.stringify(req.body)).toBe(201);
    expect(req.body.params.component1Kcv).toBe(keyCheckValue(c1));
    const ok = await t.api<ApprovalView>('POST', `/v1/key-vault/requests/${req.body.id}/approve`, { component: hex(c2) }, { token: admin2 });
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    expect(ok.body.params.keyKcv).toBe(keyCheckValue(imported));
    const done = await eventually(async () => {
      const r = await t.api<ApprovalView>('GET', `/v1/key-vault/requests/${req.body.id}`);
      return r.body.state === 'done' ? r.body : undefined;
    }, { timeoutMs: 20_000 });
    expect(done.progress.resealed).toBeGreaterThanOrEqual(6);
    expect((await t.api<VaultView>('GET', '/v1/key-vault')).body).toMatchObject({ masterGen: 2, masterKcv: keyCheckValue(imported), replacing: false });
    const sealed = await t.server.parts.db.select({ gen: keys.masterGen }).from(keys).where(isNotNull(keys.sealed));
    expect(sealed.every((k) => k.gen === 2)).toBe(true);
    expect(existsSync(join(t.dataDir, 'master.key'))).toBe(false);
  });

  it('opens every stored key after a restart: a TMK rotation re-sends the working keys under the new TMK', async () => {
    await t.restart();
    await eventually(async () => fleet.agents.every((a) => a.status === 'connected'), { timeoutMs: 30_000 });
    const tpkBefore = store(0).slot('tpk')!;
    await rotate(['TMK'], [fleet.agents[0]!.deviceId!]);
    expect(store(0).slot('tmk')!.version).toBe(2);
    expect(store(0).slot('tpk')!.keyId).toBe(tpkBefore.keyId);
    await terminalsMatchServer();
  });

  it('refuses to start on a token without the recorded master key, and on a PIN file that is not there', async () => {
    const other = createSoftToken();
    try {
      await expect(t.restart(other.env)).rejects.toThrow(/no active master key posfleet-master-g2; refusing to start/);
      await expect(t.restart({ ...token.env, HSM_PIN_FILE: join(t.dataDir, 'no-such.pin') })).rejects.toThrow(/HSM_PIN_FILE .* cannot be read/);
      await expect(t.restart({ ...token.env, HSM_TOKEN_LABEL: 'nobody' })).rejects.toThrow(/HSM_TOKEN_LABEL nobody: no token has this label/);
    } finally {
      other.dispose();
    }
    await t.restart(token.env);
    expect((await t.api<VaultView>('GET', '/v1/key-vault')).body).toMatchObject({ kind: 'pkcs11', masterGen: 2 });
  });
});

describe('PKCS#11 vault configuration', () => {
  const base = { HSM_PKCS11_LIBRARY: '/usr/lib/softhsm/libsofthsm2.so', HSM_PIN_FILE: '/run/secrets/hsm.pin', HSM_TOKEN_LABEL: 'posfleet' };
  const problems = (env: Record<string, string>) => {
    try {
      loadConfig(env, '/nonexistent/.env');
      return [];
    } catch (err) {
      return err instanceof ConfigError ? err.problems : [String(err)];
    }
  };
  it('needs a library, a PIN file and one way to find the token; never a PIN in the environment', () => {
    expect(loadConfig({ KEY_VAULT: 'pkcs11', ...base }, '/nonexistent/.env')).toMatchObject({ KEY_VAULT: 'pkcs11', HSM_TOKEN_LABEL: 'posfleet' });
    expect(loadConfig({}, '/nonexistent/.env').KEY_VAULT).toBe('software');
    expect(problems({ KEY_VAULT: 'pkcs11' })).toEqual([
      'HSM_PKCS11_LIBRARY: needed with KEY_VAULT=pkcs11 (the path of the PKCS#11 library)',
      'HSM_PIN_FILE: needed with KEY_VAULT=pkcs11 (a file holding the user PIN)',
      'HSM_SLOT or HSM_TOKEN_LABEL: set one of them with KEY_VAULT=pkcs11',
    ]);
    expect(problems({ KEY_VAULT: 'pkcs11', ...base, HSM_SLOT: '1' })).toEqual(['HSM_SLOT or HSM_TOKEN_LABEL: set one of them with KEY_VAULT=pkcs11']);
    expect(problems({ KEY_VAULT: 'pkcs11', ...base, HSM_PIN: '1234' })).toEqual(['HSM_PIN: the PIN is read only from the file HSM_PIN_FILE names, never from the environment']);
    expect(problems({ KEY_VAULT: 'hsm' })).toEqual(['KEY_VAULT: "hsm" must be one of software, pkcs11']);
    expect(problems({ KEY_VAULT: 'pkcs11', ...base, KEY_VAULT_MASTER_KEY: 'ab'.repeat(32) })).toEqual(['KEY_VAULT_MASTER_KEY: not used with KEY_VAULT=pkcs11 (the master key is a key in the token)']);
  });
});
