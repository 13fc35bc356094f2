// What a terminal reports on `state` (the optional `parameters` member) is kept: read back as
// `reported` with its drift, written behind to device_parameters and loaded again after a restart
// before the terminal reconnects; a `parameters` member that breaks the wire schema drops the
// whole message, so the last good report stays. A raw MQTT client stands in for a third-party agent.
import { beforeAll, expect, it } from 'vitest';
import { parametersDigest } from '../../schemas/parameters.ts';
import { connectDevice, publish, registerAndEnroll, type EnrolledDevice } from '../helpers/devices.ts';
import { eventually } from '../helpers/eventually.ts';
import { forEachServer, type TestServer } from '../helpers/testServer.ts';

interface DeviceParameters {
  template: { id: string } | null;
  desired: { digest: string } | null;
  reported: { templateId: string; digest: string; values: Record<string, unknown> } | null;
  drift: { keys: string[]; inSync: boolean } | null;
}

const MODEL = 'PAX-REPORT';

forEachServer('reported terminal parameters', (server) => {
  let t: TestServer;
  let device: EnrolledDevice;
  let templateId = '';

  beforeAll(async () => {
    t = server();
    const tpl = await t.api<{ id: string }>('POST', '/v1/parameter-templates', {
      name: `report-${Date.now().toString(36)}`,
      appliesTo: { model: MODEL },
      fields: [
        { key: 'currency', type: 'enum', values: ['EUR', 'USD'], default: 'EUR' },
        { key: 'timeoutS', type: 'integer', min: 5, max: 120, default: 30 },
      ],
    });
    expect(tpl.status, JSON.stringify(tpl.body)).toBe(201);
    templateId = tpl.body.id;
    device = await registerAndEnroll(t, { model: MODEL });
  });

  const read = async () => {
    const res = await t.api<DeviceParameters>('GET', `/v1/devices/${device.deviceId}/parameters`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body;
  };

  it('keeps the reported set, its drift, and the set across a restart', async () => {
    const before = await read();
    expect(before.template?.id).toBe(templateId);
    expect(before.reported).toBeNull();

    const values = { currency: 'USD', timeoutS: 30 };
    const client = await connectDevice(device);
    await publish(client, `fleet/v1/${device.deviceId}/state`, { online: true, parameters: { templateId, version: 1, digest: parametersDigest(values), values } });
    const seen = await eventually(async () => {
      const p = await read();
      return p.reported ? p : null;
    }, { what: 'reported set' });
    expect(seen.reported?.values).toEqual(values);
    expect(seen.drift).toEqual({ keys: ['currency'], templateMismatch: false, inSync: false });

    // A bad member (a key the wire schema refuses) drops the message: the good report stays.
    await publish(client, `fleet/v1/${device.deviceId}/state`, { online: true, parameters: { templateId, version: 1, digest: 'x', values: { '1bad': 1 } } });
    await new Promise((r) => setTimeout(r, 500));
    expect((await read()).reported?.values).toEqual(values);

    // Written behind (every 0.5 s), then loaded at start while the terminal is away.
    await new Promise((r) => setTimeout(r, 800));
    await new Promise<void>((resolve) => client.end(false, {}, () => resolve()));
    await t.restart();
    const after = await read();
    expect(after.reported?.values).toEqual(values);
    expect(after.drift?.keys).toEqual(['currency']);
  });
});
