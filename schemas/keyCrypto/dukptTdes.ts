// TDES DUKPT (ANSI X9.24-1:2009, byte layout in docs/keys.md#tdes-dukpt) for older terminals, and
// the ISO 9564 format 0 PIN block they encrypt with it. Pure functions over bytes, shared by the
// server (which derives from the BDK) and the agent (which derives from its initial key).
//
//   KSN (10 bytes) = key set id and device id (59 bits) ‖ transaction counter (21 bits)
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { KeyBlockError } from './header.ts';

export const KSN_BYTES = 10;
export const TDES_KEY_BYTES = 16;
export const COUNTER_MASK = 0x1fffff;
/** A counter with more one-bits would need more than 10 derivation steps (X9.24-1 A.2). */
export const MAX_ONE_BITS = 10;
/** Valid counters from 1 to the last: sum of C(21, k) for k = 1..10 = 2^20 - 1. */
export const COUNTER_LIFETIME = 1_048_575;

const h = (s: string) => Buffer.from(s, 'hex');
/** Key mask of the IPEK's right half and of the non-reversible key generation (X9.24-1 A.6). */
export const KEY_MASK = h('C0C0C0C000000000C0C0C0C000000000');
/** Variant constants xored into the transaction key to make each session key (X9.24-1 A.6, Table A-1). */
export const VARIANTS = {
  pin: h('00000000000000FF00000000000000FF'),
  macRequest: h('000000000000FF00000000000000FF00'),
  macResponse: h('00000000FF00000000000000FF000000'),
  dataRequest: h('0000000000FF00000000000000FF0000'),
  dataResponse: h('000000FF00000000000000FF00000000'),
} as const;
export type SessionKeyUsage = keyof typeof VARIANTS;

const xor = (a: Uint8Array, b: Uint8Array): Buffer => Buffer.from(a.map((v, i) => v ^ b[i]!));

function cipher(alg: string, key: Uint8Array, data: Uint8Array, decrypt = false, iv: Uint8Array | null = null): Buffer {
  const c = decrypt ? createDecipheriv(alg, key, iv) : createCipheriv(alg, key, iv);
  c.setAutoPadding(false);
  return Buffer.concat([c.update(data), c.final()]);
}

// OpenSSL 3 keeps single DES in its legacy provider only; EDE with K1 = K2 = K3 is single DES.
const des = (key8: Uint8Array, block: Uint8Array, decrypt = false) =>
  cipher('des-ede3-ecb', Buffer.concat([key8, key8, key8]), block, decrypt);
const tdesKey = (key16: Uint8Array) => Buffer.concat([key16, key16.subarray(0, 8)]);

function requireKey(key: Uint8Array, what: string): void {
  if (key.length !== TDES_KEY_BYTES) throw new KeyBlockError('bad_block', `${what} must be a 16-byte double-length TDES key`);
}

/** TDES (2-key EDE) in ECB over whole 8-byte blocks. */
export function tdesEcb(key: Uint8Array, data: Uint8Array, decrypt = false): Buffer {
  requireKey(key, 'the key');
  if (data.length === 0 || data.length % 8 !== 0) throw new KeyBlockError('bad_block', 'TDES data must be whole 8-byte blocks');
  return cipher('des-ede3-ecb', tdesKey(key), data, decrypt);
}

/** TDES (2-key EDE) in CBC over whole 8-byte blocks. */
export function tdesCbc(key: Uint8Array, iv: Uint8Array, data: Uint8Array, decrypt = false): Buffer {
  requireKey(key, 'the key');
  if (iv.length !== 8) throw new KeyBlockError('bad_block', 'a TDES IV is 8 bytes');
  if (data.length === 0 || data.length % 8 !== 0) throw new KeyBlockError('bad_block', 'TDES data must be whole 8-byte blocks');
  return cipher('des-ede3-cbc', tdesKey(key), data, decrypt, iv);
}

function requireKsn(ksn: Uint8Array): void {
  if (ksn.length !== KSN_BYTES) throw new KeyBlockError('bad_block', 'a TDES DUKPT KSN is 10 bytes');
}

/** The 21-bit transaction counter of a KSN. */
export function counterOf(ksn: Uint8Array): number {
  requireKsn(ksn);
  return ((ksn[7]! << 16) | (ksn[8]! << 8) | ksn[9]!) & COUNTER_MASK;
}

/** The same KSN with another counter. */
export function withCounter(ksn: Uint8Array, counter: number): Buffer {
  requireKsn(ksn);
  if (!Number.isInteger(counter) || counter < 0 || counter > COUNTER_MASK) throw new KeyBlockError('bad_block', 'the counter is 21 bits');
  const out = Buffer.from(ksn);
  out[7] = (out[7]! & 0xe0) | (counter >> 16);
  out[8] = (counter >> 8) & 0xff;
  out[9] = counter & 0xff;
  return out;
}

const oneBits = (n: number) => {
  let c = 0;
  for (let v = n; v; v &= v - 1) c++;
  return c;
};

/** A counter a transaction may use: 1..2^21-1 with at most 10 one-bits (0 is the initial key's own KSN). */
export const isValidCounter = (c: number) => Number.isInteger(c) && c > 0 && c <= COUNTER_MASK && oneBits(c) <= MAX_ONE_BITS;

/**
 * The counter after `c` (X9.24-1 A.2): add one, and while the result has more than 10 one-bits add
 * its lowest one-bit. Null once the counter is exhausted (after 0x1FF800, the 1,048,575th).
 */
export function nextCounter(c: number): number | null {
  if (!Number.isInteger(c) || c < 0 || c > COUNTER_MASK) throw new KeyBlockError('bad_block', 'the counter is 21 bits');
  let n = c + 1;
  while (oneBits(n) > MAX_ONE_BITS) n += n & -n;
  return n > COUNTER_MASK ? null : n;
}

const binomial = (n: number, k: number): number => {
  let r = 1;
  for (let i = 1; i <= k; i++) r = (r * (n - k + i)) / i;
  return r;
};

/**
 * How many valid counters remain after `c` before the terminal is exhausted (0 after 0x1FF800),
 * for inventory and alerting: 1,048,575 minus the valid counters from 1 to c, counted by prefix
 * (for each one-bit of c, the counters that share c's higher bits, have a 0 there, and stay within 10 one-bits).
 */
export function countersLeft(c: number): number {
  if (!Number.isInteger(c) || c < 0 || c > COUNTER_MASK) throw new KeyBlockError('bad_block', 'the counter is 21 bits');
  let upTo = 0; // valid counters in [0, c], 0 included
  let ones = 0;
  for (let p = 20; p >= 0; p--) {
    if (!(c & (1 << p))) continue;
    for (let k = 0; k <= MAX_ONE_BITS - ones && k <= p; k++) upTo += binomial(p, k);
    ones++;
  }
  if (ones <= MAX_ONE_BITS) upTo++;
  return COUNTER_LIFETIME - (upTo - 1);
}

/**
 * Initial key (IPEK) from the BDK and a KSN (X9.24-1 A.6): the KSN's leftmost 8 bytes with the
 * counter cleared, TDES-encrypted under the BDK (left half) and under BDK xor KEY_MASK (right half).
 */
export function deriveIpek(bdk: Uint8Array, ksn: Uint8Array): Buffer {
  requireKey(bdk, 'the BDK');
  const base = withCounter(ksn, 0).subarray(0, 8);
  return Buffer.concat([tdesEcb(bdk, base), tdesEcb(xor(bdk, KEY_MASK), base)]);
}

/** Non-reversible key generation (X9.24-1 A.2): a new 16-byte key from `key` and the 8-byte register. */
export function nonReversibleKey(key: Uint8Array, register: Uint8Array): Buffer {
  requireKey(key, 'the key');
  if (register.length !== 8) throw new KeyBlockError('bad_block', 'the crypto register is 8 bytes');
  const half = (k: Uint8Array) => {
    const l = k.subarray(0, 8);
    const r = k.subarray(8);
    return xor(des(l, xor(register, r)), r);
  };
  return Buffer.concat([half(xor(key, KEY_MASK)), half(key)]);
}

/**
 * Transaction key of a KSN from the initial key: starting from the KSN's rightmost 8 bytes with
 * the counter cleared, set the counter's one-bits from the highest down, one key generation each.
 */
export function deriveTransactionKey(ipek: Uint8Array, ksn: Uint8Array): Buffer {
  requireKey(ipek, 'the initial key');
  const counter = counterOf(ksn);
  if (!isValidCounter(counter)) throw new KeyBlockError('bad_block', 'the KSN counter is 0, or has more than 10 one-bits');
  const register = withCounter(ksn, 0).subarray(2);
  let key: Buffer = Buffer.from(ipek);
  for (let p = 20; p >= 0; p--) {
    if (!(counter & (1 << p))) continue;
    register[7 - (p >> 3)] = register[7 - (p >> 3)]! | (1 << (p & 7));
    key = nonReversibleKey(key, register);
  }
  return key;
}

/**
 * A session key from a transaction key: the usage's variant xored in; the data keys are then
 * encrypted under themselves, each half TDES-ECB under the whole variant key (X9.24-1:2009 A.4).
 */
export function sessionKey(transactionKey: Uint8Array, usage: SessionKeyUsage): Buffer {
  requireKey(transactionKey, 'the transaction key');
  const v = xor(transactionKey, VARIANTS[usage]);
  return usage === 'dataRequest' || usage === 'dataResponse' ? tdesEcb(v, v) : v;
}

/**
 * ANSI X9.19 retail MAC (ISO 9797-1 algorithm 3, padding method 1): single-DES CBC under the left
 * half, the last block then decrypted under the right half and encrypted under the left. 8 bytes;
 * DUKPT messages carry the leftmost 4.
 */
export function retailMac(key: Uint8Array, message: Uint8Array): Buffer {
  requireKey(key, 'the MAC key');
  const padded = Buffer.alloc(Math.max(8, Math.ceil(message.length / 8) * 8));
  Buffer.from(message).copy(padded);
  const l = key.subarray(0, 8);
  let chain: Buffer = Buffer.alloc(8);
  for (let i = 0; i < padded.length; i += 8) chain = des(l, xor(chain, padded.subarray(i, i + 8)));
  return des(l, des(key.subarray(8), chain, true));
}

// ISO 9564-1 format 0: PIN field 0 ‖ N ‖ PIN digits ‖ F fill, xor 0000 ‖ the 12 rightmost PAN digits before the check digit.
function panField(pan: string): Buffer {
  if (!/^[0-9]{12,19}$/.test(pan)) throw new KeyBlockError('bad_block', 'a PAN is 12 to 19 decimal digits');
  return Buffer.from(`0000${pan.slice(0, -1).slice(-12).padStart(12, '0')}`, 'hex');
}

/** Clear ISO 9564 format 0 PIN block (8 bytes) of a 4 to 12 digit PIN and its PAN. */
export function pinBlockFormat0(pin: string, pan: string): Buffer {
  if (!/^[0-9]{4,12}$/.test(pin)) throw new KeyBlockError('bad_block', 'a PIN is 4 to 12 decimal digits');
  const field = Buffer.from(`0${pin.length.toString(16)}${pin}`.padEnd(16, 'F'), 'hex');
  return xor(field, panField(pan));
}

/** The PIN of a clear format 0 PIN block, checking its control field, length, digits and fill. */
export function pinFromFormat0(block: Uint8Array, pan: string): string {
  if (block.length !== 8) throw new KeyBlockError('bad_block', 'a PIN block is 8 bytes');
  const field = xor(block, panField(pan)).toString('hex').toUpperCase();
  const n = parseInt(field[1]!, 16);
  if (field[0] !== '0' || n < 4 || n > 12) throw new KeyBlockError('bad_block', 'not a format 0 PIN block, or a PIN length outside 4..12');
  const pin = field.slice(2, 2 + n);
  if (!/^[0-9]+$/.test(pin) || !/^F*$/.test(field.slice(2 + n)))
    throw new KeyBlockError('bad_block', 'the PIN block has bad digits or fill');
  return pin;
}

/** Encrypted format 0 PIN block: the PIN block TDES-ECB under the PIN session key of the transaction key. */
export const encryptPinBlock = (transactionKey: Uint8Array, pin: string, pan: string): Buffer =>
  tdesEcb(sessionKey(transactionKey, 'pin'), pinBlockFormat0(pin, pan));

/** Host side: the PIN of an encrypted format 0 PIN block. */
export const decryptPinBlock = (transactionKey: Uint8Array, encrypted: Uint8Array, pan: string): string =>
  pinFromFormat0(tdesEcb(sessionKey(transactionKey, 'pin'), encrypted, true), pan);
