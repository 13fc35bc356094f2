// PostgreSQL text and jsonb refuse U+0000 (and jsonb a lone surrogate): such a string anywhere in
// a request is a 400 naming its field, decided by the validation layer for every route, never a
// 500 from the database, and nothing is changed.
import { describe, expect, it } from 'vitest';
import { merchantBody } from '../merchants/helpers.ts';
import { uniqueSerial } from '../helpers/devices.ts';
import { forEachServer } from '../helpers/testServer.ts';

interface ErrorAnswer {
  error: { code: string; message: string; details?: { path: string; message: string }[] };
}

const NUL = '\u0000';
const cases: { name: string; method: string; path: string; body?: () => unknown; field: string }[] = [
  { name: 'audit action query', method: 'GET', path: '/v1/audit?action=a%00b', field: 'action' },
  { name: 'merchant search query', method: 'GET', path: '/v1/merchants?q=a%00b', field: 'q' },
  { name: 'fault device query', method: 'GET', path: '/v1/faults?deviceId=a%00b', field: 'deviceId' },
  { name: 'device model query', method: 'GET', path: '/v1/devices?model=a%00b', field: 'model' },
  { name: 'device path id', method: 'GET', path: '/v1/devices/a%00b', field: 'id' },
  { name: 'firmware path id', method: 'GET', path: '/v1/firmware/a%00b', field: 'id' },
  { name: 'firmware download path id', method: 'GET', path: '/v1/firmware/a%00b/content', field: 'id' },
  { name: 'merchant path id', method: 'GET', path: '/v1/merchants/a%00b', field: 'id' },
  { name: 'rollout path id', method: 'GET', path: '/v1/rollouts/a%00b', field: 'id' },
  { name: 'fault path id', method: 'GET', path: '/v1/faults/a%00b', field: 'id' },
  { name: 'rebind request path id', method: 'GET', path: '/v1/rebind-requests/a%00b', field: 'id' },
  { name: 'command batch path id', method: 'GET', path: '/v1/command-batches/a%00b', field: 'batchId' },
  { name: 'key rotation path id', method: 'GET', path: '/v1/key-rotations/a%00b', field: 'id' },
  { name: 'key-vault request path id', method: 'GET', path: '/v1/key-vault/requests/a%00b', field: 'id' },
  { name: 'user name', method: 'POST', path: '/v1/users', body: () => ({ name: `a${NUL}b`, role: 'auditor' }), field: 'name' },
  {
    name: 'device label value',
    method: 'POST',
    path: '/v1/devices',
    body: () => ({ serial: uniqueSerial('NUL'), model: 'PAX-A920', labels: { store: `a${NUL}b` } }),
    field: 'labels.store',
  },
  { name: 'merchant name', method: 'POST', path: '/v1/merchants', body: () => merchantBody({ name: `a${NUL}b` }), field: 'name' },
  { name: 'merchant address', method: 'POST', path: '/v1/merchants', body: () => merchantBody({ address: `a${NUL}b` }), field: 'address' },
  { name: 'card-blacklist reason', method: 'POST', path: '/v1/card-blacklist', body: () => ({ cardHash: 'a'.repeat(64), reason: `a${NUL}b` }), field: 'reason' },
  {
    name: 'enrollment firmware version',
    method: 'POST',
    path: '/v1/enroll',
    body: () => ({ serial: uniqueSerial('NUL'), model: 'PAX-A920', fwVersion: `1.0${NUL}`, kekPublicKey: 'A'.repeat(43) + '=', enrollToken: 'x'.repeat(20) }),
    field: 'fwVersion',
  },
  // jsonb refuses a lone surrogate as it refuses NUL.
  { name: 'lone surrogate in a label', method: 'POST', path: '/v1/devices', body: () => ({ serial: uniqueSerial('NUL'), model: 'PAX-A920', labels: { store: 'a\ud800b' } }), field: 'labels.store' },
];

forEachServer('strings PostgreSQL cannot store', (server) => {
  describe.each(cases)('$name', ({ method, path, body, field }) => {
    it(`is 400 validation_failed naming ${field}`, async () => {
      const res = await server().api<ErrorAnswer>(method, path, body?.());
      expect(res.status, res.text).toBe(400);
      expect(res.body.error.code).toBe('validation_failed');
      expect(res.body.error.details).toContainEqual({ path: field, message: expect.stringContaining('U+') });
    });
  });

  it('refuses a revoke reason with NUL and leaves the terminal as it was', async () => {
    const t = server();
    const made = await t.api<{ id: string; status: string }>('POST', '/v1/devices', { serial: uniqueSerial('NUL'), model: 'PAX-A920' });
    expect(made.status).toBe(201);
    const res = await t.api<ErrorAnswer>('POST', `/v1/devices/${made.body.id}/revoke`, { reason: `a${NUL}b` });
    expect(res.status, res.text).toBe(400);
    expect(res.body.error.details).toContainEqual({ path: 'reason', message: expect.stringContaining('U+0000') });
    const after = await t.api<{ status: string }>('GET', `/v1/devices/${made.body.id}`);
    expect(after.body.status).toBe(made.body.status);
  });

  it('refuses a firmware upload to an id with NUL', async () => {
    const res = await server().api<ErrorAnswer>('PUT', '/v1/firmware/a%00b/content', undefined, { raw: 'image', headers: { 'content-type': 'application/octet-stream' } });
    expect(res.status, res.text).toBe(400);
    expect(res.body.error.details).toContainEqual({ path: 'id', message: expect.stringContaining('U+0000') });
  });

  it('refuses a CSV import with NUL in a cell, naming its line and column, and registers nothing', async () => {
    const t = server();
    const serial = uniqueSerial('NULCSV');
    const csv = `serial,model,store\n${uniqueSerial('NULCSV')},PAX-A920,ok\n${serial},PAX-A920,a${NUL}b\n`;
    const res = await t.api<ErrorAnswer>('POST', '/v1/devices/import', undefined, { raw: csv, headers: { 'content-type': 'text/csv' } });
    expect(res.status, res.text).toBe(400);
    expect(res.body.error.code).toBe('validation_failed');
    expect(res.body.error.details).toContainEqual({ path: 'line 3.store', message: expect.stringContaining('U+0000') });
    const listed = await t.api<{ items: unknown[] }>('GET', `/v1/devices?q=${encodeURIComponent(serial.slice(0, -2))}`);
    expect(listed.body.items).toEqual([]);
  });
});
