// The software computations of the custody primitives over a clear key: what the software
// backend does, and what the PKCS#11 conformance tests check the token against.
import { createCipheriv } from 'node:crypto';
import { keyCheckValue } from '../../../schemas/keyCrypto/cmac.ts';
import { custodyKeyBytes, isTdes, VaultError, type CustodyKeyType } from '../keyCustody.ts';

/** ECB encryption of whole blocks under a key of `type` (2-key TDES as K1‖K2‖K1). */
export function ecbEncrypt(type: CustodyKeyType, key: Uint8Array, data: Uint8Array): Buffer {
  checkLength(type, key);
  const block = isTdes(type) ? 8 : 16;
  if (data.length === 0 || data.length % block !== 0) throw new VaultError(`ECB data must be whole ${block}-byte blocks`);
  const k = type === 'TDES2' ? Buffer.concat([key, key.subarray(0, 8)]) : key;
  const c = createCipheriv(isTdes(type) ? 'des-ede3-ecb' : `aes-${key.length * 8}-ecb`, k, null);
  c.setAutoPadding(false);
  return Buffer.concat([c.update(data), c.final()]);
}

/** `cmac:` (AES-CMAC of 16 zero bytes) or `enc0:` (TDES-ECB of 8 zero bytes), the first 3 bytes. */
export function kcvOf(type: CustodyKeyType, key: Uint8Array): string {
  checkLength(type, key);
  if (!isTdes(type)) return keyCheckValue(key);
  return `enc0:${ecbEncrypt(type, key, Buffer.alloc(8)).subarray(0, 3).toString('hex').toUpperCase()}`;
}

export function checkLength(type: CustodyKeyType, key: Uint8Array): void {
  if (key.length !== custodyKeyBytes[type]) throw new VaultError(`a ${type} key is ${custodyKeyBytes[type]} bytes, not ${key.length}`);
}
