// Binding fixtures for the unit tests: the claims of a plain single-merchant binding, and a
// binding key as the server holds it (signer) and a terminal pins it (raw public key, base64).
import { generateKeyPairSync, sign } from 'node:crypto';
import type { BindingClaims } from '../../schemas/binding.ts';
import { rawEd25519PublicKey } from '../../server/security/bindingKey.ts';

/** dev_1 bound to mer_1 as TID00001, epoch 1; `over` sets what a test is about. */
export const bindingClaims = (over: Partial<BindingClaims> = {}): BindingClaims => ({
  v: 1,
  deviceId: 'dev_1',
  merchantId: 'mer_1',
  mid: '123456789012345',
  tid: 'TID00001',
  epoch: 1,
  iat: 1_700_000_000_000,
  kind: 'single',
  ...over,
});

export function testBindingKey() {
  const { privateKey } = generateKeyPairSync('ed25519');
  return {
    /** What the terminal pins (trust.bindingKey). */
    pinned: rawEd25519PublicKey(privateKey).toString('base64'),
    /** Signs like the server's binding key. */
    signer: (data: Buffer) => sign(null, data, privateKey),
  };
}
