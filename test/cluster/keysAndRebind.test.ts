// Three real server processes (CLUSTER=true) behind HAProxy, real agents. A key rotation started
// through one instance (which leads it) survives that instance's kill -9: another takes the lead
// and completes it, the inventories of server and terminals agreeing. A re-binding approved
// through the instance holding the terminal survives that instance's kill -9 right after: the
// terminal, back through the balancer, gets the zeroize and the new binding from its new holder.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSecureStore } from '../../agent/keys/secureStore.ts';
import { openStateStore } from '../../agent/stateStore.ts';
import type { Api } from '../helpers/apiClient.ts';
import { eventually } from '../helpers/eventually.ts';
import { merchantBody } from '../merchants/helpers.ts';
import { leaderReader, type LeaderReader } from './harness/leader.ts';
import { heldBy, othersThan, startRig, type ClusterRig, type RigFleet } from './harness/rig.ts';
import { clusterPostgres } from './harness/stores.ts';

interface RotationView {
  id: string;
  state: string;
  counts: Record<string, number>;
}
interface KeySlot {
  slot: string;
  keyId: string;
  version: number;
  kcv: string;
}
interface CommandView {
  id: string;
  state: string;
}
interface BindingView {
  bound: boolean;
  binding: { merchantId: string; epoch: number; tid: string } | null;
}

const N = 15;
let tidCounter = 0;
const nextTid = () => `K${String(process.pid % 10_000).padStart(4, '0')}${String(++tidCounter).padStart(3, '0')}`;

async function activeMerchant(api: Api, approverToken: string): Promise<string> {
  const created = await api<{ id: string }>('POST', '/v1/merchants', merchantBody());
  if (created.status !== 201) throw new Error(`merchant create: ${created.status} ${created.text}`);
  const ok = await api('POST', `/v1/merchants/${created.body.id}/approve`, undefined, { token: approverToken });
  if (ok.status !== 200) throw new Error(`merchant approve: ${ok.status} ${ok.text}`);
  return created.body.id;
}

describe.skipIf(!clusterPostgres)('key rotations and re-bindings across an instance death', () => {
  let rig: ClusterRig;
  let fleet: RigFleet;
  let leaders: LeaderReader;

  beforeAll(async () => {
    rig = await startRig({
      n: 3,
      env: { CLUSTER: 'true', CAMPAIGN_TICK_MS: '200', CAMPAIGN_RETRY_BASE_MS: '300', FLUSH_INTERVAL_MS: '200' },
    });
    leaders = await leaderReader(rig.cluster.stores.databaseUrl);
    fleet = await rig.fleet({ devices: N, prefix: `KRB${process.pid}`, healthIntervalS: 30 });
    await rig.held(fleet.ids());
  }, 120_000);
  afterAll(async () => {
    await leaders?.close();
    await rig?.stop();
  }, 60_000);

  const simOf = (deviceId: string) => fleet.sim(deviceId);

  it('completes a key rotation whose starting instance is killed mid-way, the inventories agreeing', async () => {
    const [starter] = rig.cluster.instances;
    if (!starter) throw new Error('three instances expected');
    const api = rig.on(starter);
    const created = await api<RotationView>('POST', '/v1/key-rotations', {
      name: 'TPK+TAK through a crash',
      usages: ['TPK', 'TAK'],
      target: { deviceIds: fleet.ids() },
      phases: [
        { name: 'canary', percent: 20 },
        { name: 'rest', percent: 80 },
      ],
      successThreshold: 90,
      errorThreshold: 10,
      rate: { maxPerMinute: 120 },
    });
    expect(created.status, created.text).toBe(201);
    const id = created.body.id;
    const started = await api('POST', `/v1/key-rotations/${id}/start`);
    expect(started.status, started.text).toBe(200);
    expect(await eventually(() => leaders.of(id), { what: 'a leader' })).toBe(starter.id);
    const [other] = othersThan(rig.cluster, starter);
    if (!other) throw new Error('a living instance expected');
    const view = async () => (await rig.on(other)<RotationView>('GET', `/v1/key-rotations/${id}`)).body;
    await eventually(async () => ((await view()).counts.succeeded ?? 0) >= 3, {
      timeoutMs: 30_000,
      stepMs: 200,
      what: 'some terminals rotated',
    });
    expect((await view()).counts.succeeded ?? 0).toBeLessThan(N);

    await starter.kill9();
    try {
      await afterLeaderDeath(id, starter.id);
    } finally {
      // Back for the next scenario: the same id, in the balancer again.
      await rig.cluster.restartInstance(starter.id);
      await rig.cluster.balancer.waitServers((s) => s.every((x) => x.status === 'UP'), 10_000);
    }
  }, 90_000);

  async function afterLeaderDeath(id: string, deadId: string) {
    const [other] = rig.cluster.instances.filter((i) => i.isRunning());
    if (!other) throw new Error('a living instance expected');
    const view = async () => (await rig.on(other)<RotationView>('GET', `/v1/key-rotations/${id}`)).body;
    await eventually(
      async () => {
        const l = await leaders.of(id);
        return l !== null && l !== deadId;
      },
      { timeoutMs: 15_000, stepMs: 100, what: 'a new leader' },
    );
    const end = await eventually(
      async () => {
        const r = await view();
        return r.state !== 'running' ? r : null;
      },
      { timeoutMs: 60_000, stepMs: 250, what: 'the rotation to end' },
    );
    expect(end.state).toBe('succeeded');
    expect(end.counts).toEqual({ succeeded: N });
    // Every terminal's keys installed on both sides, the same ids, versions and KCVs.
    const mismatches = async () => {
      const out: string[] = [];
      for (const sim of fleet.fleet.agents) {
        const inv = await rig.on(other)<{ slots: KeySlot[] }>('GET', `/v1/devices/${sim.deviceId}/keys`);
        const server = inv.body.slots.map(({ slot, keyId, version, kcv }) => ({ slot, keyId, version, kcv }));
        const onDevice = openSecureStore(join(fleet.stateDir, sim.serial))
          .inventory()
          .map(({ slot, keyId, version, kcv }) => ({ slot, keyId, version, kcv }));
        if (server.map((x) => x.slot).join() !== 'tak,tmk,tpk' || JSON.stringify(server) !== JSON.stringify(onDevice))
          out.push(
            `${sim.deviceId}: server ${server.map((x) => x.slot).join('+') || 'none'}, terminal ${onDevice.map((x) => x.slot).join('+') || 'none'}`,
          );
      }
      return out;
    };
    // A rotation reads as finished only once the keys it installed read as installed.
    expect(await mismatches()).toEqual([]);
  }

  it('delivers a re-binding approved through the terminal’s holder killed right after', async () => {
    const [, holder] = rig.cluster.instances;
    if (!holder) throw new Error('three instances expected');
    const approver = await rig.lb<{ id: string; token: string }>('POST', '/v1/users', { name: `approver-${process.pid}`, role: 'admin' });
    expect(approver.status, approver.text).toBe(201);
    const first = await activeMerchant(rig.lb, approver.body.token);
    const second = await activeMerchant(rig.lb, approver.body.token);

    const [deviceId] = heldBy(await rig.holders(), fleet.ids(), holder.id);
    if (!deviceId) throw new Error('a terminal on the holder expected');
    const bound = await rig.lb<{ commandId: string }>('PUT', `/v1/devices/${deviceId}/binding`, { merchantId: first, tid: nextTid() });
    expect(bound.status, bound.text).toBe(200);
    const succeeded = (api: Api, cmdId: string, what: string) =>
      eventually(async () => (await api<CommandView>('GET', `/v1/devices/${deviceId}/commands/${cmdId}`)).body.state === 'succeeded', {
        what,
        timeoutMs: 30_000,
        stepMs: 200,
      });
    await succeeded(rig.lb, bound.body.commandId, 'the first binding applied');
    expect(openStateStore(join(fleet.stateDir, simOf(deviceId).serial)).loadMerchant().binding?.claims.merchantId).toBe(first);

    const request = await rig.lb<{ id: string }>('POST', `/v1/devices/${deviceId}/rebind-requests`, {
      merchantId: second,
      tid: nextTid(),
      reason: 'shop moved',
    });
    expect(request.status, request.text).toBe(201);
    // Approved through the instance holding the terminal, which dies before it can deliver.
    const approved = await rig.on(holder)<{ commands: { zeroize: string; binding: string }; binding: { epoch: number } }>(
      'POST',
      `/v1/rebind-requests/${request.body.id}/approve`,
      undefined,
      { token: approver.body.token },
    );
    expect(approved.status, approved.text).toBe(200);
    await holder.kill9();

    const [other] = othersThan(rig.cluster, holder).filter((i) => i.isRunning());
    if (!other) throw new Error('a living instance expected');
    const api = rig.on(other);
    await rig.held([deviceId], { by: (h) => h !== holder.id, timeoutMs: 30_000 });
    await succeeded(api, approved.body.commands.zeroize, 'the zeroize');
    await succeeded(api, approved.body.commands.binding, 'the new binding');
    const now = await api<BindingView>('GET', `/v1/devices/${deviceId}/binding`);
    expect(now.body.binding).toMatchObject({ merchantId: second, epoch: approved.body.binding.epoch });
    expect(approved.body.binding.epoch).toBe(2);
    const merchant = openStateStore(join(fleet.stateDir, simOf(deviceId).serial)).loadMerchant();
    expect(merchant.binding?.claims.merchantId).toBe(second);
    expect(simOf(deviceId).agent?.stats().commands['keys.zeroize']).toBe(1);
  }, 90_000);
});
