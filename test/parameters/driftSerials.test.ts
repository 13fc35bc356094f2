// GET /v1/parameters/drift names each drifting terminal by serial as well as by id (read in the
// same query as its facts), so a client needs no request per row (both engines). A raw MQTT
// client reports the sets, as a third-party agent would.
import { beforeAll, expect, it } from 'vitest';
import { parametersDigest } from '../../schemas/parameters.ts';
import { connectDevice, publish, registerAndEnroll, type EnrolledDevice } from '../helpers/devices.ts';
import { eventually } from '../helpers/eventually.ts';
import { forEachServer, type TestServer } from '../helpers/testServer.ts';

interface DriftPage {
  items: { deviceId: string; serial: string; templateId: string; keys: string[] }[];
  nextCursor: string | null;
}

const MODEL = 'PAX-DRIFTSERIAL';

forEachServer('drift rows carry the serial', (server) => {
  let t: TestServer;
  let devices: EnrolledDevice[] = [];
  let templateId = '';

  beforeAll(async () => {
    t = server();
    const tpl = await t.api<{ id: string }>('POST', '/v1/parameter-templates', {
      name: `drift-serial-${Date.now().toString(36)}`,
      appliesTo: { model: MODEL },
      fields: [{ key: 'currency', type: 'enum', values: ['EUR', 'USD'], default: 'EUR' }],
    });
    expect(tpl.status, JSON.stringify(tpl.body)).toBe(201);
    templateId = tpl.body.id;
    devices = [await registerAndEnroll(t, { model: MODEL }), await registerAndEnroll(t, { model: MODEL })];
  });

  it('each drifting terminal’s row has its serial, on every page', async () => {
    const values = { currency: 'USD' }; // the template wants EUR
    for (const d of devices) {
      const client = await connectDevice(d);
      await publish(client, `fleet/v1/${d.deviceId}/state`, { online: true, parameters: { templateId, version: 1, digest: parametersDigest(values), values } });
      await new Promise<void>((resolve) => client.end(false, {}, () => resolve()));
    }
    const ours = (p: DriftPage) => p.items.filter((i) => i.templateId === templateId);
    const all = await eventually(
      async () => {
        const res = await t.api<DriftPage>('GET', '/v1/parameters/drift?limit=500');
        expect(res.status, res.text).toBe(200);
        return ours(res.body).length === devices.length ? res.body : null;
      },
      { what: 'both terminals drift' },
    );
    const bySerial = (rows: DriftPage['items']) => Object.fromEntries(rows.map((i) => [i.deviceId, i.serial]));
    expect(bySerial(ours(all))).toEqual(Object.fromEntries(devices.map((d) => [d.deviceId, d.serial])));
    expect(ours(all).every((i) => i.keys.join() === 'currency')).toBe(true);

    // A page of one, then the next: each row still carries its own serial.
    const rows: DriftPage['items'] = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
      const res = await t.api<DriftPage>('GET', `/v1/parameters/drift?limit=1${query}`);
      expect(res.status, res.text).toBe(200);
      rows.push(...res.body.items);
      cursor = res.body.nextCursor;
    } while (cursor);
    expect(bySerial(rows.filter((i) => i.templateId === templateId))).toEqual(bySerial(ours(all)));
  });
});
