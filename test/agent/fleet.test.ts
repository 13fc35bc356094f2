// runFleet in-process against a real broker and a stand-in control plane: registration,
// enrollment, connection, fault injection, re-enrollment after a server reset, the summary.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deviceEvent, parseDeviceTopic } from '../../schemas/wire.ts';
import { runFleet } from '../../scripts/simulate/fleet.ts';
import { eventually } from '../helpers/eventually.ts';
import { startFakeControlPlane, type FakeControlPlane } from './fakeControlPlane.ts';
import { silentLog, tempDir } from './helpers.ts';

let cp: FakeControlPlane;
const published: Array<{ deviceId: string; kind: string; payload: string; retain: boolean }> = [];

beforeAll(async () => {
  cp = await startFakeControlPlane();
  cp.broker.on('publish', (packet, client) => {
    const t = parseDeviceTopic(packet.topic);
    if (t && client) published.push({ deviceId: t.deviceId, kind: t.kind, payload: packet.payload.toString(), retain: packet.retain });
  });
});
afterAll(() => cp.close());

const fast = { initialMs: 20, maxMs: 200, factor: 2 };

describe('simulated fleet', () => {
  it('registers, enrolls and connects every device, injects the faults and sums it up', async () => {
    const fleet = await runFleet({
      server: cp.httpUrl,
      devices: 20,
      enrollToken: cp.enrollToken,
      adminToken: cp.adminToken,
      prefix: 'T',
      healthIntervalS: 0.2,
      faults: { battery: 0.1, paper: 0.1, reader: 0.1, tamper: 0.1, flap: 0.1, 'slow-acks': 0.1, garbage: 0.1 },
      faultTiming: { tamper: [0.05, 0.1], flap: [0.2, 0.3], garbage: [0.05, 0.1] },
      stateDir: tempDir(),
      backoff: fast,
      concurrency: 5,
      log: silentLog,
    });
    expect(fleet.registration).toMatchObject({ created: 20, skipped: [] });
    await fleet.ready;
    expect(fleet.progress()).toMatchObject({ total: 20, enrolled: 20, failed: 0 });
    // Flapping devices may be between a drop and a reconnect right now; all others are up.
    expect(fleet.agents.filter((d) => !d.faults.includes('flap')).every((d) => d.status === 'connected')).toBe(true);
    expect(fleet.agents.map((d) => d.serial).slice(0, 2)).toEqual(['T-00001', 'T-00002']);

    const tampered = fleet.agents.filter((d) => d.faults.includes('tamper')).map((d) => d.deviceId);
    await eventually(() => {
      const ids = new Set(published.filter((p) => p.kind === 'event' && JSON.parse(p.payload).type === 'tamper').map((p) => p.deviceId));
      return tampered.every((id) => id && ids.has(id)) ? true : undefined;
    }, { timeoutMs: 5000, what: 'tamper events' });
    const garbageDevices = new Set(fleet.agents.filter((d) => d.faults.includes('garbage')).map((d) => d.deviceId));
    await eventually(() => (fleet.summary().garbageSent >= 4 ? true : undefined), { timeoutMs: 5000, what: 'garbage' });
    const invalid = published.filter((p) => {
      try {
        return p.kind === 'event' && !deviceEvent.safeParse(JSON.parse(p.payload)).success;
      } catch {
        return true;
      }
    });
    expect(invalid.every((p) => garbageDevices.has(p.deviceId))).toBe(true);
    const flappers = fleet.agents.filter((d) => d.faults.includes('flap'));
    await eventually(() => (flappers.every((d) => (d.agent?.stats().connects ?? 0) >= 2) ? true : undefined), { timeoutMs: 5000, what: 'flaps' });

    const batteryLow = fleet.agents.find((d) => d.faults.includes('battery'))!;
    expect(batteryLow.hardware.readBattery()).toMatchObject({ charging: false });
    expect(batteryLow.hardware.readBattery().level).toBeLessThan(15);

    const summary = await fleet.stop();
    expect(summary).toMatchObject({ total: 20, enrolled: 20, failed: 0 });
    expect(summary.faultsInjected).toEqual({ battery: 2, paper: 2, reader: 2, tamper: 2, flap: 2, 'slow-acks': 2, garbage: 2 });
    expect(summary.messagesSent.health).toBeGreaterThan(0);
    expect(fleet.agents.every((d) => d.status === 'stopped')).toBe(true);
    // Every device said goodbye with a retained offline state.
    const lastState = new Map<string, string>();
    for (const p of published) if (p.kind === 'state') lastState.set(p.deviceId, p.payload);
    expect([...lastState.values()].every((s) => JSON.parse(s).online === false)).toBe(true);
  });

  it('re-enrolls devices whose stored credentials a reset server no longer accepts', async () => {
    const stateDir = tempDir();
    const opts = { server: cp.httpUrl, devices: 3, enrollToken: cp.enrollToken, adminToken: cp.adminToken, prefix: 'R', stateDir, backoff: fast, log: silentLog };
    const first = await runFleet(opts);
    await first.ready;
    const oldIds = first.agents.map((d) => d.deviceId);
    await first.stop();
    cp.wipe();
    const second = await runFleet(opts);
    await second.ready;
    await eventually(() => (second.progress().connected === 3 ? true : undefined), { timeoutMs: 5000, what: 'reconnect after re-enrollment' });
    expect(second.agents.map((d) => d.deviceId)).not.toEqual(oldIds);
    const s = await second.stop();
    expect(s.failed).toBe(0);
  });

  it('reports why devices failed', async () => {
    const fleet = await runFleet({ server: cp.httpUrl, devices: 2, enrollToken: 'wrong', prefix: 'F', stateDir: tempDir(), log: silentLog });
    await fleet.ready;
    const s = await fleet.stop();
    expect(s).toMatchObject({ total: 2, enrolled: 0, failed: 2, failures: { 'enroll: bad_enroll_token': 2 } });
  });
});
