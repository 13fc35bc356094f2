// AES-CMAC (RFC 4493, NIST SP 800-38B) and the key check value built on it (SPEC §5).
// Pure: used by the server vault and by the agent, tested against RFC 4493's own vectors.
import { createCipheriv } from 'node:crypto';

const BLOCK = 16;
const RB = 0x87;

function aesEcb(key: Uint8Array, block: Uint8Array): Buffer {
  const c = createCipheriv(`aes-${key.length * 8}-ecb`, key, null);
  c.setAutoPadding(false);
  return Buffer.concat([c.update(block), c.final()]);
}

/** Doubling in GF(2^128): shift left one bit, xor Rb if the top bit fell out. */
function dbl(b: Buffer): Buffer {
  const out = Buffer.alloc(BLOCK);
  for (let i = 0; i < BLOCK; i++) out[i] = ((b[i]! << 1) | (i + 1 < BLOCK ? b[i + 1]! >> 7 : 0)) & 0xff;
  if (b[0]! & 0x80) out[BLOCK - 1] = out[BLOCK - 1]! ^ RB;
  return out;
}

/** Subkeys K1, K2 (RFC 4493 §2.3). */
export function cmacSubkeys(key: Uint8Array): { k1: Buffer; k2: Buffer } {
  const l = aesEcb(key, Buffer.alloc(BLOCK));
  const k1 = dbl(l);
  return { k1, k2: dbl(k1) };
}

/** AES-CMAC of `message` under an AES-128/192/256 key: the full 16-byte tag. */
export function aesCmac(key: Uint8Array, message: Uint8Array): Buffer {
  if (![16, 24, 32].includes(key.length)) throw new RangeError('AES-CMAC key must be 16, 24 or 32 bytes');
  const { k1, k2 } = cmacSubkeys(key);
  const n = Math.max(1, Math.ceil(message.length / BLOCK));
  const complete = message.length > 0 && message.length % BLOCK === 0;
  const last = Buffer.alloc(BLOCK);
  const tail = message.subarray((n - 1) * BLOCK);
  if (complete) for (let i = 0; i < BLOCK; i++) last[i] = tail[i]! ^ k1[i]!;
  else {
    const padded = Buffer.alloc(BLOCK);
    Buffer.from(tail).copy(padded);
    padded[tail.length] = 0x80;
    for (let i = 0; i < BLOCK; i++) last[i] = padded[i]! ^ k2[i]!;
  }
  // CBC-MAC with a zero IV over the first n-1 blocks and the prepared last block.
  const c = createCipheriv(`aes-${key.length * 8}-cbc`, key, Buffer.alloc(BLOCK));
  c.setAutoPadding(false);
  const body = Buffer.concat([message.subarray(0, (n - 1) * BLOCK), last]);
  const out = c.update(body);
  return Buffer.from(out.subarray(out.length - BLOCK));
}

export const KCV_METHOD = 'cmac';

/** Key check value: AES-CMAC of 16 zero bytes, first 3 bytes, upper-case hex, with its method (`cmac:7A3C1B`). */
export function keyCheckValue(key: Uint8Array): string {
  return `${KCV_METHOD}:${aesCmac(key, Buffer.alloc(BLOCK)).subarray(0, 3).toString('hex').toUpperCase()}`;
}

/** Constant-time-enough comparison of two KCV strings (they are public check values). */
export const sameKcv = (a: string, b: string) => a.toUpperCase() === b.toUpperCase();
