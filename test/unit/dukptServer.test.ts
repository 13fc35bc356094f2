// The server's DUKPT vault work over the real software custody, against the published vectors:
// an initial key derived from a sealed BDK (AES X9.24-3 by ECB derivation, TDES X9.24-1 by its two
// halves) reaches the terminal as a TR-31 block under its TMK holding exactly the published
// initial key, with its KCV; the host side reads a terminal's check PIN block back to 1234 and
// refuses one made under another key; and the KSN bookkeeping matches the vectors' KSNs.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { derivationKeyFor, encipherPinBlock, encodeKsn, initialKey, workingKey } from '../../schemas/keyCrypto/dukptAes.ts';
import { deriveIpek, deriveTransactionKey, encryptPinBlock, withCounter, COUNTER_LIFETIME } from '../../schemas/keyCrypto/dukptTdes.ts';
import { kcv } from '../../schemas/keyCrypto/kcv.ts';
import { optionalBlock, unwrapTr31 } from '../../schemas/keyCrypto/tr31.ts';
import { createSoftwareCustody } from '../../server/keys/custody/softwareCustody.ts';
import { bdkRef, bdkVariantRef } from '../../server/keys/dukpt/bdkCeremony.ts';
import { counterLifetime, initialKsn, isCounterLow, TDES_BDK_MASK, xorBytes } from '../../server/keys/dukpt/dukptMath.ts';
import { initialOf } from '../../server/keys/dukpt/dukptService.ts';
import { createInitialKeys } from '../../server/keys/dukpt/initialKeys.ts';
import { aes128, aes256, initialKeyId } from './dukptAesVectors.ts';
import { BDK as TDES_BDK, INITIAL_KSN as TDES_KSN, IPEK as TDES_IPEK } from './dukptTdesVectors.ts';

const h = (s: string) => Buffer.from(s, 'hex');
const master = randomBytes(32);
const custody = createSoftwareCustody({ get: (g) => (g === 1 ? master : undefined), current: () => ({ gen: 1, key: master }) });
const vault = createInitialKeys(() => custody);
const tmkRef = { keyId: 'key_tmk', deviceId: 'dev_1', usage: 'TMK' as const, version: 1 };
const tmkClear = randomBytes(32);
const tmk = { ref: tmkRef, sealed: custody.importClear(tmkRef, 'AES256', Buffer.from(tmkClear)).sealed };
const ik = { keyId: 'key_ik', deviceId: 'dev_1', version: 1, slot: 'dukpt' };

function heldAes(id: string, scheme: 'aes128' | 'aes256', bdk: string) {
  return { id, scheme, sealed: custody.importClear(bdkRef(id), scheme === 'aes128' ? 'AES128' : 'AES256', h(bdk)).sealed, variantSealed: null };
}

describe('DUKPT initial keys from the vault', () => {
  for (const [scheme, v] of [['aes128', aes128], ['aes256', aes256]] as const) {
    it(`AES ${scheme}: the TR-31 block carries the published initial key, B1/A/X with IK, and its KCV`, () => {
      const b = heldAes(`bdk_${scheme}`, scheme, v.bdk);
      const ksn = initialKsn(scheme, initialKeyId.slice(0, 8), 0x90123456);
      expect(ksn.toString('hex').toUpperCase()).toBe(`${initialKeyId}00000000`);
      const w = vault.wrap(b, ik, ksn, tmk);
      expect(w.kcv).toBe(kcv('cmac', h(v.initialKey)));
      const { header, key } = unwrapTr31(w.block, tmkClear);
      expect(key.toString('hex').toUpperCase()).toBe(v.initialKey);
      expect([header.keyUsage, header.algorithm, header.modeOfUse]).toEqual(['B1', 'A', 'X']);
      expect(optionalBlock(header, 'IK')).toBe(initialKeyId);
      expect(optionalBlock(header, '01')).toBe('dev_1');
      expect(w.block).not.toContain(v.initialKey);
    });

    it(`AES ${scheme}: the host reads the check PIN block at the terminal's counter, and refuses a foreign one`, () => {
      const b = heldAes(`bdk_c_${scheme}`, scheme, v.bdk);
      const type = scheme === 'aes128' ? 'AES128' : 'AES256';
      for (const counter of [1, 2, 7]) {
        const id = h(initialKeyId);
        const pinKey = workingKey(derivationKeyFor(initialKey(h(v.bdk), id), id, counter), id, counter, 'pinEncryption', type);
        const block = encipherPinBlock(pinKey, '1234', '4111111111111111');
        expect(vault.checkPin(b, ik, encodeKsn(id, counter), block)).toBe('1234');
        // The same block claimed at another counter does not decipher to a format 4 field.
        expect(() => vault.checkPin(b, ik, encodeKsn(id, counter + 1 === 3 ? 4 : counter + 1), block)).toThrow();
      }
    });
  }

  it('TDES: the IPEK joined from its vault-derived halves is the published one, KS block, enc0 KCV', () => {
    const id = 'bdk_tdes';
    const b = { id, scheme: 'tdes' as const, sealed: custody.importClear(bdkRef(id), 'TDES2', h(TDES_BDK)).sealed, variantSealed: custody.importClear(bdkVariantRef(id), 'TDES2', xorBytes(h(TDES_BDK), TDES_BDK_MASK)).sealed };
    const ksn = initialKsn('tdes', TDES_KSN.slice(0, 10), 0x19087);
    expect(ksn.toString('hex').toUpperCase()).toBe(TDES_KSN);
    expect(deriveIpek(h(TDES_BDK), ksn).toString('hex').toUpperCase()).toBe(TDES_IPEK);
    const w = vault.wrap(b, ik, ksn, tmk);
    expect(w.kcv).toBe(kcv('enc0', h(TDES_IPEK)));
    const { header, key } = unwrapTr31(w.block, tmkClear);
    expect(key.toString('hex').toUpperCase()).toBe(TDES_IPEK);
    expect([header.keyUsage, header.algorithm, header.modeOfUse, optionalBlock(header, 'KS')]).toEqual(['B1', 'T', 'X', TDES_KSN]);
    const at1 = withCounter(ksn, 1);
    const block = encryptPinBlock(deriveTransactionKey(h(TDES_IPEK), at1), '1234', '4111111111111111');
    expect(vault.checkPin(b, ik, at1, block)).toBe('1234');
    expect(() => vault.checkPin(b, ik, withCounter(ksn, 2), block)).toThrow();
    expect(initialOf(at1.toString('hex').toUpperCase())).toBe(TDES_KSN);
  });

  it('knows each scheme’s counters and when they run low', () => {
    expect(counterLifetime('tdes')).toBe(COUNTER_LIFETIME);
    // Σ C(32, k), k = 1..16: the AES counters with at most 16 one-bits.
    expect(counterLifetime('aes128')).toBe(2_448_023_842);
    expect(isCounterLow('tdes', 104_857)).toBe(true);
    expect(isCounterLow('tdes', 104_858)).toBe(false);
    expect(initialOf(`${initialKeyId}0000002A`)).toBe(`${initialKeyId}00000000`);
    expect(() => initialKsn('tdes', 'FFFF987654', 2 ** 19)).toThrow(RangeError);
  });
});
