// Key blocks (SPEC §5, byte layout in docs/keys.md). One format for both kinds of delivery:
//  - a TMK under the device's X25519 KEK: ephemeral X25519, HKDF-SHA256, AES-256-GCM;
//  - a working key (TPK, TAK, TDK) under the TMK: AES-256-GCM under a key derived from the TMK.
// In both, every byte before the nonce (magic, header length, header, ephemeral public key) is
// the GCM additional data, so changing the header breaks the tag.
//
//   off      len  field
//   0        4    magic "PFK1"
//   4        2    H: header length, uint16 big-endian
//   6        H    header (header.ts)
//   6+H      32   ephemeral X25519 public key   (TMK blocks only: usage=TMK)
//   …        12   AES-GCM nonce
//   …        32   ciphertext of the 32-byte key
//   …        16   AES-GCM tag
import { createCipheriv, createDecipheriv, createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync, hkdfSync, randomBytes, type KeyObject } from 'node:crypto';
import { decodeHeader, encodeHeader, KeyBlockError, WRAPPED_BY_KEK, type KeyBlockHeader } from './header.ts';

export const MAGIC = Buffer.from('PFK1', 'ascii');
export const KEY_BYTES = 32;
const NONCE = 12;
const TAG = 16;
const X25519_PUB = 32;
export const TMK_HKDF_INFO_PREFIX = 'posfleet/tmk/v1';
export const KBEK_HKDF_INFO = 'posfleet/kbek/v1';

// Raw X25519 keys <-> KeyObjects (JWK is the one raw form Node accepts for both halves).
export const x25519Public = (raw: Uint8Array): KeyObject => {
  if (raw.length !== X25519_PUB) throw new KeyBlockError('bad_block', 'an X25519 public key is 32 bytes');
  return createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: Buffer.from(raw).toString('base64url') }, format: 'jwk' });
};
export const rawX25519Public = (k: KeyObject): Buffer => Buffer.from(k.export({ format: 'jwk' }).x!, 'base64url');
/** An X25519 private key from its raw 32 bytes (for fixed test vectors). */
export function x25519PrivateFromRaw(raw: Uint8Array): KeyObject {
  const der = Buffer.concat([Buffer.from('302e020100300506032b656e04220420', 'hex'), raw]);
  return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
}

/** Key-encryption key of a TMK block: HKDF-SHA256(X25519(eph, KEK), ePub‖kekPub, "posfleet/tmk/v1"‖0x00‖header). */
export function tmkWrappingKey(shared: Uint8Array, ephemeralPub: Uint8Array, kekPub: Uint8Array, header: Uint8Array): Buffer {
  const salt = Buffer.concat([ephemeralPub, kekPub]);
  const info = Buffer.concat([Buffer.from(TMK_HKDF_INFO_PREFIX, 'ascii'), Buffer.from([0]), header]);
  return Buffer.from(hkdfSync('sha256', shared, salt, info, KEY_BYTES));
}

/** Key-block encryption key under a TMK: HKDF-SHA256(TMK, empty salt, "posfleet/kbek/v1"). The TMK itself never encrypts. */
export const kbek = (tmk: Uint8Array): Buffer => Buffer.from(hkdfSync('sha256', tmk, Buffer.alloc(0), Buffer.from(KBEK_HKDF_INFO, 'ascii'), KEY_BYTES));

function seal(key: Uint8Array, nonce: Uint8Array, aad: Buffer, clear: Uint8Array): Buffer {
  const c = createCipheriv('aes-256-gcm', key, nonce);
  c.setAAD(aad);
  const ct = Buffer.concat([c.update(clear), c.final()]);
  return Buffer.concat([aad, nonce, ct, c.getAuthTag()]);
}

function prefix(header: Buffer, ephemeralPub?: Uint8Array): Buffer {
  const len = Buffer.alloc(2);
  len.writeUInt16BE(header.length);
  return Buffer.concat([MAGIC, len, header, ...(ephemeralPub ? [ephemeralPub] : [])]);
}

export interface TmkSealInput {
  header: KeyBlockHeader;
  key: Uint8Array;
  /** Raw 32-byte X25519 public key of the device (its KEK). */
  kekPublicKey: Uint8Array;
  /** Fixed only for test vectors; otherwise a fresh one per block. */
  ephemeralPrivateKey?: KeyObject;
  nonce?: Uint8Array;
}

export function sealTmkBlock(input: TmkSealInput): Buffer {
  if (input.header.usage !== 'TMK' || input.header.wk !== WRAPPED_BY_KEK) throw new KeyBlockError('bad_block', 'a TMK block needs usage=TMK and wk=KEK');
  if (input.key.length !== KEY_BYTES) throw new KeyBlockError('bad_block', 'keys are 32 bytes');
  const eph = input.ephemeralPrivateKey ?? generateKeyPairSync('x25519').privateKey;
  const ephPub = rawX25519Public(createPublicKey(eph));
  const header = encodeHeader(input.header);
  const shared = diffieHellman({ privateKey: eph, publicKey: x25519Public(input.kekPublicKey) });
  const wrapKey = tmkWrappingKey(shared, ephPub, input.kekPublicKey, header);
  return seal(wrapKey, input.nonce ?? randomBytes(NONCE), prefix(header, ephPub), input.key);
}

export interface WorkingSealInput {
  header: KeyBlockHeader;
  key: Uint8Array;
  tmk: Uint8Array;
  nonce?: Uint8Array;
}

export function sealWorkingBlock(input: WorkingSealInput): Buffer {
  const wrap = kbek(input.tmk);
  try {
    return sealWorkingBlockUnderKbek({ header: input.header, key: input.key, kbek: wrap, ...(input.nonce ? { nonce: input.nonce } : {}) });
  } finally {
    wrap.fill(0);
  }
}

/**
 * The same block from the TMK's KBEK (`kbek(tmk)`) derived once: a device's working keys all
 * travel under one TMK, so the vault derives it once per device rather than once per key.
 */
export function sealWorkingBlockUnderKbek(input: { header: KeyBlockHeader; key: Uint8Array; kbek: Uint8Array; nonce?: Uint8Array }): Buffer {
  if (input.header.usage === 'TMK' || input.header.wk === WRAPPED_BY_KEK) throw new KeyBlockError('bad_block', 'a working key block is under a TMK');
  if (input.key.length !== KEY_BYTES) throw new KeyBlockError('bad_block', 'keys are 32 bytes');
  return seal(input.kbek, input.nonce ?? randomBytes(NONCE), prefix(encodeHeader(input.header)), input.key);
}

export interface ParsedBlock {
  header: KeyBlockHeader;
  headerBytes: Buffer;
  aad: Buffer;
  ephemeralPub?: Buffer;
  nonce: Buffer;
  ciphertext: Buffer;
  tag: Buffer;
}

/** Splits a block and decodes its header; no key is needed to read the header. */
export function parseBlock(block: Uint8Array): ParsedBlock {
  const b = Buffer.from(block);
  if (b.length < 6 || !b.subarray(0, 4).equals(MAGIC)) throw new KeyBlockError('bad_block', 'not a PFK1 key block');
  const h = b.readUInt16BE(4);
  const headerBytes = b.subarray(6, 6 + h);
  if (headerBytes.length !== h) throw new KeyBlockError('bad_block', 'truncated header');
  const header = decodeHeader(headerBytes);
  const ephLen = header.usage === 'TMK' ? X25519_PUB : 0;
  const aadEnd = 6 + h + ephLen;
  if (b.length !== aadEnd + NONCE + KEY_BYTES + TAG) throw new KeyBlockError('bad_block', 'block length does not match its header');
  return {
    header,
    headerBytes,
    aad: b.subarray(0, aadEnd),
    ...(ephLen ? { ephemeralPub: b.subarray(6 + h, aadEnd) } : {}),
    nonce: b.subarray(aadEnd, aadEnd + NONCE),
    ciphertext: b.subarray(aadEnd + NONCE, aadEnd + NONCE + KEY_BYTES),
    tag: b.subarray(aadEnd + NONCE + KEY_BYTES),
  };
}

function open(key: Uint8Array, p: ParsedBlock): Buffer {
  try {
    const d = createDecipheriv('aes-256-gcm', key, p.nonce);
    d.setAAD(p.aad);
    d.setAuthTag(p.tag);
    return Buffer.concat([d.update(p.ciphertext), d.final()]);
  } catch {
    throw new KeyBlockError('unwrap_failed', 'the key block does not authenticate under this key');
  }
}

/** Device side: unwraps a TMK block with the KEK private key. */
export function openTmkBlock(p: ParsedBlock, kekPrivateKey: KeyObject): Buffer {
  if (p.header.usage !== 'TMK' || !p.ephemeralPub) throw new KeyBlockError('bad_block', 'not a TMK block');
  const kekPub = rawX25519Public(createPublicKey(kekPrivateKey));
  const shared = diffieHellman({ privateKey: kekPrivateKey, publicKey: x25519Public(p.ephemeralPub) });
  return open(tmkWrappingKey(shared, p.ephemeralPub, kekPub, p.headerBytes), p);
}

/** Device side: unwraps a working key block with the TMK it names. */
export function openWorkingBlock(p: ParsedBlock, tmk: Uint8Array): Buffer {
  if (p.header.usage === 'TMK') throw new KeyBlockError('bad_block', 'not a working key block');
  return open(kbek(tmk), p);
}
