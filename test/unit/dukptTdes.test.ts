import { randomBytes } from 'node:crypto';
import { documentedVectors } from '../helpers/docVectors.ts';
import { describe, expect, it } from 'vitest';
import {
  COUNTER_LIFETIME,
  counterOf,
  countersLeft,
  decryptPinBlock,
  deriveIpek,
  deriveTransactionKey,
  encryptPinBlock,
  isValidCounter,
  nextCounter,
  nonReversibleKey,
  pinBlockFormat0,
  pinFromFormat0,
  retailMac,
  sessionKey,
  tdesCbc,
  tdesEcb,
  withCounter,
} from '../../schemas/keyCrypto/dukptTdes.ts';
import { KeyBlockError } from '../../schemas/keyCrypto/header.ts';
import {
  BDK,
  CLEAR_PIN_BLOCK,
  initialSequence,
  INITIAL_KSN,
  IPEK,
  PAN,
  PIN,
  rolloverSequence,
  TXN_DATA,
  type DukptRow,
} from './dukptTdesVectors.ts';

const hex = (s: string) => Buffer.from(s, 'hex');
const up = (b: Buffer) => b.toString('hex').toUpperCase();
const ipek = deriveIpek(hex(BDK), hex(INITIAL_KSN));
const refused = (f: () => unknown) => expect(f).toThrow(KeyBlockError);

function checkRow(row: DukptRow): void {
  const key = deriveTransactionKey(ipek, hex(row.ksn));
  expect(up(key)).toBe(row.key);
  expect(up(encryptPinBlock(key, PIN, PAN))).toBe(row.pinBlock);
  expect(decryptPinBlock(key, hex(row.pinBlock), PAN)).toBe(PIN);
  expect(up(retailMac(sessionKey(key, 'macRequest'), Buffer.from(TXN_DATA, 'ascii')).subarray(0, 4))).toBe(row.macRequest);
  expect(up(retailMac(sessionKey(key, 'macResponse'), Buffer.from(TXN_DATA, 'ascii')).subarray(0, 4))).toBe(row.macResponse);
  const data = Buffer.alloc(24);
  Buffer.from(TXN_DATA, 'ascii').copy(data);
  expect(up(tdesCbc(sessionKey(key, 'dataRequest'), Buffer.alloc(8), data))).toBe(row.dataRequest);
}

describe('TDES DUKPT (ANSI X9.24-1:2009 A.4 test data)', () => {
  it('derives the initial key from the BDK and the KSN', () => expect(up(ipek)).toBe(IPEK));
  it('ignores the counter of the KSN it derives the initial key from', () => {
    expect(up(deriveIpek(hex(BDK), hex(initialSequence[4]!.ksn)))).toBe(IPEK);
  });
  it('builds the format 0 PIN block of the examples', () => expect(up(pinBlockFormat0(PIN, PAN))).toBe(CLEAR_PIN_BLOCK));
  it('the PIN key is the transaction key with the PIN variant', () => {
    const key = hex(initialSequence[0]!.key);
    expect(up(sessionKey(key, 'pin'))).toBe('042666B49184CF5C68DE9628D0397B36');
  });
  it.each(initialSequence.map((r) => [r.ksn, r] as const))('initial sequence %s', (_ksn, row) => checkRow(row));
  it.each(rolloverSequence.map((r) => [r.ksn, r] as const))('rollover sequence %s', (_ksn, row) => checkRow(row));
  it('walks the published KSNs with nextCounter', () => {
    for (const seq of [[{ ksn: INITIAL_KSN }, ...initialSequence], rolloverSequence]) {
      for (let i = 1; i < seq.length; i++) {
        const next = nextCounter(counterOf(hex(seq[i - 1]!.ksn)));
        expect(up(withCounter(hex(seq[i - 1]!.ksn), next!))).toBe(seq[i]!.ksn);
      }
    }
  });
});

describe('TDES DUKPT counter', () => {
  it.each([
    [0, false],
    [1, true],
    [0x3ff, true],
    [0x7ff, false],
    [0x1ff800, true],
    [0x1ffc00, false],
    [0x200000, false],
    [-1, false],
    [1.5, false],
  ])('counter %i valid: %s', (c, valid) => expect(isValidCounter(c)).toBe(valid));
  it('skips counters with more than 10 one-bits', () => {
    expect(nextCounter(0x3fe)).toBe(0x3ff);
    expect(nextCounter(0x3ff)).toBe(0x400);
    expect(nextCounter(0x0ffc00)).toBe(0x100000);
  });
  it('runs out after 1,048,575 counters, the last 0x1FF800', () => {
    let n = 0;
    let last = 0;
    // Every 997th counter on the walk, with how many follow it, to check countersLeft against.
    const walked: number[] = [];
    for (let c = nextCounter(0); c !== null; c = nextCounter(c)) {
      n++;
      last = c;
      if (n % 997 === 0) walked.push(c, n);
    }
    const walkedLeft: [number, number][] = [];
    for (let i = 0; i < walked.length; i += 2) walkedLeft.push([walked[i]!, n - walked[i + 1]!]);
    expect(walkedLeft.length).toBeGreaterThan(1000);
    expect(n).toBe(COUNTER_LIFETIME);
    expect(last).toBe(0x1ff800);
    expect(walkedLeft.every(([c, left]) => countersLeft(c) === left)).toBe(true);
    expect(nextCounter(0x1ff800)).toBeNull();
    expect(countersLeft(0)).toBe(COUNTER_LIFETIME);
    expect(countersLeft(1)).toBe(COUNTER_LIFETIME - 1);
    expect(countersLeft(0x1ff800)).toBe(0);
    expect(countersLeft(0x7ff)).toBe(countersLeft(0x7fe)); // 0x7FF has 11 one-bits: it is not a counter of its own
    expect(countersLeft(0x1fffff)).toBe(0);
    expect(countersLeft(0x0ffc00)).toBe(countersLeft(0x100000) + 1); // the skipped counters in between are not counted
  });
  it('reads and writes the 21 counter bits only', () => {
    const ksn = hex('FFFF9876543210FFFFFF');
    expect(counterOf(ksn)).toBe(0x1fffff);
    expect(up(withCounter(ksn, 0))).toBe('FFFF9876543210E00000');
    expect(up(withCounter(hex(INITIAL_KSN), 0x1ff800))).toBe('FFFF9876543210FFF800');
  });
  it('refuses counters out of range', () => {
    refused(() => nextCounter(0x200000));
    refused(() => withCounter(hex(INITIAL_KSN), 0x200000));
    refused(() => deriveTransactionKey(ipek, hex(INITIAL_KSN)));
    refused(() => deriveTransactionKey(ipek, hex('FFFF9876543210E007FF')));
  });
});

describe('TDES DUKPT inputs and round trips', () => {
  it('refuses wrong lengths', () => {
    refused(() => deriveIpek(hex(BDK).subarray(0, 8), hex(INITIAL_KSN)));
    refused(() => deriveIpek(Buffer.concat([hex(BDK), hex(BDK).subarray(0, 8)]), hex(INITIAL_KSN)));
    refused(() => deriveIpek(hex(BDK), hex(INITIAL_KSN).subarray(0, 8)));
    refused(() => deriveTransactionKey(ipek.subarray(0, 15), hex(initialSequence[0]!.ksn)));
    refused(() => nonReversibleKey(ipek, Buffer.alloc(10)));
    refused(() => tdesEcb(ipek, Buffer.alloc(7)));
    refused(() => tdesCbc(ipek, Buffer.alloc(16), Buffer.alloc(8)));
    refused(() => counterOf(Buffer.alloc(12)));
  });
  it('refuses bad PINs, PANs and PIN blocks', () => {
    refused(() => pinBlockFormat0('123', PAN));
    refused(() => pinBlockFormat0('1234567890123', PAN));
    refused(() => pinBlockFormat0('12a4', PAN));
    refused(() => pinBlockFormat0(PIN, '40123456789'));
    refused(() => pinBlockFormat0(PIN, '4012 3456 7890 9'));
    refused(() => pinFromFormat0(hex('141274EDCBA9876F'), PAN)); // control field 1
    refused(() => pinFromFormat0(hex('031274EDCBA9876F'), PAN)); // length 3
    refused(() => pinFromFormat0(hex('041274EDCBA9876E'), PAN)); // fill not F
    refused(() => pinFromFormat0(hex('04127AEDCBA9876F'), PAN)); // a PIN digit above 9
    refused(() => pinFromFormat0(hex(CLEAR_PIN_BLOCK).subarray(0, 7), PAN));
  });
  it('a tampered encrypted PIN block, or the wrong key, does not decrypt to a PIN', () => {
    const row = initialSequence[0]!;
    const key = deriveTransactionKey(ipek, hex(row.ksn));
    const tampered = hex(row.pinBlock);
    tampered[7] = tampered[7]! ^ 0x01;
    refused(() => decryptPinBlock(key, tampered, PAN));
    refused(() => decryptPinBlock(deriveTransactionKey(ipek, hex(initialSequence[1]!.ksn)), hex(row.pinBlock), PAN));
    refused(() => pinFromFormat0(hex(CLEAR_PIN_BLOCK), '4012345678919')); // the block under another PAN
    // Format 0 leaves the PAN's check digit out: the same PIN block for both.
    expect(up(pinBlockFormat0(PIN, '4012345678901'))).toBe(CLEAR_PIN_BLOCK);
  });
  it('a PIN survives the round trip under fresh keys, for every PIN length', () => {
    const bdk = randomBytes(16);
    const ksn = withCounter(randomBytes(10), 0);
    const terminalIpek = deriveIpek(bdk, ksn);
    let counter = nextCounter(0)!;
    for (let len = 4; len <= 12; len++) {
      const k = withCounter(ksn, counter);
      const pin = Array.from(randomBytes(len), (b) => String(b % 10)).join('');
      // The terminal derives from its initial key; the host from the BDK, to the same key.
      const enc = encryptPinBlock(deriveTransactionKey(terminalIpek, k), pin, '5413330089020011');
      expect(decryptPinBlock(deriveTransactionKey(deriveIpek(bdk, k), k), enc, '5413330089020011')).toBe(pin);
      counter = nextCounter(counter)!;
    }
  });
  it('each usage has its own session key, and the data keys are not the bare variant', () => {
    const key = deriveTransactionKey(ipek, hex(initialSequence[0]!.ksn));
    const keys = (['pin', 'macRequest', 'macResponse', 'dataRequest', 'dataResponse'] as const).map((u) => up(sessionKey(key, u)));
    expect(new Set(keys).size).toBe(5);
    expect(keys[3]).not.toBe(up(Buffer.from(key.map((b, i) => b ^ (i === 5 || i === 13 ? 0xff : 0)))));
  });
});

describe('TDES DUKPT vectors of docs/keys.md', () => {
  const documented = documentedVectors('tdes-dukpt-vectors');
  const data = Buffer.alloc(24);
  Buffer.from(TXN_DATA, 'ascii').copy(data);
  const ksn = (c: number) => withCounter(hex(INITIAL_KSN), c);
  const key = (c: number) => deriveTransactionKey(ipek, ksn(c));
  const computed: Record<string, string> = {
    ipek: up(ipek),
    clear_pin_block: up(pinBlockFormat0(PIN, PAN)),
    ksn_1: up(ksn(1)),
    transaction_key_1: up(key(1)),
    pin_key_1: up(sessionKey(key(1), 'pin')),
    encrypted_pin_block_1: up(encryptPinBlock(key(1), PIN, PAN)),
    mac_request_1: up(retailMac(sessionKey(key(1), 'macRequest'), Buffer.from(TXN_DATA, 'ascii')).subarray(0, 4)),
    mac_response_1: up(retailMac(sessionKey(key(1), 'macResponse'), Buffer.from(TXN_DATA, 'ascii')).subarray(0, 4)),
    data_request_1: up(tdesCbc(sessionKey(key(1), 'dataRequest'), Buffer.alloc(8), data)),
    ksn_2: up(ksn(2)),
    transaction_key_2: up(key(2)),
    encrypted_pin_block_2: up(encryptPinBlock(key(2), PIN, PAN)),
    ksn_rollover: up(ksn(0x100000)),
    transaction_key_rollover: up(key(0x100000)),
    encrypted_pin_block_rollover: up(encryptPinBlock(key(0x100000), PIN, PAN)),
  };
  it('documents every value', () => expect(Object.keys(documented).sort()).toEqual(Object.keys(computed).sort()));
  it.each(Object.keys(computed))('%s matches', (name) => expect(computed[name]).toBe(documented[name]));
});
