// posfleet's keys as TR-31 version D blocks: the header mapping (usage, slot, key id, version,
// wrapping key, KCV), the builder C's DUKPT delivery shares, and tampering with any character.
import { documentedVectors } from '../helpers/docVectors.ts';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { keyCheckValue } from '../../schemas/keyCrypto/cmac.ts';
import { KeyBlockError, type KeyBlockHeader } from '../../schemas/keyCrypto/header.ts';
import { kcv } from '../../schemas/keyCrypto/kcv.ts';
import { deriveTr31Keys, initialKeyIdBlock, parseHeader, serialiseHeader, wrapTr31 } from '../../schemas/keyCrypto/tr31.ts';
import { deliveryHeader, deliveryTr31, openDeliveryTr31, readDelivery, readDeliveryTr31, type Tr31Delivery } from '../../schemas/keyCrypto/tr31Delivery.ts';
import { headerOfDelivery, tr31WorkingUsage, workingKeyTr31, workingUsageOf } from '../../schemas/keyCrypto/workingKeyTr31.ts';
import { tpkHeader, vectorInputs } from './keysVectors.ts';
import { computeTr31DeliveryVectors, tr31DeliveryPadding } from './tr31DeliveryVectors.ts';

const refusal = (fn: () => unknown): string => {
  try {
    fn();
  } catch (e) {
    if (e instanceof KeyBlockError) return e.code;
    throw e;
  }
  return 'accepted';
};

const tmk = randomBytes(32);
const header = (opts: Partial<KeyBlockHeader> = {}): KeyBlockHeader => ({ usage: 'TPK', alg: 'AES256', ver: 7, kid: 'key_tpk7', dev: 'dev_one', slot: 'tpk', wk: 'key_tmk1', ...opts });

describe('working keys as TR-31 blocks', () => {
  it.each([
    ['TPK', 'tpk', 'P0', 'E'],
    ['TAK', 'tak.2', 'M6', 'C'],
    ['TDK', 'tdk', 'D0', 'B'],
  ] as const)('%s in %s travels as key usage %s, mode %s, AES, non-exportable, and reads back as its posfleet header', (usage, slot, keyUsage, modeOfUse) => {
    const key = randomBytes(32);
    const h = header({ usage, slot });
    const block = workingKeyTr31({ header: h, key, tmk });
    const parsed = parseHeader(block).header;
    expect(parsed).toMatchObject({ keyUsage, modeOfUse, algorithm: 'A', keyVersionNumber: '00', exportability: 'N', keyContext: '0' });
    const d = readDeliveryTr31(block);
    expect(d).toMatchObject({ deviceId: 'dev_one', keyId: 'key_tpk7', version: 7, slot, wrappingKeyId: 'key_tmk1', kcv: keyCheckValue(key), blocks: [] });
    expect(workingUsageOf(d)).toBe(usage);
    expect(headerOfDelivery(d, usage)).toEqual(h);
    const opened = openDeliveryTr31(block, tmk);
    expect(opened.key.equals(key)).toBe(true);
    expect(opened.delivery).toEqual(d);
  });
  it('carries versions up to 2^31 - 1 in block 03, since the key version field has two characters', () => {
    const block = workingKeyTr31({ header: header({ ver: 2 ** 31 - 1 }), key: randomBytes(32), tmk });
    expect(readDeliveryTr31(block).version).toBe(2 ** 31 - 1);
    expect(parseHeader(block).header.optionalBlocks.find((b) => b.id === '03')?.data).toBe('2147483647');
  });
  it('gives the same block from the TMK or from its KBEK and KBMK derived once', () => {
    const key = randomBytes(32);
    const a = workingKeyTr31({ header: header(), key, tmk, padding: tr31DeliveryPadding });
    expect(workingKeyTr31({ header: header(), key, tmk: deriveTr31Keys(tmk), padding: tr31DeliveryPadding })).toBe(a);
    expect(openDeliveryTr31(a, deriveTr31Keys(tmk)).key.equals(key)).toBe(true);
  });
  it('maps only its own usage and mode pairs to working keys', () => {
    expect(workingUsageOf({ keyUsage: 'P0', modeOfUse: 'B' })).toBeUndefined();
    expect(workingUsageOf({ keyUsage: 'K0', modeOfUse: 'E' })).toBeUndefined();
    expect(workingUsageOf({ keyUsage: 'M3', modeOfUse: 'C' })).toBeUndefined();
    expect(Object.values(tr31WorkingUsage).map((u) => u.keyUsage)).toEqual(['P0', 'M6', 'D0']);
  });
  it('refuses what is no working key: a TMK, a DUKPT initial key, a key that is not 32 bytes', () => {
    expect(refusal(() => workingKeyTr31({ header: header({ usage: 'TMK', slot: 'tmk', wk: 'KEK' }), key: randomBytes(32), tmk }))).toBe('bad_block');
    expect(refusal(() => workingKeyTr31({ header: header({ usage: 'IK', slot: 'dukpt' }), key: randomBytes(32), tmk }))).toBe('bad_block');
    expect(refusal(() => workingKeyTr31({ header: header(), key: randomBytes(16), tmk }))).toBe('bad_block');
  });
});

describe('the delivery builder for other usages (a DUKPT initial key, B1 with its IK block)', () => {
  const delivery: Omit<Tr31Delivery, 'kcv'> = {
    keyUsage: 'B1',
    algorithm: 'A',
    modeOfUse: 'X',
    exportability: 'N',
    deviceId: 'dev_one',
    keyId: 'key_ik1',
    version: 1,
    slot: 'dukpt',
    wrappingKeyId: 'key_tmk1',
    blocks: [initialKeyIdBlock(Buffer.from('1234567890123456', 'hex'))],
  };
  it('writes its further blocks after posfleet\'s and reads them back', () => {
    const key = randomBytes(16);
    const block = deliveryTr31({ delivery, key, kbpk: tmk, kcvMethod: 'cmac' });
    const opened = openDeliveryTr31(block, tmk);
    expect(opened.key.equals(key)).toBe(true);
    expect(opened.delivery).toEqual({ ...delivery, kcv: kcv('cmac', key) });
    expect(parseHeader(block).header.optionalBlocks.map((b) => b.id)).toEqual(['01', '02', '03', '04', '05', 'KC', 'IK']);
  });
  it('writes a TDES key\'s legacy KCV as KC algorithm 00', () => {
    const key = randomBytes(16);
    const block = deliveryTr31({ delivery: { ...delivery, algorithm: 'T' }, key, kbpk: tmk, kcvMethod: 'enc0' });
    expect(parseHeader(block).header.optionalBlocks.find((b) => b.id === 'KC')?.data).toBe(`00${kcv('enc0', key).slice(5)}`);
    expect(readDeliveryTr31(block).kcv).toBe(kcv('enc0', key));
  });
  it('leaves KC out when asked for no KCV', () => {
    const block = deliveryTr31({ delivery, key: randomBytes(16), kbpk: tmk });
    expect(readDeliveryTr31(block).kcv).toBeUndefined();
  });
  it.each([
    ['a further block with one of posfleet\'s ids', { blocks: [{ id: '01', data: 'dev_two' }] }],
    ['a device id outside [A-Za-z0-9._:-]', { deviceId: 'dev one' }],
    ['an empty slot', { slot: '' }],
    ['version 0', { version: 0 }],
    ['version 2^31', { version: 2 ** 31 }],
  ])('refuses %s', (_why, change) => {
    expect(refusal(() => deliveryTr31({ delivery: { ...delivery, ...change }, key: randomBytes(16), kbpk: tmk }))).toBe('bad_block');
  });
});

describe('reading a delivery header', () => {
  const good = deliveryHeader({ keyUsage: 'P0', algorithm: 'A', modeOfUse: 'E', exportability: 'N', deviceId: 'dev_one', keyId: 'key_a', version: 3, slot: 'tpk', wrappingKeyId: 'key_t', kcv: 'cmac:ABCDEF', blocks: [] });
  const without = (id: string) => ({ ...good, optionalBlocks: good.optionalBlocks.filter((b) => b.id !== id) });
  const replaced = (id: string, data: string) => ({ ...good, optionalBlocks: good.optionalBlocks.map((b) => (b.id === id ? { id, data } : b)) });
  it('reads what it wrote', () => expect(readDelivery(parseHeader(serialiseHeader(good, 9999)).header)).toMatchObject({ version: 3, kcv: 'cmac:ABCDEF' }));
  it('accepts a 5-byte CMAC check value (X9.24-1) and keeps the 3 bytes posfleet compares', () => {
    expect(readDelivery(replaced('KC', '01ABCDEF0102')).kcv).toBe('cmac:ABCDEF');
  });
  it.each([
    ['no device block', without('01')],
    ['no key id block', without('02')],
    ['no version block', without('03')],
    ['no slot block', without('04')],
    ['no wrapping key block', without('05')],
    ['a device block twice', { ...good, optionalBlocks: [...good.optionalBlocks, { id: '01', data: 'dev_two' }] }],
    ['a version with a leading zero', replaced('03', '03')],
    ['a version that is not decimal', replaced('03', '3a')],
    ['a version over 2^31 - 1', replaced('03', '2147483648')],
    ['a key id with a space', replaced('02', 'key a')],
    ['a KC of an unknown algorithm', replaced('KC', '02ABCDEF')],
    ['a KC of lower-case hex', replaced('KC', '01abcdef')],
    ['a KC too short', replaced('KC', '01ABCD')],
    ['a version in the key version field', { ...good, keyVersionNumber: '03' }],
  ])('refuses %s', (_why, h) => expect(refusal(() => readDelivery(h))).toBe('bad_block'));
});

describe('tampering with a delivered block', () => {
  const key = randomBytes(32);
  const block = workingKeyTr31({ header: header(), key, tmk });
  const { headerLength } = parseHeader(block);
  const flip = (at: number, to: string) => block.slice(0, at) + to + block.slice(at + 1);
  // A replacement that keeps each field's own alphabet, so only the MAC can tell.
  const other = (at: number): string => {
    const c = block[at]!;
    if (at === 11) return c === 'N' ? 'E' : 'N';
    if (/[0-9]/.test(c)) return c === '0' ? '1' : '0';
    if (/[A-Z]/.test(c)) return c === 'A' ? 'B' : 'A';
    return c === 'a' ? 'b' : 'a';
  };
  // Where the header's structure lives: version id, length, block count, key context, reserved, each block's length.
  const structural = new Set([0, 1, 2, 3, 4, 12, 13, 14, 15]);
  for (let at = 16; at < headerLength; ) {
    const len = parseInt(block.slice(at + 2, at + 4), 16);
    structural.add(at + 2).add(at + 3);
    at += len;
  }
  const headerPositions = Array.from({ length: headerLength }, (_, i) => i);
  it('fails the MAC (unwrap_failed) when any field or optional block character is changed: usage, algorithm, mode, version, exportability, ids, device, key id, version, slot, wrapping key, KCV, padding', () => {
    const changed = headerPositions.filter((at) => !structural.has(at));
    expect(changed.length).toBe(headerLength - structural.size);
    expect(changed.length).toBeGreaterThan(50);
    for (const at of changed) expect([at, refusal(() => openDeliveryTr31(flip(at, other(at)), tmk))]).toEqual([at, 'unwrap_failed']);
  });
  it('refuses a changed structural character: the version id and length as bad_block, every one no better under the right TMK than under a wrong one', () => {
    const wrongTmk = randomBytes(32);
    for (const at of [0, 1, 2, 3, 4]) expect([at, refusal(() => openDeliveryTr31(flip(at, other(at)), tmk))]).toEqual([at, 'bad_block']);
    for (const at of structural) {
      const tampered = flip(at, other(at));
      const underWrongTmk = refusal(() => openDeliveryTr31(tampered, wrongTmk));
      expect(underWrongTmk).not.toBe('accepted');
      expect([at, refusal(() => openDeliveryTr31(tampered, tmk))]).toEqual([at, underWrongTmk]);
    }
  });
  it('fails the MAC when any ciphertext or MAC character is changed', () => {
    for (let at = headerLength; at < block.length; at++) expect([at, refusal(() => openDeliveryTr31(flip(at, block[at] === 'A' ? 'B' : 'A'), tmk))]).toEqual([at, 'unwrap_failed']);
  });
  it('fails the MAC under another TMK', () => expect(refusal(() => openDeliveryTr31(block, randomBytes(32)))).toBe('unwrap_failed'));
  it('opens untouched', () => expect(openDeliveryTr31(block, tmk).key.equals(key)).toBe(true));
});

describe('TR-31 delivery example of docs/keys.md', () => {
  const documented = documentedVectors('tr31-delivery-vectors');
  const computed = computeTr31DeliveryVectors();
  it('documents every value', () => expect(Object.keys(documented).sort()).toEqual(Object.keys(computed).sort()));
  it.each(Object.keys(computed))('%s matches', (name) => expect(computed[name]).toBe(documented[name]));
  it('the documented block opens under the example TMK to the example TPK, with the PFK1 example header', () => {
    const { delivery, key } = openDeliveryTr31(documented.tr31_block!, vectorInputs.tmk);
    expect(key.equals(vectorInputs.tpk)).toBe(true);
    expect(headerOfDelivery(delivery, 'TPK')).toEqual(tpkHeader);
    expect(delivery.kcv).toBe('cmac:C9F46F');
  });
  it('is an X9.143 block a generic reader opens: its own wrap of the parsed header gives the same bytes', () => {
    const h = parseHeader(documented.tr31_block!).header;
    expect(wrapTr31({ header: h, key: vectorInputs.tpk, kbpk: vectorInputs.tmk, padding: tr31DeliveryPadding })).toBe(documented.tr31_block);
  });
});
