import { createCipheriv, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  decipherPinBlock,
  derivationData,
  derivationKeyFor,
  deriveKey,
  encipherPinBlock,
  encodeKsn,
  hostWorkingKey,
  initialKey,
  isValidCounter,
  nextCounter,
  oneBits,
  panField,
  parseKsn,
  pinField,
  workingKey,
  keyTypes,
  type DukptKeyType,
  type WorkingKeyUsage,
} from '../../schemas/keyCrypto/dukptAes.ts';
import { KeyBlockError } from '../../schemas/keyCrypto/header.ts';
import { aes128, aes256, initialKeyId, pinExample } from './dukptAesVectors.ts';

const hex = (s: string) => Buffer.from(s, 'hex');
const HEX = (b: Buffer) => b.toString('hex').toUpperCase();
const ikid = hex(initialKeyId);
const refused = (f: () => unknown, code: KeyBlockError['code'] = 'bad_block') => {
  expect(f).toThrow(KeyBlockError);
  expect(f).toThrow(expect.objectContaining({ code }));
};

describe('derivation data (X9.24-3 §6.3.2)', () => {
  it('initial key: version, counter, usage 8001, algorithm, length, the whole initial key id', () => {
    expect(HEX(derivationData('initialKey', 'AES128', ikid, 0))).toBe('01018001000200801234567890123456');
    expect(HEX(derivationData('initialKey', 'AES256', ikid, 0))).toBe('01018001000401001234567890123456');
  });
  it('other keys: the derivation id and the counter', () => {
    expect(HEX(derivationData('keyDerivation', 'AES128', ikid, 0x1fffe))).toBe('0101800000020080' + '90123456' + '0001FFFE');
    expect(HEX(derivationData('pinEncryption', 'AES192', ikid, 1))).toBe('01011000000300C0' + '90123456' + '00000001');
    expect(HEX(derivationData('macVerification', 'TDES2', ikid, 0xffff0000))).toBe('0101200100000080' + '90123456' + 'FFFF0000');
  });
  it('refuses a bad initial key id or counter', () => {
    refused(() => derivationData('initialKey', 'AES128', ikid.subarray(0, 7), 0));
    refused(() => derivationData('keyDerivation', 'AES128', ikid, -1));
    refused(() => derivationData('keyDerivation', 'AES128', ikid, 2 ** 32));
    refused(() => derivationData('keyDerivation', 'AES128', ikid, 1.5));
  });
});

const suites = [
  ['AES-128 BDK', aes128],
  ['AES-256 BDK', aes256],
] as const;

describe.each(suites)('X9.24-3-2017 supplement vectors, %s', (_name, v) => {
  const ik = initialKey(hex(v.bdk), ikid);
  it('initial key', () => expect(HEX(ik)).toBe(v.initialKey));
  it.each(v.txn.map((k, i) => [i + 1, k] as const))('derivation key of counter %i', (counter, key) => {
    expect(HEX(derivationKeyFor(ik, ikid, counter))).toBe(key);
  });
  it.each(Object.entries(v.later))('derivation key of counter %s', (counter, key) => {
    expect(HEX(derivationKeyFor(ik, ikid, Number(counter)))).toBe(key);
  });
  const working: (readonly [WorkingKeyUsage, DukptKeyType, readonly string[]])[] = [
    ['pinEncryption', 'AES128', v.pinAes128],
    ['macGeneration', 'AES128', v.macGenAes128],
    ['dataEncrypt', 'AES128', v.dataAes128],
    ...('pinAes256' in v
      ? ([
          ['pinEncryption', 'AES256', v.pinAes256],
          ['macGeneration', 'AES256', v.macGenAes256],
          ['dataEncrypt', 'AES256', v.dataAes256],
        ] as const)
      : []),
  ];
  it.each(working)('%s %s working keys of counters 1..8', (usage, keyType, keys) => {
    keys.forEach((key, i) => {
      const counter = i + 1;
      expect(HEX(workingKey(hex(v.txn[i]!), ikid, counter, usage, keyType))).toBe(key);
      expect(HEX(hostWorkingKey(hex(v.bdk), encodeKsn(ikid, counter), usage, keyType))).toBe(key);
    });
  });
  it('working keys of each usage differ', () => {
    const dk = hex(v.txn[0]!);
    const usages: WorkingKeyUsage[] = [
      'keyEncryptionKey',
      'pinEncryption',
      'macGeneration',
      'macVerification',
      'macBothWays',
      'dataEncrypt',
      'dataDecrypt',
      'dataBothWays',
    ];
    expect(new Set(usages.map((u) => HEX(workingKey(dk, ikid, 1, u, 'AES128')))).size).toBe(usages.length);
  });
});

describe('AES-192 working keys (no published vector: checked against AES-ECB of the derivation data)', () => {
  it('takes two blocks with key block counters 1 and 2, truncated to 24 bytes', () => {
    const dk = hex(aes256.txn[0]!);
    const dd = hex('01013002000300C0' + '90123456' + '00000001');
    const block = (n: number) => {
      const d = Buffer.from(dd);
      d[1] = n;
      const c = createCipheriv('aes-256-ecb', dk, null).setAutoPadding(false);
      return Buffer.concat([c.update(d), c.final()]);
    };
    expect(HEX(workingKey(dk, ikid, 1, 'dataBothWays', 'AES192'))).toBe(HEX(Buffer.concat([block(1), block(2)]).subarray(0, 24)));
  });
});

describe('ISO 9564-1 format 4 PIN block (X9.24-3-2017 supplement, page 31)', () => {
  const random = hex(pinExample.pinField).subarray(8);
  it('builds the PIN field and the PAN field', () => {
    expect(HEX(pinField(pinExample.pin, random))).toBe(pinExample.pinField);
    expect(HEX(panField(pinExample.pan))).toBe(pinExample.panField);
  });
  it.each(aes128.pinAes128.map((k, i) => [i + 1, k, aes128.pinBlocks[i]!] as const))(
    'enciphers and deciphers under the PIN key of counter %i',
    (_c, key, block) => {
      expect(HEX(encipherPinBlock(hex(key), pinExample.pin, pinExample.pan, random))).toBe(block);
      expect(decipherPinBlock(hex(key), hex(block), pinExample.pan)).toBe(pinExample.pin);
    },
  );
  it('PAN fields of short and long PANs', () => {
    expect(HEX(panField('12345'))).toBe('00000000123450000000000000000000');
    expect(HEX(panField('1234567890123456789'))).toBe('71234567890123456789000000000000');
  });
  it('PIN field of a 12-digit PIN keeps two fill nibbles', () =>
    expect(HEX(pinField('123456789012', random)).slice(0, 16)).toBe('4C123456789012AA'));
  it('round trips with random fill under AES-128, 192 and 256 keys', () => {
    for (const len of [16, 24, 32]) {
      const key = randomBytes(len);
      const a = encipherPinBlock(key, '987654321098', '5413330089020011');
      const b = encipherPinBlock(key, '987654321098', '5413330089020011');
      expect(a.equals(b)).toBe(false);
      expect(decipherPinBlock(key, a, '5413330089020011')).toBe('987654321098');
    }
  });
  it('a wrong key, a wrong PAN or a changed byte does not decipher', () => {
    const key = hex(aes128.pinAes128[0]!);
    const block = hex(aes128.pinBlocks[0]!);
    refused(() => decipherPinBlock(hex(aes128.pinAes128[1]!), block, pinExample.pan), 'unwrap_failed');
    refused(() => decipherPinBlock(key, block, '4111111111111112'), 'unwrap_failed');
    for (const i of [0, 7, 15]) {
      const t = Buffer.from(block);
      t[i] = t[i]! ^ 0x01;
      refused(() => decipherPinBlock(key, t, pinExample.pan), 'unwrap_failed');
    }
  });
  it('refuses a deciphered field with a bad control nibble, length, digit or fill', () => {
    const key = hex(aes128.pinAes128[0]!);
    const ecb = (b: Buffer) => {
      const c = createCipheriv('aes-128-ecb', key, null).setAutoPadding(false);
      return Buffer.concat([c.update(b), c.final()]);
    };
    const encipherField = (field: string) => {
      const a = ecb(hex(field));
      const p = hex(pinExample.panField);
      return ecb(Buffer.from(a.map((x, i) => x ^ p[i]!)));
    };
    expect(decipherPinBlock(key, encipherField(pinExample.pinField), pinExample.pan)).toBe('1234');
    for (const field of [
      '341234AAAAAAAAAA',
      '431234AAAAAAAAAA',
      '4D1234AAAAAAAAAA',
      '4412B4AAAAAAAAAA',
      '441234AAAAAAAAAB',
      '4412340AAAAAAAAA',
    ]) {
      refused(() => decipherPinBlock(key, encipherField(field + '2F69ADDE2E9E7ACE'), pinExample.pan), 'unwrap_failed');
    }
  });
  it('refuses bad PINs, PANs, keys and block lengths', () => {
    const key = randomBytes(16);
    for (const pin of ['123', '1234567890123', '12a4', '']) refused(() => encipherPinBlock(key, pin, pinExample.pan));
    for (const pan of ['', '12345678901234567890', '41111111111111x1']) refused(() => encipherPinBlock(key, '1234', pan));
    refused(() => encipherPinBlock(randomBytes(8), '1234', pinExample.pan));
    refused(() => pinField('1234', randomBytes(7)));
    refused(() => decipherPinBlock(key, randomBytes(15), pinExample.pan));
  });
});

describe('transaction counter rules', () => {
  it('counts one-bits', () => {
    expect([0, 1, 0x1fffe, 0x1ffff, 0xffff0000, 0xffffffff].map(oneBits)).toEqual([0, 1, 16, 17, 16, 32]);
  });
  it('a counter is 1..2^32-1 with at most 16 one-bits', () => {
    expect([1, 0x1fffe, 0x20000, 0xffff0000].every(isValidCounter)).toBe(true);
    expect([0, 0x1ffff, 0xffff0001, 0xffffffff, 2 ** 32, -1, 1.5].some(isValidCounter)).toBe(false);
  });
  it('skips counters with 17 one-bits, as the supplement does (0x1FFFE, then 0x20000)', () => {
    expect(nextCounter(0)).toBe(1);
    expect(nextCounter(0x1fffe)).toBe(0x20000);
    expect(nextCounter(0x20000)).toBe(0x20001);
  });
  it('the last four counters of the supplement follow one another, then the counter is exhausted', () => {
    expect(nextCounter(0xfffe2000)).toBe(0xfffe4000);
    expect(nextCounter(0xfffe4000)).toBe(0xfffe8000);
    expect(nextCounter(0xfffe8000)).toBe(0xffff0000);
    expect(nextCounter(0xffff0000)).toBeNull();
  });
  it.each([
    [0x0001ff00, 0x00030000],
    [0xfffe0000, 0xffffffff],
    [0x7fff0000, 0x80010000],
  ])('from %i to %i it steps onto every valid counter and nothing else', (from, to) => {
    const walked: number[] = [];
    for (let c: number | null = nextCounter(from); c !== null && c <= to; c = nextCounter(c)) walked.push(c);
    const valid: number[] = [];
    for (let c = from + 1; c <= to; c++) if (isValidCounter(c)) valid.push(c);
    expect(walked).toEqual(valid);
  });
  it('refuses a counter with 17 one-bits, 0 or out of range for derivation', () => {
    const ik = initialKey(hex(aes128.bdk), ikid);
    for (const c of [0, 0x1ffff, 2 ** 32, -1]) refused(() => derivationKeyFor(ik, ikid, c));
    refused(() => nextCounter(2 ** 32));
  });
});

describe('KSN and bad inputs', () => {
  it('splits and builds a 12-byte KSN', () => {
    const ksn = hex('12345678901234560001FFFE');
    const p = parseKsn(ksn);
    expect(HEX(p.initialKeyId)).toBe(initialKeyId);
    expect(p.counter).toBe(0x1fffe);
    expect(encodeKsn(p.initialKeyId, p.counter).equals(ksn)).toBe(true);
    refused(() => parseKsn(ksn.subarray(0, 10)));
  });
  it('refuses a BDK that is not an AES key, a short initial key id, a key stronger than its derivation key', () => {
    refused(() => initialKey(randomBytes(15), ikid));
    refused(() => initialKey(hex('0123456789ABCDEFFEDCBA9876543210'.repeat(2)).subarray(0, 20), ikid));
    refused(() => initialKey(hex(aes128.bdk), ikid.subarray(1)));
    refused(() => workingKey(hex(aes128.txn[0]!), ikid, 1, 'pinEncryption', 'AES256'));
    refused(() => deriveKey(hex(aes128.txn[0]!), 'AES128', Buffer.alloc(15)));
  });
});

describe('the AES DUKPT vectors of docs/keys.md', () => {
  const doc = readFileSync(new URL('../../docs/keys.md', import.meta.url), 'utf8');
  const lines = (/```aes-dukpt\n([\s\S]*?)```/.exec(doc)?.[1] ?? '').trim().split('\n');
  const keyTypeNames = Object.keys(keyTypes).filter((t): t is DukptKeyType => t in keyTypes);
  const usages = { pin: 'pinEncryption', mac: 'macGeneration', data: 'dataEncrypt' } as const;
  const random = hex(pinExample.pinField).subarray(8);
  function compute(suite: string, name: string): string {
    const bdk = hex((suite === 'aes256' ? aes256 : aes128).bdk);
    const ik = initialKey(bdk, ikid);
    const [what, a, b] = name.split('.');
    if (what === 'bdk') return HEX(bdk);
    if (what === 'initial_key') return HEX(ik);
    if (what === 'dk') return HEX(derivationKeyFor(ik, ikid, parseInt(a!, 16)));
    if (what === 'pin_block')
      return HEX(
        encipherPinBlock(
          hostWorkingKey(bdk, encodeKsn(ikid, parseInt(a!, 16)), 'pinEncryption', 'AES128'),
          pinExample.pin,
          pinExample.pan,
          random,
        ),
      );
    const keyType = keyTypeNames.find((t) => t === a);
    if ((what === 'pin' || what === 'mac' || what === 'data') && keyType)
      return HEX(hostWorkingKey(bdk, encodeKsn(ikid, parseInt(b!, 16)), usages[what], keyType));
    throw new Error(`unknown vector ${suite} ${name}`);
  }
  it('has the block', () => expect(lines.length).toBeGreaterThanOrEqual(20));
  it.each(lines.map((l) => /^(aes128|aes256) (\S+) = ([0-9A-F]+)$/.exec(l)?.slice(1) ?? [l, '', '']))('%s %s', (suite, name, value) => {
    expect(compute(suite!, name!)).toBe(value);
  });
});
