// Key management controls through the real server, MQTT, Redis and database (both engines):
// blocks replayed to another terminal or slot refused by the real agent, a KCV mismatch marks the
// install failed, dual-control refusals and approvals (master-key replacement surviving a restart,
// bulk revocation), and the tamper path end to end.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSecureStore } from '../../agent/keys/secureStore.ts';
import { commands, type AuditRow, type CommandRow } from '../../schemas/db.ts';
import { keysInstallPayload } from '../../schemas/keys.ts';
import type { CampaignRow } from '../../schemas/tables/campaigns.ts';
import type { FaultRow } from '../../schemas/tables/faults.ts';
import { keys, type KeyApprovalRow, type KeyRow } from '../../schemas/tables/keys.ts';
import type { FleetHandle } from '../../scripts/simulate/fleet.ts';
import type { recordView } from '../../server/campaigns/campaignStore.ts';
import type { ErrorBody } from '../../server/http/errorHandler.ts';
import type { KeyRouteDeps } from '../../server/keys/keyRoutes.ts';
import type { VaultInfo } from '../../server/keys/keyVault.ts';
import { registerAndEnroll } from '../helpers/devices.ts';
import { eventually } from '../helpers/eventually.ts';
import { rawTerminal } from '../helpers/rawTerminal.ts';
import { startTestFleet } from '../helpers/fleet.ts';
import { moduleInternals } from '../helpers/moduleInternals.ts';
import { startTestServer, type TestServer } from '../helpers/testServer.ts';
import { vaultMatrix, type VaultSetup } from '../helpers/vaults.ts';

// Response bodies, as far as these tests read them (JSON: dates would be strings).
/** A key rotation (a campaign): POST/GET /v1/key-rotations[/{id}]. */
type RotationView = Pick<CampaignRow, 'id' | 'state'>;
/** GET /v1/key-rotations/{id}/devices. */
interface RotationDevicePage {
  items: ReturnType<typeof recordView>[];
}
/** GET /v1/devices/{id}/keys[?history=true]. */
interface KeyInventory {
  slots: Array<Pick<KeyRow, 'slot' | 'usage' | 'version' | 'kcv'> & { keyId: string }>;
}
interface KeyInventoryWithHistory extends KeyInventory {
  history: Array<Pick<KeyRow, 'id' | 'state'>>;
}
/** GET /v1/key-vault. */
type VaultView = VaultInfo & ReturnType<KeyRouteDeps['vaultState']>;
/** A dual-control request: /v1/key-vault/requests[/{id}[/approve|/reject]]. */
type ApprovalView = Pick<KeyApprovalRow, 'id' | 'action' | 'state' | 'params' | 'progress'>;
/** A key command that was refused: GET /v1/devices/{id}/commands/{cmdId}. */
type RefusedCommand = Pick<CommandRow, 'id' | 'state'> & { error: NonNullable<CommandRow['error']> };
/** GET /v1/devices/{id}/commands. */
interface CommandPage {
  items: Array<Pick<CommandRow, 'id' | 'type' | 'state'>>;
}
/** GET /v1/devices/{id}/lock. */
interface LockStateView {
  locked: boolean;
  version: number;
  reasons: Array<{ reason: string }>;
  command: Pick<CommandRow, 'id' | 'type' | 'state'>;
}
/** GET /v1/faults. */
interface FaultPage {
  items: Array<Pick<FaultRow, 'code' | 'severity' | 'state'>>;
}
/** GET /v1/audit. */
interface AuditPage {
  items: Array<Pick<AuditRow, 'action' | 'actorName'>>;
}

for (const v of vaultMatrix()) {
  const kind = `${v.database}${v.vault === 'pkcs11' ? '-hsm' : ''}`;
  describe.skipIf(v.skip)(`key controls [${v.name}]`, () => {
    let vault: VaultSetup | undefined;
    let t: TestServer;
    let fleet: FleetHandle;
    let stateDir: string;
    let admin2: string;
    let operator: string;

    /** Creates and starts a one-phase key rotation (all must succeed unless `rules` says otherwise); returns its id. */
    async function startRotation(name: string, usages: string[], deviceIds: (string | null)[], rules: Record<string, number> = {}) {
      const rot = await t.api<RotationView>('POST', '/v1/key-rotations', { name, usages, target: { deviceIds }, phases: [{ name: 'all', percent: 100 }], successThreshold: 100, errorThreshold: 0, ...rules });
      expect(rot.status, JSON.stringify(rot.body)).toBe(201);
      await t.api('POST', `/v1/key-rotations/${rot.body.id}/start`);
      return rot.body.id;
    }
    const rotationSucceeded = (id: string, timeoutMs: number) =>
      eventually(async () => (await t.api<RotationView>('GET', `/v1/key-rotations/${id}`)).body.state === 'succeeded', { timeoutMs, what: `rotation ${id} succeeded` });
    /** The rotation's per-device records once its (one) terminal's record is in `state`. */
    const recordsOnceFirstIs = (id: string, state: string, timeoutMs: number) =>
      eventually(
        async () => {
          const d = await t.api<RotationDevicePage>('GET', `/v1/key-rotations/${id}/devices`);
          return d.body.items?.[0]?.state === state ? d.body.items : undefined;
        },
        { timeoutMs, what: `the terminal's record ${state}` },
      );

    beforeAll(async () => {
      vault = v.open();
      t = await startTestServer({ database: v.database, env: vault.env });
      ({ fleet, stateDir } = await startTestFleet(t, { devices: 4, prefix: `KC${kind}` }));
      admin2 = (await t.api<{ token: string }>('POST', '/v1/users', { name: 'second admin', role: 'admin' })).body.token;
      operator = (await t.api<{ token: string }>('POST', '/v1/users', { name: 'an operator', role: 'operator' })).body.token;
      await rotationSucceeded(await startRotation('initial', ['TPK', 'TAK'], fleet.agents.map((a) => a.deviceId)), 30_000);
      await moduleInternals(t, 'keys').settling();
    }, 180_000);
    afterAll(async () => {
      await fleet?.stop();
      await t?.stop();
      vault?.dispose();
      rmSync(stateDir, { recursive: true, force: true });
    });

    const dev = (i: number) => fleet.agents[i]!;
    const store = (i: number) => openSecureStore(join(stateDir, dev(i).serial));
    const db = () => t.server.parts.db;

    async function lastInstallPayload(deviceId: string) {
      const rows = await db().select().from(commands).where(and(eq(commands.deviceId, deviceId), eq(commands.type, 'keys.install')));
      return rows.sort((a, b) => b.issuedAt.getTime() - a.issuedAt.getTime())[0]!.payload as { items: Array<Record<string, unknown>> };
    }
    async function sendRaw(deviceId: string, payload: Record<string, unknown>) {
      const cmd = await t.server.parts.commands.create(deviceId, { type: 'keys.install', payload: keysInstallPayload.parse(payload), createdBy: null });
      return eventually(async () => {
        const c = await t.api<RefusedCommand>('GET', `/v1/devices/${deviceId}/commands/${cmd.id}`);
        return ['succeeded', 'failed', 'rejected'].includes(c.body.state) ? c.body : undefined;
      });
    }

    it("refuses another terminal's block, a block moved to another slot, and a replayed older version", async () => {
      const a = await lastInstallPayload(dev(0).deviceId!);
      const before = store(1).inventory();
      expect((await sendRaw(dev(1).deviceId!, a)).error.code).toBe('wrong_device');
      const tpk = a.items.find((i) => i.slot === 'tpk')!;
      expect((await sendRaw(dev(0).deviceId!, { items: [{ ...tpk, slot: 'tak', usage: 'TAK' }] })).error.code).toBe('wrong_slot');
      // Rotate TPK again, then replay the first TPK block.
      await rotationSucceeded(await startRotation('tpk again', ['TPK'], [dev(0).deviceId]), 20_000);
      const replay = await sendRaw(dev(0).deviceId!, { items: [tpk] });
      expect(replay.state).toBe('rejected');
      expect(replay.error.code).toBe('stale_version');
      expect(store(1).inventory()).toEqual(before);
      expect(store(0).slot('tpk')!.version).toBe(2);
    });

    it('marks the install failed when the device acks another KCV', async () => {
      const raw = await registerAndEnroll(t, { serial: `RAW-${kind}-${Date.now()}` });
      // It claims every key installed, each with a KCV of its own invention.
      const { client } = await rawTerminal(raw, (cmd) => {
        const installed = keysInstallPayload.parse(cmd.payload).items.map((i) => ({ slot: i.slot, usage: i.usage, keyId: i.keyId, version: i.version, kcv: 'cmac:ABCDEF' }));
        return [{ state: 'succeeded', result: { installed, inventory: [] } }];
      });
      const rotation = await startRotation('liar', ['TPK'], [raw.deviceId], { errorThreshold: 100, retries: 0 });
      const devices = await recordsOnceFirstIs(rotation, 'failed', 20_000);
      expect(JSON.stringify(devices[0])).toContain('kcv_mismatch');
      await moduleInternals(t, 'keys').settling();
      const rows = await db().select().from(keys).where(eq(keys.deviceId, raw.deviceId));
      expect(rows.every((r) => r.state === 'failed' && r.error?.code === 'kcv_mismatch' && r.sealed === null)).toBe(true);
      expect((await t.api<KeyInventory>('GET', `/v1/devices/${raw.deviceId}/keys`)).body.slots).toEqual([]);
      client.end(true);
    });

    it('dual control: the requester cannot approve, an operator cannot, another admin can; master-key replacement survives a restart', async () => {
      expect((await t.api('POST', '/v1/key-vault/requests', { action: 'master_key.replace', reason: 'yearly' }, { token: operator })).status).toBe(403);
      const req = await t.api<ApprovalView>('POST', '/v1/key-vault/requests', { action: 'master_key.replace', reason: 'yearly' });
      expect(req.status).toBe(201);
      const self = await t.api<ErrorBody>('POST', `/v1/key-vault/requests/${req.body.id}/approve`);
      expect(self.status).toBe(403);
      expect(self.body.error.code).toBe('dual_control');
      expect((await t.api('POST', `/v1/key-vault/requests/${req.body.id}/approve`, undefined, { token: operator })).status).toBe(403);
      const genBefore = (await t.api<VaultView>('GET', '/v1/key-vault')).body;
      // SoftHSM2 is software too: the PKCS#11 vault says so, naming the token.
      expect(genBefore).toMatchObject(v.vault === 'pkcs11' ? { kind: 'pkcs11', simulated: true, masterKeyFrom: 'hsm', token: { model: 'SoftHSM v2' } } : { kind: 'software', simulated: true, masterKeyFrom: 'file' });
      expect(genBefore.notice).toMatch(/not an HSM/i);
      const ok = await t.api('POST', `/v1/key-vault/requests/${req.body.id}/approve`, undefined, { token: admin2 });
      expect(ok.status).toBe(200);
      expect((await t.api('POST', `/v1/key-vault/requests/${req.body.id}/approve`, undefined, { token: admin2 })).status).toBe(409);
      const done = await eventually(async () => {
        const r = await t.api<ApprovalView>('GET', `/v1/key-vault/requests/${req.body.id}`);
        return r.body.state === 'done' ? r.body : undefined;
      }, { timeoutMs: 20_000 });
      expect(done.progress.resealed).toBeGreaterThan(0);
      expect((await t.api<VaultView>('GET', '/v1/key-vault')).body.masterGen).toBe(genBefore.masterGen + 1);
      const live = await db().select({ gen: keys.masterGen }).from(keys).where(eq(keys.state, 'installed'));
      expect(live.every((k) => k.gen === genBefore.masterGen + 1)).toBe(true);
      // The audit names both admins.
      const audit = (await t.api<AuditPage>('GET', '/v1/audit?limit=100')).body.items as Array<{ action: string; actorName: string | null }>;
      expect(audit.find((a) => a.action === 'master_key.replace.approve')?.actorName).toBe('second admin');
      // After a restart the new master key opens every stored key: a TMK rotation needs them all.
      await t.restart();
      await eventually(async () => fleet.agents.every((a) => a.status === 'connected'), { timeoutMs: 30_000 });
      await rotationSucceeded(await startRotation('after mk', ['TMK'], [dev(2).deviceId]), 30_000);
    });

    it('bulk revocation needs a second admin, revokes and zeroizes', async () => {
      const target = [dev(3).deviceId!];
      const req = await t.api<ApprovalView>('POST', '/v1/key-vault/requests', { action: 'keys.bulk_revoke', reason: 'suspected leak', params: { deviceIds: target, usages: ['TMK'] } });
      expect((await t.api<ErrorBody>('POST', `/v1/key-vault/requests/${req.body.id}/approve`)).body.error.code).toBe('dual_control');
      expect((await t.api('POST', `/v1/key-vault/requests/${req.body.id}/reject`, undefined, { token: admin2 })).status).toBe(200);
      expect((await t.api('POST', `/v1/key-vault/requests/${req.body.id}/approve`, undefined, { token: admin2 })).status).toBe(409);
      const req2 = await t.api<ApprovalView>('POST', '/v1/key-vault/requests', { action: 'keys.bulk_revoke', reason: 'suspected leak', params: { deviceIds: target, usages: ['TMK'] } });
      await t.api('POST', `/v1/key-vault/requests/${req2.body.id}/approve`, undefined, { token: admin2 });
      const done = await eventually(async () => {
        const r = await t.api<ApprovalView>('GET', `/v1/key-vault/requests/${req2.body.id}`);
        return r.body.state === 'done' ? r.body : undefined;
      }, { timeoutMs: 20_000 });
      // Revoking the TMK revoked everything under it.
      expect(done.progress.revoked).toBe(3);
      expect((await t.api<KeyInventory>('GET', `/v1/devices/${target[0]}/keys`)).body.slots).toEqual([]);
      await eventually(async () => store(3).inventory().length === 0, { timeoutMs: 10_000 });
    });

    it('tamper: the agent zeroizes, the server revokes, locks and alerts', async () => {
      const d = dev(2);
      expect(store(2).inventory().length).toBe(3);
      const alerts: string[] = [];
      const off = t.server.parts.bus.on('device.alert', (a) => void (a.deviceId === d.deviceId && alerts.push(a.code)));
      d.hardware.inject('tamper');
      await eventually(async () => store(2).inventory().length === 0, { timeoutMs: 10_000 });
      await eventually(async () => {
        const inv = await t.api<KeyInventoryWithHistory>('GET', `/v1/devices/${d.deviceId}/keys?history=true`);
        return inv.body.slots.length === 0 && inv.body.history.some((h: { state: string }) => h.state === 'revoked') ? true : undefined;
      }, { timeoutMs: 10_000 });
      const cmds = await eventually(async () => {
        const c = await t.api<CommandPage>('GET', `/v1/devices/${d.deviceId}/commands?limit=20`);
        const lock = c.body.items.find((x: { type: string; state: string }) => x.type === 'lock' && x.state === 'succeeded');
        return lock ? c.body.items : undefined;
      }, { timeoutMs: 10_000 });
      expect(cmds.some((x: { type: string }) => x.type === 'keys.zeroize')).toBe(true);
      // One lock, through terminal control: versioned, its reason `tamper`, and no second command
      // adopting a bare one (once the tamper handling and every lock it caused have settled).
      await moduleInternals(t, 'keys').tamperIdle();
      // The alert goes out at the end of the tamper handling, which may still run when the
      // terminal has already obeyed the lock and the zeroize.
      expect(alerts).toContain('key_compromise');
      const lockState = await t.api<LockStateView>('GET', `/v1/devices/${d.deviceId}/lock`);
      expect(lockState.body).toMatchObject({ locked: true, version: 1, reasons: [{ reason: 'tamper' }], command: { type: 'lock', state: 'succeeded' } });
      const lockCommands = await db().select().from(commands).where(and(eq(commands.deviceId, d.deviceId!), eq(commands.type, 'lock')));
      expect(lockCommands.map((c) => ({ id: c.id, payload: c.payload }))).toEqual([{ id: lockState.body.command.id, payload: { version: 1, reasons: ['tamper'] } }]);
      // The fault queue shows both: the tamper itself and what the server did about it.
      const faults = await eventually(async () => {
        const f = await t.api<FaultPage>('GET', `/v1/faults?deviceId=${d.deviceId}&state=open`);
        const codes = (f.body.items ?? []).map((x: { code: string }) => x.code);
        return codes.includes('tamper') && codes.includes('key_compromise') ? f.body.items : undefined;
      }, { timeoutMs: 10_000 });
      expect(faults.find((x: { code: string }) => x.code === 'key_compromise')).toMatchObject({ severity: 'critical', state: 'open' });
      // A compromised terminal is skipped by rotations until an admin clears it.
      const rotation = await startRotation('to compromised', ['TPK'], [d.deviceId], { successThreshold: 0, errorThreshold: 100 });
      const rows = await recordsOnceFirstIs(rotation, 'skipped', 10_000);
      expect(JSON.stringify(rows[0])).toContain('compromised');
      off();
    });
  });
}
