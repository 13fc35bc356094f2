// Issue #15 item 5: no key byte in any response or log line. Every key flow runs through the real
// server, Redis, database (both engines) and real agents over MQTT, with everything the run lets
// out recorded (test/helpers/secretRecorder.ts): API answers, server and agent log lines (trace),
// live-stream events and every MQTT PUBLISH both ways (key blocks' `block` left out: ciphertext by
// design). The clear keys are recovered test-side (test/helpers/keySecrets.ts: sealed rows opened
// with the master keys from DATA_DIR, the agents' own stores and KEKs) plus every master key and
// ceremony component; test/helpers/secretScan.ts then looks for each in hex, base64, base64url and
// byte lists, and for any 8 bytes of it. A canary in a log line, an answer and an MQTT message
// proves each channel reaches the scan.
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSecureStore } from '../../agent/keys/secureStore.ts';
import { commands, type AuditRow, type CommandRow } from '../../schemas/db.ts';
import { keyCheckValue } from '../../schemas/keyCrypto/cmac.ts';
import type { KeysInstallResult } from '../../schemas/keys.ts';
import { commandMessage } from '../../schemas/wire.ts';
import type { CampaignRow } from '../../schemas/tables/campaigns.ts';
import type { KeyApprovalRow, KeyRow } from '../../schemas/tables/keys.ts';
import type { FleetHandle } from '../../scripts/simulate/fleet.ts';
import type { ErrorBody } from '../../server/http/errorHandler.ts';
import { combineComponents } from '../../server/keys/keyComponents.ts';
import type { KeyRouteDeps } from '../../server/keys/keyRoutes.ts';
import type { VaultInfo } from '../../server/keys/keyVault.ts';
import type { ApiRequestOptions } from '../helpers/apiClient.ts';
import { databaseKinds } from '../helpers/databases.ts';
import { eventually } from '../helpers/eventually.ts';
import { startTestFleet } from '../helpers/fleet.ts';
import { createRunSecrets } from '../helpers/keySecrets.ts';
import { moduleInternals } from '../helpers/moduleInternals.ts';
import { startSecretRecorder, type SecretRecorder } from '../helpers/secretRecorder.ts';
import { describeLeaks, findLeaks, WINDOW_BYTES } from '../helpers/secretScan.ts';
import { startTestServer, type TestServer } from '../helpers/testServer.ts';

// Response bodies, as far as these tests read them (JSON: dates are strings).
/** A key rotation (a campaign): POST/GET /v1/key-rotations[/{id}]. */
type RotationView = Pick<CampaignRow, 'id' | 'state'>;
/** GET /v1/devices/{id}/keys[?history=true]. */
interface KeyInventory {
  slots: Array<Pick<KeyRow, 'slot' | 'usage' | 'version' | 'kcv'> & { keyId: string }>;
  history?: Array<Pick<KeyRow, 'id' | 'state'>>;
}
/** POST /v1/devices/{id}/keys/report. */
type ReportSent = Awaited<ReturnType<KeyRouteDeps['report']>>;
/** The report command once answered: GET /v1/devices/{id}/commands/{cmdId}. */
type ReportCommand = Pick<CommandRow, 'state'> & { result: KeysInstallResult };
/** GET /v1/key-vault. */
type VaultView = VaultInfo & ReturnType<KeyRouteDeps['vaultState']>;
/** A dual-control request: /v1/key-vault/requests[/{id}[/approve|/reject]]. */
type ApprovalView = Pick<KeyApprovalRow, 'id' | 'action' | 'state' | 'params' | 'progress'>;
/** GET /v1/key-vault/requests. */
interface ApprovalPage {
  items: ApprovalView[];
}
/** GET /v1/bdks. */
interface BdkPage {
  items: Array<{ id: string }>;
}
/** GET /v1/devices/{id}/dukpt. */
interface DukptPage {
  items: Array<{ verifiedAt: string | null; verifyError: { code: string } | null }>;
}
/** GET /v1/audit. */
interface AuditPage {
  items: Array<Pick<AuditRow, 'action' | 'actorName' | 'target'>>;
}

const DEVICES = 3;
// Commands whose state only an agent's ack sets: each of them must have gone through the tap.
const answeredStates: ReadonlySet<string> = new Set(['received', 'in_progress', 'deferred', 'succeeded', 'failed', 'rejected']);

for (const kind of databaseKinds()) {
  describe(`no key byte leaves the server [${kind}]`, () => {
    let t: TestServer;
    let rec: SecretRecorder;
    let fleet: FleetHandle;
    let stateDir: string;
    let admin2: string;
    let operator: string;
    const secrets = createRunSecrets();
    const api = <T>(method: string, path: string, body?: unknown, opts?: ApiRequestOptions) => rec.api<T>(method, path, body, opts);
    const db = () => t.server.parts.db;
    const dev = (i: number) => fleet.agents[i]!;
    const ids = () => fleet.agents.map((a) => a.deviceId!);
    const store = (i: number) => openSecureStore(join(stateDir, dev(i).serial));

    /** Takes every secret there is now: keys leave the vault (superseded, revoked) and the terminals (zeroize). */
    async function harvest() {
      await secrets.harvestMasters(db(), t.dataDir);
      await secrets.harvestVault(db());
      await secrets.harvestBdks(db());
      for (const a of fleet.agents) secrets.harvestAgent(stateDir, a.serial);
    }

    /** A one-phase key rotation run to success: `usages`, or a DUKPT injection from a BDK. */
    async function rotate(usages: string[] | { bdkId: string }, deviceIds: string[]) {
      const what = Array.isArray(usages) ? usages.join('+') : `DUKPT from ${usages.bdkId}`;
      const rot = await api<RotationView>('POST', '/v1/key-rotations', {
        name: `rotate ${what}`,
        ...(Array.isArray(usages) ? { usages } : { dukpt: usages }),
        target: { deviceIds },
        phases: [{ name: 'all', percent: 100 }],
        successThreshold: 100,
        errorThreshold: 0,
      });
      expect(rot.status, JSON.stringify(rot.body)).toBe(201);
      expect((await api('POST', `/v1/key-rotations/${rot.body.id}/start`)).status).toBe(200);
      await eventually(async () => (await api<RotationView>('GET', `/v1/key-rotations/${rot.body.id}`)).body.state === 'succeeded', {
        timeoutMs: 30_000,
        what: `rotation of ${what} succeeded`,
      });
      await moduleInternals(t, 'keys').settling();
      await api('GET', `/v1/key-rotations/${rot.body.id}/devices`);
      await harvest();
    }

    async function decided(id: string) {
      return eventually(
        async () => {
          const r = await api<ApprovalView>('GET', `/v1/key-vault/requests/${id}`);
          return r.body.state === 'done' ? r.body : undefined;
        },
        { timeoutMs: 30_000, what: `request ${id} done` },
      );
    }

    /** The server's record of a terminal's slots and the terminal's own agree, KCVs included. */
    async function inventoriesAgree(i: number) {
      const server = (await api<KeyInventory>('GET', `/v1/devices/${dev(i).deviceId}/keys`)).body.slots;
      expect(
        store(i)
          .inventory()
          .map(({ slot, keyId, version, kcv }) => ({ slot, keyId, version, kcv })),
      ).toEqual(server.map(({ slot, keyId, version, kcv }) => ({ slot, keyId, version, kcv })));
      return server;
    }

    beforeAll(async () => {
      t = await startTestServer({ database: kind, capture: true, env: { LOG_LEVEL: 'trace' } });
      rec = await startSecretRecorder(t);
      ({ fleet, stateDir } = await startTestFleet(t, { devices: DEVICES, prefix: `NKB${kind}`, mqttUrl: rec.mqttUrl, log: rec.agentLog }));
      admin2 = (await api<{ token: string }>('POST', '/v1/users', { name: 'second custodian', role: 'admin' })).body.token;
      operator = (await api<{ token: string }>('POST', '/v1/users', { name: 'an operator', role: 'operator' })).body.token;
      await harvest();
    }, 180_000);
    afterAll(async () => {
      await fleet?.stop();
      await rec?.close();
      await t?.stop();
      if (stateDir) rmSync(stateDir, { recursive: true, force: true });
    });

    it('enrollment TMK: the first key load gives every new terminal its TMK under its KEK', async () => {
      for (let i = 0; i < DEVICES; i++) expect(store(i).inventory()).toEqual([]);
      await rotate(['TMK'], ids());
      for (let i = 0; i < DEVICES; i++) expect((await inventoriesAgree(i)).map((s) => s.slot)).toEqual(['tmk']);
    });

    it('TPK, TAK and TDK rotation under the TMK, then a TMK rotation that re-sends them', async () => {
      await rotate(['TPK', 'TAK', 'TDK'], ids());
      for (let i = 0; i < DEVICES; i++) expect((await inventoriesAgree(i)).map((s) => s.slot)).toEqual(['tak', 'tdk', 'tmk', 'tpk']);
      await rotate(['TMK'], ids());
      for (let i = 0; i < DEVICES; i++) expect((await inventoriesAgree(i)).find((s) => s.slot === 'tmk')?.version).toBe(2);
    });

    it('key report, inventory and KCV reads, commands, timeline and policies', async () => {
      const sent = await api<ReportSent>('POST', `/v1/devices/${dev(0).deviceId}/keys/report`);
      expect(sent.status).toBe(202);
      const cmd = await eventually(
        async () => {
          const c = await api<ReportCommand>('GET', `/v1/devices/${dev(0).deviceId}/commands/${sent.body.commandId}`);
          return c.body.state === 'succeeded' ? c.body : undefined;
        },
        { what: 'the key report answered' },
      );
      const server = await inventoriesAgree(0);
      expect(cmd.result.inventory.map((e) => `${e.keyId}:${e.kcv}`).sort()).toEqual(server.map((s) => `${s.keyId}:${s.kcv}`).sort());
      for (const id of ids()) {
        expect((await api<KeyInventory>('GET', `/v1/devices/${id}/keys?history=true`)).body.history?.length).toBeGreaterThanOrEqual(5);
        await api('GET', `/v1/devices/${id}/commands?limit=100`);
        await api('GET', `/v1/devices/${id}/timeline`);
      }
      expect((await api('PUT', '/v1/key-policies/TPK', { maxAgeDays: 3650 })).status).toBe(200);
      expect((await api('GET', '/v1/key-policies')).status).toBe(200);
      expect((await api('PUT', '/v1/key-policies/TPK', { maxAgeDays: null })).status).toBe(200);
      await api('GET', '/v1/key-rotations');
      await api('GET', '/v1/key-vault');
    });

    it('zeroize: revoking a terminal’s keys wipes them on the terminal; it is then keyed again', async () => {
      await harvest();
      const revoked = await api('POST', `/v1/devices/${dev(1).deviceId}/keys/revoke`, { reason: 'secret scan' });
      expect(revoked.status, revoked.text).toBe(200);
      await eventually(() => store(1).inventory().length === 0, { what: 'terminal 1 zeroized' });
      expect((await api<KeyInventory>('GET', `/v1/devices/${dev(1).deviceId}/keys`)).body.slots).toEqual([]);
      await rotate(['TMK', 'TPK', 'TAK'], [dev(1).deviceId!]);
      expect((await inventoriesAgree(1)).map((s) => s.slot)).toEqual(['tak', 'tmk', 'tpk']);
    });

    it('BDK ceremonies under dual control (an AES-128 import from two components, a TDES generation) and DUKPT injection', async () => {
      const c1 = randomBytes(16);
      const c2 = randomBytes(16);
      secrets.add('BDK ceremony component 1', c1);
      secrets.add('BDK ceremony component 2', c2);
      secrets.add('imported BDK (c1 XOR c2)', Buffer.from(c1.map((b, i) => b ^ c2[i]!)));
      const ceremony = async (body: Record<string, unknown>, component2?: Buffer) => {
        const req = await api<ApprovalView>('POST', '/v1/key-vault/requests', { reason: 'secret scan BDK', ...body });
        expect(req.status, req.text).toBe(201);
        const approval = component2 ? { component: component2.toString('hex') } : undefined;
        expect((await api<ErrorBody>('POST', `/v1/key-vault/requests/${req.body.id}/approve`, approval)).body.error.code).toBe(
          'dual_control',
        );
        const ok = await api<ApprovalView>('POST', `/v1/key-vault/requests/${req.body.id}/approve`, approval, { token: admin2 });
        expect(ok.status, ok.text).toBe(200);
        await decided(req.body.id);
        return String(req.body.params.bdkId);
      };
      const aes = await ceremony(
        { action: 'bdk.import', name: 'scan aes', scheme: 'aes128', keySetId: 'A1B2C3D4', component: c1.toString('hex') },
        c2,
      );
      const tdes = await ceremony({ action: 'bdk.generate', name: 'scan tdes', scheme: 'tdes' });
      await rotate({ bdkId: aes }, [dev(0).deviceId!]);
      await rotate({ bdkId: tdes }, [dev(1).deviceId!]);
      for (const i of [0, 1]) {
        // The terminal's round-trip PIN check ran under its initial key.
        await eventually(
          async () => {
            const slots = (await api<DukptPage>('GET', `/v1/devices/${dev(i).deviceId}/dukpt`)).body.items;
            return slots[0]?.verifiedAt && !slots[0].verifyError;
          },
          { what: `terminal ${i}'s DUKPT check verified` },
        );
        expect(store(i).slot('dukpt')?.usage).toBe('IK');
      }
      await harvest();
    });

    it('master-key replacement under dual control: the requester and an operator cannot approve, a second admin can', async () => {
      const before = (await api<VaultView>('GET', '/v1/key-vault')).body;
      const req = await api<ApprovalView>('POST', '/v1/key-vault/requests', { action: 'master_key.replace', reason: 'secret scan' });
      expect(req.status, req.text).toBe(201);
      expect((await api<ErrorBody>('POST', `/v1/key-vault/requests/${req.body.id}/approve`)).body.error.code).toBe('dual_control');
      expect((await api('POST', `/v1/key-vault/requests/${req.body.id}/approve`, undefined, { token: operator })).status).toBe(403);
      expect((await api('POST', `/v1/key-vault/requests/${req.body.id}/approve`, undefined, { token: admin2 })).status).toBe(200);
      expect((await decided(req.body.id)).progress.resealed).toBeGreaterThan(0);
      expect((await api<VaultView>('GET', '/v1/key-vault')).body.masterGen).toBe(before.masterGen + 1);
      await harvest();
      // New keys are sealed under the new master key.
      await rotate(['TDK'], [dev(2).deviceId!]);
    });

    it('master-key import ceremony: two custodians, one component each', async () => {
      const c1 = randomBytes(32);
      const c2 = randomBytes(32);
      const imported = combineComponents(c1, c2);
      secrets.add('ceremony component 1', c1);
      secrets.add('ceremony component 2', c2);
      secrets.add('imported master key (c1 XOR c2)', imported);
      const req = await api<ApprovalView>('POST', '/v1/key-vault/requests', {
        action: 'master_key.import',
        reason: 'secret scan ceremony',
        component: c1.toString('hex'),
      });
      expect(req.status, req.text).toBe(201);
      expect(req.body.params).toEqual({ component1Kcv: keyCheckValue(c1) });
      expect(
        (await api<ErrorBody>('POST', `/v1/key-vault/requests/${req.body.id}/approve`, { component: c2.toString('hex') })).body.error.code,
      ).toBe('dual_control');
      const ok = await api<ApprovalView>(
        'POST',
        `/v1/key-vault/requests/${req.body.id}/approve`,
        { component: c2.toString('hex').toUpperCase() },
        { token: admin2 },
      );
      expect(ok.status, ok.text).toBe(200);
      expect(ok.body.params).toMatchObject({ component2Kcv: keyCheckValue(c2), keyKcv: keyCheckValue(imported) });
      await decided(req.body.id);
      expect((await api<VaultView>('GET', '/v1/key-vault')).body.masterKcv).toBe(keyCheckValue(imported));
      await harvest();
      await rotate(['TAK'], [dev(0).deviceId!]);
    });

    it('bulk revocation under dual control zeroizes the terminals', async () => {
      await harvest();
      const req = await api<ApprovalView>('POST', '/v1/key-vault/requests', {
        action: 'keys.bulk_revoke',
        reason: 'secret scan',
        params: { deviceIds: [dev(2).deviceId], usages: ['TMK'] },
      });
      expect(req.status, req.text).toBe(201);
      expect((await api<ErrorBody>('POST', `/v1/key-vault/requests/${req.body.id}/approve`)).body.error.code).toBe('dual_control');
      expect((await api('POST', `/v1/key-vault/requests/${req.body.id}/approve`, undefined, { token: admin2 })).status).toBe(200);
      await decided(req.body.id);
      await eventually(() => store(2).inventory().length === 0, { what: 'terminal 2 zeroized' });
    });

    it('audit and dual-control reads name both custodians', async () => {
      const audit = (await api<AuditPage>('GET', '/v1/audit?limit=500')).body.items;
      expect(audit.find((a) => a.action === 'master_key.import.approve')?.actorName).toBe('second custodian');
      expect(audit.find((a) => a.action === 'master_key.replace.approve')?.actorName).toBe('second custodian');
      expect(audit.some((a) => a.action === 'keys.bulk_revoke.done')).toBe(true);
      const requests = (await api<ApprovalPage>('GET', '/v1/key-vault/requests')).body.items;
      expect(requests.map((r) => r.action).sort()).toEqual([
        'bdk.generate',
        'bdk.import',
        'keys.bulk_revoke',
        'master_key.import',
        'master_key.replace',
      ]);
      for (const b of (await api<BdkPage>('GET', '/v1/bdks')).body.items) await api('GET', `/v1/bdks/${b.id}`);
      for (const id of ids()) await api('GET', `/v1/devices/${id}/dukpt`);
      for (const r of requests) await api('GET', `/v1/key-vault/requests/${r.id}`);
      for (const id of ids()) await api('GET', `/v1/devices/${id}/keys?history=true`);
    });

    it('no key byte in any API answer, log line, stream event or MQTT payload of the run', async () => {
      await moduleInternals(t, 'keys').settling();
      await harvest();
      // Every command an agent answered went through the recorded relay: nothing bypassed it.
      const tapped = new Set(
        rec.tap.publishes
          .filter((p) => p.direction === 'to agent' && p.topic.endsWith('/cmd'))
          .map((p) => commandMessage.parse(JSON.parse(p.payload.toString('utf8'))).id),
      );
      const answered = (await db().select({ id: commands.id, type: commands.type, state: commands.state }).from(commands)).filter((c) =>
        answeredStates.has(c.state),
      );
      expect(answered.filter((c) => c.type.startsWith('keys.')).length).toBeGreaterThanOrEqual(DEVICES * 4);
      expect(answered.filter((c) => !tapped.has(c.id))).toEqual([]);
      expect(rec.tap.errors).toEqual([]);
      expect(rec.blocksLeftOut()).toBeGreaterThanOrEqual(DEVICES * 8);

      // The canary: 8 bytes of a secret (shorter than the log redactor takes for key material) put
      // into a server log line, an API answer and an agent's MQTT message must be found in each:
      // every channel reaches the scan.
      const canary = { name: 'canary', bytes: randomBytes(32) };
      const canaryHex = canary.bytes.subarray(5, 5 + WINDOW_BYTES).toString('hex');
      t.server.parts.log.info(`secret scan canary ${canaryHex}`);
      const canaryLine = t.logLines.findIndex((l) => l.includes(canaryHex));
      expect(canaryLine).toBeGreaterThanOrEqual(0);
      expect((await api('POST', '/v1/users', { name: `canary ${canaryHex}`, role: 'operator' })).status).toBe(201);
      dev(0).agent!.publishRaw('event', JSON.stringify({ canary: canaryHex }));
      const canaryPublish = await eventually(
        () => {
          const i = rec.tap.publishes.findIndex((p) => p.direction === 'to server' && p.payload.includes(canaryHex));
          return i >= 0 ? `mqtt to server #${i} on ${rec.tap.publishes[i]!.topic}` : undefined;
        },
        { what: 'the canary event on the wire' },
      );

      const all = [...secrets.list(), canary];
      const names = all.map((s) => s.name);
      // Generations 1 (first start) and 2 (replacement) from DATA_DIR; 3 is the imported key, named as the test made it.
      expect(names.filter((n) => n.startsWith('master key gen')).length).toBe(2);
      expect(names).toContain('imported master key (c1 XOR c2)');
      // The generated TDES BDK and its variant from the vault; the initial keys from the terminals.
      expect(names.filter((n) => /^vault BDK .* \(tdes\)$|TDES variant$/.test(n)).length).toBe(2);
      expect(names.filter((n) => / dukpt key |\(IK v/.test(n)).length).toBeGreaterThanOrEqual(2);
      expect(names.filter((n) => n.startsWith('vault key')).length).toBeGreaterThanOrEqual(DEVICES * 6);
      expect(names.filter((n) => n.includes(' KEK private key')).length).toBe(DEVICES);
      const captured = rec.captured();
      expect(captured.filter((c) => c.where.startsWith('server log line')).length).toBeGreaterThan(20);
      expect(captured.filter((c) => c.where.startsWith('agent log line')).length).toBeGreaterThan(10);
      expect(captured.filter((c) => c.where.startsWith('stream event')).length).toBeGreaterThan(10);
      expect(captured.filter((c) => c.where.startsWith('mqtt to agent')).length).toBeGreaterThan(DEVICES * 4);
      const leaks = findLeaks(captured, all);
      expect(describeLeaks(leaks.filter((l) => l.secret !== 'canary'))).toBe('');
      expect(leaks.filter((l) => l.secret === 'canary')).toEqual(
        expect.arrayContaining(
          [`server log line ${canaryLine}`, 'POST /v1/users → 201', canaryPublish].map((where) => ({
            secret: 'canary',
            form: 'hex window',
            where,
          })),
        ),
      );
    }, 60_000);
  });
}
