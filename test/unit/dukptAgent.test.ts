// The terminal's DUKPT slots end to end through the agent's modules, against the published
// vectors: the initial key injected as the server sends it (TR-31 under the TMK), each transaction's
// PIN block and KSN, the host's view of them from the BDK, the counter across restarts, zeroize and
// re-injection, and exhaustion.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AES_COUNTER_LIFETIME } from '../../agent/keys/dukptCounters.ts';
import { DukptError } from '../../agent/keys/dukptError.ts';
import { useCountersUntil } from '../../agent/keys/dukptSimulation.ts';
import { CHECK_PAN, CHECK_PIN, dukptCheckAfterInstall, reportingDukpt } from '../../agent/keys/dukptTerminal.ts';
import { openSecureStore } from '../../agent/keys/secureStore.ts';
import * as aes from '../../schemas/keyCrypto/dukptAes.ts';
import * as tdes from '../../schemas/keyCrypto/dukptTdes.ts';
import { inventoryEntry, keysInstallResult } from '../../schemas/keys.ts';
import { aes128, aes256, initialKeyId, pinExample } from './dukptAesVectors.ts';
import { ikItem, install, published, reopen, terminalWithTmk } from './dukptAgentFixtures.ts';
import { BDK, initialSequence, PAN, PIN, rolloverSequence } from './dukptTdesVectors.ts';

const h = (s: string) => Buffer.from(s, 'hex');
/** The random half of the published format 4 PIN field (X9.24-3-2017 supplement, page 31). */
const publishedRandom = () => h(pinExample.pinField.slice(16));
const hostPin = (bdk: string, ksn: string, block: string, type: aes.DukptKeyType) =>
  aes.decipherPinBlock(aes.hostWorkingKey(h(bdk), h(ksn), 'pinEncryption', type), h(block), pinExample.pan);

describe('agent DUKPT, AES (X9.24-3-2017 vectors)', () => {
  it('injects the AES-128 initial key and enciphers the published PIN blocks at counters 1..8, each opening at the host', () => {
    const { dir, tmk } = terminalWithTmk();
    install(dir, [ikItem('aes128', tmk)]);
    const terminal = reopen(dir, publishedRandom);
    expect(terminal.state('dukpt')).toEqual({
      scheme: 'aes128',
      ksn: published.aes128.ksn,
      counter: 0,
      countersLeft: AES_COUNTER_LIFETIME,
    });
    for (let i = 0; i < 8; i++) {
      const r = terminal.encipherPin('dukpt', pinExample.pin, pinExample.pan);
      const ksn = `${initialKeyId}${(i + 1).toString(16).toUpperCase().padStart(8, '0')}`;
      expect(r).toEqual({ slot: 'dukpt', ksn, pinBlock: aes128.pinBlocks[i] });
      // The host's PIN key of that KSN is the published one, and it opens the block to the PIN.
      expect(aes.hostWorkingKey(h(aes128.bdk), h(ksn), 'pinEncryption', 'AES128').toString('hex').toUpperCase()).toBe(aes128.pinAes128[i]);
      expect(hostPin(aes128.bdk, ksn, r.pinBlock, 'AES128')).toBe(pinExample.pin);
    }
    expect(terminal.state('dukpt')).toMatchObject({ counter: 8, countersLeft: AES_COUNTER_LIFETIME - 8 });
  });

  it('injects the AES-256 initial key and enciphers under the AES-256 PIN keys of the vectors', () => {
    const { dir, tmk } = terminalWithTmk();
    install(dir, [ikItem('aes256', tmk)]);
    const terminal = reopen(dir);
    for (let i = 0; i < 3; i++) {
      const r = terminal.encipherPin('dukpt', CHECK_PIN, CHECK_PAN);
      const pinKey = aes.hostWorkingKey(h(aes256.bdk), h(r.ksn), 'pinEncryption', 'AES256');
      expect(pinKey.toString('hex').toUpperCase()).toBe(aes256.pinAes256[i]);
      expect(aes.decipherPinBlock(pinKey, h(r.pinBlock), CHECK_PAN)).toBe(CHECK_PIN);
    }
  });

  it('gives the ack its round trip: PIN 1234 and PAN 4111111111111111 at the first counter, opening at the host from the BDK', () => {
    const { dir, tmk } = terminalWithTmk();
    const store = openSecureStore(dir);
    install(dir, [ikItem('aes128', tmk)]);
    const terminal = reopen(dir);
    const check = dukptCheckAfterInstall(terminal, store.inventory());
    if (!check) throw new Error('no round trip after an initial key');
    expect(check).toMatchObject({ slot: 'dukpt', ksn: '123456789012345600000001' });
    expect(hostPin(aes128.bdk, check.ksn, check.pinBlock, 'AES128')).toBe('1234');
    // What the handler acks is the wire shape, counter and all.
    const result = keysInstallResult.parse({ installed: [], inventory: reportingDukpt(store, terminal).inventory(), dukptCheck: check });
    expect(result.inventory.find((e) => e.slot === 'dukpt')?.dukpt).toEqual({
      scheme: 'aes128',
      ksn: check.ksn,
      counter: 1,
      countersLeft: AES_COUNTER_LIFETIME - 1,
    });
  });

  it('walks the last counters (0xFFFE8000, 0xFFFF0000), then refuses: exhausted, countersLeft 0', () => {
    const { dir, tmk } = terminalWithTmk();
    install(dir, [ikItem('aes128', tmk)]);
    expect(useCountersUntil(dir, 'dukpt', 2)).toMatchObject({ countersLeft: 2 });
    const terminal = reopen(dir);
    const ksns = [0, 1].map(() => terminal.encipherPin('dukpt', CHECK_PIN, CHECK_PAN));
    expect(ksns.map((r) => r.ksn.slice(16))).toEqual(['FFFE8000', 'FFFF0000']);
    for (const r of ksns) expect(hostPin(aes128.bdk, r.ksn, r.pinBlock, 'AES128')).toBe(CHECK_PIN);
    expect(terminal.state('dukpt')).toEqual({ scheme: 'aes128', ksn: '1234567890123456FFFF0000', counter: 0xffff0000, countersLeft: 0 });
    const err = (() => {
      try {
        terminal.encipherPin('dukpt', CHECK_PIN, CHECK_PAN);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(DukptError);
    expect(err).toMatchObject({ code: 'exhausted', message: expect.stringContaining('needs a new initial key') });
    // The ack of a re-injected exhausted key carries no check rather than a repeated KSN.
    expect(dukptCheckAfterInstall(terminal, [{ slot: 'dukpt', usage: 'IK' }])).toBeUndefined();
  });
});

describe('agent DUKPT, TDES (X9.24-1:2009 A.4 vectors)', () => {
  it('injects the IPEK and sends the published KSNs and PIN blocks of A.4.2, each opening at the host', () => {
    const { dir, tmk } = terminalWithTmk();
    install(dir, [ikItem('tdes', tmk)]);
    const terminal = reopen(dir);
    for (const row of initialSequence) {
      const r = terminal.encipherPin('dukpt', PIN, PAN);
      expect(r).toEqual({ slot: 'dukpt', ksn: row.ksn, pinBlock: row.pinBlock });
      const txnKey = tdes.deriveTransactionKey(tdes.deriveIpek(h(BDK), h(row.ksn)), h(row.ksn));
      expect(txnKey.toString('hex').toUpperCase()).toBe(row.key);
      expect(tdes.decryptPinBlock(txnKey, h(r.pinBlock), PAN)).toBe(PIN);
    }
    expect(terminal.state('dukpt')).toMatchObject({ counter: 21, countersLeft: tdes.countersLeft(21) });
  });

  it('skips the counters with more than 10 one-bits as A.4.3 does', () => {
    const { dir, tmk } = terminalWithTmk();
    install(dir, [ikItem('tdes', tmk)]);
    const first = rolloverSequence[0]!;
    useCountersUntil(dir, 'dukpt', tdes.countersLeft(tdes.counterOf(h(first.ksn))) + 1);
    const terminal = reopen(dir);
    for (const row of rolloverSequence)
      expect(terminal.encipherPin('dukpt', PIN, PAN)).toEqual({ slot: 'dukpt', ksn: row.ksn, pinBlock: row.pinBlock });
  });

  it('refuses after its last counter, 0x1FF800', () => {
    const { dir, tmk } = terminalWithTmk();
    install(dir, [ikItem('tdes', tmk)]);
    useCountersUntil(dir, 'dukpt', 1);
    const terminal = reopen(dir);
    expect(terminal.encipherPin('dukpt', PIN, PAN).ksn).toBe('FFFF9876543210FFF800');
    expect(terminal.state('dukpt')).toMatchObject({ counter: 0x1ff800, countersLeft: 0 });
    expect(() => terminal.encipherPin('dukpt', PIN, PAN)).toThrow(expect.objectContaining({ code: 'exhausted' }));
  });
});

describe('agent DUKPT counter', () => {
  it('is on disk before the key is used, so a restarted agent goes on from the next counter', () => {
    const { dir, tmk } = terminalWithTmk();
    install(dir, [ikItem('aes128', tmk)]);
    reopen(dir).encipherPin('dukpt', CHECK_PIN, CHECK_PAN);
    reopen(dir).encipherPin('dukpt', CHECK_PIN, CHECK_PAN);
    expect(JSON.parse(readFileSync(join(dir, 'dukpt-counters.json'), 'utf8'))).toEqual({ v: 1, used: { [published.aes128.ksn]: 2 } });
    expect(reopen(dir).encipherPin('dukpt', CHECK_PIN, CHECK_PAN).ksn).toBe('123456789012345600000003');
  });

  it('never repeats a KSN: the same initial key re-injected (new version), or after a zeroize, goes on where it was', () => {
    const { dir, tmk } = terminalWithTmk();
    install(dir, [ikItem('aes128', tmk)]);
    reopen(dir).encipherPin('dukpt', CHECK_PIN, CHECK_PAN);
    install(dir, [ikItem('aes128', tmk, {}, { keyId: 'key_ik2', version: 2 })]);
    expect(reopen(dir).encipherPin('dukpt', CHECK_PIN, CHECK_PAN).ksn).toBe('123456789012345600000002');
    openSecureStore(dir).zeroize(['dukpt']);
    expect(() => reopen(dir).encipherPin('dukpt', CHECK_PIN, CHECK_PAN)).toThrow(expect.objectContaining({ code: 'no_initial_key' }));
    install(dir, [ikItem('aes128', tmk, {}, { keyId: 'key_ik3', version: 3 })]);
    expect(reopen(dir).encipherPin('dukpt', CHECK_PIN, CHECK_PAN).ksn).toBe('123456789012345600000003');
  });

  it('a new initial key (other id) starts at counter 1, and the inventory says so, never with a key', () => {
    const { dir, tmk } = terminalWithTmk();
    install(dir, [ikItem('aes128', tmk)]);
    reopen(dir).encipherPin('dukpt', CHECK_PIN, CHECK_PAN);
    const other = Buffer.from(aes.initialKey(h(aes128.bdk), h('1234567890ABCDEF')));
    const ikid = '1234567890ABCDEF';
    install(dir, [
      ikItem(
        'aes128',
        tmk,
        {
          key: other,
          blocks: [
            { id: '01', data: 'dev_dukpt' },
            { id: 'IK', data: ikid },
          ],
        },
        { keyId: 'key_ik2', version: 2, dukpt: { scheme: 'aes128', ksn: `${ikid}00000000`, bdkKcv: 'cmac:000000' } },
      ),
    ]);
    const terminal = reopen(dir);
    expect(terminal.encipherPin('dukpt', CHECK_PIN, CHECK_PAN).ksn).toBe(`${ikid}00000001`);
    const entry = reportingDukpt(openSecureStore(dir), terminal)
      .inventory()
      .find((e) => e.slot === 'dukpt')!;
    expect(inventoryEntry.parse(entry)).toEqual(entry);
    expect(entry).toMatchObject({ usage: 'IK', keyId: 'key_ik2', version: 2, dukpt: { ksn: `${ikid}00000001`, counter: 1 } });
    expect(JSON.stringify(entry)).not.toContain(other.toString('hex').toUpperCase());
    expect(JSON.stringify(entry)).not.toContain(other.toString('base64'));
  });

  it('an unreadable counter ledger closes the slot instead of starting over', () => {
    const { dir, tmk } = terminalWithTmk();
    install(dir, [ikItem('aes128', tmk)]);
    writeFileSync(join(dir, 'dukpt-counters.json'), '{"v":1,"used":');
    expect(() => reopen(dir).encipherPin('dukpt', CHECK_PIN, CHECK_PAN)).toThrow(expect.objectContaining({ code: 'ledger_unreadable' }));
  });
});
