// A three-phase rollout to 30 real agents spread by HAProxy over three server processes; the
// instance leading the campaign is killed with SIGKILL mid-rollout. Another instance takes the
// lead from PostgreSQL and the rollout completes: every terminal runs 2.0.0, none installed
// twice (its agent ran one ota.install; one succeeded command per device per phase), and the
// counts are exact through every living instance.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStateStore } from '../../agent/stateStore.ts';
import { publisher, type RolloutDevice, type RolloutView } from '../campaigns/otaHarness.ts';
import { signedImage } from '../firmware/signedImage.ts';
import type { Api } from '../helpers/apiClient.ts';
import { eventually } from '../helpers/eventually.ts';
import { leaderReader, type LeaderReader } from './harness/leader.ts';
import type { ClusterInstance } from './harness/instances.ts';
import { othersThan, startRig, type ClusterRig, type RigFleet } from './harness/rig.ts';
import { clusterPostgres } from './harness/stores.ts';

const N = 30;

interface CommandView {
  id: string;
  type: string;
  state: string;
}

async function uploadImage(api: Api, version: string): Promise<string> {
  const { image, manifest, signature } = signedImage(publisher, 64 * 1024, version, ['PAX-A920']);
  const created = await api<{ id: string }>('POST', '/v1/firmware', { manifest, signature });
  if (created.status !== 201) throw new Error(`firmware create: ${created.status} ${created.text}`);
  const up = await api('PUT', `/v1/firmware/${created.body.id}/content`, undefined, {
    raw: new Uint8Array(image),
    headers: { 'content-type': 'application/octet-stream' },
  });
  if (up.status !== 200) throw new Error(`firmware upload: ${up.status} ${up.text}`);
  return created.body.id;
}

describe.skipIf(!clusterPostgres)('a rollout whose leader dies', () => {
  let rig: ClusterRig;
  let fleet: RigFleet;
  let leaders: LeaderReader;
  let fw2: string;

  beforeAll(async () => {
    rig = await startRig({
      n: 3,
      env: {
        CLUSTER: 'true',
        FIRMWARE_PUBLISHER_KEYS: publisher.publicKeyBase64,
        CAMPAIGN_RETRY_BASE_MS: '300',
        CAMPAIGN_TICK_MS: '200',
        FLUSH_INTERVAL_MS: '200',
      },
    });
    leaders = await leaderReader(rig.cluster.stores.databaseUrl);
    // Uploaded through the balancer: the image lands in SHARED_DIR, downloaded through any instance.
    await uploadImage(rig.lb, '1.0.0');
    fw2 = await uploadImage(rig.lb, '2.0.0');
    fleet = await rig.fleet({ devices: N, prefix: `ROL${process.pid}`, healthIntervalS: 30, fwVersion: '1.0.0', concurrency: 25 });
    await rig.held(fleet.ids());
  }, 120_000);
  afterAll(async () => {
    await leaders?.close();
    await rig?.stop();
  }, 60_000);

  /** The members not succeeded, with their commands and agents, to say where a rollout stopped. */
  async function stuck(id: string, via: ClusterInstance) {
    const api = rig.on(via);
    const members = (await api<{ items: RolloutDevice[] }>('GET', `/v1/rollouts/${id}/devices?limit=500`)).body.items;
    const holders = await rig.holders();
    return Promise.all(
      members
        .filter((m) => m.state !== 'succeeded' && m.state !== 'pending')
        .map(async (m) => {
          const sim = fleet.fleet.agents.find((a) => a.deviceId === m.deviceId);
          const cmds = (
            await api<{ items: (CommandView & { stage: string | null })[] }>('GET', `/v1/devices/${m.deviceId}/commands?limit=10`)
          ).body.items;
          return {
            member: m,
            holder: holders.get(m.deviceId),
            commands: cmds.map((c) => `${c.id} ${c.type} ${c.state} ${c.stage ?? ''}`),
            agent: { status: sim?.status, commands: sim?.agent?.stats().commands, acks: sim?.agent?.stats().acks },
          };
        }),
    );
  }

  it('completes after a kill -9 of its leader, each terminal updated once, the counts exact', async () => {
    const ids = fleet.ids();
    const holders = await rig.holders();
    for (const i of rig.cluster.instances) expect(ids.filter((id) => holders.get(id) === i.id).length).toBe(N / 3);

    const created = await rig.lb<{ id: string }>('POST', '/v1/rollouts', {
      name: 'v2 through a leader crash',
      firmwareId: fw2,
      target: { deviceIds: ids },
      phases: [
        { name: 'canary', percent: 10 },
        { name: 'early', percent: 30 },
        { name: 'rest', percent: 60 },
      ],
      successThreshold: 90,
      errorThreshold: 10,
      // Two a second: the kill falls in the middle.
      rate: { maxPerMinute: 120 },
    });
    expect(created.status, created.text).toBe(201);
    const id = created.body.id;
    const started = await rig.lb<{ state: string }>('POST', `/v1/rollouts/${id}/start`);
    expect(started.status, started.text).toBe(200);
    const leaderId = await eventually(() => leaders.of(id), { what: 'a leader' });
    const leader = rig.cluster.instance(leaderId);
    const [other] = othersThan(rig.cluster, leader);
    if (!other) throw new Error('a living instance expected');
    const view = async () => {
      const r = await rig.on(other)<RolloutView>('GET', `/v1/rollouts/${id}`);
      expect(r.status, r.text).toBe(200);
      return r.body;
    };

    const before = await eventually(
      async () => {
        const r = await view();
        return (r.counts.succeeded ?? 0) >= 6 ? r : null;
      },
      { timeoutMs: 40_000, stepMs: 200, what: 'some terminals updated' },
    );
    expect(before.counts.succeeded ?? 0).toBeLessThan(N);
    // Some not even sent yet: the new leader has sending left to do, not only answers to collect.
    expect(before.counts.pending ?? 0).toBeGreaterThan(0);

    await leader.kill9();
    const killedAt = Date.now();
    const next = await eventually(
      async () => {
        const l = await leaders.of(id);
        return l && l !== leaderId ? l : null;
      },
      { timeoutMs: 15_000, stepMs: 100, what: 'a new leader' },
    );
    expect(next).not.toBe(leaderId);
    expect(Date.now() - killedAt).toBeLessThan(5_000);

    let last: RolloutView | undefined;
    const end = await eventually(
      async () => {
        last = await view();
        return last.state !== 'running' ? last : null;
      },
      { timeoutMs: 60_000, stepMs: 250, what: 'the rollout to end' },
    ).catch(async (err: unknown) => {
      throw new Error(
        `${String(err)}; last seen: ${JSON.stringify(last && last.counts)}; stuck: ${JSON.stringify(await stuck(id, other))}`,
      );
    });
    expect(end.state).toBe('succeeded');
    expect(end.counts).toEqual({ succeeded: N });
    expect(end.phases.map((p) => p.total)).toEqual([3, 9, 18]);
    expect(end.phases.map((p) => p.succeeded)).toEqual([3, 9, 18]);
    for (const i of othersThan(rig.cluster, leader)) {
      const r = (await rig.on(i)<RolloutView>('GET', `/v1/rollouts/${id}`)).body;
      expect(r.counts).toEqual({ succeeded: N });
    }
    const members = (await rig.on(other)<{ items: RolloutDevice[] }>('GET', `/v1/rollouts/${id}/devices?limit=500`)).body.items;
    expect(members).toHaveLength(N);
    expect(members.every((m) => m.state === 'succeeded' && m.attempt === 1 && m.reportedVersion === '2.0.0')).toBe(true);

    // Server side: one succeeded ota.install per terminal (each terminal is in one phase). Read
    // on another instance than the terminal's holder, the command row is the holder's write-behind
    // (docs/cluster.md: up to one write interval behind it), so each is given a few seconds.
    for (const deviceId of ids) {
      const installStates = async () => {
        const cmds = (await rig.on(other)<{ items: CommandView[] }>('GET', `/v1/devices/${deviceId}/commands?limit=100`)).body.items;
        return cmds.filter((c) => c.type === 'ota.install').map((c) => c.state);
      };
      let states: string[] = [];
      await eventually(async () => ((states = await installStates()).some((s) => s !== 'succeeded') ? null : true), { timeoutMs: 5_000, stepMs: 100, what: `${deviceId}'s install written` }).catch(() => undefined);
      expect(states, deviceId).toEqual(['succeeded']);
    }
    // Agent side: each terminal ran one install and runs 2.0.0.
    for (const sim of fleet.fleet.agents) {
      expect(sim.agent?.stats().commands['ota.install'], sim.serial).toBe(1);
      const slots = openStateStore(join(fleet.stateDir, sim.serial)).loadFirmware('1.0.0');
      expect(slots[slots.active].version, sim.serial).toBe('2.0.0');
    }
  }, 90_000);
});
