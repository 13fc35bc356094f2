// Key check values with their method (docs/keys.md#key-check-values), one function per method:
//   cmac: AES keys: AES-CMAC (NIST SP 800-38B) of 16 zero bytes, the first 3 bytes;
//   enc0: TDES keys: TDES-ECB encryption of 8 zero bytes, the first 3 bytes (X9.24-1 "legacy" KCV).
// Written `method:XXXXXX` (6 upper-case hex digits), so a stored KCV says how to recompute it.
import { keyCheckValue } from './cmac.ts';
import { tdesEcb } from './dukptTdes.ts';
import { KeyBlockError } from './header.ts';

export const kcvMethods = ['cmac', 'enc0'] as const;
export type KcvMethod = (typeof kcvMethods)[number];

export interface ParsedKcv {
  method: KcvMethod;
  /** The 3 check bytes. */
  value: Buffer;
}

const FORM = /^(cmac|enc0):([0-9A-F]{6})$/i;
const isMethod = (m: string): m is KcvMethod => (kcvMethods as readonly string[]).includes(m);

function enc0(key: Uint8Array): string {
  if (key.length !== 16) throw new KeyBlockError('bad_block', 'an enc0 KCV is for a 16-byte double-length TDES key');
  return `enc0:${tdesEcb(key, Buffer.alloc(8)).subarray(0, 3).toString('hex').toUpperCase()}`;
}

function cmac(key: Uint8Array): string {
  if (![16, 24, 32].includes(key.length)) throw new KeyBlockError('bad_block', 'a cmac KCV is for an AES-128, -192 or -256 key');
  return keyCheckValue(key);
}

/** The KCV of `key` by `method`, with its prefix: `cmac:7CF7A4`, `enc0:08D7B4`. */
export function kcv(method: KcvMethod, key: Uint8Array): string {
  return method === 'enc0' ? enc0(key) : cmac(key);
}

/** Splits `method:XXXXXX`; refuses an unknown method or anything but 6 hex digits. */
export function parseKcv(text: string): ParsedKcv {
  const m = FORM.exec(text);
  const method = m?.[1]?.toLowerCase() ?? '';
  if (!m || !isMethod(method)) throw new KeyBlockError('bad_block', 'a KCV is cmac: or enc0: and 6 hex digits');
  return { method, value: Buffer.from(m[2]!, 'hex') };
}

/** Whether `key` has the KCV `expected`, recomputed by the method `expected` names. */
export function matchesKcv(key: Uint8Array, expected: string): boolean {
  const { method, value } = parseKcv(expected);
  return parseKcv(kcv(method, key)).value.equals(value);
}
