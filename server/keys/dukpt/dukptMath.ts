// Pure DUKPT bookkeeping of the server (docs/keys.md, "DUKPT injection"): how a BDK's key set id
// and a derivation id make a terminal's initial KSN, the derivation data the vault encrypts to
// form an initial key or a host working key, the counters a scheme has, and when they run low.
// No key bytes here: the vault (KeyCustody) does the encryption.
import { derivationData, keyTypes, type AesKeyType, type DukptKeyUsage } from '../../../schemas/keyCrypto/dukptAes.ts';
import { COUNTER_LIFETIME, withCounter } from '../../../schemas/keyCrypto/dukptTdes.ts';
import type { KcvMethod } from '../../../schemas/keyCrypto/kcv.ts';
import type { DukptScheme } from '../../../schemas/keys.ts';
import type { CustodyKeyType } from '../keyCustody.ts';

/** What a scheme's BDK is in the vault, how its KCV is computed, and the TR-31 algorithm of its initial keys. */
export const schemeKeys: Readonly<Record<DukptScheme, { type: CustodyKeyType; bytes: number; kcvMethod: KcvMethod; tr31Algorithm: 'A' | 'T' }>> = {
  aes128: { type: 'AES128', bytes: 16, kcvMethod: 'cmac', tr31Algorithm: 'A' },
  aes256: { type: 'AES256', bytes: 32, kcvMethod: 'cmac', tr31Algorithm: 'A' },
  tdes: { type: 'TDES2', bytes: 16, kcvMethod: 'enc0', tr31Algorithm: 'T' },
};

/** Key set id bytes: AES the BDK id (first half of the initial key id), TDES the first 5 bytes of the KSN. */
export const keySetIdBytes = (s: DukptScheme) => (s === 'tdes' ? 5 : 4);
/** Derivation ids per key set: AES 32 bits (second half of the initial key id), TDES the KSN's 19-bit device part. */
export const maxDerivationId = (s: DukptScheme) => (s === 'tdes' ? 2 ** 19 - 1 : 2 ** 32 - 1);

/** TDES: BDK xor this is the BDK variant that encrypts the IPEK's right half (X9.24-1 A.6). */
export const TDES_BDK_MASK = Buffer.from('C0C0C0C000000000C0C0C0C000000000', 'hex');

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex').toUpperCase();

/** The initial KSN of derivation id `n` under a key set, as bytes (counter 0). */
export function initialKsn(scheme: DukptScheme, keySetId: string, n: number): Buffer {
  if (!Number.isInteger(n) || n < 0 || n > maxDerivationId(scheme)) throw new RangeError(`derivation id ${n} is outside the ${scheme} range`);
  const set = Buffer.from(keySetId, 'hex');
  if (set.length !== keySetIdBytes(scheme)) throw new RangeError(`a ${scheme} key set id is ${keySetIdBytes(scheme)} bytes`);
  if (scheme === 'tdes') {
    // 19-bit device part ‖ 21-bit counter (0) in the last 5 bytes.
    const tail = Buffer.alloc(5);
    tail.writeUIntBE(n * 2 ** 21, 0, 5);
    return Buffer.concat([set, tail]);
  }
  const id = Buffer.alloc(4);
  id.writeUInt32BE(n);
  return Buffer.concat([set, id, Buffer.alloc(4)]);
}

export const initialKsnHex = (scheme: DukptScheme, keySetId: string, n: number) => hex(initialKsn(scheme, keySetId, n));

/** The data the vault ECB-encrypts under a derivation key (X9.24-3 §6.3.1): one block per 128 output bits, byte 1 counting them. */
export function ecbDerivationData(usage: DukptKeyUsage, keyType: AesKeyType, initialKeyId: Uint8Array, counter: number): Buffer {
  const one = derivationData(usage, keyType, initialKeyId, counter);
  const blocks: Buffer[] = [];
  for (let i = 1; (i - 1) * 16 < keyTypes[keyType].bits / 8; i++) {
    const d = Buffer.from(one);
    d[1] = i;
    blocks.push(d);
  }
  return Buffer.concat(blocks);
}

/** The derivation keys' data from the initial key to a counter's: one step per set bit, highest first (X9.24-3 §6.4). */
export function counterSteps(counter: number): number[] {
  const steps: number[] = [];
  let working = 0;
  for (let bit = 31; bit >= 0; bit--) {
    const mask = 2 ** bit;
    if (Math.floor(counter / mask) % 2 === 0) continue;
    working += mask;
    steps.push(working);
  }
  return steps;
}

/** TDES: the 8 bytes both IPEK halves encrypt (the KSN's leftmost 8 with the counter cleared), twice, so the vault forms a 16-byte key of it. */
export function tdesIpekData(ksn: Uint8Array): Buffer {
  const base = withCounter(ksn, 0).subarray(0, 8);
  return Buffer.concat([base, base]);
}

function binomial(n: number, k: number): number {
  let r = 1;
  for (let i = 1; i <= k; i++) r = (r * (n - k + i)) / i;
  return r;
}

/** Usable counters of an initial key: AES 1..2^32-1 with at most 16 one-bits, TDES 1..2^21-1 with at most 10. */
export function counterLifetime(scheme: DukptScheme): number {
  if (scheme === 'tdes') return COUNTER_LIFETIME;
  let n = 0;
  for (let k = 1; k <= 16; k++) n += binomial(32, k);
  return n;
}

/** Below this share of its lifetime left, a terminal's initial key is near exhaustion (alert `dukpt_counter_low`). */
export const COUNTER_LOW_SHARE = 0.1;

export const isCounterLow = (scheme: DukptScheme, countersLeft: number) => countersLeft < counterLifetime(scheme) * COUNTER_LOW_SHARE;

/** The check a terminal answers an initial key with: this PIN and PAN, enciphered at its first counter. */
export const CHECK_PIN = '1234';
export const CHECK_PAN = '4111111111111111';

/** A component or key of a scheme's length, as hex, or null. */
export function parseSchemeKey(scheme: DukptScheme, text: string): Buffer | null {
  const bytes = schemeKeys[scheme].bytes;
  return new RegExp(`^[0-9A-Fa-f]{${bytes * 2}}$`).test(text) ? Buffer.from(text, 'hex') : null;
}

export const xorBytes = (a: Uint8Array, b: Uint8Array): Buffer => Buffer.from(a.map((x, i) => x ^ b[i]!));
