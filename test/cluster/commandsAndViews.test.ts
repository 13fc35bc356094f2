// Three real server processes (CLUSTER=true) behind HAProxy, a fleet of real agents enrolled and
// connected through the balancer (round robin: a third on each instance). A command created
// through one instance reaches a terminal held by another and its answer reads the same through
// the third; a batch over the whole fleet counts exactly on every instance; the live stream of
// one instance carries the events (commands, presence, health) of terminals held by another;
// the fleet summary is the same whichever instance answers. Then, on the same rig with a second
// fleet: a revocation or blacklisting made through A closes the terminal's live link on C within
// a second, wherever its agent then tries again it is refused; a user disabled through A is
// refused by B within a second although B had its token cached.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/eventually.ts';
import { openLiveStream, type LiveEvent } from '../helpers/liveStream.ts';
import { heldBy, startRig, type ClusterRig, type RigFleet } from './harness/rig.ts';
import type { ClusterInstance } from './harness/instance.ts';
import { clusterPostgres } from './harness/stores.ts';

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
/** What the design promises end to end. */
const WITHIN_MS = 1_000;
/** The second fleet's, whose terminals the invalidation tests revoke. */
const M = 6;

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

  const instances = () => rig.three();
  const agentOf = (deviceId: string) => {
    const found = fleet.sim(deviceId).agent;
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
    const stream = openLiveStream(a.httpUrl, `?types=command,device&health=${watched}`, rig.cluster.secrets.ADMIN_TOKEN);
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
    // The online filter, read from each instance, names the same terminals once each has the
    // presence the holders write behind.
    const wanted = [...fleet.ids()].sort();
    const onlineIds = async (i: ClusterInstance) =>
      (await rig.on(i)<{ items: { id: string }[] }>('GET', '/v1/devices?online=true&limit=100')).body.items.map((d) => d.id).sort();
    const lists = await eventually(
      async () => {
        const all = await Promise.all([a, b, c].map(onlineIds));
        return all.every((l) => l.join() === wanted.join()) ? all : null;
      },
      { what: 'the online filter naming the whole fleet on every instance', stepMs: 200 },
    );
    for (const l of lists) expect(l).toEqual(wanted);
  });

  // After the views above: the summary counts the first fleet alone, and these revoke terminals.
  describe('invalidation across three instances behind a balancer', () => {
    let inx: RigFleet;
    let inxHolders: Map<string, string>;

    beforeAll(async () => {
      inx = await rig.fleet({ devices: M, prefix: `INX${process.pid}` });
      inxHolders = await rig.held(inx.ids());
    }, 60_000);

    const simOf = (deviceId: string) => inx.sim(deviceId);
    /** How long after `action` the agent of `deviceId` lost its link (its status left `connected`). */
    async function linkLostAfter(deviceId: string, action: () => Promise<void>): Promise<number> {
      const sim = simOf(deviceId);
      expect(sim.status).toBe('connected');
      const at = Date.now();
      await action();
      await eventually(() => sim.status !== 'connected', { timeoutMs: 5_000, stepMs: 10, what: `${deviceId} disconnected` });
      return Date.now() - at;
    }
    const connectedOn = async (deviceId: string) => {
      const all = await Promise.all(
        rig.cluster.instances.map(async (i) => (await rig.on(i)<{ connected: boolean }>('GET', `/v1/devices/${deviceId}`)).body.connected),
      );
      return all.some(Boolean);
    };

    it('revoked through A: the link on C closes within a second and no instance lets it back', async () => {
      const { a, c } = instances();
      const [onC] = heldBy(inxHolders, inx.ids(), c.id);
      if (!onC) throw new Error('a terminal on C expected');
      const took = await linkLostAfter(onC, async () => {
        const r = await rig.on(a)('POST', `/v1/devices/${onC}/revoke`, { reason: 'stolen' });
        expect(r.status, r.text).toBe(200);
      });
      expect(took).toBeLessThan(WITHIN_MS);
      // Its agent tries again through the balancer (any instance), and is refused everywhere.
      await new Promise((r) => setTimeout(r, 2_000));
      expect(simOf(onC).status).not.toBe('connected');
      expect(await connectedOn(onC)).toBe(false);
      expect((await rig.holders()).get(onC)).toBeUndefined();
    });

    it('blacklisted through A: the link on C closes within a second', async () => {
      const { a, c } = instances();
      const onC = heldBy(inxHolders, inx.ids(), c.id, 2)[1];
      if (!onC) throw new Error('a second terminal on C expected');
      const took = await linkLostAfter(onC, async () => {
        const r = await rig.on(a)('POST', `/v1/devices/${onC}/blacklist`, { reason: 'fraud' });
        expect(r.status, r.text).toBe(200);
      });
      expect(took).toBeLessThan(WITHIN_MS);
      await new Promise((r) => setTimeout(r, 2_000));
      expect(await connectedOn(onC)).toBe(false);
    });

    it('a user disabled through A is refused by B within a second, although B had its token cached', async () => {
      const { a, b, c } = instances();
      const created = await rig.on(a)<{ id: string; token: string }>('POST', '/v1/users', {
        name: `tech-${randomBytes(3).toString('hex')}`,
        role: 'technician',
      });
      expect(created.status, created.text).toBe(201);
      const asUser = { token: created.body.token };
      for (const i of [b, c]) expect((await rig.on(i)('GET', '/v1/me', undefined, asUser)).status).toBe(200);
      const at = Date.now();
      expect((await rig.on(a)('POST', `/v1/users/${created.body.id}/disable`)).status).toBe(200);
      await eventually(async () => (await rig.on(b)('GET', '/v1/me', undefined, asUser)).status === 401, {
        timeoutMs: WITHIN_MS,
        stepMs: 50,
        what: 'B answering 401',
      });
      expect(Date.now() - at).toBeLessThan(WITHIN_MS);
      expect((await rig.on(c)('GET', '/v1/me', undefined, asUser)).status).toBe(401);
      // And through the balancer, whichever instance answers.
      for (let k = 0; k < 3; k++) expect((await rig.lb('GET', '/v1/me', undefined, asUser)).status).toBe(401);
    });

    it('the other terminals stayed connected throughout', async () => {
      const touched = new Set(heldBy(inxHolders, inx.ids(), instances().c.id, 2).slice(0, 2));
      for (const id of inx.ids().filter((x) => !touched.has(x))) expect(simOf(id).status).toBe('connected');
    });
  });
});
