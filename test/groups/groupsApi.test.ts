// Labels in bulk and by CSV, static groups and saved filters through the real server, on every
// engine: what an operator does from the API, read back the way a client would.
import { expect, it } from 'vitest';
import { deviceApps } from '../../schemas/tables/apps.ts';
import { uniqueSerial } from '../helpers/devices.ts';
import { forEachServer } from '../helpers/testServer.ts';

interface Device {
  id: string;
  serial: string;
  labels: Record<string, string>;
}
interface ErrorBody {
  error: { code: string; message: string; details?: unknown };
}
interface Matches {
  count: number;
  sample: { id: string; serial: string }[];
  canonical: string;
}

forEachServer('labels, groups and filters', (server) => {
  const t = () => server();
  const prefix = uniqueSerial('GRP');
  const made: Record<string, Device> = {};

  async function register(name: string, model: string, labels: Record<string, string> = {}): Promise<Device> {
    const res = await t().api<Device>('POST', '/v1/devices', { serial: `${prefix}-${name}`, model, labels });
    expect(res.status, res.text).toBe(201);
    made[name] = res.body;
    return res.body;
  }
  const labelsOf = async (name: string) => (await t().api<Device>('GET', `/v1/devices/${made[name]!.id}`)).body.labels;
  const api = <T>(method: string, path: string, body?: unknown) => t().api<T>(method, path, body);

  it('sets and removes labels in bulk, by ids and by a fleet query', async () => {
    await register('a', 'PAX-A920', { store: 's1' });
    await register('b', 'PAX-A920');
    await register('c', 'PAX-A80', { region: 'east' });
    const byIds = await api<{ matched: number; updated: number }>('POST', '/v1/devices/labels', {
      target: { deviceIds: [made.a!.id, made.b!.id] },
      set: { region: 'north', wave: '1' },
    });
    expect(byIds.status, byIds.text).toBe(200);
    expect(byIds.body).toEqual({ matched: 2, updated: 2 });
    expect(await labelsOf('a')).toEqual({ store: 's1', region: 'north', wave: '1' });

    const byQuery = await api<{ matched: number }>('POST', '/v1/devices/labels', {
      target: { query: `serial ~ "${prefix}" and label.region in ("north", "east") and not model = "PAX-A80"` },
      set: { tier: 'gold' },
      remove: ['wave'],
    });
    expect(byQuery.status, byQuery.text).toBe(200);
    expect(byQuery.body.matched).toBe(2);
    expect(await labelsOf('b')).toEqual({ region: 'north', tier: 'gold' });
    expect(await labelsOf('c')).toEqual({ region: 'east' });

    const unknown = await api<ErrorBody>('POST', '/v1/devices/labels', { target: { deviceIds: ['dev_nope'] }, set: { x: 'y' } });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.code).toBe('unknown_devices');
    const both = await api<ErrorBody>('POST', '/v1/devices/labels', {
      target: { deviceIds: [made.a!.id] },
      set: { x: 'y' },
      remove: ['x'],
    });
    expect(both.status).toBe(400);
    const audit = await api<{ items: { action: string; data: { updated: number } }[] }>('GET', '/v1/audit?action=device.labels');
    expect(audit.body.items.map((e) => e.data.updated)).toEqual(expect.arrayContaining([2]));
  });

  it('reads a labels CSV whose quoted value spans lines, and names the rows it refuses', async () => {
    const csv = [
      'serial,key,value',
      `${prefix}-a,note,"first line`,
      `second, with a comma and a ""quote"""`,
      `${prefix}-a,store,`,
      `${prefix}-c,region,west`,
      `NOPE-${prefix},region,west`,
      `${prefix}-b,,x`,
    ].join('\r\n');
    const res = await t().api<{ rows: number; updated: number; errors: { row: number; message: string }[] }>(
      'POST',
      '/v1/devices/labels.csv',
      undefined,
      {
        raw: csv,
        headers: { 'content-type': 'text/csv' },
      },
    );
    expect(res.status, res.text).toBe(200);
    expect(res.body.rows).toBe(4);
    expect(res.body.updated).toBe(2);
    // Records, not lines: the quoted value's second line is still record 2.
    expect(res.body.errors.map((e) => e.row).sort()).toEqual([5, 6]);
    const a = await labelsOf('a');
    expect(a.note).toBe('first line\r\nsecond, with a comma and a "quote"');
    expect(a.store).toBeUndefined();
    expect((await labelsOf('c')).region).toBe('west');
    const noHeader = await t().api<{ errors: { row: number }[] }>('POST', '/v1/devices/labels.csv', undefined, {
      raw: 'a,b\n',
      headers: { 'content-type': 'text/csv' },
    });
    expect(noHeader.body.errors).toEqual([{ row: 1, message: expect.stringContaining('serial, key and value') }]);
  });

  it('keeps static groups: create, members, rename, delete', async () => {
    const name = `pilot ${prefix}`;
    const g = await api<{ id: string; members: number }>('POST', '/v1/groups', { name, description: 'first wave' });
    expect(g.status, g.text).toBe(201);
    expect(g.body.members).toBe(0);
    expect((await api<ErrorBody>('POST', '/v1/groups', { name })).body.error.code).toBe('name_taken');

    const add = await api<{ members: number; added: number }>('POST', `/v1/groups/${g.body.id}/members`, {
      add: [made.a!.id, made.b!.id, made.a!.id],
    });
    expect(add.status, add.text).toBe(200);
    expect(add.body).toMatchObject({ members: 2, added: 2 });
    const again = await api<{ members: number; added: number; removed: number }>('POST', `/v1/groups/${g.body.id}/members`, {
      add: [made.b!.id],
      remove: [made.a!.id],
    });
    expect(again.body).toMatchObject({ members: 1, added: 0, removed: 1 });
    await api('POST', `/v1/groups/${g.body.id}/members`, { add: [made.a!.id] });
    const ids = [made.a!.id, made.b!.id].sort();
    const first = await api<{ items: { id: string; serial: string }[]; nextCursor: string | null }>(
      'GET',
      `/v1/groups/${g.body.id}/members?limit=1`,
    );
    expect(first.status, first.text).toBe(200);
    expect(first.body.items.map((m) => m.id)).toEqual([ids[0]]);
    const second = await api<{ items: { id: string; serial: string }[]; nextCursor: string | null }>(
      'GET',
      `/v1/groups/${g.body.id}/members?limit=1&cursor=${first.body.nextCursor}`,
    );
    expect(second.body.items.map((m) => m.id)).toEqual([ids[1]]);
    expect(second.body.nextCursor).toBeNull();
    await api('POST', `/v1/groups/${g.body.id}/members`, { remove: [made.a!.id] });
    const bad = await api<ErrorBody>('POST', `/v1/groups/${g.body.id}/members`, { add: ['dev_missing'] });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('unknown_devices');

    const renamed = await api<{ name: string }>('PATCH', `/v1/groups/${g.body.id}`, { name: `${name} renamed` });
    expect(renamed.body.name).toBe(`${name} renamed`);
    const listed = await api<{ items: { id: string; members: number }[] }>('GET', '/v1/groups?limit=500');
    expect(listed.body.items.find((x) => x.id === g.body.id)?.members).toBe(1);

    expect((await api('DELETE', `/v1/groups/${g.body.id}`)).status).toBe(204);
    expect((await api('GET', `/v1/groups/${g.body.id}`)).status).toBe(404);
    expect((await api('GET', `/v1/devices/${made.b!.id}`)).status).toBe(200);
  });

  it('saves filters checked at save, counts them live, previews and lists devices by query', async () => {
    const badQuery = `model = "PAX-A920" and fw < 2`;
    const bad = await api<{ error: { code: string; details: { position: number; expected: string } } }>('POST', '/v1/filters', {
      name: `bad ${prefix}`,
      query: badQuery,
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('query_invalid');
    expect(bad.body.error.details.position).toBe(badQuery.lastIndexOf('2'));
    expect(bad.body.error.details.expected).toMatch(/version/);

    const query = `serial ~ "${prefix}" and label.tier = "gold"`;
    const f = await api<{ id: string; canonical: string }>('POST', '/v1/filters', { name: `gold ${prefix}`, query });
    expect(f.status, f.text).toBe(201);
    const count = await api<Matches>('GET', `/v1/filters/${f.body.id}/count`);
    expect(count.status, count.text).toBe(200);
    expect(count.body.count).toBe(2);
    expect(count.body.sample.map((d) => d.id)).toEqual([made.a!.id, made.b!.id]);

    // The count is live: a terminal labelled now is counted now.
    await api('POST', '/v1/devices/labels', { target: { deviceIds: [made.c!.id] }, set: { tier: 'gold' } });
    expect((await api<Matches>('GET', `/v1/filters/${f.body.id}/count`)).body.count).toBe(3);

    const changed = await api<{ query: string }>('PATCH', `/v1/filters/${f.body.id}`, { query: `${query} and model = "PAX-A80"` });
    expect(changed.status, changed.text).toBe(200);
    expect((await api<Matches>('GET', `/v1/filters/${f.body.id}/count`)).body.sample.map((d) => d.id)).toEqual([made.c!.id]);
    expect((await api<ErrorBody>('PATCH', `/v1/filters/${f.body.id}`, { query: 'online =' })).body.error.code).toBe('query_invalid');

    const preview = await api<Matches>('POST', '/v1/filters/preview', { query: `serial ~ "${prefix}"  and  not label.region = "north"` });
    expect(preview.status, preview.text).toBe(200);
    expect(preview.body.count).toBe(1);
    expect(preview.body.canonical).toBe(`serial ~ "${prefix}" and not label.region = "north"`);

    const listed = await api<{ items: { id: string }[] }>(
      'GET',
      `/v1/devices?query=${encodeURIComponent(`serial ~ "${prefix}" and label.region = "north"`)}`,
    );
    expect(listed.status, listed.text).toBe(200);
    expect(listed.body.items.map((d) => d.id)).toEqual([made.a!.id, made.b!.id]);
    const refused = await api<ErrorBody>('GET', `/v1/devices?query=${encodeURIComponent('label.region ==')}`);
    expect(refused.status).toBe(400);
    expect(refused.body.error.code).toBe('query_invalid');

    expect((await api('DELETE', `/v1/filters/${f.body.id}`)).status).toBe(204);
    expect((await api('GET', `/v1/filters/${f.body.id}/count`)).status).toBe(404);
  });

  it('finds terminals by installed app version (segment order) and by whether the app is there', async () => {
    const pay = async (name: string, version: string | null) => {
      const d = await register(name, 'PAX-A920');
      if (version) await t().server.parts.db.insert(deviceApps).values({ deviceId: d.id, packageName: 'com.posfleet.pay', version });
      await t().server.parts.db.insert(deviceApps).values({ deviceId: d.id, packageName: 'com.acme.emv', version: '2.0.0' });
      return d.id;
    };
    const [newer, older, rc, none] = [
      await pay('app1', '1.10.0'),
      await pay('app2', '1.9.0'),
      await pay('app3', '1.2.0-rc1'),
      await pay('app4', null),
    ];
    const ids = async (q: string) => {
      const res = await api<{ items: { id: string }[] }>(
        'GET',
        `/v1/devices?query=${encodeURIComponent(`serial ~ "${prefix}-app" and ${q}`)}`,
      );
      expect(res.status, res.text).toBe(200);
      return res.body.items.map((d) => d.id);
    };
    expect(await ids('app.com.posfleet.pay >= "1.10.0"')).toEqual([newer]);
    expect(await ids('app.com.posfleet.pay > "1.2.0"')).toEqual([newer, older]);
    expect(await ids('app.com.posfleet.pay = "1.9.0"')).toEqual([older]);
    // A version that is not dotted numbers (1.2.0-rc1) takes no comparison but ~, not even !=.
    expect(await ids('app.com.posfleet.pay != "1.9.0"')).toEqual([newer]);
    expect(await ids('app.com.posfleet.pay ~ "1.2.0-"')).toEqual([rc]);
    expect(await ids('app.com.posfleet.pay exists')).toEqual([newer, older, rc]);
    expect(await ids('not app.com.posfleet.pay exists and app.com.acme.emv = "2.0.0"')).toEqual([none]);

    const preview = await api<Matches>('POST', '/v1/filters/preview', {
      query: `serial ~ "${prefix}-app" and app."com.posfleet.pay" in ("1.9.0", "1.10.0")`,
    });
    expect(preview.status, preview.text).toBe(200);
    expect(preview.body.count).toBe(2);
    expect(preview.body.canonical).toBe(`serial ~ "${prefix}-app" and app.com.posfleet.pay in ("1.9.0", "1.10.0")`);
    const refused = await api<ErrorBody>('POST', '/v1/filters/preview', { query: 'app.com.posfleet.pay >= "1.2.0-rc1"' });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatchObject({
      code: 'query_invalid',
      details: { position: 24, expected: expect.stringContaining('dotted numbers') },
    });
  });
});
