// The secret scanner of the key suites (test/helpers/secretScan.ts) must fail when a key is there:
// whole in hex, base64 or base64url, as a Buffer would print, and any 8 bytes of it; and it names
// the key and the place. A scanner that could not fail would make test/keys/noKeyBytes.test.ts
// prove nothing.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { assertNoLeaks, findLeaks, WINDOW_BYTES, type Secret } from '../helpers/secretScan.ts';

const tpk: Secret = { name: 'key_tpk1 (TPK v1)', bytes: randomBytes(32) };
const master: Secret = { name: 'master key gen 1', bytes: randomBytes(32) };
const secrets = [tpk, master];
const line = (where: string, text: string) => ({ where, text });

describe('secret scan', () => {
  it('finds nothing in clean text, ids, KCVs and other random bytes', () => {
    const clean = [
      line('GET /v1/devices/dev_1/keys → 200', JSON.stringify({ slots: [{ slot: 'tpk', keyId: 'key_01J9ZX8Q4KQ3', kcv: 'cmac:7A3C1B' }] })),
      line(
        'server log line 1',
        JSON.stringify({ level: 30, msg: 'rotation done', block: '[redacted]', other: randomBytes(32).toString('hex') }),
      ),
      line('mqtt to dev_1 cmd', JSON.stringify({ payload: { items: [{ block: randomBytes(96).toString('base64') }] } })),
    ];
    expect(findLeaks(clean, secrets)).toEqual([]);
    expect(() => assertNoLeaks(clean, secrets)).not.toThrow();
  });

  it('fails on a whole key in lower- or upper-case hex, base64, base64url and as Node prints or serializes a Buffer', () => {
    const hex = tpk.bytes.toString('hex');
    const captured = [
      line('server log line 7', `{"msg":"careless ${hex}"}`),
      line('GET /v1/audit → 200', `{"data":{"k":"${hex.toUpperCase()}"}}`),
      line('mqtt to dev_2 cmd', `{"payload":{"k":"${tpk.bytes.toString('base64')}"}}`),
      line('agent log line 3', `key=${tpk.bytes.toString('base64url')};`),
      line('stream event 4 (command.updated)', JSON.stringify({ key: tpk.bytes })),
      line('agent log line 9', `got <Buffer ${hex.match(/../g)!.join(' ')}>`),
    ];
    expect(findLeaks(captured, secrets)).toEqual(
      expect.arrayContaining([
        { secret: tpk.name, form: 'hex', where: 'server log line 7' },
        { secret: tpk.name, form: 'hex', where: 'GET /v1/audit → 200' },
        { secret: tpk.name, form: 'base64', where: 'mqtt to dev_2 cmd' },
        { secret: tpk.name, form: 'base64', where: 'agent log line 3' },
        { secret: tpk.name, form: 'byte list', where: 'stream event 4 (command.updated)' },
        { secret: tpk.name, form: 'hex', where: 'agent log line 9' },
      ]),
    );
    // Each place is named once per form, and only the key that is there.
    expect(new Set(findLeaks(captured, secrets).map((l) => l.secret))).toEqual(new Set([tpk.name]));
    expect(() => assertNoLeaks(captured, secrets)).toThrow(/key_tpk1 \(TPK v1\): hex in server log line 7/);
  });

  it('fails on any 8-byte window of a key, in hex at either parity or inside a longer base64 blob', () => {
    const window = master.bytes.subarray(13, 13 + WINDOW_BYTES);
    const blob = Buffer.concat([randomBytes(5), window, randomBytes(7)]);
    const captured = [
      // 16 hex digits: shorter than what the server's log redactor takes for key material.
      line('server log line 12', `{"msg":"partial ${window.toString('hex')} end"}`),
      line('GET /v1/key-vault → 200', `{"x":"a${window.toString('hex').toUpperCase()}"}`),
      line('mqtt from dev_3 ack', `{"blob":"${blob.toString('base64')}"}`),
      line('agent log line 1', `{"blob":"zz${blob.toString('base64url')}"}`),
    ];
    expect(findLeaks(captured, secrets)).toEqual([
      { secret: master.name, form: 'hex window', where: 'server log line 12' },
      { secret: master.name, form: 'hex window', where: 'GET /v1/key-vault → 200' },
      { secret: master.name, form: 'base64 window', where: 'mqtt from dev_3 ack' },
      { secret: master.name, form: 'base64 window', where: 'agent log line 1' },
    ]);
    expect(() => assertNoLeaks(captured, secrets)).toThrow(/master key gen 1: hex window in server log line 12/);
  });

  it('lets 7 bytes of a key pass: the window is exactly 8 bytes', () => {
    const seven = tpk.bytes.subarray(0, WINDOW_BYTES - 1);
    const notTheEighth = Buffer.from([tpk.bytes[WINDOW_BYTES - 1]! ^ 0xff]);
    expect(findLeaks([line('server log line 1', `x ${Buffer.concat([seven, notTheEighth]).toString('hex')} y`)], secrets)).toEqual([]);
  });

  it('refuses a secret too short to scan for', () => {
    expect(() => findLeaks([], [{ name: 'pin', bytes: Buffer.from('1234') }])).toThrow(/pin has 4 bytes/);
  });
});
