// Three real server processes (CLUSTER=true) behind HAProxy; real agents, most connected through
// the balancer, a few straight to the instance that is then killed with SIGKILL. The balancer's
// terminals of the dead instance reconnect through it to the living ones, show online there and
// get the commands created while they were away (and the one in flight at the kill, run once);
// the terminals that do not come back are offline on every living instance within
// HEARTBEAT_TIMEOUT_S. Restarted under the same id on the same ports, the instance is UP in
// HAProxy and takes connections again without a balancer reload; a kill -9 followed at once by
// a restart under the same id still marks its terminal offline, once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/eventually.ts';
import type { ClusterInstance } from './harness/instances.ts';
import { heldBy, othersThan, startRig, type ClusterRig, type RigFleet } from './harness/rig.ts';
import { clusterPostgres } from './harness/stores.ts';

interface CommandView {
  id: string;
  state: string;
}
interface DeviceView {
  online: boolean;
  connected: boolean;
}
interface Timeline {
  items: { kind: string }[];
}

const HEARTBEAT_TIMEOUT_S = 10;
const N = 12;
const GONE = 3;

describe.skipIf(!clusterPostgres)('an instance killed under its terminals', () => {
  let rig: ClusterRig;
  let fleet: RigFleet;
  /** Connected to the victim's own port, so they do not come back once it dies. */
  let gone: RigFleet;

  beforeAll(async () => {
    rig = await startRig({ n: 3, env: { CLUSTER: 'true', FLUSH_INTERVAL_MS: '200', HEARTBEAT_TIMEOUT_S: String(HEARTBEAT_TIMEOUT_S) } });
    const victim = rig.cluster.instances[2];
    if (!victim) throw new Error('three instances expected');
    fleet = await rig.fleet({ devices: N, prefix: `DTH${process.pid}` });
    gone = await rig.fleet({ devices: GONE, prefix: `GON${process.pid}`, mqttUrl: `mqtt://127.0.0.1:${victim.mqttPort}` });
    await rig.held([...fleet.ids(), ...gone.ids()]);
  }, 120_000);
  afterAll(async () => {
    await rig?.stop();
  }, 60_000);

  const simOf = (deviceId: string) => {
    const found = [...fleet.fleet.agents, ...gone.fleet.agents].find((x) => x.deviceId === deviceId);
    if (!found) throw new Error(`no agent for ${deviceId}`);
    return found;
  };

  it('moves its terminals to the others, delivers what was created meanwhile, and marks the rest offline within the heartbeat timeout', async () => {
    const [, , victim] = rig.cluster.instances;
    if (!victim) throw new Error('three instances expected');
    const living = othersThan(rig.cluster, victim);
    const [x, y] = living;
    if (!x || !y) throw new Error('two living instances expected');
    const holders = await rig.holders();
    const moving = heldBy(holders, fleet.ids(), victim.id, 2);
    for (const id of gone.ids()) expect(holders.get(id)).toBe(victim.id);

    // One command in flight at the kill (created through the victim itself, delivered by it).
    const inFlight = await rig.on(victim)<CommandView>('POST', `/v1/devices/${moving[0]}/commands`, { type: 'diag.run' });
    expect(inFlight.status, inFlight.text).toBe(201);

    await victim.kill9();
    const killedAt = Date.now();
    // Created while the victim's terminals are away: each through a living instance.
    const away = await Promise.all(
      moving.map(async (id, k) => {
        const r = await rig.on(living[k % 2]!)<CommandView>('POST', `/v1/devices/${id}/commands`, {
          type: 'config.set',
          payload: { healthIntervalS: 5 },
        });
        expect(r.status, r.text).toBe(201);
        return { deviceId: id, cmdId: r.body.id };
      }),
    );
    // The stragglers' agents stop while they are cut off: they never come back.
    await gone.stop();

    // Back through the balancer, on the living instances only.
    const after = await rig.held(moving, { by: (h) => h !== victim.id, timeoutMs: 30_000 });
    for (const id of moving) expect([x.id, y.id]).toContain(after.get(id));
    for (const id of moving) await eventually(() => simOf(id).status === 'connected', { what: `${id} reconnected`, timeoutMs: 30_000 });
    for (const i of living)
      for (const id of moving)
        await eventually(async () => (await rig.on(i)<DeviceView>('GET', `/v1/devices/${id}`)).body.online, {
          what: `${id} online on ${i.id}`,
          stepMs: 200,
        });

    // Every command reaches its terminal, once.
    const succeeded = (deviceId: string, cmdId: string) =>
      eventually(
        async () => (await rig.on(x)<CommandView>('GET', `/v1/devices/${deviceId}/commands/${cmdId}`)).body.state === 'succeeded',
        { what: `${cmdId} succeeded`, timeoutMs: 30_000, stepMs: 200 },
      );
    for (const { deviceId, cmdId } of away) await succeeded(deviceId, cmdId);
    await succeeded(moving[0]!, inFlight.body.id);
    for (const { deviceId } of away) expect(simOf(deviceId).agent?.stats().commands['config.set']).toBe(1);
    expect(simOf(moving[0]!).agent?.stats().commands['diag.run']).toBe(1);

    // The ones that did not come back: offline on every living instance within the timeout.
    await eventually(
      async () => {
        for (const i of living)
          for (const id of gone.ids()) if ((await rig.on(i)<DeviceView>('GET', `/v1/devices/${id}`)).body.online) return false;
        return true;
      },
      { what: 'the stragglers offline everywhere', timeoutMs: HEARTBEAT_TIMEOUT_S * 1_000, stepMs: 250 },
    );
    expect(Date.now() - killedAt).toBeLessThan(HEARTBEAT_TIMEOUT_S * 1_000);
    for (const i of living) {
      const s = await eventually(
        async () => {
          const r = (await rig.on(i)<{ online: number; offline: number }>('GET', '/v1/fleet/summary')).body;
          return r.online === N ? r : null;
        },
        { what: `summary on ${i.id}`, stepMs: 200 },
      );
      expect(s).toMatchObject({ online: N, offline: GONE });
    }
    // Their rows say so too (the online filter reads them), written by whoever cleaned up; the rows
    // go through the write-behind, so they may trail the presence the summary reads by a flush.
    const offlineRows = async () =>
      (await rig.on(x)<{ items: { id: string }[] }>('GET', '/v1/devices?online=false&limit=100')).body.items.map((d) => d.id).sort();
    const expected = [...gone.ids()].sort();
    await eventually(
      async () => {
        expect(await offlineRows()).toEqual(expected);
        return true;
      },
      { what: 'offline rows of the stragglers', timeoutMs: 5_000, stepMs: 200 },
    );
  }, 90_000);

  it('takes connections again once restarted on its ports, and a kill -9 with an immediate restart marks its terminal offline once', async () => {
    const [x, , victim] = rig.cluster.instances;
    if (!x || !victim) throw new Error('three instances expected');
    const { mqttPort } = victim;
    await rig.cluster.restartInstance(victim.id);
    expect(victim.isRunning()).toBe(true);
    expect(victim.mqttPort).toBe(mqttPort);
    await rig.cluster.balancer.waitServers((s) => s.length === 3 && s.every((v) => v.status === 'UP'), 5_000);
    const totalBefore = (await rig.cluster.balancer.servers()).find((v) => v.name === victim.id)?.total ?? 0;
    // Round robin over three living instances: one of three new terminals lands on it.
    const back = await rig.fleet({ devices: 3, prefix: `BAK${process.pid}` });
    heldBy(await rig.held(back.ids()), back.ids(), victim.id);
    expect((await rig.cluster.balancer.servers()).find((v) => v.name === victim.id)?.total).toBeGreaterThan(totalBefore);

    // Whether x sees the death or the restarted victim finds its previous run's registry
    // entries first, the terminal goes offline, once.
    const quick = await rig.fleet({ devices: 1, prefix: `QCK${process.pid}`, mqttUrl: `mqtt://127.0.0.1:${victim.mqttPort}` });
    const [id] = quick.ids();
    if (!id) throw new Error('one terminal expected');
    await rig.held([id], { by: (h) => h === victim.id });
    const view = async (i: ClusterInstance) => (await rig.on(i)<DeviceView>('GET', `/v1/devices/${id}`)).body;
    await eventually(async () => (await view(x)).online, { what: `${id} online on ${x.id}`, stepMs: 200 });
    await victim.kill9();
    // Its agent stops while cut off, so only the server side decides it is gone.
    await quick.stop();
    await rig.cluster.restartInstance(victim.id);
    const offlineEntries = async () =>
      (await rig.on(x)<Timeline>('GET', `/v1/devices/${id}/timeline`)).body.items.filter((e) => e.kind === 'offline');
    await eventually(async () => !(await view(x)).online, { what: 'offline after the quick restart', timeoutMs: 15_000, stepMs: 200 });
    await eventually(
      async () =>
        !(await rig.on(x)<{ items: { id: string }[] }>('GET', '/v1/devices?online=true&limit=100')).body.items.some((d) => d.id === id),
      { what: 'its row offline', stepMs: 200 },
    );
    await eventually(async () => (await offlineEntries()).length > 0, { what: 'offline on the timeline', stepMs: 200 });
    await new Promise((r) => setTimeout(r, 1_500));
    expect(await offlineEntries()).toHaveLength(1);
    expect((await view(victim)).online).toBe(false);
  }, 90_000);
});
