// Every paged list answers 400 bad_cursor for a cursor it did not hand out: garbage, a cursor of
// another list, a forged one whose number or date no column holds. None is silently a first page,
// none reaches the database as a 500; and a cursor a list did hand out still pages.
import { beforeAll, describe, expect, it } from 'vitest';
import { uniqueSerial } from '../helpers/devices.ts';
import { forEachServer } from '../helpers/testServer.ts';

interface ErrorAnswer {
  error: { code: string; message: string };
}
interface Page {
  items: unknown[];
  nextCursor: string | null;
}

const b64 = (text: string) => Buffer.from(text).toString('base64url');

// Each is ill-formed for every list below (none decodes to what any of them hands out).
const garbage = [
  'not a cursor!',
  '%%%',
  b64('9'.repeat(24)).replace(/$/, '='), // padded: not the encoding the API writes
  b64('a b|c d'),
  b64('2024-01-01T00:00:00.000Z|'),
  b64('[1e400,"x"]'),
  'x|y|z',
];

// Forged: the shape of a list's own cursor with a value past what the column or Date holds.
const forged: Record<string, string[]> = {
  '/v1/devices': [b64('bad serial with spaces'), b64('-starts-with-a-dash')],
  timeline: [b64('9'.repeat(24)), b64('0'), b64('-5'), b64('1.5'), b64('9007199254740993')],
  commands: [b64('275760-09-13T00:00:00.000Z|cmd_AAAAAAAAAAAAAAAA'), b64('2024-02-30T00:00:00.000Z|cmd_AAAAAAAAAAAAAAAA'), b64('1|cmd_x')],
  '/v1/users': [b64(JSON.stringify([9e15, 'usr_AAAAAAAAAAAAAAAA'])), b64(JSON.stringify([1.5, 'usr_x'])), b64(JSON.stringify([1, 2]))],
  '/v1/audit': ['0', '99999999999999999999', '1e3'],
  '/v1/faults': [b64(JSON.stringify([1e300, '2024-01-01T00:00:00.000Z', 'flt_x'])), b64(JSON.stringify([1, '1', 'flt_x'])), 'oldest.' + b64('2024-01-01T00:00:00.000Z|flt_x')],
  '/v1/faults?sort=oldest': ['newest.' + b64('2024-01-01T00:00:00.000Z|flt_x'), 'oldest.' + b64('99999-01-01T00:00:00.000Z|flt_x')],
  '/v1/firmware': ['mer_AAAAAAAAAAAAAAAA', 'fw_'],
  '/v1/merchants': [b64('fw_AAAAAAAAAAAAAAAA'), 'mer_AAAAAAAAAAAAAAAA'],
  '/v1/rebind-requests': [b64('9'.repeat(24)), b64('2024-01-01'), b64('Invalid Date')],
  '/v1/merchant-alerts': ['9'.repeat(24), 'NaN', '-1', '1.5'],
  '/v1/card-blacklist': ['A'.repeat(64), 'a'.repeat(63)],
  '/v1/rollouts': ['2024-01-01T00:00:00.000Z|dev_x', '1|cmp_AAAAAAAAAAAAAAAA', '275760-09-13T00:00:00.000Z|cmp_x'],
  '/v1/key-rotations': ['2024-01-01|cmp_AAAAAAAAAAAAAAAA'],
  '/v1/user-requests': [b64('2024-01-01T00:00:00.000Z|cmd_AAAAAAAAAAAAAAAA'), b64('275760-09-13T00:00:00.000Z|urq_AAAAAAAAAAAAAAAA')],
  'campaign devices': ['mer_AAAAAAAAAAAAAAAA', 'dev_'],
};

forEachServer('paged lists refuse cursors they did not hand out', (server) => {
  let deviceId = '';
  let rotationId = '';
  beforeAll(async () => {
    const t = server();
    const made = await t.api<{ id: string }>('POST', '/v1/devices', { serial: uniqueSerial('CUR'), model: 'PAX-A920' });
    expect(made.status).toBe(201);
    deviceId = made.body.id;
    const rot = await t.api<{ id: string }>('POST', '/v1/key-rotations', {
      name: 'cursor test',
      usages: ['TPK'],
      target: { deviceIds: [deviceId] },
      phases: [{ name: 'all', percent: 100 }],
      successThreshold: 100,
      errorThreshold: 0,
    });
    expect(rot.status, rot.text).toBe(201);
    rotationId = rot.body.id;
  });

  const lists: { name: string; path: () => string; forgedKey: string }[] = [
    { name: 'devices', path: () => '/v1/devices', forgedKey: '/v1/devices' },
    { name: 'timeline', path: () => `/v1/devices/${deviceId}/timeline`, forgedKey: 'timeline' },
    { name: 'commands', path: () => `/v1/devices/${deviceId}/commands`, forgedKey: 'commands' },
    { name: 'diagnostics', path: () => `/v1/devices/${deviceId}/diagnostics`, forgedKey: 'commands' },
    { name: 'log bundles', path: () => `/v1/devices/${deviceId}/logs`, forgedKey: 'commands' },
    { name: 'users', path: () => '/v1/users', forgedKey: '/v1/users' },
    { name: 'user requests', path: () => '/v1/user-requests', forgedKey: '/v1/user-requests' },
    { name: 'audit', path: () => '/v1/audit', forgedKey: '/v1/audit' },
    { name: 'faults', path: () => '/v1/faults', forgedKey: '/v1/faults' },
    { name: 'faults by age', path: () => '/v1/faults?sort=oldest', forgedKey: '/v1/faults?sort=oldest' },
    { name: 'firmware', path: () => '/v1/firmware', forgedKey: '/v1/firmware' },
    { name: 'merchants', path: () => '/v1/merchants', forgedKey: '/v1/merchants' },
    { name: 'rebind requests', path: () => '/v1/rebind-requests', forgedKey: '/v1/rebind-requests' },
    { name: 'merchant alerts', path: () => '/v1/merchant-alerts', forgedKey: '/v1/merchant-alerts' },
    { name: 'card blacklist', path: () => '/v1/card-blacklist', forgedKey: '/v1/card-blacklist' },
    { name: 'rollouts', path: () => '/v1/rollouts', forgedKey: '/v1/rollouts' },
    { name: 'key rotations', path: () => '/v1/key-rotations', forgedKey: '/v1/key-rotations' },
    { name: 'key rotation devices', path: () => `/v1/key-rotations/${rotationId}/devices`, forgedKey: 'campaign devices' },
  ];

  describe.each(lists)('$name', ({ path, forgedKey }) => {
    it('answers 400 bad_cursor for garbage and forged cursors', async () => {
      for (const cursor of [...garbage, ...(forged[forgedKey] ?? [])]) {
        const p = path();
        const res = await server().api<ErrorAnswer>('GET', `${p}${p.includes('?') ? '&' : '?'}cursor=${encodeURIComponent(cursor)}`);
        expect(res.status, `${p} cursor=${cursor}: ${res.text}`).toBe(400);
        expect(res.body.error.code).toBe('bad_cursor');
      }
    });
  });

  it('still pages with the cursors it hands out (devices, timeline, users)', async () => {
    const t = server();
    for (let i = 0; i < 2; i++) expect((await t.api('POST', '/v1/devices', { serial: uniqueSerial('CUR'), model: 'PAX-A920' })).status).toBe(201);
    await t.api('POST', '/v1/users', { name: 'cursor reader', role: 'auditor' });
    await t.api('POST', `/v1/devices/${deviceId}/revoke`, { reason: 'a timeline entry' });
    for (const path of ['/v1/devices', `/v1/devices/${deviceId}/timeline`, '/v1/users']) {
      const first = await t.api<Page>('GET', `${path}?limit=1`);
      expect(first.status).toBe(200);
      expect(first.body.nextCursor, path).not.toBeNull();
      const second = await t.api<Page>('GET', `${path}?limit=1&cursor=${encodeURIComponent(first.body.nextCursor!)}`);
      expect(second.status, second.text).toBe(200);
      expect(second.body.items).toHaveLength(1);
      expect(second.body.items[0]).not.toEqual(first.body.items[0]);
    }
  });
});
