// Three real server processes (CLUSTER=true) behind HAProxy, real agents connected through it.
// A revocation or blacklisting made through A closes the terminal's live link on C within a
// second, wherever its agent then tries again it is refused; a user disabled through A is
// refused by B within a second although B had its token cached.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/eventually.ts';
import { heldBy, startRig, type ClusterRig, type RigFleet } from './harness/rig.ts';
import { clusterPostgres } from './harness/stores.ts';

/** What the design promises end to end. */
const WITHIN_MS = 1_000;
const N = 6;

describe.skipIf(!clusterPostgres)('invalidation across three instances behind a balancer', () => {
  let rig: ClusterRig;
  let fleet: RigFleet;
  let holders: Map<string, string>;

  beforeAll(async () => {
    rig = await startRig({ n: 3, env: { CLUSTER: 'true', FLUSH_INTERVAL_MS: '200' } });
    fleet = await rig.fleet({ devices: N, prefix: `INX${process.pid}` });
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
  const simOf = (deviceId: string) => {
    const found = fleet.fleet.agents.find((x) => x.deviceId === deviceId);
    if (!found) throw new Error(`no agent for ${deviceId}`);
    return found;
  };
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
    const [onC] = heldBy(holders, fleet.ids(), c.id);
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
    const onC = heldBy(holders, fleet.ids(), c.id, 2)[1];
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
    const touched = new Set(heldBy(holders, fleet.ids(), instances().c.id, 2).slice(0, 2));
    for (const id of fleet.ids().filter((x) => !touched.has(x))) expect(simOf(id).status).toBe('connected');
  });
});
