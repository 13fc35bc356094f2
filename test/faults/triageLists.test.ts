// The lists the console's triage reads, on both engines with terminals over real MQTT: each listed
// device's open faults worst first, the device list narrowed to terminals with open faults by the
// fleet query, the fault queue filtered by part of a serial, and the totals of first pages.
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { topicFor, type HealthSample } from '../../schemas/wire.ts';
import { connectDevice, publish, registerAndEnroll, type EnrolledDevice } from '../helpers/devices.ts';
import { eventually } from '../helpers/eventually.ts';
import { forEachServer } from '../helpers/testServer.ts';

interface Listed {
  id: string;
  serial: string;
  openFaults: { code: string; severity: string; title: string }[];
}
interface Page<T> {
  items: T[];
  nextCursor: string | null;
  total?: number;
}
interface FaultItem {
  id: string;
  code: string;
  deviceId: string;
  serial: string;
}

forEachServer('triage lists', (server) => {
  const tag = `TRI${Date.now().toString(36).toUpperCase()}`;
  const terminals: { device: EnrolledDevice; client: MqttClient }[] = [];
  let seq = 0;
  const health = (i: number, sample: Partial<HealthSample>) =>
    publish(terminals[i]!.client, topicFor(terminals[i]!.device.deviceId, 'health'), { ts: Date.now(), seq: ++seq, ...sample });
  const devicesOf = (query: string) => server().api<Page<Listed>>('GET', `/v1/devices?${query}`);
  const faultsOf = (query: string) => server().api<Page<FaultItem>>('GET', `/v1/faults?${query}`);

  beforeAll(async () => {
    // A: paper out, then overheating (worse, later); B: paper out; C: healthy.
    for (const name of ['A', 'B', 'C']) {
      const device = await registerAndEnroll(server(), { serial: `${tag}-${name}` });
      terminals.push({ device, client: await connectDevice(device) });
    }
    await health(0, { printer: { status: 'paper_out' } });
    await health(1, { printer: { status: 'paper_out' } });
    await health(2, { printer: { status: 'ok' }, temperatureC: 35 });
    await eventually(async () => (await faultsOf(`serial=${tag}`)).body.total === 2);
    await health(0, { printer: { status: 'paper_out' }, temperatureC: 71 });
    await eventually(async () => (await faultsOf(`serial=${tag}`)).body.total === 3);
  }, 60_000);
  afterAll(async () => {
    for (const t of terminals) await t.client.endAsync(true);
  });

  it('lists each device with its open faults, worst first, and the total on the first page only', async () => {
    const first = await devicesOf(`q=${tag}&limit=2`);
    expect(first.status).toBe(200);
    expect(first.body.total).toBe(3);
    expect(first.body.items.map((d) => [d.serial, d.openFaults.map((f) => f.code)])).toEqual([
      [`${tag}-A`, ['overheat', 'paper_out']],
      [`${tag}-B`, ['paper_out']],
    ]);
    expect(first.body.items[0]?.openFaults[0]).toEqual({ code: 'overheat', severity: 'major', title: 'Temperature above 60 °C' });
    const second = await devicesOf(`q=${tag}&limit=2&cursor=${first.body.nextCursor}`);
    expect(second.body.items.map((d) => [d.serial, d.openFaults])).toEqual([[`${tag}-C`, []]]);
    expect(second.body).not.toHaveProperty('total');
  });

  it('narrows the device list to terminals with open faults, or one code, through the fleet query', async () => {
    const serials = async (query: string) => {
      const r = await devicesOf(`q=${tag}&query=${encodeURIComponent(query)}`);
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      return { serials: r.body.items.map((d) => d.serial), total: r.body.total };
    };
    expect(await serials('fault ~ ""')).toEqual({ serials: [`${tag}-A`, `${tag}-B`], total: 2 });
    expect(await serials('not fault ~ ""')).toEqual({ serials: [`${tag}-C`], total: 1 });
    expect(await serials('fault = "overheat"')).toEqual({ serials: [`${tag}-A`], total: 1 });
  });

  it('filters the fault queue by part of a serial, case-insensitively, with the total on the first page', async () => {
    const a = await faultsOf(`serial=${tag.toLowerCase()}-a`);
    expect(a.status).toBe(200);
    expect(a.body.total).toBe(2);
    expect(a.body.items.map((f) => f.code)).toEqual(['overheat', 'paper_out']);
    expect(new Set(a.body.items.map((f) => f.deviceId))).toEqual(new Set([terminals[0]!.device.deviceId]));

    const first = await faultsOf(`serial=${tag}&limit=2`);
    expect(first.body.total).toBe(3);
    const rest = await faultsOf(`serial=${tag}&limit=2&cursor=${first.body.nextCursor}`);
    expect(rest.body).not.toHaveProperty('total');
    expect([...first.body.items, ...rest.body.items].map((f) => f.serial).sort()).toEqual([`${tag}-A`, `${tag}-A`, `${tag}-B`]);

    expect((await faultsOf(`serial=${tag}-Z`)).body).toMatchObject({ items: [], total: 0 });
    expect((await faultsOf(`serial=${'x'.repeat(65)}`)).status).toBe(400);
  });
});
