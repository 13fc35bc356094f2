// AES DUKPT (ANSI X9.24-3-2017) and the ISO 9564-1 format 4 PIN block, byte layout in docs/keys.md.
// Pure functions over bytes, shared by the vault (initial keys) and the agent (transaction keys);
// checked against the X9.24-3-2017 supplement test vectors in test/unit/dukptAes.test.ts.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { KeyBlockError } from './header.ts';

const BLOCK = 16;
/** Initial key id: BDK id (4 bytes) ‖ derivation id (4 bytes). */
export const INITIAL_KEY_ID_BYTES = 8;
/** KSN: initial key id ‖ 32-bit transaction counter, big-endian. */
export const KSN_BYTES = 12;
/** X9.24-3 §6.1: a device uses only counters with at most 16 one-bits (NUMREG 32, MAX_WORK 16). */
export const MAX_COUNTER_ONE_BITS = 16;

/** Key usage indicator, bytes 2-3 of the derivation data (X9.24-3 §6.3.2, table 2). */
export const keyUsageIndicator = {
  keyEncryptionKey: 0x0002,
  pinEncryption: 0x1000,
  macGeneration: 0x2000,
  macVerification: 0x2001,
  macBothWays: 0x2002,
  dataEncrypt: 0x3000,
  dataDecrypt: 0x3001,
  dataBothWays: 0x3002,
  keyDerivation: 0x8000,
  initialKey: 0x8001,
} as const;
export type DukptKeyUsage = keyof typeof keyUsageIndicator;
export type WorkingKeyUsage = Exclude<DukptKeyUsage, 'keyDerivation' | 'initialKey'>;

/** Algorithm indicator (bytes 4-5) and key length in bits (bytes 6-7) (X9.24-3 §6.3.2, table 3). */
export const keyTypes = {
  TDES2: { indicator: 0x0000, bits: 128 },
  TDES3: { indicator: 0x0001, bits: 192 },
  AES128: { indicator: 0x0002, bits: 128 },
  AES192: { indicator: 0x0003, bits: 192 },
  AES256: { indicator: 0x0004, bits: 256 },
} as const;
export type DukptKeyType = keyof typeof keyTypes;
export type AesKeyType = Extract<DukptKeyType, `AES${string}`>;

const fail = (message: string): never => {
  throw new KeyBlockError('bad_block', message);
};

function aesEcbEncrypt(key: Uint8Array, block: Uint8Array): Buffer {
  const c = createCipheriv(`aes-${key.length * 8}-ecb`, key, null);
  c.setAutoPadding(false);
  return Buffer.concat([c.update(block), c.final()]);
}

function aesEcbDecrypt(key: Uint8Array, block: Uint8Array): Buffer {
  const d = createDecipheriv(`aes-${key.length * 8}-ecb`, key, null);
  d.setAutoPadding(false);
  return Buffer.concat([d.update(block), d.final()]);
}

/** The AES key type of a derivation key (BDK, initial key, intermediate key) from its length. */
export function aesKeyTypeOf(key: Uint8Array): AesKeyType {
  if (key.length === 16) return 'AES128';
  if (key.length === 24) return 'AES192';
  if (key.length === 32) return 'AES256';
  return fail('a DUKPT derivation key is an AES key of 16, 24 or 32 bytes');
}

function checkCounter(counter: number): void {
  if (!Number.isInteger(counter) || counter < 0 || counter > 0xffffffff) fail('a transaction counter is a 32-bit unsigned integer');
}

function checkInitialKeyId(initialKeyId: Uint8Array): void {
  if (initialKeyId.length !== INITIAL_KEY_ID_BYTES) fail('an initial key id is 8 bytes');
}

/**
 * The 16-byte derivation data of X9.24-3 §6.3.2: version 01, key block counter 01, usage,
 * algorithm, length in bits, then the initial key id (initial key) or the derivation id
 * (last 4 bytes of the initial key id) ‖ the transaction counter (every other key).
 */
export function derivationData(usage: DukptKeyUsage, keyType: DukptKeyType, initialKeyId: Uint8Array, counter: number): Buffer {
  checkInitialKeyId(initialKeyId);
  checkCounter(counter);
  const dd = Buffer.alloc(BLOCK);
  dd[0] = 0x01;
  dd[1] = 0x01;
  dd.writeUInt16BE(keyUsageIndicator[usage], 2);
  dd.writeUInt16BE(keyTypes[keyType].indicator, 4);
  dd.writeUInt16BE(keyTypes[keyType].bits, 6);
  if (usage === 'initialKey') Buffer.from(initialKeyId).copy(dd, 8);
  else {
    Buffer.from(initialKeyId).copy(dd, 8, 4, 8);
    dd.writeUInt32BE(counter, 12);
  }
  return dd;
}

/** X9.24-3 §6.3.1: AES-ECB of the derivation data, once per 128 bits of output with byte 1 = 1, 2…, truncated. */
export function deriveKey(derivationKey: Uint8Array, keyType: DukptKeyType, data: Uint8Array): Buffer {
  aesKeyTypeOf(derivationKey);
  if (data.length !== BLOCK) fail('derivation data is 16 bytes');
  const bytes = keyTypes[keyType].bits / 8;
  // No AES key stronger than the key it comes from (X9.24-3 §6.2); TDES keys are weaker than any AES key.
  if (keyType.startsWith('AES') && bytes > derivationKey.length)
    fail(`a ${derivationKey.length * 8}-bit derivation key cannot derive a ${keyType} key`);
  const blocks: Buffer[] = [];
  for (let i = 1; (i - 1) * BLOCK < bytes; i++) {
    const d = Buffer.from(data);
    d[1] = i;
    blocks.push(aesEcbEncrypt(derivationKey, d));
  }
  return Buffer.concat(blocks).subarray(0, bytes);
}

/** The initial key of a device: derived from the BDK and the initial key id, same type as the BDK. */
export function initialKey(bdk: Uint8Array, initialKeyId: Uint8Array): Buffer {
  const type = aesKeyTypeOf(bdk);
  return deriveKey(bdk, type, derivationData('initialKey', type, initialKeyId, 0));
}

/** Number of one-bits of a 32-bit counter. */
export function oneBits(counter: number): number {
  let n = 0;
  for (let c = counter >>> 0; c; c >>>= 1) n += c & 1;
  return n;
}

/** Whether a device may use this counter: 1..2^32-1 with at most 16 one-bits. */
export const isValidCounter = (counter: number): boolean =>
  Number.isInteger(counter) && counter >= 1 && counter <= 0xffffffff && oneBits(counter) <= MAX_COUNTER_ONE_BITS;

/**
 * The counter after `counter`, skipping those with more than 16 one-bits by adding the lowest
 * set bit (which clears a run of ones); null once past 0xFFFF0000: the device is exhausted
 * and needs a new initial key.
 */
export function nextCounter(counter: number): number | null {
  checkCounter(counter);
  let next = counter + 1;
  while (next <= 0xffffffff && oneBits(next) > MAX_COUNTER_ONE_BITS) next += next & -next;
  return next <= 0xffffffff ? next : null;
}

/**
 * The intermediate derivation key of a counter, from the initial key: one derivation per set bit
 * of the counter, highest first, each with the counter built so far (X9.24-3 §6.4, §6.5).
 */
export function derivationKeyFor(initial: Uint8Array, initialKeyId: Uint8Array, counter: number): Buffer {
  const type = aesKeyTypeOf(initial);
  checkInitialKeyId(initialKeyId);
  if (!isValidCounter(counter)) fail('a transaction counter is 1..2^32-1 with at most 16 one-bits');
  let key: Buffer = Buffer.from(initial);
  let working = 0;
  for (let bit = 31; bit >= 0; bit--) {
    const mask = 2 ** bit;
    if (Math.floor(counter / mask) % 2 === 0) continue;
    working += mask;
    key = deriveKey(key, type, derivationData('keyDerivation', type, initialKeyId, working));
  }
  return key;
}

/** A working key of `usage` and `keyType` from the intermediate derivation key of the same counter. */
export function workingKey(
  derivationKey: Uint8Array,
  initialKeyId: Uint8Array,
  counter: number,
  usage: WorkingKeyUsage,
  keyType: DukptKeyType,
): Buffer {
  return deriveKey(derivationKey, keyType, derivationData(usage, keyType, initialKeyId, counter));
}

export interface Ksn {
  initialKeyId: Buffer;
  counter: number;
}

export function parseKsn(ksn: Uint8Array): Ksn {
  if (ksn.length !== KSN_BYTES) fail('an AES DUKPT KSN is 12 bytes');
  const b = Buffer.from(ksn);
  return { initialKeyId: b.subarray(0, INITIAL_KEY_ID_BYTES), counter: b.readUInt32BE(INITIAL_KEY_ID_BYTES) };
}

export function encodeKsn(initialKeyId: Uint8Array, counter: number): Buffer {
  checkInitialKeyId(initialKeyId);
  checkCounter(counter);
  const c = Buffer.alloc(4);
  c.writeUInt32BE(counter);
  return Buffer.concat([initialKeyId, c]);
}

/** Host side: a transaction's working key straight from the BDK and the KSN the device sent. */
export function hostWorkingKey(bdk: Uint8Array, ksn: Uint8Array, usage: WorkingKeyUsage, keyType: DukptKeyType): Buffer {
  const { initialKeyId, counter } = parseKsn(ksn);
  const dk = derivationKeyFor(initialKey(bdk, initialKeyId), initialKeyId, counter);
  return workingKey(dk, initialKeyId, counter, usage, keyType);
}

// ISO 9564-1:2017 format 4 (AES PIN block).

const PIN = /^[0-9]{4,12}$/;
const PAN = /^[0-9]{1,19}$/;

function nibblesToBytes(nibbles: number[]): Buffer {
  const out = Buffer.alloc(nibbles.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = (nibbles[2 * i]! << 4) | nibbles[2 * i + 1]!;
  return out;
}

/** Plain-text PIN field: 4, PIN length, the digits, fill A to 8 bytes, then 8 random bytes. */
export function pinField(pin: string, random: Uint8Array = randomBytes(8)): Buffer {
  if (!PIN.test(pin)) fail('a PIN is 4 to 12 decimal digits');
  if (random.length !== 8) fail('the random half of a format 4 PIN field is 8 bytes');
  const nibbles = [4, pin.length, ...[...pin].map(Number), ...Array<number>(14 - pin.length).fill(0xa)];
  return Buffer.concat([nibblesToBytes(nibbles), random]);
}

/** Plain-text PAN field: PAN length - 12 (0 under 12 digits, zero-padded left to 12), the digits, zeros. */
export function panField(pan: string): Buffer {
  if (!PAN.test(pan)) fail('a PAN is 1 to 19 decimal digits');
  const digits = pan.padStart(12, '0');
  const nibbles = [digits.length - 12, ...[...digits].map(Number)];
  return nibblesToBytes([...nibbles, ...Array<number>(32 - nibbles.length).fill(0)]);
}

const xor = (a: Uint8Array, b: Uint8Array) => Buffer.from(a.map((x, i) => x ^ b[i]!));

function checkPinKey(key: Uint8Array): void {
  if (![16, 24, 32].includes(key.length)) fail('a format 4 PIN block key is an AES key of 16, 24 or 32 bytes');
}

/** Enciphers a format 4 PIN block: AES(K, AES(K, PIN field) ⊕ PAN field). */
export function encipherPinBlock(key: Uint8Array, pin: string, pan: string, random?: Uint8Array): Buffer {
  checkPinKey(key);
  const pf = pinField(pin, random);
  return aesEcbEncrypt(key, xor(aesEcbEncrypt(key, pf), panField(pan)));
}

/** Deciphers a format 4 PIN block and returns the PIN; a wrong key or PAN gives a field that does not parse. */
export function decipherPinBlock(key: Uint8Array, block: Uint8Array, pan: string): string {
  checkPinKey(key);
  if (block.length !== BLOCK) fail('a format 4 PIN block is 16 bytes');
  const pf = aesEcbDecrypt(key, xor(aesEcbDecrypt(key, block), panField(pan)));
  const nibbles = [...pf.subarray(0, 8)].flatMap((b) => [b >> 4, b & 0xf]);
  const length = nibbles[1]!;
  const ok =
    nibbles[0] === 4 &&
    length >= 4 &&
    length <= 12 &&
    nibbles.slice(2, 2 + length).every((n) => n <= 9) &&
    nibbles.slice(2 + length).every((n) => n === 0xa);
  if (!ok) throw new KeyBlockError('unwrap_failed', 'the PIN block does not decipher to a format 4 PIN field under this key and PAN');
  return nibbles.slice(2, 2 + length).join('');
}
