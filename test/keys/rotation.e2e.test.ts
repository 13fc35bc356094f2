// Key rotations end to end: 100 simulated terminals (the real agent) through the real server,
// MQTT, Redis and database. TPK+TAK rotation (first TMK included), then a TMK rotation that
// re-sends the working keys; inventories on both sides agree; and no key material — clear,
// wrapped or vault-sealed, in hex or base64 — appears in any log line or API response.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSecureStore } from '../../agent/keys/secureStore.ts';
import { commands, type CommandState } from '../../schemas/db.ts';
import { keysInstallPayload, keysInstallResult, type KeysInstallResult } from '../../schemas/keys.ts';
import { parseHeader } from '../../schemas/keyCrypto/tr31.ts';
import { readDeliveryTr31 } from '../../schemas/keyCrypto/tr31Delivery.ts';
import type { CampaignRow } from '../../schemas/tables/campaigns.ts';
import { keys, type KeyRow } from '../../schemas/tables/keys.ts';
import type { FleetHandle } from '../../scripts/simulate/fleet.ts';
import type { KeyRouteDeps } from '../../server/keys/keyRoutes.ts';
import { eventually } from '../helpers/eventually.ts';
import { startTestFleet } from '../helpers/fleet.ts';
import { moduleInternals } from '../helpers/moduleInternals.ts';
import { startTestServer, type TestServer } from '../helpers/testServer.ts';
import { vaultMatrix, type VaultSetup } from '../helpers/vaults.ts';
import { findKeyMaterial } from './keyMaterial.ts';

// Response bodies, as far as these tests read them.
/** A key rotation (a campaign): POST/GET /v1/key-rotations[/{id}]. */
type RotationView = Pick<CampaignRow, 'id' | 'state'>;
/** GET /v1/devices/{id}/keys[?history=true]. */
interface KeyInventory {
  slots: Array<Pick<KeyRow, 'slot' | 'usage' | 'version' | 'kcv' | 'parentKeyId'> & { keyId: string }>;
}
interface KeyInventoryWithHistory extends KeyInventory {
  history: Array<Pick<KeyRow, 'id' | 'state'>>;
}
/** POST /v1/devices/{id}/keys/report. */
type ReportSent = Awaited<ReturnType<KeyRouteDeps['report']>>;
/** The inventory report (a `keys.install` without items), once answered: GET /v1/devices/{id}/commands/{cmdId}. */
interface ReportCommand {
  state: CommandState;
  result: KeysInstallResult;
}

const N = 100;

// The software vault on the first engine and a SoftHSM2 token: the same rotations, the same bytes
// on the wire, whichever custody holds the keys.
const cases = vaultMatrix().filter((v, i, all) => v.vault === 'pkcs11' || v.database === all[0]!.database);

for (const v of cases) describe.skipIf(v.skip)(`key rotation on ${N} simulated terminals [${v.name}]`, () => {
  const agentLines: string[] = [];
  let vault: VaultSetup | undefined;
  let t: TestServer;
  let fleet: FleetHandle;
  let stateDir: string;
  const ids = () => fleet.agents.map((a) => a.deviceId!);

  beforeAll(async () => {
    vault = v.open();
    t = await startTestServer({ capture: true, database: v.database, env: vault.env });
    ({ fleet, stateDir } = await startTestFleet(t, {
      devices: N,
      prefix: 'KEY',
      backoff: { initialMs: 200, maxMs: 2000, factor: 2 },
      log: pino({ level: 'debug' }, { write: (s: string) => void agentLines.push(s) }),
    }));
  }, 120_000);
  afterAll(async () => {
    await fleet?.stop();
    await t?.stop();
    vault?.dispose();
    rmSync(stateDir, { recursive: true, force: true });
  });

  async function rotate(usages: string[]) {
    const created = await t.api<RotationView>('POST', '/v1/key-rotations', {
      name: `rotate ${usages.join('+')}`,
      usages,
      target: { deviceIds: ids() },
      phases: [
        { name: 'canary', percent: 10 },
        { name: 'rest', percent: 90 },
      ],
      successThreshold: 90,
      errorThreshold: 10,
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const started = await t.api('POST', `/v1/key-rotations/${created.body.id}/start`);
    expect(started.status, JSON.stringify(started.body)).toBe(200);
    return eventually(async () => {
      const s = await t.api<RotationView>('GET', `/v1/key-rotations/${created.body.id}`);
      return s.body.state === 'succeeded' ? s.body : undefined;
    }, { timeoutMs: 60_000, stepMs: 200 });
  }

  const storeOf = (serial: string) => openSecureStore(join(stateDir, serial));

  it('installs a TMK, a TPK and a TAK on every terminal, with matching KCVs on both sides', async () => {
    const done = await rotate(['TPK', 'TAK']);
    expect(done.state).toBe('succeeded');
    await moduleInternals(t, 'keys').settling();
    const seenIds = new Set<string>();
    for (const a of fleet.agents) {
      const inv = await t.api<KeyInventory>('GET', `/v1/devices/${a.deviceId}/keys`);
      expect(inv.status).toBe(200);
      const slots = inv.body.slots as Array<{ slot: string; keyId: string; version: number; kcv: string }>;
      expect(slots.map((s) => s.slot)).toEqual(['tak', 'tmk', 'tpk']);
      const device = storeOf(a.serial).inventory();
      expect(device.map(({ slot, keyId, version, kcv }) => ({ slot, keyId, version, kcv }))).toEqual(slots.map(({ slot, keyId, version, kcv }) => ({ slot, keyId, version, kcv })));
      for (const s of slots) {
        expect(seenIds.has(s.keyId)).toBe(false);
        seenIds.add(s.keyId);
      }
    }
  });

  it('sent the working keys over MQTT as TR-31 blocks and the TMK as PFK1, and each terminal installed them with the KCV sent', async () => {
    const a = fleet.agents[2]!;
    const rows = await t.server.parts.db.select().from(commands).where(eq(commands.deviceId, a.deviceId!));
    const install = rows.filter((c) => c.type === 'keys.install' && c.state === 'succeeded');
    expect(install).toHaveLength(1);
    const items = keysInstallPayload.parse(install[0]!.payload).items;
    expect(items.map((i) => [i.usage, i.format])).toEqual([
      ['TMK', 'pfk1'],
      ['TPK', 'tr31'],
      ['TAK', 'tr31'],
    ]);
    const stored = storeOf(a.serial);
    for (const i of items.filter((x) => x.format === 'tr31')) {
      expect(parseHeader(i.block).header).toMatchObject({ versionId: 'D', keyUsage: i.usage === 'TPK' ? 'P0' : 'M6', algorithm: 'A' });
      expect(stored.slot(i.slot)).toMatchObject({ keyId: i.keyId, version: i.version, kcv: i.kcv });
    }
    // What the terminal acked is what it computed from the key it holds.
    expect(keysInstallResult.parse(install[0]!.result).installed.map((k) => k.kcv)).toEqual(items.map((i) => i.kcv));
  });

  it('a TMK rotation replaces the TMK and re-sends the working keys under it', async () => {
    const before = await t.api<KeyInventory>('GET', `/v1/devices/${fleet.agents[0]!.deviceId}/keys`);
    await rotate(['TMK']);
    await moduleInternals(t, 'keys').settling();
    for (const a of fleet.agents.slice(0, 20)) {
      const inv = (await t.api<KeyInventory>('GET', `/v1/devices/${a.deviceId}/keys`)).body.slots as Array<{ slot: string; keyId: string; version: number; parentKeyId: string | null }>;
      const tmk = inv.find((s) => s.slot === 'tmk')!;
      expect(tmk.version).toBe(2);
      for (const w of inv.filter((s) => s.slot !== 'tmk')) {
        expect(w.version).toBe(1);
        expect(w.parentKeyId).toBe(tmk.keyId);
      }
      expect(storeOf(a.serial).slot('tpk')?.wk).toBe(tmk.keyId);
    }
    // The re-sent working keys travelled as TR-31 under the new TMK (block 05 names it).
    const a = fleet.agents[0]!;
    const rows = await t.server.parts.db.select().from(commands).where(eq(commands.deviceId, a.deviceId!));
    const resend = rows.filter((c) => c.type === 'keys.install').sort((x, y) => y.issuedAt.getTime() - x.issuedAt.getTime())[0]!;
    const items = keysInstallPayload.parse(resend.payload).items;
    const newTmk = items.find((i) => i.usage === 'TMK')!;
    expect(newTmk.format).toBe('pfk1');
    const working = items.filter((i) => i.usage !== 'TMK');
    expect(working.map((i) => `${i.slot} ${i.format} v${i.version}`).sort()).toEqual(['tak tr31 v1', 'tpk tr31 v1']);
    for (const w of working) expect(readDeliveryTr31(w.block).wrappingKeyId).toBe(newTmk.keyId);
    const after = await t.api<KeyInventoryWithHistory>('GET', `/v1/devices/${fleet.agents[0]!.deviceId}/keys?history=true`);
    const oldTmk = (before.body.slots as Array<{ slot: string; keyId: string }>).find((s) => s.slot === 'tmk')!;
    expect((after.body.history as Array<{ id: string; state: string }>).find((h) => h.id === oldTmk.keyId)?.state).toBe('superseded');
  });

  it('a device asked for its inventory reports ids, versions and KCVs', async () => {
    const a = fleet.agents[1]!;
    const sent = await t.api<ReportSent>('POST', `/v1/devices/${a.deviceId}/keys/report`);
    expect(sent.status).toBe(202);
    const cmd = await eventually(async () => {
      const c = await t.api<ReportCommand>('GET', `/v1/devices/${a.deviceId}/commands/${sent.body.commandId}`);
      return c.body.state === 'succeeded' ? c.body : undefined;
    });
    const server = (await t.api<KeyInventory>('GET', `/v1/devices/${a.deviceId}/keys`)).body.slots as Array<{ keyId: string; kcv: string }>;
    expect(cmd.result.inventory.map((i: { keyId: string; kcv: string }) => `${i.keyId}:${i.kcv}`).sort()).toEqual(server.map((s) => `${s.keyId}:${s.kcv}`).sort());
  });

  it('no key material in any log line or API response', async () => {
    // Touch every read path an operator has.
    for (const a of fleet.agents.slice(0, 10)) {
      await t.api('GET', `/v1/devices/${a.deviceId}/commands?limit=50`);
      await t.api('GET', `/v1/devices/${a.deviceId}/keys?history=true`);
      await t.api('GET', `/v1/devices/${a.deviceId}/timeline`);
    }
    await t.api('GET', '/v1/key-rotations');
    await t.api('GET', '/v1/audit?limit=500');
    await t.api('GET', '/v1/key-vault');
    const secrets: Buffer[] = [];
    // Clear keys, from the terminals' own stores (every key installed, old ones too: the server
    // rows carry history, the stores the current keys).
    for (const a of fleet.agents) for (const slot of ['tmk', 'tpk', 'tak']) secrets.push(storeOf(a.serial).keyOf(slot)!);
    // Wrapped keys: every block sent; vault ciphertext: every sealed row.
    const db = t.server.parts.db;
    for (const c of await db.select().from(commands).where(eq(commands.type, 'keys.install'))) {
      // A PFK1 block is base64 of its bytes; a TR-31 block is ASCII whose wrapped key and MAC are upper-case hex.
      for (const item of keysInstallPayload.parse(c.payload).items) {
        secrets.push(item.format === 'tr31' ? Buffer.from(item.block.slice(parseHeader(item.block).headerLength), 'hex') : Buffer.from(item.block, 'base64'));
      }
    }
    for (const k of await db.select({ sealed: keys.sealed }).from(keys)) if (k.sealed) secrets.push(Buffer.from(k.sealed, 'base64'));
    expect(secrets.length).toBeGreaterThan(N * 6);
    // A careless debug line with a whole key command, and one with a block in its text: the
    // redactor every line passes must catch both.
    const sample = (await db.select().from(commands).where(eq(commands.type, 'keys.install')).limit(3)).map((c) => c.payload as { items: Array<{ block: string }> });
    for (const p of sample) {
      t.server.parts.log.debug({ payload: p, cmd: { payload: p } }, 'careless debug line');
      t.server.parts.log.warn(`careless text line ${p.items[0]?.block ?? ''}`);
    }
    const haystack = [...t.logLines, ...agentLines, ...t.responses].join('\n');
    expect(t.logLines.length).toBeGreaterThan(10);
    expect(t.responses.length).toBeGreaterThan(N);
    expect(findKeyMaterial(haystack, secrets)).toEqual([]);
  });
});
