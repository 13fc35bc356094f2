// The vault's master key against the database (both engines): a wrong key is refused at start,
// an interrupted replacement is finished; rotation policies schedule rotations of old keys.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { eq } from 'drizzle-orm';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CampaignRow } from '../../schemas/tables/campaigns.ts';
import { keys, type keyPolicies, type KeyRow } from '../../schemas/tables/keys.ts';
import type { FleetHandle } from '../../scripts/simulate/fleet.ts';
import { queuePrefix } from '../../server/config.ts';
import type { ErrorBody } from '../../server/http/errorHandler.ts';
import { createLogger } from '../../server/log.ts';
import type { KeyRouteDeps } from '../../server/keys/keyRoutes.ts';
import type { VaultInfo } from '../../server/keys/keyVault.ts';
import { openVaultMasters } from '../../server/keys/vaultMasters.ts';
import { POLICY_QUEUE, POLICY_SCHEDULER } from '../../server/keys/rotationPolicy.ts';
import { forEachDatabase } from '../helpers/databases.ts';
import { eventually } from '../helpers/eventually.ts';
import { startTestFleet } from '../helpers/fleet.ts';
import { moduleInternals } from '../helpers/moduleInternals.ts';
import { startTestServer, type TestServer } from '../helpers/testServer.ts';

// Response bodies, as far as these tests read them.
/** A key rotation (a campaign): POST/GET /v1/key-rotations[/{id}]. */
type RotationView = Pick<CampaignRow, 'id' | 'state'>;
/** GET /v1/key-policies. */
interface PolicyPage {
  items: Array<Pick<typeof keyPolicies.$inferSelect, 'usage' | 'maxAgeDays'>>;
}
/** GET /v1/devices/{id}/keys. */
interface KeyInventory {
  slots: Array<Pick<KeyRow, 'slot' | 'usage' | 'version' | 'kcv'> & { keyId: string }>;
}
/** GET /v1/key-vault. */
type VaultView = VaultInfo & ReturnType<KeyRouteDeps['vaultState']>;

const log = createLogger('silent');

forEachDatabase('key vault master key', (getDb) => {
  it('creates DATA_DIR/master.key 0600 on first start and refuses another key later', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'posfleet-vault-'));
    const m = await openVaultMasters({ db: getDb(), dataDir: dir, log });
    expect(statSync(join(dir, 'master.key')).mode & 0o777).toBe(0o600);
    expect(m.current().gen).toBe(1);
    await expect(openVaultMasters({ db: getDb(), dataDir: dir, fromEnv: randomBytes(32).toString('hex'), log })).rejects.toThrow(/does not match/);
    writeFileSync(join(dir, 'master.key'), randomBytes(32).toString('hex'));
    await expect(openVaultMasters({ db: getDb(), dataDir: dir, log })).rejects.toThrow(/refusing to start/);
  });
});

describe('rotation policy', () => {
  let t: TestServer;
  let fleet: FleetHandle;
  let stateDir: string;
  beforeAll(async () => {
    t = await startTestServer({ env: { KEY_VAULT_MASTER_KEY: randomBytes(32).toString('base64') } });
    ({ fleet, stateDir } = await startTestFleet(t, { devices: 3, prefix: 'KP' }));
  }, 120_000);
  afterAll(async () => {
    await fleet?.stop();
    await t?.stop();
    if (stateDir) rmSync(stateDir, { recursive: true, force: true });
  });

  it('is scheduled with a BullMQ job scheduler', async () => {
    // A reader of its own: the keys module owns the queue, and a queue has one owner. The prefix
    // is the server's, wrapped in a hash tag as server/jobs/jobQueues.ts does.
    const connection = new Redis(t.started.redis.url, { maxRetriesPerRequest: null });
    const reader = new Queue(POLICY_QUEUE, { connection, prefix: `{${queuePrefix(t.config)}}` });
    try {
      const schedulers = await reader.getJobSchedulers();
      expect(schedulers.map((s) => s.key ?? s.id)).toContain(POLICY_SCHEDULER);
    } finally {
      await reader.close();
      connection.disconnect();
    }
  });

  it('rotates the keys older than the max age of their type, with fresh keys', async () => {
    const ids = fleet.agents.map((a) => a.deviceId!);
    const rot = await t.api<RotationView>('POST', '/v1/key-rotations', { name: 'load', usages: ['TPK', 'TAK'], target: { deviceIds: ids }, phases: [{ name: 'all', percent: 100 }], successThreshold: 100, errorThreshold: 0 });
    await t.api('POST', `/v1/key-rotations/${rot.body.id}/start`);
    await eventually(async () => (await t.api<RotationView>('GET', `/v1/key-rotations/${rot.body.id}`)).body.state === 'succeeded', { timeoutMs: 30_000 });
    await moduleInternals(t, 'keys').settling();
    expect((await t.api('PUT', '/v1/key-policies/TPK', { maxAgeDays: 30 })).status).toBe(200);
    expect((await t.api<PolicyPage>('GET', '/v1/key-policies')).body.items).toMatchObject([{ usage: 'TPK', maxAgeDays: 30 }]);
    // Nothing is due yet.
    expect(await moduleInternals(t, 'keys').runPolicies()).toEqual([]);
    // One terminal's TPK is 31 days old.
    const old = (await t.api<KeyInventory>('GET', `/v1/devices/${ids[0]}/keys`)).body.slots.find((s: { slot: string }) => s.slot === 'tpk')!;
    await t.server.parts.db.update(keys).set({ installedAt: new Date(Date.now() - 31 * 86_400_000) }).where(eq(keys.id, old.keyId));
    const created = await moduleInternals(t, 'keys').runPolicies();
    expect(created).toHaveLength(1);
    await eventually(async () => (await t.api<RotationView>('GET', `/v1/key-rotations/${created[0]}`)).body.state === 'succeeded', { timeoutMs: 30_000 });
    await moduleInternals(t, 'keys').settling();
    const now = (await t.api<KeyInventory>('GET', `/v1/devices/${ids[0]}/keys`)).body.slots.find((s: { slot: string }) => s.slot === 'tpk')!;
    expect(now.version).toBe(2);
    expect(now.keyId).not.toBe(old.keyId);
    expect(now.kcv).not.toBe(old.kcv);
    // The others were not touched.
    expect((await t.api<KeyInventory>('GET', `/v1/devices/${ids[1]}/keys`)).body.slots.find((s: { slot: string }) => s.slot === 'tpk')!.version).toBe(1);
    // With KEY_VAULT_MASTER_KEY, the server cannot replace the master key: the request is refused.
    expect((await t.api<VaultView>('GET', '/v1/key-vault')).body.masterKeyFrom).toBe('env');
    const refused = await t.api<ErrorBody>('POST', '/v1/key-vault/requests', { action: 'master_key.replace', reason: 'try' });
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('master_key_external');
  });
});
