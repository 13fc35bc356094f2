// DUKPT end to end through the real server, MQTT, agents and database (both engines): the
// published X9.24-3 AES-128 and X9.24-1 TDES BDKs imported by the dual-control ceremony (two
// admins, one component each, KCVs of each and of the result; the requester cannot approve); a
// key rotation injects each terminal's initial key as a TR-31 block under its TMK, the terminal
// installs it with the KCV of the published initial key, and its round-trip PIN check verifies on
// the server; a generated BDK; the counter-low alert raised and cleared; and no BDK, component or
// initial key, in any encoding, in an API answer or a log line.
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useCountersUntil } from '../../agent/keys/dukptSimulation.ts';
import type { KeyApprovalRow } from '../../schemas/tables/keys.ts';
import { kcv } from '../../schemas/keyCrypto/kcv.ts';
import type { FleetHandle } from '../../scripts/simulate/fleet.ts';
import type { ErrorBody } from '../../server/http/errorHandler.ts';
import { databaseKinds, type DatabaseKind } from '../helpers/databases.ts';
import { eventually } from '../helpers/eventually.ts';
import { startTestFleet } from '../helpers/fleet.ts';
import { moduleInternals } from '../helpers/moduleInternals.ts';
import { createSoftToken, softhsmMissing, type SoftToken } from '../helpers/softhsm.ts';
import { startTestServer, type TestServer } from '../helpers/testServer.ts';
import { aes128, initialKeyId } from '../unit/dukptAesVectors.ts';
import { BDK as TDES_BDK, INITIAL_KSN as TDES_KSN, IPEK as TDES_IPEK } from '../unit/dukptTdesVectors.ts';
import { findKeyMaterial } from './keyMaterial.ts';

type ApprovalView = Pick<KeyApprovalRow, 'id' | 'action' | 'state' | 'params' | 'progress'>;
interface BdkView {
  id: string;
  name: string;
  scheme: string;
  kcv: string;
  keySetId: string;
  initialKeys: number;
  createdBy: string;
  approvedBy: string | null;
}
interface DukptSlotView {
  keyId: string;
  slot: string;
  state: string;
  kcv: string;
  initialKsn: string;
  ksn: string | null;
  counter: number | null;
  countersLeft: number | null;
  counterLow: boolean;
  verifiedAt: string | null;
  verifyError: { code: string } | null;
}
interface FaultPage {
  items: Array<{ code: string; state: string; deviceId: string }>;
}
interface CommandView {
  payload: { items: Array<{ slot: string; usage: string; format: string; kcv: string; block: string; dukpt?: { scheme: string; ksn: string; bdkKcv: string } }> };
}

const h = (s: string) => Buffer.from(s, 'hex');
const hex = (b: Buffer) => b.toString('hex').toUpperCase();

// The software vault on every engine, and a PKCS#11 token (SoftHSM2) on the first: the ECB
// derivations, the TDES halves and the check's PIN key then happen in the token.
const cases: Array<{ kind: DatabaseKind; hsm: boolean; skip: string | false }> = [
  ...databaseKinds().map((kind) => ({ kind, hsm: false, skip: false as const })),
  { kind: databaseKinds()[0]!, hsm: true, skip: softhsmMissing() ?? false },
];

for (const { kind, hsm, skip } of cases) {
  describe.skipIf(skip)(`DUKPT [${kind}${hsm ? ', pkcs11' : ''}${skip ? ` — skipped: ${skip}` : ''}]`, () => {
    let t: TestServer;
    let token: SoftToken | undefined;
    let fleet: FleetHandle;
    let stateDir: string;
    let admin2: string;
    const aesC1 = randomBytes(16);
    const aesC2 = Buffer.from(h(aes128.bdk).map((b, i) => b ^ aesC1[i]!));
    const tdesC1 = randomBytes(16);
    const tdesC2 = Buffer.from(h(TDES_BDK).map((b, i) => b ^ tdesC1[i]!));
    const secrets = [h(aes128.bdk), h(aes128.initialKey), h(TDES_BDK), h(TDES_IPEK), aesC1, aesC2, tdesC1, tdesC2];
    const devices = () => fleet.agents.map((a) => a.deviceId!);

    beforeAll(async () => {
      token = hsm ? createSoftToken() : undefined;
      t = await startTestServer({ database: kind, capture: true, ...(token ? { env: token.env } : {}) });
      ({ fleet, stateDir } = await startTestFleet(t, { devices: 2, prefix: `DK${kind}${hsm ? 'H' : ''}` }));
      admin2 = (await t.api<{ token: string }>('POST', '/v1/users', { name: 'second custodian', role: 'admin' })).body.token;
    }, 180_000);
    afterAll(async () => {
      await fleet?.stop();
      await t?.stop();
      token?.dispose();
      if (stateDir) rmSync(stateDir, { recursive: true, force: true });
    });

    async function ceremony(body: Record<string, unknown>, component2?: Buffer): Promise<{ request: ApprovalView; approved: ApprovalView; bdk: BdkView }> {
      const r = await t.api<ApprovalView>('POST', '/v1/key-vault/requests', { reason: 'BDK ceremony', ...body });
      expect(r.status, JSON.stringify(r.body)).toBe(201);
      const approveBody = component2 ? { component: hex(component2) } : undefined;
      // The requester cannot approve their own request.
      const own = await t.api<ErrorBody>('POST', `/v1/key-vault/requests/${r.body.id}/approve`, approveBody);
      expect(own.status).toBe(403);
      expect(own.body.error.code).toBe('dual_control');
      const a = await t.api<ApprovalView>('POST', `/v1/key-vault/requests/${r.body.id}/approve`, approveBody, { token: admin2 });
      expect(a.status, JSON.stringify(a.body)).toBe(200);
      await eventually(async () => (await t.api<ApprovalView>('GET', `/v1/key-vault/requests/${r.body.id}`)).body.state === 'done');
      const bdkId = String(r.body.params.bdkId);
      const bdk = await t.api<BdkView>('GET', `/v1/bdks/${bdkId}`);
      expect(bdk.status).toBe(200);
      return { request: r.body, approved: a.body, bdk: bdk.body };
    }

    async function inject(bdkId: string, deviceIds: string[]) {
      const rot = await t.api<{ id: string }>('POST', '/v1/key-rotations', { name: 'inject', dukpt: { bdkId }, target: { deviceIds }, phases: [{ name: 'all', percent: 100 }], successThreshold: 100, errorThreshold: 0 });
      expect(rot.status, JSON.stringify(rot.body)).toBe(201);
      await t.api('POST', `/v1/key-rotations/${rot.body.id}/start`);
      await eventually(async () => (await t.api<{ state: string }>('GET', `/v1/key-rotations/${rot.body.id}`)).body.state === 'succeeded', { timeoutMs: 30_000 });
      await moduleInternals(t, 'keys').settling();
      return rot.body.id;
    }

    const slots = async (deviceId: string) => (await t.api<{ items: DukptSlotView[] }>('GET', `/v1/devices/${deviceId}/dukpt`)).body.items;

    it('imports the published AES-128 BDK from two components and injects the published initial key, verified by the round trip', async () => {
      const { request, approved, bdk } = await ceremony({ action: 'bdk.import', name: 'aes vector', scheme: 'aes128', keySetId: initialKeyId.slice(0, 8), firstDerivationId: 0x90123456, component: hex(aesC1) }, aesC2);
      expect(request.params.component1Kcv).toBe(kcv('cmac', aesC1));
      expect(approved.params.component2Kcv).toBe(kcv('cmac', aesC2));
      expect(approved.params.keyKcv).toBe(kcv('cmac', h(aes128.bdk)));
      expect(bdk).toMatchObject({ scheme: 'aes128', kcv: kcv('cmac', h(aes128.bdk)), keySetId: '12345678', approvedBy: expect.any(String) });
      expect(bdk.approvedBy).not.toBe(bdk.createdBy);

      const [dev] = devices();
      await inject(bdk.id, [dev!]);
      const [s] = await slots(dev!);
      expect(s).toMatchObject({ slot: 'dukpt', state: 'installed', initialKsn: `${initialKeyId}00000000`, kcv: kcv('cmac', h(aes128.initialKey)) });
      await eventually(async () => (await slots(dev!))[0]?.verifiedAt !== null);
      expect((await slots(dev!))[0]?.verifyError).toBeNull();
      // The command sent: one IK item, TR-31 with the scheme, KSN and BDK KCV (the block redacted in views).
      const cmds = await t.api<{ items: Array<{ id: string; type: string }> }>('GET', `/v1/devices/${dev}/commands`);
      const install = cmds.body.items.find((c) => c.type === 'keys.install');
      const cmd = await t.api<CommandView>('GET', `/v1/devices/${dev}/commands/${install!.id}`);
      const ik = cmd.body.payload.items.find((i) => i.usage === 'IK');
      expect(ik).toMatchObject({ slot: 'dukpt', format: 'tr31', dukpt: { scheme: 'aes128', ksn: `${initialKeyId}00000000`, bdkKcv: bdk.kcv } });
      const keysView = await t.api<{ slots: Array<{ slot: string; usage: string; kcv: string }> }>('GET', `/v1/devices/${dev}/keys`);
      expect(keysView.body.slots.find((k) => k.slot === 'dukpt')).toMatchObject({ usage: 'IK', kcv: kcv('cmac', h(aes128.initialKey)) });
      expect((await t.api<BdkView>('GET', `/v1/bdks/${bdk.id}`)).body.initialKeys).toBe(1);
      // The ceremony is in the audit log: request, the requester's refused approval, the approval, done.
      const audit = (await t.api<{ items: Array<{ action: string; target: string }> }>('GET', '/v1/audit?limit=200')).body.items.filter((a) => a.target === request.id).map((a) => a.action);
      expect(audit).toEqual(expect.arrayContaining(['bdk.import.request', 'bdk.import.refused', 'bdk.import.approve', 'bdk.import.done']));
    }, 120_000);

    it('imports the published TDES BDK and injects the published IPEK (enc0 KCV), verified by the round trip', async () => {
      const { approved, bdk } = await ceremony({ action: 'bdk.import', name: 'tdes vector', scheme: 'tdes', keySetId: TDES_KSN.slice(0, 10), firstDerivationId: 0x19087, component: hex(tdesC1) }, tdesC2);
      expect(approved.params.keyKcv).toBe(kcv('enc0', h(TDES_BDK)));
      const dev = devices()[1]!;
      await inject(bdk.id, [dev]);
      const [s] = await slots(dev);
      expect(s).toMatchObject({ state: 'installed', initialKsn: TDES_KSN, kcv: kcv('enc0', h(TDES_IPEK)) });
      await eventually(async () => (await slots(dev))[0]?.verifiedAt !== null);
    }, 120_000);

    it('refuses bad ceremony input and keeps the request pending', async () => {
      const r = await t.api<ApprovalView>('POST', '/v1/key-vault/requests', { action: 'bdk.import', reason: 'x', name: 'bad', scheme: 'aes256', keySetId: 'AABBCCDD', component: hex(randomBytes(32)) });
      expect(r.status).toBe(201);
      const short = await t.api<ErrorBody>('POST', `/v1/key-vault/requests/${r.body.id}/approve`, { component: hex(randomBytes(16)) }, { token: admin2 });
      expect([short.status, short.body.error.code]).toEqual([400, 'bad_component']);
      const none = await t.api<ErrorBody>('POST', `/v1/key-vault/requests/${r.body.id}/approve`, undefined, { token: admin2 });
      expect([none.status, none.body.error.code]).toEqual([400, 'component_required']);
      expect((await t.api<ApprovalView>('GET', `/v1/key-vault/requests/${r.body.id}`)).body.state).toBe('pending');
      const taken = await t.api<ErrorBody>('POST', '/v1/key-vault/requests', { action: 'bdk.generate', reason: 'x', name: 'aes vector', scheme: 'aes128' });
      expect([taken.status, taken.body.error.code]).toEqual([409, 'bdk_exists']);
      const badSet = await t.api<ErrorBody>('POST', '/v1/key-vault/requests', { action: 'bdk.generate', reason: 'x', name: 'n', scheme: 'tdes', keySetId: 'AABBCCDD' });
      expect([badSet.status, badSet.body.error.code]).toEqual([400, 'bad_key_set_id']);
    });

    it('generates an AES-256 BDK under dual control and re-injects a terminal from it, the old initial key superseded', async () => {
      const { approved, bdk } = await ceremony({ action: 'bdk.generate', name: 'generated', scheme: 'aes256' });
      expect(approved.params.keyKcv).toBe(bdk.kcv);
      const dev = devices()[0]!;
      await inject(bdk.id, [dev]);
      const all = await slots(dev);
      expect(all.map((s) => s.state)).toEqual(['installed', 'superseded']);
      expect(all[0]!.initialKsn.slice(0, 8)).toBe(bdk.keySetId);
      await eventually(async () => (await slots(dev))[0]?.verifiedAt !== null);
    }, 120_000);

    it('raises dukpt_counter_low from a reported inventory and clears it when the counters are fine again', async () => {
      const dev = devices()[1]!;
      const [s] = await slots(dev);
      const dukpt = moduleInternals(t, 'keys').dukpt;
      const entry = (countersLeft: number) => ({ installed: [], inventory: [{ slot: 'dukpt', usage: 'IK', keyId: s!.keyId, version: 1, kcv: s!.kcv, dukpt: { scheme: 'tdes', ksn: TDES_KSN, counter: 5, countersLeft } }] });
      await dukpt.observe(dev, entry(1_000));
      const open = async () => (await t.api<FaultPage>('GET', `/v1/faults?deviceId=${dev}&state=all`)).body.items.filter((f) => f.code === 'dukpt_counter_low');
      await eventually(async () => (await open()).some((f) => f.state === 'open'));
      expect((await slots(dev))[0]).toMatchObject({ counterLow: true, countersLeft: 1_000, counter: 5 });
      await dukpt.observe(dev, entry(900_000));
      await eventually(async () => (await open()).every((f) => f.state === 'resolved'));
      expect((await slots(dev))[0]?.counterLow).toBe(false);
    });

    // Answers arriving together share one lookup of the flagged keys (dukptService's batcher):
    // each terminal still gets its own, and a terminal that reports no DUKPT key clears its flag.
    it('reads the flagged keys of terminals answering at once, each its own', async () => {
      const [other, dev] = [devices()[0]!, devices()[1]!];
      const [s] = await slots(dev);
      const otherBefore = await slots(other);
      const dukpt = moduleInternals(t, 'keys').dukpt;
      const low = { installed: [], inventory: [{ slot: 'dukpt', usage: 'IK', keyId: s!.keyId, version: 1, kcv: s!.kcv, dukpt: { scheme: 'tdes', ksn: TDES_KSN, counter: 5, countersLeft: 1_000 } }] };
      const none = { installed: [], inventory: [] };
      await Promise.all([dukpt.observe(other, none), dukpt.observe(dev, low)]);
      expect((await slots(dev))[0]?.counterLow).toBe(true);
      await Promise.all([dukpt.observe(other, none), dukpt.observe(dev, none)]);
      expect((await slots(dev))[0]?.counterLow).toBe(false);
      expect(await slots(other)).toEqual(otherBefore);
    });

    it('a terminal near exhaustion says so in its report: the fault opens, and resolves once a new initial key is installed', async () => {
      const dev = devices()[1]!;
      // Simulator knob: the terminal's ledger moves on until 1,000 counters are left.
      useCountersUntil(join(stateDir, fleet.agents[1]!.serial), 'dukpt', 1_000);
      expect((await t.api('POST', `/v1/devices/${dev}/keys/report`)).status).toBe(202);
      const faults = async () => (await t.api<FaultPage>('GET', `/v1/faults?deviceId=${dev}&state=all`)).body.items.filter((f) => f.code === 'dukpt_counter_low');
      await eventually(async () => (await faults()).some((f) => f.state === 'open'), { timeoutMs: 15_000 });
      const [low] = await slots(dev);
      expect(low?.counterLow).toBe(true);
      expect(low?.countersLeft).toBeLessThanOrEqual(1_000);
      const tdes = (await t.api<{ items: BdkView[] }>('GET', '/v1/bdks')).body.items.find((b) => b.name === 'tdes vector')!;
      await inject(tdes.id, [dev]);
      await eventually(async () => (await faults()).every((f) => f.state === 'resolved'), { timeoutMs: 15_000 });
      const now = await slots(dev);
      expect(now.map((s) => s.state)).toEqual(['installed', 'superseded']);
      expect(now[0]).toMatchObject({ counterLow: false, initialKsn: 'FFFF9876543211000000' });
    }, 120_000);

    it('keeps the BDKs usable across a master-key replacement: they are resealed under the new generation', async () => {
      const r = await t.api<ApprovalView>('POST', '/v1/key-vault/requests', { action: 'master_key.replace', reason: 'yearly' });
      expect(r.status, JSON.stringify(r.body)).toBe(201);
      expect((await t.api('POST', `/v1/key-vault/requests/${r.body.id}/approve`, undefined, { token: admin2 })).status).toBe(200);
      await eventually(async () => (await t.api<ApprovalView>('GET', `/v1/key-vault/requests/${r.body.id}`)).body.state === 'done', { timeoutMs: 30_000 });
      const aes = (await t.api<{ items: BdkView[] }>('GET', '/v1/bdks')).body.items.find((b) => b.name === 'aes vector')!;
      const dev = devices()[1]!;
      await inject(aes.id, [dev]);
      const [s] = await slots(dev);
      expect(s).toMatchObject({ state: 'installed', initialKsn: `${initialKeyId.slice(0, 8)}9012345700000000` });
      await eventually(async () => (await slots(dev))[0]?.verifiedAt !== null);
    }, 120_000);

    it('lets no BDK, component or initial key out in any answer or log line', () => {
      const haystack = [...t.responses, ...t.logLines].join('\n');
      expect(findKeyMaterial(haystack, secrets)).toEqual([]);
      expect(t.responses.length).toBeGreaterThan(20);
    });
  });
}
