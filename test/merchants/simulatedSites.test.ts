// Simulated terminals serve their merchant from its location: bound by the simulator or later by
// an operator, their fixes fall inside the merchant's fence, so binding raises no `relocated`.
// Real server, the simulated fleet over real MQTT.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { distanceM } from '../../server/merchants/geofence.ts';
import { createSimulatedHardware } from '../../agent/simulatedHardware.ts';
import { runFleet, type FleetHandle } from '../../scripts/simulate/fleet.ts';
import { tempDir } from '../agent/helpers.ts';
import { eventually } from '../helpers/eventually.ts';
import { startTestServer, TEST_ADMIN_TOKEN, TEST_ENROLL_TOKEN, type TestServer } from '../helpers/testServer.ts';
import { activeMerchant, createUser } from './helpers.ts';

interface DeviceView {
  health: { location?: { lat: number; lon: number } } | null;
}
interface Relocation {
  relocated: boolean;
  consecutiveOut: number;
}

const PARIS = { lat: 48.8566, lon: 2.3522 };
const SHANGHAI = { lat: 31.2304, lon: 121.4737 };

describe('simulated hardware placed at a site', () => {
  it('reports fixes at the site, and the relocated fault still moves them ≈ 5 km off', () => {
    const hw = createSimulatedHardware({ seed: 7 });
    const before = hw.readLocation();
    expect(before && distanceM(before, PARIS)).toBeGreaterThan(1000);
    hw.placeAt(PARIS);
    const at = hw.readLocation();
    expect(at && distanceM(at, PARIS)).toBeLessThan(1);
    hw.inject('relocated');
    const moved = hw.readLocation();
    expect(moved && distanceM(moved, PARIS)).toBeGreaterThan(4000);
  });
});

describe('simulated fleet at its merchants', { timeout: 120_000 }, () => {
  let t: TestServer;
  const fleets: FleetHandle[] = [];
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(async () => {
    for (const f of fleets) await f.stop();
    await t?.stop();
  });

  const fixOf = async (deviceId: string) => (await t.api<DeviceView>('GET', `/v1/devices/${deviceId}`)).body.health?.location;
  const relocation = async (deviceId: string) =>
    (await t.api<{ relocation: Relocation }>('GET', `/v1/devices/${deviceId}/binding`)).body.relocation;
  const relocatedFaults = async () => (await t.api<{ items: { deviceId: string }[] }>('GET', '/v1/faults?code=relocated')).body.items;
  const startFleet = async (prefix: string, devices: number, bindMerchantId?: string) => {
    const fleet = await runFleet({
      server: t.url,
      devices,
      enrollToken: TEST_ENROLL_TOKEN,
      adminToken: TEST_ADMIN_TOKEN,
      prefix: `${prefix}${process.pid}`,
      stateDir: tempDir(),
      faults: {},
      healthIntervalS: 1,
      ...(bindMerchantId ? { bindMerchantId } : {}),
      backoff: { initialMs: 50, maxMs: 500, factor: 2 },
    });
    fleets.push(fleet);
    await fleet.ready;
    const ids = fleet.agents.map((a) => a.deviceId).filter((id): id is string => id !== null);
    expect(ids).toHaveLength(devices);
    return ids;
  };
  /** Waits out `n` health intervals of 1 s, so that many fixes were judged against the fence. */
  const fixes = (n: number) => new Promise((r) => setTimeout(r, n * 1000 + 500));

  it('reports from the merchant a terminal was bound to by the simulator', async () => {
    const approver = await createUser(t, 'admin');
    // The default policy: three fixes in a row out of the fence make a terminal relocated.
    const paris = await activeMerchant(t, approver, { location: PARIS, radiusM: 200, timezone: 'Europe/Paris' });
    const ids = await startFleet('SITEA', 2, paris.id);
    await fixes(5);
    for (const id of ids) {
      const fix = await fixOf(id);
      expect(fix && distanceM(fix, PARIS), id).toBeLessThan(200);
      expect(await relocation(id)).toMatchObject({ relocated: false, consecutiveOut: 0 });
    }
    expect(await relocatedFaults()).toEqual([]);
  });

  it('moves to the merchant an operator binds it to', async () => {
    const approver = await createUser(t, 'admin');
    const shanghai = await activeMerchant(t, approver, { location: SHANGHAI, radiusM: 200 });
    const [id] = await startFleet('SITEB', 1);
    const before = await eventually(() => fixOf(id!), { what: 'a first fix' });
    // From its random home, far from the merchant it is about to serve.
    expect(distanceM(before, SHANGHAI)).toBeGreaterThan(1000);

    const bound = await t.api('PUT', `/v1/devices/${id}/binding`, { merchantId: shanghai.id, tid: 'T9990001' });
    expect(bound.status, bound.text).toBe(200);
    await eventually(
      async () => {
        const fix = await fixOf(id!);
        return fix && distanceM(fix, SHANGHAI) < 200;
      },
      { timeoutMs: 20_000, what: 'fixes from the merchant' },
    );
    await fixes(4);
    expect(await relocation(id!)).toMatchObject({ relocated: false, consecutiveOut: 0 });
    expect(await relocatedFaults()).toEqual([]);
  });
});
