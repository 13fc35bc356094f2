// TR-31 (ANSI X9.143) key blocks, version D: the AES key block (byte layout in docs/keys.md,
// "TR-31 key blocks (version D)"). Pure: bytes in, bytes out, shared by the server and the agent.
//
//   header (ASCII, 16 + optional blocks, a multiple of 16) ‖ HEX(AES-CBC(KBEK, IV=MAC, key data)) ‖ HEX(MAC)
//   key data = key length in bits (uint16 BE) ‖ key ‖ padding to a multiple of 16
//   MAC      = AES-CMAC(KBMK, header ‖ key data), all 16 bytes
import { createCipheriv, createDecipheriv, randomBytes, timingSafeEqual } from 'node:crypto';
import { aesCmac } from './cmac.ts';
import { KeyBlockError } from './header.ts';

export const TR31_VERSION_D = 'D';
const HEADER_LEN = 16;
const AES_BLOCK = 16;
const MAC_LEN = 16;
/** Numeric optional block ids are left to proprietary use by X9.143; posfleet's device id travels in this one. */
export const DEVICE_BLOCK_ID = '01';
export const PADDING_BLOCK_ID = 'PB';

export interface Tr31OptionalBlock {
  /** Two ASCII characters: KS, IK, KC, KP, LB, TS, PB… or a numeric proprietary id. */
  id: string;
  /** Printable ASCII (0x20–0x7E). */
  data: string;
}

export interface Tr31Header {
  versionId: typeof TR31_VERSION_D;
  /** Two characters, e.g. P0 (PIN encryption), M3 (ISO 9797-1 MAC), D0 (data), B0 (BDK), K0 (KEK). */
  keyUsage: string;
  /** A (AES), T (TDES), D (DES), H (HMAC), R (RSA), E (ECC)… */
  algorithm: string;
  /** B (both), C (MAC both), D (decrypt), E (encrypt), G (MAC generate), N (none), S (sign), V (verify), X (derive)… */
  modeOfUse: string;
  /** Two characters; 00 when the key is not versioned. */
  keyVersionNumber: string;
  /** E (exportable under a trusted key), N (non-exportable), S (sensitive). */
  exportability: 'E' | 'N' | 'S';
  /** X9.143:2021 key context: 0 determined by the wrapping key, 1 storage only, 2 key exchange only (TR-31:2018 had 0 here, reserved). */
  keyContext: '0' | '1' | '2';
  /** In order. A parsed header keeps its PB block; serialiseHeader adds one when the length needs it. */
  optionalBlocks: Tr31OptionalBlock[];
}

const bad = (message: string) => new KeyBlockError('bad_block', message);
const ALNUM = /^[0-9A-Z]$/;
const PRINTABLE = /^[\x20-\x7e]*$/;
const BLOCK_ID = /^[0-9A-Z]{2}$/;

function checkFields(h: Tr31Header): void {
  if (h.versionId !== TR31_VERSION_D) throw bad('only TR-31 version D key blocks are supported');
  if (!/^[0-9A-Z]{2}$/.test(h.keyUsage)) throw bad('key usage must be two characters 0-9A-Z');
  if (!ALNUM.test(h.algorithm)) throw bad('algorithm must be one character 0-9A-Z');
  if (!ALNUM.test(h.modeOfUse)) throw bad('mode of use must be one character 0-9A-Z');
  if (!/^[0-9A-Z]{2}$/.test(h.keyVersionNumber)) throw bad('key version number must be two characters 0-9A-Z');
  if (!['E', 'N', 'S'].includes(h.exportability)) throw bad('exportability must be E, N or S');
  if (!['0', '1', '2'].includes(h.keyContext)) throw bad('key context must be 0, 1 or 2');
  if (h.optionalBlocks.length > 99) throw bad('at most 99 optional blocks');
}

function encodeOptionalBlock(b: Tr31OptionalBlock): string {
  if (!BLOCK_ID.test(b.id)) throw bad(`optional block id ${JSON.stringify(b.id)} must be two characters 0-9A-Z`);
  if (!PRINTABLE.test(b.data)) throw bad(`optional block ${b.id} holds a character outside 0x20-0x7E`);
  const total = 4 + b.data.length;
  if (total <= 0xff) return `${b.id}${total.toString(16).toUpperCase().padStart(2, '0')}${b.data}`;
  // Extended length: "00", then the length of the length (04) and the length itself, both hex.
  const ext = 4 + 2 + 4 + b.data.length;
  if (ext > 0xffff) throw bad(`optional block ${b.id} is too long`);
  return `${b.id}0004${ext.toString(16).toUpperCase().padStart(4, '0')}${b.data}`;
}

/** The header's ASCII for a block of `blockLength` characters; appends a PB block so the header fills whole AES blocks. */
export function serialiseHeader(h: Tr31Header, blockLength: number): string {
  checkFields(h);
  if (!Number.isInteger(blockLength) || blockLength < 0 || blockLength > 9999) throw bad('key block length must be 0..9999');
  const given = h.optionalBlocks.map(encodeOptionalBlock);
  // A header read from a block keeps its own PB when it still pads correctly, so it serialises back to the same text.
  const keepsPadding = h.optionalBlocks.at(-1)?.id === PADDING_BLOCK_ID && (HEADER_LEN + given.join('').length) % AES_BLOCK === 0;
  const blocks = keepsPadding ? given : h.optionalBlocks.filter((b) => b.id !== PADDING_BLOCK_ID).map(encodeOptionalBlock);
  let opt = blocks.join('');
  let count = blocks.length;
  const rest = (HEADER_LEN + opt.length) % AES_BLOCK;
  if (rest !== 0) {
    // A PB block is at least 4 characters (id + length); its data is printable filler.
    const pad = (AES_BLOCK - ((rest + 4) % AES_BLOCK)) % AES_BLOCK;
    opt += encodeOptionalBlock({ id: PADDING_BLOCK_ID, data: '0'.repeat(pad) });
    count += 1;
  }
  if (count > 99) throw bad('at most 99 optional blocks');
  const len = String(blockLength).padStart(4, '0');
  return `${h.versionId}${len}${h.keyUsage}${h.algorithm}${h.modeOfUse}${h.keyVersionNumber}${h.exportability}${String(count).padStart(2, '0')}${h.keyContext}0${opt}`;
}

const hexNumber = (s: string, what: string): number => {
  if (!/^[0-9A-F]+$/.test(s)) throw bad(`${what} is not upper-case hex`);
  return parseInt(s, 16);
};

export interface ParsedTr31Header {
  header: Tr31Header;
  /** The length field: the whole block's length in characters. */
  blockLength: number;
  /** The header's length in characters (16 + optional blocks). */
  headerLength: number;
}

/** Reads the header at the start of a TR-31 block; no key is needed. */
export function parseHeader(block: string): ParsedTr31Header {
  if (block.length < HEADER_LEN) throw bad('a TR-31 block is at least 16 characters');
  if (!PRINTABLE.test(block)) throw bad('a TR-31 block is printable ASCII');
  const versionId = block[0];
  if (versionId !== TR31_VERSION_D) throw bad('only TR-31 version D key blocks are supported');
  const lenField = block.slice(1, 5);
  if (!/^[0-9]{4}$/.test(lenField)) throw bad('key block length must be four decimal digits');
  const countField = block.slice(12, 14);
  if (!/^[0-9]{2}$/.test(countField)) throw bad('number of optional blocks must be two decimal digits');
  const keyContext = block[14];
  if (keyContext !== '0' && keyContext !== '1' && keyContext !== '2') throw bad('key context must be 0, 1 or 2');
  if (block[15] !== '0') throw bad('reserved field must be 0');
  const exportability = block[11];
  if (exportability !== 'E' && exportability !== 'N' && exportability !== 'S') throw bad('exportability must be E, N or S');
  const optionalBlocks: Tr31OptionalBlock[] = [];
  let at = HEADER_LEN;
  for (let i = 0; i < Number(countField); i++) {
    const id = block.slice(at, at + 2);
    if (!BLOCK_ID.test(id)) throw bad(`optional block ${i + 1} has a bad id`);
    let total = hexNumber(block.slice(at + 2, at + 4), `optional block ${id} length`);
    let dataAt = at + 4;
    if (total === 0) {
      const lenLen = hexNumber(block.slice(at + 4, at + 6), `optional block ${id} length of length`);
      if (lenLen === 0) throw bad(`optional block ${id} has an empty extended length`);
      total = hexNumber(block.slice(at + 6, at + 6 + lenLen), `optional block ${id} extended length`);
      dataAt = at + 6 + lenLen;
    }
    if (total < dataAt - at || at + total > block.length) throw bad(`optional block ${id} length does not fit the block`);
    optionalBlocks.push({ id, data: block.slice(dataAt, at + total) });
    at += total;
  }
  if (optionalBlocks.slice(0, -1).some((b) => b.id === PADDING_BLOCK_ID)) throw bad('a PB block must be the last optional block');
  if (at % AES_BLOCK !== 0) throw bad('header length must be a multiple of 16 (a PB block pads it)');
  const header: Tr31Header = {
    versionId,
    keyUsage: block.slice(5, 7),
    algorithm: block.slice(7, 8),
    modeOfUse: block.slice(8, 9),
    keyVersionNumber: block.slice(9, 11),
    exportability,
    keyContext,
    optionalBlocks,
  };
  checkFields(header);
  return { header, blockLength: Number(lenField), headerLength: at };
}

/** The optional block with this id, if the header has one. */
export const optionalBlock = (h: Tr31Header, id: string): string | undefined => h.optionalBlocks.find((b) => b.id === id)?.data;

function kbpkAlgorithm(length: number): number {
  const code = { 16: 0x0002, 24: 0x0003, 32: 0x0004 }[length];
  if (code === undefined) throw bad('a version D KBPK is an AES-128, AES-192 or AES-256 key (16, 24 or 32 bytes)');
  return code;
}

/** X9.143 version D key derivation (NIST SP 800-108 counter mode with AES-CMAC): usage 0000 gives the KBEK, 0001 the KBMK. */
function deriveKey(kbpk: Uint8Array, usage: 0x0000 | 0x0001): Buffer {
  kbpkAlgorithm(kbpk.length);
  const parts: Buffer[] = [];
  for (let counter = 1; parts.length * AES_BLOCK < kbpk.length; counter++)
    parts.push(aesCmac(kbpk, derivationData(counter, usage, kbpk.length)));
  return Buffer.concat(parts).subarray(0, kbpk.length);
}

/** The 8 bytes CMAC'd for one 16-byte part: counter ‖ usage ‖ 00 ‖ algorithm ‖ length in bits. */
export function derivationData(counter: number, usage: 0x0000 | 0x0001, kbpkLength: number): Buffer {
  const alg = kbpkAlgorithm(kbpkLength);
  const bits = kbpkLength * 8;
  return Buffer.from([counter, usage >> 8, usage & 0xff, 0x00, alg >> 8, alg & 0xff, bits >> 8, bits & 0xff]);
}

/** The key block encryption key and MAC key of one KBPK. */
export interface Tr31Keys {
  kbek: Buffer;
  kbmk: Buffer;
}

/** The key block encryption key and MAC key a KBPK gives. */
export function deriveTr31Keys(kbpk: Uint8Array): Tr31Keys {
  return { kbek: deriveKey(kbpk, 0x0000), kbmk: deriveKey(kbpk, 0x0001) };
}

/**
 * What protects a block: the KBPK, or the KBEK and KBMK derived from it once (a sender wrapping
 * several keys under one TMK derives them once, as a receiver opening several may).
 */
export type Tr31Protection = Uint8Array | Tr31Keys;
const keysOf = (p: Tr31Protection): Tr31Keys => (p instanceof Uint8Array ? deriveTr31Keys(p) : p);

function checkKeyLength(algorithm: string, length: number): void {
  const allowed: Record<string, number[]> = { A: [16, 24, 32], T: [16, 24] };
  const lengths = allowed[algorithm];
  if (lengths && !lengths.includes(length))
    throw bad(`an ${algorithm === 'A' ? 'AES' : 'TDES'} key is ${lengths.join(', ')} bytes, not ${length}`);
  if (length < 1 || length > 0xfff) throw bad('the wrapped key must be 1..4095 bytes');
}

function cbc(encrypt: boolean, key: Uint8Array, iv: Uint8Array, data: Uint8Array): Buffer {
  const name = `aes-${key.length * 8}-cbc`;
  const c = encrypt ? createCipheriv(name, key, iv) : createDecipheriv(name, key, iv);
  c.setAutoPadding(false);
  return Buffer.concat([c.update(data), c.final()]);
}

export interface Tr31WrapInput {
  header: Tr31Header;
  key: Uint8Array;
  kbpk: Tr31Protection;
  /** Pad the key field as if the key were this many bytes, to hide its length (X9.143 8.1 masks a 16-byte key as 32). */
  maskedKeyLength?: number;
  /** Fixed only for test vectors; otherwise random. */
  padding?: Uint8Array;
}

/** A TR-31 version D key block: the key under the KBPK, bound to its header by the MAC. */
export function wrapTr31(input: Tr31WrapInput): string {
  checkKeyLength(input.header.algorithm, input.key.length);
  const { kbek, kbmk } = keysOf(input.kbpk);
  const masked = Math.max(input.key.length, input.maskedKeyLength ?? 0);
  const dataLen = Math.ceil((2 + masked) / AES_BLOCK) * AES_BLOCK;
  const padLen = dataLen - 2 - input.key.length;
  const padding = input.padding ?? randomBytes(padLen);
  if (padding.length !== padLen) throw bad(`padding must be ${padLen} bytes here`);
  const lenBits = Buffer.alloc(2);
  lenBits.writeUInt16BE(input.key.length * 8);
  const keyData = Buffer.concat([lenBits, input.key, padding]);
  const probe = serialiseHeader(input.header, 0);
  const header = serialiseHeader(input.header, probe.length + 2 * (dataLen + MAC_LEN));
  const mac = aesCmac(kbmk, Buffer.concat([Buffer.from(header, 'ascii'), keyData]));
  const encrypted = cbc(true, kbek, mac, keyData);
  return `${header}${encrypted.toString('hex').toUpperCase()}${mac.toString('hex').toUpperCase()}`;
}

export interface Tr31Unwrapped {
  header: Tr31Header;
  key: Buffer;
}

/** Parses a version D block, checks its MAC in constant time and returns its header and key. */
export function unwrapTr31(block: string, kbpk: Tr31Protection): Tr31Unwrapped {
  const { header, blockLength, headerLength } = parseHeader(block);
  if (blockLength !== block.length) throw bad(`key block length field says ${blockLength}, the block has ${block.length} characters`);
  const body = block.slice(headerLength);
  if (!/^[0-9A-F]*$/.test(body)) throw bad('encrypted key data and MAC must be upper-case hex');
  const dataHex = body.length - 2 * MAC_LEN;
  if (dataHex < 2 * AES_BLOCK || dataHex % (2 * AES_BLOCK) !== 0) throw bad('encrypted key data must be whole AES blocks');
  const { kbek, kbmk } = keysOf(kbpk);
  const encrypted = Buffer.from(body.slice(0, dataHex), 'hex');
  const mac = Buffer.from(body.slice(dataHex), 'hex');
  const keyData = cbc(false, kbek, mac, encrypted);
  const expected = aesCmac(kbmk, Buffer.concat([Buffer.from(block.slice(0, headerLength), 'ascii'), keyData]));
  if (!timingSafeEqual(expected, mac)) throw new KeyBlockError('unwrap_failed', 'the TR-31 block does not authenticate under this KBPK');
  const bits = keyData.readUInt16BE(0);
  if (bits % 8 !== 0 || bits / 8 > keyData.length - 2)
    throw bad('the key length inside the block is not a whole number of bytes that fits');
  const key = Buffer.from(keyData.subarray(2, 2 + bits / 8));
  checkKeyLength(header.algorithm, key.length);
  return { header, key };
}

const hexData = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex').toUpperCase();

/** KS: the initial key serial number of a TDES DUKPT key (X9.24-3 C.2.3), 10 bytes as 20 hex characters. */
export function keySetIdBlock(ksn: Uint8Array): Tr31OptionalBlock {
  if (ksn.length !== 10) throw bad('a KS block holds a 10-byte initial key serial number');
  return { id: 'KS', data: hexData(ksn) };
}

/** IK: the initial key id of an AES DUKPT key (X9.24-3 4.17), 8 bytes as 16 hex characters. */
export function initialKeyIdBlock(ikid: Uint8Array): Tr31OptionalBlock {
  if (ikid.length !== 8) throw bad('an IK block holds an 8-byte initial key id');
  return { id: 'IK', data: hexData(ikid) };
}

/** posfleet's proprietary block: the device id the key is for, so a block cannot be replayed to another terminal unnoticed. */
export function deviceBlock(deviceId: string): Tr31OptionalBlock {
  if (!/^[A-Za-z0-9._:-]{1,64}$/.test(deviceId)) throw bad('a device id is 1..64 characters of [A-Za-z0-9._:-]');
  return { id: DEVICE_BLOCK_ID, data: deviceId };
}
