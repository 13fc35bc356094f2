// Three real server processes (CLUSTER=true) behind HAProxy, a fleet of real agents enrolled and
// connected through the balancer (round robin: a third on each instance). A command created
// through one instance reaches a terminal held by another and its answer reads the same through
// the third; a batch over the whole fleet counts exactly on every instance; the live stream of
// one instance carries the events (commands, presence, health) of terminals held by another;
// the fleet summary is the same whichever instance answers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/eventually.ts';
import type { LiveEvent } from '../helpers/liveStream.ts';
import { heldBy, startRig, type ClusterRig, type RigFleet } from './harness/rig.ts';
import { clusterPostgres } from './harness/stores.ts';
import { openStream } from './harness/stream.ts';

interface CommandView {
  id: string;
  state: string;
  result: Record<string, unknown> | null;
}
interface Summary {
  devices: number;
  online: number;
  offline: number;
  byFirmware: Record<string, number>;
}

const N = 9;

describe.skipIf(!clusterPostgres)('commands, stream and views across three instances', () => {
  let rig: ClusterRig;
  let fleet: RigFleet;
  let holders: Map<string, string>;

  beforeAll(async () => {
    rig = await startRig({ n: 3, env: { CLUSTER: 'true', FLUSH_INTERVAL_MS: '200' } });
    fleet = await rig.fleet({ devices: N, prefix: `CAV${process.pid}` });
    holders = await rig.held(fleet.ids());
  }, 120_000);
  afterAll(async () => {
    await rig?.stop();
  }, 60_000);

  const instances = () => {
    const [a, b, c] = rig.cluster.instances;
    if (!a || !b || !c) throw new Error('three instances expected');
    return { a, b, c };
  };
  const agentOf = (deviceId: string) => {
    const found = fleet.fleet.agents.find((x) => x.deviceId === deviceId)?.agent;
    if (!found) throw new Error(`no agent for ${deviceId}`);
    return found;
  };

  it('spreads the fleet over the three instances', () => {
    const { a, b, c } = instances();
    for (const i of [a, b, c]) expect(heldBy(holders, fleet.ids(), i.id).length).toBe(N / 3);
  });

  it('delivers a command created through A to a terminal held by C, its answer read through B', async () => {
    const { a, b, c } = instances();
    const [onC] = heldBy(holders, fleet.ids(), c.id);
    if (!onC) throw new Error('a terminal on C expected');
    const created = await rig.on(a)<CommandView>('POST', `/v1/devices/${onC}/commands`, { type: 'diag.run' });
    expect(created.status, created.text).toBe(201);
    const done = await eventually(
      async () => {
        const r = await rig.on(b)<CommandView>('GET', `/v1/devices/${onC}/commands/${created.body.id}`);
        return r.body.state === 'succeeded' ? r.body : null;
      },
      { what: 'succeeded through B', stepMs: 100 },
    );
    expect(done.result).not.toBeNull();
    // Run once by the terminal, wherever the command came from.
    expect(agentOf(onC).stats().commands['diag.run']).toBe(1);
    expect((await rig.on(c)<CommandView>('GET', `/v1/devices/${onC}/commands/${created.body.id}`)).body.state).toBe('succeeded');
  });

  it('counts a batch over the whole fleet exactly through every instance', async () => {
    const { a, b, c } = instances();
    const res = await rig.on(b)<{ batchId: string; total: number }>('POST', '/v1/commands', {
      target: { deviceIds: fleet.ids() },
      type: 'config.set',
      payload: { healthIntervalS: 5 },
    });
    expect(res.status, res.text).toBe(201);
    expect(res.body.total).toBe(N);
    const countsOn = async (i: typeof a) =>
      (await rig.on(i)<{ counts: Record<string, number> }>('GET', `/v1/command-batches/${res.body.batchId}`)).body.counts;
    await eventually(async () => (await countsOn(a)).succeeded === N, { what: 'the batch settled', stepMs: 200 });
    for (const i of [a, b, c]) expect(await countsOn(i)).toEqual({ succeeded: N });
    for (const id of fleet.ids()) expect(agentOf(id).stats().commands['config.set']).toBe(1);
  });

  it("streams on A the commands, presence and health of C's terminals", async () => {
    const { a, b, c } = instances();
    const onC = heldBy(holders, fleet.ids(), c.id, 2);
    const [watched, rebooted] = onC;
    if (!watched || !rebooted) throw new Error('two terminals on C expected');
    const stream = openStream(a.httpUrl, rig.cluster.secrets.ADMIN_TOKEN, `?types=command,device&health=${watched}`);
    try {
      await stream.ready;
      expect(stream.status()).toBe(200);
      const of = (name: string, deviceId: string) => (e: LiveEvent) => e.event === name && e.data.deviceId === deviceId;
      // Health samples stay with the holder unless someone watches: A's watcher is announced to C.
      await eventually(() => stream.events.some(of('device.health', watched)), {
        what: "C's health sample on A's stream",
        timeoutMs: 15_000,
      });
      // A reboot, created through B: C delivers it, the terminal goes offline and comes back (wherever).
      const cmd = await rig.on(b)<CommandView>('POST', `/v1/devices/${rebooted}/commands`, { type: 'reboot' });
      expect(cmd.status, cmd.text).toBe(201);
      await eventually(
        () => stream.events.some((e) => e.event === 'command.updated' && e.data.id === cmd.body.id && e.data.state === 'succeeded'),
        { what: "the reboot's answer on A's stream", timeoutMs: 20_000 },
      );
      const presence = await eventually(
        () => {
          const seen = stream.events.filter(of('device.presence', rebooted)).map((e) => e.data.online);
          return seen.includes(false) && seen.at(-1) === true ? seen : null;
        },
        { what: "the rebooted terminal's presence on A's stream", timeoutMs: 20_000 },
      );
      expect(presence).toContain(false);
      // No health of a terminal nobody watches.
      expect(stream.events.some((e) => e.event === 'device.health' && e.data.deviceId !== watched)).toBe(false);
    } finally {
      stream.close();
    }
  }, 60_000);

  it('answers the same fleet summary on every instance', async () => {
    const { a, b, c } = instances();
    await rig.held(fleet.ids());
    const summaries = await eventually(
      async () => {
        const all = await Promise.all([a, b, c].map(async (i) => (await rig.on(i)<Summary>('GET', '/v1/fleet/summary')).body));
        return all.every((s) => s.online === N) ? all : null;
      },
      { what: 'every instance sees the whole fleet online', stepMs: 200 },
    );
    expect(summaries[0]).toMatchObject({ devices: N, online: N, offline: 0, byFirmware: { '1.0.0': N } });
    expect(summaries[1]).toEqual(summaries[0]);
    expect(summaries[2]).toEqual(summaries[0]);
    // The online filter, read from each instance, names the same terminals.
    for (const i of [a, b, c]) {
      const online = await rig.on(i)<{ items: { id: string }[] }>('GET', '/v1/devices?online=true&limit=100');
      expect(online.body.items.map((d) => d.id).sort()).toEqual([...fleet.ids()].sort());
    }
  });
});
